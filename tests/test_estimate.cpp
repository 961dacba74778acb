// Estimator formulas against values worked out by hand from the published shapes (docs/formulas.md).
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/estimate.hpp>
#include <gpuadvise/model.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

using namespace gpuadvise;

namespace {

/// Assumptions with round numbers so expected values are easy to work out by hand.
const char* k_plain_assumptions = R"({
  "runtime_overhead_gib": 1.0,
  "max_batched_tokens": 8192,
  "gemm_half_efficiency_tokens": 0,
  "moe_compute_efficiency": 1,
  "int4_group_size": 128,
  "default_runtime": "plain",
  "runtimes": {"plain": {"name": "no fixed costs", "step_overhead_ms": 0, "layer_overhead_us": 0, "source": "test"}},
  "efficiency": {
    "bandwidth": {"low": 1, "expected": 1, "high": 1, "source": "test"},
    "compute": {"low": 1, "expected": 1, "high": 1, "source": "test"},
    "mfu": {"low": 1, "expected": 1, "high": 1, "source": "test"}
  }
})";

/// Llama-2-13B as published in its config.json (40 layers, hidden 5120, 40 heads, MHA, MLP 13824).
ModelShape llama2_13b() {
  ModelShape s;
  s.id = "llama-2-13b";
  s.name = "Llama-2-13B";
  s.num_layers = 40;
  s.hidden_size = 5120;
  s.num_attention_heads = 40;
  s.num_kv_heads = 40;
  s.head_dim = 128;
  s.intermediate_size = 13824;
  s.vocab_size = 32000;
  s.tie_word_embeddings = false;
  s.max_context = 4096;
  return s;
}

Workload workload_for(const ModelShape& shape, Precision p, std::int64_t batch, std::int64_t context) {
  Workload w;
  w.shape = shape;
  w.origin = ModelOrigin::preset;
  const auto counts = count_params(shape);
  w.params_total = counts.total;
  w.params_active = counts.active;
  w.params_embedding = counts.embedding;
  w.precision = p;
  w.batch = batch;
  w.context = context;
  w.output_tokens = 256;
  w.input_tokens = context - 256;
  w.requests = 100;
  return w;
}

} // namespace

TEST_CASE("Llama-2-13B parameter count from its shape", "[params]") {
  const double h = 5120, layers = 40, vocab = 32000, ffn = 13824;
  const double attention = 4 * h * h;          // q, k, v, o (MHA: 40 KV heads x 128 = 5120)
  const double mlp = 3 * h * ffn;              // gate, up, down
  const double norms = 2 * h;                  // two RMSNorm weights per layer
  const double expected = layers * (attention + mlp + norms) + 2 * vocab * h + h; // + untied embeddings + final norm
  const auto counts = count_params(llama2_13b());
  CHECK(counts.total == Approx(expected).epsilon(1e-12));
  CHECK(counts.active == Approx(expected).epsilon(1e-12));
  CHECK(counts.embedding == Approx(2 * vocab * h));
  CHECK(counts.total == Approx(13.0e9).epsilon(0.02)); // the published "13B"
}

TEST_CASE("KV cache: 2 x layers x KV heads x head dim x bytes x tokens x sequences", "[kv]") {
  // Llama-2-13B, fp16, batch 8, context 4096: 2 * 40 * 40 * 128 * 2 B * 4096 * 8 = 26.8 GB
  const double expected = 2.0 * 40 * 40 * 128 * 2 * 4096 * 8;
  CHECK(8 * kv_cache_bytes_per_sequence(llama2_13b(), 4096, 2) == Approx(expected));
  CHECK(expected / 1e9 == Approx(26.84).margin(0.01));

  SECTION("GQA uses KV heads, not attention heads (Llama-3-8B: 8 KV heads of 32)") {
    ModelShape s = llama2_13b();
    s.num_layers = 32;
    s.num_attention_heads = 32;
    s.num_kv_heads = 8;
    CHECK(kv_cache_bytes_per_sequence(s, 1, 2) == Approx(2.0 * 32 * 8 * 128 * 2)); // 131072 B per token
  }
  SECTION("sliding-window layers hold at most the window (Mistral-7B: 4096 of 32k)") {
    ModelShape s = llama2_13b();
    s.num_layers = 32;
    s.num_attention_heads = 32;
    s.num_kv_heads = 8;
    s.sliding_window = 4096;
    s.sliding_layers = SlidingLayers::all;
    CHECK(kv_cache_bytes_per_sequence(s, 32768, 2) == Approx(2.0 * 32 * 8 * 128 * 2 * 4096));
    s.sliding_layers = SlidingLayers::even; // half the layers full, half windowed
    CHECK(kv_cache_bytes_per_sequence(s, 32768, 2) == Approx(2.0 * 8 * 128 * 2 * (16 * 32768.0 + 16 * 4096.0)));
  }
  SECTION("MLA holds the compressed latent plus the RoPE key, once per token per layer") {
    ModelShape s = llama2_13b();
    s.mla = MlaShape{512, 0, 128, 64, 128};
    CHECK(kv_cache_bytes_per_sequence(s, 1000, 2) == Approx(40.0 * (512 + 64) * 2 * 1000));
  }
}

