// Fuzz target: check_text (`gpuadvise check` on a deployment file in YAML or JSON, or a vLLM config),
// then every output format. A YAML::Exception or nlohmann exception escaping is a bug.
#include "fuzz_common.hpp"

#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/check.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/model.hpp>

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

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::stay_offline();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& f = fixture();
  // The first byte picks the options; the rest is the file.
  if (size == 0) return 0;
  CheckOptions options;
  if (data[0] & 1) options.gpu = "l40";
  if (data[0] & 2) options.count = 2;
  options.strict = (data[0] & 4) != 0;
  const std::string text = fuzz::text_of(data + 1, size - 1);
  try {
    CheckReport report;
    report.strict = options.strict;
    // A directory that does not exist: relative model_config paths and vLLM model directories resolve to nothing.
    report.deployments = check_text(text, "/nonexistent-fuzz-dir/deploy.yaml", f.gpus, f.models, f.assumptions, options);
    for (const auto& d : report.deployments) {
      fuzz::must_be_quantity(d.memory_total_bytes);
      fuzz::must_be_quantity(d.memory_usable_bytes);
      fuzz::must_be_quantity(d.kv_cache_bytes);
      fuzz::must_be_finite(d.kv_budget_bytes);
      fuzz::must_be_quantity(d.max_sequences_at_context);
      fuzz::must_be_quantity(d.decode_tokens_per_s);
      fuzz::must_be_quantity(d.usd_per_hour);
      fuzz::must_be_quantity(d.job_usd);
      fuzz::must_be_quantity(d.job_hours);
      for (const auto& finding : d.findings) {
        report.errors += finding.severity == Severity::error;
        report.warnings += finding.severity == Severity::warning;
      }
    }
    std::ostringstream out;
    write_check_text(out, report);
    write_check_json(out, report);
    write_check_junit(out, report);
    write_check_github(out, report);
    write_check_markdown(out, report);
  } catch (const Error&) {
  }
  return 0;
}
