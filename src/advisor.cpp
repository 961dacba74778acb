#include <gpuadvise/advisor.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/evaluation.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gpuadvise {
namespace {

/// Job costs within this relative distance count as a tie, which the faster candidate wins.
constexpr double k_cost_tie = 0.005;

std::string architecture_name(const std::string& id) {
  if (id == "ada") return "Ada Lovelace";
  std::string name = id;
  if (!name.empty()) name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name;
}

std::string precision_message(const Gpu& gpu, const Workload& w, const PrecisionDecision& p, const Assumptions& a) {
  const double same = weight_bytes(w, p.effective, a.int4_group_size) / 1e9;
  const double fp16 = weight_bytes(w, Precision::fp16, a.int4_group_size) / 1e9;
  std::string need;
  switch (p.requested) {
  case Precision::fp8: need = "FP8 tensor cores need Ada Lovelace (compute capability 8.9), Hopper (9.0) or newer"; break;
  case Precision::bf16: need = "BF16 needs Ampere (compute capability 8.0) or newer"; break;
  case Precision::int4: need = "int4 weight-only kernels need compute capability 7.5 or newer"; break;
  default: need = "the GPU has no tensor cores for it"; break;
  }
  return fmt::format("{} is not native on {} GPUs: {}. Nearest supported: {} ({:.1f} GB of weights); fp16 would "
                     "need {:.1f} GB.",
                     to_string(p.requested), architecture_name(gpu.architecture), need, to_string(p.effective), same, fp16);
}

/// Tensor-parallel sizes near `count` that split the heads evenly (the nearest smaller and larger).
std::vector<Remedy> tp_remedies(const ModelShape& s, int count) {
  std::vector<Remedy> out;
  auto valid = [&](int n) {
    return s.num_attention_heads % n == 0 && (s.num_kv_heads % n == 0 || n % std::max(1, s.num_kv_heads) == 0);
  };
  for (int n = count - 1; n >= 1; --n)
    if (valid(n)) { out.push_back({Setting::count, std::to_string(n)}); break; }
  for (int n = count + 1; n <= 4 * count && n <= 4096; ++n)
    if (valid(n)) { out.push_back({Setting::count, std::to_string(n)}); break; }
  return out;
}

/// Turns a candidate's numbers into findings and decides whether it may be recommended.
void apply_rules(const Workload& w, Candidate& c, const Assumptions& a) {
  const Gpu& gpu = *c.gpu;
  c.eligible = true;
  if (!c.precision.native) {
    c.eligible = false;
    c.findings.push_back({"precision-not-native", Severity::error, precision_message(gpu, w, c.precision, a),
                          fmt::format("run {} on this GPU, or pick an {} GPU", to_string(c.precision.effective),
                                      c.precision.requested == Precision::fp8 ? "Ada/Hopper" : "Ampere or newer"),
                          {{Setting::precision, std::string(to_string(c.precision.effective))}}});
  }
  if (!c.precision.kv_native)
    c.findings.push_back({"kv-precision-not-native", Severity::warning,
                          fmt::format("an {0} KV cache is stored as {0} on {1} GPUs, but without {0} tensor cores the "
                                      "attention kernels convert it in software (slower than on Ada/Hopper)",
                                      to_string(c.precision.kv_requested), architecture_name(gpu.architecture)),
                          "a 16-bit KV cache for speed, or keep fp8 for capacity",
                          {{Setting::kv_precision, "fp16"}}});
  if (c.count > 1 && w.kind == WorkloadKind::llm && !w.shape.mla &&
      (w.shape.num_attention_heads % c.count != 0 || (w.shape.num_kv_heads % c.count != 0 && c.count % w.shape.num_kv_heads != 0))) {
    c.eligible = false;
    c.findings.push_back({"tensor-parallel-invalid", Severity::error,
                          fmt::format("tensor parallel over {} GPUs needs {} attention heads and {} KV heads to split evenly",
                                      c.count, w.shape.num_attention_heads, w.shape.num_kv_heads),
                          "use a GPU count that divides the attention heads (e.g. 2, 4 or 8)", tp_remedies(w.shape, c.count)});
  }
  const auto& m = c.memory;
  if (!m.fits()) {
    c.eligible = false;
    const double kv_share = m.kv_cache_bytes / m.total_bytes;
    // The smallest power-of-two count that would fit, for the hint.
    int enough = 0;
    for (int n = c.count * 2; n <= 64 && enough == 0; n *= 2)
      if (estimate_memory(w, c.precision, gpu, n, a).fits()) enough = n;
    const std::string more = enough > 0 ? fmt::format("{} GPUs fit", enough) : "even 64 GPUs do not fit";
    std::vector<Remedy> remedies;
    if (enough > 0) remedies.push_back({Setting::count, std::to_string(enough)});
    std::string hint = m.weights_bytes + m.overhead_bytes > m.usable_bytes
                           ? fmt::format("the weights alone ({}) exceed the usable memory: {}, or use a smaller weight "
                                         "format",
                                         format_gb(m.weights_bytes), more)
                           : fmt::format("the KV cache is {:.0f}% of the need: lower the batch or the context, use "
                                         "an fp8 KV cache, or {}",
                                         kv_share * 100, more);
    c.findings.push_back({"memory-does-not-fit", Severity::error,
                          fmt::format("needs {} per GPU but {} is usable ({:.0f}% of {} allocatable)",
                                      format_gb(m.total_bytes), format_gb(m.usable_bytes), w.memory_utilization * 100,
                                      format_gb(m.allocatable_bytes)),
                          hint, remedies});
  } else if (m.usable_bytes - m.total_bytes < 0.05 * m.usable_bytes) {
    c.findings.push_back({"memory-low-headroom", Severity::warning,
                          fmt::format("fits with only {} to spare per GPU; a longer prompt or a bigger batch will not fit",
                                      format_gb(m.usable_bytes - m.total_bytes)),
                          "leave at least 5% headroom"});
  }
  if (!c.cost.priced) {
    c.eligible = false;
    c.findings.push_back({"price-missing", Severity::error,
                          fmt::format("no on-demand price for {} in the catalog", gpu.name),
                          "add a price (a catalog \"prices\" entry or a price override) or pick another provider"});
  }
  if (c.count > 1 && c.eligible)
    c.findings.push_back({"tensor-parallel-assumed", Severity::info,
                          fmt::format("{} x {} run as one tensor-parallel group: weights, KV cache and activations split "
                                      "evenly, all-reduces cost time over {}",
                                      c.count, gpu.name, gpu.has_nvlink ? "NVLink" : "PCIe"),
                          ""});
}

std::vector<Finding> workload_findings(const Workload& w) {
  std::vector<Finding> out;
  if (w.kind == WorkloadKind::llm && w.origin == ModelOrigin::bare_size) {
    const auto& s = w.shape;
    out.push_back({"model-shape-assumed", Severity::info,
                   fmt::format("a bare size has no architecture: assumed the shape of {} ({} layers, hidden {}, {} attention "
                               "heads, {} KV heads, head dim {}), which sets the KV cache and attention cost",
                               s.name, s.num_layers, s.hidden_size, s.num_attention_heads, s.num_kv_heads, s.head_dim),
                   "name the model for its real shape", {{Setting::model, s.id}}});
  }
  if (w.origin == ModelOrigin::config_file) {
    out.push_back({"model-config-read", Severity::info,
                   fmt::format("shape read from {}: {} parameters ({} active) computed from the shape{}", w.config_path,
                               format_params(w.params_total), format_params(w.params_active),
                               w.config_quant_method.empty()
                                   ? std::string()
                                   : fmt::format("; quantization_config '{}' sets --precision {} unless given",
                                                 w.config_quant_method, to_string(w.precision))),
                   ""});
    for (const auto& note : w.model_notes)
      out.push_back({"model-config-default-assumed", Severity::info, note, "give the field in the config to be sure"});
    if (w.params_vision > 0)
      out.push_back({"model-vision-tower", Severity::info,
                     fmt::format("vision tower and projector: {} parameters, held in memory with the language model and "
                                 "not counted in the per-token (active) parameters",
                                 format_params(w.params_vision)),
                     ""});
    if (w.stored_weight_bytes)
      out.push_back({"model-weight-bytes", Severity::info,
                     fmt::format("weights: {:.2f} GB exactly as stored ({}, {}); used when the run keeps that format, "
                                 "else the shape's parameter count x the format's bytes per weight",
                                 *w.stored_weight_bytes / 1e9, w.weight_bytes_source, to_string(w.stored_precision)),
                     ""});
    if (!w.config_unused_fields.empty())
      out.push_back({"model-config-fields-unused", Severity::info,
                     fmt::format("fields of {} not used by the estimate: {}", w.config_path,
                                 fmt::join(w.config_unused_fields, ", ")),
                     "check that none of them changes the model's size or attention"});
  }
  if (w.origin != ModelOrigin::bare_size && w.shape.max_context > 0 && w.context > w.shape.max_context)
    out.push_back({"context-exceeds-model", Severity::warning,
                   fmt::format("a context of {} tokens is longer than {}'s maximum of {} tokens", w.context, w.shape.name,
                               w.shape.max_context),
                   fmt::format("a context of {} tokens or less", w.shape.max_context),
                   {{Setting::context, std::to_string(w.shape.max_context)}}});
  return out;
}

std::string reason_for(const Workload& w, const Candidate& pick, const Candidate* runner_up) {
  const std::string what = pick.count > 1 ? pick.plan_text() : pick.gpu->name;
  const double used = pick.memory_needed_bytes();
  const double usable = pick.memory_usable_bytes();
  const std::string job = pick.training ? fmt::format("{} training tokens", format_params(pick.training->train_tokens))
                        : kind_module(w.kind).item == "query" ? fmt::format("{} queries", w.requests)
                                                              : fmt::format("{} {}s", w.requests, kind_module(w.kind).item);
  std::string reason = fmt::format(
      "{} is the cheapest for this job among GPUs that fit and run {} natively: {} for {} in {} ({}/hr), using {} of {} "
      "per GPU",
      what, to_string(w.precision), format_usd(pick.job_usd()),
      job,
      format_duration(pick.job_seconds()), format_usd(pick.cost.usd_per_hour), format_gb(used), format_gb(usable));
  if (runner_up)
    reason += fmt::format("; runner-up {} costs {} ({})", runner_up->count > 1 ? runner_up->plan_text() : runner_up->gpu->name,
                          format_usd(runner_up->job_usd()), format_duration(runner_up->job_seconds()));
  return reason + ".";
}

} // namespace

