// Speed of the engine itself (Google Benchmark): one workload on one GPU, a whole catalog, a
// sweep-sized grid, and the start-up cost of building the built-in catalogs.
// Build with -DGPUADVISE_BUILD_BENCHMARKS=ON; run build/tests/bench/gpuadvise_bench.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/report.hpp>

#include <benchmark/benchmark.h>

namespace {

using namespace gpuadvise;

struct Fixture {
  GpuCatalog catalog = GpuCatalog::embedded();
  ModelCatalog models = ModelCatalog::embedded();
  Assumptions assumptions = Assumptions::embedded();
  Workload workload;
  Fixture() {
    WorkloadRequest request;
    request.model = "13B";
    request.precision = "fp8";
    request.batch = "8";
    workload = build_workload(request, models);
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

/// The inner loop: memory, precision, speed and cost of one workload on one GPU (fixed batch).
void BM_EvaluateOneGpu(benchmark::State& state) {
  const auto& f = fixture();
  const Gpu& gpu = f.catalog.find("l40");
  for (auto _ : state) benchmark::DoNotOptimize(evaluate(f.workload, gpu, 1, f.assumptions, {}));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateOneGpu);

/// The estimators alone, without findings and their messages: what a sweep grid point costs.
void BM_EstimatorsOneGpu(benchmark::State& state) {
  const auto& f = fixture();
  const Gpu& gpu = f.catalog.find("l40");
  for (auto _ : state) {
    const auto p = decide_precision(f.workload, gpu);
    benchmark::DoNotOptimize(estimate_memory(f.workload, p, gpu, 1, f.assumptions));
    const auto perf = estimate_performance(f.workload, p, gpu, 1, f.assumptions);
    benchmark::DoNotOptimize(estimate_cost(f.workload, perf, gpu, 1, {}));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EstimatorsOneGpu);

/// A whole advice over the catalog (16 GPUs), ranking included.
void BM_AdviseCatalog(benchmark::State& state) {
  const auto& f = fixture();
  for (auto _ : state) benchmark::DoNotOptimize(advise(f.workload, f.catalog, f.assumptions, {}));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(f.catalog.gpus().size()));
}
BENCHMARK(BM_AdviseCatalog);

/// Advice with the batch left to the advisor (up to 9 batches tried per GPU).
void BM_AdviseCatalogAutoBatch(benchmark::State& state) {
  const auto& f = fixture();
  Workload w = f.workload;
  w.batch_given = false;
  w.batch = 1;
  for (auto _ : state) benchmark::DoNotOptimize(advise(w, f.catalog, f.assumptions, {}));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(f.catalog.gpus().size()));
}
BENCHMARK(BM_AdviseCatalogAutoBatch);

/// Building the built-in catalogs (what every run pays before it starts).
void BM_LoadEmbeddedCatalogs(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(GpuCatalog::embedded());
    benchmark::DoNotOptimize(ModelCatalog::embedded());
    benchmark::DoNotOptimize(Assumptions::embedded());
  }
}
BENCHMARK(BM_LoadEmbeddedCatalogs);

/// The JSON report of a whole advice.
void BM_JsonReport(benchmark::State& state) {
  const auto& f = fixture();
  const Advice advice = advise(f.workload, f.catalog, f.assumptions, {});
  for (auto _ : state) benchmark::DoNotOptimize(to_json(advice).dump(2));
}
BENCHMARK(BM_JsonReport);

} // namespace

BENCHMARK_MAIN();
