// `gpuadvise sweep`: one workload over a grid of batches, contexts and precisions, per GPU.
#include "cli/commands.hpp"

#include <gpuadvise/error.hpp>
#include <gpuadvise/serving.hpp>
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
  app.add_option("--plot-metric", o.plot_metric,
                 "throughput-per-dollar | memory (default throughput-per-dollar); with --rates: ttft-p95 | tpot-p95 | "
                 "cost-per-million (default ttft-p95)")
      ->check(CLI::IsMember({"throughput-per-dollar", "memory", "ttft-p95", "tpot-p95", "cost-per-million"}));
  app.add_option("--rates", o.rates,
                 "Request rates to simulate (requests/s): 1,2,4,8 or 1..64; a latency-throughput curve per GPU "
                 "(docs/serving.md)");
  app.add_option("--input-tokens", o.input_tokens, "With --rates: prompt tokens per request (default 1000)");
  app.add_option("--length-profile", o.length_profile, "With --rates: sharegpt | summarization | code-completion");
  app.add_option("--requests", o.requests, "With --rates: requests simulated per rate (default 2000)");
  app.add_option("--seed", o.seed, "With --rates: random seed of arrivals and lengths (default 1)");
  app.add_option("--replicas", o.replicas, "With --rates: replicas of --count GPUs behind the router (default 1)");
  app.footer("Examples:\n  gpuadvise sweep --model llama-3.1-8b --context 2k..128k --gpu l40 --gpu a6000\n"
             "  gpuadvise sweep --model 13B --batch 1..64 --precision fp16,fp8 --format csv\n"
             "  gpuadvise sweep --model llama-3.1-8b --context 2k..128k --plot sweep.svg\n"
             "  gpuadvise sweep --model llama-3.1-8b --rates 1,2,4,8 --input-tokens 1500 --output-tokens 300 --gpu l40s "
             "--plot rates.svg");
}

