#pragma once
/// Machines: the instance shapes GPUs are rented in (data/instances.csv), and how a GPU count maps onto them.
#include <gpuadvise/catalog.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// One provider's instance type in one region: its GPUs, host, network and price.
struct Instance {
  std::string provider;         ///< slug, e.g. "aws" (matches the GPU catalog's price providers)
  std::string instance_type;    ///< e.g. "g6.12xlarge"
  std::string gpu_id;           ///< GPU id in the GPU catalog
  int gpu_count = 0;
  std::string interconnect;     ///< nvswitch | nvlink | infinity-fabric | pcie
  double vcpus = 0;             ///< 0 = not given
  double memory_gib = 0;        ///< host RAM, GiB; 0 = not given
  double network_gbps = 0;      ///< between instances, Gbit/s; 0 = not given
  double usd_per_hour = 0;      ///< on-demand, per instance
  std::optional<double> spot_usd_per_hour; ///< per instance, when published
  std::string region;
  std::string price_date;       ///< ISO date the price was read
  std::string source;
  std::string origin;           ///< "file:line" the row came from
  /// True when the GPUs inside talk over NVLink, NVSwitch or Infinity Fabric rather than PCIe.
  bool gpus_linked() const { return interconnect != "pcie"; }
  bool operator==(const Instance&) const = default;
};

/// The instance rows: the built-in data/instances.csv plus user files merged over it.
class InstanceCatalog {
public:
  /// The columns every file has, in any order (a SkyPilot-style header).
  static const std::vector<std::string_view>& columns();
  /// Parses CSV text strictly: unknown or missing columns, bad numbers, dates or interconnects are
  /// CatalogErrors naming `origin`:line and the column.
  static InstanceCatalog from_csv(std::string_view text, std::string_view origin);
  /// data/instances.csv as compiled into the binary.
  static InstanceCatalog embedded();
  /// Adds a user file's rows; a row with the same provider, instance type and region replaces the old one.
  void merge_csv(std::string_view text, std::string_view origin);
  /// Throws CatalogError (file:line) for a row whose GPU the catalog does not know.
  void check_gpus(const GpuCatalog& gpus) const;

  const std::vector<Instance>& instances() const { return m_rows; }
  /// Rows for one GPU (by id), optionally one provider and one region (empty = any).
  std::vector<const Instance*> shapes(std::string_view gpu_id, std::string_view provider = {},
                                      std::string_view region = {}) const;
  /// True when some row comes from this provider (normalised names).
  bool has_provider(std::string_view provider) const;
  /// Throws InputError "unknown --region ..." listing the provider's regions when none of its rows is in `region`.
  void require_region(std::string_view provider, std::string_view region) const;

private:
  std::vector<Instance> m_rows;
};

/// GPUs rented as instances: `instances` x `instance` hold `gpus` >= the GPUs asked for.
struct MachinePlan {
  Instance instance;          ///< the shape (a copy: plans outlive no catalog)
  int instances = 1;
  int gpus = 0;               ///< instances x GPUs per instance
  bool rounded_up = false;    ///< more GPUs than asked for (no shape holds exactly that many)
  bool spot = false;          ///< priced at the spot price
  double usd_per_hour = 0;    ///< instances x the instance price
};

/// The cheapest way to rent `count` GPUs of `gpu_id` that keeps a tensor-parallel group of `tp` GPUs inside
/// one instance: one instance when count <= its GPUs, else identical instances of at least `tp` GPUs each.
/// With `spot`, only shapes with a spot price. nullopt when the provider has no such shape.
std::optional<MachinePlan> plan_machines(const InstanceCatalog& catalog, std::string_view gpu_id, int count, int tp,
                                         std::string_view provider, std::string_view region, bool spot);

/// The most GPUs one instance of this GPU holds in the catalog (any provider, or the given one); 0 if none.
int largest_shape(const InstanceCatalog& catalog, std::string_view gpu_id, std::string_view provider = {},
                  std::string_view region = {});

} // namespace gpuadvise
