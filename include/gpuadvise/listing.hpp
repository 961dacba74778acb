#pragma once
/// `gpuadvise gpus` and `gpuadvise models`: the catalogs as tables and JSON.
#include <gpuadvise/catalog.hpp>
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

/// The model presets: shape, attention kind, total/active parameters.
void write_models_text(std::ostream& out, const ModelCatalog& models);
nlohmann::json models_json(const ModelCatalog& models);
/// One model's shape and parameter counts as JSON (shared by the advice report).
nlohmann::json model_shape_json(const ModelShape& shape);

} // namespace gpuadvise
