#pragma once
/// Model architectures: the shape that decides weights, KV cache and FLOPs per token.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// Which layers use sliding-window attention (counted: an explicit number, from a config's layer_types).
enum class SlidingLayers { none, all, even, odd, counted };

/// Mixture-of-experts layout of the MLP.
struct MoeShape {
  int num_experts = 0;
  int experts_per_token = 0;
  int num_shared_experts = 0;
  int expert_intermediate_size = 0;
  int first_dense_layers = 0;       ///< leading layers with a dense MLP (DeepSeek first_k_dense_replace)
  int dense_intermediate_size = 0;  ///< MLP width of those dense layers
  int layer_step = 1;               ///< every step-th layer (after the dense ones) is MoE, the rest dense
                                    ///< (Llama 4 interleave_moe_layer_step, Qwen-MoE decoder_sparse_step)
  int shared_expert_intermediate_size = 0; ///< width of each shared expert; 0 = expert_intermediate_size
  bool expert_bias = false;         ///< experts and router carry biases (gpt-oss)
  /// True when `layer` (0-based) has a routed MoE MLP.
  bool is_moe_layer(int layer) const { return layer >= first_dense_layers && (layer + 1 - first_dense_layers) % layer_step == 0; }
  bool operator==(const MoeShape&) const = default;
};

/// Multi-head latent attention (DeepSeek-V2/V3): the KV cache holds a compressed latent.
struct MlaShape {
  int kv_lora_rank = 0;
  int q_lora_rank = 0; ///< 0 = no low-rank query projection
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;
  bool operator==(const MlaShape&) const = default;
};

/// A decoder-only transformer's shape, as in its Hugging Face config.json.
struct ModelShape {
  std::string id;
  std::string name;
  std::vector<std::string> aliases;
  std::string source;
  std::string architecture;
  int num_layers = 0;
  int hidden_size = 0;
  int num_attention_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int intermediate_size = 0;
  int vocab_size = 0;
  bool tie_word_embeddings = false;
  long long max_context = 0;
  bool gated_mlp = true;         ///< 3 matrices (SwiGLU/GeGLU) vs 2 (GELU)
  bool qkv_bias = false;
  bool layernorm = false;        ///< LayerNorm (weight + bias) vs RMSNorm (weight)
  int norms_per_layer = 2;
  bool parallel_attention = false;
  bool o_bias = false;           ///< attention output projection has a bias (GPT-2, GPT-NeoX, Phi-2, BERT)
  bool mlp_bias = false;         ///< MLP matrices have biases (GPT-2, GPT-J, GPT-NeoX, Phi-2, StarCoder2, BERT)
  bool lm_head_bias = false;     ///< the LM head has a bias (GPT-J, Phi-2)
  int learned_positions = 0;     ///< rows of a learned absolute position table (GPT-2, BERT); 0 = RoPE/ALiBi
  int qk_norm_width = 0;         ///< per-layer q/k norm weights (Qwen3, Gemma 3: 2 x head_dim; OLMo-2: q + kv width)
  double other_params = 0;       ///< further weights used per token (BERT pooler and token-type table, gpt-oss sinks)
  double vision_params = 0;      ///< vision tower + projector of a multimodal model: held in memory, not per text token
  int sliding_window = 0;        ///< tokens; 0 = none
  SlidingLayers sliding_layers = SlidingLayers::none;
  int counted_sliding_layers = 0; ///< used when sliding_layers == counted
  std::optional<MoeShape> moe;
  std::optional<MlaShape> mla;
  double published_params = 0;   ///< as stated by the source; 0 when unknown
  std::string published_params_source;

  /// Number of layers whose attention is limited to the sliding window.
  int sliding_layer_count() const;
  bool operator==(const ModelShape&) const = default;
};

/// Parameter counts derived from a shape (see docs/formulas.md, "Parameters").
struct ParamCounts {
  double total = 0;       ///< every weight, all experts
  double active = 0;      ///< weights touched per token (MoE: routed top-k + shared)
  double embedding = 0;   ///< input embedding + untied LM head (kept in 16-bit by quantized formats)
  double vision = 0;      ///< vision tower and projector (part of total, not of active)
};

/// Counts the parameters of a shape from its dimensions.
ParamCounts count_params(const ModelShape& shape);

/// KV-cache bytes one sequence holds at `context` tokens, summed over layers: full-attention layers
/// hold every token, sliding-window layers at most the window, MLA layers the compressed latent.
/// Per token per layer: 2 x kv_heads x head_dim x bytes (MLA: (kv_lora_rank + rope_dim) x bytes).
double kv_cache_bytes_per_sequence(const ModelShape& shape, double context, double bytes_per_element);

/// Attention FLOPs per token per unit of attended context, summed over layers (QK^T and AV):
/// 4 x heads x head_dim per layer per attended token (MLA uses its qk and v head dims).
double attention_flops_per_context_token(const ModelShape& shape);

/// Attended tokens for a query at position `position`, summed over layers, respecting sliding windows.
double attended_tokens_all_layers(const ModelShape& shape, double position);

/// The model catalog: presets (data/models.json) and the reference shapes bare sizes map to.
class ModelCatalog {
public:
  /// Parses a models document; `origin` appears in errors. Throws CatalogError.
  static ModelCatalog from_json(std::string_view text, std::string_view origin);
  /// The catalog compiled into the binary (data/models.json), built from generated code without parsing.
  static ModelCatalog embedded();
  /// A catalog from ready-made presets and reference-shape ids.
  static ModelCatalog from_parts(std::vector<ModelShape> models, std::vector<std::string> reference_ids);
  /// The ids bare sizes map to.
  const std::vector<std::string>& reference_ids() const { return m_reference_ids; }
  /// Adds or replaces presets from a user file.
  void merge_json(std::string_view text, std::string_view origin);

  const std::vector<ModelShape>& models() const { return m_models; }
  /// Finds a preset by id, alias or HF repo id, ignoring case and punctuation; nullptr if none.
  const ModelShape* find(std::string_view name) const;
  /// Up to `n` preset ids closest to `name`, for "did you mean".
  std::vector<std::string> suggestions(std::string_view name, std::size_t n = 3) const;
  /// The reference shape for a bare parameter count: the nearest (in log scale) of the reference list.
  const ModelShape& reference_for(double params) const;

private:
  void add(const nlohmann::json& entry, std::string_view origin, std::size_t index);
  std::vector<ModelShape> m_models;
  std::vector<std::string> m_reference_ids;
};

} // namespace gpuadvise
