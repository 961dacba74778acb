#include "json_fields.hpp"

#include <gpuadvise/hf_config.hpp>
#include <gpuadvise/units.hpp>

#include <algorithm>
#include <set>

namespace gpuadvise {
namespace {

using detail::Fields;

/// Keys that do not change memory or speed (token ids, dropout, init, RoPE scaling constants, ...).
const std::set<std::string> k_no_effect = {
    "architectures", "attention_dropout", "bos_token_id", "eos_token_id", "pad_token_id", "initializer_range",
    "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon", "rope_theta", "rope_scaling", "use_cache",
    "transformers_version", "hidden_act", "hidden_activation", "pretraining_tp", "attn_logit_softcapping",
    "final_logit_softcapping", "query_pre_attn_scalar", "cache_implementation", "router_aux_loss_coef",
    "output_router_logits", "router_jitter_noise", "mlp_bias", "bias", "hidden_dropout", "attention_probs_dropout_prob",
    "_name_or_path", "auto_map", "max_window_layers", "use_mrope", "model_type", "rope_interleave", "embd_pdrop",
    "resid_pdrop", "original_max_position_embeddings", "partial_rotary_factor", "alibi", "rotary", "apply_residual_connection_post_layernorm",
    "norm_topk_prob", "scoring_func", "topk_method", "n_group", "topk_group", "routed_scaling_factor", "aux_loss_alpha",
    "seq_aux", "ep_size", "moe_layer_freq", "rope_type", "sliding_window_size", "use_sliding_window",
    "sliding_window_pattern", "layer_types", "multi_query", "new_decoder_architecture", "parallel_attn",
    "num_kv_heads", "n_head_kv"};

/// Largest dimension accepted (layers, widths, heads, vocabulary, experts), as for data/models.json:
/// every dimension must fit an int, and products of them must stay far from overflow.
constexpr long long k_max_dim = 10'000'000;
/// Largest context length (max_position_embeddings, sliding_window) accepted.
constexpr long long k_max_positions = 1'000'000'000;

/// The first of `keys` present in the config, as an integer in [0, max]; 0 when none is present.
long long first_int(const Fields& f, std::initializer_list<const char*> keys, HfConfigInfo& info,
                    long long max = k_max_dim) {
  for (const char* key : keys) {
    if (!f.json().contains(key)) continue;
    info.used_fields.emplace_back(key); // null counts as read: it means "not set"
    if (f.has(key)) return f.integer(key, 0, max);
  }
  return 0;
}

long long required_int(const Fields& f, std::initializer_list<const char*> keys, HfConfigInfo& info) {
  const long long value = first_int(f, keys, info);
  if (value <= 0) f.fail(*keys.begin(), "missing or zero (needed for the model shape)");
  return value;
}

} // namespace

ModelShape shape_from_hf_config(std::string_view text, std::string_view origin, HfConfigInfo* out) {
  HfConfigInfo info;
  const auto doc = detail::parse_json(text, origin);
  const Fields f(doc, std::string(origin));
  ModelShape s;
  info.model_type = f.string_or("model_type", "");
  const std::string type = info.model_type;
  s.id = std::string(origin);
  const std::string file(origin);
  const std::string base = file.substr(file.find_last_of('/') == std::string::npos ? 0 : file.find_last_of('/') + 1);
  s.name = f.has("_name_or_path") && f.json().at("_name_or_path").is_string() ? f.string("_name_or_path") : base;
  s.source = std::string(origin);
  s.architecture = type;

  s.num_layers = static_cast<int>(required_int(f, {"num_hidden_layers", "n_layer", "num_layers"}, info));
  s.hidden_size = static_cast<int>(required_int(f, {"hidden_size", "n_embd", "d_model"}, info));
  s.num_attention_heads = static_cast<int>(required_int(f, {"num_attention_heads", "n_head"}, info));
  s.vocab_size = static_cast<int>(required_int(f, {"vocab_size"}, info));

  // KV heads: num_key_value_heads (Llama family), Falcon's num_kv_heads / multi_query; default MHA.
  long long kv = first_int(f, {"num_key_value_heads", "num_kv_heads", "n_head_kv"}, info);
  if (kv == 0 && f.boolean_or("multi_query", false) && !f.boolean_or("new_decoder_architecture", false)) kv = 1;
  s.num_kv_heads = static_cast<int>(kv > 0 ? kv : s.num_attention_heads);
  if (s.num_attention_heads % s.num_kv_heads != 0)
    f.fail("num_key_value_heads", fmt::format("{} does not divide num_attention_heads {}", s.num_kv_heads, s.num_attention_heads));
  const long long head_dim = first_int(f, {"head_dim"}, info);
  s.head_dim = static_cast<int>(head_dim > 0 ? head_dim : s.hidden_size / s.num_attention_heads);
  if (s.head_dim < 1)
    f.fail("num_attention_heads", fmt::format("{} heads leave a head dimension of 0 in hidden_size {} (give head_dim)",
                                              s.num_attention_heads, s.hidden_size));

  const bool falcon_like = type == "falcon" || type == "RefinedWeb" || type == "RefinedWebModel";
  const bool gpt_like = falcon_like || type == "gpt2" || type == "gpt_neox" || type == "opt" || type == "gptj" ||
                        type == "bloom" || type == "phi" || type == "starcoder2";
  s.gated_mlp = !gpt_like;
  s.layernorm = gpt_like;
  long long ffn = first_int(f, {"intermediate_size", "ffn_hidden_size", "n_inner", "ffn_dim"}, info);
  s.intermediate_size = static_cast<int>(ffn > 0 ? ffn : 4LL * s.hidden_size);
  s.tie_word_embeddings = f.boolean_or("tie_word_embeddings", true); // transformers' PretrainedConfig default
  if (f.has("tie_word_embeddings")) info.used_fields.emplace_back("tie_word_embeddings");
  s.qkv_bias = f.boolean_or("attention_bias", false) || type == "qwen2" || type == "qwen2_moe";
  if (f.has("attention_bias")) info.used_fields.emplace_back("attention_bias");
  s.norms_per_layer = type == "gemma2" || type == "gemma3" || type == "gemma3_text" ? 4 : 2;
  if (falcon_like) {
    s.parallel_attention = f.boolean_or("parallel_attn", true);
    s.norms_per_layer = f.boolean_or("new_decoder_architecture", false) ? 2 : 1;
  }
  s.max_context =
      first_int(f, {"max_position_embeddings", "max_sequence_length", "seq_length", "n_positions"}, info, k_max_positions);
  if (s.max_context <= 0) s.max_context = 2048;

  // Sliding window: used when sliding_window is set and not switched off (Qwen2 use_sliding_window=false).
  const long long window = f.has("sliding_window") && f.json().at("sliding_window").is_number()
                               ? f.integer("sliding_window", 0, k_max_positions)
                               : 0;
  const bool window_on = window > 0 && f.boolean_or("use_sliding_window", true) && window < s.max_context;
  if (window_on) {
    s.sliding_window = static_cast<int>(window);
    info.used_fields.emplace_back("sliding_window");
    if (const auto* types = f.array("layer_types")) {
      int sliding = 0;
      for (const auto& t : *types)
        if (t.is_string() && t.get<std::string>().find("sliding") != std::string::npos) ++sliding;
      s.sliding_layers = SlidingLayers::counted;
      s.counted_sliding_layers = std::min(sliding, s.num_layers);
      info.used_fields.emplace_back("layer_types");
    } else if (type == "gemma2") {
      s.sliding_layers = SlidingLayers::even; // Gemma-2 alternates: even layers local, odd layers global
    } else if (f.has("sliding_window_pattern")) {
      // Gemma-3: every Nth layer is global, the rest local.
      const long long pattern = f.integer("sliding_window_pattern", 1, 1'000'000);
      s.sliding_layers = SlidingLayers::counted;
      s.counted_sliding_layers = static_cast<int>(s.num_layers - s.num_layers / pattern);
      info.used_fields.emplace_back("sliding_window_pattern");
    } else {
      s.sliding_layers = SlidingLayers::all;
    }
    if (f.has("use_sliding_window")) info.used_fields.emplace_back("use_sliding_window");
  } else if (f.json().contains("sliding_window")) { // present but null, zero or switched off: no window
    info.used_fields.emplace_back("sliding_window");
    if (f.has("use_sliding_window")) info.used_fields.emplace_back("use_sliding_window");
  }

  // Mixture of experts: Mixtral (num_local_experts), Qwen-MoE (num_experts), DeepSeek (n_routed_experts).
  const long long experts = first_int(f, {"num_local_experts", "n_routed_experts", "num_experts"}, info);
  if (experts > 1) {
    MoeShape e;
    e.num_experts = static_cast<int>(experts);
    e.experts_per_token = static_cast<int>(required_int(f, {"num_experts_per_tok", "num_experts_per_token"}, info));
    e.num_shared_experts = static_cast<int>(first_int(f, {"n_shared_experts"}, info));
    const long long moe_ffn = first_int(f, {"moe_intermediate_size"}, info);
    e.expert_intermediate_size = static_cast<int>(moe_ffn > 0 ? moe_ffn : s.intermediate_size);
    e.first_dense_layers = static_cast<int>(std::min<long long>(first_int(f, {"first_k_dense_replace"}, info), s.num_layers));
    e.dense_intermediate_size = s.intermediate_size;
    if (const long long shared = first_int(f, {"shared_expert_intermediate_size"}, info); shared > 0 && e.num_shared_experts == 0) {
      // Qwen-MoE: one shared expert of its own width, expressed in units of the expert width.
      e.num_shared_experts = static_cast<int>(std::max<long long>(1, shared / e.expert_intermediate_size));
    }
    if (e.experts_per_token > e.num_experts) f.fail("num_experts_per_tok", "is larger than the number of experts");
    s.moe = e;
  }

  // Multi-head latent attention (DeepSeek-V2/V3).
  if (f.has("kv_lora_rank") && f.json().at("kv_lora_rank").is_number()) {
    MlaShape m;
    m.kv_lora_rank = static_cast<int>(required_int(f, {"kv_lora_rank"}, info));
    m.q_lora_rank = static_cast<int>(first_int(f, {"q_lora_rank"}, info));
    m.qk_nope_head_dim = static_cast<int>(required_int(f, {"qk_nope_head_dim"}, info));
    m.qk_rope_head_dim = static_cast<int>(required_int(f, {"qk_rope_head_dim"}, info));
    m.v_head_dim = static_cast<int>(required_int(f, {"v_head_dim"}, info));
    s.mla = m;
    s.num_kv_heads = s.num_attention_heads;
    s.head_dim = m.qk_nope_head_dim + m.qk_rope_head_dim;
  }

  info.torch_dtype = f.has("torch_dtype") && f.json().at("torch_dtype").is_string() ? f.string("torch_dtype")
                     : f.has("dtype") && f.json().at("dtype").is_string()             ? f.string("dtype")
                                                                                      : "";
  if (!info.torch_dtype.empty()) info.used_fields.emplace_back(f.has("torch_dtype") ? "torch_dtype" : "dtype");

  if (const auto* quant = f.object("quantization_config")) {
    info.used_fields.emplace_back("quantization_config");
    const Fields q(*quant, f.where() + ": field 'quantization_config'");
    info.quant_method = q.string_or("quant_method", "");
    const long long bits = q.has("bits") ? q.integer("bits", 1, 64) : q.has("w_bit") ? q.integer("w_bit", 1, 64) : 0;
    info.quant_group_size = static_cast<int>(q.has("group_size") ? q.integer("group_size", -1, 1'000'000)
                                             : q.has("q_group_size") ? q.integer("q_group_size", -1, 1'000'000)
                                                                     : 0);
    if (info.quant_group_size < 0) info.quant_group_size = 0; // -1 = per-channel
    const std::string method = normalize_name(info.quant_method);
    if (method == "fp8" || method == "fbgemmfp8" || method == "compressedtensors") info.quant_precision = "fp8";
    if ((method == "gptq" || method == "awq" || method == "marlin" || method == "awqmarlin") && bits == 4)
      info.quant_precision = "int4";
    if ((method == "gptq" || method == "awq") && bits == 8) info.quant_precision = "int8-wo";
    if (method == "bitsandbytes")
      info.quant_precision = quant->value("load_in_4bit", false) ? "nf4" : quant->value("load_in_8bit", false) ? "int8-wo" : "";
    if (method == "compressedtensors") info.quant_precision = ""; // too many schemes to map blindly
  }

  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    const bool used = std::find(info.used_fields.begin(), info.used_fields.end(), key) != info.used_fields.end();
    if (!used && !k_no_effect.count(key)) info.unused_fields.push_back(printable(key)); // keys are echoed in findings
  }
  if (out) *out = std::move(info);
  return s;
}

} // namespace gpuadvise
