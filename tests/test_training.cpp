// Training memory, step time and plan search against values worked out from the papers' formulas and
// the published model shapes (docs/training.md).
#include <gpuadvise/error.hpp>
#include <gpuadvise/training.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace gpuadvise;

namespace {

/// The built-in catalogs, kept alive for the references find() returns.
const ModelCatalog& models() {
  static const ModelCatalog catalog = ModelCatalog::embedded();
  return catalog;
}
const GpuCatalog& gpus() {
  static const GpuCatalog catalog = GpuCatalog::embedded();
  return catalog;
}

/// A workload for a catalog preset, as build_workload makes it (parameters from the shape).
Workload preset_workload(std::string_view id, Precision p = Precision::bf16) {
  const ModelShape* shape = models().find(id);
  REQUIRE(shape != nullptr);
  Workload w;
  w.shape = *shape;
  w.origin = ModelOrigin::preset;
  const auto counts = count_params(*shape);
  w.params_total = counts.total;
  w.params_active = counts.active;
  w.params_embedding = counts.embedding;
  w.precision = p;
  return w;
}

/// GPT-3 175B as in Korthikanti et al. 2022, Table 3: h = 12288, a = 96, L = 96, 4h GeLU MLP, MHA.
ModelShape gpt3_175b() {
  ModelShape s;
  s.id = "gpt3-175b";
  s.num_layers = 96;
  s.hidden_size = 12288;
  s.num_attention_heads = 96;
  s.num_kv_heads = 96;
  s.head_dim = 128;
  s.intermediate_size = 4 * 12288;
  s.gated_mlp = false;
  s.layernorm = true;
  s.vocab_size = 51200;
  return s;
}

/// Korthikanti et al.'s setting: dropout masks stored, attention scores materialised.
TrainingSetup korthikanti_setup(Recompute r, std::int64_t s, std::int64_t b) {
  TrainingSetup setup;
  setup.recompute = r;
  setup.sequence = s;
  setup.micro_batch = b;
  setup.dropout = true;
  setup.flash_attention = false;
  return setup;
}

/// Assumptions with MFU 1 and no runtime overhead, so times are FLOPs / peak.
Assumptions plain_assumptions() {
  return Assumptions::from_json(R"({
    "runtime_overhead_gib": 0,
    "max_batched_tokens": 8192,
    "gemm_half_efficiency_tokens": 0,
    "moe_compute_efficiency": 1,
    "int4_group_size": 128,
    "default_runtime": "plain",
    "runtimes": {"plain": {"name": "no fixed costs", "step_overhead_ms": 0, "layer_overhead_us": 0, "source": "test"}},
    "efficiency": {
      "bandwidth": {"low": 1, "expected": 1, "high": 1, "source": "test"},
      "compute": {"low": 1, "expected": 1, "high": 1, "source": "test"},
      "mfu": {"low": 0.5, "expected": 1, "high": 1, "source": "test"}
    }
  })", "test");
}

double states(const TrainingMemory& m) { return m.weights_bytes + m.gradients_bytes + m.optimizer_bytes; }

} // namespace

