#include <gpuadvise/error.hpp>
#include <gpuadvise/training.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace gpuadvise {
namespace {

/// Lower-case with '-' and '_' removed, for lenient matching of option values.
std::string normalised(std::string_view text) {
  std::string out;
  for (const char c : text)
    if (c != '-' && c != '_' && c != ' ') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

/// A LoRA target projection, by its canonical name.
enum class Projection { q, k, v, o, gate, up, down };

Projection parse_projection(std::string_view text) {
  std::string name = normalised(text);
  if (name.size() > 4 && name.ends_with("proj")) name.resize(name.size() - 4);
  if (name == "q") return Projection::q;
  if (name == "k") return Projection::k;
  if (name == "v") return Projection::v;
  if (name == "o") return Projection::o;
  if (name == "gate") return Projection::gate;
  if (name == "up") return Projection::up;
  if (name == "down") return Projection::down;
  throw InputError(fmt::format("unknown LoRA target '{}': expected some of q, k, v, o, gate, up, down", text));
}

/// MLP width of one layer: dense width, or (routed top-k + shared) x expert width in a MoE layer.
double active_mlp_width(const ModelShape& s, int layer) {
  if (s.moe && layer >= s.moe->first_dense_layers)
    return static_cast<double>(s.moe->experts_per_token + s.moe->num_shared_experts) * s.moe->expert_intermediate_size;
  if (s.moe && s.moe->dense_intermediate_size > 0) return s.moe->dense_intermediate_size;
  return s.intermediate_size;
}

/// Widths of the attention projections' outputs (q, k, v) and of the output projection's input.
struct AttentionWidths {
  double q = 0;
  double k = 0;
  double v = 0;
  double o_in = 0;
};

AttentionWidths attention_widths(const ModelShape& s) {
  const double a = s.num_attention_heads;
  if (s.mla) {
    // MLA: per-head q/k of nope + rope dims and v of v_head_dim, after decompression.
    const double qk = a * (s.mla->qk_nope_head_dim + s.mla->qk_rope_head_dim);
    return {qk, qk, a * s.mla->v_head_dim, a * s.mla->v_head_dim};
  }
  const double q = a * s.head_dim;
  const double kv = static_cast<double>(s.num_kv_heads) * s.head_dim;
  return {q, kv, kv, q};
}

/// Why a plan is invalid for the shape; empty when it is valid.
std::string plan_problem(const ModelShape& shape, const ParallelPlan& plan) {
  if (plan.tp < 1 || plan.pp < 1 || plan.dp < 1)
    return fmt::format("parallel degrees must be >= 1 (tp={}, pp={}, dp={})", plan.tp, plan.pp, plan.dp);
  if (shape.num_layers % plan.pp != 0)
    return fmt::format("pipeline degree {} does not divide the {} layers", plan.pp, shape.num_layers);
  if (shape.num_attention_heads % plan.tp != 0)
    return fmt::format("tensor-parallel degree {} does not divide the {} attention heads", plan.tp,
                       shape.num_attention_heads);
  const int kv = shape.mla ? shape.num_attention_heads : shape.num_kv_heads;
  if (kv > 0 && kv % plan.tp != 0 && plan.tp % kv != 0)
    return fmt::format("tensor-parallel degree {} neither divides nor is a multiple of the {} KV heads", plan.tp, kv);
  return {};
}

void validate_setup(const TrainingSetup& s) {
  if (s.micro_batch < 1) throw InputError(fmt::format("micro-batch must be >= 1, got {}", s.micro_batch));
  if (s.sequence < 1) throw InputError(fmt::format("sequence length must be >= 1, got {}", s.sequence));
  if (s.zero_stage < 0 || s.zero_stage > 3) throw InputError(fmt::format("ZeRO stage must be 0-3, got {}", s.zero_stage));
  if (s.gradient_accumulation < 0)
    throw InputError(fmt::format("gradient accumulation must be >= 0, got {}", s.gradient_accumulation));
  if ((s.task == Task::lora || s.task == Task::qlora) && s.lora_rank < 1)
    throw InputError(fmt::format("LoRA rank must be >= 1, got {}", s.lora_rank));
  for (const auto& t : s.lora_targets) parse_projection(t);
}

bool is_adapter(Task t) { return t == Task::lora || t == Task::qlora; }

/// Across nodes a ring is as slow as its slowest hop: the NIC, or the intra-node link feeding it.
Link network_link(const Gpu& gpu, const Cluster& c) {
  const Link inside = intra_node_link(gpu, c.gpus_per_node);
  return {std::min(c.node_network_bytes_per_s, inside.bytes_per_s), 20e-6, false};
}

/// Parameters of the fullest pipeline stage: the layers' share plus one embedding-sized table
/// (the first stage holds the input embedding, the last the LM head; tied tables are held by both).
double stage_params(const Workload& w, int pp) {
  if (pp == 1) return w.params_total;
  const double table = w.shape.tie_word_embeddings ? w.params_embedding : w.params_embedding / 2;
  return (w.params_total - w.params_embedding) / pp + table;
}

/// What one GPU holds of the model's trainable and frozen state.
struct ModelState {
  double weights_bytes = 0;
  double gradients_bytes = 0;
  double optimizer_bytes = 0;
  double offloaded_bytes = 0;
  double trainable_params = 0;      ///< whole model
  double trainable_per_gpu = 0;     ///< after tp and pp, before ZeRO
  double gradient_wire_bytes = 0;   ///< bytes per gradient element on the wire
};

ModelState model_state(const Workload& w, const TrainingSetup& s, const ParallelPlan& plan, const Assumptions& a) {
  ModelState m;
  const double share = stage_params(w, plan.pp) / w.params_total / plan.tp; // fraction of the model on one GPU
  const double dp = plan.dp;
  const double shard_optimizer = s.zero_stage >= 1 ? dp : 1;
  const double shard_gradients = s.zero_stage >= 2 ? dp : 1;
  const double shard_weights = s.zero_stage >= 3 ? dp : 1;
  double frozen_bytes = 0;
  bool fp32 = false;
  if (is_adapter(s.task)) {
    m.trainable_params = lora_trainable_params(w.shape, s.lora_rank, s.lora_targets);
    if (s.task == Task::qlora)
      frozen_bytes = (w.params_total - w.params_embedding) * nf4_bytes_per_param(s.double_quant) + w.params_embedding * 2.0;
    else
      frozen_bytes = weight_bytes(w, w.precision, a.int4_group_size);
    m.trainable_per_gpu = m.trainable_params / plan.pp / plan.tp;
  } else {
    if (is_quantized(w.precision))
      throw InputError(fmt::format("full training needs 16- or 32-bit weights, not {}; use the qlora task",
                                   to_string(w.precision)));
    fp32 = w.precision == Precision::fp32;
    m.trainable_params = w.params_total;
    m.trainable_per_gpu = w.params_total * share;
  }
  const StateBytes b = state_bytes_per_param(s.optimizer, s.deepspeed_fp32_grads, fp32);
  m.weights_bytes = (frozen_bytes * share + m.trainable_per_gpu * b.weights) / shard_weights;
  m.gradients_bytes = m.trainable_per_gpu * b.gradients / shard_gradients;
  const double optimizer = m.trainable_per_gpu * (b.master + b.moments) / shard_optimizer;
  (s.offload_optimizer ? m.offloaded_bytes : m.optimizer_bytes) = optimizer;
  m.gradient_wire_bytes = fp32 || s.deepspeed_fp32_grads ? 4.0 : 2.0;
  return m;
}

/// LoRA adapter intermediates (x A, r wide, 16-bit) per token per layer.
double adapter_activation_bytes_per_token(const TrainingSetup& s) {
  return is_adapter(s.task) ? 2.0 * s.lora_rank * static_cast<double>(s.lora_targets.size()) : 0.0;
}

/// Stored activations of the fullest stage: the first holds min(m, pp) micro-batches in flight under
/// 1F1B, the last one micro-batch plus the fp32 logits. Full recomputation adds one layer's
/// activations rebuilt during backward.
double stage_activation_bytes(const ModelShape& shape, const TrainingSetup& s, const ParallelPlan& plan, int m) {
  const int per_stage = shape.num_layers / plan.pp;
  TrainingSetup rebuilt = s;
  rebuilt.recompute = Recompute::selective;
  auto stage = [&](int first, double in_flight) {
    double stored = 0;
    double working = 0;
    for (int layer = first; layer < first + per_stage; ++layer) {
      stored += activation_bytes_per_layer(shape, s, plan.tp, layer);
      if (s.recompute == Recompute::full) working = std::max(working, activation_bytes_per_layer(shape, rebuilt, plan.tp, layer));
    }
    return stored * in_flight + working;
  };
  // Cross-entropy on fp32 logits, vocabulary-parallel over the tensor-parallel group.
  const double logits = static_cast<double>(s.micro_batch) * static_cast<double>(s.sequence) * shape.vocab_size * 4.0 / plan.tp;
  const double last = stage(shape.num_layers - per_stage, 1) + logits;
  if (plan.pp == 1) return last;
  return std::max(stage(0, std::min(m, plan.pp)), last);
}


/// Whether a projection's input must be saved: its weight trains (full training) or it has an adapter.
bool projection_trains(const TrainingSetup& s, Projection p) {
  // Full training, and QLoRA: bitsandbytes' MatMul4Bit saves the input of every 4-bit projection.
  if (!is_adapter(s.task) || s.task == Task::qlora) return true;
  for (const auto& t : s.lora_targets)
    if (parse_projection(t) == p) return true;
  return false;
}

/// Input width of a projection (for LoRA's dropout copy of its input).
double projection_input_width(const ModelShape& shape, Projection p, int layer) {
  const AttentionWidths aw = attention_widths(shape);
  switch (p) {
  case Projection::o: return aw.o_in;
  case Projection::down: return active_mlp_width(shape, layer);
  default: return shape.hidden_size;
  }
}

Checkpointing effective_checkpointing(const TrainingSetup& s) {
  const StackProfile& st = stack_profile(*s.stack);
  return s.checkpointing.value_or(is_adapter(s.task) ? st.checkpointing_adapter : st.checkpointing_full);
}

/// Bytes per token of one layer under selective "op" checkpointing (torchtitan's policy): the layer
/// input, the attention output and every other matmul output.
double selective_op_bytes_per_token(const ModelShape& shape, int layer) {
  const AttentionWidths aw = attention_widths(shape);
  const double h = shape.hidden_size;
  const double f = active_mlp_width(shape, layer);
  const double matmul_outputs = 2.0 * (aw.q + aw.k + aw.v + h + (shape.gated_mlp ? 2.0 : 1.0) * f + h);
  return 2.0 * h + 2.0 * aw.o_in + matmul_outputs / 2.0;
}

/// The stack-aware peak (docs/training.md, "Peak memory as the trainer reaches it"), without the limits.
TrainingMemory stack_peak(const Workload& w, const TrainingSetup& s, const ParallelPlan& plan, const Assumptions& a) {
  const StackProfile& st = stack_profile(*s.stack);
  const ModelShape& shape = w.shape;
  const bool adapters = is_adapter(s.task);
  const bool pure = s.pure_bf16.value_or(st.pure_bf16);
  const Checkpointing ck = effective_checkpointing(s);
  const double dp = plan.dp;
  const int zero = plan.dp > 1 ? s.zero_stage : 0;
  const double tp = plan.tp;
  const double share = stage_params(w, plan.pp) / w.params_total / plan.tp;
  TrainingMemory m;
  m.trainable_params = adapters ? lora_trainable_params(shape, s.lora_rank, s.lora_targets) : w.params_total;
  const double trainable = adapters ? m.trainable_params / plan.pp / plan.tp : w.params_total * share;

  // Bytes per trainable parameter (docs/training.md, "Training stacks"): 16-bit everything (pure bf16),
  // fp32 weights computed in bf16 (no master copy), or 16-bit weights with an fp32 master copy.
  double weight_b = 2, master_b = 4, grad_b = st.fp32_grads ? 4 : 2, moment_elem = 4;
  if (adapters ? !st.adapters_fp32 && pure : pure) {
    master_b = 0;
    grad_b = 2;
    moment_elem = 2;
  } else if (adapters ? st.adapters_fp32 : st.fp32_params) {
    weight_b = 4;
    master_b = 0;
    grad_b = 4;
  }
  double moment_b = 0;
  switch (s.optimizer) {
  case Optimizer::adamw: moment_b = 2 * moment_elem; break;
  case Optimizer::adamw_8bit: moment_b = 2 * (1 + 4.0 / 2048); break;
  case Optimizer::sgd: moment_b = moment_elem; break;
  }
  const double shard_opt = zero >= 1 ? dp : 1;
  const double shard_grad = zero >= 2 ? dp : 1;
  const double shard_w = zero >= 3 ? dp : 1;
  double frozen = 0;
  if (s.task == Task::qlora)
    frozen = (w.params_total - w.params_embedding) * nf4_bytes_per_param(s.double_quant) + w.params_embedding * 2.0;
  else if (adapters)
    frozen = weight_bytes(w, w.precision, a.int4_group_size);
  const double weights = (frozen * share + trainable * weight_b) / shard_w;
  const double grads = trainable * grad_b / shard_grad;
  const double master = trainable * master_b / shard_opt;
  const double moments = trainable * moment_b / shard_opt;
  m.weights_bytes = weights;
  m.gradients_bytes = grads;
  m.optimizer_bytes = master + moments;
  if (s.paged_optimizer) {
    m.managed_bytes = moments;  // cudaMallocManaged: on the GPU until evicted, invisible to torch.cuda counters
    m.optimizer_bytes = master;
  }
  if (s.offload_optimizer) {
    m.offloaded_bytes = m.optimizer_bytes + m.managed_bytes;
    m.optimizer_bytes = m.managed_bytes = 0;
  }
  if (s.offload_params) {
    m.offloaded_bytes += m.weights_bytes + m.gradients_bytes + m.optimizer_bytes + m.managed_bytes;
    m.weights_bytes = m.gradients_bytes = m.optimizer_bytes = m.managed_bytes = 0;
  }

  // Activations: stored per layer by the checkpointing mode, and one layer rebuilt during backward.
  const double tokens = static_cast<double>(s.micro_batch) * static_cast<double>(s.sequence);
  const int per_stage = shape.num_layers / plan.pp;
  const int first = shape.num_layers - per_stage;
  double stored = 0;
  double working = 0;
  for (int layer = first; layer < shape.num_layers; ++layer) {
    const double full = stack_layer_activation_bytes_per_token(shape, s, layer) * tokens / tp;
    working = std::max(working, full);
    switch (ck) {
    case Checkpointing::none: stored += full; break;
    case Checkpointing::full: stored += tokens * 2.0 * shape.hidden_size / tp; break;
    case Checkpointing::selective_op: stored += tokens * selective_op_bytes_per_token(shape, layer) / tp; break;
    case Checkpointing::offloaded: break;
    }
  }
  if (ck == Checkpointing::none) working = 0;
  if (ck == Checkpointing::offloaded) working += 2.0 * tokens * 2.0 * shape.hidden_size / tp; // inputs copied back, one ahead
  const int m_in_flight = plan.pp > 1 ? std::min(micro_batches_per_step(s, plan), plan.pp) : 1;
  m.activation_bytes = stored * m_in_flight;
  m.recompute_bytes = working;

  // The loss over the vocabulary at the start of backward.
  const double vocab = shape.vocab_size;
  LossKind loss = s.loss.value_or(st.loss);
  // A compiled chunked loss (torchtune's compile_loss): inductor fuses the upcast, log-softmax and NLL
  // of each chunk and saves only the 16-bit logits chunk, 2 B per logit.
  if (s.compiled && loss == LossKind::fp32_chunked) loss = LossKind::fused;
  m.logits_bytes = tokens * vocab * loss_bytes_per_logit(loss) / tp;
  const double held_logits = tokens * vocab * loss_held_bytes_per_logit(loss) / tp;

  // Weights in flight: FSDP/ZeRO-3 unsharded units (the one computing and the one prefetched) and the
  // gradients of the unit before they are reduce-scattered; dequantized 4-bit weights of the projection
  // computing; autocast's 16-bit copies of fp32 weights saved for backward.
  const double layer_params = (w.params_total - w.params_embedding) / shape.num_layers / tp;
  const double head_params = vocab * shape.hidden_size / tp;
  double in_flight = 0;
  if (zero >= 3 || s.offload_params) {
    const double unit = std::max(layer_params, adapters ? layer_params : head_params);
    const double unit_b = s.task == Task::qlora ? nf4_bytes_per_param(s.double_quant) : 2.0;
    in_flight += 2.0 * unit * unit_b + (adapters ? 0.0 : unit * (st.fp32_grads ? 4.0 : 2.0));
  }
  if (s.task == Task::qlora) in_flight += shape.hidden_size * active_mlp_width(shape, first) * 2.0 / tp;
  if (!adapters && st.fp32_params && !pure && zero < 3 && !s.offload_params)
    in_flight += 2.0 * (ck == Checkpointing::none ? trainable : layer_params);
  m.in_flight_bytes = in_flight;

  // DDP keeps flat bucket copies of every gradient; the optimizer step's multi-tensor temporaries.
  m.bucket_bytes = st.ddp_buckets && plan.dp > 1 && zero == 0 ? trainable * grad_b : 0;
  const bool foreach_step = st.foreach_optimizer && !s.optimizer_in_backward && s.optimizer != Optimizer::adamw_8bit;
  m.step_bytes = foreach_step && !s.offload_optimizer && !s.offload_params ? trainable * moment_elem / shard_opt : 0;

  // The moments of the step (docs/training.md, "Peak memory as the trainer reaches it"): what is alive
  // when the loss starts backward, when the last layer is rebuilt and differentiated, and at the
  // optimizer step. The peak is the largest of the three; the parts are the values at that moment.
  const double persistent = m.weights_bytes + m.optimizer_bytes + m.bucket_bytes;
  const double largest_grad = adapters ? 0 : head_params * grad_b / shard_grad;
  double grads_held = m.gradients_bytes;
  if (s.optimizer_in_backward) grads_held = largest_grad;
  if (s.offload_params) grads_held = 0;
  const bool grads_live = st.grads_persistent || s.gradient_accumulation > 1;
  const double grads_before = grads_live ? grads_held : 0;
  const double grads_layer = std::max(grads_before, std::min(grads_held, largest_grad));
  const double loss_backward = persistent + grads_before + m.activation_bytes + m.logits_bytes + m.in_flight_bytes;
  const double layer_backward = persistent + grads_layer + m.activation_bytes + m.recompute_bytes + m.in_flight_bytes + held_logits;
  const double step = persistent + grads_held + m.step_bytes;
  m.allocated_bytes = std::max({loss_backward, layer_backward, step});
  if (m.allocated_bytes == loss_backward) {
    m.peak_moment = "loss backward";
    m.gradients_bytes = grads_before;
    m.recompute_bytes = m.step_bytes = 0;
  } else if (m.allocated_bytes == layer_backward) {
    m.peak_moment = "last layer backward";
    m.gradients_bytes = grads_layer;
    m.logits_bytes = held_logits;
    m.step_bytes = 0;
  } else {
    m.peak_moment = "optimizer step";
    m.gradients_bytes = grads_held;
    m.activation_bytes = m.logits_bytes = m.recompute_bytes = m.in_flight_bytes = 0;
  }
  m.reserve_bytes = m.allocated_bytes * st.reserve_expected;
  m.reserved_bytes = m.allocated_bytes + m.reserve_bytes;
  m.overhead_bytes = a.runtime_overhead_bytes;
  m.total_bytes = m.reserved_bytes + m.managed_bytes + m.overhead_bytes;
  return m;
}

Span scale(const Span& s, double f) { return {s.low * f, s.expected * f, s.high * f}; }

} // namespace

std::string_view to_string(Task t) {
  switch (t) {
  case Task::inference: return "inference";
  case Task::finetune: return "finetune";
  case Task::lora: return "lora";
  case Task::qlora: return "qlora";
  case Task::pretrain: return "pretrain";
  }
  return "?";
}

std::string_view to_string(Optimizer o) {
  switch (o) {
  case Optimizer::adamw: return "adamw";
  case Optimizer::adamw_8bit: return "adamw-8bit";
  case Optimizer::sgd: return "sgd";
  }
  return "?";
}

std::string_view to_string(Recompute r) {
  switch (r) {
  case Recompute::none: return "none";
  case Recompute::selective: return "selective";
  case Recompute::full: return "full";
  }
  return "?";
}

Task parse_task(std::string_view text) {
  const std::string t = normalised(text);
  if (t == "inference" || t == "serve") return Task::inference;
  if (t == "finetune" || t == "full" || t == "fullfinetune") return Task::finetune;
  if (t == "lora") return Task::lora;
  if (t == "qlora") return Task::qlora;
  if (t == "pretrain" || t == "pretraining") return Task::pretrain;
  throw InputError(fmt::format("unknown task '{}': expected one of inference, finetune, lora, qlora, pretrain", text));
}

Optimizer parse_optimizer(std::string_view text) {
  const std::string t = normalised(text);
  if (t == "adamw" || t == "adam") return Optimizer::adamw;
  if (t == "adamw8bit" || t == "adam8bit" || t == "pagedadamw8bit") return Optimizer::adamw_8bit;
  if (t == "sgd") return Optimizer::sgd;
  throw InputError(fmt::format("unknown optimizer '{}': expected one of adamw, adamw-8bit, sgd", text));
}

Recompute parse_recompute(std::string_view text) {
  const std::string t = normalised(text);
  if (t == "none" || t == "off") return Recompute::none;
  if (t == "selective") return Recompute::selective;
  if (t == "full") return Recompute::full;
  throw InputError(fmt::format("unknown recomputation '{}': expected one of none, selective, full", text));
}

StateBytes state_bytes_per_param(Optimizer o, bool deepspeed_fp32_grads, bool weights_fp32) {
  StateBytes b;
  b.weights = weights_fp32 ? 4 : 2;
  b.gradients = weights_fp32 || deepspeed_fp32_grads ? 4 : 2; // fp32 gradient buffers: 4 instead of 2
  b.master = weights_fp32 ? 0 : 4;
  switch (o) {
  case Optimizer::adamw: b.moments = 8; break;                      // two fp32 moments
  case Optimizer::adamw_8bit: b.moments = 2 * (1 + 4.0 / 2048); break; // two 8-bit moments, fp32 absmax per 2048
  case Optimizer::sgd: b.moments = 4; break;                        // fp32 momentum
  }
  return b;
}

double nf4_bytes_per_param(bool double_quant) {
  // QLoRA (Dettmers et al. 2023, section 3): blocks of 64 weights; double quantization stores the
  // absmax in 8 bits plus one fp32 constant per 256 blocks: 0.5 + 1/64 + 4/(64 x 256) bytes.
  return double_quant ? 0.5 + 1.0 / 64 + 4.0 / (64.0 * 256.0) : 0.5 + 4.0 / 64;
}

double lora_trainable_params(const ModelShape& s, int rank, const std::vector<std::string>& targets) {
  const double h = s.hidden_size;
  const AttentionWidths aw = attention_widths(s);
  double per_attention = 0;
  double per_expert_matrices = 0; // sum of (d_in + d_out) over targeted MLP matrices, per unit width
  bool down = false;
  for (const auto& name : targets) {
    switch (parse_projection(name)) {
    case Projection::q: per_attention += h + aw.q; break;
    case Projection::k:
      // MLA: the KV down-projection (kv_a_proj) takes the "k" role.
      per_attention += s.mla ? h + s.mla->kv_lora_rank + s.mla->qk_rope_head_dim : h + aw.k;
      break;
    case Projection::v:
      // MLA: the KV up-projection (kv_b_proj) takes the "v" role.
      per_attention += s.mla ? s.mla->kv_lora_rank + static_cast<double>(s.num_attention_heads) *
                                                         (s.mla->qk_nope_head_dim + s.mla->v_head_dim)
                             : h + aw.v;
      break;
    case Projection::o: per_attention += aw.o_in + h; break;
    case Projection::gate: if (s.gated_mlp) per_expert_matrices += 1; break;
    case Projection::up: per_expert_matrices += 1; break;
    case Projection::down: down = true; break;
    }
  }
  const double matrices = per_expert_matrices + (down ? 1 : 0);
  // Every targeted MLP matrix is h x f or f x h: r (h + f) each. A MoE layer adapts every expert.
  double total = 0;
  for (int layer = 0; layer < s.num_layers; ++layer) {
    double mlp = 0;
    if (s.moe && layer >= s.moe->first_dense_layers)
      mlp = static_cast<double>(s.moe->num_experts + s.moe->num_shared_experts) * matrices *
            (h + s.moe->expert_intermediate_size);
    else
      mlp = matrices * (h + active_mlp_width(s, layer));
    total += per_attention + mlp;
  }
  return rank * total;
}

double activation_bytes_per_layer(const ModelShape& shape, const TrainingSetup& s, int tp, int layer) {
  const double tokens = static_cast<double>(s.micro_batch) * static_cast<double>(s.sequence);
  const double h = shape.hidden_size;
  const double t = tp;
  // Full recomputation keeps only the layer input (2 s b h), sharded by sequence parallel.
  if (s.recompute == Recompute::full) return tokens * 2.0 * h / t;
  const AttentionWidths aw = attention_widths(shape);
  const double kv_split = shape.mla ? t : std::min<double>(t, shape.num_kv_heads); // KV heads replicate past tp
  const double mask = s.dropout ? h : 0.0;  // 1-byte dropout masks
  const double f = active_mlp_width(shape, layer);
  // Bytes per token, 16-bit activations (docs/training.md, "Activations"):
  const double norms = 2.0 * h + 2.0 * h;                       // inputs of the two norms
  const double attention = 2.0 * h                               // q/k/v projection input
                           + 2.0 * aw.q                          // Q
                           + 2.0 * (aw.k + aw.v) * t / kv_split  // K, V (replicated past the KV heads)
                           + 2.0 * aw.o_in                       // output projection input
                           + mask;                               // attention dropout mask
  const double mlp = 2.0 * h                                     // first projection input
                     + (shape.gated_mlp ? 3.0 : 2.0) * 2.0 * f   // gate, up, act*up (gated) or pre/post GeLU
                     + mask;                                     // MLP dropout mask
  // Attention scores (softmax output 2, its dropout mask 1 and dropout output 2 bytes per score):
  // gone with FlashAttention or selective recomputation.
  const double scores = s.flash_attention || s.recompute != Recompute::none
                            ? 0.0
                            : (s.dropout ? 5.0 : 2.0) * shape.num_attention_heads * static_cast<double>(s.sequence);
  return tokens * ((norms + attention + mlp + scores) / t + adapter_activation_bytes_per_token(s));
}


Span allocator_reserve_fraction(Stack stack) {
  const StackProfile& p = stack_profile(stack);
  return {p.reserve_low, p.reserve_expected, p.reserve_high};
}

double stack_layer_activation_bytes_per_token(const ModelShape& shape, const TrainingSetup& s, int layer) {
  const StackProfile& st = stack_profile(s.stack.value_or(Stack::hf_trainer));
  const bool fused = st.fused_kernels || s.compiled;
  const double dropout = s.lora_dropout.value_or(st.lora_dropout);
  const bool adapters = is_adapter(s.task);
  double lora = 0;
  if (adapters)
    for (const auto& t : s.lora_targets) {
      const Projection p = parse_projection(t);
      if ((p == Projection::gate && !shape.gated_mlp)) continue;
      lora += 2.0 * s.lora_rank + (dropout > 0 ? 3.0 * projection_input_width(shape, p, layer) : 0.0);
    }
  const double scores = s.eager_attention ? 2.0 * shape.num_attention_heads * static_cast<double>(s.sequence) : 0.0;
  if (fused) {
    TrainingSetup k = s;
    k.recompute = Recompute::none;
    k.flash_attention = true;
    k.dropout = false;
    k.micro_batch = 1;
    k.sequence = 1;
    // Korthikanti's inventory per token (norm inputs, matmul inputs, gated-MLP intermediates) minus the
    // adapters' 2r per target, which `lora` counts.
    return activation_bytes_per_layer(shape, k, 1, layer) - adapter_activation_bytes_per_token(k) + lora + scores;
  }
  // Eager PyTorch ops (Hugging Face, torchtune, LitGPT): RMSNorm upcasts to fp32 and saves that input
  // (4h), plus its 16-bit output when the norm weight trains (2h); SDPA saves Q, K, V and its output;
  // SiLU saves the gate output, the product saves SiLU's output and the up output; a projection's input
  // is saved only when its weight trains or it has an adapter.
  const AttentionWidths aw = attention_widths(shape);
  const double h = shape.hidden_size;
  const double f = active_mlp_width(shape, layer);
  const double norm = 4.0 * h + (adapters ? 0.0 : 2.0 * h);
  const bool qkv_in = projection_trains(s, Projection::q) || projection_trains(s, Projection::k) || projection_trains(s, Projection::v);
  const double attention = (qkv_in ? 2.0 * h : 0.0) + 2.0 * (aw.q + aw.k + aw.v) + 2.0 * aw.o_in;
  const bool mlp_in = projection_trains(s, Projection::gate) || projection_trains(s, Projection::up);
  const double mlp = (mlp_in ? 2.0 * h : 0.0) + (shape.gated_mlp ? 3.0 : 2.0) * 2.0 * f +
                     (projection_trains(s, Projection::down) ? 2.0 * f : 0.0);
  return 2.0 * norm + attention + mlp + lora + scores;
}

/// Bytes one token moves through one layer's non-matmul kernels in the forward pass (16-bit activations;
/// docs/training.md section 3b): the two norms (read + write h each), the two residual adds (read 2h,
/// write h), the attention-input layout / rotary pass, and the MLP activation. Eager PyTorch also copies
/// q, k, v and the attention output into their layouts and runs the gated activation as two kernels
/// (SiLU, then the product: 10 f); fused stacks (Transformer Engine, Unsloth, torch.compile) rotate q
/// and k in place and fuse the gated activation into one pass (read 2f, write f: 6 f).
double elementwise_forward_bytes(const ModelShape& shape, bool fused, bool fp8, int layer) {
  const AttentionWidths aw = attention_widths(shape);
  const double h = shape.hidden_size;
  const double f = active_mlp_width(shape, layer);
  const double norms = 2.0 * (2.0 * h + 2.0 * h);
  const double residuals = 2.0 * (4.0 * h + 2.0 * h);
  const double layout = fused ? 4.0 * (aw.q + aw.k) : 4.0 * (aw.q + aw.k + aw.v) + 4.0 * aw.o_in;
  const double activation = shape.gated_mlp ? (fused ? 6.0 * f : 10.0 * f) : 4.0 * f;
  // FP8 linears: every matmul input is scaled and cast (read 2, write 1 byte per element).
  const double casts = fp8 ? 3.0 * (2.0 * h + aw.o_in + f) : 0.0;
  return norms + residuals + layout + activation + casts;
}

/// The stack-aware compute time of one step (docs/training.md section 3b): matmuls at the measured GEMM
/// ceiling, attention at its kernel's measured efficiency, and the elementwise traffic at the bandwidth
/// those kernels sustain. Fills the component fields of `r` and returns {low, expected, high} seconds.
Span component_compute_s(const Workload& w, const TrainingSetup& s, const ParallelPlan& plan, const Gpu& gpu,
                         const Assumptions& a, double attention_forward, bool full_recompute, TrainingPerf& r) {
  const ModelShape& shape = w.shape;
  const StackProfile& st = stack_profile(*s.stack);
  const Checkpointing ck = effective_checkpointing(s);
  const double n = dense_matmul_params(w);
  // torchtitan's "op" policy recomputes every other forward matmul: half a forward of GEMMs again.
  const double half_matmuls = !full_recompute && ck == Checkpointing::selective_op ? 1.0 : 0.0;
  const double gemm_flops = r.flops_per_token - (full_recompute ? 4.0 : 3.0) * attention_forward + half_matmuls * n;
  // Causal FlashAttention-class kernels skip the masked half of the PaLM count. Without a fused kernel
  // (eager_attention) QK^T and AV are full batched GEMMs and the s x s scores go through memory.
  const double passes = full_recompute ? 4.0 : 3.0;
  r.attention_flops_per_token = s.eager_attention ? passes * attention_forward : passes * attention_forward / 2.0;
  r.gemm_flops_per_token = gemm_flops;
  const bool fused = st.fused_kernels || s.compiled;
  double bytes = 0;
  for (int layer = 0; layer < shape.num_layers; ++layer)
    bytes += elementwise_forward_bytes(shape, fused, s.fp8_linears, layer);
  // Forward once, backward twice the forward's traffic; whole-layer or "op" checkpointing repeats the forward.
  const bool repeats_forward = full_recompute || ck == Checkpointing::selective_op;
  r.elementwise_bytes_per_token = bytes * (repeats_forward ? 4.0 : 3.0);
  if (s.eager_attention) {
    // Per score: QK^T writes it (2 bytes), the (fused) softmax reads and writes it (4), AV reads it (2);
    // attention dropout adds its mask and output (1 + 2) and the read of the output (2).
    const double scores = attended_tokens_all_layers(shape, static_cast<double>(s.sequence)) * shape.num_attention_heads;
    r.elementwise_bytes_per_token += passes * scores * (8.0 + (s.dropout ? 5.0 : 0.0));
  }

  const Precision sixteen = gpu.bf16_support ? Precision::bf16 : Precision::fp16;
  const Precision gemm_format = s.fp8_linears ? Precision::fp8 : sixteen;
  const double gemm_peak = gpu.peak_flops(gemm_format);
  if (gemm_peak <= 0)
    throw InputError(fmt::format("{} lists no {} tensor throughput", gpu.name, to_string(gemm_format)));
  const double peak = gpu.peak_flops(sixteen);
  const double bandwidth = gpu.bandwidth_bytes_per_s;
  const Range& ge = a.fraction("train_gemm", gpu.architecture, gemm_format);
  const Range& ae = s.eager_attention ? a.fraction("train_gemm", gpu.architecture, sixteen)
                                      : a.fraction(st.fused_attention ? "train_attention_fused" : "train_attention",
                                                   gpu.architecture, sixteen);
  const Range& ee = a.fraction("train_elementwise", gpu.architecture, sixteen);
  r.gemm_efficiency = ge.expected;
  r.attention_efficiency = ae.expected;
  r.elementwise_bandwidth = ee.expected;
  auto per_token = [&](double g, double at, double e) {
    return r.gemm_flops_per_token / (gemm_peak * g) + r.attention_flops_per_token / (peak * at) +
           r.elementwise_bytes_per_token / (bandwidth * e);
  };
  // The model's work is spread over every GPU of the plan (tensor and pipeline parallel split it).
  const double tokens_per_gpu = r.tokens_per_step / plan.gpus();
  return {tokens_per_gpu * per_token(ge.high, ae.high, ee.high), tokens_per_gpu * per_token(ge.expected, ae.expected, ee.expected),
          tokens_per_gpu * per_token(ge.low, ae.low, ee.low)};
}

int micro_batches_per_step(const TrainingSetup& s, const ParallelPlan& plan) {
  if (s.gradient_accumulation > 0) return s.gradient_accumulation;
  return plan.pp > 1 ? 4 * plan.pp : 1;
}

void validate_plan(const ModelShape& shape, const ParallelPlan& plan) {
  if (auto problem = plan_problem(shape, plan); !problem.empty()) throw InputError(problem);
}

TrainingMemory estimate_training_memory(const Workload& w, const TrainingSetup& s, const ParallelPlan& plan,
                                        const Gpu& gpu, const Assumptions& a) {
  if (s.task == Task::inference) throw InternalError("estimate_training_memory: inference uses estimate_memory");
  validate_setup(s);
  if (w.params_total <= 0) throw InputError("the workload has no parameters");
  validate_plan(w.shape, plan);
  if (s.stack) {
    TrainingMemory m = stack_peak(w, s, plan, a);
    m.usable_bytes = w.memory_utilization * gpu.allocatable_bytes;
    // The numbers users look for first: the largest micro-batch and the longest sequence that fit.
    auto fits_with = [&](std::int64_t batch, std::int64_t sequence) {
      TrainingSetup t = s;
      t.micro_batch = batch;
      t.sequence = sequence;
      return stack_peak(w, t, plan, a).total_bytes <= m.usable_bytes;
    };
    auto largest = [](auto&& ok, std::int64_t cap) -> std::int64_t {
      if (!ok(1)) return 0;
      std::int64_t lo = 1, hi = 2;
      while (hi <= cap && ok(hi)) lo = hi, hi *= 2;
      if (hi > cap) return lo;
      while (hi - lo > 1) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        (ok(mid) ? lo : hi) = mid;
      }
      return lo;
    };
    m.largest_micro_batch = largest([&](std::int64_t b) { return fits_with(b, s.sequence); }, 1 << 16);
    m.longest_sequence = largest([&](std::int64_t n) { return fits_with(1, n); }, std::int64_t{1} << 24);
    return m;
  }
  const ModelState state = model_state(w, s, plan, a);
  TrainingMemory m;
  m.weights_bytes = state.weights_bytes;
  m.gradients_bytes = state.gradients_bytes;
  m.optimizer_bytes = state.optimizer_bytes;
  m.offloaded_bytes = state.offloaded_bytes;
  m.trainable_params = state.trainable_params;
  m.activation_bytes = stage_activation_bytes(w.shape, s, plan, micro_batches_per_step(s, plan));
  m.overhead_bytes = a.runtime_overhead_bytes;
  m.total_bytes = m.weights_bytes + m.gradients_bytes + m.optimizer_bytes + m.activation_bytes + m.overhead_bytes;
  m.usable_bytes = w.memory_utilization * gpu.allocatable_bytes;
  return m;
}

