// The serving simulator (issue 13): properties that must hold whatever the constants, and the plan search.
#include <gpuadvise/traffic_answers.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/serving.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

using namespace gpuadvise;

namespace {

struct Fixture {
  GpuCatalog catalog = GpuCatalog::embedded();
  ModelCatalog models = ModelCatalog::embedded();
  Assumptions assumptions = Assumptions::embedded();
  Workload workload;
  Fixture() {
    WorkloadRequest r;
    r.model = "llama-3-8b";
    r.context = "1800";
    r.output_tokens = "1";
    workload = build_workload(r, models);
  }
  ReplicaModel replica(const char* gpu = "h100-sxm", int tp = 1) const {
    return make_replica(workload, catalog.find(gpu), tp, assumptions, EngineSettings{});
  }
};

Traffic at_rate(double rate, int requests = 600) {
  Traffic t;
  t.rate = rate;
  t.requests = requests;
  t.input = {1500, 0, 1, 100000};
  t.output = {300, 0, 1, 100000};
  return t;
}

} // namespace

TEST_CASE("serving: every admitted request finishes, deterministically for a seed", "[serving]") {
  const Fixture f;
  const ReplicaModel m = f.replica();
  const ServingResult a = simulate(m, 1, at_rate(5), Targets{});
  const ServingResult b = simulate(m, 1, at_rate(5), Targets{});
  CHECK(a.finished == 600);
  CHECK(a.ttft_s.p95 == b.ttft_s.p95);
  CHECK(a.output_tokens_per_s == b.output_tokens_per_s);
  // Output tokens per second = 600 requests x 300 tokens over the run.
  CHECK(a.output_tokens_per_s == Approx(600 * 300 / a.duration_s));
}

TEST_CASE("serving: latency never falls as the rate rises", "[serving]") {
  const Fixture f;
  const ReplicaModel m = f.replica();
  double last_ttft = 0, last_e2e = 0;
  for (double rate : {0.5, 2.0, 5.0, 10.0, 20.0}) {
    const ServingResult r = simulate(m, 1, at_rate(rate), Targets{});
    INFO("rate " << rate);
    CHECK(r.ttft_s.p95 >= last_ttft * 0.98);
    CHECK(r.e2e_s.p50 >= last_e2e * 0.98);
    last_ttft = r.ttft_s.p95;
    last_e2e = r.e2e_s.p50;
  }
}

TEST_CASE("serving: more replicas never raise p95 latency", "[serving]") {
  const Fixture f;
  const ReplicaModel m = f.replica("l40s");
  double last = 1e30;
  for (int replicas : {1, 2, 4, 8}) {
    const ServingResult r = simulate(m, replicas, at_rate(8, 800), Targets{});
    INFO(replicas << " replicas");
    CHECK(r.ttft_s.p95 <= last * 1.02);
    last = r.ttft_s.p95;
  }
}

TEST_CASE("serving: far below capacity, TTFT is one prompt's prefill step", "[serving]") {
  const Fixture f;
  const ReplicaModel m = f.replica();
  const ServingResult r = simulate(m, 1, at_rate(0.05, 100), Targets{});
  // Alone in the engine: one step computes the 1,500-token prompt and samples the first token.
  const double alone = m.step.step_case_s(1, 0, 0, 1500, 750);
  CHECK(r.ttft_s.p50 == Approx(alone).epsilon(0.01));
  // ... and every later token is one decode step of one sequence.
  CHECK(r.tpot_s.p50 == Approx(m.step.step_case_s(1, 1, 1650, 0, 0)).epsilon(0.05));
}

TEST_CASE("serving: at saturation throughput approaches the batch estimate", "[serving]") {
  const Fixture f;
  const ReplicaModel m = f.replica();
  Traffic t = at_rate(1);
  t.rate.reset();
  t.concurrency = 64;
  t.requests = 640;
  const ServingResult r = simulate(m, 1, t, Targets{});
  // The batch-job estimate of the same work (64 sequences in waves: prefill, then 300 decode steps) is the
  // throughput continuous batching approaches: it overlaps prefills with decodes, so it is not far off.
  WorkloadRequest req;
  req.model = "llama-3-8b";
  req.batch = "64";
  req.input_tokens = "1500";
  req.output_tokens = "300";
  req.context = "1800";
  req.requests = "640";
  const Workload batch = build_workload(req, f.models);
  const Gpu& h100 = f.catalog.find("h100-sxm");
  const PerfEstimate p = estimate_performance(batch, decide_precision(batch, h100), h100, 1, f.assumptions);
  const double batch_rate = p.job_tokens / p.job_s.expected;
  CHECK(r.output_tokens_per_s == Approx(batch_rate).epsilon(0.25));
  // Never faster than decoding alone at that batch.
  CHECK(r.output_tokens_per_s <= 64 / m.step.step_case_s(1, 64, 64 * 1650.0, 0, 0) * 1.02);
}

