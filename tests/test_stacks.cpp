// Stack-aware training memory: each accounting term against numbers worked out by hand from the
// formulas in docs/training.md ("Training stacks", "Peak memory as the trainer reaches it").
#include <gpuadvise/embedded.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/stacks.hpp>
#include <gpuadvise/training.hpp>
#include <gpuadvise/training_validation.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>

using namespace gpuadvise;

namespace {

/// A small Llama-shaped model with round numbers: h = 1024, 4 layers, 8 heads / 2 KV heads of 128,
/// gated MLP 4096, vocabulary 32000, untied.
ModelShape tiny() {
  ModelShape s;
  s.id = "tiny";
  s.num_layers = 4;
  s.hidden_size = 1024;
  s.num_attention_heads = 8;
  s.num_kv_heads = 2;
  s.head_dim = 128;
  s.intermediate_size = 4096;
  s.gated_mlp = true;
  s.vocab_size = 32000;
  return s;
}

Workload tiny_workload() {
  Workload w;
  w.shape = tiny();
  w.origin = ModelOrigin::preset;
  const auto counts = count_params(w.shape);
  w.params_total = counts.total;
  w.params_active = counts.active;
  w.params_embedding = counts.embedding;
  w.precision = Precision::bf16;
  return w;
}

const GpuCatalog& gpus() {
  static const GpuCatalog catalog = GpuCatalog::embedded();
  return catalog;
}
const Assumptions& assumptions() {
  static const Assumptions a = Assumptions::embedded();
  return a;
}

TrainingSetup stack_setup(Stack st, Task task, std::int64_t b, std::int64_t s) {
  TrainingSetup t;
  t.stack = st;
  t.task = task;
  t.micro_batch = b;
  t.sequence = s;
  return t;
}

} // namespace

TEST_CASE("Loss bytes per logit: fp32 full 12, fp32 chunked 5, bf16 chunked 4, fused 2", "[stacks]") {
  CHECK(loss_bytes_per_logit(LossKind::fp32_full) == 4 + 4 + 4);
  CHECK(loss_bytes_per_logit(LossKind::fp32_chunked) == 4 + 8.0 / 8);
  CHECK(loss_bytes_per_logit(LossKind::bf16_chunked) == 2 + 2);
  CHECK(loss_bytes_per_logit(LossKind::fused) == 2);
}

TEST_CASE("fp32 logits at the loss backward = batch x sequence x vocabulary x 12 B", "[stacks]") {
  // No checkpointing, a long vocabulary and a short model: the loss backward is the peak.
  const Workload w = tiny_workload();
  TrainingSetup s = stack_setup(Stack::torchtitan, Task::pretrain, 4, 2048);
  s.checkpointing = Checkpointing::full;
  const auto m = estimate_training_memory(w, s, {1, 1, 1}, gpus().find("h100-sxm"), assumptions());
  REQUIRE(m.peak_moment == "loss backward");
  CHECK(m.logits_bytes == Approx(4.0 * 2048 * 32000 * 12));
  // Chunked fp32 (torchtune) holds 5 bytes per logit instead.
  s.loss = LossKind::fp32_chunked;
  const auto c = estimate_training_memory(w, s, {1, 1, 1}, gpus().find("h100-sxm"), assumptions());
  if (c.peak_moment == "loss backward") CHECK(c.logits_bytes == Approx(4.0 * 2048 * 32000 * 5));
}

TEST_CASE("Eager activations per token per layer, full fine-tune, term by term", "[stacks]") {
  // h = 1024, Q = 8 x 128 = 1024, K = V = 2 x 128 = 256, f = 4096.
  // norms: 2 x (4h fp32 input + 2h output) = 12288; attention: 2h input + 2 (Q + K + V) + 2 x out
  // = 2048 + 2 x 1536 + 2048 = 7168; MLP: 2h input + 3 x 2f + 2f (down input) = 2048 + 32768 = 34816.
  TrainingSetup s = stack_setup(Stack::hf_trainer, Task::finetune, 1, 1);
  CHECK(stack_layer_activation_bytes_per_token(tiny(), s, 0) == Approx(12288 + 7168 + 34816));
}

TEST_CASE("LoRA saves x A (2r) per target and, with dropout, the dropped input and its mask (3 d_in)", "[stacks]") {
  TrainingSetup s = stack_setup(Stack::hf_trainer, Task::lora, 1, 1);
  s.lora_rank = 16;
  s.lora_targets = {"q", "v"};
  s.lora_dropout = 0.0;
  const double no_dropout = stack_layer_activation_bytes_per_token(tiny(), s, 0);
  // Frozen base: norms 2 x 4h = 8192; attention 2h + 2 x 1536 + 2048 = 7168; MLP without trainable
  // gate/up/down inputs: 3 x 2f = 24576; adapters 2 x 2r = 64.
  CHECK(no_dropout == Approx(8192 + 7168 + 24576 + 64));
  s.lora_dropout = 0.1;
  CHECK(stack_layer_activation_bytes_per_token(tiny(), s, 0) - no_dropout == Approx(2 * 3 * 1024));
}