namespace {

/// Writes an SVG plot; a plot that cannot be written is exit 2 with nothing printed.
void write_plot(const std::string& path, const PlotSpec& spec) {
  std::ofstream file(path, std::ios::binary);
  if (!file) throw InputError(fmt::format("cannot write --plot '{}': {}", path, std::strerror(errno)));
  write_svg_line_plot(file, spec);
  file.close(); // flushes: a full disk shows here, not in the destructor
  if (file.fail()) throw InputError(fmt::format("cannot write --plot '{}': {}", path, std::strerror(errno)));
}

/// `sweep --rates`: the serving simulator at each rate, per GPU.
int run_rate_sweep_cli(const SweepCli& o, std::ostream& out, const std::string& format) {
  if (!o.batches.empty() || !o.contexts.empty())
    throw InputError("--batch and --context do not apply to --rates (a rate sweep's batches come from the simulated traffic)");
  if (!o.workload.kind.empty() && o.workload.kind != "llm") throw InputError("--rates applies to --workload llm only");
  if (o.precisions.find(',') != std::string::npos) throw InputError("--rates takes one --precision, not a list");
  if (o.pricing.spot || !o.pricing.region.empty())
    throw InputError(fmt::format("{} does not apply to --rates: a rate sweep prices GPUs one by one, not instances "
                                 "(--provider picks the price list)",
                                 o.pricing.spot ? "--spot" : "--region"));
  if (!o.plot_metric.empty() && o.plot_metric != "ttft-p95" && o.plot_metric != "tpot-p95" && o.plot_metric != "cost-per-million")
    throw InputError(fmt::format("--plot-metric {} does not apply to --rates: use ttft-p95, tpot-p95 or cost-per-million", o.plot_metric));
  const Inputs inputs = load_inputs(o.inputs);
  Traffic t;
  std::string lengths;
  if (!o.length_profile.empty()) {
    if (!o.input_tokens.empty() || !o.output_tokens.empty())
      throw InputError("--length-profile sets the lengths: give it or --input-tokens/--output-tokens, not both");
    const LengthProfile& p = find_length_profile(o.length_profile);
    t.input = p.input;
    t.output = p.output;
    lengths = fmt::format("{} lengths: mean {:g} in / {:g} out", p.name, p.input.mean, p.output.mean);
  } else {
    t.input.mean = o.input_tokens.empty() ? 1000 : static_cast<double>(parse_token_count(o.input_tokens, "--input-tokens", 1e6));
    t.output.mean = o.output_tokens.empty() ? 200 : static_cast<double>(parse_token_count(o.output_tokens, "--output-tokens", 1e6));
    lengths = fmt::format("{:g} in / {:g} out tokens each", t.input.mean, t.output.mean);
  }
  if (!o.requests.empty()) t.requests = static_cast<int>(parse_positive_int(o.requests, "--requests", 200000));
  if (!o.seed.empty()) t.seed = static_cast<std::uint64_t>(parse_positive_int(o.seed, "--seed", 1LL << 62));
  const std::vector<double> rates = parse_rate_list(o.rates);
  WorkloadRequest request = o.workload;
  request.precision = o.precisions;
  request.batch = "1";
  // The KV cache the workload is sized for: the longest request expected (as `serve` does).
  const double longest = t.input.mean * (1 + 2 * t.input.cv) + t.output.mean * (1 + 2 * t.output.cv);
  request.context = std::to_string(std::max<long long>(2, std::llround(longest)));
  request.output_tokens = "1";
  const Workload w = build_workload(request, inputs.models);
  std::vector<const Gpu*> gpus;
  for (const auto& name : o.gpus) gpus.push_back(&inputs.catalog.find(name));
  const int tp = static_cast<int>(parse_positive_int(o.count, "--count", 64));
  const int replicas = o.replicas.empty() ? 1 : static_cast<int>(parse_positive_int(o.replicas, "--replicas", 1024));
  RateSweep sweep = gpuadvise::run_rate_sweep(w, inputs.catalog, gpus, tp, replicas, inputs.assumptions, t, rates,
                                              EngineSettings{}, o.pricing.provider);
  sweep.traffic_text = lengths;
  if (!o.plot.empty()) {
    const RateSweepMetric metric = o.plot_metric == "tpot-p95"           ? RateSweepMetric::tpot_p95
                                   : o.plot_metric == "cost-per-million" ? RateSweepMetric::usd_per_million_output_tokens
                                                                         : RateSweepMetric::ttft_p95;
    write_plot(o.plot, rate_sweep_plot(sweep, metric));
  }
  if (format == "csv") write_rate_sweep_csv(out, sweep);
  else if (format == "json") out << rate_sweep_json(sweep).dump(2) << "\n";
  else write_rate_sweep_table(out, sweep);
  return 0;
}

} // namespace

int run_sweep(const SweepCli& o, std::ostream& out) {
  const std::string format = chosen_format(o.format, "table");
  if (!o.rates.empty()) return run_rate_sweep_cli(o, out, format);
  const std::pair<const std::string*, const char*> rate_only[] = {{&o.input_tokens, "--input-tokens"},
                                                                    {&o.length_profile, "--length-profile"},
                                                                    {&o.requests, "--requests"},
                                                                    {&o.seed, "--seed"},
                                                                    {&o.replicas, "--replicas"}};
  for (const auto& [given, flag] : rate_only)
    if (!given->empty()) throw InputError(fmt::format("{} applies only to a rate sweep (--rates)", flag));
  if (o.plot_metric == "ttft-p95" || o.plot_metric == "tpot-p95" || o.plot_metric == "cost-per-million")
    throw InputError(fmt::format("--plot-metric {} applies only to a rate sweep (--rates)", o.plot_metric));
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
    write_plot(o.plot, sweep_plot(result, metric, axis));
  }
  if (format == "csv") write_sweep_csv(out, result);
  else if (format == "json") out << sweep_json(result).dump(2) << "\n";
  else write_sweep_table(out, result);
  return 0;
}

} // namespace gpuadvise::cli
