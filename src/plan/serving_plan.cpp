// The serving plan search: for each GPU kind and tensor-parallel size a replica can use, the fewest
// replicas that meet the latency targets at the traffic's rate (doubling, then bisection), the highest
// rate one replica sustains within them (bisection on the rate), and what the fleet costs.
#include <gpuadvise/error.hpp>
#include <gpuadvise/serving.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gpuadvise {
namespace {

/// Most sequences' worth of tokens a request of the traffic may need (for "does one request fit").
int longest_request(const Traffic& t) {
  if (!t.trace.empty()) {
    int most = 0;
    for (const auto& r : t.trace) most = std::max(most, r.input_tokens + r.output_tokens);
    return most;
  }
  return static_cast<int>(std::min<double>(t.input.max, t.input.mean * (1 + 2 * t.input.cv)) +
                          std::min<double>(t.output.max, t.output.mean * (1 + 2 * t.output.cv)));
}

/// The first target the result misses, and by how much ("TTFT p95 1.80 s vs 0.50 s (3.6x)"); empty if none.
std::string first_miss(const ServingResult& r, const Targets& t) {
  auto miss = [](const char* what, double got, double want) {
    return fmt::format("{} {} vs the target {} ({:.1f}x)", what, format_duration(got), format_duration(want), got / want);
  };
  if (t.ttft_p95 && r.ttft_s.p95 > *t.ttft_p95) return miss("TTFT p95", r.ttft_s.p95, *t.ttft_p95);
  if (t.ttft_p99 && r.ttft_s.p99 > *t.ttft_p99) return miss("TTFT p99", r.ttft_s.p99, *t.ttft_p99);
  if (t.tpot_p95 && r.tpot_s.p95 > *t.tpot_p95) return miss("TPOT p95", r.tpot_s.p95, *t.tpot_p95);
  if (t.e2e_p95 && r.e2e_s.p95 > *t.e2e_p95) return miss("end-to-end p95", r.e2e_s.p95, *t.e2e_p95);
  return "";
}

/// The fleet keeps up and meets every target: all requests finish, and the rate is served (an overloaded
/// fleet's queue grows without bound, which shows as a served rate below the offered one).
bool acceptable(const ServingResult& r, const Traffic& traffic, const Targets& t, std::size_t requests) {
  if (r.finished < static_cast<int>(requests) || !r.stable) return false;
  (void)traffic;
  return first_miss(r, t).empty();
}

} // namespace

