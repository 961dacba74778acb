#include <gpuadvise/listing.hpp>
#include <gpuadvise/report.hpp>
#include <gpuadvise/traffic_answers.hpp>
#include <gpuadvise/units.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/evaluation.hpp>
#include <gpuadvise/explain.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gpuadvise {
namespace {

/// "4 x $0.80 (AWS, on-demand, price of 2026-09-25)", or for rented instances
/// "1 x g6.12xlarge at $4.60 (AWS, on-demand, us-east-1, price of 2026-09-25)".
std::string hourly_terms(const Candidate& c) {
  if (c.machines)
    return fmt::format("{} x {} at {} ({}, {}, {}, price of {})", c.machines->instances, c.machines->instance.instance_type,
                       format_usd(c.cost.price.usd_per_hour), c.cost.price.provider_name, c.cost.price.tier,
                       c.machines->instance.region, c.cost.price.date);
  return fmt::format("{} x {} ({}, {}, price of {})", c.count, format_usd(c.cost.price.usd_per_hour),
                     c.cost.price.provider_name, c.cost.price.tier, c.cost.price.date);
}

using nlohmann::json;

double tidy(double value) { return round_significant(value); }

std::string wrap(const std::string& text, const std::string& first, const std::string& rest) {
  return wrap_text(text, first, rest);
}

json span_range(const Span& s) { return {{"low", tidy(s.low)}, {"high", tidy(s.high)}}; }

json finding_json(const Finding& f) {
  json j = {{"id", f.id}, {"severity", to_string(f.severity)}, {"message", f.message}};
  if (!f.hint.empty()) j["hint"] = f.hint;
  if (!f.remedies.empty()) {
    j["remedies"] = json::array();
    for (const auto& r : f.remedies) j["remedies"].push_back({{"change", to_string(r.setting)}, {"to", r.to}});
  }
  return j;
}

std::string_view origin_name(ModelOrigin o) {
  switch (o) {
  case ModelOrigin::bare_size: return "bare_size";
  case ModelOrigin::preset: return "preset";
  case ModelOrigin::config_file: return "config_file";
  }
  return "?";
}

/// The memory object of schema 2, the same for every task and kind: each memory part by name, the total
/// against what is usable, and by how much it misses. Null when nothing was evaluated.
json memory_json(const Candidate& c, const std::vector<Part>& parts) {
  json m = {{"per_gpu", true}};
  json names = json::array();
  bool any = false;
  for (const auto& part : parts) {
    if (part.group != PartGroup::memory) continue;
    any = true;
    m[part.name] = std::llround(part.value);
    if (part.name != "total_bytes" && part.name != "usable_bytes") names.push_back(part.name);
  }
  if (!any) return nullptr;
  const double total = c.memory_needed_bytes(), usable = c.memory_usable_bytes();
  m["parts"] = names;
  m["allocatable_bytes"] = std::llround(c.gpu->allocatable_bytes);
  m["headroom_bytes"] = std::llround(usable - total);
  m["shortfall_bytes"] = total > usable ? json(std::llround(total - usable)) : json(nullptr);
  m["fits"] = c.fits();
  if (c.training) m["offloaded_bytes"] = std::llround(c.training->memory.offloaded_bytes);
  if (!c.training && c.memory.engine) {
    const auto& e = *c.memory.engine;
    m["engine"] = {{"engine", e.engine},
                   {"kv_budget_bytes", std::llround(e.kv_budget_bytes)},
                   {"kv_tokens", e.kv_tokens},
                   {"needed_tokens", e.needed_tokens},
                   {"max_model_len", e.max_model_len},
                   {"max_concurrency", std::round(e.max_concurrency * 100) / 100},
                   {"starts", e.failure.empty()},
                   {"failure", e.failure.empty() ? json(nullptr) : json(e.failure)}};
  }
  return m;
}

/// Every time or rate part by name (expected), with the ranges of those that have one.
json performance_json(const Candidate& c, const std::vector<Part>& parts) {
  json p = json::object();
  json ranges = json::object();
  for (const auto& part : parts) {
    if (part.group != PartGroup::time) continue;
    p[part.name] = tidy(part.value);
    if (part.range) ranges[part.name] = span_range(*part.range);
  }
  if (p.empty()) return nullptr;
  if (p.contains("decode_step_s")) p["decode_bound"] = c.performance.decode_compute_bound ? "compute" : "memory";
  p["ranges"] = ranges;
  return p;
}

json candidate_json(const Advice& advice, const Candidate& c) {
  if (!advice.assumptions) throw InternalError("an advice without its assumptions");
  const std::vector<Part> parts = explain(advice.workload, c, *advice.assumptions);
  json j;
  j["gpu"] = c.gpu->id;
  j["gpu_name"] = c.gpu->name;
  j["count"] = c.count;
  j["batch"] = c.training ? json(nullptr) : json(c.batch);
  j["batch_chosen"] = c.batch_chosen;
  j["eligible"] = c.eligible;
  j["fits"] = c.fits();
  j["memory"] = memory_json(c, parts);
  j["precision"] = {{"requested", to_string(c.precision.requested)},
                    {"effective", to_string(c.precision.effective)},
                    {"native", c.precision.native},
                    {"kv_requested", to_string(c.precision.kv_requested)},
                    {"kv_effective", to_string(c.precision.kv_effective)},
                    {"kv_native", c.precision.kv_native}};
  j["performance"] = performance_json(c, parts);
  if (c.cost.priced) {
    j["cost"] = {{"usd_per_hour", tidy(c.cost.usd_per_hour)},
                 {"usd_per_gpu_hour", c.machines ? c.cost.usd_per_hour / c.machines->gpus : c.cost.price.usd_per_hour},
                 {"provider", c.cost.price.provider},
                 {"provider_name", c.cost.price.provider_name},
                 {"price_date", c.cost.price.date},
                 {"job_usd", c.job_usd() < INFINITY && c.job_seconds() > 0 ? json(tidy(c.job_usd())) : json(nullptr)}};
    json ranges = json::object();
    for (const auto& part : parts)
      if (part.group == PartGroup::cost && part.name != "usd_per_hour" && part.name != "job_usd") {
        j["cost"][part.name] = tidy(part.value);
        if (part.range) ranges[part.name] = span_range(*part.range);
      }
    if (c.fits()) ranges["job_usd"] = span_range(c.training ? c.training->job_usd : c.cost.job_usd);
    j["cost"]["ranges"] = ranges;
  } else {
    j["cost"] = nullptr;
  }
  j["plan"] = {{"text", c.plan_text()},
               {"gpus", c.count},
               {"tp", c.training ? c.training->plan.tp : c.kind == WorkloadKind::llm ? c.tp : c.count},
               {"pp", c.training ? c.training->plan.pp : c.pp},
               {"dp", c.training ? c.training->plan.dp : 1},
               {"count_chosen", c.count_chosen}};
  if (c.machines) {
    const auto& m = *c.machines;
    j["plan"]["instances"] = {{"provider", m.instance.provider},
                              {"instance_type", m.instance.instance_type},
                              {"count", m.instances},
                              {"gpus_per_instance", m.instance.gpu_count},
                              {"gpus_rented", m.gpus},
                              {"gpu_interconnect", m.instance.interconnect},
                              {"usd_per_instance_hour", c.cost.price.usd_per_hour},
                              {"tier", c.cost.price.tier},
                              {"region", m.instance.region},
                              {"price_date", m.instance.price_date},
                              {"source", m.instance.source}};
  }
  if (c.training) {
    const auto& t = *c.training;
    const auto& m = t.memory;
    j["training"] = {{"found", t.found},
                     {"setup", {{"task", to_string(t.setup.task)}, {"optimizer", to_string(t.setup.optimizer)}, {"recompute", to_string(t.setup.recompute)}, {"zero_stage", t.setup.zero_stage}, {"micro_batch", t.setup.micro_batch}, {"sequence_tokens", t.setup.sequence},
                                {"stack", t.setup.stack ? json(std::string(to_string(*t.setup.stack))) : json(nullptr)}}},
                     {"peak", t.setup.stack ? json{{"moment", m.peak_moment},
                                                   {"allocated_bytes", std::llround(m.allocated_bytes)},
                                                   {"reserve_bytes", std::llround(m.reserve_bytes)},
                                                   {"reserved_bytes", std::llround(m.reserved_bytes)},
                                                   {"managed_bytes", std::llround(m.managed_bytes)},
                                                   {"largest_micro_batch", m.largest_micro_batch},
                                                   {"longest_sequence_tokens", m.longest_sequence}}
                                            : json(nullptr)},
                     {"trainable_params", tidy(m.trainable_params)},
                     {"train_tokens", tidy(t.train_tokens)},
                     {"flops_per_token", tidy(t.perf.flops_per_token)},
                     {"tokens_per_step", tidy(t.perf.tokens_per_step)},
                     {"step_seconds", tidy(t.perf.step_s.expected)},
                     {"tokens_per_s", tidy(t.perf.tokens_per_s.expected)},
                     {"bubble_fraction", tidy(t.perf.bubble_fraction)},
                     {"tp_communication_s", tidy(t.perf.tp_communication_s)},
                     {"dp_communication_s", tidy(t.perf.dp_communication_s)},
                     {"pp_communication_s", tidy(t.perf.pp_communication_s)},
                     {"crosses_nodes", t.perf.dp_crosses_nodes},
                     {"job_seconds", tidy(t.hours.expected * 3600)},
                     {"job_usd", c.cost.priced ? json(tidy(t.job_usd.expected)) : json(nullptr)},
                     {"ranges",
                      {{"tokens_per_s", span_range(t.perf.tokens_per_s)},
                       {"step_seconds", span_range(t.perf.step_s)},
                       {"job_seconds", {{"low", tidy(t.hours.low * 3600)}, {"high", tidy(t.hours.high * 3600)}}},
                       {"job_usd", span_range(t.job_usd)}}}};
    if (!t.found)  // the closest miss: no speed, time or cost to report
      for (const char* key : {"train_tokens", "flops_per_token", "tokens_per_step", "step_seconds", "tokens_per_s", "bubble_fraction",
                              "tp_communication_s", "dp_communication_s", "pp_communication_s", "job_seconds", "job_usd", "ranges"})
        j["training"][key] = nullptr;
  } else {
    j["training"] = nullptr;
  }
  j["findings"] = json::array();
  for (const auto& f : c.findings) j["findings"].push_back(finding_json(f));
  return j;
}

} // namespace

