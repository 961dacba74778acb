// Machines: the instance CSV reader, renting GPUs as instances, tensor parallelism inside one node,
// pipeline stages across nodes, FP4 gating, and the GPUs added for issue 16 against their datasheets.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/check.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/instances.hpp>
#include <gpuadvise/listing.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/sweep.hpp>
#include <gpuadvise/workload.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <string>

using namespace gpuadvise;

namespace {

const char* k_header =
    "Provider,InstanceType,AcceleratorName,AcceleratorCount,GpuInterconnect,vCPUs,MemoryGiB,NetworkGbps,Price,SpotPrice,"
    "Region,PriceDate,Source\n";

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

Workload llm(const std::string& model, const std::string& precision) {
  WorkloadRequest r;
  r.model = model;
  r.precision = precision;
  r.requests = "100";
  return build_workload(r, ModelCatalog::embedded());
}

const Candidate& candidate_for(const Advice& advice, const std::string& id) {
  for (const auto& c : advice.candidates)
    if (c.gpu->id == id) return c;
  FAIL("no candidate for " << id);
  return advice.candidates.front();
}

} // namespace

TEST_CASE("instance CSV: rows read in any column order, with quotes", "[instances]") {
  const std::string text = std::string("# a comment\n") +
                           "Region,Provider,InstanceType,AcceleratorName,AcceleratorCount,GpuInterconnect,vCPUs,MemoryGiB,"
                           "NetworkGbps,Price,SpotPrice,PriceDate,Source\n"
                           "us-x,acme,box.4,l4,4,pcie,48,192,,4.5,,2026-01-02,\"quoted, with a comma\"\n";
  const auto catalog = InstanceCatalog::from_csv(text, "mine.csv");
  REQUIRE(catalog.instances().size() == 1);
  const Instance& row = catalog.instances()[0];
  CHECK(row.provider == "acme");
  CHECK(row.gpu_count == 4);
  CHECK(row.usd_per_hour == 4.5);
  CHECK_FALSE(row.spot_usd_per_hour.has_value());
  CHECK(row.source == "quoted, with a comma");
  CHECK(row.origin == "mine.csv:3");
  CHECK_FALSE(row.gpus_linked());
}

TEST_CASE("instance CSV: strict reading names file, line and column", "[instances][strict]") {
  auto error = [](const std::string& text) { return message_of([&] { (void)InstanceCatalog::from_csv(text, "p.csv"); }); };
  CHECK(error("Provider,Bogus\n").find("p.csv:1: unknown column 'Bogus'") != std::string::npos);
  CHECK(error("Provider,InstanceType\n").find("p.csv:1: missing column 'AcceleratorName'") != std::string::npos);
  CHECK(error(std::string(k_header) + "aws,x,l4,4,pcie,,,,abc,,r,2026-01-01,s\n") ==
        "p.csv:2: column Price: 'abc' is not a number");
  CHECK(error(std::string(k_header) + "aws,x,l4,2.5,pcie,,,,1,,r,2026-01-01,s\n").find("p.csv:2: column AcceleratorCount")
        != std::string::npos);
  CHECK(error(std::string(k_header) + "aws,x,l4,4,infiniband,,,,1,,r,2026-01-01,s\n").find("column GpuInterconnect") !=
        std::string::npos);
  CHECK(error(std::string(k_header) + "aws,x,l4,4,pcie,,,,1,,r,2026-13-01,s\n").find("p.csv:2: column PriceDate") !=
        std::string::npos);
  CHECK(error(std::string(k_header) + "aws,x,l4,4,pcie,,,,1,,r,2026-01-01\n").find("p.csv:2: 12 fields") != std::string::npos);
  CHECK(error(std::string(k_header) + "aws,x,l4,4,pcie,,,,1,,r,2026-01-01,\n").find("column Source: empty") !=
        std::string::npos);
  CHECK(error(std::string(k_header) + "aws,x,l4,4,pcie,,,,1,,r,2026-01-01,s\naws,x,l4,4,pcie,,,,2,,r,2026-01-01,s\n")
            .find("p.csv:3: duplicate row") != std::string::npos);
  CHECK(error("# only a comment\n").find("no header") != std::string::npos);

  const auto unknown_gpu = InstanceCatalog::from_csv(std::string(k_header) + "aws,x,no-such-gpu,1,pcie,,,,1,,r,2026-01-01,s\n",
                                                     "p.csv");
  CHECK(message_of([&] { unknown_gpu.check_gpus(GpuCatalog::embedded()); }).find("p.csv:2: column AcceleratorName") !=
        std::string::npos);
}

