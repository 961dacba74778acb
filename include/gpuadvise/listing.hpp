#pragma once
/// `gpuadvise gpus` and `gpuadvise models`: the catalogs as tables and JSON.
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/instances.hpp>
#include <gpuadvise/model.hpp>

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace gpuadvise {

/// Which GPUs `gpuadvise gpus` lists.
struct GpuFilter {
  std::string name;          ///< substring of id, name or alias (case/punctuation-insensitive); empty = all
  double min_memory_gb = 0;  ///< nominal memory at least this many GB
  std::string provider;      ///< price shown: this provider's, else the cheapest on-demand
};

/// The GPUs that pass the filter, in catalog order.
std::vector<const Gpu*> select_gpus(const GpuCatalog& catalog, const GpuFilter& filter);
/// The GPU table: memory, bandwidth, dense TFLOPS per precision, FP8/BF16, interconnect, price.
void write_gpus_text(std::ostream& out, const std::vector<const Gpu*>& gpus, const GpuFilter& filter);
nlohmann::json gpus_json(const std::vector<const Gpu*>& gpus, const GpuFilter& filter, const std::string& catalog_date);

/// The instance rows of `provider` (and `region`, and GPUs passing `filter`), cheapest per GPU first.
std::vector<const Instance*> select_instances(const InstanceCatalog& instances, const GpuCatalog& gpus,
                                              const GpuFilter& filter, const std::string& region);
/// The instance table: type, GPUs, interconnect, host, network, on-demand and spot price, region, price date.
void write_instances_text(std::ostream& out, const std::vector<const Instance*>& rows);
nlohmann::json instances_json(const std::vector<const Instance*>& rows);

/// One catalog price older than a threshold.
struct StalePrice {
  std::string what;       ///< GPU id, or "instance-type (N x gpu)"
  std::string provider;
  std::string tier;       ///< on-demand, spot, marketplace; "instance" for an instance row
  double usd_per_hour = 0;
  std::string date;
  int age_days = 0;
  std::string source;
};
/// Days from ISO date `from` to ISO date `to` (negative when `to` is earlier). Throws InputError on a bad date.
int days_between(const std::string& from, const std::string& to);
/// Every GPU-catalog price and instance row whose date is more than `days` before `today`, oldest first.
std::vector<StalePrice> stale_prices(const GpuCatalog& gpus, const InstanceCatalog& instances, const std::string& today,
                                     int days);
void write_stale_text(std::ostream& out, const std::vector<StalePrice>& stale, const std::string& today, int days);
nlohmann::json stale_json(const std::vector<StalePrice>& stale, const std::string& today, int days);

/// The model presets: shape, attention kind, total/active parameters.
void write_models_text(std::ostream& out, const ModelCatalog& models);
nlohmann::json models_json(const ModelCatalog& models);
/// One model's shape and parameter counts as JSON (shared by the advice report).
nlohmann::json model_shape_json(const ModelShape& shape);

} // namespace gpuadvise