TEST_CASE("Mixed-precision state bytes per parameter", "[training]") {
  // 2 (bf16 weights) + 2 (bf16 gradients) + 4 (fp32 master) + 8 (two fp32 moments).
  CHECK(state_bytes_per_param(Optimizer::adamw, false).total() == 16);
  CHECK(state_bytes_per_param(Optimizer::adamw, true).total() == 18);   // DeepSpeed: gradients 2 + 4
  CHECK(state_bytes_per_param(Optimizer::sgd, false).total() == 12);    // momentum 4 instead of moments 8
  CHECK(state_bytes_per_param(Optimizer::adamw_8bit, false).total() == Approx(2 + 2 + 4 + 2 * (1 + 4.0 / 2048)));
  CHECK(state_bytes_per_param(Optimizer::adamw, false, true).total() == 16); // pure fp32: 4 + 4 + 8

  const Workload w = preset_workload("llama-2-7b");
  const Gpu& gpu = gpus().find("h100-sxm");
  const auto a = Assumptions::embedded();
  TrainingSetup s;
  CHECK(states(estimate_training_memory(w, s, {}, gpu, a)) == Approx(16 * w.params_total));
  s.deepspeed_fp32_grads = true;
  CHECK(states(estimate_training_memory(w, s, {}, gpu, a)) == Approx(18 * w.params_total));
  s.deepspeed_fp32_grads = false;
  s.offload_optimizer = true;
  const auto offloaded = estimate_training_memory(w, s, {}, gpu, a);
  CHECK(states(offloaded) == Approx(4 * w.params_total));
  CHECK(offloaded.offloaded_bytes == Approx(12 * w.params_total));
}

TEST_CASE("LoRA trainable parameters from the real projection shapes", "[training]") {
  const ModelShape& llama2 = *models().find("llama-2-7b");
  const double h = 4096, f = 11008, layers = 32, r = 16;
  // q, k, v, o are h x h (MHA); gate and up h x f, down f x h: r (d_in + d_out) each.
  const double expected = layers * r * (4 * (h + h) + 3 * (h + f));
  CHECK(lora_trainable_params(llama2, 16, TrainingSetup{}.lora_targets) == Approx(expected));
  CHECK(expected == 39'976'960); // PEFT's "trainable params" for Llama-2-7B, r = 16, all linear layers
  CHECK(lora_trainable_params(llama2, 8, {"q_proj", "v_proj"}) == Approx(layers * 8 * 2 * (h + h)));

  // GQA: Llama-3-8B's k/v project 4096 -> 8 KV heads x 128 = 1024.
  const ModelShape& llama3 = *models().find("llama-3-8b");
  CHECK(lora_trainable_params(llama3, 16, {"k", "v"}) == Approx(32 * 16 * 2 * (4096 + 1024)));
  CHECK_THROWS_AS(lora_trainable_params(llama3, 16, {"qkv"}), InputError);
}

TEST_CASE("QLoRA NF4 with double quantization costs about 0.127 bits per weight extra", "[training]") {
  // Dettmers et al. 2023, section 3: 8/64 + 32/(64 x 256) = 0.127 bits.
  CHECK((nf4_bytes_per_param(true) - 0.5) * 8 == Approx(8.0 / 64 + 32.0 / (64 * 256)));
  CHECK((nf4_bytes_per_param(true) - 0.5) * 8 == Approx(0.127).margin(0.0005));
  CHECK(nf4_bytes_per_param(false) == Approx(0.5 + 4.0 / 64)); // fp32 absmax per block of 64
}

TEST_CASE("Korthikanti et al. 2022 activation formula, GPT-3 175B with t = 8", "[training]") {
  const ModelShape gpt3 = gpt3_175b();
  const double s = 2048, b = 1, h = 12288, a = 96, t = 8;
  // Tensor + sequence parallel (paper, eq. 3 and Table 2): s b h / t (34 + 5 a s / h).
  CHECK(activation_bytes_per_layer(gpt3, korthikanti_setup(Recompute::none, 2048, 1), 8) ==
        Approx(s * b * h / t * (34 + 5 * a * s / h)));
  // Selective recomputation: 34 s b h / t.
  CHECK(activation_bytes_per_layer(gpt3, korthikanti_setup(Recompute::selective, 2048, 1), 8) ==
        Approx(34 * s * b * h / t));
  // Full recomputation: the layer input, 2 s b h / t.
  CHECK(activation_bytes_per_layer(gpt3, korthikanti_setup(Recompute::full, 2048, 1), 8) == Approx(2 * s * b * h / t));
  // FlashAttention removes the a s^2 term too.
  TrainingSetup flash = korthikanti_setup(Recompute::none, 2048, 1);
  flash.flash_attention = true;
  CHECK(activation_bytes_per_layer(gpt3, flash, 8) == Approx(34 * s * b * h / t));
}

