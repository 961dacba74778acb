// The validation suite runs on every published row, and the calibration file changes the estimates.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/embedded.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/validation.hpp>

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