std::vector<ServingPlan> search_serving_plans(const Workload& w, const GpuCatalog& catalog, const Assumptions& a,
                                              const Traffic& traffic, const Targets& targets, const EngineSettings& engine,
                                              const ServingSearch& search) {
  if (!traffic.rate && !traffic.concurrency && traffic.trace.empty())
    throw InputError("a serving plan needs --rate, --concurrency or --trace");
  std::vector<const Gpu*> gpus = search.gpus;
  if (gpus.empty())
    for (const auto& g : catalog.gpus()) gpus.push_back(&g);
  const std::size_t requests = generate_requests(traffic).size();
  const int longest = longest_request(traffic);
  std::vector<ServingPlan> plans;
  for (const Gpu* gpu : gpus) {
    const PrecisionDecision precision = decide_precision(w, *gpu);
    if (!precision.native) continue;
    const Price* price = gpu->price(search.provider);
    for (int tp : search.tp_sizes) {
      // Tensor parallelism splits the heads: it must divide them (or be a multiple of the KV heads).
      const auto& s = w.shape;
      if (tp > 1 && !s.mla &&
          (s.num_attention_heads % tp != 0 || (s.num_kv_heads % tp != 0 && tp % std::max(1, s.num_kv_heads) != 0)))
        continue;
      ReplicaModel model = make_replica(w, *gpu, tp, a, engine);
      ServingPlan plan;
      plan.gpu = gpu;
      plan.tp = tp;
      plan.fits = model.kv_blocks * engine.block_size >= longest;
      if (!plan.fits) continue;
      auto run = [&](int replicas, const Traffic& t) { return simulate(model, replicas, t, targets, search.router); };
      // A probe whose result is only "meets or not": it may stop as soon as a miss is certain.
      auto probe = [&](int replicas, const Traffic& t) { return simulate(model, replicas, t, targets, search.router, true); };
      // One replica saturated (closed loop at max-num-seqs): its request rate bounds the fleet from below.
      Traffic saturated = traffic;
      saturated.trace.clear();
      saturated.rate.reset();
      saturated.concurrency = engine.max_num_seqs;
      saturated.requests = static_cast<int>(std::min<std::size_t>(requests, 1000));
      const double ceiling = run(1, saturated).request_throughput_per_s;
      // Replicas: from that bound, doubling until the targets are met, then bisect between the last two.
      int lo = 0, hi = 0;
      ServingResult at_hi;
      const int start = traffic.rate && ceiling > 0
                            ? std::clamp(static_cast<int>(std::ceil(*traffic.rate / ceiling)), 1, search.max_replicas)
                            : 1;
      for (int n = start; n <= search.max_replicas; n = n == search.max_replicas ? n + 1 : std::min(2 * n, search.max_replicas)) {
        ServingResult r = probe(n, traffic);
        if (acceptable(r, traffic, targets, requests)) {
          hi = n;
          at_hi = r;
          break;
        }
        lo = n;
        at_hi = r;
        if (!traffic.rate && traffic.trace.empty()) break; // closed loop: more replicas do not change per-user load
      }
      if (hi > 0) {
        while (hi - lo > 1) {
          const int mid = (lo + hi) / 2;
          ServingResult r = probe(mid, traffic);
          if (acceptable(r, traffic, targets, requests)) hi = mid, at_hi = r;
          else lo = mid;
        }
        plan.replicas = hi;
      } else {
        // The fleet shown for a plan that misses is the largest tried, simulated to the end.
        if (at_hi.stopped_early) at_hi = run(lo, traffic);
        plan.failing_target = first_miss(at_hi, targets);
        if (plan.failing_target.empty())
          plan.failing_target = fmt::format("the fleet serves {:.1f} of {:.1f} requests/s", at_hi.request_throughput_per_s,
                                            traffic.rate.value_or(0));
      }
      plan.result = at_hi;
      const int fleet = std::max(1, plan.replicas > 0 ? plan.replicas : lo);
      plan.saturation_rate = ceiling;
      if (price) {
        plan.priced = true;
        plan.usd_per_hour = price->usd_per_hour * tp * fleet;
        plan.usd_per_month = plan.usd_per_hour * k_hours_per_month;
        if (plan.result.output_tokens_per_s > 0)
          plan.usd_per_million_output_tokens = plan.usd_per_hour / (plan.result.output_tokens_per_s * 3600) * 1e6;
      }
      plans.push_back(std::move(plan));
      // A larger TP on the same GPU only helps when this one misses the targets.
      if (plans.back().replicas > 0) break;
    }
  }
  std::stable_sort(plans.begin(), plans.end(), [](const ServingPlan& x, const ServingPlan& y) {
    const bool xm = x.replicas > 0 && x.priced, ym = y.replicas > 0 && y.priced;
    if (xm != ym) return xm;
    if (xm) return x.usd_per_hour < y.usd_per_hour;
    return false;
  });
  // Ranges and per-replica capacity for the plans worth reading: the three cheapest that meet the targets.
  int detailed = 0;
  for (auto& plan : plans) {
    if (plan.replicas == 0 || detailed == 3) continue;
    ++detailed;
    plan.detailed = true;
    ReplicaModel model = make_replica(w, *plan.gpu, plan.tp, a, engine);
    auto run = [&](const ReplicaModel& m, int replicas, const Traffic& t) { return simulate(m, replicas, t, targets, search.router); };
    ReplicaModel fast = model, slow = model;
    fast.case_index = 0;
    slow.case_index = 2;
    plan.optimistic = run(fast, plan.replicas, traffic);
    plan.pessimistic = run(slow, plan.replicas, traffic);
    // The highest rate one replica sustains within the targets: bisect between 0 and its saturation rate.
    Traffic probe = traffic;
    probe.trace.clear();
    probe.concurrency.reset();
    probe.requests = static_cast<int>(std::min<std::size_t>(requests, 1000));
    double good = 0, bad = plan.saturation_rate * 1.05;
    for (int i = 0; i < 6 && bad > 0; ++i) {
      probe.rate = (good + bad) / 2;
      if (acceptable(simulate(model, 1, probe, targets, search.router, true), probe, targets,
                     static_cast<std::size_t>(probe.requests)))
        good = *probe.rate;
      else bad = *probe.rate;
    }
    plan.max_rate_per_replica = good;
  }
  return plans;
}

} // namespace gpuadvise