TEST_CASE("The generalised activation count reduces to 34 sbh + 5 a s^2 b without TP", "[training]") {
  // MHA with a = KV heads, a 4h GeLU MLP: the GQA and gated terms collapse to Korthikanti's.
  ModelShape shape = gpt3_175b();
  shape.hidden_size = 2048;
  shape.num_attention_heads = 16;
  shape.num_kv_heads = 16;
  shape.intermediate_size = 4 * 2048;
  for (const std::int64_t seq : {512, 4096}) {
    for (const std::int64_t b : {1, 3}) {
      const double s = seq, h = 2048, a = 16;
      CHECK(activation_bytes_per_layer(shape, korthikanti_setup(Recompute::none, seq, b), 1) ==
            Approx(34 * s * b * h + 5 * a * s * s * b));
    }
  }
}

TEST_CASE("Activations with GQA, a gated MLP and no dropout, term by term", "[training]") {
  const ModelShape& llama3 = *models().find("llama-3-8b");
  const double h = 4096, q = 32 * 128, kv = 8 * 128, f = 14336, s = 4096;
  // Norm inputs 2 x 2h, q/k/v input 2h, Q 2q, K and V 2 x 2kv, o input 2q, MLP input 2h, gate/up/act*up 3 x 2f.
  const double per_token = 4 * h + 2 * h + 2 * q + 4 * kv + 2 * q + 2 * h + 6 * f;
  TrainingSetup setup; // selective recomputation, FlashAttention, no dropout
  setup.sequence = 4096;
  CHECK(activation_bytes_per_layer(llama3, setup, 1) == Approx(s * per_token));
  // TP = 8 with 8 KV heads: everything splits 8 ways; TP = 2 likewise.
  CHECK(activation_bytes_per_layer(llama3, setup, 8) == Approx(s * per_token / 8));
}

TEST_CASE("A 7B full fine-tune does not fit one L40; LoRA and QLoRA do", "[training]") {
  const Workload w = preset_workload("llama-2-7b");
  const Gpu& l40 = gpus().find("l40");
  const auto a = Assumptions::embedded();
  TrainingSetup s;
  s.sequence = 2048; // one 2048-token sequence per micro-batch, LoRA rank 16 on all linear layers
  const auto full = estimate_training_memory(w, s, {}, l40, a);
  CHECK_FALSE(full.fits());
  CHECK(full.trainable_params == Approx(w.params_total));

  s.task = Task::lora;
  const auto lora = estimate_training_memory(w, s, {}, l40, a);
  CHECK(lora.fits());
  CHECK(lora.trainable_params == Approx(39'976'960));
  // Frozen bf16 base (2 bytes each) + adapters at 16 bytes per parameter.
  CHECK(states(lora) == Approx(2 * w.params_total + 16 * lora.trainable_params));

  s.task = Task::qlora;
  const auto qlora = estimate_training_memory(w, s, {}, l40, a);
  CHECK(qlora.fits());
  CHECK(qlora.weights_bytes < lora.weights_bytes / 3);
  const double base = (w.params_total - w.params_embedding) * nf4_bytes_per_param(true) + w.params_embedding * 2;
  CHECK(states(qlora) == Approx(base + 16 * qlora.trainable_params));
}

