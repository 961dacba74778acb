#include <gpuadvise/explain.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gpuadvise {
namespace {

std::string gb(double bytes) { return fmt::format("{:.2f} GB", bytes / 1e9); }
std::string num(double v) {
  if (v != 0 && (std::abs(v) >= 1e6 || std::abs(v) < 1e-3)) return fmt::format("{:.4g}", v);
  return v == std::floor(v) ? fmt::format("{:.0f}", v) : fmt::format("{:.4g}", v);
}

std::string source_of(const Gpu& gpu, const std::string& field) {
  auto it = gpu.sources.find(field);
  return fmt::format("{} {}: {}", gpu.id, field, it == gpu.sources.end() || it->second.empty() ? "(no source given)" : it->second);
}

} // namespace

std::vector<ExplainTerm> explain(const Workload& w, const Candidate& c, const Assumptions& a) {
  std::vector<ExplainTerm> t;
  const Gpu& gpu = *c.gpu;
  const auto& s = w.shape;
  const int n = c.count;
  const std::string shape_source = fmt::format("model shape: {} ({})", s.name, s.source);

  t.push_back({"params_total",
               w.origin == ModelOrigin::bare_size ? "as given (--model)" : "embeddings + layers x (attention + MLP + norms) + final norm",
               w.origin == ModelOrigin::bare_size
                   ? fmt::format("{}", w.model_text)
                   : fmt::format("{} layers, hidden {}, {} heads / {} KV heads x {}, MLP {}, vocab {}{}", s.num_layers,
                                 s.hidden_size, s.num_attention_heads, s.num_kv_heads, s.head_dim, s.intermediate_size,
                                 s.vocab_size, s.moe ? fmt::format(", {} experts top-{}", s.moe->num_experts, s.moe->experts_per_token) : ""),
               w.params_total, "parameters", {shape_source}});
  if (c.training) {
    const auto& m = c.training->memory;
    const auto& p = c.training->plan;
    t.push_back({"plan", "tensor x pipeline x data parallel", fmt::format("TP {} x PP {} x DP {}", p.tp, p.pp, p.dp),
                 static_cast<double>(p.gpus()), "GPUs", {"docs/training.md"}});
    for (const auto& [name, value] : {std::pair<const char*, double>{"weights_bytes", m.weights_bytes},
                                      {"gradients_bytes", m.gradients_bytes}, {"optimizer_bytes", m.optimizer_bytes},
                                      {"activation_bytes", m.activation_bytes}, {"overhead_bytes", m.overhead_bytes},
                                      {"total_bytes", m.total_bytes}})
      t.push_back({name, "per GPU, docs/training.md", gb(value), value, "bytes", {"docs/training.md"}});
    t.push_back({"tokens_per_s", "tokens per step / step time", fmt::format("{} / {:.3f} s", num(c.training->perf.tokens_per_step),
                                                                             c.training->perf.step_s.expected),
                 c.training->perf.tokens_per_s.expected, "tokens/s", {a.fraction("mfu", gpu.architecture, w.precision).source}});
    return t;
  }

  const auto& m = c.memory;
  const Precision p = c.precision.effective;
  const int group = w.group_size > 0 ? w.group_size : a.int4_group_size;
  t.push_back({"weights_bytes", "((params - embedding params) x bytes/param + embedding params x embedding bytes) / GPUs",
               fmt::format("(({} - {}) x {} B + {} x {} B) / {} = {}", num(w.params_total), num(w.params_embedding),
                           num(weight_bytes_per_param(p, group)), num(w.params_embedding),
                           num(embedding_bytes_per_param(p, group)), n, gb(m.weights_bytes)),
               m.weights_bytes, "bytes", {fmt::format("{} format: docs/formulas.md section 2b", to_string(p))}});
  const double kv_bpe = kv_bytes_per_element(c.precision.kv_effective);
  const double kv_split = std::min<double>(n, s.mla ? 1 : s.num_kv_heads);
  const std::string window = s.sliding_window > 0 ? fmt::format(" ({} of {} layers capped at a {}-token window)",
                                                                s.sliding_layer_count(), s.num_layers, s.sliding_window)
                                                  : "";
  t.push_back({"kv_cache_bytes",
               s.mla ? "layers x (kv_lora_rank + rope dim) x bytes x tokens x sequences / GPUs"
                     : "2 x layers x KV heads x head dim x bytes x tokens x sequences / GPUs",
               s.mla ? fmt::format("{} x ({} + {}) x {} B x {} x {} / {} = {}", s.num_layers, s.mla->kv_lora_rank,
                                   s.mla->qk_rope_head_dim, num(kv_bpe), w.context, c.batch, num(kv_split), gb(m.kv_cache_bytes))
                     : fmt::format("2 x {} layers x {} KV heads x {} x {} B x {} tokens x {}{} / {} = {}", s.num_layers,
                                   s.num_kv_heads, s.head_dim, num(kv_bpe), w.context, c.batch, window, num(kv_split),
                                   gb(m.kv_cache_bytes)),
               m.kv_cache_bytes, "bytes", {shape_source}});
  t.push_back({"activation_bytes", "(min(batch x context, max batched tokens) x (4h + (a + 2k) d + 3 f) x 2 B + logits) / GPUs",
               fmt::format("(min({} x {}, {}) x (4 x {} + {} x {} + 3 x {}) x 2 B + {} x {} x 4 B) / {} = {}", c.batch, w.context,
                           num(a.max_batched_tokens), s.hidden_size, s.num_attention_heads + 2 * s.num_kv_heads, s.head_dim,
                           s.moe ? (s.moe->experts_per_token + s.moe->num_shared_experts) * s.moe->expert_intermediate_size
                                 : s.intermediate_size,
                           std::min<std::int64_t>(c.batch, 256), s.vocab_size, n, gb(m.activation_bytes)),
               m.activation_bytes, "bytes", {a.max_batched_tokens_source}});
  t.push_back({"overhead_bytes", "runtime overhead per GPU", gb(m.overhead_bytes), m.overhead_bytes, "bytes",
               {a.runtime_overhead_source}});
  t.push_back({"total_bytes", "weights + KV cache + activations + overhead",
               fmt::format("{} + {} + {} + {} = {}", gb(m.weights_bytes), gb(m.kv_cache_bytes), gb(m.activation_bytes),
                           gb(m.overhead_bytes), gb(m.total_bytes)),
               m.total_bytes, "bytes", {}});
  t.push_back({"usable_bytes", "memory utilization x allocatable",
               fmt::format("{} x {} = {}", w.memory_utilization, gb(m.allocatable_bytes), gb(m.usable_bytes)), m.usable_bytes,
               "bytes",
               {source_of(gpu, gpu.allocatable_measured ? "memory_allocatable_mib" : "memory_gb")}});

  const auto& perf = c.performance;
  const Range& bw = a.fraction("bandwidth", gpu.architecture, p);
  const Range& fl = a.fraction("compute", gpu.architecture, p);
  const Runtime& runtime = a.runtime(runtime_for(w, a));
  t.push_back({"decode_bytes_per_step", "weights read + sequences x KV cache at the mean position",
               fmt::format("{} per step over {} GPU(s)", gb(perf.decode_bytes_per_step), n), perf.decode_bytes_per_step,
               "bytes", {}});
  const double peak = gpu.peak_flops(compute_format(p));
  t.push_back({"decode_step_s",
               "max(bytes / (GPUs x bandwidth x eta_bw), FLOPs / (GPUs x peak x eta_c)) + step overhead + layers x layer "
               "overhead + all-reduces",
               fmt::format("max({} / ({} x {:.0f} GB/s x {}), {} / ({} x {:.1f} TFLOPS x {})) + {:.2f} ms + {} x {:.0f} us + "
                           "{:.3f} ms = {:.3f} ms",
                           gb(perf.decode_bytes_per_step), n, gpu.bandwidth_bytes_per_s / 1e9,
                           num(bw.expected * runtime.bandwidth_scale), num(perf.decode_flops_per_step), n, peak / 1e12,
                           num(fl.expected * runtime.compute_scale), runtime.step_overhead_s * 1e3, s.num_layers,
                           runtime.layer_overhead_s * 1e6, perf.communication_s_per_step * 1e3,
                           perf.decode_step_s.expected * 1e3),
               perf.decode_step_s.expected, "s",
               {source_of(gpu, "memory_bandwidth_gb_per_s"), source_of(gpu, "dense_tflops." + std::string(to_string(compute_format(p)))),
                "eta_bw: " + bw.source, "eta_c: " + fl.source, runtime.name + ": " + runtime.source}});
  t.push_back({"decode_tokens_per_s", "sequences / step time",
               fmt::format("{} / {:.3f} ms = {:.1f}", c.batch, perf.decode_step_s.expected * 1e3, perf.decode_tokens_per_s.expected),
               perf.decode_tokens_per_s.expected, "tokens/s", {}});
  t.push_back({"prefill_flops_per_token", "2 x matmul params + 4 x heads x head dim x attended positions (all layers)",
               num(perf.prefill_flops_per_token), perf.prefill_flops_per_token, "FLOP", {}});
  t.push_back({"prefill_tokens_per_s", "prompt tokens / prefill time (compute-bound, GEMM fill M / (M + 64))",
               fmt::format("{:.0f}", perf.prefill_tokens_per_s.expected), perf.prefill_tokens_per_s.expected, "tokens/s",
               {a.gemm_half_tokens_source}});
  t.push_back({"job_seconds", "waves x (prefill of the batch + output tokens x decode step)",
               fmt::format("{} requests in waves of {}: prefill {:.1f} s + decode {:.1f} s = {:.1f} s", w.requests, c.batch,
                           perf.prefill_job_s.expected, perf.decode_job_s.expected, perf.job_s.expected),
               perf.job_s.expected, "s", {}});
  if (c.cost.priced) {
    t.push_back({"usd_per_hour", "price per GPU-hour x GPUs",
                 fmt::format("{} x {} = {}", format_usd(c.cost.price.usd_per_hour), n, format_usd(c.cost.usd_per_hour)),
                 c.cost.usd_per_hour, "USD/h",
                 {fmt::format("{} {} price of {}: {}", c.cost.price.provider_name, c.cost.price.tier, c.cost.price.date,
                              c.cost.price.source)}});
    t.push_back({"job_usd", "job hours x $/hr",
                 fmt::format("{:.4f} h x {} = {}", perf.job_s.expected / 3600, format_usd(c.cost.usd_per_hour),
                             format_usd(c.cost.job_usd.expected)),
                 c.cost.job_usd.expected, "USD", {}});
    t.push_back({"usd_per_million_tokens", "job $ / (requests x output tokens / 10^6)",
                 fmt::format("{} / ({} x {} / 1e6) = {}", format_usd(c.cost.job_usd.expected), w.requests, w.output_tokens,
                             format_usd(c.cost.usd_per_million_tokens.expected)),
                 c.cost.usd_per_million_tokens.expected, "USD", {}});
  }
  return t;
}

void write_explain_text(std::ostream& out, const Candidate& c, const std::vector<ExplainTerm>& terms) {
  out << fmt::format("\nExplain: {}\n", c.plan_text());
  for (const auto& term : terms) {
    out << fmt::format("  {}\n    = {}\n    = {}\n", term.name, term.formula, term.substituted);
    for (const auto& source : term.sources) out << "    source: " << source << "\n";
  }
}

nlohmann::json explain_json(const std::vector<ExplainTerm>& terms) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& t : terms)
    list.push_back({{"name", t.name}, {"formula", t.formula}, {"substituted", t.substituted}, {"value", t.value},
                    {"unit", t.unit}, {"sources", t.sources}});
  return list;
}

} // namespace gpuadvise