TrainingPerf estimate_training_step(const Workload& w, const TrainingSetup& s, const ParallelPlan& plan,
                                    const Gpu& gpu, const Assumptions& a, const Cluster& cluster) {
  if (s.task == Task::inference) throw InternalError("estimate_training_step: inference uses estimate_performance");
  validate_setup(s);
  if (w.params_total <= 0) throw InputError("the workload has no parameters");
  validate_plan(w.shape, plan);
  if (cluster.gpus_per_node < 1 || cluster.node_network_bytes_per_s <= 0)
    throw InputError("cluster: GPUs per node and network bandwidth must be positive");
  const ModelState state = model_state(w, s, plan, a);
  const ModelShape& shape = w.shape;
  TrainingPerf r;
  const int m = micro_batches_per_step(s, plan);
  // With a stack, the forward is repeated when its checkpointing rebuilds whole layers (full, offloaded).
  const Checkpointing stack_ck = s.stack ? effective_checkpointing(s) : Checkpointing::none;
  const bool full_recompute = s.recompute == Recompute::full || stack_ck == Checkpointing::full || stack_ck == Checkpointing::offloaded;

  // FLOPs per token (PaLM, Chowdhery et al. 2022, appendix B): 6N + 12 L a d s; full recomputation
  // repeats the forward: 8N + 16 L a d s. Adapters: forward 2N + activation gradients 2N through the
  // frozen weights, plus 6 per trainable parameter. N excludes the input-embedding lookup.
  const double n = dense_matmul_params(w);
  const double attention_forward =
      attention_flops_per_context_token(shape) * attended_tokens_all_layers(shape, static_cast<double>(s.sequence));
  const double passes = full_recompute ? 4.0 : 3.0; // forward + backward (2x) [+ recomputed forward]
  if (is_adapter(s.task))
    r.flops_per_token = (passes - 1.0) * 2.0 * n + passes * attention_forward + (full_recompute ? 8.0 : 6.0) * state.trainable_params;
  else
    r.flops_per_token = passes * 2.0 * n + passes * attention_forward;

  // The MFU convention (PaLM): 6N + 12 L a d s, whatever is recomputed.
  r.model_flops_per_token = 6.0 * n + 3.0 * attention_forward;

  const double tokens_per_micro_batch = static_cast<double>(s.micro_batch) * static_cast<double>(s.sequence);
  r.tokens_per_step = tokens_per_micro_batch * m * plan.dp;
  const Precision compute = gpu.bf16_support ? Precision::bf16 : Precision::fp16;
  const double peak = gpu.peak_flops(compute);
  if (peak <= 0) throw InputError(fmt::format("{} lists no 16-bit tensor throughput", gpu.name));
  if (s.stack) {
    // A named trainer: the time of what the step runs (docs/training.md section 3b).
    r.component_model = true;
    r.compute_s = component_compute_s(w, s, plan, gpu, a, attention_forward, full_recompute, r);
  } else {
    if (s.fp8_linears) throw InputError("FP8 linears need a training stack (--stack) to model their speed");
    const Range& mfu = a.fraction("mfu", gpu.architecture, compute);
    const double work = r.tokens_per_step * r.flops_per_token / (plan.gpus() * peak);
    r.compute_s = {work / mfu.high, work / mfu.expected, work / mfu.low};
  }
  // 1F1B pipeline bubble (Narayanan et al. 2021): (p - 1) / (m + p - 1) of the step is idle.
  r.bubble_fraction = static_cast<double>(plan.pp - 1) / (m + plan.pp - 1);

  // Tensor parallel (Megatron-LM): 2 all-reduces per layer forward, 2 backward (+2 recomputed
  // forward), each of the micro-batch's activations b x s x h x 2 bytes.
  const double layers_per_stage = static_cast<double>(shape.num_layers) / plan.pp;
  const double activation_message = tokens_per_micro_batch * shape.hidden_size * 2.0;
  const double per_layer = full_recompute ? 6.0 : 4.0;
  r.tp_communication_s = m * layers_per_stage * per_layer * allreduce_s(intra_node_link(gpu, plan.tp), plan.tp, activation_message);

  // Data parallel: ring all-reduce of the gradients each GPU holds; ZeRO-3 also all-gathers weights
  // forward and backward (1.5x the traffic, Rajbhandari et al. 2020). Ranks are ordered tp, dp, pp.
  r.dp_crosses_nodes = plan.tp * plan.dp > cluster.gpus_per_node;
  const Link dp_link = r.dp_crosses_nodes ? network_link(gpu, cluster) : intra_node_link(gpu, plan.tp * plan.dp);
  const double zero3 = s.zero_stage >= 3 ? 1.5 : 1.0;
  r.dp_communication_s = zero3 * allreduce_s(dp_link, plan.dp, state.trainable_per_gpu * state.gradient_wire_bytes);

  // Pipeline: each micro-batch's activations cross each stage boundary forward and backward.
  if (plan.pp > 1) {
    const Link pp_link = plan.gpus() > cluster.gpus_per_node ? network_link(gpu, cluster) : intra_node_link(gpu, plan.gpus());
    r.pp_communication_s = 2.0 * m * (pp_link.latency_s + activation_message / plan.tp / pp_link.bytes_per_s);
  }
  // ZeRO-Offload: gradients go to the CPU and updated 16-bit weights come back over PCIe each step.
  if (s.offload_optimizer) {
    const double pcie = (gpu.pcie_bandwidth_bytes_per_s > 0 ? gpu.pcie_bandwidth_bytes_per_s : 64e9) / 2;
    const double shard = s.zero_stage >= 1 ? plan.dp : 1;
    r.offload_s = state.trainable_per_gpu / shard * (state.gradient_wire_bytes + 2.0) / pcie;
  }

  const Span stretched = scale(r.compute_s, 1.0 / (1.0 - r.bubble_fraction));
  const double serial = r.tp_communication_s + r.pp_communication_s + r.offload_s;
  if (r.component_model) {
    // Every stack buckets the gradient reduction (and ZeRO-3/FSDP prefetches the next layer's weights)
    // behind the backward pass, two thirds of the compute (PyTorch DDP, Li et al. 2020; FSDP, Zhao et
    // al. 2023): only what outlasts it is exposed. The optimizer update is memory-bound: AdamW reads the
    // fp32 master, gradient and two moments and writes three of them back plus the 16-bit copy (30 bytes
    // per parameter held on this GPU).
    const double shard = s.zero_stage >= 1 ? plan.dp : 1;
    r.optimizer_s = state.trainable_per_gpu / shard * 30.0 /
                    (gpu.bandwidth_bytes_per_s * a.fraction("bandwidth", gpu.architecture, compute).expected);
    // The slow end overlaps only a third of the compute (the last buckets and the first all-gather wait).
    auto exposed = [&](double compute_s, double window) { return std::max(0.0, r.dp_communication_s - compute_s * window); };
    r.step_s = {stretched.low + exposed(stretched.low, 2.0 / 3.0) + serial + r.optimizer_s,
                stretched.expected + exposed(stretched.expected, 2.0 / 3.0) + serial + r.optimizer_s,
                stretched.high + exposed(stretched.high, 1.0 / 3.0) + serial + r.optimizer_s};
  } else {
    r.step_s = {std::max(stretched.low, r.dp_communication_s) + serial, stretched.expected + serial + r.dp_communication_s,
                stretched.high + serial + r.dp_communication_s};
  }
  r.tokens_per_s = {r.tokens_per_step / r.step_s.high, r.tokens_per_step / r.step_s.expected,
                    r.tokens_per_step / r.step_s.low};
  const double model_work = r.model_flops_per_token / (plan.gpus() * peak);
  r.mfu = {r.tokens_per_s.low * model_work, r.tokens_per_s.expected * model_work, r.tokens_per_s.high * model_work};
  return r;
}

