// The evaluation core (issue 12): every workload kind through one registry, parts that equal the
// estimator's numbers, a fit verdict that check and the advisor share, and the embedding kind.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/check.hpp>
#include <gpuadvise/evaluation.hpp>
#include <gpuadvise/explain.hpp>
#include <gpuadvise/report.hpp>
#include <gpuadvise/training.hpp>

#include "../src/workloads/embedding.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <string>

using namespace gpuadvise;

namespace {

struct Setup {
  GpuCatalog catalog = GpuCatalog::embedded();
  ModelCatalog models = ModelCatalog::embedded();
  Assumptions assumptions = Assumptions::embedded();
};

/// The advice for a request on one GPU at a fixed count (training when `training` is set).
Advice advise_one(const Setup& s, const WorkloadRequest& r, const std::string& gpu, int count,
                  std::optional<TrainingSetup> training = std::nullopt) {
  const Workload w = build_workload(r, s.models);
  AdviseOptions o;
  o.gpus = {gpu};
  o.count = count;
  o.training = training;
  o.train_tokens = training ? 1e8 : 0;
  if (training) o.training->sequence = w.context;
  return advise(w, s.catalog, s.assumptions, o);
}

std::map<std::string, Part> by_name(const std::vector<Part>& parts) {
  std::map<std::string, Part> m;
  for (const auto& p : parts) m[p.name] = p;
  return m;
}

/// Checks what every kind's parts promise: finite values, no zero-layer or zero-division text, memory parts
/// equal to the candidate's memory and adding up to its total, and the job, time and cost figures equal to
/// the candidate's own.
void check_parts(const Advice& advice) {
  REQUIRE(advice.candidates.size() == 1);
  const Candidate& c = advice.candidates[0];
  const auto parts = explain(advice.workload, c, *advice.assumptions);
  REQUIRE(!parts.empty());
  double memory_sum = 0;
  for (const auto& p : parts) {
    INFO(p.name << ": " << p.substituted);
    CHECK(std::isfinite(p.value));
    CHECK(p.value >= 0);
    CHECK(p.substituted.find(" 0 layers") == std::string::npos);
    CHECK(p.substituted.find("/ 0 ") == std::string::npos);
    CHECK(p.substituted.find("/ 0)") == std::string::npos);
    CHECK_FALSE(p.formula.empty());
    if (p.group == PartGroup::memory && p.name != "total_bytes" && p.name != "usable_bytes") memory_sum += p.value;
    if (p.range) CHECK((p.range->low <= p.value * (1 + 1e-12) && p.value <= p.range->high * (1 + 1e-12)));
  }
  const auto t = by_name(parts);
  const double total = c.training ? c.training->memory.total_bytes : c.memory.total_bytes;
  CHECK(t.at("total_bytes").value == total);
  CHECK(memory_sum == Approx(total).epsilon(1e-12));
  CHECK(t.at("usable_bytes").value == c.memory_usable_bytes());
  if (c.training) {
    CHECK(t.at("weights_bytes").value == c.training->memory.weights_bytes);
    CHECK(t.at("optimizer_bytes").value == c.training->memory.optimizer_bytes);
    if (c.training->found) CHECK(t.at("tokens_per_s").value == c.training->perf.tokens_per_s.expected);
  } else {
    CHECK(t.at("weights_bytes").value == c.memory.weights_bytes);
    CHECK(t.at("activation_bytes").value == c.memory.activation_bytes);
  }
  if (c.fits()) CHECK(t.at("job_seconds").value == Approx(c.job_seconds()).epsilon(1e-12));
  if (c.cost.priced && c.fits()) {
    CHECK(t.at("usd_per_hour").value == c.cost.usd_per_hour);
    CHECK(t.at("job_usd").value == Approx(c.job_usd()).epsilon(1e-12));
  }
  if (t.count("seconds_per_item")) CHECK(t.at("seconds_per_item").value == c.performance.seconds_per_item.expected);
}

} // namespace