std::string_view to_string(Setting s) {
  switch (s) {
  case Setting::model: return "model";
  case Setting::precision: return "precision";
  case Setting::kv_precision: return "kv_precision";
  case Setting::count: return "count";
  case Setting::context: return "context";
  case Setting::batch: return "batch";
  case Setting::task: return "task";
  case Setting::zero_stage: return "zero_stage";
  case Setting::recompute: return "recompute";
  }
  return "?";
}

std::string_view to_string(Severity s) {
  switch (s) {
  case Severity::info: return "info";
  case Severity::warning: return "warning";
  case Severity::error: return "error";
  }
  return "?";
}

namespace {

Candidate evaluate_at(const Workload& workload, const Gpu& gpu, int count, const Assumptions& assumptions,
                      std::string_view provider) {
  Candidate c;
  c.gpu = &gpu;
  c.count = count;
  c.kind = workload.kind;
  c.batch = workload.batch;
  c.precision = decide_precision(workload, gpu);
  c.memory = estimate_memory(workload, c.precision, gpu, count, assumptions);
  c.performance = estimate_performance(workload, c.precision, gpu, count, assumptions);
  c.cost = estimate_cost(workload, c.performance, gpu, count, provider);
  return c;
}

} // namespace

Candidate evaluate(const Workload& workload, const Gpu& gpu, int count, const Assumptions& assumptions,
                   std::string_view provider) {
  Candidate c = evaluate_at(workload, gpu, count, assumptions, provider);
  if (!workload.batch_given && c.memory.fits()) {
    // A server batches the job's requests: try 2, 4, ... (and the request count) and keep the cheapest that fits.
    Workload w = workload;
    const std::int64_t limit = std::min<std::int64_t>(k_max_auto_batch, workload.requests);
    for (std::int64_t b = 2; b <= limit; b = b * 2 > limit && b < limit ? limit : b * 2) {
      w.batch = b;
      Candidate next = evaluate_at(w, gpu, count, assumptions, provider);
      // Keep 5% headroom (the low-headroom rule): a chosen batch should not leave the GPU on the edge.
      if (next.memory.total_bytes > 0.95 * next.memory.usable_bytes) break;
      const double cost_now = c.cost.priced ? c.cost.job_usd.expected : c.performance.job_s.expected;
      const double cost_next = next.cost.priced ? next.cost.job_usd.expected : next.performance.job_s.expected;
      if (cost_next < cost_now) c = next;
    }
    c.batch_chosen = true;
  }
  apply_rules(workload, c, assumptions);
  return c;
}

