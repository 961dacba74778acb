// `gpuadvise serve`: the cheapest fleet that serves a traffic rate within latency targets.
#include "cli/commands.hpp"

#include <gpuadvise/error.hpp>
#include <gpuadvise/files.hpp>
#include <gpuadvise/serving.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <cstdlib>

namespace gpuadvise::cli {

void setup_serve(CLI::App& app, ServeCli& o) {
  app.add_option("--model,-m", o.workload.model, "Model: a size or a preset")->required();
  app.add_option("--precision,-p", o.precision, "Weights and compute (default fp16)");
  app.add_option("--kv-precision", o.kv_precision, "KV cache: fp16|bf16|fp8 (vLLM's kv-cache-dtype)");
  app.add_option("--rate", o.rate, "Requests per second arriving (Poisson)");
  app.add_option("--concurrency", o.concurrency, "Closed-loop users instead of a rate (each sends when answered)");
  app.add_option("--input-tokens", o.input_tokens, "Prompt tokens per request, mean (default 1000)");
  app.add_option("--output-tokens", o.output_tokens, "Generated tokens per request, mean (default 200)");
  app.add_option("--input-spread", o.input_spread, "Coefficient of variation of the prompt length (default 0: fixed)");
  app.add_option("--output-spread", o.output_spread, "Coefficient of variation of the output length (default 0: fixed)");
  app.add_option("--length-profile", o.length_profile, "Named lengths with published statistics: sharegpt | summarization | code-completion");
  app.add_option("--trace", o.trace, "Requests to replay: CSV arrival_s,input_tokens,output_tokens or JSONL");
  app.add_option("--ttft-p95", o.ttft_p95, "Target: 95th-percentile time to first token (e.g. 500ms)");
  app.add_option("--ttft-p99", o.ttft_p99, "Target: 99th-percentile time to first token");
  app.add_option("--tpot-p95", o.tpot_p95, "Target: 95th-percentile time per output token (e.g. 40ms)");
  app.add_option("--tokens-per-s-per-user", o.tokens_per_s_per_user, "Target: output tokens/s each user sees (= 1 / TPOT p95)");
  app.add_option("--e2e-p95", o.e2e_p95, "Target: 95th-percentile end-to-end latency");
  app.add_option("--max-num-seqs", o.max_num_seqs, "Engine: most sequences running at once (default 256, vLLM's)");
  app.add_option("--max-num-batched-tokens", o.max_num_batched_tokens, "Engine: token budget per step (default 8192)");
  app.add_flag("--no-chunked-prefill", o.no_chunked_prefill, "Engine: whole prompts in prefill-only steps (vLLM V0 default)");
  app.add_option("--prefix-cache-hit-rate", o.prefix_cache_hit_rate, "Engine: share of prompt tokens found in the prefix cache (0-0.99)");
  app.add_option("--gpu-memory-utilization", o.workload.memory_utilization, "Engine: fraction of GPU memory used (default 0.90)");
  app.add_option("--gpu,-g", o.gpus, "Candidate GPU (repeatable; default: the whole catalog)");
  app.add_option("--tp", o.tp_sizes, "Tensor-parallel sizes to try (default 1,2,4,8)")->delimiter(',');
  add_pricing_options(app, o.pricing);
  app.add_option("--router", o.router, "least-outstanding (default) | round-robin")
      ->check(CLI::IsMember({"least-outstanding", "round-robin"}));
  app.add_option("--requests", o.requests, "Requests simulated (default 2000)");
  app.add_option("--seed", o.seed, "Random seed of arrivals and lengths (default 1)");
  app.add_flag("--explain", o.explain, "Also print the pick's step time in its parts and how the percentiles come out");
  add_input_options(app, o.inputs, k_all_inputs);
  add_format_options(app, o.format, {"text", "json"}, "text | json", "Print the plans as JSON (docs/serving.md)");
  app.footer("Examples:\n  gpuadvise serve --model llama-3.1-8b --rate 40 --input-tokens 1500 --output-tokens 300 "
             "--ttft-p95 500ms --tokens-per-s-per-user 25\n"
             "  gpuadvise serve --model llama-3-8b --length-profile sharegpt --concurrency 64 --gpu h100-sxm");
}

int run_serve(const ServeCli& o, std::ostream& out) {
  const std::string format = chosen_format(o.format, "text");
  const Inputs inputs = load_inputs(o.inputs);
  // Serving plans price each GPU at its catalog price per GPU-hour; they do not rent instances (yet), so the
  // instance-only choices are refused rather than ignored. --provider means what it means everywhere.
  if (o.pricing.spot || !o.pricing.region.empty())
    throw InputError(fmt::format("{} does not apply to serve: serving plans are priced per GPU-hour from the GPU catalog, "
                                 "not as instances; drop it (the default command and check rent instances)",
                                 o.pricing.spot ? "--spot" : "--region"));
  WorkloadRequest request = o.workload;
  if (!o.precision.empty()) request.precision = o.precision;
  if (!o.kv_precision.empty()) request.kv_precision = o.kv_precision;
  request.batch = "1";
  ServingReport report;

  Traffic& t = report.traffic;
  if (!o.rate.empty() + !o.concurrency.empty() + !o.trace.empty() != 1)
    throw InputError("give exactly one of --rate, --concurrency or --trace");
  if (!o.rate.empty()) t.rate = parse_number(o.rate, "--rate", 1e-3, 1e6);
  if (!o.concurrency.empty()) t.concurrency = static_cast<int>(parse_positive_int(o.concurrency, "--concurrency", 100000));
  if (!o.requests.empty()) t.requests = static_cast<int>(parse_positive_int(o.requests, "--requests", 200000));
  if (!o.seed.empty()) t.seed = static_cast<std::uint64_t>(parse_positive_int(o.seed, "--seed", 1LL << 62));
  if (!o.length_profile.empty() && (!o.input_tokens.empty() || !o.output_tokens.empty() || !o.input_spread.empty() || !o.output_spread.empty()))
    throw InputError("--length-profile sets the lengths: give it or --input-tokens/--output-tokens (and spreads), not both");
  if (!o.trace.empty()) {
    if (!o.length_profile.empty() || !o.input_tokens.empty() || !o.output_tokens.empty() || !o.requests.empty())
      throw InputError("--trace gives the lengths and arrivals: --length-profile, --input-tokens, --output-tokens and --requests do not apply");
    t.trace = parse_trace(read_text_file(o.trace, "trace"), o.trace);
    report.traffic_text = fmt::format("lengths from {}", o.trace);
  } else if (!o.length_profile.empty()) {
    const LengthProfile& p = find_length_profile(o.length_profile);
    t.input = p.input;
    t.output = p.output;
    report.traffic_text = fmt::format("{} lengths: mean {:g} in / {:g} out", p.name, p.input.mean, p.output.mean);
  } else {
    t.input.mean = o.input_tokens.empty() ? 1000 : static_cast<double>(parse_token_count(o.input_tokens, "--input-tokens", 1e6));
    t.output.mean = o.output_tokens.empty() ? 200 : static_cast<double>(parse_token_count(o.output_tokens, "--output-tokens", 1e6));
    if (!o.input_spread.empty()) t.input.cv = parse_number(o.input_spread, "--input-spread", 0, 5);
    if (!o.output_spread.empty()) t.output.cv = parse_number(o.output_spread, "--output-spread", 0, 5);
    report.traffic_text = fmt::format("{:g} in / {:g} out tokens{}", t.input.mean, t.output.mean,
                                      t.input.cv > 0 || t.output.cv > 0 ? fmt::format(" (spread {:g} / {:g})", t.input.cv, t.output.cv)
                                                                        : std::string(" each"));
  }
  // The KV cache the workload is sized for: the longest request expected.
  const double longest = t.trace.empty() ? t.input.mean * (1 + 2 * t.input.cv) + t.output.mean * (1 + 2 * t.output.cv) : 0;
  request.context = std::to_string(std::max<long long>(2, std::llround(longest)));
  request.output_tokens = "1";
  report.workload = build_workload(request, inputs.models);

  Targets& g = report.targets;
  if (!o.ttft_p95.empty()) g.ttft_p95 = parse_latency(o.ttft_p95, "--ttft-p95");
  if (!o.ttft_p99.empty()) g.ttft_p99 = parse_latency(o.ttft_p99, "--ttft-p99");
  if (!o.tpot_p95.empty() && !o.tokens_per_s_per_user.empty())
    throw InputError("give --tpot-p95 or --tokens-per-s-per-user, not both");
  if (!o.tpot_p95.empty()) g.tpot_p95 = parse_latency(o.tpot_p95, "--tpot-p95");
  if (!o.tokens_per_s_per_user.empty()) g.tpot_p95 = 1 / parse_number(o.tokens_per_s_per_user, "--tokens-per-s-per-user", 0.01, 1e5);
  if (!o.e2e_p95.empty()) g.e2e_p95 = parse_latency(o.e2e_p95, "--e2e-p95");

  EngineSettings& e = report.engine;
  if (!o.max_num_seqs.empty()) e.max_num_seqs = static_cast<int>(parse_positive_int(o.max_num_seqs, "--max-num-seqs", 65536));
  if (!o.max_num_batched_tokens.empty())
    e.max_num_batched_tokens = static_cast<int>(parse_positive_int(o.max_num_batched_tokens, "--max-num-batched-tokens", 1 << 24));
  e.chunked_prefill = !o.no_chunked_prefill;
  if (!o.prefix_cache_hit_rate.empty()) e.prefix_cache_hit_rate = parse_number(o.prefix_cache_hit_rate, "--prefix-cache-hit-rate", 0, 0.99);

  ServingSearch search;
  for (const auto& name : o.gpus) search.gpus.push_back(&inputs.catalog.find(name));
  if (!o.tp_sizes.empty()) {
    search.tp_sizes.clear();
    for (const auto& s : o.tp_sizes) search.tp_sizes.push_back(static_cast<int>(parse_positive_int(s, "--tp", 64)));
  }
  search.provider = o.pricing.provider;
  search.router = o.router == "round-robin" ? Router::round_robin : Router::least_outstanding;
  report.catalog_date = inputs.catalog.catalog_date();
  report.plans = search_serving_plans(report.workload, inputs.catalog, inputs.assumptions, t, g, e, search);
  if (o.explain && format == "json") throw InputError("--explain prints text: it does not apply to --format json");
  if (format == "json") out << serving_json(report).dump(2) << "\n";
  else write_serving_text(out, report);
  if (o.explain) write_serving_explain(out, report, inputs.assumptions);
  return !report.plans.empty() && report.plans.front().replicas > 0 && report.plans.front().priced ? 0 : 1;
}

} // namespace gpuadvise::cli
