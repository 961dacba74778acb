#pragma once
/// The serving engines' own start-up memory accounting: how vLLM (V0 and V1) and SGLang size the KV
/// cache from total memory, the weights as loaded, non-torch memory, the profiling run's activation peak
/// and the sampler's buffers, and how many blocks, tokens and concurrent requests of max-model-len that
/// gives. Every term names the engine code it follows (docs/engine-memory.md).
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/estimate.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/workload.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <ostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// Engine and version family: the accounting differs between them.
enum class Engine {
  vllm_v0, ///< vLLM 0.4 - 0.7 (worker.py determine_num_available_blocks)
  vllm_v1, ///< vLLM 0.8 and later (v1/worker/gpu_worker.py determine_available_memory)
  sglang   ///< SGLang (model_runner profile_max_num_token, mem_fraction_static)
};

/// "vllm-v0", "vllm-v1", "sglang".
std::string engine_name(Engine e);
/// Parses an engine name ("vllm" means the current family, V1); nullopt when unknown.
std::optional<Engine> parse_engine(std::string_view text);

/// How the checkpoint's linear layers are stored once loaded (embeddings, LM head and norms stay in
/// the model dtype for every quantized format).
enum class CheckpointFormat { dtype, fp8, int8, int4 };

/// The format a checkpoint's id names ("-FP8", "-fp8-dynamic", "-AWQ", "-GPTQ-Int4", "-w8a8", "-int4",
/// "-4bit"); nullopt when the id names none.
std::optional<CheckpointFormat> checkpoint_format_from_id(std::string_view model_id);
/// The id without a trailing quantization suffix ("Llama-3.1-8B-Instruct-FP8" -> "Llama-3.1-8B-Instruct").
std::string strip_quantization_suffix(std::string_view model_id);

/// One engine launch: the settings that decide memory.
struct EngineLaunch {
  Engine engine = Engine::vllm_v1;
  int tensor_parallel = 1;
  int pipeline_parallel = 1;
  double memory_fraction = 0.9;          ///< vLLM gpu-memory-utilization; SGLang mem-fraction-static
  std::int64_t max_model_len = 4096;
  std::int64_t max_num_batched_tokens = 0; ///< 0 = the engine's default for this GPU and length
  std::int64_t max_num_seqs = 0;           ///< 0 = the engine's default
  std::optional<bool> chunked_prefill;     ///< vLLM V0 only; unset = the engine's default
  int block_size = 16;                     ///< vLLM KV block size in tokens (SGLang: 1)
  CheckpointFormat format = CheckpointFormat::dtype;
  double dtype_bytes = 2;                  ///< model dtype: 2 (bf16/fp16), 4 (fp32)
  int group_size = 128;                    ///< int4 quantization group
  double kv_bytes_per_element = 0;         ///< 0 = the model dtype; 1 for fp8 KV cache
  double device_total_bytes = 0;           ///< 0 = engine_visible_bytes(gpu); else the total a log states
};

/// One term of the accounting, per GPU.
struct EngineMemoryTerm {
  std::string name;
  double bytes = 0;
  std::string formula;  ///< with the numbers put in
  std::string source;   ///< engine code or measurement it follows
  bool subtracted = true; ///< false: reported but not taken from the KV budget (CUDA graphs captured after it)
};

/// Why the engine would refuse to start.
enum class EngineFailure { none, no_cache_blocks, max_model_len_too_long };

/// The engine's start-up figures, per GPU (every rank holds the same share).
struct EngineMemory {
  Engine engine = Engine::vllm_v1;
  double total_bytes = 0;          ///< device memory as the engine reads it (cudaMemGetInfo total)
  double requested_bytes = 0;      ///< total x memory fraction (SGLang: of the memory free at start)
  double weights_bytes = 0;
  double non_torch_bytes = 0;
  double activation_bytes = 0;     ///< profiling run's torch peak (forward or sampler, the larger)
  double cuda_graph_bytes = 0;     ///< reported only: captured after the KV cache is sized
  double kv_budget_bytes = 0;      ///< "Available KV cache memory" (may be negative)
  double kv_bytes_per_token = 0;   ///< per GPU, all layers
  std::int64_t profiled_tokens = 0;  ///< tokens of the profiling forward pass
  std::int64_t profiled_seqs = 0;    ///< sequences whose logits the sampler run computes
  std::int64_t num_blocks = 0;       ///< vLLM "# GPU blocks"
  std::int64_t block_size = 16;
  std::int64_t kv_tokens = 0;        ///< "GPU KV cache size: N tokens" / SGLang max_total_num_tokens
  std::int64_t max_model_len = 0;
  double max_concurrency = 0;        ///< kv_tokens / max_model_len
  std::vector<EngineMemoryTerm> terms;
  EngineFailure failure = EngineFailure::none;