std::string Candidate::plan_text() const {
  // The tensor-parallel group decides which link its all-reduces cross.
  const std::string link = intra_node_link(*gpu, training ? training->plan.tp : count).nvlink ? "NVLink" : "PCIe";
  if (training) {
    const auto& p = training->plan;
    std::vector<std::string> parts;
    if (p.tp > 1) parts.push_back(fmt::format("TP={}", p.tp));
    if (p.pp > 1) parts.push_back(fmt::format("PP={}", p.pp));
    if (p.dp > 1) parts.push_back(fmt::format("DP={}", p.dp));
    return fmt::format("{} x {}{}{}", p.gpus(), gpu->id, parts.empty() ? "" : ", " + fmt::format("{}", fmt::join(parts, " ")),
                       p.gpus() > 1 ? fmt::format(" over {}{}", link, training->perf.dp_crosses_nodes ? " + node network" : "")
                                    : "");
  }
  if (count > 1 && kind == WorkloadKind::analytics) return fmt::format("{} x {}, data split across GPUs (Dask-cuDF)", count, gpu->id);
  if (count > 1 && kind != WorkloadKind::llm) return fmt::format("{} x {}, work split across GPUs", count, gpu->id);
  return count > 1 ? fmt::format("{} x {}, TP={} over {}", count, gpu->id, count, link) : fmt::format("1 x {}", gpu->id);
}