TEST_CASE("Full checkpointing stores 2h per token per layer and rebuilds one layer", "[stacks]") {
  // A vocabulary of 1000 keeps the loss small, so rebuilding the last layer is the peak.
  Workload w = tiny_workload();
  w.shape.vocab_size = 1000;
  const auto counts = count_params(w.shape);
  w.params_total = counts.total;
  w.params_embedding = counts.embedding;
  TrainingSetup s = stack_setup(Stack::torchtune, Task::finetune, 8, 4096);
  s.checkpointing = Checkpointing::full;
  const auto m = estimate_training_memory(w, s, {1, 1, 1}, gpus().find("h100-sxm"), assumptions());
  REQUIRE(m.peak_moment == "last layer backward");
  CHECK(m.activation_bytes == Approx(2.0 * 1024 * 4 * 8 * 4096));                  // 2h x layers x tokens
  CHECK(m.recompute_bytes == Approx(8.0 * 4096 * (12288 + 7168 + 34816)));        // one layer's eager inventory
  CHECK(m.gradients_bytes == Approx(1000.0 * 1024 * 2));                           // the LM head's bf16 gradient
}

TEST_CASE("Pure bf16 (torchtune) holds 8 bytes per parameter at the optimizer step, HF autocast 16 + a 4 B temporary", "[stacks]") {
  const Workload w = tiny_workload();
  const double n = w.params_total;
  // One 1-token sequence: activations and logits are negligible, so the step is the peak.
  TrainingSetup tt = stack_setup(Stack::torchtune, Task::finetune, 1, 1);
  const auto a = estimate_training_memory(w, tt, {1, 1, 1}, gpus().find("h100-sxm"), assumptions());
  REQUIRE(a.peak_moment == "optimizer step");
  CHECK(a.weights_bytes == Approx(2 * n));
  CHECK(a.optimizer_bytes == Approx(4 * n)); // two bf16 moments, no master copy
  CHECK(a.gradients_bytes == Approx(2 * n));
  CHECK(a.step_bytes == 0);                  // fused AdamW
  TrainingSetup hf = stack_setup(Stack::hf_trainer, Task::finetune, 1, 1);
  const auto b = estimate_training_memory(w, hf, {1, 1, 1}, gpus().find("h100-sxm"), assumptions());
  REQUIRE(b.peak_moment == "optimizer step");
  CHECK(b.weights_bytes == Approx(4 * n));   // fp32 weights under autocast
  CHECK(b.optimizer_bytes == Approx(8 * n));
  CHECK(b.gradients_bytes == Approx(4 * n));
  CHECK(b.step_bytes == Approx(4 * n));      // torch AdamW foreach: one fp32 moment-sized temporary
}

TEST_CASE("Optimizer in backward keeps only the largest gradient; paged moments go to managed memory", "[stacks]") {
  const Workload w = tiny_workload();
  TrainingSetup s = stack_setup(Stack::torchtune, Task::finetune, 1, 1);
  s.optimizer = Optimizer::adamw_8bit;
  s.paged_optimizer = true;
  s.optimizer_in_backward = true;
  const auto m = estimate_training_memory(w, s, {1, 1, 1}, gpus().find("h100-sxm"), assumptions());
  // 8-bit moments: 2 x (1 + 4/2048) bytes per parameter, outside PyTorch's counters.
  CHECK(m.managed_bytes == Approx(w.params_total * 2 * (1 + 4.0 / 2048)));
  CHECK(m.optimizer_bytes == 0);
  // The largest gradient is the LM head's, vocabulary x h x 2 B.
  CHECK(m.gradients_bytes <= 32000.0 * 1024 * 2 * (1 + 1e-12));
  CHECK(m.total_bytes == Approx(m.reserved_bytes + m.managed_bytes + m.overhead_bytes));
}

TEST_CASE("FSDP/ZeRO-3 in flight: two unsharded units of 16-bit weights plus the unit's gradients", "[stacks]") {
  const Workload w = tiny_workload();
  TrainingSetup s = stack_setup(Stack::fsdp, Task::lora, 1, 1024);
  s.zero_stage = 3;
  const auto m = estimate_training_memory(w, s, {1, 1, 8}, gpus().find("h100-sxm"), assumptions());
  // LoRA: frozen units, no gradients; unit = one layer = (N - embeddings) / L parameters.
  const double layer = (w.params_total - w.params_embedding) / 4;
  if (m.peak_moment != "optimizer step") CHECK(m.in_flight_bytes == Approx(2 * layer * 2));
  // The frozen bf16 base and the bf16 adapters are sharded 8 ways.
  CHECK(m.weights_bytes == Approx((2.0 * w.params_total + 2.0 * m.trainable_params) / 8));
}

