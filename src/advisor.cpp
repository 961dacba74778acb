#include <gpuadvise/advisor.hpp>
#include <gpuadvise/engine_memory.hpp>
#include <gpuadvise/traffic_answers.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/evaluation.hpp>
#include <gpuadvise/instances.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gpuadvise {
namespace {

/// True when the stored weight bytes are a llama.cpp label's mix over the shape (--precision Q5_K_M),
/// not bytes read from files (build_llm_workload names the mix "llama.cpp <label> mix ...").
bool weight_bytes_from_label_mix(const Workload& w) { return w.weight_bytes_source.rfind("llama.cpp ", 0) == 0; }


/// Job costs within this relative distance count as a tie, which the faster candidate wins.
constexpr double k_cost_tie = 0.005;

std::string architecture_name(const std::string& id) {
  if (id == "ada") return "Ada Lovelace";
  if (id == "cdna3") return "AMD CDNA 3";
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
  case Precision::nvfp4:
  case Precision::mxfp4:
    need = "FP4 tensor cores (NVFP4/MXFP4) need Blackwell (compute capability 10.0) or newer";
    break;
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
                          fmt::format("run {} on this GPU, or pick {} GPU", to_string(c.precision.effective),
                                      c.precision.requested == Precision::fp8 ? "an Ada/Hopper"
                                      : is_fp4(c.precision.requested)         ? "a Blackwell"
                                                                              : "an Ampere or newer"),
                          {{Setting::precision, std::string(to_string(c.precision.effective))}}});
  }
  if (!c.precision.kv_native)
    c.findings.push_back({"kv-precision-not-native", Severity::warning,
                          fmt::format("an {0} KV cache is stored as {0} on {1} GPUs, but without {0} tensor cores the "
                                      "attention kernels convert it in software (slower than on Ada/Hopper)",
                                      to_string(c.precision.kv_requested), architecture_name(gpu.architecture)),
                          "a 16-bit KV cache for speed, or keep fp8 for capacity",
                          {{Setting::kv_precision, "fp16"}}});
  if (c.tp > 1 && w.kind == WorkloadKind::llm && !w.shape.mla &&
      (w.shape.num_attention_heads % c.tp != 0 || (w.shape.num_kv_heads % c.tp != 0 && c.tp % w.shape.num_kv_heads != 0))) {
    c.eligible = false;
    c.findings.push_back({"tensor-parallel-invalid", Severity::error,
                          fmt::format("tensor parallel over {} GPUs needs {} attention heads and {} KV heads to split evenly",
                                      c.tp, w.shape.num_attention_heads, w.shape.num_kv_heads),
                          "use a GPU count that divides the attention heads (e.g. 2, 4 or 8)", tp_remedies(w.shape, c.tp)});
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
    if (m.total_bytes <= m.usable_bytes && m.engine) {
      // The sum fits, but vLLM's own start-up accounting leaves too little KV cache for the batch.
      const auto& e = *m.engine;
      const std::int64_t batch_held = static_cast<std::int64_t>(std::floor(e.max_concurrency));
      if (batch_held >= 1 && batch_held < w.batch) remedies.insert(remedies.begin(), {Setting::batch, std::to_string(batch_held)});
      const std::string kv = fmt::format("vLLM's start-up accounting leaves {:.2f} GiB of KV cache per GPU: {} tokens, "
                                         "maximum concurrency {:.2f} at {} tokens per request",
                                         std::max(0.0, e.kv_budget_bytes) / (1024.0 * 1024 * 1024), e.kv_tokens,
                                         e.max_concurrency, e.max_model_len);
      c.findings.push_back({"memory-does-not-fit", Severity::error,
                            e.failure.empty()
                                ? fmt::format("{}; batch {} x {} tokens needs {}", kv, w.batch, e.max_model_len, e.needed_tokens)
                                : fmt::format("vLLM would not start: {}", e.failure),
                            fmt::format("{}lower the context, use an fp8 KV cache, or {}",
                                        batch_held >= 1 && batch_held < w.batch ? fmt::format("run batch {}, ", batch_held) : "",
                                        more),
                            remedies});
    } else {
      c.findings.push_back({"memory-does-not-fit", Severity::error,
                            fmt::format("needs {} per GPU but {} is usable ({:.0f}% of {} allocatable)",
                                        format_gb(m.total_bytes), format_gb(m.usable_bytes), w.memory_utilization * 100,
                                        format_gb(m.allocatable_bytes)),
                            hint, remedies});
    }
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
  if (c.count > 1 && c.eligible && c.pp == 1)
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
    if (w.stored_weight_bytes && !weight_bytes_from_label_mix(w))
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
  if (w.stored_weight_bytes && weight_bytes_from_label_mix(w))
    out.push_back({"model-weight-bytes", Severity::info,
                   fmt::format("weights: {:.2f} GB as {}; used while the run keeps {}", *w.stored_weight_bytes / 1e9,
                               w.weight_bytes_source, to_string(w.stored_precision)),
                   ""});
  if (w.origin != ModelOrigin::bare_size && w.shape.max_context > 0 && w.context > w.shape.max_context)
    out.push_back({"context-exceeds-model", Severity::warning,
                   fmt::format("a context of {} tokens is longer than {}'s maximum of {} tokens", w.context, w.shape.name,
                               w.shape.max_context),
                   fmt::format("a context of {} tokens or less", w.shape.max_context),
                   {{Setting::context, std::to_string(w.shape.max_context)}}});
  return out;
}

