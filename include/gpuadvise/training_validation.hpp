#pragma once
/// `gpuadvise validate --training-memory`: the stack-aware training memory estimate against peak memory
/// that users of the trainers published (data/training_memory_validation.json).
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/estimate.hpp>
#include <gpuadvise/model.hpp>

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// One published peak and the estimate of the same quantity.
struct TrainingMemoryRow {
  std::string id;
  std::string source;
  std::string trainer;        ///< trainer and version as published
  std::string stack;
  std::string model;
  std::string task;
  std::string gpu;
  int gpu_count = 1;
  long long micro_batch = 1;
  long long sequence = 1;
  std::string metric;         ///< allocated | active | reserved | device
  double measured_gib = 0;    ///< converted to GiB
  Span estimate_gib;
  double error = 0;           ///< expected / measured - 1
  bool within_range = false;
  std::string peak_moment;
  std::string excluded;       ///< why the row is left out of the statistics (empty = counted)
};

/// Runs every row. Throws CatalogError for a malformed row, or an unknown GPU, model or stack, naming the row.
std::vector<TrainingMemoryRow> run_training_memory_validation(std::string_view text, std::string_view origin,
                                                              const GpuCatalog& gpus, const ModelCatalog& models,
                                                              const Assumptions& assumptions);
/// Median absolute error over the counted rows (0 when none).
double median_abs_error(const std::vector<TrainingMemoryRow>& rows);
void write_training_memory_text(std::ostream& out, const std::vector<TrainingMemoryRow>& rows);
nlohmann::json training_memory_json(const std::vector<TrainingMemoryRow>& rows);

} // namespace gpuadvise
