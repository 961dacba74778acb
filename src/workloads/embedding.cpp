// The text-embedding / reranking kind: encoder-only transformers (BERT, XLM-R, ModernBERT, nomic-bert)
// that read a batch of sequences in one forward pass and return a vector (or a score) per sequence.
// Memory: weights + the forward pass's activations (no KV cache). Speed: one compute-bound forward
// per batch, or bandwidth-bound for tiny batches (docs/formulas.md, section "Embedding models").
#include "embedding.hpp"

#include "../json_fields.hpp"

#include <gpuadvise/advisor.hpp>
#include <gpuadvise/embedded.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/units.hpp>
#include <gpuadvise/workload.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gpuadvise {
namespace {

using detail::Fields;

/// Sequences in a job when --requests is not given: a corpus of a million passages.
constexpr std::int64_t k_default_sequences = 1'000'000;
/// Tokens per sequence when --context is not given (capped at the model's maximum).
constexpr std::int64_t k_default_sequence_tokens = 512;

EncoderModel read_encoder(const nlohmann::json& entry, const std::string& where) {
  const Fields f(entry, where);
  EncoderModel m;
  m.id = f.string("id");
  m.name = f.string("name");
  m.task = f.string("task");
  if (m.task != "embedding" && m.task != "reranking") f.fail("task", "must be embedding or reranking");
  m.architecture = f.string("architecture");
  if (const auto* aliases = f.array("aliases"))
    for (const auto& a : *aliases)
      if (a.is_string()) m.aliases.push_back(a.get<std::string>());
  m.num_layers = static_cast<int>(f.integer("num_layers", 1, 1000));
  m.hidden_size = static_cast<int>(f.integer("hidden_size", 1, 100'000));
  m.num_attention_heads = static_cast<int>(f.integer("num_attention_heads", 1, 1000));
  m.intermediate_size = static_cast<int>(f.integer("intermediate_size", 1, 1'000'000));
  const std::string mlp = f.string("mlp");
  if (mlp != "gelu" && mlp != "geglu" && mlp != "swiglu") f.fail("mlp", "must be gelu, geglu or swiglu");
  m.gated_mlp = mlp != "gelu";
  m.vocab_size = static_cast<int>(f.integer("vocab_size", 1, 10'000'000));
  m.max_position_embeddings = static_cast<int>(f.integer("max_position_embeddings", 1, 10'000'000));
  m.type_vocab_size = static_cast<int>(f.integer("type_vocab_size", 0, 1000));
  const std::string positions = f.string("position_embedding");
  if (positions != "absolute" && positions != "rotary") f.fail("position_embedding", "must be absolute or rotary");
  m.absolute_positions = positions == "absolute";
  m.bias = f.boolean("bias");
  m.local_attention_window = static_cast<int>(f.integer("local_attention_window", 0, 10'000'000));
  m.global_attention_every = static_cast<int>(f.integer("global_attention_every", 0, 1000));
  m.embedding_dim = static_cast<int>(f.integer("embedding_dim", 1, 1'000'000));
  m.params_published = f.number("params_published", 1, 1e12);
  m.params_source = f.string("params_source");
  m.source = f.string("source");
  return m;
}

const EncoderModel& find_encoder(std::string_view name) {
  const std::string wanted = normalize_name(name);
  std::vector<std::pair<std::size_t, std::string>> ranked;
  for (const auto& m : embedding_presets()) {
    if (normalize_name(m.id) == wanted || normalize_name(m.name) == wanted) return m;
    for (const auto& a : m.aliases)
      if (normalize_name(a) == wanted) return m;
    ranked.emplace_back(edit_distance(wanted, normalize_name(m.id)), m.id);
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> close;
  for (std::size_t i = 0; i < ranked.size() && i < 3; ++i) close.push_back(ranked[i].second);
  throw InputError(fmt::format("unknown embedding model '{}': did you mean {}?", name, fmt::join(close, ", ")));
}

const EncoderModel& encoder_of(const Workload& w) {
  const auto* spec = dynamic_cast<const EncoderSpec*>(w.spec.get());
  if (!spec) throw InternalError("an embedding workload without its encoder preset");
  return spec->model;
}

/// Parameters of the lookup tables (tokens, positions, token types): read a row per token, never a matmul.
double table_params(const EncoderModel& m) {
  return (static_cast<double>(m.vocab_size) + (m.absolute_positions ? m.max_position_embeddings : 0) + m.type_vocab_size) *
         m.hidden_size;
}

/// Activation elements alive per token in one layer: residual, normed input and attention output (4h),
/// q/k/v (3h), the MLP's up projection and activation (gated: 2f + f; plain: f + f). FlashAttention/SDPA
/// never stores the scores.
double activation_elements_per_token(const EncoderModel& m) {
  const double f = m.intermediate_size;
  return 4.0 * m.hidden_size + 3.0 * m.hidden_size + (m.gated_mlp ? 3.0 * f : 2.0 * f);
}

Workload build_embedding(const WorkloadRequest& r, const ModelCatalog&) {
  reject_unused_options(r, "embedding", {});
  if (r.model.empty()) throw InputError("missing --model: an embedding preset such as bge-large-en-v1.5 (gpuadvise models)");
  const EncoderModel& m = find_encoder(r.model);
  Workload w;
  w.kind = WorkloadKind::embedding;
  w.origin = ModelOrigin::preset;
  w.model_text = r.model;
  if (!(r.memory_utilization > 0.05 && r.memory_utilization <= 1.0))
    throw InputError(fmt::format("invalid --memory-utilization {}: must be in (0.05, 1]", r.memory_utilization));
  w.memory_utilization = r.memory_utilization;
  w.precision = r.precision ? parse_precision(*r.precision) : Precision::fp16;
  if (w.precision == Precision::int4 || w.precision == Precision::nf4 || w.precision == Precision::int8_wo || is_gguf(w.precision) || is_fp4(w.precision))
    throw InputError(fmt::format("--precision {} is not modelled for embedding models: use fp32, fp16, bf16, fp8 or int8",
                                 to_string(w.precision)));
  w.context = r.context ? parse_token_count(*r.context, "--context", 10'000'000)
                        : std::min<std::int64_t>(k_default_sequence_tokens, m.max_position_embeddings);
  if (w.context > m.max_position_embeddings)
    throw InputError(fmt::format("--context {} is longer than {}'s maximum of {} tokens per sequence", w.context, m.name,
                                 m.max_position_embeddings));
  w.input_tokens = w.context;
  w.output_tokens = 0;
  w.batch_given = r.batch.has_value();
  w.batch = r.batch ? parse_positive_int(*r.batch, "--batch", 65536) : 1;
  w.requests = r.requests ? parse_positive_int(*r.requests, "--requests", 1'000'000'000'000LL) : k_default_sequences;
  w.params_total = encoder_params(m);
  w.params_active = w.params_total;
  w.params_embedding = table_params(m);
  w.shape.id = m.id;
  w.shape.name = m.name;
  w.shape.source = m.source;
  w.shape.num_layers = m.num_layers;
  w.shape.hidden_size = m.hidden_size;
  w.shape.num_attention_heads = m.num_attention_heads;
  w.shape.num_kv_heads = m.num_attention_heads;
  w.shape.head_dim = m.hidden_size / m.num_attention_heads;
  w.shape.intermediate_size = m.intermediate_size;
  w.shape.vocab_size = m.vocab_size;
  w.shape.max_context = m.max_position_embeddings;
  auto spec = std::make_shared<EncoderSpec>();
  spec->model = m;
  w.spec = std::move(spec);
  return w;
}

MemoryEstimate embedding_memory(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count, const Assumptions& a) {
  const EncoderModel& m = encoder_of(w);
  MemoryEstimate r;
  // Several GPUs serve as replicas: each holds the whole model and a share of the batch.
  r.weights_bytes = w.params_total * weight_bytes_per_param(p.effective, a.int4_group_size);
  const double sequences_per_gpu = std::ceil(static_cast<double>(w.batch) / count);
  r.activation_bytes = sequences_per_gpu * static_cast<double>(w.context) * activation_elements_per_token(m) *
                       activation_bytes_per_element(p.effective);
  r.overhead_bytes = a.runtime_overhead_bytes;
  r.total_bytes = r.weights_bytes + r.activation_bytes + r.overhead_bytes;
  r.allocatable_bytes = gpu.allocatable_bytes;
  r.usable_bytes = w.memory_utilization * gpu.allocatable_bytes;
  return r;
}

Span rate_of(double amount, const Span& t) { return {amount / t.high, amount / t.expected, amount / t.low}; }

PerfEstimate embedding_performance(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count,
                                   const Assumptions& a) {
  const EncoderModel& m = encoder_of(w);
  PerfEstimate r;
  const Precision compute = compute_format(p.effective);
  const Range& eta_c = a.fraction("compute", gpu.architecture, p.effective);
  const Range& eta_bw = a.fraction("bandwidth", gpu.architecture, p.effective);
  const Runtime& runtime = a.runtime(a.default_runtime);
  const double sequences_per_gpu = std::ceil(static_cast<double>(w.batch) / count);
  const double tokens = sequences_per_gpu * static_cast<double>(w.context);
  r.prefill_flops_per_token = 2.0 * (w.params_total - table_params(m)) +
                              4.0 * m.num_layers * m.hidden_size * encoder_attended_positions(m, static_cast<double>(w.context));
  const double fill = tokens / (tokens + a.gemm_half_tokens);
  const double peak = gpu.peak_flops(compute);
  const double weights = w.params_total * weight_bytes_per_param(p.effective, a.int4_group_size);
  const double fixed = runtime.step_overhead_s + m.num_layers * runtime.layer_overhead_s;
  // One forward pass per batch: the slower of its FLOPs and its weight reads, plus the runtime's fixed cost
  // (half in the fast case, double in the slow one).
  auto pass = [&](double fc, double fb, double overhead) {
    return std::max(tokens * r.prefill_flops_per_token / (peak * fc * fill), weights / (gpu.bandwidth_bytes_per_s * fb)) + overhead;
  };
  const Span batch_s{pass(eta_c.high, eta_bw.high, fixed / 2), pass(eta_c.expected, eta_bw.expected, fixed),
                     pass(eta_c.low, eta_bw.low, fixed * 2)};
  r.decode_compute_bound = tokens * r.prefill_flops_per_token / (peak * eta_c.expected * fill) >
                           weights / (gpu.bandwidth_bytes_per_s * eta_bw.expected);
  r.time_to_first_token_s = batch_s; // the latency of one batch
  const double per_pass = sequences_per_gpu * count;
  r.seconds_per_item = {batch_s.low / per_pass, batch_s.expected / per_pass, batch_s.high / per_pass};
  r.items_per_s = rate_of(per_pass, batch_s);
  r.prefill_tokens_per_s = rate_of(per_pass * static_cast<double>(w.context), batch_s);
  const double passes = std::ceil(static_cast<double>(w.requests) / per_pass);
  r.job_s = {batch_s.low * passes, batch_s.expected * passes, batch_s.high * passes};
  r.prefill_job_s = r.job_s;
  r.job_tokens = static_cast<double>(w.requests) * static_cast<double>(w.context);
  return r;
}

double embedding_headline(const PerfEstimate& p) { return p.prefill_tokens_per_s.expected; }

std::vector<Part> embedding_parts(const Workload& w, const Candidate& c, const Assumptions& a) {
  const EncoderModel& m = encoder_of(w);
  const auto& mem = c.memory;
  const auto& perf = c.performance;
  const Gpu& gpu = *c.gpu;
  const Precision p = c.precision.effective;
  const double seq_per_gpu = std::ceil(static_cast<double>(c.batch) / c.count);
  std::vector<Part> t;
  t.push_back({"params_total",
               "(vocab + positions + token types) x h + layers x (4h^2 + MLP + biases + norms) + final norm",
               fmt::format("({} + {} + {}) x {} + {} x (4 x {}^2 + {} x {} x {}{}{}) = {}", m.vocab_size,
                           m.absolute_positions ? m.max_position_embeddings : 0, m.type_vocab_size, m.hidden_size, m.num_layers,
                           m.hidden_size, m.gated_mlp ? 3 : 2, m.hidden_size, m.intermediate_size,
                           m.bias ? " + biases" : "", " + 2 norms", explain_num(w.params_total)),
               w.params_total, "parameters",
               {fmt::format("{} config.json: {}", m.name, m.source), fmt::format("published: {}", m.params_source)},
               PartGroup::model, "", {}});
  t.push_back(memory_part("weights_bytes", "params x bytes/param (every GPU holds the whole model)",
                          fmt::format("{} x {} B = {}", explain_num(w.params_total),
                                      explain_num(weight_bytes_per_param(p, a.int4_group_size)), explain_gb(mem.weights_bytes)),
                          mem.weights_bytes, {fmt::format("{} format: docs/formulas.md section 2b", to_string(p))}));
  t.push_back(memory_part("activation_bytes",
                          "sequences per GPU x tokens x (4h + 3h + MLP width) x activation bytes (SDPA: no score matrix)",
                          fmt::format("{} x {} x (7 x {} + {} x {}) x {} B = {}", explain_num(seq_per_gpu), w.context,
                                      m.hidden_size, m.gated_mlp ? 3 : 2, m.intermediate_size,
                                      explain_num(activation_bytes_per_element(p)), explain_gb(mem.activation_bytes)),
                          mem.activation_bytes, {"docs/formulas.md, Embedding models"}));
  append_memory_totals(t, w, c, a);
  const double attended = encoder_attended_positions(m, static_cast<double>(w.context));
  t.push_back({"flops_per_token", "2 x (params - lookup tables) + 4 x layers x h x attended positions",
               fmt::format("2 x ({} - {}) + 4 x {} x {} x {} = {}", explain_num(w.params_total), explain_num(table_params(m)),
                           m.num_layers, m.hidden_size, explain_num(attended), explain_num(perf.prefill_flops_per_token)),
               perf.prefill_flops_per_token, "FLOP", {"Kaplan et al. 2020 (2N per token forward)"}, PartGroup::time, "token", {}});
  const Range& eta_c = a.fraction("compute", gpu.architecture, p);
  const Range& eta_bw = a.fraction("bandwidth", gpu.architecture, p);
  const Runtime& runtime = a.runtime(a.default_runtime);
  const double tokens = seq_per_gpu * static_cast<double>(w.context);
  t.push_back(time_part("batch_seconds",
                        "max(tokens x FLOPs/token / (peak x eta_c x GEMM fill), weights / (bandwidth x eta_bw)) + step + layers x layer overhead",
                        fmt::format("max({} x {} / ({:.1f} TFLOPS x {} x {:.3f}), {} / ({:.0f} GB/s x {})) + {:.2f} ms + {} x {:.0f} us = {:.4g} s",
                                    explain_num(tokens), explain_num(perf.prefill_flops_per_token),
                                    gpu.peak_flops(compute_format(p)) / 1e12, explain_num(eta_c.expected),
                                    tokens / (tokens + a.gemm_half_tokens), explain_gb(mem.weights_bytes),
                                    gpu.bandwidth_bytes_per_s / 1e9, explain_num(eta_bw.expected), runtime.step_overhead_s * 1e3,
                                    m.num_layers, runtime.layer_overhead_s * 1e6, perf.time_to_first_token_s.expected),
                        perf.time_to_first_token_s, "s", "batch",
                        {catalog_source(gpu, "dense_tflops." + std::string(to_string(compute_format(p)))),
                         catalog_source(gpu, "memory_bandwidth_gb_per_s"), "eta_c: " + eta_c.source, "eta_bw: " + eta_bw.source,
                         a.gemm_half_tokens_source, runtime.name + ": " + runtime.source}));
  t.push_back(time_part("items_per_s", "sequences per pass (all GPUs) / batch time",
                        fmt::format("{} / {:.4g} s = {:.1f}", explain_num(seq_per_gpu * c.count), perf.time_to_first_token_s.expected,
                                    perf.items_per_s.expected),
                        perf.items_per_s, "sequences/s", "s"));
  t.push_back(time_part("tokens_per_s", "sequences/s x tokens per sequence",
                        fmt::format("{:.1f} x {} = {:.0f}", perf.items_per_s.expected, w.context, perf.prefill_tokens_per_s.expected),
                        perf.prefill_tokens_per_s, "tokens/s", "s"));
  t.push_back(time_part("seconds_per_item", "batch time / sequences per pass",
                        fmt::format("{:.4g} s / {} = {:.4g} s", perf.time_to_first_token_s.expected, explain_num(seq_per_gpu * c.count),
                                    perf.seconds_per_item.expected),
                        perf.seconds_per_item, "s", "sequence"));
  t.push_back(time_part("job_seconds", "ceil(sequences / sequences per pass) x batch time",
                        fmt::format("ceil({} / {}) x {:.4g} s = {:.1f} s", w.requests, explain_num(seq_per_gpu * c.count),
                                    perf.time_to_first_token_s.expected, perf.job_s.expected),
                        perf.job_s, "s", "job"));
  append_cost_parts(t, w, c);
  return t;
}

} // namespace

std::vector<EncoderModel> parse_embedding_presets(std::string_view text, std::string_view origin) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw CatalogError(fmt::format("{}: not valid JSON: {}", origin, e.what()));
  }
  const Fields top(doc, std::string(origin));
  const auto* models = top.array("models");
  if (!models) top.fail("models", "missing");
  std::vector<EncoderModel> out;
  for (std::size_t i = 0; i < models->size(); ++i)
    out.push_back(read_encoder((*models)[i], fmt::format("{}: models[{}]", origin, i)));
  return out;
}

const std::vector<EncoderModel>& embedding_presets() {
  static const std::vector<EncoderModel> presets = parse_embedding_presets(embedded_embedding_json(), "data/embedding.json (embedded)");
  return presets;
}

double encoder_params(const EncoderModel& m) {
  const double h = m.hidden_size, f = m.intermediate_size;
  const double norm = m.bias ? 2 * h : h;                        // LayerNorm weight (+ bias)
  const double attention = 4 * h * h + (m.bias ? 4 * h : 0);     // q, k, v, o
  const double mlp = (m.gated_mlp ? 3 : 2) * h * f + (m.bias ? (m.gated_mlp ? 2 * f : f) + h : 0);
  const double final_norm = m.architecture == "modernbert" ? norm : 0; // pre-norm encoders end with a norm
  return table_params(m) + norm /* embedding norm */ + m.num_layers * (attention + mlp + 2 * norm) + final_norm;
}

double encoder_attended_positions(const EncoderModel& m, double tokens) {
  if (m.local_attention_window <= 0 || m.global_attention_every <= 0) return tokens;
  // Every global_attention_every-th layer (0, n, 2n, ...) attends to the whole sequence, the others to a window.
  const double global = std::ceil(static_cast<double>(m.num_layers) / m.global_attention_every);
  const double local = m.num_layers - global;
  return (global * tokens + local * std::min<double>(tokens, m.local_attention_window)) / m.num_layers;
}

KindModule detail::embedding_module() {
  return {WorkloadKind::embedding, "embedding", "text embedding and reranking models (BGE, E5, GTE, ModernBERT)", "sequence",
          "tok/s", 1000, true, build_embedding, embedding_memory, embedding_performance, embedding_headline, embedding_parts};
}

} // namespace gpuadvise