  /// The engine's start-up lines, in its own words ("Available KV cache memory: 58.11 GiB", ...).
  std::vector<std::string> log_lines() const;
  /// The engine's own error text when it would refuse to start; empty when it starts.
  std::string failure_message() const;
  /// "KV cache: N GiB, M tokens, maximum concurrency X at L tokens per request".
  std::string summary() const;
};

/// Device memory as CUDA reports it to the engine: the catalog's measured total when a start-up log
/// published it, else the nvidia-smi total less the driver's reservation (docs/engine-memory.md).
double engine_visible_bytes(const Gpu& gpu);

/// The weights each rank holds once loaded: linear layers sharded over tensor parallel ranks (KV heads
/// replicated when fewer than ranks), layers split over pipeline stages, vocabulary-parallel embedding
/// and LM head in the model dtype, norms and the rotary cache replicated.
double engine_weight_bytes(const ModelShape& shape, const EngineLaunch& s);

/// KV cache bytes per token per GPU: 2 x KV heads per rank x head_dim x bytes per layer (MLA: the
/// latent, not sharded), summed over this rank's layers.
double engine_kv_bytes_per_token(const ModelShape& shape, const EngineLaunch& s);

/// The engine's accounting for one launch on `gpu`. Throws InputError for settings the engine rejects
/// (tensor parallel above the attention heads, zero lengths).
EngineMemory engine_memory(const ModelShape& shape, const Gpu& gpu, const EngineLaunch& s);

/// For the serving simulator: the KV token capacity of one replica (a replica of tensor_parallel x
/// pipeline_parallel GPUs holds each token once, sharded), 0 when the engine would not start.
std::int64_t kv_token_capacity(const ModelShape& shape, const Gpu& gpu, const EngineLaunch& s);

/// The launch of a vLLM V1 engine serving `w` (its precision, KV precision, memory utilization and
/// context as max-model-len) on `tensor_parallel` GPUs with these scheduler settings; 0 means the
/// engine's default. For the serving simulator:
///   kv_token_capacity(w.shape, gpu, engine_launch_for(w, tp, e.max_num_seqs, e.max_num_batched_tokens, e.block_size))
EngineLaunch engine_launch_for(const Workload& w, int tensor_parallel, std::int64_t max_num_seqs = 0,
                               std::int64_t max_num_batched_tokens = 0, int block_size = 16);

/// The advisor's engine check for an LLM inference candidate on the vLLM runtime: vLLM V1 serving `w`
/// in the precision the advisor decided (`p`), tensor parallel `tp` x pipeline parallel `pp`, with the
/// workload's context as max-model-len and its memory utilization; needs batch x context KV tokens.
/// nullopt when the engine would reject the split itself (heads not divisible: the tensor-parallel rule
/// reports that), the model has no KV cache, or it has sliding-window layers (not modelled).
std::optional<EngineKvCheck> engine_kv_check(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int tp, int pp = 1);

/// One published start-up log and the estimate for it.
struct EngineMemoryRow {
  std::string id;
  std::string source;
  std::string engine_version;
  std::string gpu;
  std::string model;
  int tensor_parallel = 1;
  std::string settings;          ///< the launch settings, in words
  double logged_kv_gib = 0;      ///< 0 when the log gives only tokens or blocks
  std::int64_t logged_tokens = 0;
  double logged_concurrency = 0;
  bool logged_failure = false;
  EngineMemory estimate;
  double kv_error = 0;           ///< estimate / logged - 1 (KV budget)
  double concurrency_error = 0;  ///< estimate / logged - 1
  std::string excluded;          ///< why the row is left out of the medians
};

/// Runs the rows of data/engine_memory_validation.json. Throws CatalogError naming a malformed row.
std::vector<EngineMemoryRow> run_engine_memory_validation(std::string_view text, std::string_view origin,
                                                          const GpuCatalog& gpus, const ModelCatalog& models);
/// Median absolute errors of the counted rows: {kv budget, max concurrency}.
std::pair<double, double> engine_memory_medians(const std::vector<EngineMemoryRow>& rows);
/// The rows side by side (logged vs estimated KV budget and concurrency) and the medians, as text.
void write_engine_memory_validation_text(std::ostream& out, const std::vector<EngineMemoryRow>& rows);
/// The same as a JSON document.
nlohmann::json engine_memory_validation_json(const std::vector<EngineMemoryRow>& rows);

} // namespace gpuadvise