TEST_CASE("instance CSV: a user row replaces the built-in one with the same provider, type and region", "[instances]") {
  auto catalog = InstanceCatalog::embedded();
  const auto before = catalog.instances().size();
  catalog.merge_csv(std::string(k_header) + "aws,g6.12xlarge,l4,4,pcie,48,192,,3.00,,us-east-1,2026-11-01,negotiated\n",
                    "deal.csv");
  CHECK(catalog.instances().size() == before);
  const auto shapes = catalog.shapes("l4", "aws", "us-east-1");
  const auto it = std::find_if(shapes.begin(), shapes.end(), [](const Instance* i) { return i->instance_type == "g6.12xlarge"; });
  REQUIRE(it != shapes.end());
  CHECK((*it)->usd_per_hour == 3.00);
  CHECK((*it)->source == "negotiated");
}

TEST_CASE("the built-in instance catalog names only catalog GPUs", "[instances][data]") {
  CHECK_NOTHROW(InstanceCatalog::embedded().check_gpus(GpuCatalog::embedded()));
}

TEST_CASE("machines: a count rounds up to the next instance shape, priced per instance", "[instances]") {
  const auto catalog = InstanceCatalog::from_csv(std::string(k_header) +
                                                     "cloud,one,l4,1,pcie,,,,1.00,0.40,r,2026-01-01,s\n"
                                                     "cloud,four,l4,4,pcie,,,,4.60,,r,2026-01-01,s\n"
                                                     "cloud,eight,h100-sxm,8,nvswitch,,,3200,50.00,20.00,r,2026-01-01,s\n",
                                                 "t.csv");
  // 2 x L4 with TP=2: one instance must hold both, so the 4-GPU shape (4.60/hr), not two 1-GPU ones.
  auto plan = plan_machines(catalog, "l4", 2, 2, "cloud", "", false);
  REQUIRE(plan);
  CHECK(plan->instance.instance_type == "four");
  CHECK(plan->instances == 1);
  CHECK(plan->gpus == 4);
  CHECK(plan->rounded_up);
  CHECK(plan->usd_per_hour == Approx(4.60));
  // Two independent GPUs (no tensor parallelism): two 1-GPU instances cost 2 x 1.00.
  plan = plan_machines(catalog, "l4", 2, 1, "cloud", "", false);
  REQUIRE(plan);
  CHECK(plan->instance.instance_type == "one");
  CHECK(plan->instances == 2);
  CHECK(plan->usd_per_hour == Approx(2.00));
  // 16 x H100 with TP=8: two 8-GPU instances; spot at 2 x 20.
  plan = plan_machines(catalog, "h100-sxm", 16, 8, "cloud", "", true);
  REQUIRE(plan);
  CHECK(plan->instances == 2);
  CHECK_FALSE(plan->rounded_up);
  CHECK(plan->usd_per_hour == Approx(40.0));
  // Spot asked for where none is published: no plan.
  CHECK_FALSE(plan_machines(catalog, "l4", 4, 4, "cloud", "", true));
  CHECK(largest_shape(catalog, "l4") == 4);
}

