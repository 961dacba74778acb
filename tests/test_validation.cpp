// The validation suite runs on every published row, and the calibration file changes the estimates.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/embedded.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/training.hpp>
#include <gpuadvise/validation.hpp>
#include <gpuadvise/workload.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using namespace gpuadvise;

TEST_CASE("Every validation row gets a finite estimate with low <= expected <= high", "[validation]") {
  const auto results = run_validation(embedded_validation_json(), "validation", GpuCatalog::embedded(),
                                      ModelCatalog::embedded(), Assumptions::embedded());
  REQUIRE(results.size() >= 70);
  for (const auto& r : results) {
    INFO(r.id);
    CHECK(std::isfinite(r.estimate.expected));
    CHECK(r.estimate.expected > 0);
    CHECK(r.estimate.low <= r.estimate.expected);
    CHECK(r.estimate.expected <= r.estimate.high);
    CHECK(r.error == Approx(r.estimate.expected / r.measured - 1));
  }
  // A regression guard on the aim of issue 4 (docs/performance.md shows the full table).
  for (const auto& s : summarize(results))
    if (s.metric == "decode_tokens_per_s") CHECK(s.median_abs_error < 0.15);
}

TEST_CASE("Summaries: median and worst absolute error per metric, excluded rows left out", "[validation]") {
  std::vector<ValidationResult> rows(4);
  const double errors[] = {0.1, -0.3, 0.2, 5.0};
  for (int i = 0; i < 4; ++i) {
    rows[i].id = "r" + std::to_string(i);
    rows[i].metric = "m";
    rows[i].error = errors[i];
  }
  rows[3].excluded = "not comparable";
  const auto summary = summarize(rows);
  REQUIRE(summary.size() == 1);
  CHECK(summary[0].rows == 3);
  CHECK(summary[0].median_abs_error == Approx(0.2));
  CHECK(summary[0].worst_abs_error == Approx(0.3));
  CHECK(summary[0].worst_id == "r1");
}

TEST_CASE("A malformed validation row names the row and the field", "[validation]") {
  const char* text = R"({"rows": [{"id": "x", "source": "s", "gpu": "h900", "model": "llama-2-7b",
    "weight_format": "fp16", "metric": "decode_tokens_per_s", "value": 10}]})";
  try {
    run_validation(text, "mine.json", GpuCatalog::embedded(), ModelCatalog::embedded(), Assumptions::embedded());
    FAIL("expected CatalogError");
  } catch (const CatalogError& e) {
    const std::string message = e.what();
    CHECK(message.find("mine.json") != std::string::npos);
    CHECK(message.find("'x'") != std::string::npos);
    CHECK(message.find("gpu") != std::string::npos);
  }
}

TEST_CASE("A calibration file replaces achievable fractions: decode speed scales with the bandwidth fraction", "[calibration]") {
  const auto catalog = GpuCatalog::embedded();
  const auto models = ModelCatalog::embedded();
  WorkloadRequest request;
  request.model = "llama-3-8b";
  request.batch = "1";
  const Workload w = build_workload(request, models);
  const Gpu& l40 = catalog.find("l40");
  auto base = Assumptions::embedded();
  auto calibrated = base;
  calibrated.merge_json(R"({"efficiency": {"bandwidth:ada": {"low": 0.3, "expected": 0.4, "high": 0.5,
                         "source": "my measurement"}}})",
                        "calibration.json");
  CHECK(calibrated.fraction("bandwidth", "ada", Precision::fp16).expected == 0.4);
  CHECK(calibrated.fraction("bandwidth", "ampere", Precision::fp16).expected ==
        base.fraction("bandwidth", "ampere", Precision::fp16).expected);
  const auto p = decide_precision(w, l40);
  const auto slow = estimate_performance(w, p, l40, 1, calibrated);
  const auto fast = estimate_performance(w, p, l40, 1, base);
  CHECK(slow.decode_tokens_per_s.expected < fast.decode_tokens_per_s.expected);
  CHECK_THROWS_AS(calibrated.merge_json(R"({"efficiency": {"speed": {"low": 1, "expected": 1, "high": 1, "source": ""}}})",
                                        "bad.json"),
                  CatalogError);
  CHECK_THROWS_AS(calibrated.merge_json(R"({"efficiency": {"bandwidth": {"low": 0.9, "expected": 0.5, "high": 0.6,
                                        "source": "x"}}})", "bad.json"),
                  CatalogError);
}

