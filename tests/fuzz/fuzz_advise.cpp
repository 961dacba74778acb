// Fuzz target: a whole advise run from fuzzed option values, as `gpuadvise --model ... --json` does:
// build_workload, advise, to_json and write_text. The input is split on '\n'; line i is the value of
// option i below, and an empty (or missing) line leaves that option unset.
#include "fuzz_common.hpp"

#include <gpuadvise/advisor.hpp>
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/report.hpp>
#include <gpuadvise/units.hpp>
#include <gpuadvise/workload.hpp>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <vector>

using namespace gpuadvise;

namespace {

enum Line { model, precision, kv_precision, batch, context, input_tokens, output_tokens, requests, tokens,
            memory_utilization, runtime, gpus, count, provider, price, line_count };

struct Fixture {
  GpuCatalog gpus = GpuCatalog::embedded();
  ModelCatalog models = ModelCatalog::embedded();
  Assumptions assumptions = Assumptions::embedded();
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::optional<std::string> given(const std::vector<std::string>& lines, Line line) {
  if (static_cast<std::size_t>(line) >= lines.size() || lines[line].empty()) return std::nullopt;
  return lines[line];
}

/// `--price GPU=USD`, as the command line applies it.
void apply_price(GpuCatalog& catalog, const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) throw InputError("invalid --price: expected GPU=USD");
  const std::string value = text.substr(eq + 1);
  char* end = nullptr;
  const double usd = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !(usd > 0) || usd > 10000) throw InputError("invalid --price value");
  catalog.override_price(text.substr(0, eq), usd);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::stay_offline();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& f = fixture();
  const auto lines = split(fuzz::text_of(data, size), '\n');
  try {
    WorkloadRequest request;
    request.model = given(lines, model).value_or("");
    request.precision = given(lines, precision);
    request.kv_precision = given(lines, kv_precision);
    request.batch = given(lines, batch);
    request.context = given(lines, context);
    request.input_tokens = given(lines, input_tokens);
    request.output_tokens = given(lines, output_tokens).value_or("256");
    request.requests = given(lines, requests);
    request.tokens = given(lines, tokens);
    if (const auto mu = given(lines, memory_utilization)) request.memory_utilization = std::strtod(mu->c_str(), nullptr);
    request.runtime = given(lines, runtime);
    const Workload workload = build_workload(request, f.models);
    if (workload.batch < 1 || workload.context < 1 || workload.requests < 1 || workload.output_tokens < 1 ||
        workload.input_tokens < 0 || workload.input_tokens + workload.output_tokens > workload.context)
      __builtin_trap();
    fuzz::must_be_quantity(workload.params_total);

    AdviseOptions options;
    if (const auto list = given(lines, gpus))
      for (const auto& name : split(*list, ',')) options.gpus.push_back(name);
    options.count = static_cast<int>(parse_positive_int(given(lines, count).value_or("1"), "--count", 4096));
    options.provider = given(lines, provider).value_or("");
    const GpuCatalog* catalog = &f.gpus;
    GpuCatalog priced;
    if (const auto p = given(lines, price)) {
      priced = f.gpus;
      apply_price(priced, *p);
      catalog = &priced;
    }

    const Advice advice = advise(workload, *catalog, f.assumptions, options);
    for (const auto& c : advice.candidates) fuzz::must_be_candidate(c);
    if (const auto pick = advice.recommendation.pick) {
      const Candidate& c = advice.candidates.at(*pick);
      if (!c.eligible || !c.memory.fits() || !c.precision.native || !c.cost.priced) __builtin_trap();
    }
    const nlohmann::json doc = to_json(advice);
    fuzz::must_be_finite_json(doc);
    (void)doc.dump(2); // as --json prints it: a string that is not UTF-8 would throw here
    std::ostringstream out;
    write_text(out, advice, TextOptions{});
  } catch (const Error&) {
  }
  return 0;
}
