#include "json_fields.hpp"

#include <gpuadvise/hf_config.hpp>
#include <gpuadvise/units.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace gpuadvise {
namespace {

using detail::Fields;
using nlohmann::json;

/// Keys that do not change memory or speed (token ids, dropout, init, RoPE scaling constants, ...).
const std::set<std::string> k_no_effect = {
    "architectures", "attention_dropout", "bos_token_id", "eos_token_id", "pad_token_id", "initializer_range",
    "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon", "norm_epsilon", "rope_theta", "rope_scaling", "rope_parameters",
    "use_cache", "transformers_version", "hidden_act", "hidden_activation", "activation_function", "pretraining_tp",
    "attn_logit_softcapping", "final_logit_softcapping", "query_pre_attn_scalar", "cache_implementation",
    "router_aux_loss_coef", "output_router_logits", "router_jitter_noise", "hidden_dropout", "attention_probs_dropout_prob",
    "hidden_dropout_prob", "attn_pdrop", "_name_or_path", "auto_map", "max_window_layers", "use_mrope", "model_type",
    "rope_interleave", "embd_pdrop", "resid_pdrop", "original_max_position_embeddings", "partial_rotary_factor", "alibi",
    "rotary", "rotary_dim", "rotary_pct", "rotary_emb_base", "apply_residual_connection_post_layernorm", "norm_topk_prob",
    "scoring_func", "topk_method", "n_group", "topk_group", "routed_scaling_factor", "aux_loss_alpha", "seq_aux", "ep_size",
    "rope_type", "sliding_window_size", "n_ctx", "summary_activation", "summary_first_dropout", "summary_proj_to_labels",
    "summary_type", "summary_use_proj", "task_specific_params", "tokenizer_class", "scale_attn_weights",
    "use_parallel_residual", "flash_attn", "flash_rotary", "fused_dense", "gradient_checkpointing", "classifier_dropout",
    "position_embedding_type", "rope_local_base_freq", "image_token_index", "image_token_id", "boi_token_index",
    "eoi_token_index", "ignore_index", "vision_feature_layer", "vision_feature_select_strategy",
    "attention_softmax_in_fp32", "scale_attention_softmax_in_fp32", "residual_dropout", "embedding_dropout", "norm_type",
    "mlp_type", "mm_tokens_per_image", "swiglu_limit", "initial_context_length", "attn_temperature_tuning", "attn_scale",
    "floor_scale", "use_qk_norm", "no_rope_layer_interval", "no_rope_layers", "for_llm_compressor",
    "_attn_implementation_autoset", "interleave_moe_layer_step", "router_aux_loss_coef", "output_router_logits",
    "lm_head_bias", "full_attn_mod", "interpolate_factor", "scale_emb", "dim_model_base", "scale_depth",
    "runner_max_sequence_length", "predict_special_tokens", "n_special", "img_processor", "embd_layer",
    "decoder_sparse_step", "mlp_only_layers", "spatial_merge_size", "multimodal_projector_bias", "projector_hidden_act",
    "text_config", "vision_config", "experts_per_token", "num_experts_per_token"};

/// Largest dimension accepted (layers, widths, heads, vocabulary, experts), as for data/models.json:
/// every dimension must fit an int, and products of them must stay far from overflow.
constexpr long long k_max_dim = 10'000'000;
/// Largest context length (max_position_embeddings, sliding_window) accepted.
constexpr long long k_max_positions = 1'000'000'000;

/// How a family builds its layers, where config.json does not say (transformers' modeling code).
struct Family {
  bool gated = true;          ///< SwiGLU/GeGLU (3 matrices) vs GELU 4h (2 matrices)
  bool layernorm = false;     ///< LayerNorm with bias vs RMSNorm
  bool qkv_bias = false;
  bool o_bias = false;
  bool mlp_bias = false;
  bool lm_head_bias = false;
  bool learned_positions = false;
  int norms = 2;
  bool parallel = false;
  bool four_h_default = false; ///< an absent/null MLP width means 4 x hidden in the family's config class
  const char* config_class = "PretrainedConfig";
  int tied = -1;               ///< the config class's tie_word_embeddings default: 1, 0, or -1 unknown
};

Family family_of(const std::string& type) {
  Family f;
  auto gelu = [&](const char* cls, int tied) {
    f.gated = false;
    f.layernorm = true;
    f.qkv_bias = f.o_bias = f.mlp_bias = true;
    f.config_class = cls;
    f.tied = tied;
  };
  if (type == "gpt2") { gelu("GPT2Config", 1); f.learned_positions = true; f.four_h_default = true; }
  else if (type == "gpt_bigcode") { gelu("GPTBigCodeConfig", 1); f.learned_positions = true; f.four_h_default = true; }
  else if (type == "gptj") {
    gelu("GPTJConfig", 0);
    f.qkv_bias = f.o_bias = false; // GPT-J attention projections have no bias
    f.lm_head_bias = true;
    f.norms = 1;
    f.parallel = true;
    f.four_h_default = true;
  } else if (type == "gpt_neox") { gelu("GPTNeoXConfig", 0); }
  else if (type == "phi-msft" || type == "phi") {
    gelu(type == "phi" ? "PhiConfig" : "phi-msft PhiConfig (microsoft/phi-2 configuration_phi.py)", 0);
    f.lm_head_bias = true;
    f.norms = 1;
    f.parallel = true;
    f.four_h_default = type == "phi-msft";
  } else if (type == "falcon" || type == "RefinedWeb" || type == "RefinedWebModel") {
    gelu("FalconConfig", 1);
    f.qkv_bias = f.o_bias = f.mlp_bias = false; // FalconConfig bias=False; read from "bias" below
    f.four_h_default = true;
  } else if (type == "bloom") { gelu("BloomConfig", 1); f.four_h_default = true; }
  else if (type == "opt") { gelu("OPTConfig", 1); f.learned_positions = true; }
  else if (type == "starcoder2") { gelu("Starcoder2Config", 1); }
  else if (type == "bert" || type == "roberta" || type == "xlm-roberta" || type == "nomic_bert") {
    gelu("BertConfig", 1);
    f.learned_positions = true;
  } else if (type == "stablelm") { f.layernorm = true; f.config_class = "StableLmConfig"; f.tied = 0; }
  else if (type.rfind("gemma", 0) == 0) { f.config_class = "GemmaConfig"; f.tied = 1; }
  else if (type == "llama" || type == "llama4_text" || type == "mistral" || type == "mixtral" || type == "qwen2" ||
           type == "qwen2_moe" || type == "qwen3" || type == "qwen3_moe" || type == "phi3" || type == "deepseek_v2" ||
           type == "deepseek_v3" || type == "gpt_oss" || type == "olmo2" || type == "internlm2" || type == "ministral3" ||
           type == "ministral" || type == "granite" || type == "cohere") {
    f.config_class = "the family's config class (LlamaConfig, MistralConfig, Qwen2Config, ...)";
    f.tied = 0;
  }
  return f;
}

/// Published defaults of a config class, used when a (nested) config leaves the field out.
struct Default {
  const char* type;
  const char* key;
  long long value;
  const char* source;
};
const Default k_defaults[] = {
    {"llama", "hidden_size", 4096, "transformers LlamaConfig default"},
    {"llama", "intermediate_size", 11008, "transformers LlamaConfig default"},
    {"llama", "num_hidden_layers", 32, "transformers LlamaConfig default"},
    {"llama", "num_attention_heads", 32, "transformers LlamaConfig default"},
    {"llama", "vocab_size", 32000, "transformers LlamaConfig default"},
    {"llama", "max_position_embeddings", 2048, "transformers LlamaConfig default"},
    {"falcon", "max_position_embeddings", 2048, "transformers FalconConfig default"},
    {"RefinedWebModel", "max_position_embeddings", 2048, "transformers FalconConfig default"},
    {"RefinedWeb", "max_position_embeddings", 2048, "transformers FalconConfig default"},
    {"clip_vision_model", "hidden_size", 768, "transformers CLIPVisionConfig default"},
    {"clip_vision_model", "intermediate_size", 3072, "transformers CLIPVisionConfig default"},
    {"clip_vision_model", "num_hidden_layers", 12, "transformers CLIPVisionConfig default"},
    {"clip_vision_model", "image_size", 224, "transformers CLIPVisionConfig default"},
    {"clip_vision_model", "patch_size", 32, "transformers CLIPVisionConfig default"},
    {"clip_vision_model", "num_channels", 3, "transformers CLIPVisionConfig default"},
    {"siglip_vision_model", "num_channels", 3, "transformers SiglipVisionConfig default"},
    {"pixtral", "num_channels", 3, "transformers PixtralVisionConfig default"},
    {"llama4_vision_model", "num_channels", 3, "transformers Llama4VisionConfig default"},
};

/// Reads integer fields from one config object, noting where a published default stood in.
class Reader {
public:
  Reader(const json& object, std::string where, std::string type, HfConfigInfo& info)
      : m_f(object, std::move(where)), m_type(std::move(type)), m_info(info) {}
  const Fields& fields() const { return m_f; }