json to_json(const Advice& advice) {
  const auto& w = advice.workload;
  json doc;
  doc["schema_version"] = k_schema_version;
  doc["tool"] = {{"name", "gpuadvise"}, {"version", k_version}, {"catalog_date", advice.catalog_date}};
  doc["workload"]["kind"] = to_string(w.kind);
  doc["workload"].update(json{{"model",
                      {{"input", w.model_text},
                       {"origin", origin_name(w.origin)},
                       {"id", w.shape.id},
                       {"name", w.shape.name},
                       {"shape_source", w.shape.source},
                       {"params_total", tidy(w.params_total)},
                       {"params_active", tidy(w.params_active)},
                       {"shape", w.shape.num_layers > 0 ? model_shape_json(w.shape) : json(nullptr)}}},
                     {"precision", to_string(w.precision)},
                     {"kv_precision", w.kv_precision_given ? json(to_string(w.kv_precision)) : json("auto")},
                     {"batch", w.batch_given ? nlohmann::json(w.batch) : nlohmann::json(nullptr)},
                     {"batch_auto", !w.batch_given},
                     {"context_tokens", kind_module(w.kind).has_context ? json(w.context) : json(nullptr)},
                     {"input_tokens", kind_module(w.kind).has_context ? json(w.input_tokens) : json(nullptr)},
                     {"output_tokens", kind_module(w.kind).has_context && w.output_tokens > 0 ? json(w.output_tokens) : json(nullptr)},
                     {"requests", w.requests},
                     {"memory_utilization", w.memory_utilization}});
  if (w.generative) {
    const auto& g = *w.generative;
    json components = json::array();
    for (const auto& c : g.model.components) components.push_back({{"name", c.name}, {"role", c.role}, {"params", c.params}, {"source", c.source}});
    for (const auto& a : g.addons) components.push_back({{"name", a.id}, {"role", "addon"}, {"params", a.params + a.image_encoder_params}, {"source", a.source}});
    doc["workload"]["generation"] = {{"model", g.model.id}, {"components", components}, {"width", g.width}, {"height", g.height}, {"frames", g.frames}, {"steps", g.steps}, {"guidance", g.guidance}, {"items", g.items}};
  }
  if (w.analytics) doc["workload"]["analytics"] = {{"dataset_bytes", w.analytics->dataset_bytes}, {"operations", w.analytics->operations}, {"queries", w.analytics->queries}};
  if (const Assumptions* a = advice.assumptions) {
    json efficiency = json::object();
    for (const auto& [key, r] : a->efficiency)
      efficiency[key] = {{"low", r.low}, {"expected", r.expected}, {"high", r.high}, {"source", r.source}};
    doc["assumptions"] = {{"runtime_overhead_bytes", std::llround(a->runtime_overhead_bytes)},
                          {"max_batched_tokens", a->max_batched_tokens},
                          {"int4_group_size", a->int4_group_size},
                          {"runtime", runtime_for(advice.workload, *a)},
                          {"step_overhead_s", a->runtime(runtime_for(advice.workload, *a)).step_overhead_s},
                          {"layer_overhead_s", a->runtime(runtime_for(advice.workload, *a)).layer_overhead_s},
                          {"efficiency", efficiency}};
  }
  doc["findings"] = json::array();
  for (const auto& f : advice.findings) doc["findings"].push_back(finding_json(f));
  doc["candidates"] = json::array();
  for (const auto& c : advice.candidates) doc["candidates"].push_back(candidate_json(advice, c));
  const auto& rec = advice.recommendation;
  if (rec.pick) {
    const auto& pick = advice.candidates[*rec.pick];
    doc["recommendation"] = {{"gpu", pick.gpu->id},
                             {"count", pick.count},
                             {"plan", pick.plan_text()},
                             {"reason", rec.reason},
                             {"runner_up", rec.runner_up ? json(advice.candidates[*rec.runner_up].gpu->id) : json(nullptr)}};
  } else {
    doc["recommendation"] = nullptr;
  }
  if (const auto answers = traffic_answers(advice)) {
    auto side = [&](std::size_t i) {
      const Candidate& c = advice.candidates[i];
      return json{{"gpu", c.gpu->id},
                  {"count", c.count},
                  {"plan", c.plan_text()},
                  {"batch", c.batch},
                  {"usd_per_hour", round_significant(c.cost.usd_per_hour)},
                  {"output_tokens_per_s", round_significant(c.performance.decode_tokens_per_s.expected)},
                  {"usd_per_million_output_tokens", round_significant(c.cost.usd_per_million_tokens.expected)}};
    };
    const bool same = answers->low == answers->high;
    doc["traffic_answers"] = {
        {"cheapest_per_hour", side(answers->low)},
        {"cheapest_per_million_tokens", side(answers->high)},
        {"crossover_output_tokens_per_s", same ? json(nullptr) : json(round_significant(answers->crossover_tokens_per_s))},
        {"crossover_requests_per_s",
         same ? json(nullptr) : json(round_significant(answers->crossover_tokens_per_s / std::max<std::int64_t>(1, advice.workload.output_tokens)))}};
  }
  return doc;
}

