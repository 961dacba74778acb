#pragma once
/// What the user wants to run, normalised: model shape, precisions, batch, context and job size.
#include <gpuadvise/generative.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/precision.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gpuadvise {

struct KindSpec;

/// How the model was named by the user, for the report.
enum class ModelOrigin { bare_size, preset, config_file };

/// An inference workload. All counts are per job unless named otherwise.
struct Workload {
  WorkloadKind kind = WorkloadKind::llm;
  std::optional<GenerativeSpec> generative;  ///< diffusion and video workloads
  std::optional<AnalyticsSpec> analytics;    ///< analytics workloads
  std::shared_ptr<const KindSpec> spec;      ///< what a newer kind module attaches (embedding: the encoder preset)
  ModelShape shape;                  ///< the architecture used for KV cache and FLOPs
  ModelOrigin origin = ModelOrigin::bare_size;
  std::string model_text;            ///< what the user typed
  double params_total = 0;           ///< weights held in memory (all experts)
  double params_active = 0;          ///< weights used per token
  double params_embedding = 0;       ///< embedding + untied LM head (16-bit in quantized formats)
  Precision precision = Precision::fp16;     ///< weights and compute
  Precision kv_precision = Precision::fp16;  ///< KV cache
  bool kv_precision_given = false;   ///< false: follows the compute dtype (vLLM kv_cache_dtype=auto)
  std::int64_t batch = 1;            ///< concurrent sequences
  bool batch_given = true;           ///< false: each GPU runs the job at its cheapest batch that fits
  std::int64_t context = 4096;       ///< tokens per sequence the KV cache must hold (prompt + output)
  std::int64_t input_tokens = 0;     ///< prompt tokens per request
  std::int64_t output_tokens = 256;  ///< generated tokens per request
  std::int64_t requests = 1000;      ///< requests in the job
  double memory_utilization = 0.90;  ///< fraction of allocatable memory the runtime may use
  std::string runtime;               ///< serving runtime id; empty = the default (llamacpp for GGUF formats)
  int group_size = 0;                ///< quantization group size from a config.json; 0 = the assumption's default
  std::string config_path;           ///< the config.json read, when origin == config_file
  std::string config_quant_method;   ///< its quantization_config.quant_method, if any
  std::vector<std::string> config_unused_fields; ///< config keys gpuadvise did not use
  std::vector<std::string> model_notes;  ///< published defaults assumed for absent config fields, and what was read
  double params_vision = 0;              ///< vision tower + projector (in params_total, not in params_active)
  double params_kept_16bit = 0;          ///< quantized checkpoints: weights its quantization config leaves in 16-bit
  std::optional<double> stored_weight_bytes; ///< exact bytes from safetensors/GGUF headers, when read
  Precision stored_precision = Precision::bf16; ///< the format those bytes are stored in
  std::string weight_bytes_source;       ///< where stored_weight_bytes came from ("safetensors headers: 4 files")
};

} // namespace gpuadvise

#include <optional>

namespace gpuadvise {

class ModelCatalog;

/// A workload for a known shape: its parameter counts from count_params; everything else default.
Workload workload_for_shape(const ModelShape& shape, ModelOrigin origin);
/// Parameters of the input-embedding table when it is not tied to the LM head: a lookup of a few rows
/// per token, neither a matmul nor read in full by a decode step (0 when tied).
double lookup_params(const Workload& w);
/// Parameters that take part in a matmul per token: active weights minus the lookup table.
double dense_matmul_params(const Workload& w);

/// The workload as the user typed it (strings), before validation.
struct WorkloadRequest {
  std::string model;                      ///< bare size ("13B") or preset name
  std::optional<std::string> model_config; ///< path to a Hugging Face config.json (instead of model)
  std::optional<std::string> precision;   ///< default: the config's quantization format, else fp16
  std::optional<std::string> kv_precision;
  std::optional<std::string> batch;       ///< default: the cheapest batch per GPU (1 for the fit check)
  std::optional<std::string> context;     ///< default 4096, or input + output when both are given
  std::optional<std::string> input_tokens;
  std::string output_tokens = "256";
  std::optional<std::string> requests;    ///< default 1000
  std::optional<std::string> tokens;      ///< total generated tokens; sets requests = ceil(tokens / output)
  double memory_utilization = 0.90;
  std::optional<std::string> runtime;     ///< vllm, trtllm, llamacpp, transformers
  std::string kind;                       ///< --workload: llm (default), diffusion, video, analytics, embedding
  std::optional<std::string> resolution, frames, steps;          ///< image/video generation
  bool no_guidance = false;                                      ///< image/video generation
  std::vector<std::string> addons;                               ///< image generation
  std::optional<std::string> dataset_size, rows, bytes_per_row;  ///< analytics
  std::vector<std::string> operations;                           ///< analytics
};

/// Throws InputError naming the first option of `request` that `kind` does not use, and the kind(s) it
/// applies to. `used` lists the option names (as flags) the kind reads.
void reject_unused_options(const WorkloadRequest& request, std::string_view kind, const std::vector<std::string_view>& used);

/// Validates and normalises a request of any kind through its kind module (src/workloads/registry.cpp).
/// Throws InputError.
Workload build_workload(const WorkloadRequest& request, const ModelCatalog& models);
/// The LLM kind's builder: bare sizes take the nearest reference shape. Throws InputError.
Workload build_llm_workload(const WorkloadRequest& request, const ModelCatalog& models);

} // namespace gpuadvise
