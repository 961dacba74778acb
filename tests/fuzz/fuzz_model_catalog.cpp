// Fuzz target: ModelCatalog::from_json (a --models-catalog file). Each accepted preset is turned into a
// workload and evaluated on one GPU: shapes must never produce NaN, inf or negative quantities.
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
  Assumptions assumptions = Assumptions::embedded();
  const Gpu* gpu = &gpus.find("h100-sxm");
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& f = fixture();
  try {
    const ModelCatalog catalog = ModelCatalog::from_json(fuzz::text_of(data, size), "fuzz-models.json");
    for (const auto& shape : catalog.models()) {
      const ParamCounts counts = count_params(shape);
      fuzz::must_be_quantity(counts.total);
      fuzz::must_be_quantity(counts.active);
      fuzz::must_be_quantity(counts.embedding);
      fuzz::must_be_quantity(kv_cache_bytes_per_sequence(shape, 4096, 2));
      WorkloadRequest request;
      request.model = shape.id;
      request.batch = "2";
      request.context = "1k";
      request.requests = "4";
      try {
        const Workload w = build_workload(request, catalog);
        fuzz::must_be_candidate(evaluate(w, *f.gpu, 1, f.assumptions, ""));
      } catch (const Error&) {
      }
    }
    for (const char* size_text : {"1M", "7B", "100T"}) {
      try {
        WorkloadRequest request;
        request.model = size_text;
        request.requests = "4";
        const Workload w = build_workload(request, catalog);
        fuzz::must_be_candidate(evaluate(w, *f.gpu, 1, f.assumptions, ""));
      } catch (const Error&) {
      }
    }
  } catch (const Error&) {
  }
  return 0;
}
