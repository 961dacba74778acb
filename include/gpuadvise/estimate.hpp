#pragma once
/// The estimators: pure functions of (workload, GPU, GPU count, assumptions). No I/O, no globals.
/// Every formula is written down in docs/formulas.md with its source.
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/workload.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace gpuadvise {

/// A quantity with its optimistic..pessimistic range: low <= expected <= high of the quantity itself.
struct Span {
  double low = 0;
  double expected = 0;
  double high = 0;
};

/// What runs on this GPU: the precision asked for, the one used, and whether the GPU has it natively.
struct PrecisionDecision {
  Precision requested = Precision::fp16;
  Precision effective = Precision::fp16;
  bool native = true;
  Precision kv_requested = Precision::fp16;
  Precision kv_effective = Precision::fp16;
  bool kv_native = true;
};

/// Whether `gpu` runs `p` in hardware: fp8 needs FP8 tensor cores (Ada/Hopper+), bf16 needs
/// Ampere+, int8 needs int8 tensor cores, int4 weight-only kernels need compute capability >= 7.5.
bool supports_natively(const Gpu& gpu, Precision p);
/// The nearest precision the GPU does support: fp8 -> int8 (same bytes), nvfp4/mxfp4 -> fp8, else int4,
/// bf16 -> fp16, int8/int4 -> fp16.
Precision nearest_supported(const Gpu& gpu, Precision p);
/// Applies the precision rules for the workload on this GPU.
PrecisionDecision decide_precision(const Workload& w, const Gpu& gpu);

/// The link a collective inside one node crosses (one direction) and its per-message latency.
struct Link {
  double bytes_per_s = 0;
  double latency_s = 0;
  bool nvlink = false;
};

/// NVLink when the GPU has it and it joins a group of `group` GPUs (SXM boards join a node, PCIe
/// bridges join pairs), else PCIe; half the bidirectional figure each way; 8 us (NVLink) or 20 us
/// (PCIe) small-message latency.
Link intra_node_link(const Gpu& gpu, int group);

/// Ring all-reduce time: latency + 2 (n - 1) / n x bytes / link bandwidth; 0 for one GPU.
double allreduce_s(const Link& link, int count, double bytes);

/// The serving runtime used for the workload: its own, else llamacpp for GGUF formats, else the default.
std::string runtime_for(const Workload& w, const Assumptions& a);

/// Bytes of all weights in the given format: quantized formats keep embeddings and LM head in 16-bit.
/// The group size is the workload's (from its config.json) when set, else `default_group_size`.
double weight_bytes(const Workload& w, Precision p, int default_group_size);
/// True when `weight_bytes` returns the exact bytes read from the weight files (their own format `p`).
bool uses_stored_weight_bytes(const Workload& w, Precision p);

/// The serving engine's own start-up accounting for an LLM inference candidate on the vLLM runtime
/// (src/engine_memory.cpp, docs/engine-memory.md): the KV cache it would allocate and whether the batch's
/// sequences at full context fit in it. The advisor's fit needs this as well as the memory sum.
struct EngineKvCheck {
  std::string engine;                ///< "vllm-v1"
  double kv_budget_bytes = 0;        ///< "Available KV cache memory", per GPU (may be negative)
  std::int64_t kv_tokens = 0;        ///< "GPU KV cache size: N tokens" (one replica)
  std::int64_t needed_tokens = 0;    ///< batch x context: every sequence at full context at once
  std::int64_t max_model_len = 0;    ///< the context, as max-model-len
  double max_concurrency = 0;        ///< kv_tokens / max_model_len
  std::string failure;               ///< the engine's own refusal to start; empty when it starts
  /// The engine starts and holds the whole batch at full context.
  bool admits() const { return failure.empty() && kv_tokens >= needed_tokens; }
};

/// Memory per GPU, in bytes.
struct MemoryEstimate {
  double weights_bytes = 0;
  double kv_cache_bytes = 0;
  double activation_bytes = 0;
  double overhead_bytes = 0;
  double total_bytes = 0;
  double usable_bytes = 0;   ///< memory_utilization x allocatable
  double allocatable_bytes = 0;
  std::optional<EngineKvCheck> engine; ///< vLLM runtime, LLM inference: the engine's own KV accounting
  /// The sum fits the usable memory and, on an engine runtime, the engine holds the batch (EngineKvCheck).
  bool fits() const { return total_bytes <= usable_bytes && (!engine || engine->admits()); }
};

/// Weights, KV cache, activation workspace and runtime overhead per GPU, for `count` GPUs in
/// tensor parallel (weights, KV and activations split evenly; KV replicated past the KV-head count).
MemoryEstimate estimate_memory(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count,
                               const Assumptions& a);

/// Speed estimates. Throughputs in tokens/s; times in seconds.
struct PerfEstimate {
  Span prefill_tokens_per_s;           ///< prompt tokens processed per second (all sequences)
  Span time_to_first_token_s;          ///< prefill of one batch of prompts plus the first decode step
  Span decode_step_s;                  ///< one decode step for the whole batch, at the mean context
  Span decode_tokens_per_s;            ///< generated tokens per second, all sequences together
  Span decode_tokens_per_s_per_sequence;
  Span prefill_job_s;
  Span decode_job_s;
  Span job_s;
  bool decode_compute_bound = false;   ///< the step is bound by tensor throughput, not memory bandwidth
  double decode_bytes_per_step = 0;    ///< weights read + KV read, all GPUs
  double decode_flops_per_step = 0;
  double prefill_flops_per_token = 0;
  double communication_s_per_step = 0; ///< tensor-parallel all-reduce time per decode step
  Span seconds_per_item;               ///< image, video and analytics workloads: per image, clip or query
  Span items_per_s;
  double job_tokens = 0;               ///< tokens the job's cost is counted per (LLM: generated; embedding: embedded)
};

/// Prefill, decode and job time on `count` GPUs (roofline with achievable fractions; see docs).
PerfEstimate estimate_performance(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count,
                                  const Assumptions& a);

/// The time of one continuous-batching step (vLLM/SGLang style: decodes and prefill chunks in one
/// forward pass) on `count` GPUs in tensor parallel, from the same terms as estimate_performance:
/// weights read once (routed experts only), every decoding sequence's KV cache read, matmul and
/// attention FLOPs of every token, the runtime's fixed costs and the all-reduces. Pure and cheap.
class StepModel {
public:
  StepModel(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count, const Assumptions& a);
  /// One step: `decodes` sequences generating a token with `decode_context` tokens of context in all
  /// (summed), and `prefill_tokens` prompt tokens attending on average to `prefill_position` earlier
  /// positions. Low (optimistic), expected and high (pessimistic) seconds.
  Span step_s(double decodes, double decode_context, double prefill_tokens, double prefill_position) const;
  /// The same step in one case only: 0 optimistic, 1 expected, 2 pessimistic (what the simulator runs).
  double step_case_s(int which, double decodes, double decode_context, double prefill_tokens, double prefill_position) const;
  /// KV-cache bytes one token occupies on each GPU (after the tensor-parallel split).
  double kv_bytes_per_token_per_gpu() const { return m_kv_per_token_per_gpu; }
  /// The terms of step_case_s, for --explain: total_s equals step_case_s of the same arguments.
  struct Parts {
    double flops = 0, bytes = 0, weight_bytes = 0, kv_bytes = 0;
    double peak_flops = 0, bandwidth = 0, compute_fraction = 0, memory_fraction = 0, fill = 1;
    double compute_s = 0, memory_s = 0, runtime_fixed_s = 0, allreduce_s = 0, total_s = 0;
  };
  Parts step_parts(int which, double decodes, double decode_context, double prefill_tokens, double prefill_position) const;

private:
  const Workload* m_w;
  PrecisionDecision m_p;
  const Assumptions* m_a;
  int m_count;
  double m_peak = 0, m_bandwidth = 0, m_matmul_params = 0, m_attn_flops = 0, m_kv_per_token = 0,
         m_kv_per_token_per_gpu = 0, m_fixed_s = 0, m_act_bytes = 0, m_half_tokens = 0;
  double m_dense_weight_bytes = -1;  ///< weights one pass reads when that does not depend on the tokens (no MoE)
  Range m_compute, m_memory;
  Link m_link;
};

/// Cost of the job on `count` GPUs at one provider's on-demand price.
struct CostEstimate {
  bool priced = false;
  Price price;                  ///< the per-GPU price used
  double usd_per_hour = 0;      ///< price x count
  Span job_usd;
  Span usd_per_million_tokens;  ///< per million tokens of PerfEstimate::job_tokens (generated or embedded)
  Span usd_per_item;            ///< per image, clip or query (other workloads)
};

/// $/hr x count, job $ = hours x $/hr, and $ per million output tokens.
CostEstimate estimate_cost(const Workload& w, const PerfEstimate& perf, const Gpu& gpu, int count,
                           std::string_view provider);

} // namespace gpuadvise
