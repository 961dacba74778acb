#pragma once
/// Fine-tuning and training: memory per GPU, step time, and the smallest plan spanning several GPUs
/// and nodes. Pure functions of (workload, setup, plan, GPU, assumptions); every formula is written
/// down with its source in docs/training.md.
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/estimate.hpp>
#include <gpuadvise/stacks.hpp>
#include <gpuadvise/workload.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// What the GPUs do: serve the model, or train it fully (finetune, pretrain) or through adapters.
enum class Task { inference, finetune, lora, qlora, pretrain };
/// The optimizer whose states are held per trainable parameter.
enum class Optimizer { adamw, adamw_8bit, sgd };
/// Activation recomputation (Korthikanti et al. 2022): none, selective (core attention), full (per layer).
enum class Recompute { none, selective, full };

/// "finetune" etc.; the inverse of parse_task.
std::string_view to_string(Task t);
std::string_view to_string(Optimizer o);
std::string_view to_string(Recompute r);
/// Parses inference|finetune|lora|qlora|pretrain (case-insensitive; "full" = finetune). Throws InputError.
Task parse_task(std::string_view text);
/// Parses adamw|adamw-8bit|sgd (case-insensitive; "adam", "adamw8bit", "adamw_8bit" too). Throws InputError.
Optimizer parse_optimizer(std::string_view text);
/// Parses none|selective|full (case-insensitive). Throws InputError.
Recompute parse_recompute(std::string_view text);

/// How the model is trained. Defaults: mixed-precision AdamW (16 bytes per trainable parameter),
/// selective recomputation with FlashAttention, no dropout (Llama-style), one 4096-token sequence
/// per micro-batch, no ZeRO.
struct TrainingSetup {
  Task task = Task::finetune;
  Optimizer optimizer = Optimizer::adamw;
  Recompute recompute = Recompute::selective;
  int lora_rank = 16;
  /// Projections that get adapters: any of q, k, v, o, gate, up, down ("_proj" suffix accepted).
  std::vector<std::string> lora_targets{"q", "k", "v", "o", "gate", "up", "down"};
  bool double_quant = true;          ///< QLoRA double quantization of the NF4 absmax constants
  int zero_stage = 0;                ///< ZeRO / FSDP: 1 shards optimizer states, 2 + gradients, 3 + weights
  bool offload_optimizer = false;    ///< ZeRO-Offload: fp32 master weights and moments live in CPU memory
  std::int64_t micro_batch = 1;      ///< sequences per micro-batch per data-parallel replica
  std::int64_t sequence = 4096;      ///< tokens per sequence
  int gradient_accumulation = 0;     ///< micro-batches per step per replica; 0 = 1 without PP, 4 x pp with PP
  bool flash_attention = true;       ///< attention scores are never stored (FlashAttention)
  bool dropout = false;              ///< dropout masks stored (Korthikanti's 34 includes them; Llama uses none)
  bool deepspeed_fp32_grads = false; ///< gradients in fp32 (4 bytes, DeepSpeed's count) instead of bf16 (2)

  /// The trainer (docs/training.md, "Training stacks"). Unset: the generic accounting above (Korthikanti
  /// activations, fp32 logits, no allocator reserve). Set: the peak as that trainer reaches it.
  std::optional<Stack> stack;
  bool stack_chosen = false;           ///< the stack is the task's default, not the user's choice
  // Settings of one run that override the stack's defaults (unset = the stack's).
  std::optional<Checkpointing> checkpointing;
  std::optional<LossKind> loss;
  std::optional<double> lora_dropout;
  std::optional<bool> pure_bf16;       ///< weights, gradients and moments all 16-bit, no fp32 master copy
  bool compiled = false;               ///< torch.compile: norms and activations fused, only matmul inputs saved
  bool optimizer_in_backward = false;  ///< each gradient applied and freed as soon as it is produced
  bool paged_optimizer = false;        ///< bitsandbytes paged optimizer: moments in CUDA managed memory
  bool offload_params = false;         ///< FSDP/ZeRO-3 CPU offload: weights, gradients and optimizer in CPU memory
  bool eager_attention = false;        ///< attention without a fused kernel: the s x s probabilities are stored
  bool fp8_linears = false;            ///< linear layers in FP8 (Transformer Engine / torchao float8); speed only
};

/// Parallel degrees: tensor (within a node, with sequence parallel), pipeline, data.
struct ParallelPlan {
  int tp = 1;
  int pp = 1;
  int dp = 1;
  int gpus() const { return tp * pp * dp; }
  bool operator==(const ParallelPlan&) const = default;
};

