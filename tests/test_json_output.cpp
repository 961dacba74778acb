// Tests of the JSON report (docs/json.md): gpuadvise::advise + to_json, checked field by field.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/report.hpp>
#include <gpuadvise/workload.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

using namespace gpuadvise;
using nlohmann::json;

namespace {

/// The advice for `model` at `precision` over the whole embedded catalog, as JSON.
struct Run {
  GpuCatalog catalog = GpuCatalog::embedded();
  ModelCatalog models = ModelCatalog::embedded();
  Assumptions assumptions = Assumptions::embedded();
  Workload workload;
  json doc;

  Run(const std::string& model, const std::string& precision, std::vector<std::string> gpus = {}) {
    WorkloadRequest request;
    request.model = model;
    request.precision = precision;
    workload = build_workload(request, models);
    AdviseOptions options;
    options.gpus = std::move(gpus);
    const Advice advice = advise(workload, catalog, assumptions, options);
    // Round-trip through text, as a consumer of `--json` would see it.
    doc = json::parse(to_json(advice).dump(2));
  }

  const Gpu& gpu(const json& candidate) const { return catalog.find(candidate.at("gpu").get<std::string>()); }
};

/// The cheapest on-demand list price of a GPU, worked out from its catalog entry.
double cheapest_on_demand(const Gpu& gpu) {
  double best = std::numeric_limits<double>::infinity();
  for (const auto& p : gpu.prices)
    if (p.tier == "on-demand") best = std::min(best, p.usd_per_hour);
  return best;
}

bool has_finding(const json& candidate, const std::string& id) {
  for (const auto& f : candidate.at("findings"))
    if (f.at("id") == id) return true;
  return false;
}

} // namespace

TEST_CASE("JSON report: top level and workload", "[json]") {
  const Run run("13B", "fp8");
  const json& d = run.doc;
  CHECK(d.at("schema_version") == 2); // schema 2 (issue 12): one memory object, null for what does not apply
  CHECK(d.at("schema_version") == k_schema_version);
  CHECK(d.at("tool").at("name") == "gpuadvise");
  CHECK(d.at("tool").at("version") == k_version);
  CHECK(d.at("tool").at("catalog_date") == run.catalog.catalog_date());
  const json& w = d.at("workload");
  CHECK(w.at("precision") == "fp8");
  CHECK(w.at("model").at("input") == "13B");
  CHECK(w.at("model").at("origin") == "bare_size");
  CHECK(w.at("model").at("params_total").get<double>() == Approx(13e9));
  CHECK(w.at("batch").is_null()); // no --batch: each candidate picks its cheapest batch that fits (schema 2: null, not "auto")
  CHECK(w.at("batch_auto") == true);
  for (const auto& c : d.at("candidates")) {
    CHECK(c.at("batch").get<long long>() >= 1);
    CHECK(c.at("batch_chosen") == true);
  }
  CHECK(w.at("context_tokens") == 4096);
  CHECK(w.at("output_tokens") == 256);
  CHECK(w.at("input_tokens") == 4096 - 256);
  CHECK(w.at("requests") == 1000);
  CHECK(d.at("findings").is_array());
  CHECK(d.at("candidates").is_array());
  // No --gpu: every catalog GPU is a candidate.
  CHECK(d.at("candidates").size() == run.catalog.gpus().size());
}

TEST_CASE("JSON report: every candidate has the documented fields", "[json]") {
  const Run run("13B", "fp8");
  REQUIRE_FALSE(run.doc.at("candidates").empty());
  for (const json& c : run.doc.at("candidates")) {
    INFO("candidate " << c.value("gpu", std::string("?")));
    REQUIRE(c.at("gpu").is_string());
    CHECK_NOTHROW(run.gpu(c));
    CHECK(c.at("count") == 1);
    REQUIRE(c.at("fits").is_boolean());
    CHECK(c.at("eligible").is_boolean());

    const json& m = c.at("memory");
    for (const char* key : {"weights_bytes", "kv_cache_bytes", "activation_bytes", "overhead_bytes", "total_bytes", "usable_bytes"}) {
      INFO("memory." << key);
      REQUIRE(m.contains(key));
      CHECK(m.at(key).is_number_integer());
      CHECK(m.at(key).get<long long>() >= 0);
    }
    const long long parts = m.at("weights_bytes").get<long long>() + m.at("kv_cache_bytes").get<long long>() +
                            m.at("activation_bytes").get<long long>() + m.at("overhead_bytes").get<long long>();
    // Each field is rounded to whole bytes on its own.
    CHECK(std::llabs(parts - m.at("total_bytes").get<long long>()) <= 2);
    const long long total = m.at("total_bytes").get<long long>();
    const long long usable = m.at("usable_bytes").get<long long>();
    if (std::llabs(total - usable) > 1) CHECK(c.at("fits").get<bool>() == (total <= usable));
    // usable = memory_utilization x allocatable.
    CHECK(static_cast<double>(usable) == Approx(run.workload.memory_utilization * run.gpu(c).allocatable_bytes).epsilon(1e-9));

    const json& p = c.at("precision");
    CHECK(p.at("requested") == "fp8");
    CHECK(p.at("effective").is_string());
    CHECK(p.at("native").is_boolean());

    const json& perf = c.at("performance");
    for (const char* key : {"decode_tokens_per_s", "prefill_tokens_per_s", "time_to_first_token_s", "job_seconds"}) {
      INFO("performance." << key);
      REQUIRE(perf.contains(key));
      REQUIRE(perf.at(key).is_number());
      CHECK(perf.at(key).get<double>() > 0);
      CHECK(std::isfinite(perf.at(key).get<double>()));
    }

    const json& cost = c.at("cost");
    REQUIRE(cost.is_object()); // every catalog GPU has an on-demand price
    for (const char* key : {"usd_per_hour", "job_usd", "usd_per_million_tokens"}) {
      INFO("cost." << key);
      REQUIRE(cost.contains(key));
      REQUIRE(cost.at(key).is_number());
      CHECK(cost.at(key).get<double>() > 0);
    }
    // One GPU at its cheapest on-demand price; the job costs $/hr x hours; per million output tokens.
    const double usd_per_hour = cheapest_on_demand(run.gpu(c));
    CHECK(cost.at("usd_per_hour").get<double>() == Approx(usd_per_hour).epsilon(1e-5));
    const double job_usd = usd_per_hour * perf.at("job_seconds").get<double>() / 3600.0;
    CHECK(cost.at("job_usd").get<double>() == Approx(job_usd).epsilon(1e-4));
    const double output_tokens = static_cast<double>(run.workload.requests) * static_cast<double>(run.workload.output_tokens);
    CHECK(cost.at("usd_per_million_tokens").get<double>() == Approx(job_usd / output_tokens * 1e6).epsilon(1e-4));

    REQUIRE(c.at("findings").is_array());
    for (const json& f : c.at("findings")) {
      CHECK(f.at("id").is_string());
      CHECK(f.at("message").is_string());
      const std::string severity = f.at("severity").get<std::string>();
      CHECK((severity == "info" || severity == "warning" || severity == "error"));
    }
  }
}