TEST_CASE("QLoRA adds one dequantized h x f projection in 16 bits", "[stacks]") {
  const Workload w = tiny_workload();
  TrainingSetup s = stack_setup(Stack::hf_trainer, Task::qlora, 1, 512);
  const auto m = estimate_training_memory(w, s, {1, 1, 1}, gpus().find("rtx-4090"), assumptions());
  if (m.peak_moment != "optimizer step") CHECK(m.in_flight_bytes == Approx(1024.0 * 4096 * 2));
}

TEST_CASE("DDP buckets copy every gradient; hf-trainer's allocator reserve is 6% of the allocated peak", "[stacks]") {
  const Workload w = tiny_workload();
  TrainingSetup s = stack_setup(Stack::hf_trainer, Task::finetune, 1, 1);
  s.zero_stage = 0;
  const auto m = estimate_training_memory(w, s, {1, 1, 2}, gpus().find("h100-sxm"), assumptions());
  CHECK(m.bucket_bytes == Approx(w.params_total * 4)); // fp32 gradients
  CHECK(m.reserve_bytes == Approx(0.06 * m.allocated_bytes));
  CHECK(m.reserved_bytes == Approx(1.06 * m.allocated_bytes));
}

TEST_CASE("The largest micro-batch fits and one more does not", "[stacks]") {
  const Workload w = tiny_workload();
  const Gpu& gpu = gpus().find("rtx-4090");
  TrainingSetup s = stack_setup(Stack::hf_trainer, Task::finetune, 1, 2048);
  const auto m = estimate_training_memory(w, s, {1, 1, 1}, gpu, assumptions());
  REQUIRE(m.largest_micro_batch > 0);
  s.micro_batch = m.largest_micro_batch;
  CHECK(estimate_training_memory(w, s, {1, 1, 1}, gpu, assumptions()).fits());
  s.micro_batch = m.largest_micro_batch + 1;
  CHECK_FALSE(estimate_training_memory(w, s, {1, 1, 1}, gpu, assumptions()).fits());
  s.micro_batch = 1;
  s.sequence = m.longest_sequence;
  CHECK(estimate_training_memory(w, s, {1, 1, 1}, gpu, assumptions()).fits());
  s.sequence = m.longest_sequence + 1;
  CHECK_FALSE(estimate_training_memory(w, s, {1, 1, 1}, gpu, assumptions()).fits());
}

TEST_CASE("Default stacks by task, and stack names", "[stacks]") {
  CHECK(default_stack(Task::lora) == Stack::hf_trainer);
  CHECK(default_stack(Task::finetune) == Stack::hf_trainer);
  CHECK(default_stack(Task::pretrain) == Stack::megatron);
  for (const auto& p : stack_profiles()) {
    CHECK(parse_stack(p.name) == p.stack);
    CHECK_FALSE(p.sources.empty());
  }
  CHECK(parse_stack("HF") == Stack::hf_trainer);
  CHECK_THROWS_AS(parse_stack("keras"), InputError);
}

TEST_CASE("Training memory validation: a malformed row names its id", "[stacks]") {
  const std::string doc = R"({"rows": [{"id": "x", "source": "s", "trainer": "t", "stack": "nope", "model": "llama-2-7b",
    "task": "lora", "gpu": "rtx-4090", "micro_batch": 1, "sequence": 512, "metric": "allocated", "value": 10, "unit": "GiB"}]})";
  static const ModelCatalog models = ModelCatalog::embedded();
  try {
    run_training_memory_validation(doc, "test.json", gpus(), models, assumptions());
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("'x'") != std::string::npos);
  }
}

TEST_CASE("Selective op checkpointing keeps the input, the attention output and half the matmul outputs", "[stacks]") {
  // Per token per layer: 2h + 2 x attention output + (2 (Q + K + V + h + 2f + h)) / 2
  // = 2048 + 2048 + (2 x (1024 + 256 + 256 + 1024 + 8192 + 1024)) / 2 = 15872.
  const Workload w = tiny_workload();
  TrainingSetup s = stack_setup(Stack::torchtitan, Task::pretrain, 4, 1024);
  const auto m = estimate_training_memory(w, s, {1, 1, 1}, gpus().find("h100-sxm"), assumptions());
  REQUIRE(m.peak_moment == "loss backward");
  CHECK(m.activation_bytes == Approx(15872.0 * 4 * 1024 * 4));
}