namespace gpuadvise {
namespace {

std::string ms(double seconds) { return seconds >= 10 ? fmt::format("{:.0f}s", seconds) : seconds >= 1 ? fmt::format("{:.1f}s", seconds) : fmt::format("{:.0f}ms", seconds * 1e3); }

std::string targets_text(const Targets& t) {
  std::vector<std::string> parts;
  if (t.ttft_p95) parts.push_back(fmt::format("TTFT p95 <= {}", format_duration(*t.ttft_p95)));
  if (t.ttft_p99) parts.push_back(fmt::format("TTFT p99 <= {}", format_duration(*t.ttft_p99)));
  if (t.tpot_p95) parts.push_back(fmt::format("TPOT p95 <= {} ({:.0f} tok/s per user)", format_duration(*t.tpot_p95), 1 / *t.tpot_p95));
  if (t.e2e_p95) parts.push_back(fmt::format("end-to-end p95 <= {}", format_duration(*t.e2e_p95)));
  return parts.empty() ? "none (the plan keeps up with the rate)" : fmt::format("{}", fmt::join(parts, ", "));
}

nlohmann::json percentiles_json(const Percentiles& p) {
  return {{"p50", round_significant(p.p50)}, {"p95", round_significant(p.p95)}, {"p99", round_significant(p.p99)}};
}

nlohmann::json result_json(const ServingResult& r) {
  return {{"replicas", r.replicas},
          {"finished_requests", r.finished},
          {"ttft_s", percentiles_json(r.ttft_s)},
          {"tpot_s", percentiles_json(r.tpot_s)},
          {"itl_s", percentiles_json(r.itl_s)},
          {"e2e_s", percentiles_json(r.e2e_s)},
          {"request_throughput_per_s", round_significant(r.request_throughput_per_s)},
          {"output_tokens_per_s", round_significant(r.output_tokens_per_s)},
          {"goodput_per_s", round_significant(r.goodput_per_s)},
          {"goodput_share", round_significant(r.goodput_share)},
          {"kv_utilization", round_significant(r.kv_utilization)},
          {"queueing_share", round_significant(r.queueing_share)},
          {"preemptions", r.preemptions},
          {"mean_step_s", round_significant(r.mean_step_s)},
          {"mean_batch", round_significant(r.mean_batch)},
          {"kv_blocks_per_replica", r.kv_blocks}};
}

} // namespace

void write_serving_text(std::ostream& out, const ServingReport& report) {
  const auto& w = report.workload;
  const auto& t = report.traffic;
  out << wrap_text(fmt::format("Model    {}: {} parameters; {} weights", w.shape.name.empty() ? w.model_text : w.shape.name,
                               format_params(w.params_total), to_string(w.precision)),
                   "", "         ");
  const std::string load = t.rate ? fmt::format("{:g} requests/s (Poisson)", *t.rate)
                           : t.concurrency ? fmt::format("{} concurrent users (closed loop)", *t.concurrency)
                                           : fmt::format("trace of {} requests", t.trace.size());
  out << wrap_text(fmt::format("Traffic  {}; {}; {} requests simulated", load, report.traffic_text,
                               t.trace.empty() ? t.requests : static_cast<int>(t.trace.size())),
                   "", "         ");
  out << wrap_text(fmt::format("Targets  {}", targets_text(report.targets)), "", "         ");
  out << wrap_text(fmt::format("Engine   max-num-seqs {}, max-num-batched-tokens {}, chunked prefill {}, prefix-cache "
                               "hit rate {:.0f}%, KV blocks of {} tokens",
                               report.engine.max_num_seqs, report.engine.max_num_batched_tokens,
                               report.engine.chunked_prefill ? "on" : "off", report.engine.prefix_cache_hit_rate * 100,
                               report.engine.block_size),
                   "", "         ")
      << "\n";
  out << fmt::format("{:<15} {:>2} {:>4} {:>8} {:>9} {:>6} {:>6} {:>6} {:>6} {:>7}\n", "GPU", "TP", "reps", "$/hr",
                     "$/month", "TTFT95", "TPOT95", "$/Mtok", "max/r", "status");
  for (const auto& p : report.plans) {
    const bool ok = p.replicas > 0;
    out << fmt::format("{:<15} {:>2} {:>4} {:>8} {:>9} {:>6} {:>6} {:>6} {:>6} {:>7}\n", p.gpu->id, p.tp,
                       ok ? std::to_string(p.replicas) : "-", p.priced && ok ? format_usd(p.usd_per_hour) : "-",
                       p.priced && ok ? fmt::format("${:.0f}", p.usd_per_month) : "-", ms(p.result.ttft_s.p95),
                       ms(p.result.tpot_s.p95), p.priced && ok ? fmt::format("{:.3f}", p.usd_per_million_output_tokens) : "-",
                       ok && p.detailed ? fmt::format("{:.1f}", p.max_rate_per_replica) : "-", ok ? "meets" : "misses");
  }
  out << wrap_text("(reps = replicas of TP GPUs each; TTFT95/TPOT95 = p95 time to first token and per output token at "
                   "that fleet; $/Mtok = $ per million output tokens at the rate; max/r = highest rate in requests/s one "
                   "replica sustains within the targets)",
                   "", " ");
  const ServingPlan* pick = !report.plans.empty() && report.plans.front().replicas > 0 && report.plans.front().priced
                                ? &report.plans.front()
                                : nullptr;
  if (!pick) {
    out << "\nNo plan meets the targets:\n";
    for (const auto& p : report.plans)
      out << wrap_text(fmt::format("{} (TP {}): {}", p.gpu->id, p.tp,
                                   p.failing_target.empty() ? std::string("no price") : p.failing_target),
                       "  ", "    ");
    if (report.plans.empty()) out << "  no GPU holds the model and one request's KV cache at a tensor-parallel size tried\n";
    return;
  }
  const auto& r = pick->result;
  out << "\n"
      << fmt::format("Pick: {} x {} x {} ({} GPUs), {} per month\n", pick->replicas, pick->tp, pick->gpu->id,
                     pick->replicas * pick->tp, format_usd(pick->usd_per_month));
  auto range = [](const char* what, const Percentiles& e, const Percentiles& lo, const Percentiles& hi) {
    return fmt::format("  {:<8} p50 {} p95 {} p99 {} (p95 range {}-{})\n", what, ms(e.p50), ms(e.p95), ms(e.p99),
                       ms(lo.p95), ms(hi.p95));
  };
  out << range("TTFT", r.ttft_s, pick->optimistic.ttft_s, pick->pessimistic.ttft_s)
      << range("TPOT", r.tpot_s, pick->optimistic.tpot_s, pick->pessimistic.tpot_s)
      << range("ITL", r.itl_s, pick->optimistic.itl_s, pick->pessimistic.itl_s)
      << range("e2e", r.e2e_s, pick->optimistic.e2e_s, pick->pessimistic.e2e_s);
  out << wrap_text(fmt::format("load     {} output tok/s ({:.1f} requests/s served over the run, queue drain included); "
                               "goodput {:.0f}%; KV cache {:.0f}% used; {:.0f}% of latency queueing",
                               static_cast<long long>(std::llround(r.output_tokens_per_s)), r.request_throughput_per_s,
                               r.goodput_share * 100, r.kv_utilization * 100, r.queueing_share * 100),
                   "  ", "           ");
  out << wrap_text(fmt::format("cost     {}/hr = {} GPUs x {}/hr; {} per month (730 h); {} per 1M output tokens",
                               format_usd(pick->usd_per_hour), pick->replicas * pick->tp,
                               format_usd(pick->usd_per_hour / (pick->replicas * pick->tp)), format_usd(pick->usd_per_month),
                               format_usd(pick->usd_per_million_output_tokens)),
                   "  ", "           ");
  out << fmt::format("  capacity one replica sustains {:.1f} requests/s within the targets\n", pick->max_rate_per_replica);
  out << wrap_text("(p95 ranges: the same fleet with the optimistic and pessimistic step times; see docs/serving.md for "
                   "what the simulator leaves out)",
                   "", " ");
}

void write_serving_explain(std::ostream& out, const ServingReport& report, const Assumptions& a) {
  const ServingPlan* pick = !report.plans.empty() && report.plans.front().replicas > 0 && report.plans.front().priced
                                ? &report.plans.front()
                                : nullptr;
  if (!pick) {
    out << "\nExplain: no plan meets the targets, so there is no pick to explain\n";
    return;
  }
  const ReplicaModel model = make_replica(report.workload, *pick->gpu, pick->tp, a, report.engine);
  const ServingResult& r = pick->result;
  const auto ms_of = [](double seconds) { return fmt::format("{:.2f} ms", seconds * 1e3); };
  auto write_step = [&](const std::string& title, const StepModel::Parts& p, double decodes, double context) {
    out << "  " << title << "\n";
    if (decodes > 0)
      out << fmt::format("    bytes    {} weights + {} KV = {}\n             (KV: {:.1f} sequences x {:.0f} tokens x {:.0f} "
                         "bytes per token)\n",
                         format_gb(p.weight_bytes), format_gb(p.kv_bytes), format_gb(p.bytes), decodes, context,
                         decodes * context > 0 ? p.kv_bytes / (decodes * context) : 0.0);
    else
      out << fmt::format("    bytes    {} weights read once\n", format_gb(p.bytes));
    out << fmt::format("    memory   {} / ({:.0f} GB/s x {:.2f} achievable) = {}\n", format_gb(p.bytes), p.bandwidth / 1e9,
                       p.memory_fraction, ms_of(p.memory_s));
    out << fmt::format("    compute  {:.3g} TFLOP / ({:.0f} TFLOP/s x {:.2f} x {:.2f} GEMM fill) = {}\n", p.flops / 1e12,
                       p.peak_flops / 1e12, p.compute_fraction, p.fill, ms_of(p.compute_s));
    out << fmt::format("    fixed    runtime per step and layer {} + all-reduces {}\n",
                       ms_of(p.runtime_fixed_s), ms_of(p.allreduce_s));
    out << fmt::format("    step     max(memory, compute) + fixed = {}{}\n", ms_of(p.total_s),
                       report.engine.host_s_per_sequence > 0
                           ? fmt::format(" (+ host {:.0f} us per sequence per scheduling)", report.engine.host_s_per_sequence * 1e6)
                           : std::string());
  };
  out << "\nExplain: the pick's step time (expected case; docs/serving.md, The simulator, 3)\n";
  if (r.mean_decodes > 0) {
    const double context = r.mean_decode_context;
    write_step(fmt::format("a decode step at the run's means: {:.1f} sequences, {:.0f} tokens of context each",
                           r.mean_decodes, context),
               model.step.step_parts(1, r.mean_decodes, r.mean_decodes * context, 0, 0), r.mean_decodes, context);
  }
  const double prompt = report.traffic.trace.empty() ? report.traffic.input.mean : 0;
  if (prompt > 0)
    write_step(fmt::format("one {:.0f}-token prompt alone (a request's TTFT when the replica is idle)", prompt),
               model.step.step_parts(1, 0, 0, prompt, prompt / 2), 0, 0);
  const std::size_t n = static_cast<std::size_t>(r.finished);
  auto rank = [&](double q) { return static_cast<std::size_t>(std::ceil(q * static_cast<double>(n))); };
  out << "\nHow the latency percentiles come out of the simulation\n";
  out << wrap_text(fmt::format("The simulator runs the {} requests through {} replica{} (one event loop over arrivals and "
                               "step ends) and records each request's arrival, first token and finish: TTFT = first token "
                               "- arrival (queueing + the steps that compute its prompt), TPOT = (finish - first token) / "
                               "(output tokens - 1), end-to-end = finish - arrival. p50, p95 and p99 are the {}th, {}th "
                               "and {}th of each sorted list (nearest rank); ITL comes from the step times weighted by the "
                               "sequences each step advanced.",
                               n, pick->replicas, pick->replicas == 1 ? "" : "s", rank(0.50), rank(0.95), rank(0.99)),
                   "  ", "  ");
  out << wrap_text(fmt::format("Here: mean step {} with {:.1f} sequences; TTFT p95 {} of which {:.0f}% of a request's "
                               "latency is queueing on average; TPOT p95 {} against a mean decode step of {}.",
                               ms_of(r.mean_step_s), r.mean_batch, ms_of(r.ttft_s.p95), r.queueing_share * 100,
                               ms_of(r.tpot_s.p95),
                               r.mean_decodes > 0 ? ms_of(model.step.step_case_s(1, r.mean_decodes,
                                                                                  r.mean_decodes * r.mean_decode_context, 0, 0))
                                                  : std::string("-")),
                   "  ", "  ");
}

nlohmann::json serving_json(const ServingReport& report) {
  nlohmann::json doc;
  doc["schema_version"] = 1;
  doc["document"] = "serving_plan";
  doc["tool"] = {{"name", "gpuadvise"}, {"catalog_date", report.catalog_date}};
  const auto& t = report.traffic;
  doc["workload"] = {{"model", report.workload.shape.name}, {"params_total", round_significant(report.workload.params_total)},
                     {"precision", to_string(report.workload.precision)}};
  doc["traffic"] = {{"rate_per_s", t.rate ? nlohmann::json(*t.rate) : nlohmann::json(nullptr)},
                    {"concurrency", t.concurrency ? nlohmann::json(*t.concurrency) : nlohmann::json(nullptr)},
                    {"lengths", report.traffic_text},
                    {"requests", t.trace.empty() ? t.requests : static_cast<int>(t.trace.size())},
                    {"seed", t.seed}};
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  doc["targets"] = {{"ttft_p95_s", opt(report.targets.ttft_p95)}, {"ttft_p99_s", opt(report.targets.ttft_p99)},
                    {"tpot_p95_s", opt(report.targets.tpot_p95)}, {"e2e_p95_s", opt(report.targets.e2e_p95)}};
  doc["engine"] = {{"max_num_seqs", report.engine.max_num_seqs}, {"max_num_batched_tokens", report.engine.max_num_batched_tokens},
                   {"chunked_prefill", report.engine.chunked_prefill},
                   {"prefix_cache_hit_rate", report.engine.prefix_cache_hit_rate}, {"block_size", report.engine.block_size}};
  doc["plans"] = nlohmann::json::array();
  for (const auto& p : report.plans) {
    nlohmann::json j = {{"gpu", p.gpu->id}, {"tp", p.tp}, {"meets_targets", p.replicas > 0},
                        {"replicas", p.replicas > 0 ? nlohmann::json(p.replicas) : nlohmann::json(nullptr)},
                        {"gpus", p.replicas > 0 ? nlohmann::json(p.replicas * p.tp) : nlohmann::json(nullptr)},
                        {"result", result_json(p.result)},
                        {"ranges", p.detailed ? nlohmann::json{{"optimistic", result_json(p.optimistic)}, {"pessimistic", result_json(p.pessimistic)}}
                                              : nlohmann::json(nullptr)},
                        {"max_rate_per_replica", p.detailed ? nlohmann::json(round_significant(p.max_rate_per_replica)) : nlohmann::json(nullptr)},
                        {"failing_target", p.failing_target.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.failing_target)}};
    if (p.priced && p.replicas > 0)
      j["cost"] = {{"usd_per_hour", round_significant(p.usd_per_hour)}, {"usd_per_month", round_significant(p.usd_per_month)},
                   {"usd_per_million_output_tokens", round_significant(p.usd_per_million_output_tokens)}};
    else
      j["cost"] = nullptr;
    doc["plans"].push_back(j);
  }
  const bool picked = !report.plans.empty() && report.plans.front().replicas > 0 && report.plans.front().priced;
  doc["recommendation"] = picked ? nlohmann::json({{"gpu", report.plans.front().gpu->id}, {"tp", report.plans.front().tp},
                                                   {"replicas", report.plans.front().replicas}})
                                 : nlohmann::json(nullptr);
  return doc;
}

} // namespace gpuadvise