/// The machines GPUs sit in. Default: 8 GPUs per node, one 400 Gb/s InfiniBand NDR NIC per GPU
/// (50e9 bytes/s each way), as in NVIDIA DGX H100 / HGX reference designs.
struct Cluster {
  int gpus_per_node = 8;
  double node_network_bytes_per_s = 50e9;
};

/// Bytes per trainable parameter of each kind of state, before sharding.
struct StateBytes {
  double weights = 0;    ///< working (16-bit) copy
  double gradients = 0;
  double master = 0;     ///< fp32 master copy (mixed precision)
  double moments = 0;    ///< optimizer moments (AdamW: two, SGD: momentum)
  double total() const { return weights + gradients + master + moments; }
};

/// Mixed-precision state bytes per trainable parameter: AdamW 2 + 2 + 4 + 8 = 16 (18 with DeepSpeed's
/// fp32 gradients), 8-bit AdamW 2 + 2 + 4 + 2 (+ block absmax), SGD with momentum 2 + 2 + 4 + 4.
/// Pure fp32 training (weights_fp32) has no master copy and 4-byte weights and gradients.
StateBytes state_bytes_per_param(Optimizer o, bool deepspeed_fp32_grads, bool weights_fp32 = false);

/// Bytes per weight of QLoRA's NF4 storage: 0.5 + one absmax per 64 weights (fp32, or with double
/// quantization 8-bit plus one fp32 constant per 256 blocks).
double nf4_bytes_per_param(bool double_quant);

/// Trainable LoRA parameters: sum over layers and target projections of rank x (d_in + d_out), with
/// the model's real shapes (GQA k/v width = kv_heads x head_dim; MoE: every expert and shared expert).
double lora_trainable_params(const ModelShape& shape, int rank, const std::vector<std::string>& targets);

/// Activation bytes one micro-batch leaves stored for backward in layer `layer` on one GPU of a
/// tensor-parallel group of `tp` (sequence parallel on): Korthikanti et al. 2022 generalised to GQA
/// and gated MLPs (docs/training.md). Full recomputation stores only the layer input.
double activation_bytes_per_layer(const ModelShape& shape, const TrainingSetup& s, int tp, int layer = 0);

/// Memory per GPU, in bytes (the fullest pipeline stage).
struct TrainingMemory {
  double weights_bytes = 0;
  double gradients_bytes = 0;
  double optimizer_bytes = 0;     ///< fp32 master weights + optimizer moments held on the GPU
  double activation_bytes = 0;    ///< stored activations, logits and the recomputation working set
  double kv_cache_bytes = 0;      ///< inference plans only
  double overhead_bytes = 0;      ///< CUDA context and workspaces (Assumptions::runtime_overhead_bytes)
  double total_bytes = 0;
  double usable_bytes = 0;        ///< memory_utilization x allocatable
  double offloaded_bytes = 0;     ///< CPU memory per GPU taken by an offloaded optimizer
  double trainable_params = 0;    ///< whole model, before any sharding
  // Stack-aware accounting only (TrainingSetup::stack set); all per GPU.
  double logits_bytes = 0;        ///< what the loss holds over the vocabulary when backward starts
  double recompute_bytes = 0;     ///< one layer's activations rebuilt during backward (checkpointing)
  double in_flight_bytes = 0;     ///< FSDP/ZeRO-3 unsharded layers in flight, dequantized 4-bit weights, autocast copies
  double step_bytes = 0;          ///< optimizer-step temporaries (torch AdamW multi-tensor path)
  double bucket_bytes = 0;        ///< DDP gradient buckets
  double managed_bytes = 0;       ///< paged optimizer state in CUDA managed memory (outside PyTorch's counters)
  double allocated_bytes = 0;     ///< peak as torch.cuda.max_memory_allocated reports it
  double reserve_bytes = 0;       ///< caching allocator's reserve: reserved - allocated at the peak
  double reserved_bytes = 0;      ///< peak as torch.cuda.max_memory_reserved reports it
  std::string peak_moment;        ///< when the peak is reached: "loss backward", "last layer backward", "optimizer step"
  std::int64_t largest_micro_batch = 0; ///< most sequences per micro-batch that fit at this plan (0: none)
  std::int64_t longest_sequence = 0;    ///< longest sequence at micro-batch 1 that fits (0: none)
  bool fits() const { return total_bytes <= usable_bytes; }
};

/// Micro-batches per optimizer step per data-parallel replica: the setup's, else 1 (pp = 1) or 4 x pp.
int micro_batches_per_step(const TrainingSetup& s, const ParallelPlan& plan);