TEST_CASE("evaluation: every registered kind explains its own numbers", "[evaluation]") {
  const Setup s;
  REQUIRE(workload_kinds().size() == 5);
  SECTION("llm inference") {
    WorkloadRequest r;
    r.model = "llama-2-13b";
    r.batch = "8";
    r.precision = "fp32"; // the activation term must use 4-byte activations, not a fixed "2 B"
    const Advice a = advise_one(s, r, "h200-sxm", 1);
    check_parts(a);
    const auto t = by_name(explain(a.workload, a.candidates[0], s.assumptions));
    CHECK(t.at("activation_bytes").substituted.find("x 4 B +") != std::string::npos);
    CHECK(t.at("kv_cache_bytes").value == a.candidates[0].memory.kv_cache_bytes);
  }
  SECTION("llm training") {
    WorkloadRequest r;
    r.model = "llama-2-7b";
    r.precision = "bf16";
    r.batch = "1";
    TrainingSetup t;
    t.task = Task::lora;
    check_parts(advise_one(s, r, "a100-80gb-sxm", 1, t));
  }
  SECTION("llm training with a stack: the parts at the peak add up to the total") {
    WorkloadRequest r;
    r.model = "llama-2-7b";
    r.precision = "bf16";
    r.batch = "1";
    for (const Stack stack : {Stack::hf_trainer, Stack::torchtune, Stack::fsdp, Stack::litgpt}) {
      TrainingSetup t;
      t.task = Task::qlora;
      t.stack = stack;
      const Advice a = advise_one(s, r, "rtx-4090", 1, t);
      check_parts(a);
      const auto parts = by_name(explain(a.workload, a.candidates[0], s.assumptions));
      CHECK(parts.at("largest_micro_batch").value == static_cast<double>(a.candidates[0].training->memory.largest_micro_batch));
      CHECK(parts.at("stack").substituted.find(std::string(to_string(stack))) == 0);
    }
  }
  SECTION("diffusion") {
    WorkloadRequest r;
    r.kind = "diffusion";
    r.model = "sdxl";
    r.batch = "2";
    check_parts(advise_one(s, r, "l40", 1));
  }
  SECTION("video") {
    WorkloadRequest r;
    r.kind = "video";
    r.model = "wan2.1-1.3b";
    r.resolution = "832x480";
    check_parts(advise_one(s, r, "h100-sxm", 1));
  }
  SECTION("analytics") {
    WorkloadRequest r;
    r.kind = "analytics";
    r.dataset_size = "30GB";
    r.operations = {"scan", "groupby"};
    check_parts(advise_one(s, r, "a100-80gb-sxm", 1));
  }
  SECTION("embedding") {
    WorkloadRequest r;
    r.kind = "embedding";
    r.model = "bge-large-en-v1.5";
    r.batch = "32";
    check_parts(advise_one(s, r, "l4", 1));
  }
}

TEST_CASE("evaluation: a training plan that fits nowhere says what it needs", "[evaluation]") {
  const Setup s;
  WorkloadRequest r;
  r.model = "llama-2-7b";
  r.precision = "bf16";
  r.batch = "1";
  TrainingSetup t;
  t.task = Task::finetune;
  const Advice a = advise_one(s, r, "l4", 1, t);
  REQUIRE(a.candidates.size() == 1);
  const Candidate& c = a.candidates[0];
  CHECK_FALSE(c.fits());
  CHECK_FALSE(a.recommendation.pick.has_value());
  REQUIRE(c.training.has_value());
  CHECK_FALSE(c.training->found);
  // Full fine-tune with AdamW: 16 bytes per parameter of state alone, ~108 GB for 6.74B, on one 24 GB card.
  CHECK(c.training->memory.total_bytes > 16 * 6.7e9);
  const auto doc = nlohmann::json::parse(to_json(a).dump());
  const auto& j = doc.at("candidates")[0];
  CHECK(j.at("fits") == false);
  CHECK(j.at("memory").at("fits") == false);
  const double total = j.at("memory").at("total_bytes").get<double>();
  const double usable = j.at("memory").at("usable_bytes").get<double>();
  CHECK(total > usable);
  CHECK(j.at("memory").at("shortfall_bytes").get<double>() == Approx(total - usable).margin(2));
  CHECK(j.at("training").at("tokens_per_s").is_null());
  CHECK((j.at("cost").is_null() || j.at("cost").at("job_usd").is_null()));
  bool explained = false;
  for (const auto& f : c.findings) explained = explained || f.message.find("short") != std::string::npos;
  CHECK(explained);
}

TEST_CASE("evaluation: check and the advisor give the same fit verdict", "[evaluation]") {
  const Setup s;
  for (const char* gpu : {"l4", "l40", "h100-sxm"}) {
    for (const char* precision : {"fp16", "fp8"}) {
      const std::string yaml = fmt::format("deployments:\n  - name: chat\n    gpu: {}\n    count: 1\n    model: llama-2-13b\n"
                                           "    precision: {}\n    batch: 4\n    context: 4096\n",
                                           gpu, precision);
      const auto results = check_text(yaml, "deploy.yaml", s.catalog, s.models, s.assumptions, {});
      REQUIRE(results.size() == 1);
      WorkloadRequest r;
      r.model = "llama-2-13b";
      r.precision = precision;
      r.batch = "4";
      r.context = "4096";
      const Advice a = advise_one(s, r, gpu, 1);
      INFO(gpu << " " << precision);
      const bool check_fits = results[0].memory_total_bytes <= results[0].memory_usable_bytes;
      CHECK(check_fits == a.candidates[0].fits());
      CHECK(results[0].memory_total_bytes == a.candidates[0].memory.total_bytes);
      bool check_passed = results[0].passed;
      CHECK(check_passed == a.candidates[0].eligible);
    }
  }
}

