// Fuzz target: Assumptions::merge_json (a --calibration file) over the built-in assumptions, and
// Assumptions::from_json on the same text. Accepted fractions are used for a full evaluation on GPUs
// of every architecture.
#include "fuzz_common.hpp"

#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/workload.hpp>

using namespace gpuadvise;

namespace {

struct Fixture {
  GpuCatalog gpus = GpuCatalog::embedded();
  ModelCatalog models = ModelCatalog::embedded();
  Assumptions assumptions = Assumptions::embedded();
  Workload workload;
  Fixture() {
    WorkloadRequest request;
    request.model = "llama-3-8b";
    request.precision = "fp8";
    request.context = "2k";
    request.requests = "64";
    workload = build_workload(request, models);
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

void evaluate_everywhere(const Assumptions& a) {
  const auto& f = fixture();
  for (const char* id : {"l40", "h100-sxm", "rtx-a6000", "b200"}) {
    const Gpu& gpu = f.gpus.find(id);
    fuzz::must_be_candidate(evaluate(f.workload, gpu, 1, a, ""));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = fuzz::text_of(data, size);
  try {
    Assumptions a = fixture().assumptions;
    a.merge_json(text, "fuzz-calibration.json");
    for (const auto& [key, range] : a.efficiency)
      if (!(range.low > 0 && range.low <= range.expected && range.expected <= range.high && range.high <= 1)) __builtin_trap();
    evaluate_everywhere(a);
  } catch (const Error&) {
  }
  try {
    const Assumptions a = Assumptions::from_json(text, "fuzz-assumptions.json");
    evaluate_everywhere(a);
  } catch (const Error&) {
  }
  return 0;
}