TEST_CASE("ZeRO stages divide optimizer, gradients and weights by dp", "[training]") {
  const Workload w = preset_workload("llama-2-7b");
  const Gpu& gpu = gpus().find("h100-sxm");
  const auto a = Assumptions::embedded();
  const ParallelPlan plan{1, 1, 4};
  TrainingSetup s;
  const auto z0 = estimate_training_memory(w, s, plan, gpu, a);
  CHECK(z0.weights_bytes == Approx(2 * w.params_total));
  CHECK(z0.gradients_bytes == Approx(2 * w.params_total));
  CHECK(z0.optimizer_bytes == Approx(12 * w.params_total));
  s.zero_stage = 1;
  const auto z1 = estimate_training_memory(w, s, plan, gpu, a);
  CHECK(z1.optimizer_bytes == Approx(z0.optimizer_bytes / 4));
  CHECK(z1.gradients_bytes == Approx(z0.gradients_bytes));
  CHECK(z1.weights_bytes == Approx(z0.weights_bytes));
  s.zero_stage = 2;
  const auto z2 = estimate_training_memory(w, s, plan, gpu, a);
  CHECK(z2.gradients_bytes == Approx(z0.gradients_bytes / 4));
  CHECK(z2.weights_bytes == Approx(z0.weights_bytes));
  s.zero_stage = 3;
  const auto z3 = estimate_training_memory(w, s, plan, gpu, a);
  CHECK(z3.weights_bytes == Approx(z0.weights_bytes / 4));
  CHECK(z3.activation_bytes == Approx(z0.activation_bytes)); // data parallel does not split activations
  s.zero_stage = 4;
  CHECK_THROWS_AS(estimate_training_memory(w, s, plan, gpu, a), InputError);
}

TEST_CASE("Tensor and pipeline parallel split the model state", "[training]") {
  const Workload w = preset_workload("llama-2-7b");
  const Gpu& gpu = gpus().find("h100-sxm");
  const auto a = Assumptions::embedded();
  const TrainingSetup s;
  const auto one = estimate_training_memory(w, s, {}, gpu, a);
  const auto tp4 = estimate_training_memory(w, s, {4, 1, 1}, gpu, a);
  CHECK(states(tp4) == Approx(states(one) / 4));
  // PP = 4: a quarter of the layers plus one 32000 x 4096 table (untied: embedding or LM head).
  const auto pp4 = estimate_training_memory(w, s, {1, 4, 1}, gpu, a);
  const double stage = (w.params_total - w.params_embedding) / 4 + 32000.0 * 4096;
  CHECK(states(pp4) == Approx(16 * stage));
  // 1F1B: the first stage holds 4 micro-batches of 8 layers = one micro-batch of all 32 layers.
  CHECK(pp4.activation_bytes == Approx(32 * activation_bytes_per_layer(w.shape, s, 1)));
  CHECK_THROWS_AS(estimate_training_memory(w, s, {1, 3, 1}, gpu, a), InputError);  // 3 does not divide 32 layers
  CHECK_THROWS_AS(estimate_training_memory(w, s, {3, 1, 1}, gpu, a), InputError);  // nor 32 heads
  // A caller bug, not bad input (issue 12): InternalError, exit 3 at the CLI.
  CHECK_THROWS_AS(estimate_training_memory(w, TrainingSetup{Task::inference}, {}, gpu, a), InternalError);
}

TEST_CASE("More micro-batch, sequence or LoRA rank never needs less memory", "[training]") {
  const Workload w = preset_workload("llama-3-8b");
  const Gpu& gpu = gpus().find("l40");
  const auto a = Assumptions::embedded();
  for (const Task task : {Task::finetune, Task::lora, Task::qlora}) {
    for (const Recompute r : {Recompute::none, Recompute::selective, Recompute::full}) {
      TrainingSetup s;
      s.task = task;
      s.recompute = r;
      s.flash_attention = r != Recompute::none;
      double last = 0;
      for (std::int64_t b = 1; b <= 16; b *= 2) {
        s.micro_batch = b;
        const double total = estimate_training_memory(w, s, {2, 2, 1}, gpu, a).total_bytes;
        CHECK(total >= last);
        last = total;
      }
      s.micro_batch = 1;
      last = 0;
      for (std::int64_t seq = 256; seq <= 32768; seq *= 2) {
        s.sequence = seq;
        const double total = estimate_training_memory(w, s, {}, gpu, a).total_bytes;
        CHECK(total >= last);
        last = total;
      }
    }
  }
  TrainingSetup s;
  s.task = Task::lora;
  double last = 0;
  for (int rank = 1; rank <= 256; rank *= 2) {
    s.lora_rank = rank;
    const double total = estimate_training_memory(w, s, {}, gpu, a).total_bytes;
    CHECK(total > last);
    last = total;
  }
}