TEST_CASE("must show: --provider aws --gpu l4 --count 2 rounds up to g6.12xlarge at its price", "[instances][advisor]") {
  const auto gpus = GpuCatalog::embedded();
  const auto instances = InstanceCatalog::embedded();
  AdviseOptions o;
  o.gpus = {"l4"};
  o.count = 2;
  o.provider = "aws";
  o.instances = &instances;
  const Advice advice = advise(llm("llama-3.1-8b", "fp16"), gpus, Assumptions::embedded(), o);
  const Candidate& c = candidate_for(advice, "l4");
  REQUIRE(c.machines);
  CHECK(c.machines->instance.instance_type == "g6.12xlarge");
  CHECK(c.machines->gpus == 4);
  CHECK(c.tp == 2);
  // skypilot-catalog v8 aws/vms.csv @00148f2: "g6.12xlarge,L4,4.0,48.0,192.0,...,4.6016,...,us-east-1".
  CHECK(c.cost.usd_per_hour == Approx(4.6016));
  CHECK(c.cost.price.date == "2026-09-25");
  const auto f = std::find_if(c.findings.begin(), c.findings.end(), [](const Finding& x) { return x.id == "machine-rounded-up"; });
  REQUIRE(f != c.findings.end());
  CHECK(f->message.find("g6.12xlarge") != std::string::npos);
  CHECK(f->message.find("$4.60") != std::string::npos);
  REQUIRE(f->remedies.size() == 1);
  CHECK(f->remedies[0].to == "4");
  CHECK(c.plan_text().find("1 x g6.12xlarge") != std::string::npos);

  SECTION("spot prices the instance at its spot price") {
    o.spot = true;
    const Advice spot = advise(llm("llama-3.1-8b", "fp16"), gpus, Assumptions::embedded(), o);
    // The same row's lowest us-east-1 spot price, use1-az6: 1.7552.
    CHECK(candidate_for(spot, "l4").cost.usd_per_hour == Approx(1.7552));
  }
  SECTION("--spot and --region need a provider; an unknown region is refused with the known ones") {
    o.provider.clear();
    o.spot = true;
    CHECK(message_of([&] { advise(llm("llama-3.1-8b", "fp16"), gpus, Assumptions::embedded(), o); }).find("--spot needs --provider") !=
          std::string::npos);
    o.provider = "aws";
    o.spot = false;
    o.region = "mars-1";
    CHECK(message_of([&] { advise(llm("llama-3.1-8b", "fp16"), gpus, Assumptions::embedded(), o); })
              .find("unknown --region 'mars-1' for aws") != std::string::npos);
  }
}

TEST_CASE("must show: tensor parallelism never exceeds one node; DeepSeek-V3 in fp8 spans two 8-GPU nodes",
          "[instances][advisor][pipeline]") {
  const auto gpus = GpuCatalog::embedded();
  const auto instances = InstanceCatalog::embedded();
  const Workload w = llm("deepseek-v3", "fp8");
  // Hand check: 671e9 weights at 1 byte need more than one node of 8 x 80 GB at 90%:
  // 671e9 / (8 x 0.9 x 80e9) = 1.16 nodes, so at least two.
  CHECK(671e9 / (8 * 0.9 * 80e9) > 1.0);
  AdviseOptions o;
  o.instances = &instances;
  o.count_given = false; // let the advisor search the count
  const Advice advice = advise(w, gpus, Assumptions::embedded(), o);
  for (const auto& c : advice.candidates) {
    INFO(c.gpu->id << ": " << c.plan_text());
    // No tensor-parallel group larger than the largest machine that rents this GPU (8 when none does).
    const int node = std::max(largest_shape(instances, c.gpu->id), 0) > 0 ? largest_shape(instances, c.gpu->id) : 8;
    CHECK(c.tp <= node);
    CHECK(c.count == c.tp * c.pp);
  }
  const Candidate& h100 = candidate_for(advice, "h100-sxm");
  CHECK(h100.fits());
  CHECK(h100.tp == 8);
  CHECK(h100.pp == 2);
  CHECK(h100.count == 16);
  const auto f = std::find_if(h100.findings.begin(), h100.findings.end(),
                              [](const Finding& x) { return x.id == "pipeline-parallel-assumed"; });
  CHECK(f != h100.findings.end());

  SECTION("on AWS the 16 GPUs are two p5.48xlarge at twice the instance price") {
    o.provider = "aws";
    o.gpus = {"h100-sxm"};
    const Advice aws = advise(w, gpus, Assumptions::embedded(), o);
    const Candidate& c = candidate_for(aws, "h100-sxm");
    REQUIRE(c.machines);
    CHECK(c.machines->instance.instance_type == "p5.48xlarge");
    CHECK(c.machines->instances == 2);
    // skypilot-catalog aws p5.48xlarge us-east-1: $55.04/hr per instance.
    CHECK(c.cost.usd_per_hour == Approx(2 * 55.04));
    CHECK(c.plan_text().find("TP=8 PP=2") != std::string::npos);
  }
  SECTION("a given count beyond a node becomes TP = node size and pipeline stages") {
    o.gpus = {"h100-sxm"};
    o.count = 16;
    o.count_given = true;
    const Advice given = advise(w, gpus, Assumptions::embedded(), o);
    const Candidate& c = candidate_for(given, "h100-sxm");
    CHECK(c.tp == 8);
    CHECK(c.pp == 2);
  }
}