namespace {

struct Palette {
  bool on = false;
  std::string paint(std::string_view text, const char* code) const {
    return on ? fmt::format("\033[{}m{}\033[0m", code, text) : std::string(text);
  }
  std::string good(std::string_view t) const { return paint(t, "32"); }
  std::string bad(std::string_view t) const { return paint(t, "31"); }
  std::string warn(std::string_view t) const { return paint(t, "33"); }
  std::string bold(std::string_view t) const { return paint(t, "1"); }
};

/// A bar of `width` cells, filled in proportion to used / usable ('#' used, '.' free; '!' past usable).
std::string memory_bar(double used, double usable, int width) {
  const double ratio = usable > 0 ? used / usable : 2;
  if (ratio > 1) return std::string(static_cast<std::size_t>(width), '!');
  const int filled = static_cast<int>(std::round(ratio * width));
  return std::string(static_cast<std::size_t>(filled), '#') + std::string(static_cast<std::size_t>(width - filled), '.');
}

std::string status_of(const Candidate& c) {
  if (c.eligible) return "ok";
  for (const auto& f : c.findings) {
    if (f.severity != Severity::error) continue;
    if (f.id == "memory-does-not-fit") return "no-fit";
    if (f.id == "precision-not-native") return "no-" + std::string(to_string(c.precision.requested));
    if (f.id == "tensor-parallel-invalid") return "bad-tp";
    if (f.id == "price-missing") return "no-$";
  }
  return "no";
}

std::string tokens_per_s(double value) {
  return value >= 100 ? fmt::format("{:.0f}", value) : fmt::format("{:.1f}", value);
}

} // namespace