std::string reason_for(const Workload& w, const Candidate& pick, const Candidate* runner_up) {
  const std::string what = pick.count > 1 || pick.machines ? pick.plan_text() : pick.gpu->name;
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
    reason += fmt::format("; runner-up {} costs {} ({})", runner_up->count > 1 || runner_up->machines ? runner_up->plan_text() : runner_up->gpu->name,
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

/// `tp` GPUs in a tensor-parallel group, repeated over `pp` pipeline stages. Pipeline stages hold 1/pp of the
/// layers: weights and KV cache per GPU divide by pp, activations (one layer's working set) do not. A token
/// passes the stages one after another, so one decode step takes the tensor-parallel group's time over the
/// whole model (docs/formulas.md, "Pipeline parallel across nodes"); the hops between nodes are reported
/// in a finding, not added.
Candidate evaluate_at(const Workload& workload, const Gpu& gpu, int tp, int pp, const Assumptions& assumptions,
                      std::string_view provider) {
  Candidate c;
  c.gpu = &gpu;
  c.tp = tp;
  c.pp = pp;
  c.count = tp * pp;
  c.kind = workload.kind;
  c.batch = workload.batch;
  c.precision = decide_precision(workload, gpu);
  c.memory = estimate_memory(workload, c.precision, gpu, tp, assumptions);
  if (pp > 1) {
    c.memory.weights_bytes /= pp;
    c.memory.kv_cache_bytes /= pp;
    c.memory.total_bytes =
        c.memory.weights_bytes + c.memory.kv_cache_bytes + c.memory.activation_bytes + c.memory.overhead_bytes;
    if (c.memory.engine) c.memory.engine = engine_kv_check(workload, c.precision, gpu, tp, pp);
  }
  c.performance = estimate_performance(workload, c.precision, gpu, tp, assumptions);
  c.cost = estimate_cost(workload, c.performance, gpu, c.count, provider);
  return c;
}

Candidate evaluate_split(const Workload& workload, const Gpu& gpu, int tp, int pp, const Assumptions& assumptions,
                         std::string_view provider, bool rules = true) {
  const int count = tp;
  Candidate c = evaluate_at(workload, gpu, count, pp, assumptions, provider);
  if (!workload.batch_given && c.memory.fits()) {
    // A server batches the job's requests: try 2, 4, ... (and the request count) and keep the cheapest that fits.
    Workload w = workload;
    const std::int64_t limit = std::min<std::int64_t>(k_max_auto_batch, workload.requests);
    for (std::int64_t b = 2; b <= limit; b = b * 2 > limit && b < limit ? limit : b * 2) {
      w.batch = b;
      Candidate next = evaluate_at(w, gpu, count, pp, assumptions, provider);
      // Keep 5% headroom (the low-headroom rule): a chosen batch should not leave the GPU on the edge.
      if (next.memory.total_bytes > 0.95 * next.memory.usable_bytes) break;
      const double cost_now = c.cost.priced ? c.cost.job_usd.expected : c.performance.job_s.expected;
      const double cost_next = next.cost.priced ? next.cost.job_usd.expected : next.performance.job_s.expected;
      if (cost_next < cost_now) c = next;
    }
  }
  // Without --batch the advisor chose it: the cheapest that fits, or 1 when none does.
  c.batch_chosen = !workload.batch_given;
  if (rules) apply_rules(workload, c, assumptions);
  return c;
}

} // namespace

Candidate evaluate(const Workload& workload, const Gpu& gpu, int count, const Assumptions& assumptions,
                   std::string_view provider) {
  return evaluate_split(workload, gpu, count, 1, assumptions, provider);
}

std::string Candidate::plan_text() const {
  // The tensor-parallel group decides which link its all-reduces cross.
  const std::string link = intra_node_link(*gpu, training ? training->plan.tp : count).nvlink ? "NVLink" : "PCIe";
  std::string rented;
  if (machines)
    rented = fmt::format(" ({} x {}{})", machines->instances, machines->instance.instance_type,
                         machines->rounded_up ? fmt::format(", {} GPUs rented", machines->gpus) : "");
  if (training) {
    const auto& p = training->plan;
    std::vector<std::string> parts;
    if (p.tp > 1) parts.push_back(fmt::format("TP={}", p.tp));
    if (p.pp > 1) parts.push_back(fmt::format("PP={}", p.pp));
    if (p.dp > 1) parts.push_back(fmt::format("DP={}", p.dp));
    return fmt::format("{} x {}{}{}", p.gpus(), gpu->id, parts.empty() ? "" : ", " + fmt::format("{}", fmt::join(parts, " ")),
                       p.gpus() > 1 ? fmt::format(" over {}{}", link, training->perf.dp_crosses_nodes ? " + node network" : "")
                                    : "") +
           rented;
  }
  if (count > 1 && kind == WorkloadKind::analytics)
    return fmt::format("{} x {}, data split across GPUs (Dask-cuDF){}", count, gpu->id, rented);
  if (count > 1 && kind != WorkloadKind::llm) return fmt::format("{} x {}, work split across GPUs{}", count, gpu->id, rented);
  if (pp > 1) {
    const std::string tp_link = tp > 1 ? (intra_node_link(*gpu, tp).nvlink ? "NVLink" : "PCIe") : "";
    return fmt::format("{} x {}, TP={} PP={} over {}node network{}", count, gpu->id, tp, pp,
                       tp_link.empty() ? "" : tp_link + " + ", rented);
  }
  return count > 1 ? fmt::format("{} x {}, TP={} over {}{}", count, gpu->id, count, link, rented)
                   : fmt::format("1 x {}{}", gpu->id, rented);
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

Span scaled_span(const Span& s, double f) { return {s.low * f, s.expected * f, s.high * f}; }

/// The display name a provider's prices carry in the GPU catalog ("AWS"), else its slug.
std::string provider_display_name(const Gpu& gpu, std::string_view provider) {
  for (const auto& p : gpu.prices)
    if (normalize_name(p.provider) == normalize_name(provider) && !p.provider_name.empty()) return p.provider_name;
  return std::string(provider);
}

/// The price of one instance of `plan` as a catalog Price (per instance-hour), with the row's date and source.
/// A --price override for the GPU wins over the row, as over every catalog price: the instance's GPUs at that rate.
Price instance_price(const Gpu& gpu, const MachinePlan& plan) {
  const Instance& in = plan.instance;
  for (const auto& p : gpu.prices)
    if (p.tier == "override") {
      Price price = p;
      price.usd_per_hour = p.usd_per_hour * in.gpu_count;
      price.source = fmt::format("{} x {} GPUs of {} ({})", format_usd(p.usd_per_hour), in.gpu_count, in.instance_type, p.source);
      return price;
    }
  Price price;
  price.provider = in.provider;
  price.provider_name = provider_display_name(gpu, in.provider);
  price.tier = plan.spot ? "spot" : "on-demand";
  price.usd_per_hour = plan.spot ? *in.spot_usd_per_hour : in.usd_per_hour;
  price.date = in.price_date;
  price.source = fmt::format("instance {} ({} x {}), {}: {}", in.instance_type, in.gpu_count, gpu.id, in.region, in.source);
  return price;
}

/// The finding that says which instances a plan rents, at what price, and when the count was rounded up.
void machine_finding(const Workload& w, Candidate& c, const MachinePlan& plan, const AdviseOptions& o);

/// Rents the candidate's GPUs as instances of the provider and prices them; a finding says which and why.
void rent_machines(const Workload& w, Candidate& c, const MachinePlan& plan, const AdviseOptions& o) {
  c.machines = plan;
  c.cost.priced = true;
  c.cost.price = instance_price(*c.gpu, plan);
  c.cost.usd_per_hour = plan.instances * c.cost.price.usd_per_hour;
  c.cost.job_usd = scaled_span(c.performance.job_s, c.cost.usd_per_hour / 3600.0);
  if (c.performance.seconds_per_item.expected > 0)
    c.cost.usd_per_item = scaled_span(c.performance.seconds_per_item, c.cost.usd_per_hour / 3600.0);
  if (c.performance.job_tokens > 0) c.cost.usd_per_million_tokens = scaled_span(c.cost.job_usd, 1e6 / c.performance.job_tokens);
  machine_finding(w, c, plan, o);
}

void machine_finding(const Workload& w, Candidate& c, const MachinePlan& plan, const AdviseOptions& o) {
  const Instance& in = plan.instance;
  const Price price = instance_price(*c.gpu, plan);
  std::vector<int> sizes;
  std::vector<std::string> names;
  for (const Instance* shape : o.instances->shapes(c.gpu->id, o.provider, o.region)) {
    if (std::find(sizes.begin(), sizes.end(), shape->gpu_count) == sizes.end()) sizes.push_back(shape->gpu_count);
    names.push_back(shape->instance_type);
  }
  std::sort(sizes.begin(), sizes.end());
  std::string host;
  if (in.vcpus > 0 && in.memory_gib > 0) host = fmt::format(", {:g} vCPUs, {:g} GiB", in.vcpus, in.memory_gib);
  std::string message = fmt::format("{} x {} ({} x {}{}, GPUs joined by {}) in {} at {}/hr {} each, {} for the plan "
                                    "(price of {})",
                                    plan.instances, in.instance_type, in.gpu_count, c.gpu->name, host, in.interconnect,
                                    in.region, format_usd(price.usd_per_hour), price.tier, format_usd(plan.instances * price.usd_per_hour),
                                    in.price_date);
  std::vector<Remedy> remedies;
  std::string hint;
  if (plan.rounded_up) {
    std::string counts = std::to_string(sizes.back());
    if (sizes.size() > 1)
      counts = fmt::format("{} or {}", fmt::join(sizes.begin(), sizes.end() - 1, ", "), sizes.back());
    message = fmt::format("{} sells {} in instances of {} GPUs ({}): {} GPUs round up to {}", price.provider_name, c.gpu->name,
                          counts, fmt::join(names, ", "), c.count, message);
    if (plan.instances == 1 && c.pp == 1 && w.kind == WorkloadKind::llm && !c.training) {
      hint = fmt::format("{} of the {} GPUs rented sit idle: a count of {} costs the same", plan.gpus - c.count, plan.gpus,
                         plan.gpus);
      remedies.push_back({Setting::count, std::to_string(plan.gpus)});
    } else {
      hint = fmt::format("{} of the {} GPUs rented sit idle", plan.gpus - c.count, plan.gpus);
    }
  }
  // Paying for idle GPUs deserves a warning; renting exactly what the plan uses is information.
  c.findings.push_back({plan.rounded_up ? "machine-rounded-up" : "machine-instances",
                        plan.rounded_up ? Severity::warning : Severity::info, message, hint, remedies});
}

/// The pipeline finding: why the plan spans nodes and what each token's trip between them costs.
void pipeline_finding(const Workload& w, Candidate& c, const AdviseOptions& o, int node) {
  double network = o.cluster.node_network_bytes_per_s;
  std::string network_source = fmt::format("{:g} Gbit/s assumed (--node-network)", network * 8 / 1e9);
  if (c.machines && c.machines->instance.network_gbps > 0) {
    network = c.machines->instance.network_gbps * 1e9 / 8;
    network_source = fmt::format("{:g} Gbit/s of {}", c.machines->instance.network_gbps, c.machines->instance.instance_type);
  }
  // Each hop sends one hidden-state vector per sequence: batch x hidden x activation bytes, plus ~10 us latency.
  const double bytes = static_cast<double>(c.batch) * w.shape.hidden_size * activation_bytes_per_element(c.precision.effective);
  const double hop_s = 10e-6 + bytes / network;
  c.findings.push_back({"pipeline-parallel-assumed", Severity::info,
                        fmt::format("{} x {} do not fit one node of {}: tensor parallel over {} GPUs inside each node, {} "
                                    "pipeline stages across nodes over the node network ({}); each decode step crosses {} "
                                    "node boundaries, about {:.0f} us each (batch x hidden x {} B / network + 10 us), "
                                    "not included in the step time",
                                    c.count, c.gpu->name, node, c.tp, c.pp, network_source, c.pp - 1, hop_s * 1e6,
                                    activation_bytes_per_element(c.precision.effective)),
                        ""});
}

/// The smallest power-of-two count (up to o.max_gpus) whose candidate is eligible and meets the limits;
/// the count-1 candidate when none is.
Candidate search_inference_count(const Workload& w, const Gpu& gpu, const Assumptions& a, const AdviseOptions& o) {
  Candidate first = evaluate_plan(w, gpu, 1, 1, a, o);
  // One GPU that only comes in a bigger instance: the instance's GPUs in tensor parallel cost the same.
  if (first.machines && first.machines->rounded_up && first.machines->instances == 1 && w.kind == WorkloadKind::llm) {
    const int rented = first.machines->gpus;
    if ((rented & (rented - 1)) == 0 && rented <= node_gpus(gpu, o) && rented <= std::min(o.max_gpus, 64)) {
      Candidate all = evaluate_plan(w, gpu, rented, 1, a, o);
      if (all.eligible) {
        all.count_chosen = true;
        if (apply_limits(all, o)) return all;
      }
    }
  }
  if (first.eligible && apply_limits(first, o)) return first;
  // Only memory and limits are worth more GPUs: precision or price problems stay.
  for (const auto& f : first.findings)
    if (f.id == "precision-not-native" || f.id == "price-missing") return first;
  const int limit = std::min(o.max_gpus, 64);
  // Only LLMs split a model with tensor parallelism: other kinds split the work and need no node limit.
  const int node = w.kind == WorkloadKind::llm ? node_gpus(gpu, o) : limit;
  int tp_max = 1;
  while (tp_max * 2 <= node) tp_max *= 2;
  std::vector<std::pair<int, int>> splits;  // (tp, pp) in order of GPU count
  for (int tp = 2; tp <= std::min(tp_max, limit); tp *= 2) splits.emplace_back(tp, 1);
  for (int pp = 2; tp_max * pp <= limit; ++pp) splits.emplace_back(tp_max, pp);
  for (auto [tp, pp] : splits) {
    // A machine that rounds the group up holds more GPUs for the same price: use them all.
    if (pp == 1 && o.instances && !o.provider.empty()) {
      const auto plan = plan_machines(*o.instances, gpu.id, tp, tp, o.provider, o.region, o.spot);
      if (plan && plan->instances == 1 && plan->rounded_up && (plan->gpus & (plan->gpus - 1)) == 0 && plan->gpus <= node)
        continue; // the larger power of two comes next in this list
    }
    Candidate c = evaluate_plan(w, gpu, tp, pp, a, o);
    if (!c.memory.fits()) continue;
    c.count_chosen = true;
    if (c.eligible && apply_limits(c, o)) return c;
  }
  return first;
}

} // namespace

int node_gpus(const Gpu& gpu, const AdviseOptions& o) {
  if (o.instances) {
    if (!o.provider.empty())
      if (const int n = largest_shape(*o.instances, gpu.id, o.provider, o.region); n > 0) return n;
    if (const int n = largest_shape(*o.instances, gpu.id); n > 0) return n;
  }
  return std::max(1, o.cluster.gpus_per_node);
}

Candidate evaluate_plan(const Workload& workload, const Gpu& gpu, int tp, int pp, const Assumptions& assumptions,
                        const AdviseOptions& o) {
  Candidate c = evaluate_split(workload, gpu, tp, pp, assumptions, o.provider, false);
  if (o.instances && !o.provider.empty() && !o.instances->shapes(gpu.id, o.provider, o.region).empty()) {
    const int group = workload.kind == WorkloadKind::llm ? tp : 1;
    if (const auto plan = plan_machines(*o.instances, gpu.id, c.count, group, o.provider, o.region, o.spot)) {
      rent_machines(workload, c, *plan, o);
    } else {
      c.cost = CostEstimate{};
      c.findings.push_back({"machine-missing", Severity::error,
                            fmt::format("{} has no {}instance of {} that holds a tensor-parallel group of {}{}", o.provider,
                                        o.spot ? "spot-priced " : "", gpu.name, group,
                                        o.region.empty() ? "" : fmt::format(" in {}", o.region)),
                            o.spot ? "drop spot pricing or pick another provider" : "fewer GPUs per group, or another provider"});
    }
  } else if (o.spot || !o.region.empty()) {
    // Spot prices and regions live on instance rows; a GPU without them has neither.
    c.cost = CostEstimate{};
    c.findings.push_back({"machine-missing", Severity::error,
                          fmt::format("no {}instance of {} from {}{} in the instance catalog", o.spot ? "spot-priced " : "",
                                      gpu.name, o.provider, o.region.empty() ? "" : " in " + o.region),
                          "drop spot pricing or the region, or pick another provider"});
  }
  apply_rules(workload, c, assumptions);
  if (pp > 1) pipeline_finding(workload, c, o, node_gpus(gpu, o));
  return c;
}

Candidate evaluate_training(const Workload& w, const Gpu& gpu, const Assumptions& a, const AdviseOptions& o, int count) {
  Candidate c;
  c.gpu = &gpu;
  c.precision = decide_precision(w, gpu);
  c.count_chosen = count == 0;
  const TrainingSetup& setup = *o.training;
  // With the provider's instance shapes a plan rents whole instances: a node is the provider's largest shape of
  // this GPU (so tensor parallelism stays inside one), and the plan pays for every GPU of the instances it rents.
  const bool rented = o.instances && !o.provider.empty() && !o.instances->shapes(gpu.id, o.provider, o.region).empty();
  Cluster cluster = o.cluster;
  if (rented) cluster.gpus_per_node = largest_shape(*o.instances, gpu.id, o.provider, o.region);
  std::optional<PlanResult> best;
  std::optional<PlanResult> closest; // the plan that needs the least memory per GPU, for a candidate that fits nowhere
  auto consider = [&](int n) {
    std::optional<PlanResult> fit;
    for (auto& plan : search_plans(w, setup, gpu, a, cluster, n)) {
      if (!fit && plan.fits()) fit = plan;
      if (!closest || plan.memory.total_bytes < closest->memory.total_bytes) closest = plan;
    }
    return fit;
  };
  const Price* price = rented ? nullptr : gpu.price(o.provider);
  auto machines_for = [&](const PlanResult& p) -> std::optional<MachinePlan> {
    if (!rented) return std::nullopt;
    return plan_machines(*o.instances, gpu.id, p.plan.gpus(), p.plan.tp, o.provider, o.region, o.spot);
  };
  // USD per hour of a plan: its instances' price, else GPUs x the per-GPU price; nullopt when unpriced.
  auto usd_per_hour = [&](const PlanResult& p) -> std::optional<double> {
    if (rented) {
      if (const auto m = machines_for(p)) return m->instances * instance_price(gpu, *m).usd_per_hour;
      return std::nullopt;
    }
    if (price) return price->usd_per_hour * p.plan.gpus();
    return std::nullopt;
  };
  auto hours_of = [&](const PlanResult& p) { return o.train_tokens / p.perf.tokens_per_s.expected / 3600; };
  auto meets = [&](const PlanResult& p) {
    const double hours = hours_of(p);
    const auto hourly = usd_per_hour(p);
    return (!o.max_hours || hours <= *o.max_hours) && (!o.budget_usd || !hourly || hours * *hourly <= *o.budget_usd);
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
  const std::optional<MachinePlan> machines = machines_for(*best);
  if (machines) {
    c.machines = machines;
    c.cost.price = instance_price(gpu, *machines);
  } else if (price) {
    c.cost.price = *price;
  }
  if (const auto hourly = usd_per_hour(*best)) {
    c.cost.priced = true;
    c.cost.usd_per_hour = *hourly;
    t.job_usd = {t.hours.low * c.cost.usd_per_hour, t.hours.expected * c.cost.usd_per_hour, t.hours.high * c.cost.usd_per_hour};
    c.cost.job_usd = t.job_usd;
    c.cost.usd_per_million_tokens = {t.job_usd.low / (o.train_tokens / 1e6), t.job_usd.expected / (o.train_tokens / 1e6),
                                     t.job_usd.high / (o.train_tokens / 1e6)};
  }
  c.training = t;
  c.eligible = true;
  if (machines) machine_finding(w, c, *machines, o);
  if (rented && !machines) {
    c.eligible = false;
    c.findings.push_back({"machine-missing", Severity::error,
                          fmt::format("{} has no {}instance of {} that holds a tensor-parallel group of {}{}", o.provider,
                                      o.spot ? "spot-priced " : "", gpu.name, t.plan.tp,
                                      o.region.empty() ? "" : fmt::format(" in {}", o.region)),
                          o.spot ? "drop spot pricing or pick another provider" : "fewer GPUs per group, or another provider"});
  }
  if (!rented && (o.spot || !o.region.empty())) {
    // Spot prices and regions live on instance rows; a GPU without them has neither.
    c.cost = CostEstimate{};
    c.eligible = false;
    c.findings.push_back({"machine-missing", Severity::error,
                          fmt::format("no {}instance of {} from {}{} in the instance catalog", o.spot ? "spot-priced " : "",
                                      gpu.name, o.provider, o.region.empty() ? "" : " in " + o.region),
                          "drop spot pricing or the region, or pick another provider"});
  }
  if (!c.precision.native) {
    c.eligible = false;
    c.findings.push_back({"precision-not-native", Severity::error,
                          fmt::format("{} training is not native on {}", to_string(w.precision), gpu.name),
                          "train in fp16 on this GPU", {{Setting::precision, "fp16"}}});
  }
  if (!rented && !price && !o.spot && o.region.empty()) {
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
                                      (c.count + cluster.gpus_per_node - 1) / cluster.gpus_per_node, cluster.gpus_per_node),
                          ""});
  if (c.eligible) apply_limits(c, o);
  return c;
}