TEST_CASE("JSON report: fp8 is native exactly on GPUs with FP8 tensor cores", "[json]") {
  const Run run("13B", "fp8");
  bool saw_ampere = false;
  for (const json& c : run.doc.at("candidates")) {
    const Gpu& gpu = run.gpu(c);
    INFO("candidate " << gpu.id << " (" << gpu.architecture << ")");
    CHECK(c.at("precision").at("native").get<bool>() == gpu.fp8_support);
    if (gpu.architecture == "ampere") {
      saw_ampere = true;
      CHECK_FALSE(c.at("precision").at("native").get<bool>());
      CHECK(has_finding(c, "precision-not-native"));
      CHECK_FALSE(c.at("eligible").get<bool>());
    }
    if (!gpu.fp8_support) {
      CHECK(has_finding(c, "precision-not-native"));
      // Nearest supported: int8 (same bytes) when the GPU has int8 tensor cores, else fp16.
      CHECK(c.at("precision").at("effective") == (gpu.peak_flops(Precision::int8) > 0 ? "int8" : "fp16"));
    } else {
      CHECK_FALSE(has_finding(c, "precision-not-native"));
      CHECK(c.at("precision").at("effective") == "fp8");
    }
  }
  CHECK(saw_ampere);
}

TEST_CASE("JSON report: the RTX A6000 does not run fp8 natively", "[json]") {
  const Run run("13B", "fp8", {"rtx-a6000"});
  REQUIRE(run.doc.at("candidates").size() == 1);
  const json& c = run.doc.at("candidates")[0];
  CHECK(c.at("gpu") == "rtx-a6000");
  CHECK(c.at("precision").at("requested") == "fp8");
  CHECK(c.at("precision").at("native") == false);
  CHECK(c.at("precision").at("effective") == "int8");
  CHECK(has_finding(c, "precision-not-native"));
  CHECK(c.at("eligible") == false);
  // Its only candidate is not eligible, so there is no recommendation.
  CHECK(run.doc.at("recommendation").is_null());
}

TEST_CASE("JSON report: the recommendation is the cheapest eligible candidate", "[json]") {
  const Run run("13B", "fp8");
  const json& rec = run.doc.at("recommendation");
  REQUIRE(rec.is_object());
  CHECK(rec.at("count") == 1);
  CHECK(rec.at("reason").is_string());
  const json* pick = nullptr;
  for (const json& c : run.doc.at("candidates"))
    if (c.at("gpu") == rec.at("gpu")) pick = &c;
  REQUIRE(pick != nullptr);
  INFO("pick " << pick->at("gpu"));
  CHECK(pick->at("fits") == true);
  CHECK(pick->at("precision").at("native") == true);
  CHECK(pick->at("eligible") == true);
  // Near-ties (within 0.5%) may go to the faster candidate; nothing eligible is cheaper beyond that.
  const double pick_usd = pick->at("cost").at("job_usd").get<double>();
  for (const json& c : run.doc.at("candidates")) {
    if (!c.at("eligible").get<bool>()) continue;
    INFO("eligible " << c.at("gpu"));
    CHECK(c.at("cost").at("job_usd").get<double>() >= pick_usd * (1 - 0.005) - 1e-9);
  }
  if (!rec.at("runner_up").is_null()) CHECK(rec.at("runner_up") != rec.at("gpu"));
}

TEST_CASE("JSON report: a model that fits nowhere on the chosen GPU has no recommendation", "[json]") {
  // 70B x 2 bytes = 140 GB of fp16 weights alone, more than the L40's 48 GB.
  const Run run("70B", "fp16", {"l40"});
  REQUIRE(run.doc.at("candidates").size() == 1);
  const json& c = run.doc.at("candidates")[0];
  CHECK(c.at("fits") == false);
  CHECK(c.at("memory").at("weights_bytes").get<double>() > c.at("memory").at("usable_bytes").get<double>());
  CHECK(has_finding(c, "memory-does-not-fit"));
  CHECK(run.doc.at("recommendation").is_null());
}