std::string hint_with_remedies(const Finding& f, const std::function<std::string(const Remedy&)>& render) {
  if (f.remedies.empty()) return f.hint;
  std::vector<std::string> ways;
  for (const auto& r : f.remedies)
    ways.push_back(render ? render(r) : fmt::format("{} {}", to_string(r.setting), r.to));
  return fmt::format("{} (try: {})", f.hint, fmt::join(ways, ", or "));
}

std::string item_name(WorkloadKind k) { return std::string(kind_module(k).item); }

/// The model and workload lines for image, video and analytics workloads.
void write_other_header(std::ostream& out, const Workload& w) {
  if (w.kind == WorkloadKind::analytics) {
    const auto& a = *w.analytics;
    out << wrap(fmt::format("Data     {} in GPU memory; each query runs {}; job of {} queries; memory utilization {:.0f}%",
                            format_gb(a.dataset_bytes), fmt::join(a.operations, ", "), a.queries, w.memory_utilization * 100),
                "", "         ");
    return;
  }
  if (!w.generative) {
    // A kind described by its shape alone (embedding): the model line, then the job.
    const auto& s = w.shape;
    out << wrap(fmt::format("Model    {}: {} parameters; {} layers, hidden {}, {} attention heads; at most {} tokens per {}", s.name,
                            format_params(w.params_total), s.num_layers, s.hidden_size, s.num_attention_heads, s.max_context,
                            item_name(w.kind)),
                "", "         ");
    out << wrap(fmt::format("Workload {} weights, batch {} x {} tokens; job of {} {}s ({} tokens); memory utilization {:.0f}%",
                            to_string(w.precision), w.batch_given ? std::to_string(w.batch) : "auto", w.context, w.requests,
                            item_name(w.kind), format_params(static_cast<double>(w.requests) * static_cast<double>(w.context)),
                            w.memory_utilization * 100),
                "", "         ");
    return;
  }
  const auto& g = *w.generative;
  std::vector<std::string> parts;
  for (const auto& c : g.model.components) parts.push_back(fmt::format("{} {}", c.name, format_params(c.params)));
  for (const auto& a : g.addons) parts.push_back(fmt::format("{} {}", a.id, format_params(a.params + a.image_encoder_params)));
  out << wrap(fmt::format("Model    {}: {} parameters ({})", g.model.name, format_params(w.params_total), fmt::join(parts, ", ")),
              "", "         ");
  out << wrap(fmt::format("Workload {} {}x{}{}, {} steps, {}; {} weights, batch {}; job of {} {}s; memory utilization {:.0f}%",
                          w.kind == WorkloadKind::video ? "video" : "image", g.width, g.height,
                          g.frames > 1 ? fmt::format(", {} frames", g.frames) : "", g.steps,
                          g.guidance ? "classifier-free guidance (2 passes per step)" : "no guidance", to_string(w.precision),
                          w.batch_given ? std::to_string(w.batch) : "auto", w.requests, item_name(w.kind),
                          w.memory_utilization * 100),
              "", "         ");
}

