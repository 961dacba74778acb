#pragma once
/// The GPU catalog: specs and prices per GPU, loaded from JSON (embedded default plus user files).
#include <gpuadvise/precision.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// One provider's price for one GPU.
struct Price {
  std::string provider;       ///< slug, e.g. "hyperstack"
  std::string provider_name;  ///< display name, e.g. "Hyperstack"
  std::string tier;           ///< "on-demand", "marketplace" (community offers), "spot" or "override" (--price)
  double usd_per_hour = 0;    ///< per GPU
  std::string date;           ///< ISO date the price was read
  std::string source;
  bool operator==(const Price&) const = default;
};

/// Specs of one GPU kind, in SI units (bytes, bytes/s, FLOP/s, W).
struct Gpu {
  std::string id;
  std::string name;
  std::vector<std::string> aliases;
  std::string vendor = "nvidia";   ///< nvidia or amd
  std::string architecture;        ///< volta, turing, ampere, ada, hopper, blackwell, cdna3
  double compute_capability = 0;   ///< e.g. 8.9 (NVIDIA CUDA); 0 for AMD
  double memory_bytes = 0;         ///< nominal (marketed GB)
  double allocatable_bytes = 0;    ///< what a process sees as total (nvidia-smi); = nominal when unknown
  bool allocatable_measured = false; ///< true when allocatable_bytes comes from the catalog, not nominal
  std::string memory_type;
  double bandwidth_bytes_per_s = 0;
  std::map<Precision, double> dense_flops; ///< dense tensor (or CUDA-core for fp32) peak, FLOP/s (OP/s for int)
  double fp16_accumulate_flops = 0;        ///< GeForce: fp16 tensor rate with FP16 accumulation (0 = same as fp16)
  bool fp8_support = false;
  bool bf16_support = false;
  double tdp_watts = 0;
  std::string form_factor;
  int pcie_generation = 0;
  int pcie_lanes = 0;
  double pcie_bandwidth_bytes_per_s = 0;
  bool has_nvlink = false;
  int nvlink_generation = 0;
  double nvlink_bandwidth_bytes_per_s = 0;
  std::vector<Price> prices;
  std::vector<std::string> notes;
  std::map<std::string, std::string> sources; ///< field name -> source text, for --explain and audits

  /// Dense peak for a compute format; 0 when unsupported.
  double peak_flops(Precision p) const;
  /// The price used for a run: `provider`'s on-demand or marketplace price when given, else the
  /// cheapest on-demand list price. Spot prices are never chosen. nullptr when there is none.
  const Price* price(std::string_view provider = {}) const;
  bool operator==(const Gpu&) const = default;
};

/// The merged catalog: embedded default, then user catalogs applied in order.
class GpuCatalog {
public:
  /// Throws InputError "unknown --provider 'x'" unless `provider` is empty or some GPU has a price from it;
  /// every command asks this one question, so every command gives the same answer (exit 2).
  void require_provider(std::string_view provider) const;
  /// Parses a catalog document; `origin` (a file name) appears in every error. Throws CatalogError.
  static GpuCatalog from_json(std::string_view text, std::string_view origin);
  /// The catalog compiled into the binary (data/gpus.json), built from generated code without parsing.
  static GpuCatalog embedded();
  /// A catalog from ready-made entries; `text` (their JSON source) is parsed only if a merge needs it.
  static GpuCatalog from_parts(std::vector<Gpu> gpus, std::string date, std::string_view text, std::string origin);

  /// Merges a user catalog over this one: an entry whose id exists overrides the given fields
  /// (objects merge key by key; "prices" entries merge by provider+tier), a new id adds a GPU.
  void merge_json(std::string_view text, std::string_view origin);

  /// Sets a price for this run (`--price GPU=USD`); it is used ahead of every catalog price.
  void override_price(std::string_view gpu, double usd_per_hour);
  /// The merged catalog as a JSON document of the same shape as data/gpus.json.
  nlohmann::json to_json() const;

  const std::vector<Gpu>& gpus() const { return m_gpus; }
  const std::string& catalog_date() const { return m_date; }
  /// Finds a GPU by id or alias (case- and punctuation-insensitive). Throws InputError listing
  /// the close matches when the name is unknown or ambiguous.
  const Gpu& find(std::string_view name) const;

private:
  /// One catalog entry as merged JSON, with the files it came from (for error messages).
  struct Entry {
    nlohmann::json json;
    std::string origin;
  };
  void rebuild();
  void materialize();
  void merge_entries(std::string_view text, std::string_view origin);
  std::string m_date;
  std::vector<Entry> m_entries;
  std::vector<Gpu> m_gpus;
  std::string_view m_lazy_text;   ///< JSON of m_gpus when m_entries has not been parsed yet
  std::string m_lazy_origin;
};

} // namespace gpuadvise
