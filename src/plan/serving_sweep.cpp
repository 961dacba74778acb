// `gpuadvise sweep --rates`: the serving simulator run at a list of request rates per GPU kind, for a
// latency-throughput curve (TTFT/TPOT percentiles and $ per million output tokens against the rate).
#include <gpuadvise/error.hpp>
#include <gpuadvise/serving.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace gpuadvise {

std::vector<double> parse_rate_list(std::string_view text, std::string_view what) {
  std::vector<double> out;
  auto number = [&](std::string_view item) {
    if (item.empty()) throw InputError(fmt::format("{} '{}': an empty item", what, text));
    return parse_number(item, what, 1e-3, 1e6);
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = text.substr(start, comma - start);
    const std::size_t dots = item.find("..");
    if (dots != std::string_view::npos) {
      const double from = number(item.substr(0, dots)), to = number(item.substr(dots + 2));
      if (to < from) throw InputError(fmt::format("{} '{}': the range runs backwards", what, item));
      for (double r = from; r < to * (1 + 1e-12); r *= 2) out.push_back(r);
      if (out.back() < to) out.push_back(to);
    } else {
      out.push_back(number(item));
    }
    if (out.size() > 64) throw InputError(fmt::format("{} '{}': more than 64 rates", what, text));
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

RateSweep run_rate_sweep(const Workload& w, const GpuCatalog& catalog, std::vector<const Gpu*> gpus, int tp, int replicas,
                         const Assumptions& a, const Traffic& traffic, const std::vector<double>& rates,
                         const EngineSettings& engine, std::string_view provider) {
  if (rates.empty()) throw InputError("--rates: no rates");
  if (replicas < 1 || tp < 1) throw InternalError("run_rate_sweep: no GPUs");
  const bool whole_catalog = gpus.empty();
  if (whole_catalog)
    for (const auto& g : catalog.gpus()) gpus.push_back(&g);
  RateSweep sweep;
  sweep.workload = w;
  sweep.traffic = traffic;
  sweep.rates = rates;
  const int longest = static_cast<int>(std::min<double>(traffic.input.max, traffic.input.mean * (1 + 2 * traffic.input.cv)) +
                                       std::min<double>(traffic.output.max, traffic.output.mean * (1 + 2 * traffic.output.cv)));
  for (const Gpu* gpu : gpus) {
    // The whole catalog: only GPUs that run the precision in hardware (as the plan search does).
    if (whole_catalog && !decide_precision(w, *gpu).native) continue;
    const ReplicaModel model = make_replica(w, *gpu, tp, a, engine);
    const Price* price = gpu->price(provider);
    for (double rate : rates) {
      RateSweepPoint p;
      p.gpu = gpu->id;
      p.tp = tp;
      p.replicas = replicas;
      p.rate = rate;
      p.fits = model.kv_blocks * engine.block_size >= longest;
      if (p.fits) {
        Traffic t = traffic;
        t.concurrency.reset();
        t.trace.clear();
        t.rate = rate;
        p.result = simulate(model, replicas, t, Targets{});
      }
      if (price) {
        p.priced = true;
        p.usd_per_hour = price->usd_per_hour * tp * replicas;
        if (p.fits && p.result.output_tokens_per_s > 0)
          p.usd_per_million_output_tokens = p.usd_per_hour / (p.result.output_tokens_per_s * 3600) * 1e6;
      }
      sweep.points.push_back(std::move(p));
    }
  }
  return sweep;
}

namespace {

std::string ms_text(double seconds) {
  return seconds >= 10 ? fmt::format("{:.0f}s", seconds) : seconds >= 1 ? fmt::format("{:.1f}s", seconds)
                                                                         : fmt::format("{:.0f}ms", seconds * 1e3);
}

} // namespace

void write_rate_sweep_table(std::ostream& out, const RateSweep& sweep) {
  const auto& w = sweep.workload;
  const int replicas = sweep.points.empty() ? 1 : sweep.points.front().replicas;
  const int tp = sweep.points.empty() ? 1 : sweep.points.front().tp;
  out << wrap_text(fmt::format("{}, {}; {} replica{} of {} GPU{}; {} requests per rate (Poisson arrivals, seed {})",
                               w.shape.name.empty() ? w.model_text : w.shape.name, sweep.traffic_text, replicas,
                               replicas == 1 ? "" : "s", tp, tp == 1 ? "" : "s", sweep.traffic.requests, sweep.traffic.seed),
                   "", "  ")
      << "\n";
  out << fmt::format("{:<15} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7}\n", "GPU", "req/s", "TTFT50", "TTFT95",
                     "TPOT50", "TPOT95", "tok/s", "$/Mtok", "keeps");
  for (const auto& p : sweep.points) {
    if (!p.fits) {
      out << fmt::format("{:<15} {:>6} {:>6}\n", p.gpu, fmt::format("{:g}", p.rate), "does not fit");
      continue;
    }
    const auto& r = p.result;
    out << fmt::format("{:<15} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7}\n", p.gpu, fmt::format("{:g}", p.rate),
                       ms_text(r.ttft_s.p50), ms_text(r.ttft_s.p95), ms_text(r.tpot_s.p50), ms_text(r.tpot_s.p95),
                       static_cast<long long>(std::llround(r.output_tokens_per_s)),
                       p.priced && p.usd_per_million_output_tokens > 0 ? fmt::format("{:.3f}", p.usd_per_million_output_tokens) : "-",
                       r.stable ? "yes" : "no");
  }
  out << wrap_text("(TTFT50/95, TPOT50/95: p50 and p95 time to first token and per output token; tok/s: output tokens "
                   "per second served; $/Mtok: $ per million output tokens at that rate; keeps: the fleet keeps up "
                   "with the rate, its queue does not grow over the run)",
                   "", " ");
}

void write_rate_sweep_csv(std::ostream& out, const RateSweep& sweep) {
  out << "gpu,tp,replicas,rate_per_s,fits,ttft_p50_s,ttft_p95_s,ttft_p99_s,tpot_p50_s,tpot_p95_s,tpot_p99_s,e2e_p95_s,"
         "output_tokens_per_s,usd_per_hour,usd_per_million_output_tokens,stable\n";
  for (const auto& p : sweep.points) {
    const auto& r = p.result;
    out << fmt::format("{},{},{},{:g},{},", p.gpu, p.tp, p.replicas, p.rate, p.fits ? "true" : "false");
    if (p.fits)
      out << fmt::format("{:g},{:g},{:g},{:g},{:g},{:g},{:g},{:g},", round_significant(r.ttft_s.p50), round_significant(r.ttft_s.p95),
                         round_significant(r.ttft_s.p99), round_significant(r.tpot_s.p50), round_significant(r.tpot_s.p95),
                         round_significant(r.tpot_s.p99), round_significant(r.e2e_s.p95), round_significant(r.output_tokens_per_s));
    else
      out << ",,,,,,,,";
    out << (p.priced ? fmt::format("{:g}", round_significant(p.usd_per_hour)) : "") << ","
        << (p.priced && p.usd_per_million_output_tokens > 0 ? fmt::format("{:g}", round_significant(p.usd_per_million_output_tokens)) : "")
        << "," << (p.fits ? (r.stable ? "true" : "false") : "") << "\n";
  }
}

nlohmann::json rate_sweep_json(const RateSweep& sweep) {
  nlohmann::json doc;
  doc["schema_version"] = 1;
  doc["document"] = "rate_sweep";
  doc["workload"] = {{"model", sweep.workload.shape.name}, {"precision", to_string(sweep.workload.precision)}};
  doc["traffic"] = {{"lengths", sweep.traffic_text}, {"requests", sweep.traffic.requests}, {"seed", sweep.traffic.seed}};
  doc["rates_per_s"] = sweep.rates;
  doc["points"] = nlohmann::json::array();
  auto pct = [](const Percentiles& p) {
    return nlohmann::json{{"p50", round_significant(p.p50)}, {"p95", round_significant(p.p95)}, {"p99", round_significant(p.p99)}};
  };
  for (const auto& p : sweep.points) {
    nlohmann::json j = {{"gpu", p.gpu}, {"tp", p.tp}, {"replicas", p.replicas}, {"rate_per_s", p.rate}, {"fits", p.fits}};
    if (p.fits) {
      const auto& r = p.result;
      j["ttft_s"] = pct(r.ttft_s);
      j["tpot_s"] = pct(r.tpot_s);
      j["e2e_s"] = pct(r.e2e_s);
      j["output_tokens_per_s"] = round_significant(r.output_tokens_per_s);
      j["stable"] = r.stable;
    } else {
      j["ttft_s"] = j["tpot_s"] = j["e2e_s"] = j["output_tokens_per_s"] = j["stable"] = nullptr;
    }
    j["usd_per_hour"] = p.priced ? nlohmann::json(round_significant(p.usd_per_hour)) : nlohmann::json(nullptr);
    j["usd_per_million_output_tokens"] = p.priced && p.usd_per_million_output_tokens > 0
                                             ? nlohmann::json(round_significant(p.usd_per_million_output_tokens))
                                             : nlohmann::json(nullptr);
    doc["points"].push_back(std::move(j));
  }
  return doc;
}

PlotSpec rate_sweep_plot(const RateSweep& sweep, RateSweepMetric metric) {
  PlotSpec spec;
  spec.log_x = false;
  spec.x_label = "offered rate (requests/s)";
  spec.y_label = metric == RateSweepMetric::ttft_p95   ? "TTFT p95 (ms)"
                 : metric == RateSweepMetric::tpot_p95 ? "TPOT p95 (ms)"
                                                       : "$ per million output tokens";
  const auto& w = sweep.workload;
  spec.title = fmt::format("{}: {} by request rate ({})", w.shape.name.empty() ? w.model_text : w.shape.name, spec.y_label,
                           sweep.traffic_text);
  for (const auto& p : sweep.points) {
    if (spec.series.empty() || spec.series.back().name != p.gpu) spec.series.push_back({p.gpu, {}});
    double y = std::numeric_limits<double>::quiet_NaN();
    if (p.fits) {
      if (metric == RateSweepMetric::ttft_p95) y = p.result.ttft_s.p95 * 1e3;
      else if (metric == RateSweepMetric::tpot_p95) y = p.result.tpot_s.p95 * 1e3;
      else if (p.priced && p.usd_per_million_output_tokens > 0) y = p.usd_per_million_output_tokens;
    }
    spec.series.back().points.push_back({p.rate, y});
  }
  return spec;
}

} // namespace gpuadvise