void require_pricing(const GpuCatalog& catalog, const AdviseOptions& options) {
  if ((options.spot || !options.region.empty()) && options.provider.empty())
    throw InputError(options.spot ? "--spot needs --provider: spot prices are per provider and instance"
                                  : "--region needs --provider: region names are per provider");
  if (options.instances && !options.provider.empty() && options.instances->has_provider(options.provider)) {
    options.instances->require_region(options.provider, options.region);
  } else {
    catalog.require_provider(options.provider);
    if (!options.region.empty())
      throw InputError(fmt::format("invalid --region '{}': the instance catalog has no rows for provider '{}'",
                                   options.region, options.provider));
  }
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
  require_pricing(catalog, options);

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
      // A given count beyond one node keeps each tensor-parallel group inside a node and adds pipeline stages.
      const int node = workload.kind == WorkloadKind::llm ? node_gpus(*gpu, options) : options.count;
      const int tp = std::min(options.count, node);
      const int pp = (options.count + tp - 1) / tp;
      Candidate c = evaluate_plan(workload, *gpu, tp, pp, assumptions, options);
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

std::optional<TrafficAnswers> traffic_answers(const Advice& advice) {
  const Workload& w = advice.workload;
  if (w.kind != WorkloadKind::llm || w.batch_given) return std::nullopt;
  std::optional<std::size_t> low, high;
  for (std::size_t i = 0; i < advice.candidates.size(); ++i) {
    const Candidate& c = advice.candidates[i];
    if (!c.eligible || c.training || !c.cost.priced || !(c.performance.decode_tokens_per_s.expected > 0)) continue;
    const auto& l = low ? advice.candidates[*low] : c;
    if (!low || c.cost.usd_per_hour < l.cost.usd_per_hour ||
        (c.cost.usd_per_hour == l.cost.usd_per_hour &&
         c.performance.decode_tokens_per_s.expected > l.performance.decode_tokens_per_s.expected))
      low = i;
    if (!high || c.cost.usd_per_million_tokens.expected < advice.candidates[*high].cost.usd_per_million_tokens.expected)
      high = i;
  }
  if (!low) return std::nullopt;
  TrafficAnswers a{*low, *high, 0};
  const Candidate& l = advice.candidates[a.low];
  const Candidate& h = advice.candidates[a.high];
  // A free low-traffic GPU (a --price of 0) is cheapest at every rate: one answer.
  if (!(l.cost.usd_per_hour > 0)) a.high = a.low;
  if (a.low != a.high)
    a.crossover_tokens_per_s = h.cost.usd_per_hour / l.cost.usd_per_hour * l.performance.decode_tokens_per_s.expected;
  return a;
}

} // namespace gpuadvise
