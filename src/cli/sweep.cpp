// `gpuadvise sweep`: one workload over a grid of batches, contexts and precisions, per GPU.
#include "cli/commands.hpp"

#include <gpuadvise/error.hpp>
#include <gpuadvise/svg.hpp>
#include <gpuadvise/sweep.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace gpuadvise::cli {

void setup_sweep(CLI::App& app, SweepCli& o) {
  app.add_option("--model,-m", o.workload.model, "Model: a size or a preset")->required();
  app.add_option("--workload", o.workload.kind, "Workload kind with a token context (default llm; see gpuadvise --help)");
  app.add_option("--precision,-p", o.precisions, "Precisions to sweep, comma-separated (default fp16)");
  app.add_option("--batch,-b", o.batches, "Batch sizes: 1..64, 1,8,32 (default 1)");
  app.add_option("--context,-c", o.contexts, "Contexts: 2k..128k, 4096,8k (default 4096)");
  app.add_option("--output-tokens", o.output_tokens, "Generated tokens per request (default 256)");
  app.add_option("--gpu,-g", o.gpus, "GPUs to sweep (repeatable; default: the whole catalog)");
  app.add_option("--count,-n", o.count, "GPUs per point, tensor parallel (default 1)");
  add_pricing_options(app, o.pricing);
  InputKinds inputs = k_all_inputs;
  inputs.instances = true;
  add_input_options(app, o.inputs, inputs);
  add_format_options(app, o.format, {"table", "csv", "json", "text"}, "table | csv | json (text: the same as table)",
                     "Print the grid as JSON (--format json)");
  app.add_option("--plot", o.plot, "Also write an SVG plot to this file (one line per GPU)");
  app.add_option("--plot-metric", o.plot_metric, "throughput-per-dollar | memory")
      ->check(CLI::IsMember({"throughput-per-dollar", "memory"}));
  app.footer("Examples:\n  gpuadvise sweep --model llama-3.1-8b --context 2k..128k --gpu l40 --gpu a6000\n"
             "  gpuadvise sweep --model 13B --batch 1..64 --precision fp16,fp8 --format csv\n"
             "  gpuadvise sweep --model llama-3.1-8b --context 2k..128k --plot sweep.svg");
}

int run_sweep(const SweepCli& o, std::ostream& out) {
  const std::string format = chosen_format(o.format, "table");
  const Inputs inputs = load_inputs(o.inputs);
  WorkloadRequest request = o.workload;
  if (!o.output_tokens.empty()) request.output_tokens = o.output_tokens;
  request.batch = "1";
  const Workload base = build_workload(request, inputs.models);
  SweepGrid grid;
  grid.precisions = parse_precision_list(o.precisions);
  if (!o.batches.empty()) grid.batches = parse_count_range(o.batches);
  if (!o.contexts.empty()) grid.contexts = parse_token_range(o.contexts);
  std::vector<const Gpu*> gpus;
  for (const auto& name : o.gpus) gpus.push_back(&inputs.catalog.find(name));
  const int count = static_cast<int>(parse_positive_int(o.count, "--count", 4096));
  const SweepResult result =
      gpuadvise::run_sweep(base, inputs.catalog, gpus, count, inputs.assumptions, grid, pricing_options(o.pricing, inputs));
  // The plot first: a plot that cannot be written is exit 2 with nothing printed.
  if (!o.plot.empty()) {
    const SweepAxis axis = grid.contexts.size() > 1 || grid.batches.size() <= 1 ? SweepAxis::context : SweepAxis::batch;
    const SweepMetric metric = o.plot_metric == "memory" ? SweepMetric::memory_gb : SweepMetric::tokens_per_s_per_usd_hour;
    std::ofstream file(o.plot, std::ios::binary);
    if (!file) throw InputError(fmt::format("cannot write --plot '{}': {}", o.plot, std::strerror(errno)));
    write_svg_line_plot(file, sweep_plot(result, metric, axis));
    file.close(); // flushes: a full disk shows here, not in the destructor
    if (file.fail()) throw InputError(fmt::format("cannot write --plot '{}': {}", o.plot, std::strerror(errno)));
  }
  if (format == "csv") write_sweep_csv(out, result);
  else if (format == "json") out << sweep_json(result).dump(2) << "\n";
  else write_sweep_table(out, result);
  return 0;
}

} // namespace gpuadvise::cli