  /// The first of `keys` present, as an integer in [0, max]; nullopt when none is present (or all null).
  std::optional<long long> find(std::initializer_list<const char*> keys, long long max = k_max_dim) {
    for (const char* key : keys) {
      if (!m_f.json().contains(key)) continue;
      m_info.used_fields.emplace_back(key); // null counts as read: it means "not set"
      if (m_f.has(key)) return m_f.integer(key, 0, max);
    }
    return std::nullopt;
  }
  long long optional(std::initializer_list<const char*> keys, long long max = k_max_dim) {
    return find(keys, max).value_or(0);
  }
  /// A field the shape needs: present and positive, else the family's published default with a note,
  /// else an error naming the field.
  long long required(std::initializer_list<const char*> keys, std::string_view why, long long max = k_max_dim) {
    if (const auto value = find(keys, max)) {
      if (*value <= 0) m_f.fail(*keys.begin(), fmt::format("is {} (needed for {})", *value, why));
      return *value;
    }
    for (const auto& d : k_defaults)
      if (m_type == d.type && std::string_view(d.key) == *keys.begin()) {
        m_info.notes.push_back(fmt::format("{}: {} absent, assumed {} ({})", m_f.where(), d.key, d.value, d.source));
        return d.value;
      }
    m_f.fail(*keys.begin(), fmt::format("missing (needed for {})", why));
  }

private:
  Fields m_f;
  std::string m_type;
  HfConfigInfo& m_info;
};

/// `model_type` as text: absent or null is empty; any other non-string is an error naming the field.
std::string model_type_of(const json& j, const std::string& where) {
  if (!j.contains("model_type") || j.at("model_type").is_null()) return {};
  if (!j.at("model_type").is_string()) throw CatalogError(fmt::format("{}: field 'model_type' must be a string", where));
  return j.at("model_type").get<std::string>();
}

/// Vision tower + projector parameters of a multimodal config (vision_config), from the modeling code
/// of each tower type: CLIP and SigLIP ViTs (LayerNorm, biases, GELU MLP, learned positions), Pixtral
/// (RMSNorm, no biases, gated MLP, 2-D RoPE), Llama 4 (CLIP-like with a pixel-shuffle adapter).
double vision_params(const json& root, const json& vision, const std::string& where, double text_hidden,
                     HfConfigInfo& info) {
  const std::string type = model_type_of(vision, where + ": vision_config");
  Reader r(vision, where + ": vision_config", type, info);
  const double h = static_cast<double>(r.required({"hidden_size"}, "the vision tower"));
  const double f = static_cast<double>(r.required({"intermediate_size"}, "the vision tower"));
  const double layers = static_cast<double>(r.required({"num_hidden_layers"}, "the vision tower"));
  const double patch = static_cast<double>(r.required({"patch_size"}, "the vision tower"));
  const double image = static_cast<double>(r.required({"image_size"}, "the vision tower"));
  const double channels = static_cast<double>(r.required({"num_channels"}, "the vision tower"));
  const double patches = std::floor(image / patch) * std::floor(image / patch);
  double tower = 0;
  if (type == "pixtral") {
    tower = channels * patch * patch * h + h;                  // patch conv (no bias) + ln_pre (RMSNorm)
    tower += layers * (4 * h * h + 3 * h * f + 2 * h);         // q,k,v,o + gated MLP + 2 RMSNorms
  } else if (type == "clip_vision_model" || type == "siglip_vision_model" || type == "llama4_vision_model") {
    const bool clip_like = type != "siglip_vision_model";      // class token, no conv bias, pre-LayerNorm
    tower = channels * patch * patch * h + (clip_like ? 0 : h);
    tower += (patches + (clip_like ? 1 : 0)) * h + (clip_like ? h + 2 * h : 0);
    tower += layers * (4 * h * h + 4 * h + 2 * h * f + f + h + 4 * h) + 2 * h; // layers + post-LayerNorm
    if (type == "llama4_vision_model") {
      // Pixel-shuffle adapter: fc1 (h / ratio^2 -> projector_input_dim), fc2 (-> projector_output_dim), no biases.
      const Fields v(vision, where + ": vision_config");
      const double ratio = v.number_or("pixel_shuffle_ratio", 0.5, 0.01, 1);
      const double in = static_cast<double>(r.required({"projector_input_dim"}, "the vision adapter"));
      const double out = static_cast<double>(r.required({"projector_output_dim"}, "the vision adapter"));
      tower += h / (ratio * ratio) * in + in * out;
      tower += static_cast<double>(r.required({"vision_output_dim"}, "the projector")) * text_hidden;
      return tower;
    }
  } else {
    r.fields().fail("model_type", fmt::format("vision tower '{}' is not one gpuadvise can count (clip_vision_model, "
                                              "siglip_vision_model, pixtral, llama4_vision_model)", printable(type)));
  }
  // Projector from the vision width to the text width.
  const std::string top = model_type_of(root, where);
  const Fields rf(root, where);
  const bool bias = rf.boolean_or("multimodal_projector_bias", true);
  if (top == "gemma3") {
    tower += h * text_hidden + h; // mm_input_projection + mm_soft_emb_norm
  } else if (top == "mistral3" || top == "ministral3") {
    const double merge = static_cast<double>(rf.integer_or("spatial_merge_size", 2, 1, 64));
    tower += h + merge * merge * h * h;                                      // norm + patch merger
    tower += h * text_hidden + text_hidden * text_hidden + (bias ? 2 * text_hidden : 0); // linear_1, linear_2
  } else {
    tower += h * text_hidden + text_hidden * text_hidden + (bias ? 2 * text_hidden : 0); // LLaVA 2-layer MLP
  }
  return tower;
}

/// The precision a quantization_config maps to, and the modules it leaves in 16-bit.
HfQuantization read_quantization(const json& q, const std::string& where) {
  const Fields f(q, where + ": field 'quantization_config'");
  HfQuantization out;
  out.method = f.string_or("quant_method", "");
  const std::string method = normalize_name(out.method);
  out.bits = static_cast<int>(f.has("bits") ? f.integer("bits", 1, 64) : f.has("w_bit") ? f.integer("w_bit", 1, 64) : 0);
  const long long group = f.has("group_size") ? f.integer("group_size", -1, 1'000'000)
                          : f.has("q_group_size") ? f.integer("q_group_size", -1, 1'000'000) : 0;
  out.group_size = static_cast<int>(std::max<long long>(0, group)); // -1 = per-channel
  for (const char* key : {"ignore", "modules_to_not_convert", "llm_int8_skip_modules", "ignored_layers"})
    if (const auto* list = f.array(key))
      for (const auto& item : *list)
        if (item.is_string()) out.ignored.push_back(item.get<std::string>());

  if (method == "fp8" || method == "fbgemmfp8") {
    out.precision = "fp8";
    out.bits = 8;
    out.description = f.has("weight_block_size") ? "fp8 (block-wise scales)" : "fp8 (per-tensor scales)";
  } else if (method == "gptq" || method == "awq" || method == "marlin" || method == "awqmarlin" || method == "gptqmarlin") {
    if (out.bits == 4) out.precision = "int4";
    else if (out.bits == 8) out.precision = "int8-wo";
    else f.fail("bits", fmt::format("{}-bit {} has no gpuadvise precision (4 and 8 bits do)", out.bits, out.method));
    out.description = fmt::format("{} {}-bit (group {})", out.method, out.bits, out.group_size);
  } else if (method == "bitsandbytes") {
    const bool four = f.boolean_or("load_in_4bit", false);
    const bool eight = f.boolean_or("load_in_8bit", false);
    if (!four && !eight) f.fail("load_in_4bit", "bitsandbytes config loads neither 4-bit nor 8-bit weights");
    out.precision = four ? "nf4" : "int8-wo";
    out.bits = four ? 4 : 8;
    out.description = four ? "bitsandbytes 4-bit" : "bitsandbytes LLM.int8";
  } else if (method == "mxfp4") {
    out.precision = "mxfp4";
    out.bits = 4;
    out.group_size = 32;
    out.description = "mxfp4 (32 x 4-bit + 8-bit scale per block)";
  } else if (method == "modeloptfp4" || method == "nvfp4" || method == "modelopt") {
    const std::string algo = normalize_name(f.string_or("quant_algo", "nvfp4"));
    out.precision = algo == "fp8" ? "fp8" : "nvfp4";
    out.bits = algo == "fp8" ? 8 : 4;
    out.description = fmt::format("{} {}", out.method, out.precision);
  } else if (method == "compressedtensors") {
    out.format = f.string_or("format", "");
    const auto* groups = f.object("config_groups");
    if (!groups || groups->empty()) f.fail("config_groups", "missing (compressed-tensors needs at least one group)");
    const auto& first = groups->begin().value();
    const Fields g(first, f.where() + ": field 'config_groups." + groups->begin().key() + "'");
    const auto* weights = g.object("weights");
    if (!weights) g.fail("weights", "missing (the weights' scheme)");
    const Fields w(*weights, g.where() + ": field 'weights'");
    out.bits = static_cast<int>(w.integer("num_bits", 1, 64));
    const std::string type = w.string_or("type", "int");
    out.group_size = static_cast<int>(w.has("group_size") ? w.integer("group_size", 0, 1'000'000) : 0);
    const bool activations = g.has("input_activations");
    const std::string fmt_name = normalize_name(out.format);
    if (type == "float" && out.bits == 8) out.precision = "fp8";
    else if (type == "float" && out.bits == 4) out.precision = "nvfp4";
    else if (type == "int" && out.bits == 4) out.precision = "int4";
    else if (type == "int" && out.bits == 8) out.precision = activations ? "int8" : "int8-wo";
    else w.fail("num_bits", fmt::format("{}-bit {} weights have no gpuadvise precision", out.bits, printable(type)));
    if (fmt_name.find("nvfp4") != std::string::npos) out.precision = "nvfp4";
    out.description = fmt::format("compressed-tensors {} {} (format {}{}{})", printable(type), out.bits, printable(out.format),
                                  out.group_size > 0 ? fmt::format(", group {}", out.group_size) : "",
                                  activations ? ", activations quantized" : ", weights only");
  } else {
    f.fail("quant_method", fmt::format("'{}' is not a format gpuadvise reads (gptq, awq, fp8, bitsandbytes, "
                                       "compressed-tensors, mxfp4, modelopt)", printable(out.method)));
  }
  return out;
}

/// Parameters of the modules an ignore list names, besides the embedding table and LM head (which the
/// weight estimate keeps in 16-bit anyway). Patterns are matched by the module kinds they name.
double kept_params(const ModelShape& s, const std::vector<std::string>& ignored) {
  bool attention = false, router = false, shared = false, vision = false;
  for (const auto& pattern : ignored) {
    const std::string p = pattern;
    if (p.find("self_attn") != std::string::npos || p.find("attention") != std::string::npos ||
        p.find(".attn") != std::string::npos)
      attention = true;
    if (p.find("router") != std::string::npos || p.find("mlp.gate") != std::string::npos) router = true;
    if (p.find("shared_expert") != std::string::npos) shared = true;
    if (p.find("vision") != std::string::npos || p.find("visual") != std::string::npos ||
        p.find("multi_modal_projector") != std::string::npos)
      vision = true;
  }
  const double h = s.hidden_size;
  double kept = 0;
  if (attention) {
    const double q = static_cast<double>(s.num_attention_heads) * s.head_dim;
    const double kv = static_cast<double>(s.num_kv_heads) * s.head_dim;
    kept += s.num_layers * (2 * h * q + 2 * h * kv);
  }
  if (s.moe) {
    int moe_layers = 0;
    for (int layer = 0; layer < s.num_layers; ++layer) moe_layers += s.moe->is_moe_layer(layer) ? 1 : 0;
    if (router) kept += moe_layers * h * s.moe->num_experts;
    if (shared) {
      const double width = s.moe->shared_expert_intermediate_size > 0 ? s.moe->shared_expert_intermediate_size
                                                                      : s.moe->expert_intermediate_size;
      kept += moe_layers * s.moe->num_shared_experts * (s.gated_mlp ? 3.0 : 2.0) * h * width;
    }
  }
  if (vision) kept += s.vision_params;
  return kept;
}

} // namespace

