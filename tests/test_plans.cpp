// Plans in the advisor: the smallest GPU count that fits, training tasks ranked by job cost, and limits.
#include <gpuadvise/advisor.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace gpuadvise;

namespace {

struct Setup {
  GpuCatalog catalog = GpuCatalog::embedded();
  ModelCatalog models = ModelCatalog::embedded();
  Assumptions assumptions = Assumptions::embedded();

  Workload workload(const std::string& model, const std::string& precision) const {
    WorkloadRequest r;
    r.model = model;
    r.precision = precision;
    r.batch = "1";
    return build_workload(r, models);
  }
};

} // namespace

TEST_CASE("Inference: a model too big for one card gets the smallest tensor-parallel plan that fits", "[plans]") {
  const Setup s;
  const Workload w = s.workload("llama-2-70b", "fp16");
  AdviseOptions o;
  o.gpus = {"l40"};
  o.count_given = false;
  const Advice a = advise(w, s.catalog, s.assumptions, o);
  REQUIRE(a.recommendation.pick);
  const Candidate& c = a.candidates[*a.recommendation.pick];
  // 70B fp16 = 138 GB of weights: 2 x 43.5 GB usable is too little, 4 is enough.
  CHECK(c.count == 4);
  CHECK(c.count_chosen);
  CHECK(c.memory.fits());
  CHECK_FALSE(estimate_memory(w, c.precision, *c.gpu, 2, s.assumptions).fits());
  CHECK(c.plan_text() == "4 x l40, TP=4 over PCIe");

  o.count_given = true;
  o.count = 1;
  CHECK_FALSE(advise(w, s.catalog, s.assumptions, o).recommendation.pick);
}

TEST_CASE("Training: 7B full fine-tune needs several 48 GB cards; LoRA and QLoRA fit on one", "[plans]") {
  const Setup s;
  const Workload w = s.workload("llama-2-7b", "bf16");
  AdviseOptions o;
  o.gpus = {"l40", "rtx-a6000", "h100-sxm"};
  o.count_given = false;
  o.train_tokens = 1e8;
  TrainingSetup t;
  t.task = Task::finetune;
  t.sequence = 2048;
  o.training = t;
  const Advice full = advise(w, s.catalog, s.assumptions, o);
  for (const auto& c : full.candidates) {
    INFO(c.gpu->id);
    REQUIRE(c.training);
    CHECK(c.count > 1); // 16 bytes x 6.74B = 108 GB of state before activations
    CHECK(c.training->memory.fits());
    CHECK(c.cost.job_usd.expected == Approx(c.training->hours.expected * c.cost.usd_per_hour));
  }
  // Ranked by job cost.
  for (std::size_t i = 0; i + 1 < full.candidates.size(); ++i)
    if (full.candidates[i + 1].eligible) CHECK(full.candidates[i].job_usd() <= full.candidates[i + 1].job_usd() * 1.005);

  for (Task task : {Task::lora, Task::qlora}) {
    o.training->task = task;
    o.gpus = {"l40"};
    const Advice a = advise(w, s.catalog, s.assumptions, o);
    REQUIRE(a.recommendation.pick);
    CHECK(a.candidates[*a.recommendation.pick].count == 1);
  }
}

TEST_CASE("Limits: --max-hours asks for a bigger plan, --budget rules candidates out", "[plans]") {
  const Setup s;
  const Workload w = s.workload("llama-2-7b", "bf16");
  AdviseOptions o;
  o.gpus = {"h100-sxm"};
  o.count_given = false;
  o.train_tokens = 1e9;
  TrainingSetup t;
  t.task = Task::lora;
  o.training = t;
  const Advice unlimited = advise(w, s.catalog, s.assumptions, o);
  REQUIRE(unlimited.recommendation.pick);
  const Candidate& base = unlimited.candidates[0];
  o.max_hours = base.job_seconds() / 3600 / 3; // three times faster than one GPU manages
  const Advice limited = advise(w, s.catalog, s.assumptions, o);
  REQUIRE(limited.recommendation.pick);
  CHECK(limited.candidates[0].count > base.count);
  CHECK(limited.candidates[0].job_seconds() / 3600 <= *o.max_hours);

  o.max_hours.reset();
  o.budget_usd = base.job_usd() / 10;
  const Advice broke = advise(w, s.catalog, s.assumptions, o);
  CHECK_FALSE(broke.recommendation.pick);
  bool found = false;
  for (const auto& f : broke.candidates[0].findings) found = found || f.id == "limit-budget";
  CHECK(found);
}