TEST_CASE("embedding: presets match their published parameter counts", "[evaluation][embedding]") {
  REQUIRE(embedding_presets().size() >= 10);
  for (const auto& m : embedding_presets()) {
    INFO(m.id);
    // Cards round to three digits and some include a pooler or classifier head: within 1%.
    CHECK(encoder_params(m) == Approx(m.params_published).epsilon(0.01));
  }
  // BERT-large by hand (bge-large-en-v1.5): embeddings (30522 + 512 + 2) x 1024 + LayerNorm 2 x 1024;
  // per layer 4 x 1024^2 + 4 x 1024 (attention) + 2 x 1024 x 4096 + 4096 + 1024 (MLP) + 2 x 2 x 1024 (norms).
  const double h = 1024, f = 4096;
  const double by_hand = (30522 + 512 + 2) * h + 2 * h + 24 * (4 * h * h + 4 * h + 2 * h * f + f + h + 4 * h);
  const Setup s;
  WorkloadRequest r;
  r.kind = "embedding";
  r.model = "bge-large";
  r.batch = "8";
  const Workload w = build_workload(r, s.models);
  CHECK(w.params_total == Approx(by_hand).epsilon(1e-12));
  CHECK(w.context == 512);
  const Gpu& l4 = s.catalog.find("l4");
  const auto p = decide_precision(w, l4);
  const MemoryEstimate m = estimate_memory(w, p, l4, 1, s.assumptions);
  CHECK(m.kv_cache_bytes == 0);
  CHECK(m.weights_bytes == Approx(by_hand * 2));
  // 8 sequences x 512 tokens x (7h + 2f) elements x 2 bytes.
  CHECK(m.activation_bytes == Approx(8 * 512 * (7 * h + 2 * f) * 2));
  // One forward per batch: FLOPs per token = 2 x (params - lookup tables) + 4 x layers x h x 512.
  const PerfEstimate perf = estimate_performance(w, p, l4, 1, s.assumptions);
  CHECK(perf.prefill_flops_per_token == Approx(2 * (by_hand - (30522 + 512 + 2) * h) + 4 * 24 * h * 512));
  CHECK(perf.prefill_tokens_per_s.expected == Approx(perf.items_per_s.expected * 512));
  CHECK(perf.job_tokens == Approx(1e6 * 512));
  // ModernBERT: 1 global layer in 3 attends to the whole sequence, the others to a 128-token window.
  const EncoderModel& modern = embedding_presets()[13];
  REQUIRE(modern.id == "modernbert-base");
  CHECK(encoder_attended_positions(modern, 8192) == Approx((8.0 * 8192 + 14 * 128) / 22));
}

TEST_CASE("embedding: limits and options that do not apply", "[evaluation][embedding]") {
  const Setup s;
  WorkloadRequest r;
  r.kind = "embedding";
  r.model = "bge-large-en-v1.5";
  r.context = "1024";
  CHECK_THROWS_WITH(build_workload(r, s.models), Catch::Contains("maximum of 512"));
  r.context.reset();
  r.resolution = "1024";
  CHECK_THROWS_WITH(build_workload(r, s.models), Catch::Contains("--resolution does not apply to --workload embedding"));
  r.resolution.reset();
  r.model = "bge-lrge";
  CHECK_THROWS_WITH(build_workload(r, s.models), Catch::Contains("did you mean"));
  WorkloadRequest llm;
  llm.model = "13B";
  llm.steps = "30";
  CHECK_THROWS_WITH(build_workload(llm, s.models), Catch::Contains("--steps does not apply to --workload llm"));
  CHECK_THROWS_WITH(parse_workload_kind("audio"), Catch::Contains("embedding"));
}

TEST_CASE("embedding: check reads a deployment of the kind with no kind-specific code", "[evaluation][embedding]") {
  const Setup s;
  const std::string yaml = "deployments:\n  - name: search\n    workload: embedding\n    gpu: l4\n    count: 1\n"
                           "    model: bge-large-en-v1.5\n    batch: 64\n    context: 512\n";
  const auto results = check_text(yaml, "embed.yaml", s.catalog, s.models, s.assumptions, {});
  REQUIRE(results.size() == 1);
  CHECK(results[0].passed);
  CHECK(results[0].decode_tokens_per_s > 0);
}