double Candidate::job_usd() const {
  if (!cost.priced) return INFINITY;
  return training ? training->job_usd.expected : cost.job_usd.expected;
}

double Candidate::job_seconds() const { return training ? training->hours.expected * 3600 : performance.job_s.expected; }

namespace {

/// Findings for --max-hours and --budget; returns false when a limit is broken.
bool apply_limits(Candidate& c, const AdviseOptions& o) {
  bool ok = true;
  const double hours = c.job_seconds() / 3600;
  if (o.max_hours && hours > *o.max_hours) {
    ok = false;
    c.findings.push_back({"limit-max-hours", Severity::error,
                          fmt::format("the job takes {} on {}, over the limit of {:.2f} h", format_duration(c.job_seconds()),
                                      c.plan_text(), *o.max_hours),
                          "allow more GPUs (let the advisor choose the count) or a faster GPU"});
  }
  if (o.budget_usd && c.job_usd() > *o.budget_usd) {
    ok = false;
    c.findings.push_back({"limit-budget", Severity::error,
                          fmt::format("the job costs {} on {}, over the budget of {}", format_usd(c.job_usd()), c.plan_text(),
                                      format_usd(*o.budget_usd)),
                          "a cheaper GPU or provider, or a smaller job"});
  }
  if (!ok) c.eligible = false;
  return ok;
}

/// The smallest power-of-two count (up to o.max_gpus) whose candidate is eligible and meets the limits;
/// the count-1 candidate when none is.
Candidate search_inference_count(const Workload& w, const Gpu& gpu, const Assumptions& a, const AdviseOptions& o) {
  Candidate first = evaluate(w, gpu, 1, a, o.provider);
  if (first.eligible && apply_limits(first, o)) return first;
  // Only memory and limits are worth more GPUs: precision or price problems stay.
  for (const auto& f : first.findings)
    if (f.id == "precision-not-native" || f.id == "price-missing") return first;
  for (int n = 2; n <= std::min(o.max_gpus, 64); n *= 2) {
    Candidate c = evaluate(w, gpu, n, a, o.provider);
    if (!c.memory.fits()) continue;
    c.count_chosen = true;
    if (c.eligible && apply_limits(c, o)) return c;
  }
  return first;
}

} // namespace

