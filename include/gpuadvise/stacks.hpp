#pragma once
/// Training stacks: the trainer a job runs in (torchtune, Hugging Face Trainer/PEFT, FSDP, DeepSpeed, ...)
/// and what it does that changes memory (and, later, speed). One row per stack, each behaviour with the
/// code or document it comes from (docs/training.md, "Training stacks"). The option `--stack` names a row;
/// memory (src/training.cpp) and speed read the same row.
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

enum class Task;

/// The trainers gpuadvise models.
enum class Stack { torchtune, hf_trainer, axolotl, unsloth, fsdp, torchtitan, deepspeed, megatron, litgpt };

/// How the loss over the vocabulary holds its logits at the moment backward starts.
enum class LossKind {
  fp32_full,     ///< logits upcast to fp32, then cross-entropy: saved fp32 log-softmax + its gradient in and out
  fp32_full_kept,///< as fp32_full, with the fp32 logits returned by the model and kept by the loop until backward ends
  fp32_chunked,  ///< fp32 cross-entropy chunk by chunk: the saved fp32 log-softmax of every chunk + one chunk's gradients
  bf16_chunked,  ///< 16-bit logits kept and cross-entropy in 16 bits, chunked
  fused,         ///< fused kernel (or a compiled chunked loss): 16-bit logits, no fp32 copy
};

/// What activation checkpointing keeps per layer.
enum class Checkpointing {
  none,          ///< every tensor backward needs
  full,          ///< the layer input only; one layer is rebuilt at a time during backward
  selective_op,  ///< layer input, attention output and every other matmul output (torchtitan's "op" policy)
  offloaded,     ///< full checkpointing with the layer inputs moved to CPU memory
};

/// A stack's documented memory behaviour. Every field's source is in `sources`, in field order.
struct StackProfile {
  Stack stack;
  std::string_view name;          ///< as typed after --stack
  std::string_view description;
  bool pure_bf16 = false;         ///< weights, gradients and AdamW moments all 16-bit; no fp32 master copy
  bool fp32_params = false;       ///< weights kept in fp32 and computed in bf16 (autocast, or FSDP2's MixedPrecisionPolicy): no separate master copy
  bool adapters_fp32 = false;     ///< LoRA adapters kept in fp32 (PEFT's autocast_adapter_dtype)
  LossKind loss = LossKind::fp32_full;
  bool fused_kernels = false;     ///< norms/activations fused or compiled: only the inputs of matmuls are saved
  bool fused_attention = false;   ///< cuDNN / FlashAttention-3 class attention on Hopper and later (else FlashAttention-2 via SDPA)
  Checkpointing checkpointing_full = Checkpointing::none;    ///< default for full fine-tuning / pretraining
  Checkpointing checkpointing_adapter = Checkpointing::none; ///< default for LoRA / QLoRA
  double lora_dropout = 0;        ///< default adapter dropout
  bool foreach_optimizer = true;  ///< torch AdamW's multi-tensor path: one moment-sized temporary at the step
  bool grads_persistent = false;  ///< gradient buffers live across steps (DeepSpeed, Megatron's main_grad)
  bool fp32_grads = false;        ///< gradients accumulated in fp32 (4 bytes) whatever the weights' format
  int default_zero_stage_multi_gpu = 0; ///< sharding used when the plan has data parallelism
  bool ddp_buckets = false;       ///< DistributedDataParallel: flat bucket copies of every gradient
  /// The caching allocator's reserve over the allocated peak (reserved / allocated - 1): low, expected, high.
  double reserve_low = 0.0, reserve_expected = 0.06, reserve_high = 0.24;
  std::vector<std::string_view> sources;
};

/// Every stack, in --help order.
const std::vector<StackProfile>& stack_profiles();
const StackProfile& stack_profile(Stack s);
std::string_view to_string(Stack s);
/// Parses a stack name (case-insensitive; "hf", "transformers", "peft" = hf-trainer). Throws InputError.
Stack parse_stack(std::string_view text);
/// The stack a user of the task most likely runs: Hugging Face Trainer/PEFT for fine-tuning and adapters,
/// Megatron-LM for pretraining.
Stack default_stack(Task task);
/// Bytes per (token x vocabulary entry) the loss holds at the start of backward (docs/training.md).
double loss_bytes_per_logit(LossKind k);
/// Bytes per (token x vocabulary entry) still held while the layers run backward (logits the loop keeps).
double loss_held_bytes_per_logit(LossKind k);
std::string_view to_string(LossKind k);
std::string_view to_string(Checkpointing c);
/// Parses none|full|selective-op|offloaded. Throws InputError.
Checkpointing parse_checkpointing(std::string_view text);

} // namespace gpuadvise