TEST_CASE("Training rows with a stack run through the training step model, shapes from the file's models list",
          "[validation][training]") {
  // A GPT-style shape that is no preset, trained on 8 H100s with FSDP, 2 micro-batches of 2 x 2048 tokens.
  const char* text = R"({"models": [{"id": "toy-1b", "name": "toy", "source": "test", "num_layers": 24,
      "hidden_size": 2048, "num_attention_heads": 16, "num_kv_heads": 16, "head_dim": 128, "intermediate_size": 8192,
      "vocab_size": 50368, "tie_word_embeddings": true, "max_context": 4096, "mlp": "plain", "norm": "layernorm"}],
    "rows": [{"id": "r", "source": "s", "gpu": "h100-sxm", "gpu_count": 8, "model": "toy-1b", "weight_format": "bf16",
      "batch": 2, "input_tokens": 2048, "metric": "train_tokens_per_s_per_gpu", "value": 40000, "stack": "fsdp",
      "checkpointing": "none", "gradient_accumulation": 2},
     {"id": "m", "source": "s", "gpu": "h100-sxm", "gpu_count": 8, "model": "toy-1b", "weight_format": "bf16",
      "batch": 2, "input_tokens": 2048, "metric": "train_mfu", "value": 0.4, "stack": "fsdp",
      "checkpointing": "none", "gradient_accumulation": 2}]})";
  const auto results = run_validation(text, "mine.json", GpuCatalog::embedded(), ModelCatalog::embedded(), Assumptions::embedded());
  REQUIRE(results.size() == 2);
  const auto catalog = ModelCatalog::from_json(R"({"models": [{"id": "toy-1b", "name": "toy", "source": "test",
      "num_layers": 24, "hidden_size": 2048, "num_attention_heads": 16, "num_kv_heads": 16, "head_dim": 128,
      "intermediate_size": 8192, "vocab_size": 50368, "tie_word_embeddings": true, "max_context": 4096, "mlp": "plain",
      "norm": "layernorm"}]})", "test");
  Workload w = workload_for_shape(*catalog.find("toy-1b"), ModelOrigin::preset);
  TrainingSetup s;
  s.task = Task::pretrain;
  s.stack = Stack::fsdp;
  s.checkpointing = Checkpointing::none;
  s.micro_batch = 2;
  s.sequence = 2048;
  s.gradient_accumulation = 2;
  s.zero_stage = 3; // FSDP's FULL_SHARD across the 8 data-parallel GPUs
  const auto perf = estimate_training_step(w, s, {1, 1, 8}, GpuCatalog::embedded().find("h100-sxm"), Assumptions::embedded());
  CHECK(results[0].estimate.expected == Approx(perf.tokens_per_s.expected / 8));
  CHECK(results[1].estimate.expected == Approx(perf.mfu.expected));
  // MFU = tokens/s per GPU x (6N + 12 L a d s) / 989 TFLOPS, N the matmul parameters (lm head included).
  const double n = 24 * (4.0 * 2048 * 2048 + 2.0 * 2048 * 8192) + 50368.0 * 2048;
  const double model_flops = 6 * n + 12.0 * 24 * 16 * 128 * 2048;
  CHECK(results[1].estimate.expected == Approx(results[0].estimate.expected * model_flops / 989e12).epsilon(0.01));
}

TEST_CASE("A training row names an unknown stack: the row and the field in the error", "[validation][training]") {
  const char* text = R"({"rows": [{"id": "x", "source": "s", "gpu": "h100-sxm", "model": "llama-3-8b",
    "weight_format": "bf16", "input_tokens": 4096, "metric": "train_tokens_per_s_per_gpu", "value": 10, "stack": "jax"}]})";
  try {
    run_validation(text, "mine.json", GpuCatalog::embedded(), ModelCatalog::embedded(), Assumptions::embedded());
    FAIL("expected CatalogError");
  } catch (const CatalogError& e) {
    const std::string message = e.what();
    CHECK(message.find("'x'") != std::string::npos);
    CHECK(message.find("stack") != std::string::npos);
  }
}