TEST_CASE("Memory parts per GPU for Llama-2-13B fp16, batch 8, context 4096 on an L40", "[memory]") {
  const auto catalog = GpuCatalog::embedded();
  const auto assumptions = Assumptions::from_json(k_plain_assumptions, "test");
  const Gpu& l40 = catalog.find("l40");
  const Workload w = workload_for(llama2_13b(), Precision::fp16, 8, 4096);
  const auto p = decide_precision(w, l40);
  const auto m = estimate_memory(w, p, l40, 1, assumptions);

  const double params = count_params(llama2_13b()).total;
  CHECK(m.weights_bytes == Approx(params * 2));
  CHECK(m.kv_cache_bytes == Approx(2.0 * 40 * 40 * 128 * 2 * 4096 * 8));
  // 8192 tokens in flight (8 x 4096 capped at max_batched_tokens) x (4h + (heads + 2 kv) x head_dim + 3 ffn)
  // elements x 2 bytes, plus fp32 logits for 8 sequences.
  const double per_token = 4 * 5120.0 + (40 + 80) * 128.0 + 3 * 13824.0;
  CHECK(m.activation_bytes == Approx(8192 * per_token * 2 + 8 * 32000 * 4.0));
  CHECK(m.overhead_bytes == Approx(1024.0 * 1024 * 1024));
  CHECK(m.total_bytes == Approx(m.weights_bytes + m.kv_cache_bytes + m.activation_bytes + m.overhead_bytes));
  CHECK(m.usable_bytes == Approx(0.9 * l40.allocatable_bytes));
  CHECK_FALSE(m.fits()); // 26 GB weights + 26.8 GB KV > 41.5 GB usable

  SECTION("two GPUs in tensor parallel split weights, KV and activations, not the runtime overhead") {
    const auto m2 = estimate_memory(w, p, l40, 2, assumptions);
    CHECK(m2.weights_bytes == Approx(m.weights_bytes / 2));
    CHECK(m2.kv_cache_bytes == Approx(m.kv_cache_bytes / 2));
    CHECK(m2.activation_bytes == Approx(m.activation_bytes / 2));
    CHECK(m2.overhead_bytes == Approx(m.overhead_bytes));
  }
}

TEST_CASE("Weight bytes per format, with 16-bit embeddings in quantized formats", "[memory]") {
  const Workload w = workload_for(llama2_13b(), Precision::int4, 1, 4096);
  const double embedding = 2 * 32000.0 * 5120;
  const double body = w.params_total - embedding;
  CHECK(weight_bytes(w, Precision::fp32, 128) == Approx(w.params_total * 4));
  CHECK(weight_bytes(w, Precision::fp16, 128) == Approx(w.params_total * 2));
  CHECK(weight_bytes(w, Precision::fp8, 128) == Approx(body * 1 + embedding * 2));
  CHECK(weight_bytes(w, Precision::int8, 128) == Approx(body * 1 + embedding * 2));
  // int4: 4 bits + one fp16 scale and one fp16 zero per group of 128 = 0.53125 bytes per weight.
  CHECK(weight_bytes(w, Precision::int4, 128) == Approx(body * (0.5 + 4.0 / 128) + embedding * 2));
}

TEST_CASE("Precision rules: FP8 needs Ada/Hopper, BF16 needs Ampere", "[precision]") {
  const auto catalog = GpuCatalog::embedded();
  Workload w = workload_for(llama2_13b(), Precision::fp8, 1, 4096);
  const auto on_a6000 = decide_precision(w, catalog.find("rtx-a6000"));
  CHECK_FALSE(on_a6000.native);
  CHECK(on_a6000.effective == Precision::int8); // same bytes, native int8 tensor cores
  for (const char* gpu : {"l40", "l40s", "l4", "rtx-4090", "h100-sxm", "h100-pcie"}) {
    INFO(gpu);
    CHECK(decide_precision(w, catalog.find(gpu)).native);
  }
  for (const char* gpu : {"a100-80gb-sxm", "a10", "rtx-3090", "a40"}) {
    INFO(gpu);
    CHECK_FALSE(decide_precision(w, catalog.find(gpu)).native);
  }
  w.precision = Precision::bf16;
  CHECK(decide_precision(w, catalog.find("rtx-a6000")).native);

  SECTION("a pre-Ampere GPU from a user catalog falls back from bf16 to fp16") {
    Gpu v100 = catalog.find("a100-80gb-sxm");
    v100.architecture = "volta";
    v100.compute_capability = 7.0;
    v100.bf16_support = false;
    const auto d = decide_precision(w, v100);
    CHECK_FALSE(d.native);
    CHECK(d.effective == Precision::fp16);
  }
  SECTION("the KV cache follows the compute dtype unless given") {
    w.precision = Precision::fp8;
    CHECK(decide_precision(w, catalog.find("l40")).kv_effective == Precision::fp16);
    w.kv_precision = Precision::fp8;
    w.kv_precision_given = true;
    CHECK(decide_precision(w, catalog.find("l40")).kv_native);
    const auto ampere = decide_precision(w, catalog.find("rtx-a6000"));
    CHECK(ampere.kv_effective == Precision::fp8);
    CHECK_FALSE(ampere.kv_native);
  }
}