TEST_CASE("serving: KV blocks bound concurrency and preemption recomputes", "[serving]") {
  const Fixture f;
  ReplicaModel m = f.replica();
  // 16-token blocks: 1,800 tokens need 113 blocks; allow two such sequences only.
  m.kv_blocks = 226;
  Traffic t = at_rate(1, 40);
  t.rate.reset();
  t.concurrency = 8;
  const ServingResult r = simulate(m, 1, t, Targets{});
  CHECK(r.finished == 40);
  CHECK(r.kv_utilization <= 1.0);
  CHECK(r.kv_utilization > 0.5);
}

TEST_CASE("serving: traces and profiles", "[serving]") {
  const auto trace = parse_trace("arrival_s,input_tokens,output_tokens\n0,100,10\n0.5,200,20\n", "t.csv");
  REQUIRE(trace.size() == 2);
  CHECK(trace[1].input_tokens == 200);
  const auto jsonl = parse_trace("{\"arrival_s\": 1, \"input_tokens\": 5, \"output_tokens\": 6}\n", "t.jsonl");
  CHECK(jsonl[0].output_tokens == 6);
  CHECK_THROWS_WITH(parse_trace("arrival_s,input_tokens,output_tokens\n0,abc,1\n", "t.csv"), Catch::Contains("t.csv: line 2"));
  CHECK_THROWS_WITH(find_length_profile("sharegtp"), Catch::Contains("sharegpt"));
  Traffic t;
  t.rate = 10;
  t.requests = 5000;
  t.input = find_length_profile("sharegpt").input;
  t.output = find_length_profile("sharegpt").output;
  double sum = 0;
  for (const auto& r : generate_requests(t)) sum += r.input_tokens;
  CHECK(sum / 5000 == Approx(202).epsilon(0.08)); // the profile's published mean
}

TEST_CASE("serving: the plan search meets the targets at the lowest cost", "[serving]") {
  const Fixture f;
  Targets targets;
  targets.ttft_p95 = 0.5;
  targets.tpot_p95 = 0.04;
  ServingSearch search;
  search.gpus = {&f.catalog.find("h100-sxm"), &f.catalog.find("l40s")};
  const auto plans = search_serving_plans(f.workload, f.catalog, f.assumptions, at_rate(20, 1000), targets, EngineSettings{}, search);
  REQUIRE(!plans.empty());
  const ServingPlan& best = plans.front();
  REQUIRE(best.replicas > 0);
  CHECK(best.result.ttft_s.p95 <= 0.5);
  CHECK(best.result.tpot_s.p95 <= 0.04);
  // Cost = replicas x TP x the GPU's price; a month is 730 hours.
  CHECK(best.usd_per_hour == Approx(best.replicas * best.tp * best.gpu->price("")->usd_per_hour));
  CHECK(best.usd_per_month == Approx(best.usd_per_hour * 730));
  for (const auto& p : plans)
    if (p.replicas > 0 && p.priced) CHECK(p.usd_per_hour >= best.usd_per_hour);
  // One replica fewer misses (bisection found the fewest).
  if (best.replicas > 1) {
    const ReplicaModel m = make_replica(f.workload, *best.gpu, best.tp, f.assumptions, EngineSettings{});
    const ServingResult fewer = simulate(m, best.replicas - 1, at_rate(20, 1000), targets);
    CHECK((fewer.ttft_s.p95 > 0.5 || fewer.tpot_s.p95 > 0.04 || !fewer.stable));
  }
}

TEST_CASE("serving: without chunked prefill, prompts run in prefill-only steps and long prompts still run", "[serving]") {
  const Fixture f;
  EngineSettings v0;
  v0.chunked_prefill = false;
  v0.max_num_batched_tokens = 2048;
  const ReplicaModel m = make_replica(f.workload, f.catalog.find("h100-sxm"), 1, f.assumptions, v0);
  // All at once, prompts (3,000 tokens) longer than the token budget: each runs alone, whole, and every
  // request finishes (the engine sizes the budget to max-model-len when prefill is not chunked).
  Traffic t;
  t.concurrency = 40;
  t.requests = 40;
  t.input = {3000, 0, 1, 100000};
  t.output = {50, 0, 1, 100000};
  const ServingResult r = simulate(m, 1, t, Targets{});
  CHECK(r.finished == 40);
  // Prefill-only steps: the first request's first token comes after exactly one step computing its
  // 3,000-token prompt, and the last request's after forty of them (decodes pause while prompts wait).
  const double one_prompt = m.step.step_case_s(1, 0, 0, 3000, 1500);
  CHECK(r.ttft_s.p99 >= 39 * one_prompt);
}