TEST_CASE("More GPUs in a ZeRO-3 plan never need more memory per GPU", "[training]") {
  const Workload w = preset_workload("llama-2-13b");
  const Gpu& gpu = gpus().find("a100-80gb-sxm");
  const auto a = Assumptions::embedded();
  TrainingSetup s;
  s.zero_stage = 3;
  for (const int tp : {1, 2, 4, 8}) {
    double last = 1e300;
    for (int dp = 1; dp <= 64; dp *= 2) {
      const double total = estimate_training_memory(w, s, {tp, 1, dp}, gpu, a).total_bytes;
      CHECK(total <= last);
      last = total;
    }
  }
}

TEST_CASE("Step time: 6N + 12 L a d s FLOPs per token at peak x MFU", "[training]") {
  const Workload w = preset_workload("llama-2-7b");
  const Gpu& gpu = gpus().find("h100-sxm");
  const auto a = plain_assumptions();
  TrainingSetup s;
  s.sequence = 4096;
  const double n = w.params_total - w.params_embedding / 2; // the input lookup table is no matmul
  const double attention = 12.0 * 32 * 32 * 128 * 4096;
  const auto one = estimate_training_step(w, s, {}, gpu, a);
  CHECK(one.flops_per_token == Approx(6 * n + attention));
  CHECK(one.tokens_per_step == 4096);
  CHECK(one.compute_s.expected == Approx(4096 * (6 * n + attention) / 989e12));
  CHECK(one.compute_s.high == Approx(2 * one.compute_s.expected)); // MFU 0.5 at the low end
  CHECK(one.step_s.expected == Approx(one.compute_s.expected));     // one GPU: no communication
  CHECK(one.tokens_per_s.low <= one.tokens_per_s.expected);
  CHECK(one.tokens_per_s.expected <= one.tokens_per_s.high);

  s.recompute = Recompute::full;
  CHECK(estimate_training_step(w, s, {}, gpu, a).flops_per_token == Approx(8 * n + attention * 16 / 12));
  s.recompute = Recompute::selective;
  s.task = Task::lora;
  const double t = lora_trainable_params(w.shape, 16, s.lora_targets);
  CHECK(estimate_training_step(w, s, {}, gpu, a).flops_per_token == Approx(4 * n + attention + 6 * t));

  // Pipeline bubble (p - 1) / (m + p - 1) with m = 4p micro-batches by default.
  s.task = Task::finetune;
  const auto pp4 = estimate_training_step(w, s, {1, 4, 1}, gpu, a);
  CHECK(pp4.bubble_fraction == Approx(3.0 / 19.0));
  // Data parallel across two 8-GPU nodes: the gradient ring crosses the network.
  const auto dp16 = estimate_training_step(w, s, {1, 1, 16}, gpu, a);
  CHECK(dp16.dp_crosses_nodes);
  CHECK(dp16.dp_communication_s == Approx(20e-6 + 2.0 * 15 / 16 * 2 * w.params_total / 50e9));
  CHECK_FALSE(estimate_training_step(w, s, {1, 1, 8}, gpu, a).dp_crosses_nodes);
}

