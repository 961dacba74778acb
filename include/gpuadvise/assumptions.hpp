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
  bool operator==(const Range&) const = default;
};

/// How one serving runtime behaves: its fixed costs per step and the kernels it uses.
struct Runtime {
  std::string id;
  std::string name;
  double step_overhead_s = 0;     ///< fixed time per forward pass (scheduler, sampling, input preparation)
  double layer_overhead_s = 0;    ///< fixed time per layer per pass (kernel launches and gaps)
  bool fp16_accumulate = false;   ///< uses FP16-accumulate GEMMs (2x rate on GeForce cards)
  double compute_scale = 1;       ///< its prefill GEMM efficiency relative to the "compute" fractions
  double bandwidth_scale = 1;     ///< its decode GEMV efficiency relative to the "bandwidth" fractions
  std::string source;
  bool operator==(const Runtime&) const = default;
};

/// Every tunable constant, with where it comes from. The JSON report echoes these back.
struct Assumptions {
  double runtime_overhead_bytes = 0;   ///< CUDA context, cuBLAS workspace, CUDA graphs, per GPU
  std::string runtime_overhead_source;
  double max_batched_tokens = 0;       ///< tokens one forward pass processes at most (vLLM chunked prefill)
  std::string max_batched_tokens_source;
  double gemm_half_tokens = 64;        ///< tokens per pass at which GEMMs reach half their large-pass efficiency
  std::string gemm_half_tokens_source;
  double moe_compute_efficiency = 1;   ///< routed-expert GEMM efficiency relative to dense GEMMs
  std::string moe_compute_efficiency_source;
  int int4_group_size = 128;           ///< group size of group-wise int4 weights
  std::string int4_group_size_source;
  std::map<std::string, Range> constants; ///< other named constants (expected = the value), e.g. unet_effective_positions
  std::map<std::string, Runtime> runtimes; ///< serving runtimes by id (vllm, trtllm, llamacpp, transformers)
  std::string default_runtime;         ///< used unless the workload names one (GGUF formats: llamacpp)
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

  /// A named constant from "constants" (throws CatalogError when the data file lacks it).
  double constant(std::string_view name) const;
  /// The runtime with this id; throws InputError listing the known ones.
  const Runtime& runtime(std::string_view id) const;

  bool operator==(const Assumptions&) const = default;

  /// The efficiency range for `kind` ("bandwidth", "compute", "mfu") on `architecture` at `precision`.
  const Range& fraction(std::string_view kind, std::string_view architecture, Precision precision) const;
};

} // namespace gpuadvise