ModelShape shape_from_hf_config(std::string_view text, std::string_view origin, HfConfigInfo* out) {
  HfConfigInfo info;
  const auto doc = detail::parse_json(text, origin);
  if (!doc.is_object()) throw CatalogError(fmt::format("{}: expected a JSON object", origin));
  const std::string file(origin);

  // Multimodal configs nest the language model under text_config; its keys win over the top level's,
  // and top-level keys it lacks (vocab_size, tie_word_embeddings, quantization_config) still count.
  json merged = doc;
  std::string where = file;
  if (doc.contains("text_config") && doc.at("text_config").is_object()) {
    info.nested_text_config = true;
    merged.erase("text_config");
    merged.erase("vision_config");
    for (auto it = doc.at("text_config").begin(); it != doc.at("text_config").end(); ++it) merged[it.key()] = it.value();
    if (!doc.at("text_config").contains("model_type")) merged.erase("model_type");
    where = file + ": text_config";
  }
  const std::string type = model_type_of(merged, where);
  const std::string top_type = model_type_of(doc, file);
  info.model_type = top_type.empty() ? type : top_type;
  const Family fam = family_of(type);
  Reader r(merged, where, type, info);
  const Fields& f = r.fields();

  ModelShape s;
  s.id = file;
  const std::string base = file.substr(file.find_last_of('/') == std::string::npos ? 0 : file.find_last_of('/') + 1);
  s.name = doc.contains("_name_or_path") && doc.at("_name_or_path").is_string() && !doc.at("_name_or_path").get<std::string>().empty()
               ? printable(doc.at("_name_or_path").get<std::string>())
               : base;
  s.source = file;
  s.architecture = info.model_type;

  s.num_layers = static_cast<int>(r.required({"num_hidden_layers", "n_layer", "num_layers"}, "the model shape"));
  s.hidden_size = static_cast<int>(r.required({"hidden_size", "n_embd", "d_model"}, "the model shape"));
  s.num_attention_heads = static_cast<int>(r.required({"num_attention_heads", "n_head"}, "the model shape"));
  s.vocab_size = static_cast<int>(r.required({"vocab_size"}, "the embedding table"));

  // KV heads, however the family spells them: num_key_value_heads (Llama family), Falcon's num_kv_heads /
  // n_head_kv with new_decoder_architecture, multi_query (Falcon-7B, GPT-BigCode: one KV head).
  const bool new_decoder = f.boolean_or("new_decoder_architecture", false);
  if (f.has("new_decoder_architecture")) info.used_fields.emplace_back("new_decoder_architecture");
  long long kv = r.optional({"num_key_value_heads", "num_kv_heads", "n_head_kv"});
  bool multi_query = false;
  if (f.has("multi_query")) {
    info.used_fields.emplace_back("multi_query");
    multi_query = f.boolean("multi_query");
  } else if (type == "gpt_bigcode") {
    multi_query = true;
    info.notes.push_back(fmt::format("{}: multi_query absent, assumed true (transformers GPTBigCodeConfig default)", where));
  }
  // transformers FalconAttention: one KV head whenever multi_query is set and new_decoder_architecture is
  // not, whatever num_kv_heads says (falcon-7b-instruct's config.json carries num_kv_heads 71 beside
  // multi_query true; its cache holds one head).
  if (multi_query && !new_decoder) {
    if (kv > 1)
      info.notes.push_back(fmt::format("{}: num_kv_heads {} is not used: multi_query without new_decoder_architecture "
                                       "means one KV head (transformers FalconAttention)", where, kv));
    kv = 1;
  }
  if (kv == 0 && !fam.layernorm && type != "gpt_oss" && !merged.contains("num_key_value_heads") && !f.has("kv_lora_rank"))
    info.notes.push_back(fmt::format("{}: num_key_value_heads absent, assumed {} = num_attention_heads (transformers "
                                     "{} default: multi-head attention)", where, s.num_attention_heads, fam.config_class));
  s.num_kv_heads = static_cast<int>(kv > 0 ? kv : s.num_attention_heads);
  if (s.num_kv_heads > s.num_attention_heads || s.num_attention_heads % s.num_kv_heads != 0)
    f.fail("num_key_value_heads", fmt::format("{} does not divide num_attention_heads {}", s.num_kv_heads, s.num_attention_heads));
  const long long head_dim = r.optional({"head_dim"});
  s.head_dim = static_cast<int>(head_dim > 0 ? head_dim : s.hidden_size / s.num_attention_heads);
  if (s.head_dim < 1)
    f.fail("num_attention_heads", fmt::format("{} heads leave a head dimension of 0 in hidden_size {} (give head_dim)",
                                              s.num_attention_heads, s.hidden_size));

  // Layer structure from the family's modeling code.
  s.gated_mlp = fam.gated;
  s.layernorm = fam.layernorm;
  s.qkv_bias = fam.qkv_bias;
  s.o_bias = fam.o_bias;
  s.mlp_bias = fam.mlp_bias;
  s.lm_head_bias = fam.lm_head_bias;
  s.norms_per_layer = fam.norms;
  s.parallel_attention = fam.parallel;
  if (type == "gemma2" || type == "gemma3" || type == "gemma3_text") s.norms_per_layer = 4;
  if (type == "gemma3" || type == "gemma3_text" || type == "qwen3" || type == "qwen3_moe") s.qk_norm_width = 2 * s.head_dim;
  if (type == "olmo2") s.qk_norm_width = (s.num_attention_heads + s.num_kv_heads) * s.head_dim;
  if (type == "falcon" || type == "RefinedWeb" || type == "RefinedWebModel") {
    s.parallel_attention = f.boolean_or("parallel_attn", true);
    s.norms_per_layer = new_decoder ? 2 : 1;
    const bool bias = f.boolean_or("bias", false);
    s.qkv_bias = s.o_bias = s.mlp_bias = bias;
    if (f.has("bias")) info.used_fields.emplace_back("bias");
    if (f.has("parallel_attn")) info.used_fields.emplace_back("parallel_attn");
  }
  if (type == "starcoder2" && f.has("use_bias")) {
    info.used_fields.emplace_back("use_bias");
    s.qkv_bias = s.o_bias = s.mlp_bias = f.boolean("use_bias");
  }
  if (type == "gpt_neox" && f.has("attention_bias")) s.qkv_bias = s.o_bias = f.boolean("attention_bias");
  if (fam.gated && (f.boolean_or("attention_bias", false) || type == "qwen2" || type == "qwen2_moe")) s.qkv_bias = true;
  if (type == "gpt_oss") {
    s.o_bias = f.boolean_or("attention_bias", true);
    s.qkv_bias = s.o_bias;
  }
  if (f.has("attention_bias")) info.used_fields.emplace_back("attention_bias");
  if (type == "stablelm") {
    s.qkv_bias = f.boolean_or("use_qkv_bias", false);
    if (f.has("use_qkv_bias")) info.used_fields.emplace_back("use_qkv_bias");
  }
  if (f.has("mlp_bias") && fam.gated) {
    s.mlp_bias = f.boolean("mlp_bias");
    info.used_fields.emplace_back("mlp_bias");
  }

  // MLP width: required, except where the family's config class publishes "absent = 4 x hidden".
  if (const auto ffn = r.find({"intermediate_size", "ffn_hidden_size", "n_inner", "ffn_dim"}); ffn && *ffn > 0) {
    s.intermediate_size = static_cast<int>(*ffn);
  } else if (fam.four_h_default || type == "bloom") {
    s.intermediate_size = 4 * s.hidden_size;
    info.notes.push_back(fmt::format("{}: MLP width absent or null, assumed 4 x hidden = {} (transformers {}: None means "
                                     "4 x the hidden size)", where, s.intermediate_size, fam.config_class));
  } else {
    s.intermediate_size = static_cast<int>(r.required({"intermediate_size"}, "the MLP width"));
  }

  // Tied embeddings: the file's value, else the config class's published default, named in a note.
  if (f.has("tie_word_embeddings")) {
    info.used_fields.emplace_back("tie_word_embeddings");
    s.tie_word_embeddings = f.boolean("tie_word_embeddings");
  } else {
    s.tie_word_embeddings = fam.tied != 0;
    info.notes.push_back(fmt::format("{}: tie_word_embeddings absent, assumed {} ({})", where,
                                     s.tie_word_embeddings ? "true" : "false",
                                     fam.tied < 0 ? "transformers PretrainedConfig default"
                                                  : fmt::format("transformers {} default", fam.config_class)));
  }

  s.max_context = r.required({"max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"},
                             "the context limit", k_max_positions);
  if (fam.learned_positions) s.learned_positions = static_cast<int>(std::min<long long>(s.max_context, k_max_dim)) + (type == "opt" ? 2 : 0);
  if (type == "bert" || type == "roberta" || type == "xlm-roberta" || type == "nomic_bert") {
    // Token-type table and the pooler (dense h x h + bias) of BertModel; the embedding LayerNorm is the
    // "final norm" term.
    const double types = static_cast<double>(r.optional({"type_vocab_size"}));
    s.other_params = types * s.hidden_size + static_cast<double>(s.hidden_size) * s.hidden_size + s.hidden_size;
  }
  if (type == "bloom") s.other_params = 2.0 * s.hidden_size; // word_embeddings_layernorm

  // Sliding-window and chunked attention, however spelt.
  const long long window = f.has("sliding_window") && f.json().at("sliding_window").is_number()
                               ? f.integer("sliding_window", 0, k_max_positions)
                               : 0;
  const long long chunk = r.optional({"attention_chunk_size"}, k_max_positions);
  const auto* types = f.array("layer_types");
  if (types) info.used_fields.emplace_back("layer_types");
  const auto count_types = [&](std::string_view what) {
    int n = 0;
    for (const auto& t : *types)
      if (t.is_string() && t.get<std::string>().find(what) != std::string::npos) ++n;
    return std::min(n, s.num_layers);
  };
  const bool window_on = window > 0 && f.boolean_or("use_sliding_window", true) && window < s.max_context;
  if (f.json().contains("sliding_window")) info.used_fields.emplace_back("sliding_window");
  if (f.has("use_sliding_window")) info.used_fields.emplace_back("use_sliding_window");
  if (chunk > 0 && chunk < s.max_context) {
    // Llama 4: RoPE layers attend within chunks of attention_chunk_size; every no_rope_layer_interval-th
    // layer (default 4, transformers Llama4TextConfig) is global. A cache holds at most one chunk.
    s.sliding_window = static_cast<int>(chunk);
    s.sliding_layers = SlidingLayers::counted;
    if (types) {
      s.counted_sliding_layers = count_types("chunked");
    } else if (const auto* no_rope = f.array("no_rope_layers"); no_rope && !no_rope->empty()) {
      int n = 0;
      for (const auto& v : *no_rope) n += v.is_number() && v.get<double>() != 0 ? 1 : 0;
      s.counted_sliding_layers = std::min(n, s.num_layers);
    } else {
      const long long interval = f.integer_or("no_rope_layer_interval", 4, 1, 1'000'000);
      s.counted_sliding_layers = static_cast<int>(s.num_layers - s.num_layers / interval);
      if (!f.has("no_rope_layer_interval"))
        info.notes.push_back(fmt::format("{}: chunked attention on all but every 4th layer (transformers Llama4TextConfig "
                                         "no_rope_layer_interval default 4)", where));
    }
  } else if (window_on) {
    s.sliding_window = static_cast<int>(window);
    if (types) {
      s.sliding_layers = SlidingLayers::counted;
      s.counted_sliding_layers = count_types("sliding");
    } else if (type == "gemma2") {
      s.sliding_layers = SlidingLayers::even; // Gemma-2 alternates: even layers local, odd layers global
    } else if (f.has("sliding_window_pattern")) {
      // Gemma-3: every Nth layer is global, the rest local.
      const long long pattern = f.integer("sliding_window_pattern", 1, 1'000'000);
      s.sliding_layers = SlidingLayers::counted;
      s.counted_sliding_layers = static_cast<int>(s.num_layers - s.num_layers / pattern);
      info.used_fields.emplace_back("sliding_window_pattern");
    } else if (type == "gemma3" || type == "gemma3_text") {
      s.sliding_layers = SlidingLayers::counted;
      s.counted_sliding_layers = s.num_layers - s.num_layers / 6;
      info.notes.push_back(fmt::format("{}: sliding_window_pattern absent, assumed 6 (transformers Gemma3TextConfig "
                                       "default: 5 local layers per global one)", where));
    } else {
      s.sliding_layers = SlidingLayers::all;
    }
  }

  // Mixture of experts: Mixtral/Llama 4/gpt-oss (num_local_experts), Qwen-MoE (num_experts, shared expert),
  // DeepSeek (n_routed_experts, n_shared_experts, first_k_dense_replace, moe_layer_freq).
  const long long experts = r.optional({"num_local_experts", "n_routed_experts", "num_experts"});
  if (experts > 1) {
    MoeShape e;
    e.num_experts = static_cast<int>(experts);
    e.experts_per_token = static_cast<int>(r.required({"num_experts_per_tok", "experts_per_token", "num_experts_per_token"},
                                                      "the active parameters"));
    e.num_shared_experts = static_cast<int>(r.optional({"n_shared_experts"}));
    const long long moe_ffn = r.optional({"moe_intermediate_size"});
    e.expert_intermediate_size = static_cast<int>(moe_ffn > 0 ? moe_ffn : s.intermediate_size);
    e.first_dense_layers = static_cast<int>(std::min<long long>(r.optional({"first_k_dense_replace"}), s.num_layers));
    e.dense_intermediate_size = s.intermediate_size;
    e.layer_step = static_cast<int>(std::max<long long>(1, r.optional({"moe_layer_freq", "decoder_sparse_step",
                                                                         "interleave_moe_layer_step"})));
    if (const long long shared = r.optional({"shared_expert_intermediate_size"}); shared > 0) {
      e.num_shared_experts = 1; // Qwen-MoE: one shared expert of its own width (+ a 1-output gate)
      e.shared_expert_intermediate_size = static_cast<int>(shared);
      s.other_params = static_cast<double>(s.num_layers) * s.hidden_size; // shared_expert_gate, h -> 1 per layer
    }
    if (type == "llama4_text") {
      // Llama 4: one shared expert of intermediate_size beside the routed ones; dense layers use
      // intermediate_size_mlp (transformers Llama4TextMoe / Llama4TextMLP).
      e.num_shared_experts = 1;
      e.expert_intermediate_size = s.intermediate_size;
      e.dense_intermediate_size = static_cast<int>(r.required({"intermediate_size_mlp"}, "Llama 4's dense layers"));
    }
    if (type == "gpt_oss") {
      e.expert_bias = true;
      s.other_params = static_cast<double>(s.num_layers) * s.num_attention_heads; // attention sinks
    }
    if (e.experts_per_token > e.num_experts) f.fail("num_experts_per_tok", "is larger than the number of experts");
    s.moe = e;
  }

  // Multi-head latent attention (DeepSeek-V2/V3).
  if (f.has("kv_lora_rank") && f.json().at("kv_lora_rank").is_number()) {
    MlaShape m;
    m.kv_lora_rank = static_cast<int>(r.required({"kv_lora_rank"}, "MLA"));
    m.q_lora_rank = static_cast<int>(r.optional({"q_lora_rank"}));
    m.qk_nope_head_dim = static_cast<int>(r.required({"qk_nope_head_dim"}, "MLA"));
    m.qk_rope_head_dim = static_cast<int>(r.required({"qk_rope_head_dim"}, "MLA"));
    m.v_head_dim = static_cast<int>(r.required({"v_head_dim"}, "MLA"));
    s.mla = m;
    s.num_kv_heads = s.num_attention_heads;
    s.head_dim = m.qk_nope_head_dim + m.qk_rope_head_dim;
  }

  if (const auto* vision = doc.contains("vision_config") && doc.at("vision_config").is_object() ? &doc.at("vision_config") : nullptr) {
    info.vision_params = vision_params(doc, *vision, file, s.hidden_size, info);
    s.vision_params = info.vision_params;
    info.used_fields.emplace_back("vision_config");
  }

  info.torch_dtype = f.has("torch_dtype") && f.json().at("torch_dtype").is_string() ? f.string("torch_dtype")
                     : f.has("dtype") && f.json().at("dtype").is_string()             ? f.string("dtype")
                                                                                      : "";
  if (!info.torch_dtype.empty()) info.used_fields.emplace_back(f.has("torch_dtype") ? "torch_dtype" : "dtype");

  if (const auto* quant = f.object("quantization_config")) {
    info.used_fields.emplace_back("quantization_config");
    HfQuantization q = read_quantization(*quant, where);
    q.params_kept_16bit = kept_params(s, q.ignored);
    info.quant_method = q.method;
    info.quant_precision = q.precision;
    info.quant_group_size = q.group_size;
    info.quantization = q;
  }

  for (const json* object : {&doc, doc.contains("text_config") && doc.at("text_config").is_object() ? &doc.at("text_config") : nullptr}) {
    if (!object) continue;
    for (auto it = object->begin(); it != object->end(); ++it) {
      const std::string& key = it.key();
      const bool used = std::find(info.used_fields.begin(), info.used_fields.end(), key) != info.used_fields.end();
      const bool listed = std::find(info.unused_fields.begin(), info.unused_fields.end(), printable(key)) != info.unused_fields.end();
      if (!used && !listed && !k_no_effect.count(key)) info.unused_fields.push_back(printable(key)); // keys are echoed in findings
    }
  }
  if (out) *out = std::move(info);
  return s;
}

} // namespace gpuadvise