/// Throws InputError unless the plan's degrees are positive, pp divides the layers and tp divides the
/// attention heads (and divides, or is a multiple of, the KV heads).
void validate_plan(const ModelShape& shape, const ParallelPlan& plan);

/// Weights, gradients, optimizer states, activations and overhead per GPU for a training task.
/// Throws InternalError for Task::inference (use estimate_memory); InputError for a bad setup or plan, or a full
/// fine-tune of quantized weights.
TrainingMemory estimate_training_memory(const Workload& w, const TrainingSetup& s, const ParallelPlan& plan,
                                        const Gpu& gpu, const Assumptions& a);

/// The caching allocator's reserve over the allocated peak for a stack, as a fraction (low, expected,
/// high): published reserved/allocated pairs (docs/training.md, "Allocator reserve").
Span allocator_reserve_fraction(Stack stack);

/// Stored activation bytes per token of one layer as a stack keeps them without checkpointing
/// (eager PyTorch ops, or fused kernels), including LoRA's saved inputs (docs/training.md).
double stack_layer_activation_bytes_per_token(const ModelShape& shape, const TrainingSetup& s, int layer);

/// Time of one optimizer step and the throughput it gives.
struct TrainingPerf {
  double flops_per_token = 0;       ///< counted FLOPs (with recomputation) per trained token
  double tokens_per_step = 0;       ///< micro_batch x sequence x micro-batches x dp
  Span compute_s;                   ///< per step, without the pipeline bubble
  double bubble_fraction = 0;       ///< (pp - 1) / (m + pp - 1), Narayanan et al. 2021
  double tp_communication_s = 0;    ///< tensor-parallel all-reduces per step
  double dp_communication_s = 0;    ///< gradient all-reduce (ZeRO-3: + weight all-gathers) per step
  double pp_communication_s = 0;    ///< stage-to-stage activation sends per step
  double offload_s = 0;             ///< PCIe traffic of an offloaded optimizer per step
  bool dp_crosses_nodes = false;
  Span step_s;
  Span tokens_per_s;                ///< all GPUs together
  // With a stack set, the step's compute is the sum of what sets it (docs/training.md section 3b):
  bool component_model = false;        ///< true: compute_s = GEMM + attention + elementwise time; false: MFU range
  double model_flops_per_token = 0;    ///< 6N + 12 L a d s without recomputation (the MFU convention)
  double gemm_flops_per_token = 0;     ///< matmul FLOPs executed per token, recomputation included
  double attention_flops_per_token = 0;///< causal attention FLOPs executed per token (half the PaLM count)
  double elementwise_bytes_per_token = 0; ///< norm/activation/residual traffic per token, all layers, recomputation included
  double gemm_efficiency = 0;          ///< expected fraction of the GEMM format's peak
  double attention_efficiency = 0;     ///< expected fraction of the 16-bit peak in the attention kernel
  double elementwise_bandwidth = 0;    ///< expected fraction of memory bandwidth the elementwise kernels sustain
  double optimizer_s = 0;              ///< the optimizer update per step (memory-bound)
  Span mfu;                            ///< model FLOPs utilisation implied by tokens_per_s
};

/// Step time on the plan's GPUs: FLOPs / (gpus x bf16 peak x MFU), stretched by the pipeline bubble,
/// plus communication (docs/training.md). The low time overlaps the gradient all-reduce with backward.
TrainingPerf estimate_training_step(const Workload& w, const TrainingSetup& s, const ParallelPlan& plan,
                                    const Gpu& gpu, const Assumptions& a, const Cluster& cluster = {});

/// One plan with its memory and speed.
struct PlanResult {
  ParallelPlan plan;
  TrainingMemory memory;
  TrainingPerf perf;                ///< training tasks only
  std::optional<PerfEstimate> inference_perf; ///< Task::inference only
  bool fits() const { return memory.fits(); }
};

/// Every valid (tp, pp, dp) for exactly `gpus` GPUs (tp <= gpus per node), those that fit first, then
/// the fastest first. Inference: tensor parallel only (tp = gpus), memory from estimate_memory.
std::vector<PlanResult> search_plans(const Workload& w, const TrainingSetup& s, const Gpu& gpu, const Assumptions& a,
                                     const Cluster& cluster, int gpus);

/// The fastest fitting plan at the smallest GPU count in 1, 2, 4, 8, ... up to max_gpus; nullopt when
/// none fits.
std::optional<PlanResult> smallest_plan(const Workload& w, const TrainingSetup& s, const Gpu& gpu,
                                        const Assumptions& a, const Cluster& cluster = {}, int max_gpus = 512);

} // namespace gpuadvise