TEST_CASE("pipeline stages divide weights and KV cache per GPU by the stage count", "[instances][pipeline]") {
  const auto gpus = GpuCatalog::embedded();
  const Gpu& h100 = gpus.find("h100-sxm");
  Workload w = llm("llama-3.1-70b", "fp16");
  w.batch = 8;
  w.batch_given = true;
  AdviseOptions o;
  const Candidate one = evaluate_plan(w, h100, 4, 1, Assumptions::embedded(), o);
  const Candidate two = evaluate_plan(w, h100, 4, 2, Assumptions::embedded(), o);
  CHECK(two.memory.weights_bytes == Approx(one.memory.weights_bytes / 2));
  CHECK(two.memory.kv_cache_bytes == Approx(one.memory.kv_cache_bytes / 2));
  CHECK(two.memory.activation_bytes == Approx(one.memory.activation_bytes));
  // A token passes the stages in turn: the decode step is the tensor-parallel group's.
  CHECK(two.performance.decode_step_s.expected == Approx(one.performance.decode_step_s.expected));
}

TEST_CASE("FP4: native on Blackwell, flagged with the nearest format elsewhere", "[precision][fp4]") {
  CHECK(parse_precision("fp4") == Precision::nvfp4);
  CHECK(parse_precision("NVFP4") == Precision::nvfp4);
  CHECK(parse_precision("mxfp4") == Precision::mxfp4);
  // NVFP4: 4-bit E2M1 values plus one 1-byte E4M3 scale per 16 -> 0.5 + 1/16 bytes; MXFP4: one E8M0 per 32.
  CHECK(weight_bytes_per_param(Precision::nvfp4, 128) == Approx(0.5625));
  CHECK(weight_bytes_per_param(Precision::mxfp4, 128) == Approx(0.53125));
  CHECK_THROWS_AS(parse_kv_precision("fp4"), InputError);

  const auto gpus = GpuCatalog::embedded();
  const Workload w = llm("llama-3.1-8b", "fp4");
  CHECK(decide_precision(w, gpus.find("b200")).native);
  CHECK(decide_precision(w, gpus.find("rtx-pro-6000")).native);
  for (const char* id : {"h100-sxm", "h200-sxm", "l40s", "mi300x"}) {
    INFO(id);
    const auto d = decide_precision(w, gpus.find(id));
    CHECK_FALSE(d.native);
    CHECK(d.effective == Precision::fp8);
  }
  // Ampere has neither FP4 nor FP8: the 4-bit weight-only int4 keeps the footprint.
  CHECK(decide_precision(w, gpus.find("a100-80gb-sxm")).effective == Precision::int4);

  AdviseOptions o;
  o.gpus = {"h100-sxm"};
  const Advice advice = advise(w, gpus, Assumptions::embedded(), o);
  const Candidate& c = candidate_for(advice, "h100-sxm");
  const auto f = std::find_if(c.findings.begin(), c.findings.end(), [](const Finding& x) { return x.id == "precision-not-native"; });
  REQUIRE(f != c.findings.end());
  CHECK(f->message.find("nvfp4 is not native on Hopper GPUs") != std::string::npos);
  CHECK(f->message.find("Blackwell") != std::string::npos);
  CHECK(f->message.find("Nearest supported: fp8") != std::string::npos);
  REQUIRE(f->remedies.size() == 1);
  CHECK(f->remedies[0].setting == Setting::precision);
  CHECK(f->remedies[0].to == "fp8");
}