void write_text(std::ostream& out, const Advice& advice, const TextOptions& options) {
  const Palette pal{options.color};
  const auto& w = advice.workload;
  const auto& s = w.shape;
  const std::string shape = fmt::format("{} layers, hidden {}, {} attention heads, {} KV heads, head dim {}{}{}",
                                        s.num_layers, s.hidden_size, s.num_attention_heads, s.num_kv_heads, s.head_dim,
                                        s.sliding_window > 0 ? fmt::format(", sliding window {} on {} of {} layers",
                                                                           s.sliding_window, s.sliding_layer_count(),
                                                                           s.num_layers)
                                                             : "",
                                        s.moe ? fmt::format(", {} experts (top-{})", s.moe->num_experts,
                                                            s.moe->experts_per_token)
                                              : "");
  if (w.kind != WorkloadKind::llm) {
    write_other_header(out, w);
  } else if (w.origin == ModelOrigin::bare_size)
    out << wrap(fmt::format("Model    {} parameters; assumed shape of {}: {}", format_params(w.params_total), s.name, shape),
                "", "         ");
  else if (w.kind == WorkloadKind::llm)
    out << wrap(fmt::format("Model    {}: {} parameters ({} active); {}", s.name, format_params(w.params_total),
                            format_params(w.params_active), shape),
                "", "         ");
  if (w.kind != WorkloadKind::llm)
    out << "\n";
  else if (!advice.candidates.empty() && advice.candidates.front().training)
    out << wrap(fmt::format("Training {}, {} tokens per sequence; memory utilization {:.0f}%", to_string(w.precision),
                            w.context, w.memory_utilization * 100),
                "", "         ")
        << "\n";
  else
  out << wrap(fmt::format("Workload {} weights, {} KV cache, batch {} x {} tokens ({} in + {} out); job of {} requests; "
                          "memory utilization {:.0f}%",
                          to_string(w.precision), w.kv_precision_given ? std::string(to_string(w.kv_precision)) : "16-bit",
                          w.batch_given ? std::to_string(w.batch) : "auto (cheapest per GPU)", w.context, w.input_tokens, w.output_tokens, w.requests, w.memory_utilization * 100),
              "", "         ")
      << "\n";

  const bool training = !advice.candidates.empty() && advice.candidates.front().training.has_value();
  out << pal.bold(fmt::format("{:<17} {:<6} {:>4} {:<11} {:<5} {:>7} {:>8} {:>6} {:>8}", "GPU", "status",
                              training ? "gpus" : "bat", "mem/GPU GB", "",
                              training ? "ktok/s" : std::string(kind_module(w.kind).rate_unit), "job time",
                              "$/hr", "job $"))
      << "\n";
  for (const auto& c : advice.candidates) {
    const std::string status = status_of(c);
    const double used = c.memory_needed_bytes();
    const double usable = c.memory_usable_bytes();
    const bool found = !c.training || c.training->found;
    const std::string mem = used > 0 ? fmt::format("{:.1f}/{:.1f}", used / 1e9, usable / 1e9) : "-";
    const bool priced = c.cost.priced;
    const double rate = c.training ? c.training->perf.tokens_per_s.expected / 1e3 : kind_module(w.kind).headline(c.performance);
    const std::string name = c.count > 1 && !training ? fmt::format("{} x{}", c.gpu->id, c.count) : c.gpu->id;
    out << fmt::format("{:<17} {} {:>4} {:<11} {:<5} {:>7} {:>8} {:>6} {:>8}", name,
                       c.eligible ? pal.good(fmt::format("{:<6}", status)) : pal.bad(fmt::format("{:<6}", status)),
                       training ? c.count : c.batch, mem, used > 0 ? memory_bar(used, usable, 5) : "",
                       found && rate > 0 ? tokens_per_s(rate) : "-", c.job_seconds() > 0 ? format_duration(c.job_seconds()) : "-",
                       priced ? format_usd(c.cost.usd_per_hour) : "-", priced ? format_usd(c.job_usd()) : "-")
        << "\n";
  }
  if (training)
    out << wrap("(gpus = GPUs in the plan; ktok/s = training tokens per second in thousands, all GPUs; memory in GB = "
                "10^9 bytes, per GPU)",
                "", " ");
  else if (w.kind != WorkloadKind::llm)
    out << wrap(fmt::format("(bat = {} per pass{}; {} = {}, expected; memory in GB = 10^9 bytes, per GPU)",
                            item_name(w.kind) + "s", w.batch_given ? "" : ", chosen per GPU as the cheapest that fits",
                            kind_module(w.kind).rate_unit,
                            kind_module(w.kind).rate_unit.substr(0, 2) == "s/" ? "seconds per " + item_name(w.kind)
                                                                                : "tokens per second, all GPUs"),
                "", " ");
  else
    out << wrap(fmt::format("(bat = concurrent sequences{}; tok/s = generated tokens per second, all sequences; memory in "
                            "GB = 10^9 bytes, per GPU{})",
                            w.batch_given ? "" : ", chosen per GPU as the cheapest that fits (--batch fixes it)",
                            advice.candidates.empty() || advice.candidates.front().count_chosen || std::any_of(
                                advice.candidates.begin(), advice.candidates.end(), [](const Candidate& c) { return c.count > 1; })
                                ? "; xN = N GPUs in tensor parallel"
                                : ""),
                "", " ");

  for (const auto& f : advice.findings) {
    out << "\n" << wrap(fmt::format("{} [{}] {}", f.severity == Severity::warning ? "warning" : "note", f.id, f.message), "", "  ");
    if (!f.hint.empty()) out << wrap("hint: " + hint_with_remedies(f, options.remedy), "  ", "    ");
  }

  const auto& rec = advice.recommendation;
  if (rec.pick && advice.candidates[*rec.pick].training) {
    const auto& c = advice.candidates[*rec.pick];
    const auto& t = *c.training;
    const auto& m = t.memory;
    out << "\n" << pal.bold(fmt::format("Pick: {}", c.plan_text())) << "\n";
    if (t.setup.stack) {
      out << fmt::format("  stack    {}{}\n", to_string(*t.setup.stack),
                         t.setup.stack_chosen ? " (the default for this task; --stack to change)" : "");
      out << fmt::format("  memory   at the {}: weights {} + gradients {} + optimizer {}\n", m.peak_moment,
                         format_gb(m.weights_bytes), format_gb(m.gradients_bytes), format_gb(m.optimizer_bytes))
          << fmt::format("           + activations {} + logits {} + rebuilt layer {} + in flight {}\n",
                         format_gb(m.activation_bytes), format_gb(m.logits_bytes), format_gb(m.recompute_bytes),
                         format_gb(m.in_flight_bytes))
          << fmt::format("           + step temporaries {} + DDP buckets {} = PyTorch allocated {}\n", format_gb(m.step_bytes),
                         format_gb(m.bucket_bytes), format_gb(m.allocated_bytes))
          << fmt::format("           + allocator reserve {} = reserved {}\n", format_gb(m.reserve_bytes), format_gb(m.reserved_bytes))
          << fmt::format("           + {}runtime {} = {} of {} usable\n",
                         m.managed_bytes > 0 ? fmt::format("paged optimizer in managed memory {} + ", format_gb(m.managed_bytes)) : "",
                         format_gb(m.overhead_bytes), format_gb(m.total_bytes), format_gb(m.usable_bytes));
      out << fmt::format("  fits     micro-batch up to {} at {} tokens; sequence up to {} tokens at micro-batch 1\n",
                         m.largest_micro_batch, t.setup.sequence, m.longest_sequence);
    } else {
      out << fmt::format("  memory   weights {} + gradients {} + optimizer {}\n", format_gb(m.weights_bytes),
                         format_gb(m.gradients_bytes), format_gb(m.optimizer_bytes))
          << fmt::format("           + activations {} + runtime {} = {} of {} usable\n", format_gb(m.activation_bytes),
                         format_gb(m.overhead_bytes), format_gb(m.total_bytes), format_gb(m.usable_bytes));
    }
    if (m.trainable_params > 0)
      out << fmt::format("  train    {} trainable parameters; {} tokens per step; step {}\n",
                         format_params(m.trainable_params), format_params(t.perf.tokens_per_step),
                         format_duration(t.perf.step_s.expected));
    out << fmt::format("  speed    {:.0f} tokens/s (range {:.0f}-{:.0f}); bubble {:.0f}%, comm/step {}\n",
                       t.perf.tokens_per_s.expected, t.perf.tokens_per_s.low, t.perf.tokens_per_s.high,
                       t.perf.bubble_fraction * 100,
                       format_duration(t.perf.tp_communication_s + t.perf.dp_communication_s + t.perf.pp_communication_s));
    out << fmt::format("  job      {} tokens in {} (range {}-{})\n", format_params(t.train_tokens),
                       format_duration(t.hours.expected * 3600), format_duration(t.hours.low * 3600),
                       format_duration(t.hours.high * 3600));
    out << fmt::format("  cost     {}/hr = {}\n", format_usd(c.cost.usd_per_hour), hourly_terms(c))
        << fmt::format("           {} for the job (range {}-{})\n", format_usd(t.job_usd.expected), format_usd(t.job_usd.low),
                       format_usd(t.job_usd.high));
  } else if (rec.pick && w.kind != WorkloadKind::llm) {
    const auto& c = advice.candidates[*rec.pick];
    const auto& m = c.memory;
    const auto& p = c.performance;
    const std::string item = item_name(w.kind);
    out << "\n" << pal.bold(fmt::format("Pick: {}, batch {}{}", c.count > 1 || c.machines ? c.plan_text() : c.gpu->name, c.batch,
                                        c.batch_chosen ? " (chosen)" : ""))
        << "\n";
    out << fmt::format("  memory   {} {} + {} {} + runtime {}\n", w.kind == WorkloadKind::analytics ? "data" : "weights",
                       format_gb(m.weights_bytes), w.kind == WorkloadKind::analytics ? "working set" : w.generative ? "activations/decode" : "activations",
                       format_gb(m.activation_bytes), format_gb(m.overhead_bytes))
        << fmt::format("           = {} of {} usable ({:.0f}% of {})\n", format_gb(m.total_bytes), format_gb(m.usable_bytes),
                       w.memory_utilization * 100, format_gb(m.allocatable_bytes));
    if (kind_module(w.kind).has_context)
      out << fmt::format("  speed    {} tok/s ({:.1f} {}s/s); one batch takes {}\n", tokens_per_s(p.prefill_tokens_per_s.expected),
                         p.items_per_s.expected, item, format_duration(p.time_to_first_token_s.expected));
    out << fmt::format("  time     {} per {} (range {}-{}); job {} for {} {}s\n", format_duration(p.seconds_per_item.expected),
                       item, format_duration(p.seconds_per_item.low), format_duration(p.seconds_per_item.high),
                       format_duration(p.job_s.expected), w.requests, item == "query" ? "querie" : item);
    const double per_unit = kind_module(w.kind).cost_per_items;
    out << fmt::format("  cost     {}/hr = {}\n", format_usd(c.cost.usd_per_hour), hourly_terms(c))
        << fmt::format("           {} for the job; {} per {}{}\n", format_usd(c.cost.job_usd.expected),
                       format_usd(c.cost.usd_per_item.expected * per_unit), per_unit > 1 ? "1,000 " : "", item + (per_unit > 1 ? "s" : ""));
    if (c.cost.usd_per_million_tokens.expected > 0)
      out << fmt::format("           {} per 1M tokens\n", format_usd(c.cost.usd_per_million_tokens.expected));
    if (w.kind == WorkloadKind::analytics && p.decode_bytes_per_step > 0)
      out << fmt::format("           {} per TB scanned\n",
                         format_usd(c.cost.usd_per_item.expected / (p.decode_bytes_per_step / 1e12)));
  } else if (rec.pick) {
    const auto& c = advice.candidates[*rec.pick];
    const auto& m = c.memory;
    const auto& p = c.performance;
    out << "\n"
        << pal.bold(fmt::format("Pick: {}, batch {}{}", c.count > 1 || c.machines ? c.plan_text() : c.gpu->name, c.batch,
                                c.batch_chosen ? " (chosen)" : ""))
        << "\n";
    out << fmt::format("  memory   weights {} + KV cache {} + activations {}\n", format_gb(m.weights_bytes),
                       format_gb(m.kv_cache_bytes), format_gb(m.activation_bytes))
        << fmt::format("           + runtime {} = {} of {} usable ({:.0f}% of {})\n", format_gb(m.overhead_bytes),
                       format_gb(m.total_bytes), format_gb(m.usable_bytes), w.memory_utilization * 100,
                       format_gb(m.allocatable_bytes));
    out << fmt::format("  decode   {} tok/s per sequence (range {}-{}), {} in all; {}-bound\n",
                       tokens_per_s(p.decode_tokens_per_s_per_sequence.expected),
                       tokens_per_s(p.decode_tokens_per_s_per_sequence.low), tokens_per_s(p.decode_tokens_per_s_per_sequence.high),
                       tokens_per_s(p.decode_tokens_per_s.expected), p.decode_compute_bound ? "compute" : "memory");
    out << fmt::format("  prefill  {} tok/s; time to first token {} (range {}-{})\n",
                       tokens_per_s(p.prefill_tokens_per_s.expected), format_duration(p.time_to_first_token_s.expected),
                       format_duration(p.time_to_first_token_s.low), format_duration(p.time_to_first_token_s.high));
    out << fmt::format("  job      {} (range {}-{}): prefill {}, decode {}\n", format_duration(p.job_s.expected),
                       format_duration(p.job_s.low), format_duration(p.job_s.high), format_duration(p.prefill_job_s.expected),
                       format_duration(p.decode_job_s.expected));
    out << fmt::format("  cost     {}/hr = {}\n", format_usd(c.cost.usd_per_hour), hourly_terms(c))
        << fmt::format("           {} for the job (range {}-{}), {} per 1M output tokens\n",
                       format_usd(c.cost.job_usd.expected), format_usd(c.cost.job_usd.low), format_usd(c.cost.job_usd.high),
                       format_usd(c.cost.usd_per_million_tokens.expected));
  }

  // Without a rate: the GPU for low traffic and the one for high traffic, and where the second overtakes.
  if (const auto answers = traffic_answers(advice)) {
    const Candidate& lo = advice.candidates[answers->low];
    const Candidate& hi = advice.candidates[answers->high];
    auto name = [](const Candidate& c) { return c.count > 1 || c.machines ? c.plan_text() : c.gpu->id; };
    out << "\n" << pal.bold("Serving without a traffic rate") << " (serve --rate plans for latency targets)\n";
    if (answers->low == answers->high) {
      out << wrap(fmt::format("low and high traffic: {}, the cheapest per hour that fits ({}/hr) and per 1M output "
                              "tokens ({} at batch {}, {} tok/s)",
                              name(lo), format_usd(lo.cost.usd_per_hour), format_usd(lo.cost.usd_per_million_tokens.expected),
                              lo.batch, tokens_per_s(lo.performance.decode_tokens_per_s.expected)),
                  "  ", "    ");
    } else {
      out << wrap(fmt::format("low traffic:  {}, {}/hr, the cheapest per hour that fits (up to {} output tok/s at batch {})",
                              name(lo), format_usd(lo.cost.usd_per_hour), tokens_per_s(lo.performance.decode_tokens_per_s.expected),
                              lo.batch),
                  "  ", "    ")
          << wrap(fmt::format("high traffic: {}, {} per 1M output tokens at batch {} ({} output tok/s for {}/hr)", name(hi),
                              format_usd(hi.cost.usd_per_million_tokens.expected), hi.batch,
                              tokens_per_s(hi.performance.decode_tokens_per_s.expected), format_usd(hi.cost.usd_per_hour)),
                  "  ", "    ")
          << wrap(fmt::format("from about {} output tok/s ({:.2g} requests/s of {} output tokens), one {} costs less per "
                              "hour than the {} it takes",
                              tokens_per_s(answers->crossover_tokens_per_s),
                              answers->crossover_tokens_per_s / static_cast<double>(std::max<std::int64_t>(1, w.output_tokens)),
                              w.output_tokens, name(hi), name(lo)),
                  "  ", "    ");
    }
  }

  // Candidate findings, grouped: the same rule with the same message is printed once with its GPUs.
  struct Group {
    const Finding* finding;
    std::vector<std::string> gpus;
  };
  std::vector<Group> groups;
  for (const auto& c : advice.candidates)
    for (const auto& f : c.findings) {
      if (f.severity == Severity::info) continue;
      auto same = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
        return g.finding->id == f.id && g.finding->message == f.message && g.finding->hint == f.hint;
      });
      if (same == groups.end()) groups.push_back({&f, {c.gpu->id}});
      else same->gpus.push_back(c.gpu->id);
    }
  if (!groups.empty()) out << "\nFindings\n";
  for (const auto& g : groups) {
    const Finding& f = *g.finding;
    out << wrap(fmt::format("{} [{}] {}: {}", f.severity == Severity::error ? "error" : "warning", f.id,
                            fmt::join(g.gpus, ", "), f.message),
                "  ", "    ");
    if (!f.hint.empty()) out << wrap("hint: " + hint_with_remedies(f, options.remedy), "    ", "      ");
  }

  out << "\n" << wrap((rec.pick ? "Recommendation: " : "No recommendation: ") + rec.reason, "", "  ");
}

} // namespace gpuadvise
