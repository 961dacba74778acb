#include "generative_estimate.hpp"

#include <gpuadvise/advisor.hpp>
#include <gpuadvise/evaluation.hpp>
#include "json_fields.hpp"

#include <gpuadvise/embedded.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/generative.hpp>
#include <gpuadvise/units.hpp>

#include <algorithm>
#include <cmath>

namespace gpuadvise {
namespace {

using detail::Fields;

GenerativeModel read_model(const nlohmann::json& entry, const std::string& where) {
  const Fields f(entry, where);
  GenerativeModel m;
  m.id = f.string("id");
  m.name = f.string("name");
  m.kind = f.string("kind");
  if (m.kind != "diffusion" && m.kind != "video") f.fail("kind", "must be diffusion or video");
  if (const auto* aliases = f.array("aliases"))
    for (const auto& a : *aliases)
      if (a.is_string()) m.aliases.push_back(a.get<std::string>());
  const auto* components = f.array("components");
  if (!components) f.fail("components", "missing");
  for (std::size_t i = 0; i < components->size(); ++i) {
    const Fields c((*components)[i], fmt::format("{}: components[{}]", where, i));
    GenerativeComponent comp;
    comp.name = c.string("name");
    comp.role = c.string("role");
    // A component whose size no source gives (some VAEs) counts as 100M parameters, and says so.
    const auto& params = (*components)[i].value("params", nlohmann::json());
    if (params.is_object() && params.value("value", nlohmann::json()).is_number()) {
      comp.params = c.sourced("params", &comp.source, 0, 1e13);
    } else {
      comp.params = 1e8;
      comp.source = "size not published: 100M assumed";
    }
    m.components.push_back(comp);
  }
  if (const auto* latent = f.object("latent")) {
    const Fields l(*latent, where + ": latent");
    m.latent_downsample = static_cast<int>(l.integer("downsample", 1, 64));
    m.latent_channels = static_cast<int>(l.integer("channels", 1, 1024));
    m.temporal_downsample = static_cast<int>(l.integer_or("temporal_downsample", 1, 1, 64));
  }
  if (const auto* t = f.object("transformer")) {
    const Fields tr(*t, where + ": transformer");
    m.transformer = true;
    m.hidden = static_cast<int>(tr.integer("hidden", 1, 1'000'000));
    m.layers = static_cast<int>(tr.integer("layers", 1, 10'000));
    m.patch = static_cast<int>(tr.integer_or("patch", 1, 1, 64));
    m.heads = static_cast<int>(tr.integer_or("heads", 1, 1, 10'000));
    m.head_dim = static_cast<int>(tr.integer_or("head_dim", m.hidden / std::max(1, m.heads), 1, 100'000));
    m.ffn = static_cast<int>(tr.integer_or("ffn", 4LL * m.hidden, 1, 10'000'000));
    m.text_tokens = static_cast<int>(tr.integer_or("text_tokens", 77, 0, 1'000'000));
  }
  m.default_steps = static_cast<int>(f.integer_or("default_steps", 30, 1, 10'000));
  m.default_resolution = static_cast<int>(f.integer_or("default_resolution", 1024, 64, 16'384));
  m.default_frames = static_cast<int>(f.integer_or("default_frames", 1, 1, 10'000));
  m.guidance = f.boolean_or("default_guidance", true);
  m.source = f.string_or("source", "");
  return m;
}

std::vector<std::string> names(const GenerativeModel& m) {
  std::vector<std::string> out = {normalize_name(m.id), normalize_name(m.name)};
  for (const auto& a : m.aliases) out.push_back(normalize_name(a));
  return out;
}

double component_params(const GenerativeModel& m, std::string_view role) {
  double total = 0;
  for (const auto& c : m.components)
    if (c.role == role) total += c.params;
  return total;
}

/// Denoiser tokens (or latent positions for a UNet) per pass for one item.
double latent_positions(const GenerativeSpec& g) {
  const double h = static_cast<double>(g.height) / g.model.latent_downsample;
  const double w = static_cast<double>(g.width) / g.model.latent_downsample;
  const double frames = g.frames > 1 ? 1 + std::floor((g.frames - 1) / static_cast<double>(g.model.temporal_downsample)) : 1;
  return h * w * frames;
}

double denoiser_tokens(const GenerativeSpec& g) {
  const double patch = g.model.transformer ? static_cast<double>(g.model.patch) * g.model.patch : 1.0;
  return latent_positions(g) / patch;
}

/// FLOPs of one denoiser pass over one item: transformers 2 x params x tokens + attention
/// 4 x layers x hidden x tokens^2; UNets 2 x params x latent positions x the effective fraction.
double denoiser_flops(const GenerativeSpec& g, const Assumptions& a) {
  const double params = component_params(g.model, "denoiser");
  if (g.model.transformer) {
    const double tokens = denoiser_tokens(g) + g.model.text_tokens;
    return 2.0 * params * tokens + 4.0 * g.model.layers * g.model.hidden * tokens * tokens;
  }
  return 2.0 * params * latent_positions(g) * a.constant("unet_effective_positions");
}

double addon_params(const GenerativeSpec& g) {
  double total = 0;
  for (const auto& addon : g.addons) total += addon.params + addon.image_encoder_params;
  return total;
}

/// Sequences the denoiser runs per step: the batch, twice with classifier-free guidance.
double passes_per_step(const Workload& w) {
  return static_cast<double>(w.batch) * (w.generative->guidance ? 2.0 : 1.0);
}

Span rate_span(double amount, const Span& t) { return {amount / t.high, amount / t.expected, amount / t.low}; }

} // namespace

void check_analytics_operation(std::string_view op) {
  static const char* known[] = {"scan", "filter", "groupby", "join", "sort"};
  if (std::find(std::begin(known), std::end(known), normalize_name(op)) == std::end(known))
    throw InputError(fmt::format("unknown --ops entry '{}': expected scan, filter, groupby, join or sort", op));
}

GenerativeCatalog GenerativeCatalog::from_json(std::string_view text, std::string_view origin) {
  const auto doc = detail::parse_json(text, origin);
  const Fields top(doc, std::string(origin));
  GenerativeCatalog c;
  const auto* models = top.array("models");
  if (!models) top.fail("models", "missing");
  for (std::size_t i = 0; i < models->size(); ++i)
    c.m_models.push_back(read_model((*models)[i], fmt::format("{}: models[{}]", origin, i)));
  if (const auto* addons = top.array("addons"))
    for (std::size_t i = 0; i < addons->size(); ++i) {
      const Fields f((*addons)[i], fmt::format("{}: addons[{}]", origin, i));
      GenerativeAddon a;
      a.id = f.string("id");
      a.name = f.string("name");
      if (const auto* list = f.array("for"))
        for (const auto& m : *list)
          if (m.is_string()) a.for_models.push_back(m.get<std::string>());
      a.params = f.sourced("params", &a.source, 0, 1e12);
      if (f.has("image_encoder_params")) a.image_encoder_params = f.sourced("image_encoder_params", nullptr, 0, 1e12);
      c.m_addons.push_back(a);
    }
  return c;
}

const GenerativeCatalog& GenerativeCatalog::embedded() {
  static const GenerativeCatalog catalog = from_json(embedded_generative_json(), "data/generative.json (embedded)");
  return catalog;
}

const GenerativeModel& GenerativeCatalog::find(std::string_view name) const {
  const std::string wanted = normalize_name(name);
  for (const auto& m : m_models)
    for (const auto& n : names(m))
      if (n == wanted) return m;
  std::vector<std::pair<std::size_t, std::string>> ranked;
  for (const auto& m : m_models) ranked.emplace_back(edit_distance(wanted, normalize_name(m.id)), m.id);
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> close;
  for (std::size_t i = 0; i < ranked.size() && i < 3; ++i) close.push_back(ranked[i].second);
  throw InputError(fmt::format("unknown generation model '{}': did you mean {}?", name, fmt::join(close, ", ")));
}

const GenerativeAddon& GenerativeCatalog::find_addon(std::string_view name, const GenerativeModel& for_model) const {
  const std::string wanted = normalize_name(name);
  for (const auto& a : m_addons) {
    const bool fits_model = std::find(a.for_models.begin(), a.for_models.end(), for_model.id) != a.for_models.end();
    if (fits_model && (normalize_name(a.id) == wanted || normalize_name(a.id).rfind(wanted, 0) == 0)) return a;
  }
  throw InputError(fmt::format("no add-on '{}' for {} (known: controlnet, ip-adapter for sd15 and sdxl)", name, for_model.id));
}

namespace detail {

MemoryEstimate generative_memory(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count,
                                 const Assumptions& a) {
  const GenerativeSpec& g = *w.generative;
  MemoryEstimate m;
  const double n = count;
  // Denoiser (and add-ons) in the requested format; text encoders, image encoder and VAE in 16-bit.
  const double denoiser = (component_params(g.model, "denoiser") + addon_params(g)) *
                          weight_bytes_per_param(p.effective, a.int4_group_size);
  const double others = (component_params(g.model, "text_encoder") + component_params(g.model, "vae")) *
                        (p.effective == Precision::fp32 ? 4 : 2);
  // Several GPUs split the work of a generation (sequence/data parallel, e.g. xDiT, Wan's USP) but
  // each holds the whole pipeline.
  m.weights_bytes = denoiser + others;
  const double passes = passes_per_step(w);
  // Activations: a transformer holds one layer's working set (FlashAttention: no tokens^2 scores);
  // a UNet its skip connections across levels.
  const double act_bytes = activation_bytes_per_element(p.effective);
  const double per_item = g.model.transformer
                              ? (denoiser_tokens(g) + g.model.text_tokens) * (6.0 * g.model.hidden + g.model.ffn) * act_bytes
                              : latent_positions(g) * a.constant("unet_activation_channels") * act_bytes;
  // VAE decode peak (not concurrent with the denoiser): pixels x frames decoded at once.
  const double frames_at_once = g.frames > 1 ? std::min<double>(g.frames, a.constant("video_decode_frames")) : 1;
  const double decode = static_cast<double>(g.width) * g.height * frames_at_once * a.constant("vae_decode_bytes_per_pixel") *
                        static_cast<double>(w.batch);
  m.activation_bytes = std::max(per_item * passes, decode) / n;
  m.kv_cache_bytes = 0;
  m.overhead_bytes = a.runtime_overhead_bytes;
  m.total_bytes = m.weights_bytes + m.activation_bytes + m.overhead_bytes;
  m.allocatable_bytes = gpu.allocatable_bytes;
  m.usable_bytes = w.memory_utilization * gpu.allocatable_bytes;
  return m;
}

PerfEstimate generative_performance(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count,
                                    const Assumptions& a) {
  const GenerativeSpec& g = *w.generative;
  PerfEstimate r;
  const Precision compute = compute_format(p.effective);
  const double peak = gpu.peak_flops(compute) * count;
  const Range& eta = a.fraction("compute", gpu.architecture, p.effective);
  const double tokens = denoiser_tokens(g) * static_cast<double>(w.batch);
  const double fill = tokens / (tokens + a.gemm_half_tokens);
  // ControlNet runs a copy of the UNet encoder beside the denoiser: its FLOPs scale with its size.
  const double denoiser_params = component_params(g.model, "denoiser");
  double addon_share = 0;
  for (const auto& addon : g.addons) addon_share += addon.params / std::max(1.0, denoiser_params);
  const double step_flops = passes_per_step(w) * denoiser_flops(g, a) * (1 + addon_share);
  const double decode_flops = static_cast<double>(g.width) * g.height / 1e6 * a.constant("vae_decode_tflops_per_megapixel") *
                              1e12 * g.frames * static_cast<double>(w.batch);
  const double flops = step_flops * g.steps + decode_flops;
  r.prefill_flops_per_token = step_flops; // FLOPs of one denoising step, all passes
  // Fixed cost per denoising step (kernel launches, scheduler), half in the fast case and double in the slow.
  const double overhead = g.steps * a.constant("diffusion_step_overhead_ms") / 1e3;
  auto time_at = [&](double fraction) { return flops / (peak * fraction * fill); };
  const Span batch_s{time_at(eta.high) + overhead / 2, time_at(eta.expected) + overhead, time_at(eta.low) + overhead * 2};
  const double batch = static_cast<double>(w.batch);
  r.seconds_per_item = {batch_s.low / batch, batch_s.expected / batch, batch_s.high / batch};
  r.items_per_s = rate_span(batch, batch_s);
  const double waves = std::ceil(static_cast<double>(g.items) / batch);
  r.job_s = {batch_s.low * waves, batch_s.expected * waves, batch_s.high * waves};
  r.prefill_job_s = {0, 0, 0};
  r.decode_job_s = r.job_s;
  r.time_to_first_token_s = batch_s;
  r.decode_compute_bound = true;
  return r;
}

MemoryEstimate analytics_memory(const Workload& w, const Gpu& gpu, int count, const Assumptions& a) {
  const AnalyticsSpec& s = *w.analytics;
  double factor = 1;
  for (const auto& op : s.operations) {
    const std::string name = normalize_name(op) == "filter" ? "scan" : normalize_name(op);
    factor = std::max(factor, a.constant("analytics_working_set_" + name));
  }
  MemoryEstimate m;
  m.weights_bytes = s.dataset_bytes / count;                          // the data itself
  m.activation_bytes = s.dataset_bytes * (factor - 1) / count;        // the operations' working set
  m.overhead_bytes = a.runtime_overhead_bytes;
  m.total_bytes = m.weights_bytes + m.activation_bytes + m.overhead_bytes;
  m.allocatable_bytes = gpu.allocatable_bytes;
  m.usable_bytes = w.memory_utilization * gpu.allocatable_bytes;
  return m;
}

PerfEstimate analytics_performance(const Workload& w, const Gpu& gpu, int count, const Assumptions& a) {
  const AnalyticsSpec& s = *w.analytics;
  double passes = 0;
  for (const auto& op : s.operations) {
    const std::string name = normalize_name(op) == "filter" ? "scan" : normalize_name(op);
    passes += a.constant("analytics_passes_" + name);
  }
  const double bytes = s.dataset_bytes * passes;
  const double eta = a.constant("analytics_bandwidth_fraction");
  // Bandwidth-bound: the range spans 0.7x to 1.4x the expected fraction (kernels, string columns, skew).
  auto t = [&](double f) { return bytes / (gpu.bandwidth_bytes_per_s * count * std::min(1.0, eta * f)); };
  PerfEstimate r;
  const Span query{t(1.4), t(1.0), t(0.7)};
  r.seconds_per_item = query;
  r.items_per_s = rate_span(1, query);
  r.job_s = {query.low * s.queries, query.expected * s.queries, query.high * s.queries};
  r.decode_job_s = r.job_s;
  r.decode_bytes_per_step = bytes;
  return r;
}


namespace {

std::string constant_source(const Assumptions& a, const std::string& name) {
  auto it = a.constants.find(name);
  return fmt::format("{}: {}", name, it == a.constants.end() ? "(missing)" : it->second.source);
}

} // namespace

std::vector<Part> generative_parts(const Workload& w, const Candidate& c, const Assumptions& a) {
  const GenerativeSpec& g = *w.generative;
  const auto& m = c.memory;
  const auto& perf = c.performance;
  const Precision p = c.precision.effective;
  const int n = c.count;
  const std::string item = w.kind == WorkloadKind::video ? "clip" : "image";
  std::vector<Part> t;
  std::vector<std::string> components;
  for (const auto& comp : g.model.components) components.push_back(fmt::format("{} {}", comp.name, explain_num(comp.params)));
  for (const auto& addon : g.addons) components.push_back(fmt::format("{} {}", addon.id, explain_num(addon.params + addon.image_encoder_params)));
  t.push_back({"params_total", "sum of the pipeline's components", fmt::format("{} = {}", fmt::join(components, " + "), explain_num(w.params_total)),
               w.params_total, "parameters", {fmt::format("{} ({})", g.model.name, g.model.source)}, PartGroup::model, "", {}});
  const double denoiser = component_params(g.model, "denoiser") + addon_params(g);
  const double others = component_params(g.model, "text_encoder") + component_params(g.model, "vae");
  const double other_bytes = p == Precision::fp32 ? 4 : 2;
  t.push_back(memory_part("weights_bytes", "denoiser (+ add-ons) x bytes/param + (text encoders + VAE) x 16-bit bytes",
                          fmt::format("{} x {} B + {} x {} B = {}", explain_num(denoiser),
                                      explain_num(weight_bytes_per_param(p, a.int4_group_size)), explain_num(others),
                                      explain_num(other_bytes), explain_gb(m.weights_bytes)),
                          m.weights_bytes, {fmt::format("{} format: docs/formulas.md section 2b", to_string(p))}));
  const double passes = passes_per_step(w);
  const double act_bytes = activation_bytes_per_element(p);
  const double frames_at_once = g.frames > 1 ? std::min<double>(g.frames, a.constant("video_decode_frames")) : 1;
  const std::string denoise = g.model.transformer
      ? fmt::format("({} tokens + {} text tokens) x (6 x {} + {}) x {} B x {} passes", explain_num(denoiser_tokens(g)),
                    g.model.text_tokens, g.model.hidden, g.model.ffn, explain_num(act_bytes), explain_num(passes))
      : fmt::format("{} latent positions x {} channels x {} B x {} passes", explain_num(latent_positions(g)),
                    explain_num(a.constant("unet_activation_channels")), explain_num(act_bytes), explain_num(passes));
  t.push_back(memory_part("activation_bytes",
                          g.model.transformer
                              ? "max(one layer's working set x passes, VAE decode peak) / GPUs"
                              : "max(UNet skip activations x passes, VAE decode peak) / GPUs",
                          fmt::format("max({}, {} x {} px x {} frames x {} B x batch {}) / {} = {}", denoise, g.width, g.height,
                                      explain_num(frames_at_once), explain_num(a.constant("vae_decode_bytes_per_pixel")),
                                      w.batch, n, explain_gb(m.activation_bytes)),
                          m.activation_bytes,
                          {constant_source(a, "vae_decode_bytes_per_pixel"),
                           g.model.transformer ? std::string("DiT working set: docs/generative.md")
                                               : constant_source(a, "unet_activation_channels")}));
  append_memory_totals(t, w, c, a);
  const Range& eta = a.fraction("compute", c.gpu->architecture, p);
  const double peak = c.gpu->peak_flops(compute_format(p));
  t.push_back({"step_flops", g.model.transformer ? "passes x (2 x params x tokens + 4 x layers x hidden x tokens^2) x (1 + add-on share)"
                                                 : "passes x 2 x params x latent positions x effective fraction x (1 + add-on share)",
               fmt::format("{} FLOP per denoising step per {}", explain_num(perf.prefill_flops_per_token), item),
               perf.prefill_flops_per_token, "FLOP", {g.model.transformer ? std::string("docs/generative.md") : constant_source(a, "unet_effective_positions")},
               PartGroup::time, "step", {}});
  t.push_back(time_part("seconds_per_item",
                        "(steps x step FLOPs + VAE decode FLOPs) x batch / (GPUs x peak x eta_c x GEMM fill) / batch + steps x step overhead / batch",
                        fmt::format("{} steps, batch {}, {} x {:.1f} TFLOPS x {} = {:.3f} s per {}", g.steps, w.batch, n, peak / 1e12,
                                    explain_num(eta.expected), perf.seconds_per_item.expected, item),
                        perf.seconds_per_item, "s", item,
                        {catalog_source(*c.gpu, "dense_tflops." + std::string(to_string(compute_format(p)))), "eta_c: " + eta.source,
                         constant_source(a, "vae_decode_tflops_per_megapixel"), constant_source(a, "diffusion_step_overhead_ms")}));
  t.push_back(time_part("items_per_s", "batch / batch time", fmt::format("{:.4g} {}s per second", perf.items_per_s.expected, item),
                        perf.items_per_s, item + "s/s", "s"));
  t.push_back(time_part("job_seconds", "ceil(items / batch) x batch time",
                        fmt::format("{} {}s in batches of {} = {:.1f} s", g.items, item, w.batch, perf.job_s.expected), perf.job_s,
                        "s", "job"));
  append_cost_parts(t, w, c);
  return t;
}

std::vector<Part> analytics_parts(const Workload& w, const Candidate& c, const Assumptions& a) {
  const AnalyticsSpec& s = *w.analytics;
  const auto& m = c.memory;
  const auto& perf = c.performance;
  const int n = c.count;
  std::vector<Part> t;
  double factor = 1, passes = 0;
  std::vector<std::string> sources;
  for (const auto& op : s.operations) {
    const std::string name = normalize_name(op) == "filter" ? "scan" : normalize_name(op);
    factor = std::max(factor, a.constant("analytics_working_set_" + name));
    passes += a.constant("analytics_passes_" + name);
    sources.push_back(constant_source(a, "analytics_working_set_" + name));
    sources.push_back(constant_source(a, "analytics_passes_" + name));
  }
  t.push_back(memory_part("weights_bytes", "dataset bytes / GPUs (the columns held in GPU memory)",
                          fmt::format("{} / {} = {}", explain_gb(s.dataset_bytes), n, explain_gb(m.weights_bytes)), m.weights_bytes));
  t.push_back(memory_part("activation_bytes", "dataset bytes x (working-set factor - 1) / GPUs",
                          fmt::format("{} x ({} - 1) / {} = {}", explain_gb(s.dataset_bytes), explain_num(factor), n,
                                      explain_gb(m.activation_bytes)),
                          m.activation_bytes, sources));
  append_memory_totals(t, w, c, a);
  const double eta = a.constant("analytics_bandwidth_fraction");
  t.push_back({"bytes_scanned", "dataset bytes x passes of the operations", fmt::format("{} x {} = {}", explain_gb(s.dataset_bytes),
               explain_num(passes), explain_gb(perf.decode_bytes_per_step)), perf.decode_bytes_per_step, "bytes", sources,
               PartGroup::time, "query", {}});
  t.push_back(time_part("seconds_per_item", "bytes scanned / (GPUs x bandwidth x eta)",
                        fmt::format("{} / ({} x {:.0f} GB/s x {}) = {:.4g} s", explain_gb(perf.decode_bytes_per_step), n,
                                    c.gpu->bandwidth_bytes_per_s / 1e9, explain_num(eta), perf.seconds_per_item.expected),
                        perf.seconds_per_item, "s", "query",
                        {catalog_source(*c.gpu, "memory_bandwidth_gb_per_s"), constant_source(a, "analytics_bandwidth_fraction")}));
  t.push_back(time_part("job_seconds", "queries x seconds per query",
                        fmt::format("{} x {:.4g} s = {:.1f} s", s.queries, perf.seconds_per_item.expected, perf.job_s.expected),
                        perf.job_s, "s", "job"));
  append_cost_parts(t, w, c);
  return t;
}

} // namespace detail
} // namespace gpuadvise

namespace gpuadvise {

Workload build_generative_workload(const GenerativeRequest& r) {
  Workload w;
  w.kind = parse_workload_kind(r.kind);
  w.memory_utilization = r.memory_utilization;
  if (!(r.memory_utilization > 0.05 && r.memory_utilization <= 1.0))
    throw InputError(fmt::format("invalid --memory-utilization {}: must be in (0.05, 1]", r.memory_utilization));
  w.batch_given = r.batch.has_value();
  w.batch = r.batch ? parse_positive_int(*r.batch, "--batch", 4096) : 1;
  w.requests = r.items ? parse_positive_int(*r.items, "--requests", 1'000'000'000LL) : (w.kind == WorkloadKind::analytics ? 100 : 1000);
  w.model_text = r.model;
  if (w.kind == WorkloadKind::analytics) {
    AnalyticsSpec s;
    if (r.dataset_size) {
      s.dataset_bytes = parse_byte_size(*r.dataset_size, "--dataset-size");
    } else if (r.rows && r.bytes_per_row) {
      s.dataset_bytes = parse_param_count(*r.rows, "--rows") * static_cast<double>(parse_positive_int(*r.bytes_per_row, "--bytes-per-row", 1'000'000));
    } else {
      throw InputError("analytics needs --dataset-size (e.g. 200GB) or --rows with --bytes-per-row");
    }
    if (s.dataset_bytes > 1e16) throw InputError("invalid --dataset-size: more than 10 PB is not a GPU dataframe");
    s.operations = r.operations.empty() ? std::vector<std::string>{"scan"} : r.operations;
    for (const auto& op : s.operations) check_analytics_operation(op);
    s.queries = w.requests;
    w.analytics = s;
    w.precision = Precision::fp16;
    w.shape.name = fmt::format("{:.1f} GB dataframe", s.dataset_bytes / 1e9);
    w.shape.id = "dataframe";
    return w;
  }
  if (w.kind == WorkloadKind::llm) throw InternalError("build_generative_workload: not a generation workload");
  const auto& catalog = GenerativeCatalog::embedded();
  GenerativeSpec g;
  g.model = catalog.find(r.model);
  if ((g.model.kind == "video") != (w.kind == WorkloadKind::video))
    throw InputError(fmt::format("'{}' is a {} model: use --workload {}", g.model.id, g.model.kind, g.model.kind));
  for (const auto& addon : r.addons) g.addons.push_back(catalog.find_addon(addon, g.model));
  // Resolution: "1024" (square) or "1280x720" (width x height), multiples of 8 up to 8192.
  const std::string res = r.resolution.value_or("");
  if (res.empty()) {
    // Video presets give a height: 16:9 frames, width rounded down to a multiple of 16.
    g.width = g.model.kind == "video" ? g.model.default_resolution * 16 / 9 / 16 * 16 : g.model.default_resolution;
    g.height = g.model.default_resolution;
  } else {
    const auto x = res.find_first_of("xX");
    g.width = static_cast<int>(parse_positive_int(x == std::string::npos ? res : res.substr(0, x), "--resolution", 8192));
    g.height = x == std::string::npos ? g.width : static_cast<int>(parse_positive_int(res.substr(x + 1), "--resolution", 8192));
  }
  if (g.width % 8 || g.height % 8 || g.width < 64 || g.height < 64)
    throw InputError(fmt::format("invalid --resolution '{}': width and height must be multiples of 8, at least 64", res));
  g.frames = r.frames ? static_cast<int>(parse_positive_int(*r.frames, "--frames", 10000)) : g.model.default_frames;
  if (w.kind == WorkloadKind::diffusion && g.frames != 1) throw InputError("--frames applies to --workload video");
  g.steps = r.steps ? static_cast<int>(parse_positive_int(*r.steps, "--steps", 10000)) : g.model.default_steps;
  g.guidance = g.model.guidance && !r.no_guidance;
  g.items = w.requests;
  w.precision = r.precision ? parse_precision(*r.precision) : Precision::fp16;
  if (w.precision == Precision::int4 || w.precision == Precision::nf4 || is_gguf(w.precision) || is_fp4(w.precision) || w.precision == Precision::int8_wo)
    throw InputError(fmt::format("--precision {} is not modelled for image/video generation: use fp32, fp16, bf16, fp8 or int8",
                                 to_string(w.precision)));
  w.shape.id = g.model.id;
  w.shape.name = g.model.name;
  w.shape.source = g.model.source;
  w.params_total = 0;
  for (const auto& c : g.model.components) w.params_total += c.params;
  for (const auto& a : g.addons) w.params_total += a.params + a.image_encoder_params;
  w.params_active = w.params_total;
  w.generative = g;
  return w;
}

} // namespace gpuadvise