Candidate evaluate_training(const Workload& w, const Gpu& gpu, const Assumptions& a, const AdviseOptions& o, int count) {
  Candidate c;
  c.gpu = &gpu;
  c.precision = decide_precision(w, gpu);
  c.count_chosen = count == 0;
  const TrainingSetup& setup = *o.training;
  std::optional<PlanResult> best;
  std::optional<PlanResult> closest; // the plan that needs the least memory per GPU, for a candidate that fits nowhere
  auto consider = [&](int n) {
    std::optional<PlanResult> fit;
    for (auto& plan : search_plans(w, setup, gpu, a, o.cluster, n)) {
      if (!fit && plan.fits()) fit = plan;
      if (!closest || plan.memory.total_bytes < closest->memory.total_bytes) closest = plan;
    }
    return fit;
  };
  const Price* price = gpu.price(o.provider);
  auto hours_of = [&](const PlanResult& p) { return o.train_tokens / p.perf.tokens_per_s.expected / 3600; };
  auto meets = [&](const PlanResult& p) {
    const double hours = hours_of(p);
    return (!o.max_hours || hours <= *o.max_hours) &&
           (!o.budget_usd || !price || hours * price->usd_per_hour * p.plan.gpus() <= *o.budget_usd);
  };
  if (count > 0) {
    best = consider(count);
  } else {
    std::optional<PlanResult> first_fit;
    for (int n = 1; n <= o.max_gpus && !best; n *= 2)
      if (auto p = consider(n)) {
        if (!first_fit) first_fit = p;
        if (meets(*p)) best = p;
      }
    if (!best) best = first_fit;
  }
  if (!best) {
    c.count = count > 0 ? count : 1;
    c.eligible = false;
    std::string need;
    if (closest) {
      TrainingCandidate miss;
      miss.setup = setup;
      miss.found = false;
      miss.plan = closest->plan;
      miss.memory = closest->memory;
      miss.perf = closest->perf;
      c.count = closest->plan.gpus();
      c.training = miss;
      const auto& m = closest->memory;
      need = fmt::format(": the plan needing the least, {} x {} (TP {} x PP {} x DP {}), needs {} per GPU but {} is usable, "
                         "{} short",
                         closest->plan.gpus(), gpu.id, closest->plan.tp, closest->plan.pp, closest->plan.dp,
                         format_gb(m.total_bytes), format_gb(m.usable_bytes), format_gb(m.total_bytes - m.usable_bytes));
    }
    c.findings.push_back({"memory-does-not-fit", Severity::error,
                          (count > 0 ? fmt::format("no valid {} plan fits {} x {}", to_string(setup.task), count, gpu.id)
                                     : fmt::format("no plan of up to {} x {} fits", o.max_gpus, gpu.id)) + need,
                          "train adapters (LoRA or QLoRA), shard with ZeRO-3, recompute activations, or shorten the "
                          "micro-batch or the sequence",
                          {{Setting::task, "lora"}, {Setting::zero_stage, "3"}, {Setting::recompute, "full"}}});
    return c;
  }
  c.count = best->plan.gpus();
  TrainingCandidate t;
  t.setup = setup;
  t.plan = best->plan;
  t.memory = best->memory;
  t.perf = best->perf;
  t.train_tokens = o.train_tokens;
  t.hours = {o.train_tokens / t.perf.tokens_per_s.high / 3600, o.train_tokens / t.perf.tokens_per_s.expected / 3600,
             o.train_tokens / t.perf.tokens_per_s.low / 3600};
  if (price) {
    c.cost.priced = true;
    c.cost.price = *price;
    c.cost.usd_per_hour = price->usd_per_hour * c.count;
    t.job_usd = {t.hours.low * c.cost.usd_per_hour, t.hours.expected * c.cost.usd_per_hour, t.hours.high * c.cost.usd_per_hour};
    c.cost.job_usd = t.job_usd;
    c.cost.usd_per_million_tokens = {t.job_usd.low / (o.train_tokens / 1e6), t.job_usd.expected / (o.train_tokens / 1e6),
                                     t.job_usd.high / (o.train_tokens / 1e6)};
  }
  c.training = t;
  c.eligible = true;
  if (!c.precision.native) {
    c.eligible = false;
    c.findings.push_back({"precision-not-native", Severity::error,
                          fmt::format("{} training is not native on {}", to_string(w.precision), gpu.name),
                          "train in fp16 on this GPU", {{Setting::precision, "fp16"}}});
  }
  if (!price) {
    c.eligible = false;
    c.findings.push_back({"price-missing", Severity::error, fmt::format("no on-demand price for {} in the catalog", gpu.name),
                          "add a price (a catalog \"prices\" entry or a price override)"});
  }
  if (t.memory.offloaded_bytes > 0)
    c.findings.push_back({"optimizer-offloaded", Severity::info,
                          fmt::format("{} of optimizer state per GPU lives in CPU memory", format_gb(t.memory.offloaded_bytes)),
                          ""});
  if (t.perf.dp_crosses_nodes)
    c.findings.push_back({"plan-crosses-nodes", Severity::info,
                          fmt::format("the plan spans {} nodes of {} GPUs: gradient sync runs over the node network",
                                      (c.count + o.cluster.gpus_per_node - 1) / o.cluster.gpus_per_node, o.cluster.gpus_per_node),
                          ""});
  if (c.eligible) apply_limits(c, o);
  return c;
}

