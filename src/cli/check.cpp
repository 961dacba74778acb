// `gpuadvise check`: deployment files and vLLM configs against the estimates, for CI.
#include "cli/commands.hpp"

#include <gpuadvise/error.hpp>
#include <gpuadvise/files.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <string_view>

namespace gpuadvise::cli {

namespace {

/// A --format name and the renderer it selects.
struct Renderer {
  std::string_view format;
  void (*write)(std::ostream&, const CheckReport&);
};

/// The report's renderers; --format's choices are their names.
constexpr Renderer k_renderers[] = {
    {"text", write_check_text},     {"json", write_check_json},         {"junit", write_check_junit},
    {"github", write_check_github}, {"markdown", write_check_markdown},
};

} // namespace

void setup_check(CLI::App& app, CheckCli& o) {
  app.add_option("files", o.files, "Deployment files (JSON or YAML) or vLLM engine configs")->required();
  app.add_option("--gpu", o.options.gpu, "GPU for vLLM configs that name none");
  app.add_option("--count", o.count, "GPUs for vLLM configs (default: tensor-parallel-size)");
  add_format_options(app, o.format, {"text", "json", "junit", "github", "markdown"},
                     "text | json | junit | github | markdown", "Print the report as JSON (--format json)");
  app.add_flag("--strict", o.options.strict, "Warnings fail the check too");
  add_pricing_options(app, o.pricing);
  add_input_options(app, o.inputs, {.catalog = true, .price = true, .models_catalog = true, .instances = true});
  app.footer("Examples:\n  gpuadvise check deploy/serving.yaml\n  gpuadvise check --gpu l40 vllm.yaml\n"
             "  gpuadvise check --format junit deploy/*.yaml > report.xml\nExit codes: 0 pass, 1 a check failed, 2 invalid file.");
}

int run_check(const CheckCli& o, std::ostream& out) {
  const std::string format = chosen_format(o.format, "text");
  const Inputs inputs = load_inputs(o.inputs);
  require_pricing(inputs.catalog, pricing_options(o.pricing, inputs));
  CheckOptions options = o.options;
  options.provider = o.pricing.provider;
  options.region = o.pricing.region;
  options.spot = o.pricing.spot;
  options.instances = &inputs.instances;
  if (!o.count.empty()) options.count = static_cast<int>(parse_positive_int(o.count, "--count", 4096));
  CheckReport report;
  report.strict = options.strict;
  // Every file is read and checked before anything is printed: an unreadable file stops the run (exit 2).
  for (const auto& file : o.files) {
    auto results = check_text(read_text_file(file, "deployment file"), file, inputs.catalog, inputs.models,
                              inputs.assumptions, options);
    for (auto& r : results) report.deployments.push_back(std::move(r));
  }
  for (const auto& d : report.deployments)
    for (const auto& f : d.findings) {
      report.errors += f.severity == Severity::error;
      report.warnings += f.severity == Severity::warning;
    }
  for (const Renderer& renderer : k_renderers)
    if (renderer.format == format) {
      renderer.write(out, report);
      return report.exit_code();
    }
  throw InternalError(fmt::format("check: no renderer for --format {}", format));
}

} // namespace gpuadvise::cli
