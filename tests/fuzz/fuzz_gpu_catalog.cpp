// Fuzz target: GpuCatalog::from_json and GpuCatalog::merge_json (a user --catalog over the built-in one).
// Every GPU a catalog accepts is then evaluated on a small workload: catalog values must never turn
// into NaN, inf or negative bytes, seconds or dollars.
#include "fuzz_common.hpp"

#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/workload.hpp>

#include <algorithm>
#include <vector>

using namespace gpuadvise;

namespace {

/// Three built-in GPUs as a catalog of their own: merges override or add to them as they would to the
/// whole catalog, at a fraction of the cost per input.
GpuCatalog small_catalog() {
  nlohmann::json doc = GpuCatalog::embedded().to_json();
  auto& list = doc["gpus"];
  list.erase(std::remove_if(list.begin(), list.end(), [](const nlohmann::json& gpu) {
               const auto id = gpu.value("id", "");
               return id != "l40" && id != "h100-sxm" && id != "a100-80gb-sxm";
             }),
             list.end());
  return GpuCatalog::from_json(doc.dump(), "base.json");
}

struct Fixture {
  GpuCatalog base = small_catalog();
  ModelCatalog models = ModelCatalog::embedded();
  Assumptions assumptions = Assumptions::embedded();
  std::vector<Workload> workloads; ///< one per compute format a catalog entry may lack
  Fixture() {
    for (const char* precision : {"fp16", "fp32", "bf16", "fp8", "int8", "int4"}) {
      WorkloadRequest request;
      request.model = "llama-3-8b";
      request.precision = precision;
      request.batch = "4";
      request.context = "2k";
      request.requests = "16";
      workloads.push_back(build_workload(request, models));
    }
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

/// `pick` (from the input) chooses one of the precisions per input: all of them each time is 3x slower.
void evaluate_all(const GpuCatalog& catalog, std::size_t pick) {
  const auto& f = fixture();
  for (const auto& gpu : catalog.gpus()) {
    fuzz::must_be_quantity(gpu.memory_bytes);
    fuzz::must_be_quantity(gpu.allocatable_bytes);
    if (!(gpu.bandwidth_bytes_per_s > 0) || !(gpu.peak_flops(Precision::fp16) > 0)) __builtin_trap();
    for (const auto& price : gpu.prices)
      if (!(price.usd_per_hour > 0) || !std::isfinite(price.usd_per_hour)) __builtin_trap();
    fuzz::must_be_candidate(evaluate(f.workloads[pick % f.workloads.size()], gpu, 1, f.assumptions, ""));
    fuzz::must_be_candidate(evaluate(f.workloads.front(), gpu, 2, f.assumptions, ""));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = fuzz::text_of(data, size);
  try {
    const GpuCatalog catalog = GpuCatalog::from_json(text, "fuzz.json");
    evaluate_all(catalog, size);
    const nlohmann::json doc = catalog.to_json();
    fuzz::must_be_finite_json(doc);
    (void)doc.dump(2);
  } catch (const Error&) {
  }
  GpuCatalog merged = fixture().base;
  const std::size_t before = merged.gpus().size();
  try {
    merged.merge_json(text, "fuzz.json");
    evaluate_all(merged, size);
    (void)merged.to_json().dump(2);
  } catch (const Error&) {
    if (merged.gpus().size() != before) __builtin_trap(); // a failed merge leaves the catalog as it was
  }
  return 0;
}