TEST_CASE("Smallest full fine-tune plan for a 7B model spans several GPUs", "[training]") {
  const Workload w = preset_workload("llama-2-7b");
  const auto a = Assumptions::embedded();
  for (const char* id : {"l40", "h100-sxm"}) {
    const Gpu& gpu = gpus().find(id);
    const auto plan = smallest_plan(w, TrainingSetup{}, gpu, a);
    REQUIRE(plan.has_value());
    CHECK(plan->plan.gpus() > 1);
    CHECK(plan->fits());
    // Nothing at half the count fits.
    for (const auto& p : search_plans(w, TrainingSetup{}, gpu, a, {}, plan->plan.gpus() / 2)) CHECK_FALSE(p.fits());
  }
  // QLoRA fits one L40.
  TrainingSetup q;
  q.task = Task::qlora;
  const auto qlora = smallest_plan(w, q, gpus().find("l40"), a);
  REQUIRE(qlora.has_value());
  CHECK(qlora->plan.gpus() == 1);
}

TEST_CASE("Inference plans: Llama-2-70B in fp16 needs 4 x L40 in tensor parallel", "[training]") {
  Workload w = preset_workload("llama-2-70b", Precision::fp16);
  const auto a = Assumptions::embedded();
  TrainingSetup s;
  s.task = Task::inference;
  const auto plan = smallest_plan(w, s, gpus().find("l40"), a);
  REQUIRE(plan.has_value());
  CHECK(plan->plan == ParallelPlan{4, 1, 1});
  CHECK(plan->inference_perf.has_value());
}

TEST_CASE("Task, optimizer and recomputation names", "[training]") {
  CHECK(parse_task("QLoRA") == Task::qlora);
  CHECK(parse_task("full") == Task::finetune);
  CHECK(parse_optimizer("adamw_8bit") == Optimizer::adamw_8bit);
  CHECK(parse_recompute("Selective") == Recompute::selective);
  for (const Task t : {Task::inference, Task::finetune, Task::lora, Task::qlora, Task::pretrain})
    CHECK(parse_task(to_string(t)) == t);
  for (const Optimizer o : {Optimizer::adamw, Optimizer::adamw_8bit, Optimizer::sgd})
    CHECK(parse_optimizer(to_string(o)) == o);
  CHECK_THROWS_WITH(parse_task("rlhf"), Catch::Contains("finetune, lora, qlora"));
  CHECK_THROWS_WITH(parse_optimizer("lion"), Catch::Contains("adamw-8bit"));
  CHECK_THROWS_WITH(parse_recompute("some"), Catch::Contains("selective"));
}

