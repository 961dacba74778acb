#include "generative_estimate.hpp"

#include <gpuadvise/estimate.hpp>
#include <gpuadvise/engine_memory.hpp>
#include <gpuadvise/model_files.hpp>

#include <algorithm>
#include <cmath>

namespace gpuadvise {
namespace {

/// Bytes of the activation workspace per token in flight: residual, normed input, q/k/v, MLP
/// gate/up/act (the widest tensors alive at once in one layer; see docs/formulas.md).
double activation_elements_per_token(const ModelShape& s) {
  const double mlp_width =
      s.moe ? static_cast<double>(s.moe->experts_per_token + s.moe->num_shared_experts) * s.moe->expert_intermediate_size
            : s.intermediate_size;
  const double qkv = static_cast<double>(s.num_attention_heads + 2 * s.num_kv_heads) * s.head_dim;
  return 4.0 * s.hidden_size + qkv + 3.0 * mlp_width;
}

/// Fraction of the MoE expert weights read when `tokens` tokens each pick top-k of E experts
/// (uniform routing): 1 - (1 - k/E)^tokens per layer.
double expert_fraction_touched(const MoeShape& e, double tokens) {
  return 1.0 - std::pow(1.0 - static_cast<double>(e.experts_per_token) / e.num_experts, tokens);
}

/// Routed-expert parameters (all MoE layers), which a step reads only when routed to.
double routed_expert_params(const ModelShape& s, double params_total) {
  if (!s.moe) return 0;
  const auto& e = *s.moe;
  const double matrices = s.gated_mlp ? 3.0 : 2.0;
  const double per_layer = e.num_experts * matrices * s.hidden_size * static_cast<double>(e.expert_intermediate_size);
  int moe_layers = 0;
  for (int layer = 0; layer < s.num_layers; ++layer) moe_layers += e.is_moe_layer(layer) ? 1 : 0;
  return std::min(params_total, per_layer * moe_layers);
}

/// Weight bytes one forward pass over `tokens` tokens reads: every weight but the input embedding
/// table (a lookup of a few rows), with only the routed experts of a MoE model.
double weight_bytes_read(const Workload& w, Precision p, const Assumptions& a, double tokens) {
  const int group = w.group_size > 0 ? w.group_size : a.int4_group_size;
  const double all = weight_bytes(w, p, a.int4_group_size);
  const double lookup = lookup_params(w) * embedding_bytes_per_param(p, group);
  double skipped = 0;
  if (w.shape.moe) {
    const double experts = routed_expert_params(w.shape, w.params_total) * weight_bytes_per_param(p, group);
    skipped = experts * (1.0 - expert_fraction_touched(*w.shape.moe, tokens));
  }
  return std::max(0.0, all - lookup - skipped);
}

/// Parameters that take part in a matmul per token: active weights minus the input lookup table,
/// with the routed experts' share weighted by 1 / moe_compute_efficiency (grouped GEMMs run slower).
double matmul_params(const Workload& w, const Assumptions& a) {
  double params = dense_matmul_params(w);
  if (w.shape.moe) {
    const auto& e = *w.shape.moe;
    const double routed_active = routed_expert_params(w.shape, w.params_total) * e.experts_per_token / e.num_experts;
    params += routed_active * (1.0 / a.moe_compute_efficiency - 1.0);
  }
  return params;
}

/// Time of one forward pass over `tokens` new tokens, each attending to `attended` positions (all
/// layers summed), on `count` GPUs: the larger of the compute and memory bounds, plus overheads.
struct Pass {
  double flops = 0;
  double bytes = 0;
  double fixed_s = 0;   ///< launches, scheduling and all-reduces (same in every case)
  double tokens = 0;    ///< prefill tokens per GEMM (the M dimension; 0 for decode): small passes fill tiles poorly
};

/// Achievable fractions of peak compute and bandwidth, already scaled for the runtime.
struct Fractions {
  Range compute;
  Range memory;
};

Span pass_time(const Pass& pass, double peak_flops, double bandwidth, const Fractions& f, double half_tokens,
               bool* compute_bound) {
  // Prefill GEMM efficiency rises with the tokens per pass: fraction x M / (M + M_half).
  const double fill = pass.tokens > 0 ? pass.tokens / (pass.tokens + half_tokens) : 1.0;
  // Fixed costs differ up to 2x between runtime versions and hosts: half in the fast case, double in the slow.
  auto time_at = [&](double compute_fraction, double memory_fraction, double fixed_scale) {
    const double t_compute = pass.flops / (peak_flops * compute_fraction * fill);
    const double t_memory = pass.bytes / (bandwidth * memory_fraction);
    return std::max(t_compute, t_memory) + pass.fixed_s * fixed_scale;
  };
  if (compute_bound)
    *compute_bound = pass.flops / (peak_flops * f.compute.expected * fill) > pass.bytes / (bandwidth * f.memory.expected);
  return {time_at(f.compute.high, f.memory.high, 0.5), time_at(f.compute.expected, f.memory.expected, 1),
          time_at(f.compute.low, f.memory.low, 2)};
}

Range scaled(Range r, double factor) {
  r.low = std::min(1.0, r.low * factor);
  r.expected = std::min(1.0, r.expected * factor);
  r.high = std::min(1.0, r.high * factor);
  return r;
}

Span scale(const Span& s, double factor) { return {s.low * factor, s.expected * factor, s.high * factor}; }
Span add(const Span& a, const Span& b) { return {a.low + b.low, a.expected + b.expected, a.high + b.high}; }
/// Rate = amount / time: the range flips (short time -> high rate).
Span rate(double amount, const Span& time) { return {amount / time.high, amount / time.expected, amount / time.low}; }

} // namespace

std::string runtime_for(const Workload& w, const Assumptions& a) {
  if (!w.runtime.empty()) return w.runtime;
  return is_gguf(w.precision) && a.runtimes.count("llamacpp") ? "llamacpp" : a.default_runtime;
}

Link intra_node_link(const Gpu& gpu, int group) {
  // SXM (NVIDIA) and OAM (AMD) modules sit on a baseboard whose GPU links reach every GPU; PCIe cards
  // only reach a bridged neighbour.
  const bool bridge_only = gpu.form_factor.find("SXM") == std::string::npos && gpu.form_factor.find("OAM") == std::string::npos;
  if (gpu.has_nvlink && (!bridge_only || group <= 2)) return {gpu.nvlink_bandwidth_bytes_per_s / 2, 8e-6, true};
  const double pcie = gpu.pcie_bandwidth_bytes_per_s > 0 ? gpu.pcie_bandwidth_bytes_per_s : 64e9;
  return {pcie / 2, 20e-6, false};
}

double allreduce_s(const Link& link, int count, double bytes) {
  if (count <= 1) return 0;
  return link.latency_s + 2.0 * (count - 1) / count * bytes / link.bytes_per_s;
}

bool supports_natively(const Gpu& gpu, Precision p) {
  switch (p) {
  case Precision::fp32: return gpu.peak_flops(Precision::fp32) > 0; // a user catalog may omit it
  case Precision::fp16: return true;
  case Precision::bf16: return gpu.bf16_support;
  case Precision::fp8: return gpu.fp8_support;
  case Precision::int8: return gpu.peak_flops(Precision::int8) > 0;
  // Weight-only and GGUF kernels: CUDA compute capability on NVIDIA; vLLM's ROCm build (AWQ/GPTQ),
  // bitsandbytes' ROCm port and llama.cpp's HIP back end on AMD Instinct.
  case Precision::int8_wo: return gpu.vendor == "amd" || gpu.compute_capability >= 7.0;
  case Precision::int4: return gpu.vendor == "amd" || gpu.compute_capability >= 7.5;
  case Precision::nf4: return gpu.vendor == "amd" || gpu.compute_capability >= 5.0;
  case Precision::q8_0:
  case Precision::q4_0:
  case Precision::q4_k_m: return gpu.vendor == "amd" || gpu.compute_capability >= 6.0; // llama.cpp CUDA/HIP kernels
  // FP4 needs FP4 tensor cores: a catalog fp4 throughput (Blackwell); NVFP4's FP8 block scales are NVIDIA's.
  case Precision::nvfp4: return gpu.peak_flops(Precision::nvfp4) > 0 && gpu.vendor != "amd";
  case Precision::mxfp4: return gpu.peak_flops(Precision::mxfp4) > 0;
  }
  return false;
}

Precision nearest_supported(const Gpu& gpu, Precision p) {
  if (supports_natively(gpu, p)) return p;
  if (p == Precision::fp8 && supports_natively(gpu, Precision::int8)) return Precision::int8;
  // FP4 without FP4 tensor cores: the next floating-point tensor-core format (fp8, Hopper/Ada/MI300),
  // else 4-bit weight-only int4, which keeps the 4-bit footprint (Ampere, Turing).
  if (is_fp4(p) && supports_natively(gpu, Precision::fp8)) return Precision::fp8;
  if (is_fp4(p) && supports_natively(gpu, Precision::int4)) return Precision::int4;
  return Precision::fp16;
}

PrecisionDecision decide_precision(const Workload& w, const Gpu& gpu) {
  PrecisionDecision d;
  d.requested = w.precision;
  d.native = supports_natively(gpu, w.precision);
  d.effective = nearest_supported(gpu, w.precision);
  // vLLM's kv_cache_dtype "auto" keeps the KV cache in the 16-bit model dtype.
  d.kv_requested = w.kv_precision_given ? w.kv_precision
                                        : (w.precision == Precision::fp32 ? Precision::fp32
                                           : w.precision == Precision::bf16 ? Precision::bf16 : Precision::fp16);
  if (!w.kv_precision_given && d.kv_requested == Precision::bf16 && !gpu.bf16_support) d.kv_requested = Precision::fp16;
  // An fp8 KV cache is stored as fp8 on any GPU (vLLM converts in its attention kernels); it is
  // native only with FP8 tensor cores. A bf16 KV cache without bf16 support falls back to fp16.
  d.kv_native = d.kv_requested == Precision::fp8 ? gpu.fp8_support : supports_natively(gpu, d.kv_requested);
  d.kv_effective = d.kv_requested == Precision::bf16 && !gpu.bf16_support ? Precision::fp16 : d.kv_requested;
  return d;
}

bool uses_stored_weight_bytes(const Workload& w, Precision p) {
  if (!w.stored_weight_bytes) return false;
  const auto half = [](Precision q) { return q == Precision::fp16 || q == Precision::bf16; };
  return p == w.stored_precision || (half(p) && half(w.stored_precision));
}

double weight_bytes(const Workload& w, Precision p, int default_group_size) {
  // Exact bytes read from the weight files' headers win when the run uses the files' own format.
  if (uses_stored_weight_bytes(w, p)) return *w.stored_weight_bytes;
  const int int4_group_size = w.group_size > 0 ? w.group_size : default_group_size;
  // Quantized formats keep the embedding table and LM head in 16-bit (AWQ, GPTQ, bitsandbytes, vLLM fp8),
  // and the modules a checkpoint's quantization config lists as ignored.
  const double kept = is_quantized(p) && !is_gguf(p) ? std::min(w.params_kept_16bit, w.params_total - w.params_embedding) : 0;
  return (w.params_total - w.params_embedding - kept) * weight_bytes_per_param(p, int4_group_size) + kept * 2.0 +
         w.params_embedding * embedding_bytes_per_param(p, int4_group_size);
}

MemoryEstimate estimate_memory(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count,
                               const Assumptions& a) {
  return kind_module(w.kind).memory(w, p, gpu, count, a);
}

PerfEstimate estimate_performance(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count,
                                  const Assumptions& a) {
  return kind_module(w.kind).performance(w, p, gpu, count, a);
}

MemoryEstimate detail::llm_memory(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count,
                                  const Assumptions& a) {
  MemoryEstimate m;
  const double n = count;
  m.weights_bytes = weight_bytes(w, p.effective, a.int4_group_size) / n;
  // Tensor parallel splits KV heads across GPUs; with more GPUs than KV heads each keeps a copy.
  const double kv_split = std::min<double>(n, w.shape.mla ? 1 : w.shape.num_kv_heads);
  m.kv_cache_bytes = static_cast<double>(w.batch) *
                     kv_cache_bytes_per_sequence(w.shape, static_cast<double>(w.context), kv_bytes_per_element(p.kv_effective)) /
                     kv_split;
  const double tokens_in_flight = std::min(static_cast<double>(w.batch) * static_cast<double>(w.context), a.max_batched_tokens);
  const double act_bytes = activation_bytes_per_element(p.effective);
  const double logits = static_cast<double>(std::min<std::int64_t>(w.batch, 256)) * w.shape.vocab_size * 4.0; // fp32 logits
  m.activation_bytes = (tokens_in_flight * activation_elements_per_token(w.shape) * act_bytes + logits) / n;
  // llama.cpp: its compute buffer for the whole context (flash attention on, its default), on every GPU
  // of a layer split (src/models/gguf_mix.cpp, docs/model-files.md).
  if (runtime_for(w, a) == "llamacpp")
    m.activation_bytes = llamacpp_compute_buffer(w.shape, static_cast<double>(w.batch) * static_cast<double>(w.context)).expected;
  m.overhead_bytes = a.runtime_overhead_bytes;
  m.total_bytes = m.weights_bytes + m.kv_cache_bytes + m.activation_bytes + m.overhead_bytes;
  m.allocatable_bytes = gpu.allocatable_bytes;
  m.usable_bytes = w.memory_utilization * gpu.allocatable_bytes;
  // On vLLM the engine sizes its KV cache itself at start-up; the batch must fit in what it allocates.
  if (runtime_for(w, a) == "vllm") m.engine = engine_kv_check(w, p, gpu, count);
  return m;
}

PerfEstimate detail::llm_performance(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count,
                                     const Assumptions& a) {
  PerfEstimate r;
  const Precision compute = compute_format(p.effective);
  const Runtime& runtime = a.runtime(runtime_for(w, a));
  // GeForce cards run FP16-accumulate GEMMs at twice the FP32-accumulate rate; runtimes that use them get it.
  const double per_gpu_peak = runtime.fp16_accumulate && compute == Precision::fp16 && gpu.fp16_accumulate_flops > 0
                                  ? gpu.fp16_accumulate_flops
                                  : gpu.peak_flops(compute);
  const double peak = per_gpu_peak * count;
  const double bandwidth = gpu.bandwidth_bytes_per_s * count;
  const Fractions fractions{scaled(a.fraction("compute", gpu.architecture, p.effective), runtime.compute_scale),
                            scaled(a.fraction("bandwidth", gpu.architecture, p.effective), runtime.bandwidth_scale)};
  const Link link = intra_node_link(gpu, count);
  const double act_bytes = activation_bytes_per_element(p.effective);
  const double kv_bpe = kv_bytes_per_element(p.kv_effective);
  const double per_layer_fixed = runtime.layer_overhead_s * w.shape.num_layers;
  const double attn_flops = attention_flops_per_context_token(w.shape);
  const double input = static_cast<double>(w.input_tokens);
  const double output = static_cast<double>(w.output_tokens);

  // Prefill of `sequences` prompts: chunks of at most max_batched_tokens tokens.
  auto prefill = [&](double sequences) {
    const double tokens = sequences * input;
    const double chunks = std::ceil(tokens / a.max_batched_tokens);
    const double chunk_tokens = tokens / chunks;
    Pass pass;
    // Causal attention: a prompt of s tokens attends on average to s/2 earlier positions.
    pass.flops = tokens * (2.0 * matmul_params(w, a) + attn_flops * attended_tokens_all_layers(w.shape, input / 2));
    pass.bytes = chunks * weight_bytes_read(w, p.effective, a, chunk_tokens);
    pass.tokens = chunk_tokens;
    pass.fixed_s = chunks * (runtime.step_overhead_s + per_layer_fixed +
                             2.0 * w.shape.num_layers * allreduce_s(link, count, chunk_tokens * w.shape.hidden_size * act_bytes));
    return pass_time(pass, peak, bandwidth, fractions, a.gemm_half_tokens, nullptr);
  };
  // One decode step for `sequences` sequences at mean position input + output/2.
  auto decode_step = [&](double sequences, bool* bound, Pass* out) {
    const double position = input + output / 2;
    Pass pass;
    pass.flops = sequences * (2.0 * matmul_params(w, a) + attn_flops * attended_tokens_all_layers(w.shape, position));
    pass.bytes = weight_bytes_read(w, p.effective, a, sequences) +
                 sequences * kv_cache_bytes_per_sequence(w.shape, position, kv_bpe);
    const double comm = 2.0 * w.shape.num_layers * allreduce_s(link, count, sequences * w.shape.hidden_size * act_bytes);
    pass.fixed_s = runtime.step_overhead_s + per_layer_fixed + comm;
    pass.tokens = 0; // decode runs skinny GEMV-style kernels: no tile-filling penalty
    if (out) *out = pass;
    return pass_time(pass, peak, bandwidth, fractions, a.gemm_half_tokens, bound);
  };

  const double batch = static_cast<double>(w.batch);
  Pass step;
  r.decode_step_s = decode_step(batch, &r.decode_compute_bound, &step);
  r.decode_bytes_per_step = step.bytes;
  r.decode_flops_per_step = step.flops;
  // As decode_step computes it: subtracting the other fixed costs from fixed_s leaves a rounding residue
  // (-5e-20 s on one GPU).
  r.communication_s_per_step = 2.0 * w.shape.num_layers * allreduce_s(link, count, batch * w.shape.hidden_size * act_bytes);
  r.decode_tokens_per_s = rate(batch, r.decode_step_s);
  r.decode_tokens_per_s_per_sequence = rate(1, r.decode_step_s);
  const Span batch_prefill = prefill(batch);
  r.prefill_tokens_per_s = rate(batch * input, batch_prefill);
  r.prefill_flops_per_token = 2.0 * matmul_params(w, a) + attn_flops * attended_tokens_all_layers(w.shape, input / 2);
  r.time_to_first_token_s = add(batch_prefill, r.decode_step_s);

  // The job runs in waves of `batch` requests; the last wave holds the remainder.
  const double requests = static_cast<double>(w.requests);
  const double full_waves = std::floor(requests / batch);
  const double remainder = requests - full_waves * batch;
  r.prefill_job_s = scale(batch_prefill, full_waves);
  r.decode_job_s = scale(r.decode_step_s, full_waves * output);
  if (remainder > 0) {
    r.prefill_job_s = add(r.prefill_job_s, prefill(remainder));
    r.decode_job_s = add(r.decode_job_s, scale(decode_step(remainder, nullptr, nullptr), output));
  }
  r.job_s = add(r.prefill_job_s, r.decode_job_s);
  r.job_tokens = static_cast<double>(w.requests) * static_cast<double>(w.output_tokens);
  return r;
}

StepModel::StepModel(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count, const Assumptions& a)
    : m_w(&w), m_p(p), m_a(&a), m_count(count) {
  const Precision compute = compute_format(p.effective);
  const Runtime& runtime = a.runtime(runtime_for(w, a));
  const double per_gpu_peak = runtime.fp16_accumulate && compute == Precision::fp16 && gpu.fp16_accumulate_flops > 0
                                  ? gpu.fp16_accumulate_flops
                                  : gpu.peak_flops(compute);
  m_peak = per_gpu_peak * count;
  m_bandwidth = gpu.bandwidth_bytes_per_s * count;
  m_compute = scaled(a.fraction("compute", gpu.architecture, p.effective), runtime.compute_scale);
  m_memory = scaled(a.fraction("bandwidth", gpu.architecture, p.effective), runtime.bandwidth_scale);
  m_link = intra_node_link(gpu, count);
  m_act_bytes = activation_bytes_per_element(p.effective);
  m_matmul_params = matmul_params(w, a);
  m_attn_flops = attention_flops_per_context_token(w.shape);
  // Per token of context, all layers (full attention; sliding-window layers counted as full: an upper bound).
  m_kv_per_token = kv_cache_bytes_per_sequence(w.shape, 1.0, kv_bytes_per_element(p.kv_effective));
  const double kv_split = std::min<double>(count, w.shape.mla ? 1 : std::max(1, w.shape.num_kv_heads));
  m_kv_per_token_per_gpu = m_kv_per_token / kv_split;
  m_fixed_s = runtime.step_overhead_s + runtime.layer_overhead_s * w.shape.num_layers;
  m_half_tokens = a.gemm_half_tokens;
  if (!w.shape.moe) m_dense_weight_bytes = weight_bytes_read(w, p.effective, a, 1);
}

double StepModel::step_case_s(int which, double decodes, double decode_context, double prefill_tokens,
                              double prefill_position) const {
  const double tokens = decodes + prefill_tokens;
  if (tokens <= 0) return 0;
  const ModelShape& s = m_w->shape;
  const double mean_context = decodes > 0 ? decode_context / decodes : 0;
  const double flops = tokens * 2.0 * m_matmul_params +
                       m_attn_flops * (decodes * attended_tokens_all_layers(s, mean_context) +
                                       prefill_tokens * attended_tokens_all_layers(s, prefill_position));
  const double bytes = (m_dense_weight_bytes >= 0 ? m_dense_weight_bytes : weight_bytes_read(*m_w, m_p.effective, *m_a, tokens)) +
                       decode_context * m_kv_per_token;
  const double fill = prefill_tokens > 0 ? tokens / (tokens + m_half_tokens) : 1.0;
  const double compute = which == 0 ? m_compute.high : which == 2 ? m_compute.low : m_compute.expected;
  const double memory = which == 0 ? m_memory.high : which == 2 ? m_memory.low : m_memory.expected;
  const double fixed = (m_fixed_s + 2.0 * s.num_layers * allreduce_s(m_link, m_count, tokens * s.hidden_size * m_act_bytes)) *
                       (which == 0 ? 0.5 : which == 2 ? 2.0 : 1.0);
  return std::max(flops / (m_peak * compute * fill), bytes / (m_bandwidth * memory)) + fixed;
}

StepModel::Parts StepModel::step_parts(int which, double decodes, double decode_context, double prefill_tokens,
                                        double prefill_position) const {
  // The same terms as step_case_s, kept apart.
  Parts p;
  const double tokens = decodes + prefill_tokens;
  if (tokens <= 0) return p;
  const ModelShape& s = m_w->shape;
  const double mean_context = decodes > 0 ? decode_context / decodes : 0;
  p.flops = tokens * 2.0 * m_matmul_params +
            m_attn_flops * (decodes * attended_tokens_all_layers(s, mean_context) +
                            prefill_tokens * attended_tokens_all_layers(s, prefill_position));
  p.weight_bytes = m_dense_weight_bytes >= 0 ? m_dense_weight_bytes : weight_bytes_read(*m_w, m_p.effective, *m_a, tokens);
  p.kv_bytes = decode_context * m_kv_per_token;
  p.bytes = p.weight_bytes + p.kv_bytes;
  p.fill = prefill_tokens > 0 ? tokens / (tokens + m_half_tokens) : 1.0;
  p.peak_flops = m_peak;
  p.bandwidth = m_bandwidth;
  p.compute_fraction = which == 0 ? m_compute.high : which == 2 ? m_compute.low : m_compute.expected;
  p.memory_fraction = which == 0 ? m_memory.high : which == 2 ? m_memory.low : m_memory.expected;
  const double scale = which == 0 ? 0.5 : which == 2 ? 2.0 : 1.0;
  const double comm = 2.0 * s.num_layers * allreduce_s(m_link, m_count, tokens * s.hidden_size * m_act_bytes);
  p.compute_s = p.flops / (m_peak * p.compute_fraction * p.fill);
  p.memory_s = p.bytes / (m_bandwidth * p.memory_fraction);
  p.runtime_fixed_s = m_fixed_s * scale;
  p.allreduce_s = comm * scale;
  p.total_s = std::max(p.compute_s, p.memory_s) + (m_fixed_s + comm) * scale;
  return p;
}

Span StepModel::step_s(double decodes, double decode_context, double prefill_tokens, double prefill_position) const {
  const double tokens = decodes + prefill_tokens;
  if (tokens <= 0) return {0, 0, 0};
  const ModelShape& s = m_w->shape;
  Pass pass;
  const double mean_context = decodes > 0 ? decode_context / decodes : 0;
  pass.flops = tokens * 2.0 * m_matmul_params +
               m_attn_flops * (decodes * attended_tokens_all_layers(s, mean_context) +
                               prefill_tokens * attended_tokens_all_layers(s, prefill_position));
  pass.bytes = weight_bytes_read(*m_w, m_p.effective, *m_a, tokens) + decode_context * m_kv_per_token;
  // Mixed steps: the prefill tokens fill the GEMM tiles; a decode-only step runs skinny kernels.
  pass.tokens = prefill_tokens > 0 ? tokens : 0;
  pass.fixed_s = m_fixed_s + 2.0 * s.num_layers * allreduce_s(m_link, m_count, tokens * s.hidden_size * m_act_bytes);
  return pass_time(pass, m_peak, m_bandwidth, Fractions{m_compute, m_memory}, m_half_tokens, nullptr);
}

CostEstimate estimate_cost(const Workload& w, const PerfEstimate& perf, const Gpu& gpu, int count,
                           std::string_view provider) {
  CostEstimate c;
  const Price* price = gpu.price(provider);
  if (!price) return c;
  c.priced = true;
  c.price = *price;
  c.usd_per_hour = price->usd_per_hour * count;
  c.job_usd = scale(perf.job_s, c.usd_per_hour / 3600.0);
  (void)w;
  if (perf.seconds_per_item.expected > 0) c.usd_per_item = scale(perf.seconds_per_item, c.usd_per_hour / 3600.0);
  // Per million tokens of the job's unit: generated tokens (LLM inference), tokens embedded (embedding).
  if (perf.job_tokens > 0) c.usd_per_million_tokens = scale(c.job_usd, 1e6 / perf.job_tokens);
  return c;
}

} // namespace gpuadvise