TEST_CASE("serving: multi-step scheduling delivers a run's tokens at its end", "[serving]") {
  const Fixture f;
  EngineSettings multi;
  multi.num_scheduler_steps = 10;
  const ReplicaModel m = make_replica(f.workload, f.catalog.find("h100-sxm"), 1, f.assumptions, multi);
  // One request of 2 output tokens alone: its prompt step gives the first token; the second comes at the
  // end of a 10-step run (the batch keeps stepping to the run's end), so TPOT = ten decode steps.
  Traffic t;
  t.concurrency = 1;
  t.requests = 1;
  t.input = {100, 0, 1, 100000};
  t.output = {2, 0, 1, 100000};
  const ServingResult r = simulate(m, 1, t, Targets{});
  REQUIRE(r.finished == 1);
  double run = 0;
  for (int k = 0; k < 10; ++k) run += m.step.step_case_s(1, 1, 100 + k, 0, 0);
  CHECK(r.tpot_s.p50 == Approx(run).epsilon(1e-9));
}

TEST_CASE("serving: without a rate, the cheapest per hour, the cheapest per token and where the second overtakes",
          "[serving]") {
  const Fixture f;
  WorkloadRequest r;
  r.model = "13B";
  r.precision = "fp8";
  const Workload w = build_workload(r, f.models); // no --batch: each GPU at the batch the advisor chooses
  const Advice advice = advise(w, f.catalog, f.assumptions, {});
  const auto answers = traffic_answers(advice);
  REQUIRE(answers);
  // Worked out here from the candidates: the lowest $/hr and the lowest $ per 1M output tokens among
  // the eligible, priced ones.
  double lowest_hourly = 1e300, lowest_per_token = 1e300;
  for (const auto& c : advice.candidates)
    if (c.eligible && c.cost.priced) {
      lowest_hourly = std::min(lowest_hourly, c.cost.usd_per_hour);
      lowest_per_token = std::min(lowest_per_token, c.cost.usd_per_million_tokens.expected);
    }
  const Candidate& low = advice.candidates[answers->low];
  const Candidate& high = advice.candidates[answers->high];
  CHECK(low.cost.usd_per_hour == lowest_hourly);
  CHECK(high.cost.usd_per_million_tokens.expected == lowest_per_token);
  if (answers->low != answers->high) {
    // At the crossover, the low-traffic GPUs needed to carry it cost exactly one high-traffic GPU's $/hr.
    const double fleets_of_low = answers->crossover_tokens_per_s / low.performance.decode_tokens_per_s.expected;
    CHECK(fleets_of_low * low.cost.usd_per_hour == Approx(high.cost.usd_per_hour));
    CHECK(high.cost.usd_per_hour > low.cost.usd_per_hour);
  }
  // A fixed batch is a question about that batch, not about traffic: no answers.
  WorkloadRequest fixed = r;
  fixed.batch = "8";
  CHECK_FALSE(traffic_answers(advise(build_workload(fixed, f.models), f.catalog, f.assumptions, {})));
}

TEST_CASE("serving: a probe that stops at a certain miss gives the full run's verdict", "[serving]") {
  const Fixture f;
  const ReplicaModel m = f.replica("l40s");
  Targets t;
  t.ttft_p95 = 0.5;
  t.tpot_p95 = 0.05;
  for (double rate : {1.0, 4.0, 12.0}) {
    INFO("rate " << rate);
    const ServingResult full = simulate(m, 1, at_rate(rate, 400), t);
    const ServingResult probe = simulate(m, 1, at_rate(rate, 400), t, Router::least_outstanding, true);
    const bool full_meets = full.finished == 400 && full.ttft_s.p95 <= 0.5 && full.tpot_s.p95 <= 0.05;
    if (full_meets) {
      // Nothing missed: the probe ran to the end and is the same run.
      CHECK_FALSE(probe.stopped_early);
      CHECK(probe.ttft_s.p95 == full.ttft_s.p95);
      CHECK(probe.output_tokens_per_s == full.output_tokens_per_s);
    } else {
      CHECK((probe.stopped_early || probe.ttft_s.p95 > 0.5 || probe.tpot_s.p95 > 0.05));
    }
  }
  // At 12 requests/s of 1,500-token prompts an L40S is far over capacity: the probe stops before the end.
  CHECK(simulate(m, 1, at_rate(12, 400), t, Router::least_outstanding, true).finished < 400);
}

