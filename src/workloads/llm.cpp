// The LLM kind: inference parts (memory per GPU, decode, prefill, job) and training-plan parts. The
// estimators themselves are in src/estimate.cpp (inference) and src/training.cpp (training).
#include "../generative_estimate.hpp"

#include <gpuadvise/model_files.hpp>
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gpuadvise::detail {
namespace {

/// Groups the parts an inference explanation lists by what they measure.
void classify_parts(std::vector<Part>& parts) {
  for (auto& part : parts) {
    if (part.group != PartGroup::model) continue;
    if (part.unit == "bytes" && part.name != "decode_bytes_per_step") part.group = PartGroup::memory, part.per = "GPU";
    else if (part.unit == "s" || part.unit == "tokens/s" || part.unit == "FLOP" || part.unit == "bytes") part.group = PartGroup::time;
  }
}

} // namespace

std::vector<Part> llm_parts(const Workload& w, const Candidate& c, const Assumptions& a) {
  if (c.training) return training_parts(w, c, a);
  std::vector<Part> t;
  const Gpu& gpu = *c.gpu;
  const auto& s = w.shape;
  const int n = c.count;  // all GPUs: weights split over tensor-parallel ranks and pipeline stages
  const int tp = c.tp;    // the tensor-parallel group: what one decode step's bandwidth and FLOPs add up over
  const std::string shape_source = fmt::format("model shape: {} ({})", s.name, s.source);

  t.push_back({"params_total",
               w.origin == ModelOrigin::bare_size ? "as given (--model)" : "embeddings + layers x (attention + MLP + norms) + final norm",
               w.origin == ModelOrigin::bare_size
                   ? fmt::format("{}", w.model_text)
                   : fmt::format("{} layers, hidden {}, {} heads / {} KV heads x {}, MLP {}, vocab {}{}", s.num_layers,
                                 s.hidden_size, s.num_attention_heads, s.num_kv_heads, s.head_dim, s.intermediate_size,
                                 s.vocab_size, s.moe ? fmt::format(", {} experts top-{}", s.moe->num_experts, s.moe->experts_per_token) : ""),
               w.params_total, "parameters", {shape_source}});

  const auto& m = c.memory;
  const Precision p = c.precision.effective;
  const int group = w.group_size > 0 ? w.group_size : a.int4_group_size;
  t.push_back({"weights_bytes", "((params - embedding params) x bytes/param + embedding params x embedding bytes) / GPUs",
               fmt::format("(({} - {}) x {} B + {} x {} B) / {} = {}", explain_num(w.params_total), explain_num(w.params_embedding),
                           explain_num(weight_bytes_per_param(p, group)), explain_num(w.params_embedding),
                           explain_num(embedding_bytes_per_param(p, group)), n, explain_gb(m.weights_bytes)),
               m.weights_bytes, "bytes", {fmt::format("{} format: docs/formulas.md section 2b", to_string(p))}});
  const double kv_bpe = kv_bytes_per_element(c.precision.kv_effective);
  // Tensor parallel splits KV heads (copies beyond the KV head count); pipeline stages split the layers.
  const double kv_split = std::min<double>(tp, s.mla ? 1 : s.num_kv_heads) * c.pp;
  const std::string window = s.sliding_window > 0 ? fmt::format(" ({} of {} layers capped at a {}-token window)",
                                                                s.sliding_layer_count(), s.num_layers, s.sliding_window)
                                                  : "";
  t.push_back({"kv_cache_bytes",
               s.mla ? "layers x (kv_lora_rank + rope dim) x bytes x tokens x sequences / GPUs"
                     : "2 x layers x KV heads x head dim x bytes x tokens x sequences / GPUs",
               s.mla ? fmt::format("{} x ({} + {}) x {} B x {} x {} / {} = {}", s.num_layers, s.mla->kv_lora_rank,
                                   s.mla->qk_rope_head_dim, explain_num(kv_bpe), w.context, c.batch, explain_num(kv_split), explain_gb(m.kv_cache_bytes))
                     : fmt::format("2 x {} layers x {} KV heads x {} x {} B x {} tokens x {}{} / {} = {}", s.num_layers,
                                   s.num_kv_heads, s.head_dim, explain_num(kv_bpe), w.context, c.batch, window, explain_num(kv_split),
                                   explain_gb(m.kv_cache_bytes)),
               m.kv_cache_bytes, "bytes", {shape_source}});
  const double act_bpe = activation_bytes_per_element(p);
  if (runtime_for(w, a) == "llamacpp") {
    // llama.cpp's compute buffer (src/models/gguf_mix.cpp): one per GPU of its layer split.
    const double n_ctx = static_cast<double>(c.batch) * static_cast<double>(w.context);
    const auto buffer = llamacpp_compute_buffer(s, n_ctx);
    const double f_active = s.moe ? static_cast<double>(s.moe->experts_per_token) * s.moe->expert_intermediate_size +
                                         s.moe->num_shared_experts * static_cast<double>(s.moe->shared_expert_intermediate_size > 0
                                                                                             ? s.moe->shared_expert_intermediate_size
                                                                                             : s.moe->expert_intermediate_size)
                                   : s.intermediate_size;
    Part part{"activation_bytes",
              "llama.cpp compute buffer: 4 B x ubatch x (3 f + 3 h) (+ 4 B x ubatch x k x h for MoE) + 2 B x n_ctx x ubatch "
              "(KQ mask) + 4 B x vocab (one logits row); flash attention on (llama.cpp's default)",
              fmt::format("4 x {} x (3 x {} + 3 x {}){} + 2 x {} x {} + 4 x {} = {}", explain_num(buffer.n_ubatch),
                          explain_num(f_active), s.hidden_size,
                          s.moe ? fmt::format(" + 4 x {} x {} x {}", explain_num(buffer.n_ubatch), s.moe->experts_per_token, s.hidden_size) : "",
                          explain_num(n_ctx), explain_num(buffer.n_ubatch), s.vocab_size, explain_gb(m.activation_bytes)),
              m.activation_bytes, "bytes",
              {"gguf-parser-go testdata/llamacpp_compute_buffer_sweep.json (measured CUDA compute buffers); docs/model-files.md"}};
    part.range = Span{buffer.low, buffer.expected, buffer.high};
    t.push_back(part);
  } else
  t.push_back({"activation_bytes",
               "(min(batch x context, max batched tokens) x (4h + (a + 2k) d + 3 f) x activation bytes + min(batch, 256) x vocab x 4 B) / GPUs",
               fmt::format("(min({} x {}, {}) x (4 x {} + {} x {} + 3 x {}) x {} B + {} x {} x 4 B) / {} = {}", c.batch, w.context,
                           explain_num(a.max_batched_tokens), s.hidden_size, s.num_attention_heads + 2 * s.num_kv_heads, s.head_dim,
                           s.moe ? (s.moe->experts_per_token + s.moe->num_shared_experts) * s.moe->expert_intermediate_size
                                 : s.intermediate_size,
                           explain_num(act_bpe), std::min<std::int64_t>(c.batch, 256), s.vocab_size, tp, explain_gb(m.activation_bytes)),
               m.activation_bytes, "bytes", {a.max_batched_tokens_source}});
  classify_parts(t);
  append_memory_totals(t, w, c, a);

  const auto& perf = c.performance;
  const Range& bw = a.fraction("bandwidth", gpu.architecture, p);
  const Range& fl = a.fraction("compute", gpu.architecture, p);
  const Runtime& runtime = a.runtime(runtime_for(w, a));
  t.push_back({"decode_bytes_per_step", "weights read + sequences x KV cache at the mean position",
               fmt::format("{} per step over {} GPU(s)", explain_gb(perf.decode_bytes_per_step), tp), perf.decode_bytes_per_step,
               "bytes", {}});
  const double peak = gpu.peak_flops(compute_format(p));
  t.push_back({"decode_step_s",
               "max(bytes / (GPUs x bandwidth x eta_bw), FLOPs / (GPUs x peak x eta_c)) + step overhead + layers x layer "
               "overhead + all-reduces",
               fmt::format("max({} / ({} x {:.0f} GB/s x {}), {} / ({} x {:.1f} TFLOPS x {})) + {:.2f} ms + {} x {:.0f} us + "
                           "{:.3f} ms = {:.3f} ms",
                           explain_gb(perf.decode_bytes_per_step), tp, gpu.bandwidth_bytes_per_s / 1e9,
                           explain_num(bw.expected * runtime.bandwidth_scale), explain_num(perf.decode_flops_per_step), tp, peak / 1e12,
                           explain_num(fl.expected * runtime.compute_scale), runtime.step_overhead_s * 1e3, s.num_layers,
                           runtime.layer_overhead_s * 1e6, perf.communication_s_per_step * 1e3,
                           perf.decode_step_s.expected * 1e3),
               perf.decode_step_s.expected, "s",
               {catalog_source(gpu, "memory_bandwidth_gb_per_s"), catalog_source(gpu, "dense_tflops." + std::string(to_string(compute_format(p)))),
                "eta_bw: " + bw.source, "eta_c: " + fl.source, runtime.name + ": " + runtime.source}});
  t.push_back({"decode_tokens_per_s", "sequences / step time",
               fmt::format("{} / {:.3f} ms = {:.1f}", c.batch, perf.decode_step_s.expected * 1e3, perf.decode_tokens_per_s.expected),
               perf.decode_tokens_per_s.expected, "tokens/s", {}});
  t.push_back({"prefill_flops_per_token", "2 x matmul params + 4 x heads x head dim x attended positions (all layers)",
               explain_num(perf.prefill_flops_per_token), perf.prefill_flops_per_token, "FLOP", {}});
  t.push_back({"prefill_tokens_per_s", "prompt tokens / prefill time (compute-bound, GEMM fill M / (M + 64))",
               fmt::format("{:.0f}", perf.prefill_tokens_per_s.expected), perf.prefill_tokens_per_s.expected, "tokens/s",
               {a.gemm_half_tokens_source}});
  t.push_back({"job_seconds", "waves x (prefill of the batch + output tokens x decode step)",
               fmt::format("{} requests in waves of {}: prefill {:.1f} s + decode {:.1f} s = {:.1f} s", w.requests, c.batch,
                           perf.prefill_job_s.expected, perf.decode_job_s.expected, perf.job_s.expected),
               perf.job_s.expected, "s", {}});
  t.push_back(time_part("time_to_first_token_s", "prefill of one batch of prompts + the first decode step",
                        fmt::format("{} x {} prompt tokens at {:.0f} tok/s + {:.3f} ms = {:.4g} s", c.batch, w.input_tokens,
                                    perf.prefill_tokens_per_s.expected, perf.decode_step_s.expected * 1e3,
                                    perf.time_to_first_token_s.expected),
                        perf.time_to_first_token_s, "s", "request"));
  t.push_back(time_part("decode_tokens_per_s_per_sequence", "1 / decode step time",
                        fmt::format("1 / {:.3f} ms = {:.1f}", perf.decode_step_s.expected * 1e3,
                                    perf.decode_tokens_per_s_per_sequence.expected),
                        perf.decode_tokens_per_s_per_sequence, "tokens/s", "sequence"));
  t.push_back(time_part("prefill_seconds", "waves x prefill of one batch", fmt::format("{:.1f} s", perf.prefill_job_s.expected),
                        perf.prefill_job_s, "s", "job"));
  t.push_back(time_part("decode_seconds", "waves x output tokens x decode step", fmt::format("{:.1f} s", perf.decode_job_s.expected),
                        perf.decode_job_s, "s", "job"));
  t.push_back(time_part("communication_s_per_step", "tensor-parallel all-reduces per decode step: 2 x layers x ring all-reduce",
                        fmt::format("{:.4g} ms over {} GPU(s)", perf.communication_s_per_step * 1e3, tp),
                        {perf.communication_s_per_step, perf.communication_s_per_step, perf.communication_s_per_step}, "s", "step"));
  classify_parts(t);
  // The ranges of the estimator's spans, on the parts that state them.
  for (auto& part : t) {
    const Span* span = part.name == "decode_step_s"          ? &perf.decode_step_s
                       : part.name == "decode_tokens_per_s"  ? &perf.decode_tokens_per_s
                       : part.name == "prefill_tokens_per_s" ? &perf.prefill_tokens_per_s
                       : part.name == "job_seconds"          ? &perf.job_s
                                                             : nullptr;
    if (span) part.range = *span;
  }
  append_cost_parts(t, w, c);
  return t;
}


std::vector<Part> training_parts(const Workload& w, const Candidate& c, const Assumptions& a) {
  const TrainingCandidate& tc = *c.training;
  const TrainingMemory& m = tc.memory;
  const TrainingPerf& perf = tc.perf;
  const ParallelPlan& plan = tc.plan;
  const TrainingSetup& s = tc.setup;
  const Gpu& gpu = *c.gpu;
  const StateBytes state = state_bytes_per_param(s.optimizer, s.deepspeed_fp32_grads, w.precision == Precision::fp32);
  const bool adapters = s.task == Task::lora || s.task == Task::qlora;
  const std::string shards = fmt::format("TP {} x PP {}{}", plan.tp, plan.pp, s.zero_stage >= 1 ? fmt::format(" x ZeRO-{} over DP {}", s.zero_stage, plan.dp) : "");
  std::vector<Part> t;
  t.push_back({"params_total", "embeddings + layers x (attention + MLP + norms) + final norm",
               fmt::format("{} ({})", explain_num(w.params_total), w.shape.name), w.params_total, "parameters",
               {fmt::format("model shape: {} ({})", w.shape.name, w.shape.source)}, PartGroup::model, "", {}});
  t.push_back({"plan", "tensor x pipeline x data parallel", fmt::format("TP {} x PP {} x DP {}", plan.tp, plan.pp, plan.dp),
               static_cast<double>(plan.gpus()), "GPUs", {"docs/training.md"}, PartGroup::model, "", {}});
  t.push_back({"trainable_params", adapters ? "LoRA: sum over layers and targets of rank x (d_in + d_out)" : "every parameter",
               adapters ? fmt::format("rank {} on {}", s.lora_rank, fmt::join(s.lora_targets, ", ")) : explain_num(m.trainable_params),
               m.trainable_params, "parameters", {"docs/training.md"}, PartGroup::model, "", {}});
  t.push_back(memory_part("weights_bytes", "model weights in their stored format / (TP x PP) (ZeRO-3: / DP too)",
                          fmt::format("{} params in {} / ({}) = {}", explain_num(w.params_total),
                                      s.task == Task::qlora ? "NF4" : std::string(to_string(w.precision)), shards,
                                      explain_gb(m.weights_bytes)),
                          m.weights_bytes, {"docs/training.md"}));
  t.push_back(memory_part("gradients_bytes", "trainable params x gradient bytes / shards",
                          fmt::format("{} x {} B / ({}) = {}", explain_num(m.trainable_params), explain_num(state.gradients), shards,
                                      explain_gb(m.gradients_bytes)),
                          m.gradients_bytes, {"docs/training.md"}));
  t.push_back(memory_part("optimizer_bytes", "trainable params x (fp32 master + moments) bytes / shards, 0 when offloaded",
                          fmt::format("{} x ({} + {}) B / ({}){} = {}", explain_num(m.trainable_params), explain_num(state.master),
                                      explain_num(state.moments), shards, s.offload_optimizer ? ", offloaded to CPU" : "",
                                      explain_gb(m.optimizer_bytes)),
                          m.optimizer_bytes, {fmt::format("{} optimizer: docs/training.md", to_string(s.optimizer))}));
  t.push_back(memory_part("activation_bytes",
                          "micro-batches in flight x layers per stage x stored activations per layer (Korthikanti et al. 2022) + logits",
                          fmt::format("micro-batch {} x {} tokens, {} recompute, {} layers / PP {} = {}", s.micro_batch, s.sequence,
                                      to_string(s.recompute), w.shape.num_layers, plan.pp, explain_gb(m.activation_bytes)),
                          m.activation_bytes, {"Korthikanti et al. 2022, docs/training.md"}));
  if (s.stack) {
    const StackProfile& st = stack_profile(*s.stack);
    const std::string sources = fmt::format("{} stack: docs/training.md, \"Training stacks\"", st.name);
    const double tokens = static_cast<double>(s.micro_batch) * static_cast<double>(s.sequence);
    const LossKind loss = s.compiled && s.loss.value_or(st.loss) == LossKind::fp32_chunked ? LossKind::fused : s.loss.value_or(st.loss);
    t.push_back({"stack", "the trainer whose memory behaviour is modelled",
                 fmt::format("{}{} ({})", st.name, s.stack_chosen ? ", the default for this task" : "", st.description), 1.0,
                 "stack", {sources}, PartGroup::model, "", {}});
    t.push_back({"peak_moment", "the moment of the step with the most memory allocated: loss backward | last layer backward | optimizer step",
                 m.peak_moment, 1.0, "moment", {"docs/training.md, \"Peak memory as the trainer reaches it\""}, PartGroup::model, "", {}});
    t.push_back(memory_part("logits_bytes", "micro-batch x sequence x vocabulary x loss bytes / TP (0 unless the peak is the loss backward)",
                            fmt::format("{} x {} x {} x {} B ({}) = {} at the peak", s.micro_batch, s.sequence, w.shape.vocab_size,
                                        explain_num(loss_bytes_per_logit(loss)), to_string(loss), explain_gb(m.logits_bytes)),
                            m.logits_bytes, {sources}));
    t.push_back(memory_part("recompute_bytes", "one layer's activations rebuilt during backward (checkpointing)",
                            fmt::format("{} tokens, checkpointing {} = {}", explain_num(tokens),
                                        to_string(s.checkpointing.value_or(s.task == Task::lora || s.task == Task::qlora
                                                                               ? st.checkpointing_adapter
                                                                               : st.checkpointing_full)),
                                        explain_gb(m.recompute_bytes)),
                            m.recompute_bytes, {sources}));
    t.push_back(memory_part("in_flight_bytes",
                            "FSDP/ZeRO-3: 2 unsharded units (computing + prefetched) + their gradients; QLoRA: one dequantized "
                            "h x f projection in 16 bits; autocast: 16-bit copies of fp32 weights",
                            explain_gb(m.in_flight_bytes), m.in_flight_bytes, {sources}));
    t.push_back(memory_part("step_bytes", "optimizer step: torch AdamW multi-tensor temporaries, one moment-sized tensor per parameter",
                            explain_gb(m.step_bytes), m.step_bytes, {sources}));
    t.push_back(memory_part("bucket_bytes", "DDP gradient buckets: a flat copy of every gradient", explain_gb(m.bucket_bytes),
                            m.bucket_bytes, {sources}));
    t.push_back(memory_part("reserve_bytes", "PyTorch allocated peak x allocator reserve fraction (reserved - allocated)",
                            fmt::format("{} x {} = {}; reserved {}", explain_gb(m.allocated_bytes),
                                        explain_num(allocator_reserve_fraction(*s.stack).expected), explain_gb(m.reserve_bytes),
                                        explain_gb(m.reserved_bytes)),
                            m.reserve_bytes, {"docs/training.md, \"Allocator reserve\""}));
    t.push_back(memory_part("managed_bytes", "paged optimizer moments in CUDA managed memory (on the GPU until evicted; not in PyTorch's counters)",
                            explain_gb(m.managed_bytes), m.managed_bytes, {"bitsandbytes paged optimizers"}));
    t.push_back({"largest_micro_batch", "largest micro-batch whose peak fits the usable memory at this plan",
                 fmt::format("{} sequences of {} tokens", m.largest_micro_batch, s.sequence),
                 static_cast<double>(m.largest_micro_batch), "sequences", {"docs/training.md"}, PartGroup::model, "", {}});
    t.push_back({"longest_sequence", "longest sequence whose peak fits at micro-batch 1 at this plan",
                 fmt::format("{} tokens", m.longest_sequence), static_cast<double>(m.longest_sequence), "tokens",
                 {"docs/training.md"}, PartGroup::model, "", {}});
  }
  if (s.stack) {
    // The generic parts above describe the generic accounting; with a stack, say what the values are.
    const StackProfile& st = stack_profile(*s.stack);
    const Checkpointing ck = s.checkpointing.value_or(adapters ? st.checkpointing_adapter : st.checkpointing_full);
    for (auto& part : t) {
      if (part.name == "gradients_bytes") {
        part.formula = "gradients alive at the peak's moment (none before backward unless kept across steps; the largest one "
                       "with optimizer-in-backward), in the stack's format, sharded";
        part.substituted = fmt::format("{} at the {}", explain_gb(m.gradients_bytes), m.peak_moment);
      } else if (part.name == "optimizer_bytes") {
        part.formula = "trainable params x (master copy + moments) in the stack's formats / shards; paged moments are in managed_bytes";
        part.substituted = fmt::format("{} params, {} = {}", explain_num(m.trainable_params), to_string(s.optimizer),
                                       explain_gb(m.optimizer_bytes));
      } else if (part.name == "activation_bytes") {
        part.formula = "layers x tokens x bytes each layer keeps under the stack's checkpointing (0 at the optimizer step)";
        part.substituted = fmt::format("micro-batch {} x {} tokens, checkpointing {}, {} layers / PP {} = {}", s.micro_batch,
                                       s.sequence, to_string(ck), w.shape.num_layers, plan.pp, explain_gb(m.activation_bytes));
        part.sources = {fmt::format("{} stack: docs/training.md section 2b", st.name)};
      }
    }
  }
  append_memory_totals(t, w, c, a);
  if (!tc.found) return t; // no plan fits: the memory above is the closest miss, and there is no speed to explain
  const Precision compute = gpu.bf16_support ? Precision::bf16 : Precision::fp16;
  const Range& mfu = a.fraction("mfu", gpu.architecture, compute);
  t.push_back({"flops_per_token", "6N + 12 L a d s (8N + 16 L a d s with full recompute; adapters: 4N + 6 x trainable)",
               explain_num(perf.flops_per_token), perf.flops_per_token, "FLOP", {"Chowdhery et al. 2022, appendix B"},
               PartGroup::time, "training token", {}});
  if (perf.component_model) {
    // A training stack: the step's compute is GEMM + attention + elementwise time (docs/training.md section 3b).
    const Precision gemm_format = s.fp8_linears ? Precision::fp8 : compute;
    t.push_back(time_part(
        "step_seconds",
        "tokens per step / GPUs x (matmul FLOPs / (peak x GEMM eff.) + causal attention FLOPs / (peak x attention eff.) + "
        "elementwise bytes / (bandwidth x elementwise eff.)) / (1 - bubble) + TP + PP + exposed DP + optimizer + offload",
        fmt::format("{} / {} x ({} / ({:.0f} TFLOPS x {}) + {} / ({:.0f} TFLOPS x {}) + {} B / ({:.0f} GB/s x {})) / (1 - {:.3f}) "
                    "+ {:.4f} + {:.4f} + DP {:.4f} (overlapped with backward) + {:.4f} + {:.4f} s = {:.3f} s (MFU {:.0f}%)",
                    explain_num(perf.tokens_per_step), plan.gpus(), explain_num(perf.gemm_flops_per_token),
                    gpu.peak_flops(gemm_format) / 1e12, explain_num(perf.gemm_efficiency),
                    explain_num(perf.attention_flops_per_token), gpu.peak_flops(compute) / 1e12,
                    explain_num(perf.attention_efficiency), explain_num(perf.elementwise_bytes_per_token),
                    gpu.bandwidth_bytes_per_s / 1e9, explain_num(perf.elementwise_bandwidth), perf.bubble_fraction,
                    perf.tp_communication_s, perf.pp_communication_s, perf.dp_communication_s, perf.optimizer_s,
                    perf.offload_s, perf.step_s.expected, perf.mfu.expected * 100),
        perf.step_s, "s", "step",
        {catalog_source(gpu, "dense_tflops." + std::string(to_string(gemm_format))),
         "GEMM: " + a.fraction("train_gemm", gpu.architecture, gemm_format).source,
         "elementwise: " + a.fraction("train_elementwise", gpu.architecture, compute).source,
         "docs/training.md section 3b"}));
  } else
  t.push_back(time_part("step_seconds",
                        "tokens per step x FLOPs per token / (GPUs x peak x MFU) / (1 - bubble) + TP + PP + DP communication + offload",
                        fmt::format("{} x {} / ({} x {:.1f} TFLOPS x {}) / (1 - {:.3f}) + {:.4f} + {:.4f} + {:.4f} + {:.4f} s = {:.3f} s",
                                    explain_num(perf.tokens_per_step), explain_num(perf.flops_per_token), plan.gpus(),
                                    gpu.peak_flops(compute) / 1e12, explain_num(mfu.expected), perf.bubble_fraction,
                                    perf.tp_communication_s, perf.pp_communication_s, perf.dp_communication_s, perf.offload_s,
                                    perf.step_s.expected),
                        perf.step_s, "s", "step",
                        {catalog_source(gpu, "dense_tflops." + std::string(to_string(compute))), "MFU: " + mfu.source}));
  t.push_back(time_part("tokens_per_s", "tokens per step / step time",
                        fmt::format("{} / {:.3f} s = {:.0f}", explain_num(perf.tokens_per_step), perf.step_s.expected,
                                    perf.tokens_per_s.expected),
                        perf.tokens_per_s, "tokens/s", "s"));
  t.push_back(time_part("job_seconds", "training tokens / tokens per second",
                        fmt::format("{} / {:.0f} = {:.0f} s", explain_num(tc.train_tokens), perf.tokens_per_s.expected,
                                    tc.hours.expected * 3600),
                        {tc.hours.low * 3600, tc.hours.expected * 3600, tc.hours.high * 3600}, "s", "job"));
  append_cost_parts(t, w, c);
  return t;
}

} // namespace gpuadvise::detail
