// The workload-kind registry and the helpers every kind's parts share. Adding a kind: one module file
// under src/workloads/ and one row in workload_kinds() below.
#include "../generative_estimate.hpp"
#include "embedding.hpp"

#include <gpuadvise/advisor.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/evaluation.hpp>
#include <gpuadvise/generative.hpp>
#include <gpuadvise/workload.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <cmath>

namespace gpuadvise {
namespace {

MemoryEstimate analytics_memory(const Workload& w, const PrecisionDecision&, const Gpu& gpu, int count, const Assumptions& a) {
  return detail::analytics_memory(w, gpu, count, a);
}
PerfEstimate analytics_performance(const Workload& w, const PrecisionDecision&, const Gpu& gpu, int count, const Assumptions& a) {
  return detail::analytics_performance(w, gpu, count, a);
}
/// Image/video generation and analytics requests, through the generation builder.
Workload build_generation(const WorkloadRequest& r, const ModelCatalog&) {
  GenerativeRequest g;
  g.kind = r.kind;
  g.model = r.model;
  g.precision = r.precision;
  g.batch = r.batch;
  g.items = r.requests;
  g.resolution = r.resolution;
  g.frames = r.frames;
  g.steps = r.steps;
  g.no_guidance = r.no_guidance;
  g.addons = r.addons;
  g.dataset_size = r.dataset_size;
  g.rows = r.rows;
  g.bytes_per_row = r.bytes_per_row;
  g.operations = r.operations;
  g.memory_utilization = r.memory_utilization;
  const WorkloadKind kind = parse_kind_name(r.kind);
  reject_unused_options(r, kind_module(kind).name, {});
  if (kind != WorkloadKind::analytics && r.model.empty())
    throw InputError("missing --model: a generation preset such as sdxl, flux1-dev, wan2.1-14b (see docs/generative.md)");
  if (kind == WorkloadKind::analytics && !r.model.empty())
    throw InputError("--model does not apply to --workload analytics: describe the data with --dataset-size or --rows");
  return build_generative_workload(g);
}

double decode_rate(const PerfEstimate& p) { return p.decode_tokens_per_s.expected; }
double seconds_per_item(const PerfEstimate& p) { return p.seconds_per_item.expected; }

} // namespace

const std::vector<KindModule>& workload_kinds() {
  static const std::vector<KindModule> kinds = {
      {WorkloadKind::llm, "llm", "LLM inference and training (default)", "request", "tok/s", 1, true, build_llm_workload, detail::llm_memory,
       detail::llm_performance, decode_rate, detail::llm_parts},
      {WorkloadKind::diffusion, "diffusion", "image generation (Stable Diffusion, FLUX)", "image", "s/image", 1000, false,
       build_generation, detail::generative_memory, detail::generative_performance, seconds_per_item, detail::generative_parts},
      {WorkloadKind::video, "video", "video generation (Wan, CogVideoX)", "clip", "s/clip", 1, false, build_generation, detail::generative_memory,
       detail::generative_performance, seconds_per_item, detail::generative_parts},
      {WorkloadKind::analytics, "analytics", "GPU dataframe analytics (RAPIDS cuDF)", "query", "s/query", 1, false,
       build_generation, analytics_memory, analytics_performance, seconds_per_item, detail::analytics_parts},
      detail::embedding_module(),
  };
  return kinds;
}

const KindModule& kind_module(WorkloadKind kind) {
  for (const auto& k : workload_kinds())
    if (k.kind == kind) return k;
  throw InternalError("workload kind without a registered module");
}

std::string_view to_string(WorkloadKind k) { return kind_module(k).name; }

WorkloadKind parse_workload_kind(std::string_view text) { return parse_kind_name(text); }

WorkloadKind parse_kind_name(std::string_view text) {
  if (normalize_name(text) == "image") return WorkloadKind::diffusion;
  if (normalize_name(text) == "dataframe") return WorkloadKind::analytics;
  std::vector<std::string> names;
  for (const auto& k : workload_kinds()) {
    if (normalize_name(text) == normalize_name(k.name)) return k.kind;
    names.emplace_back(k.name);
  }
  throw InputError(fmt::format("unknown --workload '{}': expected one of {}", text, fmt::join(names, ", ")));

}

std::string_view to_string(PartGroup g) {
  switch (g) {
  case PartGroup::model: return "model";
  case PartGroup::memory: return "memory";
  case PartGroup::time: return "time";
  case PartGroup::cost: return "cost";
  }
  return "?";
}

std::string explain_gb(double bytes) { return fmt::format("{:.2f} GB", bytes / 1e9); }

std::string explain_num(double v) {
  if (v != 0 && (std::abs(v) >= 1e6 || std::abs(v) < 1e-3)) return fmt::format("{:.4g}", v);
  return v == std::floor(v) ? fmt::format("{:.0f}", v) : fmt::format("{:.4g}", v);
}

std::string catalog_source(const Gpu& gpu, const std::string& field) {
  auto it = gpu.sources.find(field);
  return fmt::format("{} {}: {}", gpu.id, field, it == gpu.sources.end() || it->second.empty() ? "(no source given)" : it->second);
}

Part memory_part(std::string name, std::string formula, std::string substituted, double bytes, std::vector<std::string> sources) {
  Part p;
  p.name = std::move(name);
  p.formula = std::move(formula);
  p.substituted = std::move(substituted);
  p.value = bytes;
  p.unit = "bytes";
  p.sources = std::move(sources);
  p.group = PartGroup::memory;
  p.per = "GPU";
  return p;
}

Part time_part(std::string name, std::string formula, std::string substituted, const Span& value, std::string unit,
               std::string per, std::vector<std::string> sources) {
  Part p;
  p.name = std::move(name);
  p.formula = std::move(formula);
  p.substituted = std::move(substituted);
  p.value = value.expected;
  p.unit = std::move(unit);
  p.sources = std::move(sources);
  p.group = PartGroup::time;
  p.per = std::move(per);
  if (value.low != value.expected || value.high != value.expected) p.range = value;
  return p;
}

void append_memory_totals(std::vector<Part>& t, const Workload& w, const Candidate& c, const Assumptions& a) {
  const double overhead = c.training ? c.training->memory.overhead_bytes : c.memory.overhead_bytes;
  const double total = c.memory_needed_bytes(), usable = c.memory_usable_bytes();
  t.push_back(memory_part("overhead_bytes", "runtime overhead per GPU", explain_gb(overhead), overhead, {a.runtime_overhead_source}));
  auto label = [](const std::string& name) {
    if (name == "kv_cache_bytes") return std::string("KV cache");
    if (name == "activation_bytes") return std::string("activations");
    if (name == "overhead_bytes") return std::string("overhead");
    return name.substr(0, name.size() - 6); // weights, gradients, optimizer
  };
  std::vector<std::string> names, values;
  for (const auto& part : t)
    if (part.group == PartGroup::memory) {
      names.push_back(label(part.name));
      values.push_back(explain_gb(part.value));
    }
  t.push_back(memory_part("total_bytes", fmt::format("{}", fmt::join(names, " + ")),
                          fmt::format("{} = {}", fmt::join(values, " + "), explain_gb(total)), total));
  t.push_back(memory_part("usable_bytes", "memory utilization x allocatable",
                          fmt::format("{} x {} = {}", w.memory_utilization, explain_gb(c.gpu->allocatable_bytes), explain_gb(usable)),
                          usable, {catalog_source(*c.gpu, c.gpu->allocatable_measured ? "memory_allocatable_mib" : "memory_gb")}));
}

void append_cost_parts(std::vector<Part>& t, const Workload& w, const Candidate& c) {
  if (!c.cost.priced) return;
  auto cost = [&](std::string name, std::string formula, std::string substituted, const Span& value, std::string per,
                  std::vector<std::string> sources = {}) {
    Part p = time_part(std::move(name), std::move(formula), std::move(substituted), value, "USD", std::move(per), std::move(sources));
    p.group = PartGroup::cost;
    t.push_back(std::move(p));
  };
  const auto& price = c.cost.price;
  if (c.machines)
    cost("usd_per_hour", "price per instance-hour x instances",
         fmt::format("{} x {} ({}) = {}", format_usd(price.usd_per_hour), c.machines->instances,
                     c.machines->instance.instance_type, format_usd(c.cost.usd_per_hour)),
         {c.cost.usd_per_hour, c.cost.usd_per_hour, c.cost.usd_per_hour}, "hour",
         {fmt::format("{} {} price of {}: {}", price.provider_name, price.tier, price.date, price.source)});
  else
    cost("usd_per_hour", "price per GPU-hour x GPUs",
         fmt::format("{} x {} = {}", format_usd(price.usd_per_hour), c.count, format_usd(c.cost.usd_per_hour)),
         {c.cost.usd_per_hour, c.cost.usd_per_hour, c.cost.usd_per_hour}, "hour",
         {fmt::format("{} {} price of {}: {}", price.provider_name, price.tier, price.date, price.source)});
  t.back().unit = "USD/h";
  cost("job_usd", "job hours x $/hr",
       fmt::format("{:.4f} h x {} = {}", c.job_seconds() / 3600, format_usd(c.cost.usd_per_hour), format_usd(c.cost.job_usd.expected)),
       c.cost.job_usd, "job");
  if (c.performance.job_tokens > 0 && !c.training)
    cost("usd_per_million_tokens", fmt::format("job $ / ({} tokens in the job / 10^6)", w.kind == WorkloadKind::llm ? "generated" : "embedded"),
         fmt::format("{} / ({} / 1e6) = {}", format_usd(c.cost.job_usd.expected), explain_num(c.performance.job_tokens),
                     format_usd(c.cost.usd_per_million_tokens.expected)),
         c.cost.usd_per_million_tokens, "1M tokens");
  else if (c.training && c.training->train_tokens > 0)
    cost("usd_per_million_tokens", "job $ / (training tokens / 10^6)",
         fmt::format("{} / ({} / 1e6) = {}", format_usd(c.cost.job_usd.expected), explain_num(c.training->train_tokens),
                     format_usd(c.cost.usd_per_million_tokens.expected)),
         c.cost.usd_per_million_tokens, "1M training tokens");
  if (c.cost.usd_per_item.expected > 0) {
    const KindModule& k = kind_module(w.kind);
    cost("usd_per_item", fmt::format("seconds per {} x $/hr / 3600", k.item),
         fmt::format("{:.4g} s x {} / 3600 = {}", c.performance.seconds_per_item.expected, format_usd(c.cost.usd_per_hour),
                     format_usd(c.cost.usd_per_item.expected)),
         c.cost.usd_per_item, std::string(k.item));
  }
}

} // namespace gpuadvise
