#include "json_fields.hpp"

#include <gpuadvise/model.hpp>
#include <gpuadvise/units.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace gpuadvise {
namespace {

using detail::Fields;

constexpr long long k_max_dim = 10'000'000;

int dim(const Fields& f, std::string_view key, long long min = 1) {
  return static_cast<int>(f.integer(key, min, k_max_dim));
}

/// The part of a name after the last '/' ("meta-llama/Meta-Llama-3-8B" -> "Meta-Llama-3-8B").
std::string_view tail(std::string_view name) {
  auto slash = name.rfind('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

std::vector<std::string> names_of(const ModelShape& m) {
  std::vector<std::string> names = {normalize_name(m.id), normalize_name(m.name)};
  for (const auto& alias : m.aliases) {
    names.push_back(normalize_name(alias));
    names.push_back(normalize_name(tail(alias)));
  }
  return names;
}

} // namespace

int ModelShape::sliding_layer_count() const {
  if (sliding_window <= 0) return 0;
  switch (sliding_layers) {
  case SlidingLayers::all: return num_layers;
  case SlidingLayers::even: return (num_layers + 1) / 2;
  case SlidingLayers::odd: return num_layers / 2;
  case SlidingLayers::counted: return std::min(counted_sliding_layers, num_layers);
  case SlidingLayers::none: return 0;
  }
  return 0;
}

ParamCounts count_params(const ModelShape& s) {
  const double h = s.hidden_size;
  const double norm_width = s.layernorm ? 2.0 : 1.0; // LayerNorm has a bias as well as a weight
  double attention = 0;
  if (s.mla) {
    const auto& m = *s.mla;
    const double q_dim = static_cast<double>(s.num_attention_heads) * (m.qk_nope_head_dim + m.qk_rope_head_dim);
    attention += m.q_lora_rank > 0 ? h * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * q_dim : h * q_dim;
    attention += h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank;                      // kv_a + norm
    attention += static_cast<double>(m.kv_lora_rank) * s.num_attention_heads * (m.qk_nope_head_dim + m.v_head_dim); // kv_b
    attention += static_cast<double>(s.num_attention_heads) * m.v_head_dim * h;                   // o
  } else {
    const double q = static_cast<double>(s.num_attention_heads) * s.head_dim;
    const double kv = static_cast<double>(s.num_kv_heads) * s.head_dim;
    attention = h * q + 2 * h * kv + q * h;
    if (s.qkv_bias) attention += q + 2 * kv;
  }
  if (s.o_bias) attention += h;
  attention += s.qk_norm_width;
  const double matrices = s.gated_mlp ? 3.0 : 2.0;
  const double norms = s.norms_per_layer * h * norm_width;
  // One MLP of width f: matrices x h x f weights, plus biases (f per input matrix, h for the output).
  const auto mlp = [&](double f, bool bias) { return matrices * h * f + (bias ? (matrices - 1) * f + h : 0.0); };

  double total = 0;
  double active = 0;
  for (int layer = 0; layer < s.num_layers; ++layer) {
    double layer_total = attention + norms;
    double layer_active = layer_total;
    if (s.moe && s.moe->is_moe_layer(layer)) {
      const auto& e = *s.moe;
      const double expert = mlp(e.expert_intermediate_size, e.expert_bias);
      const double shared = mlp(e.shared_expert_intermediate_size > 0 ? e.shared_expert_intermediate_size
                                                                      : e.expert_intermediate_size, false);
      const double router = h * e.num_experts + (e.expert_bias ? e.num_experts : 0);
      layer_total += e.num_experts * expert + router + e.num_shared_experts * shared;
      layer_active += e.experts_per_token * expert + router + e.num_shared_experts * shared;
    } else {
      const double width = s.moe && s.moe->dense_intermediate_size > 0 ? s.moe->dense_intermediate_size
                                                                       : s.intermediate_size;
      layer_total += mlp(width, s.mlp_bias);
      layer_active += mlp(width, s.mlp_bias);
    }
    total += layer_total;
    active += layer_active;
  }
  const double embedding = static_cast<double>(s.vocab_size) * h * (s.tie_word_embeddings ? 1 : 2);
  const double final_norm = h * norm_width;
  const double fixed = final_norm + static_cast<double>(s.learned_positions) * h + (s.lm_head_bias ? s.vocab_size : 0) +
                       s.other_params;
  ParamCounts c;
  c.total = total + embedding + fixed + s.vision_params;
  c.active = active + embedding + fixed;
  c.embedding = embedding;
  c.vision = s.vision_params;
  return c;
}

double kv_cache_bytes_per_sequence(const ModelShape& s, double context, double bytes_per_element) {
  // Bytes per token per layer: K and V for each KV head, or MLA's compressed latent plus its RoPE key.
  const double per_token_layer = s.mla ? static_cast<double>(s.mla->kv_lora_rank + s.mla->qk_rope_head_dim) * bytes_per_element
                                       : 2.0 * s.num_kv_heads * s.head_dim * bytes_per_element;
  return per_token_layer * attended_tokens_all_layers(s, context);
}

double attended_tokens_all_layers(const ModelShape& s, double position) {
  const int sliding = s.sliding_layer_count();
  const double windowed = sliding > 0 ? std::min(position, static_cast<double>(s.sliding_window)) : position;
  return (s.num_layers - sliding) * position + sliding * windowed;
}

double attention_flops_per_context_token(const ModelShape& s) {
  // QK^T: 2 x heads x qk_dim FLOPs per attended token; AV: 2 x heads x v_dim.
  if (s.mla)
    return 2.0 * s.num_attention_heads * (s.mla->qk_nope_head_dim + s.mla->qk_rope_head_dim) +
           2.0 * s.num_attention_heads * s.mla->v_head_dim;
  return 4.0 * s.num_attention_heads * s.head_dim;
}

void ModelCatalog::add(const nlohmann::json& entry, std::string_view origin, std::size_t index) {
  const Fields first(entry, fmt::format("{}: models[{}]", origin, index));
  ModelShape m;
  m.id = first.string("id");
  if (normalize_name(m.id).empty()) first.fail("id", "must not be empty");
  const Fields f(entry, fmt::format("{}: models[{}] (id '{}')", origin, index, m.id));
  f.only({"id", "name", "aliases", "source", "architecture", "notes", "torch_dtype", "num_layers", "hidden_size",
          "num_attention_heads", "num_kv_heads", "head_dim", "intermediate_size", "vocab_size", "tie_word_embeddings",
          "max_context", "mlp", "qkv_bias", "norm", "norms_per_layer", "parallel_attention", "sliding_window", "moe", "mla",
          "published_params", "o_bias", "qk_norm_width", "vision_params", "other_params"});
  m.name = f.string("name");
  m.aliases = f.strings("aliases");
  m.source = f.string("source");
  m.architecture = f.string_or("architecture", "");
  m.num_layers = dim(f, "num_layers");
  m.hidden_size = dim(f, "hidden_size");
  m.num_attention_heads = dim(f, "num_attention_heads");
  m.num_kv_heads = dim(f, "num_kv_heads");
  m.head_dim = dim(f, "head_dim");
  m.intermediate_size = dim(f, "intermediate_size");
  m.vocab_size = dim(f, "vocab_size");
  m.tie_word_embeddings = f.boolean("tie_word_embeddings");
  m.max_context = f.integer("max_context", 1, 1'000'000'000);
  const std::string mlp = f.string_or("mlp", "gated");
  if (mlp != "gated" && mlp != "plain") f.fail("mlp", fmt::format("'{}' is not gated or plain", mlp));
  m.gated_mlp = mlp == "gated";
  m.qkv_bias = f.boolean_or("qkv_bias", false);
  const std::string norm = f.string_or("norm", "rmsnorm");
  if (norm != "rmsnorm" && norm != "layernorm") f.fail("norm", fmt::format("'{}' is not rmsnorm or layernorm", norm));
  m.layernorm = norm == "layernorm";
  m.norms_per_layer = static_cast<int>(f.integer_or("norms_per_layer", 2, 0, 16));
  m.parallel_attention = f.boolean_or("parallel_attention", false);
  m.o_bias = f.boolean_or("o_bias", false);
  m.qk_norm_width = static_cast<int>(f.integer_or("qk_norm_width", 0, 0, k_max_dim));
  // Weights outside the decoder layers, each a sourced figure: the vision tower and projector of a
  // multimodal model (held in memory, not used per text token) and any further per-token weights
  // (gpt-oss attention sinks).
  if (f.has("vision_params")) {
    std::string source;
    m.vision_params = f.sourced("vision_params", &source, 1, 1e13);
  }
  if (f.has("other_params")) {
    std::string source;
    m.other_params = f.sourced("other_params", &source, 1, 1e13);
  }
  if (m.num_kv_heads > m.num_attention_heads || m.num_attention_heads % m.num_kv_heads != 0)
    f.fail("num_kv_heads", fmt::format("{} does not divide the {} attention heads", m.num_kv_heads, m.num_attention_heads));
  if (const auto* sliding = f.object("sliding_window")) {
    const Fields s(*sliding, f.where() + ": field 'sliding_window'");
    s.only({"window", "layers", "count"});
    m.sliding_window = static_cast<int>(s.integer("window", 1, 1'000'000'000));
    const std::string layers = s.string("layers");
    if (layers == "all") m.sliding_layers = SlidingLayers::all;
    else if (layers == "even") m.sliding_layers = SlidingLayers::even;
    else if (layers == "odd") m.sliding_layers = SlidingLayers::odd;
    else if (layers == "counted") m.sliding_layers = SlidingLayers::counted;
    else s.fail("layers", fmt::format("'{}' is not all, even, odd or counted", layers));
    if (m.sliding_layers == SlidingLayers::counted)
      m.counted_sliding_layers = static_cast<int>(s.integer("count", 1, m.num_layers));
    else if (s.has("count"))
      s.fail("count", "applies only to layers 'counted'");
  }
  if (const auto* moe = f.object("moe")) {
    const Fields e(*moe, f.where() + ": field 'moe'");
    e.only({"num_experts", "experts_per_token", "num_shared_experts", "expert_intermediate_size", "first_dense_layers",
            "dense_intermediate_size", "layer_step", "shared_expert_intermediate_size", "expert_bias"});
    MoeShape shape;
    shape.num_experts = dim(e, "num_experts");
    shape.experts_per_token = dim(e, "experts_per_token");
    if (shape.experts_per_token > shape.num_experts)
      e.fail("experts_per_token", "is larger than num_experts");
    shape.num_shared_experts = static_cast<int>(e.integer_or("num_shared_experts", 0, 0, 1024));
    shape.expert_intermediate_size = static_cast<int>(e.integer_or("expert_intermediate_size", m.intermediate_size, 1, k_max_dim));
    shape.first_dense_layers = static_cast<int>(e.integer_or("first_dense_layers", 0, 0, m.num_layers));
    shape.dense_intermediate_size = static_cast<int>(e.integer_or("dense_intermediate_size", m.intermediate_size, 1, k_max_dim));
    shape.layer_step = static_cast<int>(e.integer_or("layer_step", 1, 1, 1024));
    shape.shared_expert_intermediate_size = static_cast<int>(e.integer_or("shared_expert_intermediate_size", 0, 0, k_max_dim));
    shape.expert_bias = e.boolean_or("expert_bias", false);
    m.moe = shape;
  }
  if (const auto* mla = f.object("mla")) {
    const Fields a(*mla, f.where() + ": field 'mla'");
    a.only({"kv_lora_rank", "q_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"});
    MlaShape shape;
    shape.kv_lora_rank = dim(a, "kv_lora_rank");
    shape.q_lora_rank = a.has("q_lora_rank") ? dim(a, "q_lora_rank") : 0;
    shape.qk_nope_head_dim = dim(a, "qk_nope_head_dim");
    shape.qk_rope_head_dim = dim(a, "qk_rope_head_dim");
    shape.v_head_dim = dim(a, "v_head_dim");
    m.mla = shape;
  }
  if (f.has("published_params")) m.published_params = f.sourced("published_params", &m.published_params_source, 1, 1e15);

  for (auto& existing : m_models)
    if (normalize_name(existing.id) == normalize_name(m.id)) {
      existing = std::move(m);
      return;
    }
  m_models.push_back(std::move(m));
}

ModelCatalog ModelCatalog::from_json(std::string_view text, std::string_view origin) {
  ModelCatalog catalog;
  const auto doc = detail::parse_json(text, origin);
  const Fields top(doc, std::string(origin));
  top.only({"catalog_date", "description", "reference_shapes", "models"});
  const auto* models = top.array("models");
  if (!models) top.fail("models", "missing (expected an array of models)");
  std::set<std::string> ids;
  for (std::size_t i = 0; i < models->size(); ++i) {
    catalog.add((*models)[i], origin, i);
    if (!ids.insert(normalize_name(catalog.m_models.back().id)).second || ids.size() != catalog.m_models.size())
      throw CatalogError(fmt::format("{}: models[{}]: field 'id': duplicate model id '{}'", origin, i,
                                     (*models)[i].value("id", "")));
  }
  if (const auto* refs = top.array("reference_shapes"))
    for (const auto& ref : *refs) {
      if (!ref.is_string()) top.fail("reference_shapes", "expected an array of model ids");
      if (!catalog.find(ref.get<std::string>()))
        top.fail("reference_shapes", fmt::format("'{}' is not a model in this file", ref.get<std::string>()));
      catalog.m_reference_ids.push_back(ref.get<std::string>());
    }
  return catalog;
}

ModelCatalog ModelCatalog::from_parts(std::vector<ModelShape> models, std::vector<std::string> reference_ids) {
  ModelCatalog catalog;
  catalog.m_models = std::move(models);
  catalog.m_reference_ids = std::move(reference_ids);
  return catalog;
}

void ModelCatalog::merge_json(std::string_view text, std::string_view origin) {
  const auto doc = detail::parse_json(text, origin);
  const Fields top(doc, std::string(origin));
  top.only({"catalog_date", "description", "reference_shapes", "models"});
  const auto* models = top.array("models");
  if (!models) top.fail("models", "missing (expected an array of models)");
  // The file's own ids must be distinct; an id already in the catalog replaces that preset.
  std::set<std::string> ids;
  for (std::size_t i = 0; i < models->size(); ++i) {
    add((*models)[i], origin, i);
    const auto* entry = &(*models)[i];
    const std::string id = (*entry)["id"].get<std::string>();
    if (!ids.insert(normalize_name(id)).second)
      throw CatalogError(fmt::format("{}: models[{}]: field 'id': duplicate model id '{}'", origin, i, id));
  }
}

const ModelShape* ModelCatalog::find(std::string_view name) const {
  const std::string wanted = normalize_name(name);
  const std::string wanted_tail = normalize_name(tail(name));
  if (wanted.empty()) return nullptr;
  for (const auto& m : m_models)
    for (const auto& n : names_of(m))
      if (n == wanted || n == wanted_tail) return &m;
  return nullptr;
}

std::vector<std::string> ModelCatalog::suggestions(std::string_view name, std::size_t n) const {
  const std::string wanted = normalize_name(tail(name));
  std::vector<std::pair<std::size_t, std::string>> ranked;
  for (const auto& m : m_models) {
    std::size_t best = std::string::npos;
    for (const auto& candidate : names_of(m)) best = std::min(best, edit_distance(wanted, candidate));
    ranked.emplace_back(best, m.id);
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> out;
  for (std::size_t i = 0; i < ranked.size() && i < n; ++i) out.push_back(ranked[i].second);
  return out;
}

const ModelShape& ModelCatalog::reference_for(double params) const {
  const ModelShape* best = nullptr;
  double best_distance = 0;
  for (const auto& id : m_reference_ids) {
    const ModelShape* m = find(id);
    const double distance = std::abs(std::log(params / count_params(*m).total));
    if (!best || distance < best_distance) {
      best = m;
      best_distance = distance;
    }
  }
  if (!best) throw CatalogError("the model catalog lists no reference_shapes for bare sizes");
  return *best;
}

} // namespace gpuadvise
