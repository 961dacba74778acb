#pragma once
/// Named constants the estimators use, each with its source (data/assumptions.json, embedded).
#include <gpuadvise/precision.hpp>

#include <map>
#include <string>
#include <string_view>

namespace gpuadvise {

/// A low / expected / high value of an achievable fraction of a peak.
struct Range {
  double low = 0;
  double expected = 0;
  double high = 0;
  std::string source;
};

/// Every tunable constant, with where it comes from. The JSON report echoes these back.
struct Assumptions {
  double runtime_overhead_bytes = 0;   ///< CUDA context, cuBLAS workspace, CUDA graphs, per GPU
  std::string runtime_overhead_source;
  double max_batched_tokens = 0;       ///< tokens one forward pass processes at most (vLLM chunked prefill)
  std::string max_batched_tokens_source;
  int int4_group_size = 128;           ///< group size of group-wise int4 weights
  std::string int4_group_size_source;
  double step_overhead_s = 0;          ///< fixed time per decode step (scheduling, sampling, launches)
  std::string step_overhead_source;
  double layer_overhead_s = 0;         ///< extra fixed time per layer per step (kernel launches)
  std::string layer_overhead_source;
  /// Achievable fractions keyed "bandwidth", "compute", "mfu", optionally suffixed by
  /// ":<architecture>", ":<architecture>:<precision>" or ":*:<precision>"; lookup order is
  /// arch:precision, arch, *:precision, then the bare kind.
  std::map<std::string, Range> efficiency;

  /// Parses an assumptions document; origin appears in errors. Throws CatalogError.
  static Assumptions from_json(std::string_view text, std::string_view origin);
  /// The defaults compiled into the binary (data/assumptions.json).
  static Assumptions embedded();
  /// Applies a user calibration file: any "efficiency" entries given replace the defaults.
  void merge_json(std::string_view text, std::string_view origin);

  /// The efficiency range for `kind` ("bandwidth", "compute", "mfu") on `architecture` at `precision`.
  const Range& fraction(std::string_view kind, std::string_view architecture, Precision precision) const;
};

} // namespace gpuadvise