TEST_CASE("stale prices: ages counted in calendar days from the given date", "[instances][stale]") {
  CHECK(days_between("2026-09-25", "2026-11-30") == 66); // 5 (Sep) + 31 (Oct) + 30 (Nov)
  CHECK(days_between("2024-02-28", "2024-03-01") == 2);  // leap year
  CHECK_THROWS_AS(days_between("2026-9-25", "2026-11-30"), InputError);
  const auto gpus = GpuCatalog::embedded();
  const auto instances = InstanceCatalog::from_csv(std::string(k_header) + "a,old,l4,1,pcie,,,,1,,r,2026-01-01,s\n"
                                                                           "a,new,l4,1,pcie,,,,1,,r,2026-11-01,s\n",
                                                   "t.csv");
  const auto stale = stale_prices(gpus, instances, "2026-11-30", 60);
  const bool old_listed = std::any_of(stale.begin(), stale.end(), [](const StalePrice& s) { return s.what == "old (1 x l4)"; });
  const bool new_listed = std::any_of(stale.begin(), stale.end(), [](const StalePrice& s) { return s.what == "new (1 x l4)"; });
  CHECK(old_listed);
  CHECK_FALSE(new_listed);
  for (const auto& s : stale) CHECK(s.age_days > 60);
}

TEST_CASE("instance rows for the H100 NVL and Lambda's 2- and 4-GPU H100 shapes, as read from the sources",
          "[instances][data]") {
  const auto instances = InstanceCatalog::embedded();
  auto row = [&](const std::string& provider, const std::string& type) -> const Instance* {
    for (const auto& r : instances.instances())
      if (r.provider == provider && r.instance_type == type) return &r;
    return nullptr;
  };
  // skypilot-catalog v6 azure/vms.csv @098741e (S3): Standard_NC40ads_H100_v5, eastus, $6.98/hr, one H100 NVL.
  const Instance* nc40 = row("azure", "Standard_NC40ads_H100_v5");
  REQUIRE(nc40 != nullptr);
  CHECK(nc40->gpu_id == "h100-nvl");
  CHECK(nc40->gpu_count == 1);
  CHECK(nc40->usd_per_hour == Approx(6.98));
  CHECK_FALSE(nc40->spot_usd_per_hour); // S3's spot column equals on-demand: not a spot price
  // skypilot-catalog v8 lambda/vms.csv @0f40703 (S4): gpu_2x_h100_sxm5 $8.38, gpu_4x_h100_sxm5 $16.36.
  const Instance* two = row("lambda", "gpu_2x_h100_sxm5");
  const Instance* four = row("lambda", "gpu_4x_h100_sxm5");
  REQUIRE(two != nullptr);
  REQUIRE(four != nullptr);
  CHECK(two->usd_per_hour == Approx(8.38));
  CHECK(four->usd_per_hour == Approx(16.36));
  CHECK(four->vcpus == 104);
  CHECK(four->memory_gib == 900);
  // With them, 4 x H100 on Lambda is one 4-GPU instance, not half an 8-GPU one: 16.36 < 31.92.
  const auto plan = plan_machines(instances, "h100-sxm", 4, 4, "lambda", "", false);
  REQUIRE(plan);
  CHECK(plan->instance.instance_type == "gpu_4x_h100_sxm5");
  CHECK(plan->usd_per_hour == Approx(16.36));
}

