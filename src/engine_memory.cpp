// The serving engines' start-up memory accounting (docs/engine-memory.md): every term follows the engine
// code named beside it. Facts only; no engine code is copied.
#include <gpuadvise/engine_memory.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

namespace gpuadvise {
namespace {

constexpr double k_gib = 1024.0 * 1024.0 * 1024.0;
constexpr double k_mib = 1024.0 * 1024.0;

/// vLLM pads the vocabulary of the embedding and LM head to a multiple of 64 before splitting it over
/// tensor-parallel ranks (vllm/model_executor/layers/vocab_parallel_embedding.py, DEFAULT_VOCAB_PADDING_SIZE).
constexpr double k_vocab_padding = 64;

/// Bytes per logit element of the sampler's profiling run (V1 gpu_model_runner _dummy_sampler_run): the
/// LM head's bf16 logits (2), their fp32 copy (4), the softmax probabilities (4), the exponential noise
/// the random sampler divides by (4) and the top-k/top-p boolean mask (1).
constexpr double k_sampler_bytes_per_logit = 2 + 4 + 4 + 4 + 1;

/// Hidden-size buffers live at the MLP's peak per token: the residual, the normed input and the layer
/// output (the profiling forward pass; checked against vLLM V0's logged activation peaks, docs).
constexpr double k_hidden_buffers = 3;

/// Non-torch memory (CUDA context, cuBLAS workspace, NCCL and custom all-reduce buffers) as the engines
/// log it: "non_torch_memory takes 0.35GiB" / "0.25GiB" / "0.20GiB" (vLLM V0 logs, vllm#10517, #13061,
/// #14447) and "non-torch forward increase memory" 0.24-0.27 GiB at TP 1, 2.06-2.17 GiB at TP 2-4,
/// 0.07 GiB at PP 2-4 (vLLM v0.19 logs, llm-d-planner accuracy report).
double non_torch_bytes(Engine e, int tp, int pp) {
  if (e == Engine::vllm_v0) return 0.27 * k_gib;
  if (tp > 1) return 2.1 * k_gib;
  if (pp > 1) return 0.07 * k_gib;
  return 0.25 * k_gib;
}

/// The driver's reservation: nvidia-smi's total less cudaMemGetInfo's total, 468 MiB on an H100
/// (81559 MiB vs 79.19 GiB) and 430 MiB on an RTX 3090 (24576 MiB vs 23.58 GiB); their mean.
constexpr double k_driver_reserved = 449 * k_mib;

/// Device totals as published in engine start-up logs (total_gpu_memory / "Requested memory").
struct LoggedTotal {
  const char* gpu;
  double gib;
};
constexpr LoggedTotal k_logged_totals[] = {
    {"h100-sxm", 79.19},  // vLLM v0.19 "Requested memory: 0.950000 (util), 75.23 GiB" (llm-d-planner logs)
    {"rtx-3090", 23.58},  // vLLM "total_gpu_memory=23.58GiB" (vllm#10517, vllm#14447)
};

bool is_gated(const ModelShape& s) { return s.gated_mlp; }

/// Linear-layer bytes per weight once loaded.
double linear_bytes(const EngineLaunch& s) {
  switch (s.format) {
  case CheckpointFormat::fp8: return 1;
  case CheckpointFormat::int8: return 1;
  case CheckpointFormat::int4: return 0.5 + (2.0 + 0.5) / std::max(1, s.group_size); // fp16 scale + 4-bit zero per group
  case CheckpointFormat::dtype: break;
  }
  return s.dtype_bytes;
}

int kv_heads_per_rank(const ModelShape& shape, int tp) {
  // KV heads are split over ranks; with fewer heads than ranks each rank keeps a replica of one.
  return std::max(1, shape.num_kv_heads / tp);
}

int layers_per_rank(const ModelShape& shape, int pp) {
  return static_cast<int>(std::ceil(static_cast<double>(shape.num_layers) / pp));
}

std::string gib(double bytes) { return fmt::format("{:.2f} GiB", bytes / k_gib); }

/// "476,016".
std::string with_commas(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

bool is_a100(const Gpu& gpu) { return normalize_name(gpu.id).find("a100") != std::string::npos; }

} // namespace

std::string engine_name(Engine e) {
  switch (e) {
  case Engine::vllm_v0: return "vllm-v0";
  case Engine::vllm_v1: return "vllm-v1";
  case Engine::sglang: return "sglang";
  }
  return "vllm-v1";
}

std::optional<Engine> parse_engine(std::string_view text) {
  const std::string n = normalize_name(text);
  if (n == "vllm" || n == "vllmv1" || n == "v1") return Engine::vllm_v1;
  if (n == "vllmv0" || n == "v0") return Engine::vllm_v0;
  if (n == "sglang") return Engine::sglang;
  return std::nullopt;
}

std::optional<CheckpointFormat> checkpoint_format_from_id(std::string_view model_id) {
  std::string id(model_id);
  std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto has = [&](const char* s) { return id.find(s) != std::string::npos; };
  if (has("fp8")) return CheckpointFormat::fp8;
  if (has("awq") || has("gptq") || has("int4") || has("4bit") || has("w4a16")) return CheckpointFormat::int4;
  if (has("w8a8") || has("int8") || has("8bit")) return CheckpointFormat::int8;
  return std::nullopt;
}

std::string strip_quantization_suffix(std::string_view model_id) {
  std::string id(model_id);
  std::string lower = id;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const char* const k_markers[] = {"-fp8", "_fp8", "-awq", "-gptq", "-int4", "-w4a16", "-w8a8", "-int8", "-4bit", "-8bit"};
  std::size_t cut = std::string::npos;
  for (const char* m : k_markers) {
    const auto at = lower.find(m);
    if (at != std::string::npos && (cut == std::string::npos || at < cut)) cut = at;
  }
  return cut == std::string::npos ? id : id.substr(0, cut);
}

double engine_visible_bytes(const Gpu& gpu) {
  for (const auto& t : k_logged_totals)
    if (gpu.id == t.gpu) return t.gib * k_gib;
  return std::max(0.0, gpu.allocatable_bytes - k_driver_reserved);
}

double engine_weight_bytes(const ModelShape& shape, const EngineLaunch& s) {
  const int tp = s.tensor_parallel;
  const double lin = linear_bytes(s);
  const double dt = s.dtype_bytes;
  const double h = shape.hidden_size;
  const double hd = shape.head_dim;
  const double kvr = kv_heads_per_rank(shape, tp);
  double per_layer_linear = 0; // elements per rank
  double per_layer_dense = 0;  // elements kept in dtype (router, replicated latent projections)
  if (shape.mla) {
    const auto& m = *shape.mla;
    const double qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
    per_layer_linear += m.q_lora_rank > 0 ? h * m.q_lora_rank + m.q_lora_rank * shape.num_attention_heads * qk / tp
                                          : h * shape.num_attention_heads * qk / tp;
    per_layer_linear += h * (m.kv_lora_rank + m.qk_rope_head_dim); // kv_a: replicated on every rank
    per_layer_linear += m.kv_lora_rank * shape.num_attention_heads * (m.qk_nope_head_dim + m.v_head_dim) / tp;
    per_layer_linear += shape.num_attention_heads * m.v_head_dim * h / tp;
  } else {
    per_layer_linear += h * shape.num_attention_heads * hd / tp; // q
    per_layer_linear += 2 * h * kvr * hd;                        // k, v
    per_layer_linear += shape.num_attention_heads * hd * h / tp; // o
  }
  const double mlp_mats = is_gated(shape) ? 3 : 2;
  double mlp_dense_layer = mlp_mats * h * shape.intermediate_size / tp;
  double mlp_moe_layer = 0;
  int moe_layers = 0;
  const int layers = layers_per_rank(shape, s.pipeline_parallel);
  if (shape.moe) {
    const auto& m = *shape.moe;
    mlp_moe_layer = (m.num_experts + m.num_shared_experts) * mlp_mats * h * m.expert_intermediate_size / tp;
    per_layer_dense += h * m.num_experts; // router gate, replicated, unquantized
    const double dense_i = m.dense_intermediate_size > 0 ? m.dense_intermediate_size : shape.intermediate_size;
    mlp_dense_layer = mlp_mats * h * dense_i / tp;
    moe_layers = std::max(0, layers - m.first_dense_layers);
  }
  const int dense_layers = layers - moe_layers;
  const double linear = layers * per_layer_linear + dense_layers * mlp_dense_layer + moe_layers * mlp_moe_layer;
  double bias = 0;
  if (shape.qkv_bias && !shape.mla) bias = layers * (shape.num_attention_heads * hd / tp + 2 * kvr * hd);
  const double norms = (layers * shape.norms_per_layer + 1.0) * h * (shape.layernorm ? 2 : 1);
  const double vocab_rows = std::ceil(std::ceil(shape.vocab_size / k_vocab_padding) * k_vocab_padding / tp);
  // Embedding on the first pipeline stage, LM head on the last: with one stage both.
  const double embedding = vocab_rows * h;
  const double lm_head = shape.tie_word_embeddings ? 0 : vocab_rows * h;
  const double table = s.pipeline_parallel > 1 ? std::max(embedding, lm_head > 0 ? lm_head : embedding) : embedding + lm_head;
  const double rope_dim = shape.mla ? shape.mla->qk_rope_head_dim : hd;
  const double rotary = static_cast<double>(std::max<long long>(shape.max_context, 0)) * rope_dim; // cos/sin cache
  return linear * lin + (layers * per_layer_dense + bias + norms + table + rotary) * dt;
}

double engine_kv_bytes_per_token(const ModelShape& shape, const EngineLaunch& s) {
  const double kvb = s.kv_bytes_per_element > 0 ? s.kv_bytes_per_element : s.dtype_bytes;
  const double per_layer = shape.mla ? static_cast<double>(shape.mla->kv_lora_rank + shape.mla->qk_rope_head_dim) * kvb
                                     : 2.0 * kv_heads_per_rank(shape, s.tensor_parallel) * shape.head_dim * kvb;
  return per_layer * layers_per_rank(shape, s.pipeline_parallel);
}

EngineMemory engine_memory(const ModelShape& shape, const Gpu& gpu, const EngineLaunch& s) {
  if (s.tensor_parallel < 1 || s.pipeline_parallel < 1)
    throw InputError("tensor and pipeline parallel sizes must be at least 1");
  if (shape.num_attention_heads > 0 && shape.num_attention_heads % s.tensor_parallel != 0)
    throw InputError(fmt::format("{} attention heads are not divisible by tensor-parallel-size {}",
                                 shape.num_attention_heads, s.tensor_parallel));
  if (s.max_model_len < 1) throw InputError("max-model-len must be at least 1");
  if (s.memory_fraction <= 0 || s.memory_fraction > 1) throw InputError("the memory fraction must be in (0, 1]");
  if (engine_kv_bytes_per_token(shape, s) <= 0) throw InputError("the model has no KV cache to size (no KV heads or layers)");
  EngineMemory m;
  m.engine = s.engine;
  m.max_model_len = s.max_model_len;
  m.block_size = s.engine == Engine::sglang ? 1 : std::max(1, s.block_size);
  m.total_bytes = s.device_total_bytes > 0 ? s.device_total_bytes : engine_visible_bytes(gpu);
  const int tp = s.tensor_parallel;
  const double dt = s.dtype_bytes;
  const double h = shape.hidden_size;

  m.weights_bytes = engine_weight_bytes(shape, s);
  m.terms.push_back({"weights", m.weights_bytes,
                     fmt::format("linear layers / TP {} x {:.4g} B + embedding, LM head (vocab padded to 64, / TP), norms, "
                                 "rotary cache x {} B",
                                 tp, linear_bytes(s), dt),
                     "vLLM model loading (\"Model loading took X GiB\"); vocab_parallel_embedding.py pads to 64"});
  m.non_torch_bytes = non_torch_bytes(s.engine, tp, s.pipeline_parallel);
  m.terms.push_back({"non-torch memory", m.non_torch_bytes,
                     tp > 1 ? "CUDA context + NCCL/all-reduce buffers (TP > 1)" : "CUDA context and library workspaces",
                     "engine logs: non_torch_memory / non-torch forward increase"});

  if (s.engine == Engine::sglang) {
    // model_runner profile_max_num_token: rest = free after loading - free at start x (1 - mem_fraction_static),
    // where "free at start" is the memory free after the distributed init; so rest = fraction x free - weights.
    const double free_at_start = m.total_bytes - m.non_torch_bytes;
    m.requested_bytes = s.memory_fraction * free_at_start;
    m.kv_budget_bytes = m.requested_bytes - m.weights_bytes;
    m.kv_bytes_per_token = engine_kv_bytes_per_token(shape, s);
    m.kv_tokens = m.kv_budget_bytes > 0 ? static_cast<std::int64_t>(std::floor(m.kv_budget_bytes / m.kv_bytes_per_token)) : 0;
    m.num_blocks = m.kv_tokens;
    m.max_concurrency = static_cast<double>(m.kv_tokens) / static_cast<double>(s.max_model_len);
    m.terms.push_back({"KV budget", m.kv_budget_bytes,
                       fmt::format("{:.2f} x ({} - {}) - {}", s.memory_fraction, gib(m.total_bytes), gib(m.non_torch_bytes),
                                   gib(m.weights_bytes)),
                       "sglang model_runner profile_max_num_token (mem_fraction_static)"});
    if (m.kv_tokens <= 0) m.failure = EngineFailure::no_cache_blocks;
    return m;
  }

  // Profiled tokens and sequences: what the engine's dummy run uses.
  const bool high_end = m.total_bytes >= 70 * k_gib && !is_a100(gpu); // vLLM arg_utils: device memory >= 70 GiB, not A100
  std::int64_t tokens = s.max_num_batched_tokens;
  std::int64_t seqs = s.max_num_seqs;
  if (s.engine == Engine::vllm_v1) {
    if (tokens <= 0) tokens = high_end ? 8192 : 2048;   // OPENAI_API_SERVER defaults
    if (seqs <= 0) seqs = high_end ? 1024 : 256;
  } else {
    const bool chunked = s.chunked_prefill.value_or(s.max_model_len > 32768); // V0 turns it on past 32K
    if (tokens <= 0) tokens = chunked ? 2048 : std::max<std::int64_t>(s.max_model_len, 2048);
    if (seqs <= 0) seqs = 256;
  }
  m.profiled_tokens = tokens;
  m.profiled_seqs = std::min(seqs, tokens);
  const double act_bytes = dt;
  double intermediate_per_token = 0; // elements
  const double mlp_out = is_gated(shape) ? 2 : 1; // gate_up (2 I) or up (I), then the activation's output (I)
  if (shape.moe) {
    const auto& mo = *shape.moe;
    intermediate_per_token = (mo.experts_per_token + mo.num_shared_experts) * (mlp_out + 1) * mo.expert_intermediate_size / tp;
  } else {
    intermediate_per_token = (mlp_out + 1) * shape.intermediate_size / tp;
  }
  const double forward = static_cast<double>(tokens) * (intermediate_per_token + k_hidden_buffers * h) * act_bytes;
  const double vocab = std::ceil(shape.vocab_size / k_vocab_padding) * k_vocab_padding;
  const bool last_stage_samples = true; // the last pipeline stage runs the sampler; its budget is the binding one
  double sampler = 0;
  if (s.engine == Engine::vllm_v1)
    sampler = static_cast<double>(m.profiled_seqs) * vocab * k_sampler_bytes_per_logit + static_cast<double>(tokens) * h * act_bytes;
  else
    sampler = static_cast<double>(m.profiled_seqs) * vocab * 4; // V0: the fp32 logits of each sequence's last token
  m.activation_bytes = last_stage_samples ? std::max(forward, sampler) : forward;
  m.terms.push_back({"profiling forward pass", forward,
                     fmt::format("{} tokens x ({:.0f} intermediate + {:.0f} x {:.0f} hidden) x {} B", tokens,
                                 intermediate_per_token, k_hidden_buffers, h, act_bytes),
                     s.engine == Engine::vllm_v1 ? "v1 gpu_model_runner profile_run (_dummy_run of max_num_batched_tokens)"
                                                 : "worker.py determine_num_available_blocks -> model_runner.profile_run",
                     false});
  m.terms.push_back({"sampler / logits", sampler,
                     s.engine == Engine::vllm_v1
                         ? fmt::format("{} seqs x {:.0f} vocab x {:.0f} B + {} tokens x {:.0f} hidden x {} B", m.profiled_seqs,
                                       vocab, k_sampler_bytes_per_logit, tokens, h, act_bytes)
                         : fmt::format("{} seqs x {:.0f} vocab x 4 B", m.profiled_seqs, vocab),
                     s.engine == Engine::vllm_v1 ? "v1 gpu_model_runner _dummy_sampler_run" : "V0 sampler on the profile batch",
                     false});
  m.terms.push_back({"activation peak", m.activation_bytes, "max(forward pass, sampler)",
                     "torch peak memory increase of the profiling run"});
  m.terms.push_back({"CUDA graphs", 0,
                     "captured after the KV cache is allocated: taken from the (1 - gpu-memory-utilization) headroom",
                     "v1 gpu_worker compile_or_warm_up_model after initialize_from_config; V0 capture_model in _warm_up_model",
                     false});
  m.requested_bytes = m.total_bytes * s.memory_fraction;
  m.kv_budget_bytes = m.requested_bytes - m.weights_bytes - m.non_torch_bytes - m.activation_bytes;
  m.terms.push_back({"KV budget", m.kv_budget_bytes,
                     fmt::format("{} x {:.2f} - {} - {} - {}", gib(m.total_bytes), s.memory_fraction, gib(m.weights_bytes),
                                 gib(m.non_torch_bytes), gib(m.activation_bytes)),
                     s.engine == Engine::vllm_v1 ? "v1 gpu_worker determine_available_memory" : "worker.py determine_num_available_blocks",
                     false});
  m.kv_bytes_per_token = engine_kv_bytes_per_token(shape, s);
  const double block_bytes = m.kv_bytes_per_token * static_cast<double>(m.block_size);
  m.num_blocks = m.kv_budget_bytes > 0 ? static_cast<std::int64_t>(std::floor(m.kv_budget_bytes / block_bytes)) : 0;
  m.kv_tokens = m.num_blocks * m.block_size;
  m.max_concurrency = static_cast<double>(m.kv_tokens) / static_cast<double>(s.max_model_len);
  if (m.num_blocks <= 0) m.failure = EngineFailure::no_cache_blocks;
  else if (m.kv_tokens < s.max_model_len) m.failure = EngineFailure::max_model_len_too_long;
  return m;
}

std::int64_t kv_token_capacity(const ModelShape& shape, const Gpu& gpu, const EngineLaunch& s) {
  const EngineMemory m = engine_memory(shape, gpu, s);
  return m.failure == EngineFailure::none ? m.kv_tokens : 0;
}

namespace {

/// How a checkpoint in precision `p` is loaded: its linear layers' format and the model dtype.
void set_checkpoint(EngineLaunch& s, Precision p) {
  s.format = CheckpointFormat::dtype;
  s.dtype_bytes = 2;
  switch (p) {
  case Precision::fp32: s.dtype_bytes = 4; break;
  case Precision::fp8: s.format = CheckpointFormat::fp8; break;
  case Precision::int8:
  case Precision::int8_wo:
  case Precision::q8_0: s.format = CheckpointFormat::int8; break;
  case Precision::int4:
  case Precision::nf4:
  case Precision::q4_0:
  case Precision::q4_k_m: s.format = CheckpointFormat::int4; break;
  default: break;
  }
}

} // namespace

EngineLaunch engine_launch_for(const Workload& w, int tensor_parallel, std::int64_t max_num_seqs,
                               std::int64_t max_num_batched_tokens, int block_size) {
  EngineLaunch s;
  s.engine = Engine::vllm_v1;
  s.tensor_parallel = tensor_parallel;
  s.memory_fraction = w.memory_utilization;
  s.max_model_len = std::max<std::int64_t>(1, w.context);
  s.max_num_seqs = max_num_seqs;
  s.max_num_batched_tokens = max_num_batched_tokens;
  s.block_size = block_size;
  set_checkpoint(s, w.precision);
  if (w.group_size > 0) s.group_size = w.group_size;
  if (w.kv_precision_given) {
    if (w.kv_precision == Precision::fp8 || w.kv_precision == Precision::int8) s.kv_bytes_per_element = 1;
    else if (w.kv_precision == Precision::fp32) s.kv_bytes_per_element = 4;
  }
  return s;
}

std::optional<EngineKvCheck> engine_kv_check(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int tp, int pp) {
  EngineLaunch s = engine_launch_for(w, tp);
  s.pipeline_parallel = pp;
  set_checkpoint(s, p.effective); // the format the advisor runs on this GPU (fp8 falls back to int8 on Ampere)
  if (w.kv_precision_given) {
    const double kv = p.kv_effective == Precision::fp8 || p.kv_effective == Precision::int8 ? 1
                      : p.kv_effective == Precision::fp32                                    ? 4
                                                                                             : 2;
    s.kv_bytes_per_element = kv;
  }
  if (w.shape.num_layers <= 0 || (w.shape.num_attention_heads > 0 && w.shape.num_attention_heads % tp != 0)) return std::nullopt;
  // Sliding-window layers hold only the window at run time, and V1's hybrid allocator groups them in a
  // way this accounting does not follow (docs/engine-memory.md, "Not modelled"): no engine check.
  if (w.shape.sliding_layer_count() > 0) return std::nullopt;
  if (engine_kv_bytes_per_token(w.shape, s) <= 0 || !(s.memory_fraction > 0 && s.memory_fraction <= 1)) return std::nullopt;
  const EngineMemory m = engine_memory(w.shape, gpu, s);
  EngineKvCheck c;
  c.engine = engine_name(m.engine);
  c.kv_budget_bytes = m.kv_budget_bytes;
  c.kv_tokens = m.kv_tokens;
  c.max_model_len = m.max_model_len;
  c.needed_tokens = std::max<std::int64_t>(1, w.batch) * m.max_model_len;
  c.max_concurrency = m.max_concurrency;
  c.failure = m.failure_message();
  return c;
}

std::vector<std::string> EngineMemory::log_lines() const {
  std::vector<std::string> lines;
  if (engine == Engine::sglang) {
    lines.push_back(fmt::format("KV Cache is allocated. #tokens: {}, K size: {:.2f} GB, V size: {:.2f} GB", kv_tokens,
                                kv_tokens * kv_bytes_per_token / 2 / k_gib, kv_tokens * kv_bytes_per_token / 2 / k_gib));
    lines.push_back(fmt::format("max_total_num_tokens={}", kv_tokens));
    return lines;
  }
  if (engine == Engine::vllm_v0) {
    lines.push_back(fmt::format("model weights take {:.2f}GiB; non_torch_memory takes {:.2f}GiB; PyTorch activation peak memory "
                                "takes {:.2f}GiB; the rest of the memory reserved for KV Cache is {:.2f}GiB.",
                                weights_bytes / k_gib, non_torch_bytes / k_gib, activation_bytes / k_gib, kv_budget_bytes / k_gib));
    lines.push_back(fmt::format("# GPU blocks: {}", num_blocks));
    lines.push_back(fmt::format("Maximum concurrency for {} tokens per request: {:.2f}x", max_model_len, max_concurrency));
    return lines;
  }
  lines.push_back(fmt::format("Available KV cache memory: {:.2f} GiB", kv_budget_bytes / k_gib));
  lines.push_back(fmt::format("GPU KV cache size: {} tokens", with_commas(kv_tokens)));
  lines.push_back(fmt::format("Maximum concurrency for {} tokens per request: {:.2f}x", with_commas(max_model_len), max_concurrency));
  return lines;
}

std::string EngineMemory::failure_message() const {
  switch (failure) {
  case EngineFailure::none: return "";
  case EngineFailure::no_cache_blocks:
    if (engine == Engine::sglang) return "Not enough memory. Please try to increase --mem-fraction-static.";
    return "No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine.";
  case EngineFailure::max_model_len_too_long:
    if (engine == Engine::vllm_v1) {
      const double blocks_needed = std::ceil(static_cast<double>(max_model_len) / static_cast<double>(block_size));
      const double needed = blocks_needed * static_cast<double>(block_size) * kv_bytes_per_token;
      return fmt::format("To serve at least one request with the models's max seq len ({}), ({:.2f} GiB KV cache is needed, "
                         "which is larger than the available KV cache memory ({:.2f} GiB). Based on the available memory, the "
                         "estimated maximum model length is {}. Try increasing `gpu_memory_utilization` or decreasing "
                         "`max_model_len` when initializing the engine.",
                         max_model_len, needed / k_gib, kv_budget_bytes / k_gib, kv_tokens);
    }
    return fmt::format("The model's max seq len ({}) is larger than the maximum number of tokens that can be stored in KV cache "
                       "({}). Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.",
                       max_model_len, kv_tokens);
  }
  return "";
}

std::string EngineMemory::summary() const {
  return fmt::format("KV cache: {:.2f} GiB, {} tokens, maximum concurrency {:.2f} at {} tokens per request",
                     std::max(0.0, kv_budget_bytes) / k_gib, with_commas(kv_tokens), max_concurrency, with_commas(max_model_len));
}

// ---------------------------------------------------------------------------------------------------
// Validation against published start-up logs (data/engine_memory_validation.json).

namespace {

[[noreturn]] void row_fail(std::string_view origin, const std::string& id, const std::string& what) {
  throw CatalogError(fmt::format("{}: row '{}': {}", origin, id, what));
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace

std::vector<EngineMemoryRow> run_engine_memory_validation(std::string_view text, std::string_view origin, const GpuCatalog& gpus,
                                                          const ModelCatalog& base_models) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw CatalogError(fmt::format("{}: not valid JSON: {}", origin, e.what()));
  }
  if (!doc.is_object() || !doc.contains("rows") || !doc["rows"].is_array())
    throw CatalogError(fmt::format("{}: expected an object with a 'rows' array", origin));
  ModelCatalog models = base_models;
  if (doc.contains("models")) {
    nlohmann::json extra = {{"models", doc["models"]}};
    models.merge_json(extra.dump(), std::string(origin) + " models");
  }
  std::vector<EngineMemoryRow> rows;
  for (const auto& r : doc["rows"]) {
    EngineMemoryRow row;
    row.id = r.value("id", std::string("?"));
    try {
      row.source = r.at("source").get<std::string>();
      row.engine_version = r.at("engine_version").get<std::string>();
      row.gpu = r.at("gpu").get<std::string>();
      row.model = r.at("model").get<std::string>();
      EngineLaunch s;
      const auto engine = parse_engine(r.at("engine").get<std::string>());
      if (!engine) row_fail(origin, row.id, "engine must be vllm-v0, vllm-v1 or sglang");
      s.engine = *engine;
      s.tensor_parallel = r.value("tensor_parallel", 1);
      s.pipeline_parallel = r.value("pipeline_parallel", 1);
      s.memory_fraction = r.at("memory_fraction").get<double>();
      s.max_model_len = r.at("max_model_len").get<std::int64_t>();
      s.max_num_batched_tokens = r.value("max_num_batched_tokens", std::int64_t{0});
      s.max_num_seqs = r.value("max_num_seqs", std::int64_t{0});
      if (r.contains("chunked_prefill")) s.chunked_prefill = r["chunked_prefill"].get<bool>();
      s.block_size = r.value("block_size", 16);
      const std::string format = r.value("format", std::string("dtype"));
      if (format == "fp8") s.format = CheckpointFormat::fp8;
      else if (format == "int8") s.format = CheckpointFormat::int8;
      else if (format == "int4") s.format = CheckpointFormat::int4;
      else if (format != "dtype") row_fail(origin, row.id, "format must be dtype, fp8, int8 or int4");
      s.dtype_bytes = r.value("dtype_bytes", 2.0);
      s.group_size = r.value("group_size", 128);
      s.kv_bytes_per_element = r.value("kv_bytes", 0.0);
      row.tensor_parallel = s.tensor_parallel;
      row.settings = r.value("settings", std::string());
      const auto& logged = r.at("logged");
      row.logged_kv_gib = logged.value("kv_gib", 0.0);
      row.logged_tokens = logged.value("tokens", std::int64_t{0});
      if (logged.contains("blocks")) row.logged_tokens = logged["blocks"].get<std::int64_t>() * s.block_size;
      row.logged_failure = logged.value("failure", false);
      row.excluded = r.value("excluded", std::string());
      const ModelShape* shape = models.find(row.model);
      if (!shape) row_fail(origin, row.id, fmt::format("unknown model '{}'", row.model));
      // A GPU outside the catalog is accepted when the log states the device total the engine read.
      Gpu logged_gpu;
      const Gpu* gpu = nullptr;
      if (r.contains("device_total_gib")) {
        s.device_total_bytes = r["device_total_gib"].get<double>() * k_gib;
        logged_gpu.id = row.gpu;
        logged_gpu.allocatable_bytes = s.device_total_bytes;
        gpu = &logged_gpu;
      } else {
        gpu = &gpus.find(row.gpu);
      }
      row.estimate = engine_memory(*shape, *gpu, s);
      row.logged_concurrency = logged.value("concurrency", row.logged_tokens > 0 ? static_cast<double>(row.logged_tokens) / s.max_model_len : 0.0);
      // A log with only tokens (or blocks) states the budget through the engine's own arithmetic.
      const double logged_kv = row.logged_kv_gib != 0 ? row.logged_kv_gib * k_gib
                                                      : static_cast<double>(row.logged_tokens) * row.estimate.kv_bytes_per_token;
      if (logged_kv == 0) row_fail(origin, row.id, "logged needs kv_gib, tokens or blocks");
      if (logged_kv < 0 && row.excluded.empty())
        row.excluded = "a negative logged budget: compared as a refusal (the estimate refuses too), not as a percentage";
      row.kv_error = row.estimate.kv_budget_bytes / logged_kv - 1;
      row.concurrency_error = row.logged_concurrency > 0 ? row.estimate.max_concurrency / row.logged_concurrency - 1 : 0;
    } catch (const nlohmann::json::exception& e) {
      row_fail(origin, row.id, e.what());
    } catch (const InputError& e) {
      row_fail(origin, row.id, e.what());
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::pair<double, double> engine_memory_medians(const std::vector<EngineMemoryRow>& rows) {
  std::vector<double> kv, conc;
  for (const auto& r : rows) {
    if (!r.excluded.empty()) continue;
    kv.push_back(std::abs(r.kv_error));
    if (r.logged_concurrency > 0) conc.push_back(std::abs(r.concurrency_error));
  }
  return {median(kv), median(conc)};
}

void write_engine_memory_validation_text(std::ostream& out, const std::vector<EngineMemoryRow>& rows) {
  out << fmt::format("{:<30} {:<8} {:<14} {:>2} {:>8} {:>9} {:>9} {:>7} {:>9} {:>9} {:>7}\n", "row", "engine", "gpu", "tp",
                     "L", "KV log", "KV est", "error", "conc log", "conc est", "error");
  for (const auto& r : rows) {
    const double logged_kv = r.logged_kv_gib != 0 ? r.logged_kv_gib
                                                  : static_cast<double>(r.logged_tokens) * r.estimate.kv_bytes_per_token / k_gib;
    out << fmt::format("{:<30} {:<8} {:<14} {:>2} {:>8} {:>9.2f} {:>9.2f} {:>+6.1f}% {:>9} {:>9.2f} {:>7}{}\n", r.id.substr(0, 30),
                       engine_name(r.estimate.engine), r.gpu.substr(0, 14), r.tensor_parallel, r.estimate.max_model_len, logged_kv,
                       r.estimate.kv_budget_bytes / k_gib, r.kv_error * 100,
                       r.logged_concurrency > 0 ? fmt::format("{:.2f}", r.logged_concurrency) : std::string("-"),
                       r.estimate.max_concurrency,
                       r.logged_concurrency > 0 ? fmt::format("{:+.1f}%", r.concurrency_error * 100) : std::string("-"),
                       r.excluded.empty() ? "" : "  (excluded: " + r.excluded + ")");
  }
  const auto [kv, conc] = engine_memory_medians(rows);
  int counted = 0;
  std::set<std::string> sources;
  for (const auto& r : rows)
    if (r.excluded.empty()) {
      ++counted;
      sources.insert(r.source.substr(0, r.source.find(' ')));
    }
  out << fmt::format("\nMedian absolute error over {} rows from {} published documents: KV budget {:.1f}%, maximum concurrency {:.1f}%\n",
                     counted, sources.size(), kv * 100, conc * 100);
}

nlohmann::json engine_memory_validation_json(const std::vector<EngineMemoryRow>& rows) {
  nlohmann::json doc = {{"schema_version", 1}, {"rows", nlohmann::json::array()}};
  for (const auto& r : rows) {
    const auto& e = r.estimate;
    doc["rows"].push_back({{"id", r.id},
                           {"source", r.source},
                           {"engine", engine_name(e.engine)},
                           {"engine_version", r.engine_version},
                           {"gpu", r.gpu},
                           {"model", r.model},
                           {"tensor_parallel", r.tensor_parallel},
                           {"max_model_len", e.max_model_len},
                           {"logged", {{"kv_gib", r.logged_kv_gib}, {"tokens", r.logged_tokens}, {"concurrency", r.logged_concurrency},
                                       {"failure", r.logged_failure}}},
                           {"estimate", {{"kv_gib", std::round(e.kv_budget_bytes / k_gib * 100) / 100},
                                         {"tokens", e.kv_tokens},
                                         {"concurrency", std::round(e.max_concurrency * 100) / 100},
                                         {"weights_gib", std::round(e.weights_bytes / k_gib * 100) / 100},
                                         {"activation_gib", std::round(e.activation_bytes / k_gib * 100) / 100},
                                         {"non_torch_gib", std::round(e.non_torch_bytes / k_gib * 100) / 100},
                                         {"failure", e.failure != EngineFailure::none}}},
                           {"kv_error", std::round(r.kv_error * 10000) / 10000},
                           {"concurrency_error", std::round(r.concurrency_error * 10000) / 10000},
                           {"excluded", r.excluded.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.excluded)}});
  }
  const auto [kv, conc] = engine_memory_medians(rows);
  doc["summary"] = {{"median_abs_kv_error", std::round(kv * 10000) / 10000},
                    {"median_abs_concurrency_error", std::round(conc * 10000) / 10000}};
  return doc;
}

} // namespace gpuadvise
