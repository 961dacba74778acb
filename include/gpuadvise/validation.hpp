#pragma once
/// The validation suite: the estimator run on published measurements (data/validation.json).
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

/// One published measurement and what gpuadvise estimates for it.
struct ValidationResult {
  std::string id;
  std::string source;
  std::string gpu;
  int gpu_count = 1;
  std::string model;
  std::string precision;
  long long batch = 1;
  std::string metric;
  double measured = 0;
  Span estimate;            ///< low / expected / high of the same metric
  double error = 0;         ///< expected / measured - 1
  bool within_range = false;
  std::string excluded;     ///< why the row is left out of the statistics (empty = counted)
};

/// Median and worst absolute error of one metric.
struct MetricSummary {
  std::string metric;
  int rows = 0;
  double median_abs_error = 0;
  double worst_abs_error = 0;
  std::string worst_id;
  int within_range = 0;
};

/// Runs every row of a validation document. Throws CatalogError for a malformed row or an unknown
/// GPU or model, naming the row.
std::vector<ValidationResult> run_validation(std::string_view text, std::string_view origin, const GpuCatalog& gpus,
                                             const ModelCatalog& models, const Assumptions& assumptions);
/// Per-metric summaries, in a fixed order.
std::vector<MetricSummary> summarize(const std::vector<ValidationResult>& results);
/// The table per row and the summary, as text (markdown-compatible).
void write_validation_text(std::ostream& out, const std::vector<ValidationResult>& results);
nlohmann::json validation_json(const std::vector<ValidationResult>& results);

/// The training throughput estimate: tokens per second per GPU from dense peak x MFU over
/// FLOPs per token = 6 N + 12 L h s (PaLM, Chowdhery et al. 2022, appendix B), 8 N + 16 L h s with
/// full activation recomputation.
Span training_tokens_per_s_per_gpu(const ModelShape& shape, double params_matmul, double sequence, const Gpu& gpu,
                                   Precision precision, bool full_recompute, const Assumptions& a);

} // namespace gpuadvise