TEST_CASE("training plans rent instances: the cheapest shapes that hold the plan, at their price",
          "[instances][advisor][training]") {
  const auto gpus = GpuCatalog::embedded();
  const auto instances = InstanceCatalog::embedded();
  WorkloadRequest r;
  r.model = "llama-3.1-8b";
  r.precision = "bf16";
  r.batch = "1";
  const Workload w = build_workload(r, ModelCatalog::embedded());
  AdviseOptions o;
  o.gpus = {"l4"};
  o.count = 2;
  o.count_given = true;
  o.train_tokens = 1e7;
  TrainingSetup t;
  t.task = Task::qlora;
  t.sequence = 1024;
  o.training = t;
  o.instances = &instances;

  SECTION("without a provider: GPUs priced one by one") {
    const Advice advice1 = advise(w, gpus, Assumptions::embedded(), o);
    const Candidate& c = candidate_for(advice1, "l4");
    REQUIRE(c.training);
    CHECK_FALSE(c.machines);
    CHECK(c.cost.usd_per_hour == Approx(2 * c.cost.price.usd_per_hour));
  }
  SECTION("--provider aws: QLoRA on 2 x L4 is data parallel (TP=1), so two g6.xlarge at their instance price") {
    o.provider = "aws";
    const Advice advice2 = advise(w, gpus, Assumptions::embedded(), o);
    const Candidate& c = candidate_for(advice2, "l4");
    REQUIRE(c.training);
    REQUIRE(c.machines);
    CHECK(c.count == 2);
    CHECK(c.training->plan.tp == 1);
    // TP=1 needs no GPU link: the cheapest shapes that hold 2 GPUs are 2 x g6.xlarge (2 x 0.8048) rather than one
    // g6.12xlarge (4.6016). skypilot-catalog v8 aws/vms.csv @00148f2: g6.xlarge us-east-1 $0.8048/hr.
    CHECK(c.machines->instance.instance_type == "g6.xlarge");
    CHECK(c.machines->instances == 2);
    CHECK(c.cost.usd_per_hour == Approx(2 * 0.8048));
    CHECK(c.cost.job_usd.expected == Approx(c.training->hours.expected * 2 * 0.8048));
    CHECK(std::any_of(c.findings.begin(), c.findings.end(), [](const Finding& x) { return x.id == "machine-instances"; }));
    CHECK(c.plan_text().find("(2 x g6.xlarge)") != std::string::npos);

    SECTION("--spot: the same instances at their spot price (g6.xlarge: $0.349/hr)") {
      o.spot = true;
      const Advice advice3 = advise(w, gpus, Assumptions::embedded(), o);
    const Candidate& spot = candidate_for(advice3, "l4");
      CHECK(spot.cost.usd_per_hour == Approx(2 * 0.349));
      CHECK(spot.cost.price.tier == "spot");
    }
  }
  SECTION("--spot on a GPU the provider does not rent with a spot price is a finding, not a price") {
    o.provider = "lambda";
    o.gpus = {"h100-sxm"};
    o.spot = true;
    const Advice advice4 = advise(w, gpus, Assumptions::embedded(), o);
    const Candidate& c = candidate_for(advice4, "h100-sxm");
    CHECK_FALSE(c.eligible);
    CHECK(std::any_of(c.findings.begin(), c.findings.end(), [](const Finding& x) { return x.id == "machine-missing"; }));
  }
}

