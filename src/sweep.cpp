#include <gpuadvise/advisor.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/estimate.hpp>
#include <gpuadvise/report.hpp>
#include <gpuadvise/sweep.hpp>
#include <gpuadvise/evaluation.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace gpuadvise {
namespace {

using nlohmann::json;

std::string trimmed(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

/// Splits on commas, keeping empty items (so "1,,2" can be rejected).
std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    items.push_back(trimmed(std::string_view(text).substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

/// The shared grammar of token and count ranges: items separated by commas, each a value or LOW..HIGH
/// (doubling from LOW, HIGH included). `parse_one` parses and validates one value.
template <class ParseOne>
std::vector<std::int64_t> parse_range(std::string_view raw, std::string_view what, std::string_view example,
                                      ParseOne parse_one) {
  const std::string text = trimmed(raw);
  if (text.empty()) throw InputError(fmt::format("invalid {} '{}': empty; expected e.g. {}", what, raw, example));
  std::vector<std::int64_t> values;
  for (const auto& item : split_commas(text)) {
    if (item.empty())
      throw InputError(fmt::format("invalid {} '{}': an empty item between commas; expected e.g. {}", what, raw, example));
    const auto dots = item.find("..");
    if (dots == std::string::npos) {
      values.push_back(parse_one(item));
    } else {
      const std::string low_text = trimmed(std::string_view(item).substr(0, dots));
      const std::string high_text = trimmed(std::string_view(item).substr(dots + 2));
      if (low_text.empty() || high_text.empty() || high_text.find("..") != std::string::npos || high_text[0] == '.')
        throw InputError(fmt::format("invalid {} '{}': a range needs a first and a last value, as in {}", what, raw, example));
      const std::int64_t low = parse_one(low_text);
      const std::int64_t high = parse_one(high_text);
      if (low > high)
        throw InputError(fmt::format("invalid {} '{}': the range '{}' runs backwards (write {}..{})", what, raw, item,
                                     high_text, low_text));
      // Doubling: at most 63 steps before overflow, and values are bounded far below that.
      for (std::int64_t v = low; v < high && values.size() <= k_max_range_points; v *= 2) values.push_back(v);
      values.push_back(high);
    }
    if (values.size() > k_max_range_points) break;
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  if (values.size() > k_max_range_points)
    throw InputError(fmt::format("invalid {} '{}': more than {} values; use a coarser range", what, raw, k_max_range_points));
  return values;
}

double tidy(double value) { return round_significant(value); }

std::string wrap(const std::string& text, const std::string& first, const std::string& rest) {
  return wrap_text(text, first, rest);
}

/// Fills the context with a prompt and the workload's output; a context no longer than the output
/// is split in half (prompt context/2, output the rest), so every point has both.
void set_context(Workload& w, std::int64_t context, std::int64_t output_tokens) {
  w.context = context;
  if (context > output_tokens) {
    w.output_tokens = output_tokens;
    w.input_tokens = context - output_tokens;
  } else {
    w.input_tokens = context / 2;
    w.output_tokens = context - w.input_tokens;
  }
}

/// The largest n in [1, limit] with fits(n), for a predicate that holds up to some n and fails after;
/// 0 when even 1 does not fit. `at_limit` is set when `limit` itself fits.
template <class Fits>
std::int64_t largest_fitting(std::int64_t limit, Fits fits, bool& at_limit) {
  at_limit = false;
  if (!fits(1)) return 0;
  if (fits(limit)) {
    at_limit = true;
    return limit;
  }
  std::int64_t lo = 1, hi = limit; // fits(lo), !fits(hi)
  while (hi - lo > 1) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

std::string model_label(const Workload& w) {
  if (w.origin == ModelOrigin::bare_size) return fmt::format("{} ({} shape)", format_params(w.params_total), w.shape.id);
  return w.shape.id.empty() ? w.model_text : w.shape.id;
}

std::string tokens_per_s(double value) { return value >= 100 ? fmt::format("{:.0f}", value) : fmt::format("{:.1f}", value); }

std::string dollars(double usd) {
  if (usd < 0.01) return fmt::format("{:.4f}", usd);
  if (usd < 10) return fmt::format("{:.2f}", usd);
  if (usd < 1000) return fmt::format("{:.1f}", usd);
  return fmt::format("{:.0f}", usd);
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_number(double value) { return fmt::format("{}", tidy(value)); }

std::string limit_text(std::int64_t value, bool at_limit, std::string_view unit) {
  if (value == 0) return "none";
  return fmt::format("{}{}{}", at_limit ? "at least " : "", value, unit);
}

} // namespace

std::vector<std::int64_t> parse_token_range(std::string_view text, std::string_view what) {
  return parse_range(text, what, "2k..128k or 512,1k,4k",
                     [&](const std::string& item) { return parse_token_count(item, what); });
}

std::vector<std::int64_t> parse_count_range(std::string_view text, std::string_view what, std::int64_t max_value) {
  return parse_range(text, what, "1..64 or 1,4,16",
                     [&](const std::string& item) { return parse_positive_int(item, what, max_value); });
}

std::vector<Precision> parse_precision_list(std::string_view text, std::string_view what) {
  const std::string all = trimmed(text);
  if (all.empty()) throw InputError(fmt::format("invalid {} '{}': empty; expected e.g. fp16,fp8", what, text));
  std::vector<Precision> out;
  for (const auto& item : split_commas(all)) {
    if (item.empty())
      throw InputError(fmt::format("invalid {} '{}': an empty item between commas; expected e.g. fp16,fp8", what, text));
    const Precision p = parse_precision(item, what);
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

SweepResult run_sweep(const Workload& base, const GpuCatalog& catalog, const std::vector<const Gpu*>& gpus, int count,
                      const Assumptions& assumptions, const SweepGrid& grid, std::string_view provider) {
  AdviseOptions pricing;
  pricing.provider = std::string(provider);
  return run_sweep(base, catalog, gpus, count, assumptions, grid, pricing);
}

SweepResult run_sweep(const Workload& base, const GpuCatalog& catalog, const std::vector<const Gpu*>& gpus, int count,
                      const Assumptions& assumptions, const SweepGrid& grid, const AdviseOptions& pricing) {
  if (count < 1 || count > 4096) throw InputError(fmt::format("invalid --count {}: must be between 1 and 4096", count));
  require_pricing(catalog, pricing);
  const std::string_view provider = pricing.provider;
  std::vector<const Gpu*> list = gpus;
  if (list.empty())
    for (const auto& gpu : catalog.gpus()) list.push_back(&gpu);

  SweepResult r;
  r.base = base;
  r.count = count;
  r.provider = std::string(provider);
  r.catalog_date = catalog.catalog_date();
  r.grid = grid;
  auto& g = r.grid;
  if (g.batches.empty()) g.batches.push_back(base.batch);
  if (g.contexts.empty()) g.contexts.push_back(base.context);
  if (g.precisions.empty()) g.precisions.push_back(base.precision);
  for (auto* values : {&g.batches, &g.contexts}) {
    std::sort(values->begin(), values->end());
    values->erase(std::unique(values->begin(), values->end()), values->end());
  }
  std::vector<Precision> distinct;
  for (Precision p : g.precisions)
    if (std::find(distinct.begin(), distinct.end(), p) == distinct.end()) distinct.push_back(p);
  g.precisions = distinct;
  if (g.batches.front() < 1 || g.batches.back() > k_max_sweep_batch)
    throw InputError(fmt::format("invalid batch {} in the sweep: must be between 1 and {}",
                                 g.batches.front() < 1 ? g.batches.front() : g.batches.back(), k_max_sweep_batch));
  if (g.contexts.front() < 2 || static_cast<double>(g.contexts.back()) > k_max_tokens_per_sequence)
    throw InputError(fmt::format("invalid context {} in the sweep: must hold a prompt and an output token (2 to {:.0f})",
                                 g.contexts.front() < 2 ? g.contexts.front() : g.contexts.back(), k_max_tokens_per_sequence));
  if (!kind_module(base.kind).has_context)
    throw InputError(fmt::format("sweep needs a workload with a token context; --workload {} has none", to_string(base.kind)));
  // Kinds other than LLMs cannot run past the model's position table (an encoder has no longer context).
  if (base.kind != WorkloadKind::llm && base.shape.max_context > 0 && g.contexts.back() > base.shape.max_context)
    throw InputError(fmt::format("invalid context {} in the sweep: {} reads at most {} tokens per sequence", g.contexts.back(),
                                 base.shape.name, base.shape.max_context));
  // A preset or config.json has a position table; a bare size (8B) has no maximum of its own.
  if (base.kind == WorkloadKind::llm && base.origin != ModelOrigin::bare_size && base.shape.max_context > 0 &&
      g.contexts.back() > base.shape.max_context)
    throw InputError(fmt::format("invalid --context: the sweep reaches {} tokens but {}'s maximum context is {} tokens; "
                                 "end the range at {} or less",
                                 g.contexts.back(), base.shape.name, base.shape.max_context, base.shape.max_context));
  const double context_limit = base.kind != WorkloadKind::llm && base.shape.max_context > 0
                                   ? static_cast<double>(base.shape.max_context)
                                   : k_max_tokens_per_sequence;
  const std::size_t total = list.size() * g.precisions.size() * g.batches.size() * g.contexts.size();
  if (total > k_max_sweep_points)
    throw InputError(fmt::format("the sweep has {} points ({} GPUs x {} precisions x {} batches x {} contexts), more "
                                 "than the limit of {}; name fewer GPUs or use coarser ranges",
                                 total, list.size(), g.precisions.size(), g.batches.size(), g.contexts.size(),
                                 k_max_sweep_points));

  r.points.reserve(total);
  const std::int64_t output_tokens = base.output_tokens;
  for (const Gpu* gpu : list) {
    for (Precision precision : g.precisions) {
      Workload w = base;
      w.precision = precision;
      w.batch_given = true;
      for (std::int64_t batch : g.batches) {
        w.batch = batch;
        for (std::int64_t context : g.contexts) {
          set_context(w, context, output_tokens);
          // Tensor parallel over `count` GPUs, rented as instances when the provider has shapes (as the default command).
          const Candidate c = evaluate_plan(w, *gpu, count, 1, assumptions, pricing);
          SweepPoint p;
          p.gpu = gpu->id;
          p.count = count;
          p.precision = precision;
          p.effective_precision = c.precision.effective;
          p.batch = batch;
          p.context = context;
          p.input_tokens = w.input_tokens;
          p.output_tokens = w.output_tokens;
          p.fits = c.memory.fits();
          p.native = c.precision.native;
          p.priced = c.cost.priced;
          p.memory_total_bytes = c.memory.total_bytes;
          p.memory_usable_bytes = c.memory.usable_bytes;
          p.decode_tokens_per_s = kind_module(w.kind).headline(c.performance); // LLM: generated; embedding: embedded
          p.decode_tokens_per_s_per_sequence = c.performance.decode_tokens_per_s_per_sequence.expected;
          if (p.priced) {
            p.usd_per_hour = c.cost.usd_per_hour;
            p.usd_per_million_tokens = c.cost.usd_per_million_tokens.expected;
            p.tokens_per_s_per_usd_hour = c.cost.usd_per_hour > 0 ? p.decode_tokens_per_s / c.cost.usd_per_hour : 0;
          }
          r.points.push_back(std::move(p));
        }
      }

      // Fit limits: memory grows with batch and with context (docs/formulas.md, section 2), so
      // "fits" holds up to some value and fails after it, and bisection finds that value.
      SweepSummary s;
      s.gpu = gpu->id;
      s.precision = precision;
      s.batch = g.batches.front();
      s.context = g.contexts.front();
      const PrecisionDecision decision = decide_precision(w, *gpu);
      auto fits_at = [&](std::int64_t batch, std::int64_t context) {
        w.batch = batch;
        set_context(w, context, output_tokens);
        const MemoryEstimate m = estimate_memory(w, decision, *gpu, count, assumptions);
        s.memory_usable_bytes = m.usable_bytes;
        return m.fits();
      };
      s.largest_context = largest_fitting(static_cast<std::int64_t>(context_limit),
                                          [&](std::int64_t c) { return fits_at(s.batch, c); }, s.context_at_limit);
      s.largest_batch = largest_fitting(k_max_sweep_batch, [&](std::int64_t b) { return fits_at(b, s.context); },
                                        s.batch_at_limit);
      r.summaries.push_back(s);
    }
  }
  return r;
}

void write_sweep_table(std::ostream& out, const SweepResult& result) {
  const auto& w = result.base;
  out << wrap(fmt::format("Sweep    {}, {} GPU{} per candidate, {} KV cache, {} output tokens per request (the prompt "
                          "fills the rest of the context); memory utilization {:.0f}%; prices: {}",
                          model_label(w), result.count, result.count > 1 ? "s" : "",
                          w.kv_precision_given ? std::string(to_string(w.kv_precision)) : "16-bit", w.output_tokens,
                          w.memory_utilization * 100, result.provider.empty() ? "cheapest on-demand" : result.provider),
              "", "         ")
      << "\n";

  std::size_t gpu_width = 3;
  for (const auto& p : result.points) gpu_width = std::max(gpu_width, p.gpu.size());
  gpu_width = std::min<std::size_t>(gpu_width, 23);
  const std::string header = fmt::format("{:<{}} {:<7} {:>7} {:>8} {:<4} {:>7} {:>8} {:>9}", "GPU", gpu_width, "prec",
                                         "batch", "context", "fits", "mem GB", "tok/s", "$/M tok");
  out << header << "\n";
  for (const auto& p : result.points)
    out << fmt::format("{:<{}} {:<7} {:>7} {:>8} {:<4} {:>7.1f} {:>8} {:>9}", p.gpu, gpu_width, to_string(p.precision),
                       p.batch, format_token_count(p.context), p.fits ? "yes" : "no", p.memory_total_bytes / 1e9,
                       tokens_per_s(p.decode_tokens_per_s), p.priced ? dollars(p.usd_per_million_tokens) : "-")
        << "\n";
  out << wrap("(batch = concurrent sequences; context = tokens per sequence, prompt + output; mem GB = memory per GPU in "
              "10^9 bytes; tok/s = generated tokens per second, all sequences; $/M tok = US dollars per million "
              "generated tokens)",
              "", " ");

  // Precisions a GPU does not run natively: its numbers are for the nearest supported one.
  std::vector<std::string> emulated;
  for (const auto& p : result.points) {
    if (p.native) continue;
    const std::string text = fmt::format("{} {} (estimated as {})", p.gpu, to_string(p.precision), to_string(p.effective_precision));
    if (std::find(emulated.begin(), emulated.end(), text) == emulated.end()) emulated.push_back(text);
  }
  if (!emulated.empty())
    out << "\n" << wrap(fmt::format("note: not native: {}", fmt::join(emulated, ", ")), "", "  ");

  out << "\nFit limits (bisection over whole numbers, memory per GPU against usable memory)\n";
  for (const auto& s : result.summaries)
    out << wrap(fmt::format("{} {} ({} usable): largest context that fits at batch {}: {}; largest batch at context {}: {}",
                            s.gpu, to_string(s.precision), format_gb(s.memory_usable_bytes), s.batch,
                            limit_text(s.largest_context, s.context_at_limit, " tokens"), s.context,
                            limit_text(s.largest_batch, s.batch_at_limit, "")),
                "  ", "    ");
}

void write_sweep_csv(std::ostream& out, const SweepResult& result) {
  out << "gpu,count,precision,effective_precision,native,batch,context,input_tokens,output_tokens,fits,"
         "memory_total_bytes,memory_usable_bytes,decode_tokens_per_s,decode_tokens_per_s_per_sequence,usd_per_hour,"
         "usd_per_million_tokens,tokens_per_s_per_usd_hour\n";
  for (const auto& p : result.points) {
    out << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},", csv_field(p.gpu), p.count, to_string(p.precision),
                       to_string(p.effective_precision), p.native, p.batch, p.context, p.input_tokens, p.output_tokens,
                       p.fits, std::llround(p.memory_total_bytes), std::llround(p.memory_usable_bytes),
                       csv_number(p.decode_tokens_per_s), csv_number(p.decode_tokens_per_s_per_sequence));
    if (p.priced)
      out << fmt::format("{},{},{}\n", csv_number(p.usd_per_hour), csv_number(p.usd_per_million_tokens),
                         csv_number(p.tokens_per_s_per_usd_hour));
    else
      out << ",,\n";
  }
}

json sweep_json(const SweepResult& result) {
  const auto& w = result.base;
  json doc;
  doc["schema_version"] = 1; // the sweep document keeps its own version (docs/json.md)
  doc["tool"] = {{"name", "gpuadvise"}, {"version", k_version}, {"catalog_date", result.catalog_date}};
  doc["workload"] = {{"model", w.shape.id},
                     {"model_input", w.model_text},
                     {"params_total", tidy(w.params_total)},
                     {"kv_precision", w.kv_precision_given ? json(to_string(w.kv_precision)) : json("auto")},
                     {"output_tokens", w.output_tokens},
                     {"requests", w.requests},
                     {"memory_utilization", w.memory_utilization},
                     {"count", result.count},
                     {"provider", result.provider.empty() ? json(nullptr) : json(result.provider)}};
  json precisions = json::array();
  for (Precision p : result.grid.precisions) precisions.push_back(to_string(p));
  doc["grid"] = {{"batches", result.grid.batches}, {"contexts", result.grid.contexts}, {"precisions", precisions}};
  json points = json::array();
  for (const auto& p : result.points) {
    auto priced = [&](double value) { return p.priced ? json(tidy(value)) : json(nullptr); };
    points.push_back({{"gpu", p.gpu},
                      {"count", p.count},
                      {"precision", to_string(p.precision)},
                      {"effective_precision", to_string(p.effective_precision)},
                      {"native", p.native},
                      {"batch", p.batch},
                      {"context", p.context},
                      {"input_tokens", p.input_tokens},
                      {"output_tokens", p.output_tokens},
                      {"fits", p.fits},
                      {"memory_total_bytes", std::llround(p.memory_total_bytes)},
                      {"memory_usable_bytes", std::llround(p.memory_usable_bytes)},
                      {"decode_tokens_per_s", tidy(p.decode_tokens_per_s)},
                      {"decode_tokens_per_s_per_sequence", tidy(p.decode_tokens_per_s_per_sequence)},
                      {"usd_per_hour", priced(p.usd_per_hour)},
                      {"usd_per_million_tokens", priced(p.usd_per_million_tokens)},
                      {"tokens_per_s_per_usd_hour", priced(p.tokens_per_s_per_usd_hour)}});
  }
  doc["points"] = std::move(points);
  json summary = json::array();
  for (const auto& s : result.summaries)
    summary.push_back({{"gpu", s.gpu},
                       {"precision", to_string(s.precision)},
                       {"memory_usable_bytes", std::llround(s.memory_usable_bytes)},
                       {"batch", s.batch},
                       {"largest_context", s.largest_context > 0 ? json(s.largest_context) : json(nullptr)},
                       {"largest_context_at_limit", s.context_at_limit},
                       {"context", s.context},
                       {"largest_batch", s.largest_batch > 0 ? json(s.largest_batch) : json(nullptr)},
                       {"largest_batch_at_limit", s.batch_at_limit}});
  doc["summary"] = std::move(summary);
  return doc;
}

PlotSpec sweep_plot(const SweepResult& result, SweepMetric metric, SweepAxis axis, std::int64_t fixed) {
  const bool by_context = axis == SweepAxis::context;
  const auto& others = by_context ? result.grid.batches : result.grid.contexts;
  if (others.empty()) throw InputError("the sweep has no points to plot");
  if (fixed == 0) fixed = others.front();
  if (std::find(others.begin(), others.end(), fixed) == others.end())
    throw InputError(fmt::format("{} {} is not in the sweep's grid", by_context ? "batch" : "context", fixed));

  const bool per_dollar = metric == SweepMetric::tokens_per_s_per_usd_hour;
  PlotSpec spec;
  spec.log_x = true;
  spec.x_label = by_context ? "context (tokens per sequence, log2 scale)" : "batch (concurrent sequences, log2 scale)";
  spec.y_label = per_dollar ? "decode tokens/s per $/hr" : "memory per GPU (GB)";
  spec.title = fmt::format("{}: {} by {} at {} {}{}", model_label(result.base),
                           per_dollar ? "throughput per dollar" : "memory", by_context ? "context" : "batch",
                           by_context ? "batch" : "context", by_context ? std::to_string(fixed) : format_token_count(fixed),
                           result.count > 1 ? fmt::format(", {} GPUs each", result.count) : "");

  const bool several_precisions = result.grid.precisions.size() > 1;
  for (const auto& s : result.summaries) { // one per GPU and precision, in sweep order
    PlotSeries series;
    series.name = several_precisions ? fmt::format("{} {}", s.gpu, to_string(s.precision)) : s.gpu;
    for (const auto& p : result.points) {
      if (p.gpu != s.gpu || p.precision != s.precision || (by_context ? p.batch : p.context) != fixed) continue;
      const bool shown = p.fits && (!per_dollar || p.priced);
      const double y = per_dollar ? p.tokens_per_s_per_usd_hour : p.memory_total_bytes / 1e9;
      series.points.push_back({static_cast<double>(by_context ? p.context : p.batch),
                               shown ? y : std::numeric_limits<double>::quiet_NaN()});
    }
    spec.series.push_back(std::move(series));
  }
  return spec;
}

} // namespace gpuadvise