TEST_CASE("Decode is a roofline: max(bytes / bandwidth, FLOPs / peak) per step", "[speed]") {
  const auto catalog = GpuCatalog::embedded();
  const auto assumptions = Assumptions::from_json(k_plain_assumptions, "test");
  const Gpu& l40 = catalog.find("l40");
  Workload w = workload_for(llama2_13b(), Precision::fp16, 1, 4096);
  const auto p = decide_precision(w, l40);
  const auto perf = estimate_performance(w, p, l40, 1, assumptions);

  // Batch 1: weights once (all but the input embedding table) plus the KV cache at the mean position.
  const double params = count_params(llama2_13b()).total;
  const double position = 3840 + 256 / 2.0;
  const double bytes = (params - 32000.0 * 5120) * 2 + 2.0 * 40 * 40 * 128 * 2 * position;
  CHECK(perf.decode_bytes_per_step == Approx(bytes));
  CHECK(perf.decode_step_s.expected == Approx(bytes / 864e9));
  CHECK(perf.decode_tokens_per_s.expected == Approx(864e9 / bytes));
  CHECK_FALSE(perf.decode_compute_bound);

  SECTION("at a large batch the step becomes compute-bound") {
    // MHA's KV cache dominates the bytes at long contexts, so keep the sequences short.
    w.batch = 4096;
    w.context = 16;
    w.input_tokens = 8;
    w.output_tokens = 8;
    const auto big = estimate_performance(w, p, l40, 1, assumptions);
    CHECK(big.decode_compute_bound);
    CHECK(big.decode_step_s.expected == Approx(big.decode_flops_per_step / 181.05e12));
  }
  SECTION("prefill: 2 x params + attention per token over dense fp16 throughput") {
    const double matmul = params - 32000.0 * 5120;
    const double flops_per_token = 2 * matmul + 4.0 * 40 * 128 * 40 * (3840 / 2.0);
    CHECK(perf.prefill_flops_per_token == Approx(flops_per_token));
    CHECK(perf.prefill_tokens_per_s.expected == Approx(181.05e12 / flops_per_token));
  }
  SECTION("the job is waves of prefill then decode") {
    const double wave = 3840 / perf.prefill_tokens_per_s.expected + 256 * perf.decode_step_s.expected;
    CHECK(perf.job_s.expected == Approx(100 * wave));
  }
}

TEST_CASE("Cost = hours x $/hr x count; $ per million output tokens", "[cost]") {
  const auto catalog = GpuCatalog::embedded();
  const auto assumptions = Assumptions::embedded();
  const Gpu& l40 = catalog.find("l40");
  const Workload w = workload_for(llama2_13b(), Precision::fp8, 4, 4096);
  for (int count : {1, 2}) {
    const auto c = evaluate(w, l40, count, assumptions, "hyperstack");
    REQUIRE(c.cost.priced);
    CHECK(c.cost.price.usd_per_hour == 1.00);
    CHECK(c.cost.usd_per_hour == Approx(1.00 * count));
    CHECK(c.cost.job_usd.expected == Approx(c.performance.job_s.expected / 3600 * 1.00 * count));
    CHECK(c.cost.usd_per_million_tokens.expected == Approx(c.cost.job_usd.expected / (100 * 256 / 1e6)));
    CHECK(c.cost.job_usd.low <= c.cost.job_usd.expected);
    CHECK(c.cost.job_usd.expected <= c.cost.job_usd.high);
  }
}

TEST_CASE("The recommendation is the cheapest candidate that fits and runs the precision", "[advise]") {
  const auto catalog = GpuCatalog::embedded();
  const auto assumptions = Assumptions::embedded();
  const Workload w = workload_for(llama2_13b(), Precision::fp8, 1, 4096);
  const Advice advice = advise(w, catalog, assumptions, {});
  REQUIRE(advice.recommendation.pick);
  const Candidate& pick = advice.candidates[*advice.recommendation.pick];
  CHECK(pick.eligible);
  CHECK(pick.memory.fits());
  CHECK(pick.precision.native);
  for (const auto& c : advice.candidates)
    if (c.eligible) CHECK(pick.cost.job_usd.expected <= c.cost.job_usd.expected * 1.005);
  for (const auto& c : advice.candidates)
    if (c.gpu->architecture == "ampere") CHECK_FALSE(c.eligible);
}