TEST_CASE("sweep and check price as the default command: --provider, --region and --spot rent instances",
          "[instances][sweep][check]") {
  const auto gpus = GpuCatalog::embedded();
  const auto models = ModelCatalog::embedded();
  const auto instances = InstanceCatalog::embedded();
  const auto assumptions = Assumptions::embedded();
  AdviseOptions pricing;
  pricing.provider = "aws";
  pricing.instances = &instances;

  SECTION("sweep: 2 x L4 points cost one g6.12xlarge ($4.6016/hr), spot $1.7552") {
    WorkloadRequest r;
    r.model = "llama-3.1-8b";
    r.batch = "1";
    const Workload w = build_workload(r, models);
    SweepGrid grid;
    grid.contexts = {4096};
    const auto result = run_sweep(w, gpus, {&gpus.find("l4")}, 2, assumptions, grid, pricing);
    REQUIRE(result.points.size() == 1);
    CHECK(result.points[0].usd_per_hour == Approx(4.6016));
    pricing.spot = true;
    const auto spot = run_sweep(w, gpus, {&gpus.find("l4")}, 2, assumptions, grid, pricing);
    CHECK(spot.points[0].usd_per_hour == Approx(1.7552));
  }
  SECTION("the same checks for every command: region and spot need a provider; unknown regions are refused") {
    AdviseOptions bad;
    bad.instances = &instances;
    bad.spot = true;
    CHECK(message_of([&] { require_pricing(gpus, bad); }).find("--spot needs --provider") != std::string::npos);
    bad.spot = false;
    bad.region = "us-east-1";
    CHECK(message_of([&] { require_pricing(gpus, bad); }).find("--region needs --provider") != std::string::npos);
    bad.provider = "aws";
    bad.region = "mars-1";
    CHECK(message_of([&] { require_pricing(gpus, bad); }).find("unknown --region 'mars-1' for aws") != std::string::npos);
    WorkloadRequest r;
    r.model = "llama-3.1-8b";
    r.batch = "1";
    SweepGrid grid;
    CHECK(message_of([&] { run_sweep(build_workload(r, models), gpus, {}, 1, assumptions, grid, bad); })
              .find("unknown --region 'mars-1'") != std::string::npos);
  }
  SECTION("check: a deployment's provider, region and spot keys rent instances and win over the command line") {
    CheckOptions options;
    options.instances = &instances;
    const std::string file =
        "deployments:\n  - name: chat\n    gpu: l4\n    count: 2\n    model: llama-3.1-8b\n    provider: aws\n"
        "    region: us-east-1\n";
    auto results = check_text(file, "deploy.yaml", gpus, models, assumptions, options);
    REQUIRE(results.size() == 1);
    CHECK(results[0].usd_per_hour == Approx(4.6016));
    CHECK(std::any_of(results[0].findings.begin(), results[0].findings.end(),
                      [](const CheckFinding& f) { return f.rule == "machine-rounded-up"; }));
    results = check_text(file + "    spot: true\n", "deploy.yaml", gpus, models, assumptions, options);
    CHECK(results[0].usd_per_hour == Approx(1.7552));
    // The command line's --spot applies when the file says nothing.
    options.spot = true;
    results = check_text(file, "deploy.yaml", gpus, models, assumptions, options);
    CHECK(results[0].usd_per_hour == Approx(1.7552));
    // A region without a provider is refused in the file's own terms, with its line.
    const std::string no_provider = "deployments:\n  - name: chat\n    gpu: l4\n    model: llama-3.1-8b\n    region: us-east-1\n";
    const std::string message = message_of([&] { check_text(no_provider, "deploy.yaml", gpus, models, assumptions, {}); });
    CHECK(message.find("deploy.yaml:5:") != std::string::npos);
    CHECK(message.find("region needs provider") != std::string::npos);
    CHECK(message_of([&] { check_text(file + "    spot: maybe\n", "deploy.yaml", gpus, models, assumptions, options); })
              .find("spot 'maybe' is not true or false") != std::string::npos);
  }
}