Advice advise(const Workload& workload, const GpuCatalog& catalog, const Assumptions& assumptions,
              const AdviseOptions& options) {
  if (options.count < 1 || options.count > 4096)
    throw InputError(fmt::format("invalid --count {}: must be between 1 and 4096", options.count));
  std::vector<const Gpu*> gpus;
  if (options.gpus.empty()) {
    for (const auto& gpu : catalog.gpus()) gpus.push_back(&gpu);
  } else {
    for (const auto& name : options.gpus) {
      const Gpu* gpu = &catalog.find(name);
      if (std::find(gpus.begin(), gpus.end(), gpu) == gpus.end()) gpus.push_back(gpu);
    }
  }
  catalog.require_provider(options.provider);

  Advice advice;
  advice.workload = workload;
  advice.catalog_date = catalog.catalog_date();
  advice.assumptions = &assumptions;
  advice.findings = workload_findings(workload);
  for (const Gpu* gpu : gpus) {
    if (options.training) {
      advice.candidates.push_back(
          evaluate_training(workload, *gpu, assumptions, options, options.count_given ? options.count : 0));
    } else if (!options.count_given) {
      advice.candidates.push_back(search_inference_count(workload, *gpu, assumptions, options));
    } else {
      Candidate c = evaluate(workload, *gpu, options.count, assumptions, options.provider);
      if (c.eligible) apply_limits(c, options);
      advice.candidates.push_back(std::move(c));
    }
  }

  // Eligible first, by job cost then time; then the rest, fitting ones before the others.
  auto job_cost = [](const Candidate& c) { return c.job_usd(); };
  auto fits = [](const Candidate& c) { return c.fits(); };
  std::stable_sort(advice.candidates.begin(), advice.candidates.end(), [&](const Candidate& a, const Candidate& b) {
    if (a.eligible != b.eligible) return a.eligible;
    if (fits(a) != fits(b)) return fits(a);
    if (job_cost(a) != job_cost(b)) return job_cost(a) < job_cost(b);
    return a.job_seconds() < b.job_seconds();
  });
  // Near-ties in cost go to the faster candidate (one pass, so the order stays well defined).
  for (std::size_t i = 0; i + 1 < advice.candidates.size(); ++i) {
    auto& a = advice.candidates[i];
    auto& b = advice.candidates[i + 1];
    if (a.eligible && b.eligible && job_cost(b) - job_cost(a) <= k_cost_tie * job_cost(b) &&
        b.job_seconds() < a.job_seconds())
      std::swap(a, b);
  }
  auto& rec = advice.recommendation;
  if (!advice.candidates.empty() && advice.candidates[0].eligible) {
    rec.pick = 0;
    if (advice.candidates.size() > 1 && advice.candidates[1].eligible) rec.runner_up = 1;
    rec.reason = reason_for(workload, advice.candidates[0], rec.runner_up ? &advice.candidates[1] : nullptr);
  } else {
    rec.reason = advice.candidates.empty() ? "no candidate GPUs"
                                           : "no candidate fits and runs the requested precision natively; see the "
                                             "findings of each GPU";
  }
  return advice;
}

} // namespace gpuadvise