TEST_CASE("Step time with a stack: matmuls, causal attention and elementwise bytes, each at its own rate", "[training]") {
  const Workload w = preset_workload("llama-2-7b");
  const Gpu& gpu = gpus().find("h100-sxm"); // 989 TFLOPS bf16, 1979 fp8, 3350 GB/s
  const auto a = Assumptions::from_json(R"({
    "runtime_overhead_gib": 0, "max_batched_tokens": 8192, "gemm_half_efficiency_tokens": 0,
    "moe_compute_efficiency": 1, "int4_group_size": 128, "default_runtime": "plain",
    "runtimes": {"plain": {"name": "no fixed costs", "step_overhead_ms": 0, "layer_overhead_us": 0, "source": "test"}},
    "efficiency": {
      "bandwidth": {"low": 1, "expected": 1, "high": 1, "source": "test"},
      "compute": {"low": 1, "expected": 1, "high": 1, "source": "test"},
      "mfu": {"low": 0.5, "expected": 1, "high": 1, "source": "test"},
      "train_gemm": {"low": 0.4, "expected": 0.5, "high": 0.6, "source": "test"},
      "train_gemm:*:fp8": {"low": 0.25, "expected": 0.25, "high": 0.25, "source": "test"},
      "train_attention": {"low": 0.25, "expected": 0.25, "high": 0.25, "source": "test"},
      "train_attention_fused": {"low": 0.5, "expected": 0.5, "high": 0.5, "source": "test"},
      "train_elementwise": {"low": 0.2, "expected": 0.2, "high": 0.2, "source": "test"}
    }
  })", "test");
  TrainingSetup s;
  s.sequence = 4096;
  s.stack = Stack::torchtune; // eager kernels, FlashAttention-2
  s.checkpointing = Checkpointing::none;
  const double n = w.params_total - w.params_embedding / 2;
  const double attention = 12.0 * 32 * 32 * 128 * 4096; // 3 x forward, PaLM's full (non-causal) count
  // Per layer forward, bytes: norms 2 x (2h + 2h), residual adds 2 x (4h + 2h), eager q/k/v and output
  // layout copies 4 x (4096 x 3) + 4 x 4096, SiLU and product 10 x 11008; backward twice; 32 layers.
  const double h = 4096;
  const double layer_forward = 8 * h + 12 * h + 4 * 3 * h + 4 * h + 10 * 11008.0;
  const double bytes = 32 * 3 * layer_forward;
  const auto r = estimate_training_step(w, s, {}, gpu, a);
  CHECK(r.component_model);
  CHECK(r.gemm_flops_per_token == Approx(6 * n));
  CHECK(r.attention_flops_per_token == Approx(attention / 2)); // causal kernels skip the masked half
  CHECK(r.elementwise_bytes_per_token == Approx(bytes));
  const double per_token = 6 * n / (989e12 * 0.5) + attention / 2 / (989e12 * 0.25) + bytes / (3350e9 * 0.2);
  CHECK(r.compute_s.expected == Approx(4096 * per_token));
  CHECK(r.compute_s.low < r.compute_s.expected); // GEMM at 0.6 of peak
  CHECK(r.compute_s.high > r.compute_s.expected); // GEMM at 0.4
  // One GPU, no sharding: the AdamW update moves 30 bytes per parameter at full bandwidth.
  CHECK(r.optimizer_s == Approx(w.params_total * 30 / 3350e9));
  CHECK(r.step_s.expected == Approx(r.compute_s.expected + r.optimizer_s));
  CHECK(r.mfu.expected == Approx(r.tokens_per_s.expected * (6 * n + attention) / 989e12));

  // Whole-layer recomputation: the forward's matmuls, attention and elementwise bytes once more.
  s.checkpointing = Checkpointing::full;
  const auto full = estimate_training_step(w, s, {}, gpu, a);
  CHECK(full.gemm_flops_per_token == Approx(8 * n));
  CHECK(full.attention_flops_per_token == Approx(attention / 2 * 4 / 3));
  CHECK(full.elementwise_bytes_per_token == Approx(bytes * 4 / 3));
  // torchtitan's "op" policy: every other forward matmul again (+N), the elementwise forward again.
  s.checkpointing = Checkpointing::selective_op;
  const auto op = estimate_training_step(w, s, {}, gpu, a);
  CHECK(op.gemm_flops_per_token == Approx(7 * n));
  CHECK(op.attention_flops_per_token == Approx(attention / 2));
  CHECK(op.elementwise_bytes_per_token == Approx(bytes * 4 / 3));

  // Megatron: fused kernels (q and k rotated in place, one gated-activation pass), cuDNN-class attention,
  // FP8 linears at the FP8 peak with every matmul input cast (read 2, write 1 byte).
  s.stack = Stack::megatron;
  s.checkpointing = Checkpointing::none;
  s.fp8_linears = true;
  const double fused_forward = 8 * h + 12 * h + 4 * 2 * h + 6 * 11008.0 + 3 * (2 * h + h + 11008.0);
  const auto te = estimate_training_step(w, s, {}, gpu, a);
  CHECK(te.elementwise_bytes_per_token == Approx(32 * 3 * fused_forward));
  CHECK(te.compute_s.expected == Approx(4096 * (6 * n / (1979e12 * 0.25) + attention / 2 / (989e12 * 0.5) +
                                                32 * 3 * fused_forward / (3350e9 * 0.2))));
  // FP8 without a stack has no speed model: a clear error, not the 16-bit MFU.
  s.stack.reset();
  CHECK_THROWS_AS(estimate_training_step(w, s, {}, gpu, a), InputError);
}
