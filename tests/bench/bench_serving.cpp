// Speed of the serving simulator and the plan search (issue 13: 10,000 requests through one replica in
// under 20 ms; a plan search over the whole catalog in under 1 s on one core).
#include <gpuadvise/serving.hpp>

#include <benchmark/benchmark.h>

using namespace gpuadvise;

namespace {

struct ServingSetup {
  GpuCatalog catalog = GpuCatalog::embedded();
  ModelCatalog models = ModelCatalog::embedded();
  Assumptions assumptions = Assumptions::embedded();
  Workload workload;
  ServingSetup() {
    WorkloadRequest r;
    r.model = "llama-3-8b";
    r.context = "1800";
    r.output_tokens = "1";
    workload = build_workload(r, models);
  }
};

const ServingSetup& setup() {
  static const ServingSetup s;
  return s;
}

Traffic traffic(double rate, int requests) {
  Traffic t;
  t.rate = rate;
  t.requests = requests;
  t.input = {1500, 0, 1, 100000};
  t.output = {300, 0, 1, 100000};
  return t;
}

} // namespace

/// 10,000 requests (1,500 in / 300 out) at 10 requests/s through one H100 replica.
void BM_Simulate10kRequestsOneReplica(benchmark::State& state) {
  const auto& s = setup();
  const ReplicaModel model = make_replica(s.workload, s.catalog.find("h100-sxm"), 1, s.assumptions, EngineSettings{});
  const Traffic t = traffic(10, 10000);
  for (auto _ : state) benchmark::DoNotOptimize(simulate(model, 1, t, Targets{}));
}
BENCHMARK(BM_Simulate10kRequestsOneReplica)->Unit(benchmark::kMillisecond);

/// The cheapest plan for 40 requests/s with TTFT p95 <= 500 ms and TPOT p95 <= 40 ms over every GPU.
void BM_ServingPlanSearchCatalog(benchmark::State& state) {
  const auto& s = setup();
  Targets targets;
  targets.ttft_p95 = 0.5;
  targets.tpot_p95 = 0.04;
  for (auto _ : state)
    benchmark::DoNotOptimize(
        search_serving_plans(s.workload, s.catalog, s.assumptions, traffic(40, 2000), targets, EngineSettings{}, ServingSearch{}));
}
BENCHMARK(BM_ServingPlanSearchCatalog)->Unit(benchmark::kMillisecond);
