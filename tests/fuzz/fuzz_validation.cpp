// Fuzz target: run_validation (a validation document of published measurements) and its summaries.
#include "fuzz_common.hpp"

#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/validation.hpp>

#include <sstream>

using namespace gpuadvise;

namespace {

struct Fixture {
  GpuCatalog gpus = GpuCatalog::embedded();
  ModelCatalog models = ModelCatalog::embedded();
  Assumptions assumptions = Assumptions::embedded();
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& f = fixture();
  try {
    const auto results = run_validation(fuzz::text_of(data, size), "fuzz-validation.json", f.gpus, f.models, f.assumptions);
    for (const auto& r : results) {
      fuzz::must_be_span(r.estimate);
      fuzz::must_be_finite(r.error);
    }
    for (const auto& s : summarize(results)) {
      fuzz::must_be_quantity(s.median_abs_error);
      fuzz::must_be_quantity(s.worst_abs_error);
    }
    std::ostringstream out;
    write_validation_text(out, results);
    fuzz::must_be_finite_json(validation_json(results));
  } catch (const Error&) {
  }
  return 0;
}