std::vector<PlanResult> search_plans(const Workload& w, const TrainingSetup& s, const Gpu& gpu, const Assumptions& a,
                                     const Cluster& cluster, int gpus) {
  if (gpus < 1) throw InputError(fmt::format("GPU count must be >= 1, got {}", gpus));
  std::vector<PlanResult> plans;
  if (s.task == Task::inference) {
    const ParallelPlan plan{gpus, 1, 1};
    if (gpus > cluster.gpus_per_node || !plan_problem(w.shape, plan).empty()) return plans;
    const PrecisionDecision p = decide_precision(w, gpu);
    const MemoryEstimate e = estimate_memory(w, p, gpu, gpus, a);
    PlanResult r;
    r.plan = plan;
    r.memory.weights_bytes = e.weights_bytes;
    r.memory.kv_cache_bytes = e.kv_cache_bytes;
    r.memory.activation_bytes = e.activation_bytes;
    r.memory.overhead_bytes = e.overhead_bytes;
    r.memory.total_bytes = e.total_bytes;
    r.memory.usable_bytes = e.usable_bytes;
    r.inference_perf = estimate_performance(w, p, gpu, gpus, a);
    plans.push_back(std::move(r));
    return plans;
  }
  validate_setup(s);
  for (int tp = 1; tp <= std::min(gpus, cluster.gpus_per_node); ++tp) {
    if (gpus % tp != 0) continue;
    for (int pp = 1; pp <= gpus / tp; ++pp) {
      if ((gpus / tp) % pp != 0) continue;
      const ParallelPlan plan{tp, pp, gpus / (tp * pp)};
      if (!plan_problem(w.shape, plan).empty()) continue;
      PlanResult r;
      r.plan = plan;
      r.memory = estimate_training_memory(w, s, plan, gpu, a);
      r.perf = estimate_training_step(w, s, plan, gpu, a, cluster);
      plans.push_back(std::move(r));
    }
  }
  std::stable_sort(plans.begin(), plans.end(), [](const PlanResult& x, const PlanResult& y) {
    if (x.fits() != y.fits()) return x.fits();
    // Plans of one GPU count differ in tokens per step (dp), so compare throughput, not step time.
    if (x.perf.tokens_per_s.expected != y.perf.tokens_per_s.expected)
      return x.perf.tokens_per_s.expected > y.perf.tokens_per_s.expected;
    return x.memory.total_bytes < y.memory.total_bytes;
  });
  return plans;
}

std::optional<PlanResult> smallest_plan(const Workload& w, const TrainingSetup& s, const Gpu& gpu, const Assumptions& a,
                                        const Cluster& cluster, int max_gpus) {
  for (int gpus = 1; gpus <= max_gpus; gpus *= 2) {
    auto plans = search_plans(w, s, gpu, a, cluster, gpus);
    if (!plans.empty() && plans.front().fits()) return std::move(plans.front());
  }
  return std::nullopt;
}

} // namespace gpuadvise
