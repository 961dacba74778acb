#include <gpuadvise/error.hpp>
#include <gpuadvise/stacks.hpp>
#include <gpuadvise/training.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace gpuadvise {
namespace {

std::string squashed(std::string_view text) {
  std::string out;
  for (const char c : text)
    if (c != '-' && c != '_' && c != ' ') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

std::vector<StackProfile> make_profiles() {
  std::vector<StackProfile> p;
  {
    StackProfile s{Stack::torchtune, "torchtune", "torchtune recipes (full_finetune_*, lora_finetune_*)"};
    s.pure_bf16 = true;
    s.loss = LossKind::fp32_chunked;
    s.checkpointing_full = Checkpointing::full;
    s.checkpointing_adapter = Checkpointing::full;
    s.lora_dropout = 0.0;
    s.foreach_optimizer = false;
    s.default_zero_stage_multi_gpu = 3;
    s.reserve_low = 0.0, s.reserve_expected = 0.01, s.reserve_high = 0.06;
    s.sources = {"dtype: bf16 in every recipes/configs/*.yaml (weights, gradients and AdamW moments in bf16)",
                 "loss: torchtune.modules.loss.LinearCrossEntropyLoss / CEWithChunkedOutputLoss (8 chunks, each upcast to fp32)",
                 "enable_activation_checkpointing: True in recipes/configs/llama3_1/8B_*_single_device.yaml",
                 "lora_dropout: 0.0 and torch.optim.AdamW fused: True in recipes/configs/llama3_1/8B_lora_single_device.yaml",
                 "reserved exceeded allocated by 1% and 0.1% in docs/source/tutorials/e2e_flow.rst and qlora_finetune.rst",
                 "pytorch/torchtune@bd2a0fc7c31430972728494fa01aaeeb0ebf1ba1"};
    p.push_back(s);
  }
  {
    StackProfile s{Stack::hf_trainer, "hf-trainer", "Hugging Face Transformers Trainer / TRL SFTTrainer with PEFT"};
    s.fp32_params = true;
    s.adapters_fp32 = true;
    s.loss = LossKind::fp32_full;
    s.checkpointing_full = Checkpointing::full;
    s.checkpointing_adapter = Checkpointing::full;
    s.lora_dropout = 0.0;
    s.ddp_buckets = true;
    s.sources = {"TrainingArguments(bf16=True) is torch.autocast over the loaded weights (fp32 unless torch_dtype is given)",
                 "PEFT LoraModel autocast_adapter_dtype=True keeps adapters in fp32",
                 "transformers loss_utils.ForCausalLMLoss: logits = logits.float() before cross_entropy",
                 "gradient_checkpointing: TRL SFTConfig and PEFT prepare_model_for_kbit_training turn it on",
                 "peft LoraConfig lora_dropout default 0.0 (src/peft/tuners/lora/config.py)",
                 "optim adamw_torch: torch.optim.AdamW multi-tensor (foreach) path",
                 "multi-GPU without FSDP/DeepSpeed: torch DistributedDataParallel, gradient_as_bucket_view=False"};
    p.push_back(s);
  }
  {
    StackProfile s{Stack::axolotl, "axolotl", "axolotl (Hugging Face Trainer underneath, flash-attention, sample packing)"};
    s.adapters_fp32 = true;
    s.loss = LossKind::fp32_full;
    s.checkpointing_full = Checkpointing::full;
    s.checkpointing_adapter = Checkpointing::full;
    s.lora_dropout = 0.05;
    s.ddp_buckets = true;
    s.sources = {"axolotl examples/*.yml: bf16: auto loads the weights in bf16, flash_attention: true, gradient_checkpointing: true",
                 "PEFT adapters in fp32", "Hugging Face causal-LM loss upcasts logits to fp32",
                 "examples/llama-3/lora-8b.yml lora_dropout: 0.05", "torch DistributedDataParallel across GPUs"};
    p.push_back(s);
  }
  {
    StackProfile s{Stack::unsloth, "unsloth", "Unsloth (Triton kernels over Hugging Face Trainer/TRL)"};
    s.adapters_fp32 = true;
    s.loss = LossKind::fused;
    s.fused_kernels = true;
    s.checkpointing_full = Checkpointing::offloaded;
    s.checkpointing_adapter = Checkpointing::offloaded;
    s.lora_dropout = 0.0;
    s.sources = {"FastLanguageModel loads bf16 weights; PEFT adapters fp32",
                 "unsloth/kernels/cross_entropy_loss.py: fused cross-entropy writes the gradient into the 16-bit logits",
                 "unsloth/kernels (rms_layernorm, rope_embedding, swiglu): fused forward/backward kernels",
                 "use_gradient_checkpointing=\"unsloth\": layer inputs offloaded to CPU memory",
                 "lora_dropout = 0 in the notebooks (\"0 is optimized\")"};
    p.push_back(s);
  }
  {
    StackProfile s{Stack::fsdp, "fsdp", "PyTorch FSDP with a Hugging Face model (Accelerate, or Answer.AI's fsdp_qlora train.py)"};
    s.pure_bf16 = true;
    s.adapters_fp32 = false;
    s.loss = LossKind::fp32_full_kept;
    s.reserve_low = 0.12, s.reserve_expected = 0.18, s.reserve_high = 0.24;
    s.checkpointing_full = Checkpointing::full;
    s.checkpointing_adapter = Checkpointing::full;
    s.lora_dropout = 0.1;
    s.default_zero_stage_multi_gpu = 3;
    s.sources = {"AnswerDotAI/fsdp_qlora train.py: precision \"bf16\" (weights and adapters bf16), FULL_SHARD",
                 "transformers < 4.46 LlamaForCausalLM returns fp32 logits (logits.float()); train.py keeps `output` until backward ends",
                 "FSDP1 all-gathers on a side stream (recordStream): reserved exceeded allocated by 12% and 24% in fsdp_qlora's published pairs", "use_gradient_checkpointing: True",
                 "lora_dropout: 0.1 (train.py default)", "FSDP FULL_SHARD = ZeRO-3 over the data-parallel GPUs"};
    p.push_back(s);
  }
  {
    StackProfile s{Stack::torchtitan, "torchtitan", "torchtitan (FSDP2, optional TP/PP/CP)"};
    s.fp32_params = true;
    s.loss = LossKind::fp32_full;
    s.checkpointing_full = Checkpointing::selective_op;
    s.checkpointing_adapter = Checkpointing::selective_op;
    s.foreach_optimizer = false;
    s.fp32_grads = true;
    s.default_zero_stage_multi_gpu = 3;
    s.sources = {"fp32 sharded parameters, MixedPrecisionPolicy(param_dtype=bf16, reduce_dtype=fp32)",
                 "torchtitan/components/loss.py: cross_entropy(pred.float(), labels)",
                 "llama3_8b.toml: activation_checkpoint mode = selective, selective_ac_option = op",
                 "optimizer implementation = fused", "pytorch/torchtitan@b5bcd76c66d0acb1a08b176d9639425bc55e0b2a"};
    p.push_back(s);
  }
  {
    StackProfile s{Stack::deepspeed, "deepspeed", "DeepSpeed ZeRO (through Hugging Face Trainer/Accelerate)"};
    s.adapters_fp32 = true;
    s.loss = LossKind::fp32_full;
    s.checkpointing_full = Checkpointing::full;
    s.checkpointing_adapter = Checkpointing::full;
    s.foreach_optimizer = false;
    s.grads_persistent = true;
    s.fp32_grads = true;
    s.default_zero_stage_multi_gpu = 2;
    s.sources = {"bf16 weights, fp32 master and moments in the optimizer partition (Rajbhandari et al. 2020)",
                 "Hugging Face causal-LM loss upcasts logits to fp32", "gradient_checkpointing on in the PEFT DeepSpeed guide",
                 "DeepSpeed FusedAdam: no multi-tensor temporaries",
                 "ZeRO keeps fp32 gradient partitions allocated across steps (DeepSpeed stage_1_and_2.py averaged_gradients)",
                 "stage 2 (ds_config_zero2.json) is the Hugging Face integration's usual example"};
    p.push_back(s);
  }
  {
    StackProfile s{Stack::megatron, "megatron", "Megatron-LM / Megatron-Core (Transformer Engine)"};
    s.loss = LossKind::fp32_full;
    s.fused_kernels = true;
    s.fused_attention = true;
    s.checkpointing_full = Checkpointing::none;
    s.checkpointing_adapter = Checkpointing::none;
    s.foreach_optimizer = false;
    s.grads_persistent = true;
    s.fp32_grads = true;
    s.default_zero_stage_multi_gpu = 1;
    s.sources = {"bf16 weights with fp32 main parameters and moments (--bf16, distributed optimizer)",
                 "vocab_parallel_cross_entropy computes in fp32",
                 "Transformer Engine fused LayerNorm/RMSNorm + GEMM, fused bias-activation",
                 "attention: Transformer Engine DotProductAttention picks cuDNN fused attention (FlashAttention-3 class on Hopper)",
                 "--recompute-granularity selective with flash attention stores what Korthikanti et al. 2022 list",
                 "apex/TE FusedAdam", "main_grad fp32 buffers live across steps (--accumulate-allreduce-grads-in-fp32)",
                 "--use-distributed-optimizer shards optimizer states (ZeRO-1)"};
    p.push_back(s);
  }
  {
    StackProfile s{Stack::litgpt, "litgpt", "LitGPT finetune / pretrain (Lightning Fabric)"};
    s.pure_bf16 = true;
    s.loss = LossKind::bf16_chunked;
    s.checkpointing_full = Checkpointing::none;
    s.checkpointing_adapter = Checkpointing::none;
    s.lora_dropout = 0.05;
    s.sources = {"precision: bf16-true in config_hub/finetune/*.yaml (weights, gradients, AdamW moments bf16)",
                 "litgpt/utils.py chunked_cross_entropy: 128-token chunks on the bf16 logits (lm_head_chunk_size=128)",
                 "no activation checkpointing in litgpt/finetune/lora.py", "lora_dropout: 0.05 in config_hub",
                 "torch.optim.AdamW (foreach)", "Lightning-AI/litgpt@26857050fe3ff627cd714fe92f5838f51a3d5efa"};
    p.push_back(s);
  }
  return p;
}

} // namespace

const std::vector<StackProfile>& stack_profiles() {
  static const std::vector<StackProfile> profiles = make_profiles();
  return profiles;
}

const StackProfile& stack_profile(Stack s) {
  for (const auto& p : stack_profiles())
    if (p.stack == s) return p;
  throw InternalError("stack_profile: unknown stack");
}

std::string_view to_string(Stack s) { return stack_profile(s).name; }

Stack parse_stack(std::string_view text) {
  const std::string t = squashed(text);
  if (t == "hf" || t == "transformers" || t == "peft" || t == "trl" || t == "huggingface") return Stack::hf_trainer;
  if (t == "megatronlm" || t == "megatroncore") return Stack::megatron;
  for (const auto& p : stack_profiles())
    if (squashed(p.name) == t) return p.stack;
  std::string names;
  for (const auto& p : stack_profiles()) names += (names.empty() ? "" : ", ") + std::string(p.name);
  throw InputError(fmt::format("unknown stack '{}': expected one of {}", text, names));
}

Stack default_stack(Task task) { return task == Task::pretrain ? Stack::megatron : Stack::hf_trainer; }

double loss_bytes_per_logit(LossKind k) {
  switch (k) {
  // Saved fp32 log-softmax (4) + the gradient flowing into it (4) + the gradient it returns (4).
  case LossKind::fp32_full: return 12;
  // The fp32 logits the loop keeps (4) + the same three tensors.
  case LossKind::fp32_full_kept: return 16;
  // Every chunk's saved fp32 log-softmax (4) + one of 8 chunks' gradients in and out (8 / 8).
  case LossKind::fp32_chunked: return 5;
  // The 16-bit logits kept for backward (2) + every chunk's saved 16-bit log-softmax (2).
  case LossKind::bf16_chunked: return 4;
  // 16-bit logits whose gradient is written in place.
  case LossKind::fused: return 2;
  }
  return 12;
}

double loss_held_bytes_per_logit(LossKind k) {
  switch (k) {
  case LossKind::fp32_full_kept: return 4;
  case LossKind::bf16_chunked: return 2;
  default: return 0;
  }
}

std::string_view to_string(LossKind k) {
  switch (k) {
  case LossKind::fp32_full: return "fp32 cross-entropy over the full logits";
  case LossKind::fp32_full_kept: return "fp32 logits kept in the model output + fp32 cross-entropy";
  case LossKind::fp32_chunked: return "fp32 cross-entropy in chunks";
  case LossKind::bf16_chunked: return "16-bit chunked cross-entropy";
  case LossKind::fused: return "fused cross-entropy";
  }
  return "?";
}

std::string_view to_string(Checkpointing c) {
  switch (c) {
  case Checkpointing::none: return "none";
  case Checkpointing::full: return "full";
  case Checkpointing::selective_op: return "selective-op";
  case Checkpointing::offloaded: return "offloaded";
  }
  return "?";
}

Checkpointing parse_checkpointing(std::string_view text) {
  const std::string t = squashed(text);
  if (t == "none" || t == "off") return Checkpointing::none;
  if (t == "full" || t == "layer") return Checkpointing::full;
  if (t == "selectiveop" || t == "op" || t == "selective") return Checkpointing::selective_op;
  if (t == "offloaded" || t == "offload") return Checkpointing::offloaded;
  throw InputError(fmt::format("unknown activation checkpointing '{}': expected none, full, selective-op or offloaded", text));
}

} // namespace gpuadvise