TEST_CASE("serving: host time per sequence adds to every step of a lone request", "[serving]") {
  const Fixture f;
  ReplicaModel m = f.replica();
  m.engine.host_s_per_sequence = 36e-6;
  const ServingResult r = simulate(m, 1, at_rate(0.05, 50), Targets{});
  // Alone: the prompt's step plus one sequence's host time; each later token a one-sequence decode step plus it.
  CHECK(r.ttft_s.p50 == Approx(m.step.step_case_s(1, 0, 0, 1500, 750) + 36e-6).epsilon(0.01));
  CHECK(r.tpot_s.p50 == Approx(m.step.step_case_s(1, 1, 1650, 0, 0) + 36e-6).epsilon(0.05));
}

TEST_CASE("serving: a closed loop obeys Little's law", "[serving]") {
  const Fixture f;
  const ReplicaModel m = f.replica();
  Traffic t = at_rate(1, 800);
  t.rate.reset();
  t.concurrency = 16;
  const ServingResult r = simulate(m, 1, t, Targets{});
  // 16 users with no think time: requests in the system = throughput x time in the system = 16.
  CHECK(r.request_throughput_per_s * r.e2e_mean_s == Approx(16).epsilon(0.05));
}

TEST_CASE("serving: step parts add up to the step time", "[serving]") {
  const Fixture f;
  const ReplicaModel m = f.replica("h100-sxm", 2);
  for (int which : {0, 1, 2}) {
    const StepModel::Parts p = m.step.step_parts(which, 64, 64 * 1000.0, 512, 256);
    CHECK(p.total_s == Approx(m.step.step_case_s(which, 64, 64 * 1000.0, 512, 256)));
    CHECK(p.total_s == Approx(std::max(p.compute_s, p.memory_s) + p.runtime_fixed_s + p.allreduce_s));
    CHECK(p.bytes == Approx(p.weight_bytes + p.kv_bytes));
    // KV read: 64 sequences x 1,000 tokens x the bytes one token occupies on each GPU x 2 GPUs (all of the cache).
    CHECK(p.kv_bytes == Approx(64 * 1000.0 * m.step.kv_bytes_per_token_per_gpu() * 2));
  }
}

TEST_CASE("serving: a rate sweep is the simulator at each rate, with its cost per token", "[serving]") {
  const Fixture f;
  CHECK(parse_rate_list("1..8") == std::vector<double>{1, 2, 4, 8});
  CHECK(parse_rate_list("0.5,3,1") == std::vector<double>{0.5, 1, 3});
  CHECK(parse_rate_list("1..6") == std::vector<double>{1, 2, 4, 6});
  CHECK_THROWS_AS(parse_rate_list("1,,2"), InputError);
  CHECK_THROWS_AS(parse_rate_list("8..1"), InputError);
  CHECK_THROWS_AS(parse_rate_list("fast"), InputError);
  const Gpu& l40s = f.catalog.find("l40s");
  Traffic t = at_rate(1, 200);
  const RateSweep s = run_rate_sweep(f.workload, f.catalog, {&l40s}, 1, 2, f.assumptions, t, {1, 2}, EngineSettings{}, "");
  REQUIRE(s.points.size() == 2);
  const auto& p = s.points[1];
  CHECK(p.rate == 2);
  CHECK(p.replicas == 2);
  t.rate = 2;
  const ServingResult direct = simulate(f.replica("l40s"), 2, t, Targets{});
  CHECK(p.result.ttft_s.p95 == direct.ttft_s.p95);
  // $ per million output tokens = 2 GPUs x $/hr / (output tokens/s x 3600 s) x 10^6.
  const double usd_per_hour = 2 * l40s.price("")->usd_per_hour;
  CHECK(p.usd_per_hour == Approx(usd_per_hour));
  CHECK(p.usd_per_million_output_tokens == Approx(usd_per_hour / (direct.output_tokens_per_s * 3600) * 1e6));
  // A higher rate never lowers the p95 TTFT of the same fleet.
  CHECK(s.points[1].result.ttft_s.p95 >= s.points[0].result.ttft_s.p95 * 0.98);
  const PlotSpec plot = rate_sweep_plot(s, RateSweepMetric::ttft_p95);
  REQUIRE(plot.series.size() == 1);
  CHECK(plot.series[0].points[1].y == Approx(direct.ttft_s.p95 * 1e3));
}