TEST_CASE("Offloaded checkpointing keeps no layer activations on the GPU", "[stacks]") {
  const Workload w = tiny_workload();
  TrainingSetup s = stack_setup(Stack::unsloth, Task::lora, 1, 4096);
  const auto m = estimate_training_memory(w, s, {1, 1, 1}, gpus().find("rtx-4090"), assumptions());
  CHECK(m.activation_bytes == 0);
}

TEST_CASE("fp32 logits kept in the model output stay alive through the layers' backward (4 B per logit)", "[stacks]") {
  Workload w = tiny_workload();
  w.shape.vocab_size = 1000;
  const auto counts = count_params(w.shape);
  w.params_total = counts.total;
  w.params_embedding = counts.embedding;
  TrainingSetup s = stack_setup(Stack::fsdp, Task::lora, 8, 4096);
  const auto m = estimate_training_memory(w, s, {1, 1, 1}, gpus().find("h100-sxm"), assumptions());
  REQUIRE(m.peak_moment == "last layer backward");
  CHECK(m.logits_bytes == Approx(8.0 * 4096 * 1000 * 4));
  CHECK(loss_bytes_per_logit(LossKind::fp32_full_kept) == 4 + 12);
}

TEST_CASE("QLoRA saves the input of every 4-bit projection (bitsandbytes MatMul4Bit)", "[stacks]") {
  TrainingSetup s = stack_setup(Stack::hf_trainer, Task::qlora, 1, 1);
  s.lora_rank = 16;
  s.lora_targets = {"q", "v"};
  s.lora_dropout = 0.0;
  // As the LoRA case (40000 bytes) plus the MLP input (2h = 2048) and the down input (2f = 8192).
  CHECK(stack_layer_activation_bytes_per_token(tiny(), s, 0) == Approx(40000 + 2048 + 8192));
}

TEST_CASE("CPU offload of parameters moves weights, gradients and optimizer state to CPU memory", "[stacks]") {
  const Workload w = tiny_workload();
  TrainingSetup s = stack_setup(Stack::torchtune, Task::finetune, 1, 1024);
  s.offload_params = true;
  s.zero_stage = 3;
  const auto m = estimate_training_memory(w, s, {1, 1, 8}, gpus().find("a100-80gb-sxm"), assumptions());
  CHECK(m.weights_bytes == 0);
  CHECK(m.optimizer_bytes == 0);
  // Pure bf16: 2 (weights) + 2 (gradients) + 4 (two bf16 moments) bytes per parameter, sharded 8 ways.
  CHECK(m.offloaded_bytes == Approx(8.0 * w.params_total / 8));
}

TEST_CASE("The published training peaks: >= 30 counted rows from >= 6 sources, median error <= 10%", "[stacks]") {
  static const ModelCatalog models = ModelCatalog::embedded();
  const auto rows = run_training_memory_validation(embedded_training_memory_validation_json(), "embedded", gpus(), models,
                                                   assumptions());
  std::set<std::string> sources, tasks;
  int counted = 0;
  bool single = false, multi = false;
  for (const auto& r : rows) {
    if (!r.excluded.empty()) continue;
    ++counted;
    sources.insert(r.source.substr(0, r.source.find(' ')));
    tasks.insert(r.task);
    (r.gpu_count > 1 ? multi : single) = true;
  }
  CHECK(counted >= 30);
  CHECK(sources.size() >= 6);
  CHECK(tasks == std::set<std::string>{"finetune", "lora", "qlora", "pretrain"});
  CHECK(single);
  CHECK(multi);
  CHECK(median_abs_error(rows) <= 0.10);
}

TEST_CASE("A stack that checkpoints whole layers repeats the forward in the step time", "[stacks]") {
  const Workload w = tiny_workload();
  const Gpu& gpu = gpus().find("h100-sxm");
  TrainingSetup stacked = stack_setup(Stack::hf_trainer, Task::lora, 1, 2048); // full checkpointing
  TrainingSetup generic = stacked;
  generic.stack.reset();
  generic.recompute = Recompute::full;
  const auto a = estimate_training_step(w, stacked, {1, 1, 1}, gpu, assumptions());
  const auto b = estimate_training_step(w, generic, {1, 1, 1}, gpu, assumptions());
  CHECK(a.flops_per_token == Approx(b.flops_per_token));
  stacked.checkpointing = Checkpointing::none;
  generic.recompute = Recompute::none;
  CHECK(estimate_training_step(w, stacked, {1, 1, 1}, gpu, assumptions()).flops_per_token ==
        Approx(estimate_training_step(w, generic, {1, 1, 1}, gpu, assumptions()).flops_per_token));
}
