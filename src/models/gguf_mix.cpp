// llama.cpp quantization labels (the file types `llama-quantize` writes: Q4_K_M, Q5_K_S, IQ4_XS, ...)
// and the bytes each gives a model shape. A label names a mix, not one type: llama.cpp's quantizer
// (src/llama-quant.cpp, llama_ftype_get_default_type and llama_tensor_get_type_impl) starts every 2-D
// weight at the label's default ggml type and raises or lowers some tensors by their role and layer.
// This file applies those rules to the tensors a shape has (token_embd, output, and per layer attn_q,
// attn_k, attn_v, attn_output, ffn_gate/up/down or their expert and shared-expert forms) and sums the
// bytes each type's block layout (k_types in gguf.cpp) gives. docs/model-files.md lists the rules.
#include <gpuadvise/error.hpp>
#include <gpuadvise/model_files.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace gpuadvise {
namespace {

/// Labels with their llama.h `enum llama_ftype` value (as general.file_type stores it) and default ggml
/// type (llama_ftype_get_default_type). Order: llama-quantize's own list, smallest first.
const GgufLabel k_labels[] = {
    {"IQ1_S", 24, "IQ1_S"},     {"IQ1_M", 31, "IQ1_M"},     {"TQ1_0", 36, "TQ1_0"},   {"TQ2_0", 37, "TQ2_0"},
    {"IQ2_XXS", 19, "IQ2_XXS"}, {"IQ2_XS", 20, "IQ2_XS"},   {"IQ2_S", 28, "IQ2_XS"},  {"IQ2_M", 29, "IQ2_S"},
    {"Q2_K_S", 21, "Q2_K"},     {"Q2_K", 10, "Q2_K"},       {"IQ3_XXS", 23, "IQ3_XXS"}, {"IQ3_XS", 22, "IQ3_S"},
    {"IQ3_S", 26, "IQ3_S"},     {"IQ3_M", 27, "IQ3_S"},     {"Q3_K_S", 11, "Q3_K"},   {"Q3_K_M", 12, "Q3_K"},
    {"Q3_K_L", 13, "Q3_K"},     {"IQ4_NL", 25, "IQ4_NL"},   {"IQ4_XS", 30, "IQ4_XS"}, {"Q4_0", 2, "Q4_0"},
    {"Q4_1", 3, "Q4_1"},        {"Q4_K_S", 14, "Q4_K"},     {"Q4_K_M", 15, "Q4_K"},   {"Q5_0", 8, "Q5_0"},
    {"Q5_1", 9, "Q5_1"},        {"Q5_K_S", 16, "Q5_K"},     {"Q5_K_M", 17, "Q5_K"},   {"Q6_K", 18, "Q6_K"},
    {"Q8_0", 7, "Q8_0"},        {"MXFP4_MOE", 38, "MXFP4"},
};

enum class Role { token_embd, output, attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down, other };

bool is(const GgufLabel& l, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (std::string_view(l.name) == n) return true;
  return false;
}

/// llama-quant.cpp's use_more_bits: the first and last eighth of the layers and every third in between.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/// The type llama_tensor_get_type_impl picks for one tensor (the branches that apply without an
/// importance matrix and without --output-tensor-type / --token-embedding-type overrides).
std::string pick(const GgufLabel& l, Role role, int layer, int layers, const ModelShape& s, bool tied, bool expert3d) {
  std::string t = l.base;
  const int n_gqa = s.num_kv_heads > 0 ? s.num_attention_heads / s.num_kv_heads : 1;
  const int n_expert = s.moe ? s.moe->num_experts : 0;
  const bool falcon = s.architecture == "falcon";
  const bool low_iq = is(l, {"IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"});
  if (role == Role::output || (tied && role == Role::token_embd)) {
    if (is(l, {"MXFP4_MOE"}) || falcon) return "Q8_0";
    if (is(l, {"IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"})) return "Q5_K";
    return t == "Q8_0" ? t : "Q6_K";
  }
  if (is(l, {"MXFP4_MOE"})) return expert3d ? "MXFP4" : "Q8_0";
  if (role == Role::token_embd) {
    if (is(l, {"IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"})) return "Q2_K";
    if (is(l, {"IQ2_S", "IQ2_M", "IQ3_XXS"})) return "IQ3_S";
    return t;
  }
  if (low_iq) {
    if (role == Role::attn_v) return n_gqa >= 4 || n_expert >= 4 ? "Q4_K" : is(l, {"IQ2_S", "IQ2_M"}) ? "IQ3_S" : "Q2_K";
    if (n_expert == 8 && role == Role::attn_k) return "Q4_K";
    if (role == Role::ffn_down) return layer < layers / 8 ? (is(l, {"IQ2_S", "IQ2_M"}) ? "IQ3_S" : "Q2_K") : t;
    if (role == Role::attn_output) {
      if (n_expert == 8) return "Q5_K";
      if (is(l, {"IQ1_S", "IQ1_M"})) return "IQ2_XXS";
      if (is(l, {"IQ2_S", "IQ2_M"})) return "IQ3_S";
    }
    return t;
  }
  switch (role) {
  case Role::attn_v: {
    if (is(l, {"Q2_K"})) t = n_gqa >= 4 ? "Q4_K" : "Q3_K";
    else if (is(l, {"Q2_K_S"}) && n_gqa >= 4) t = "Q4_K";
    else if (is(l, {"IQ3_XXS"})) t = n_gqa >= 4 ? "Q4_K" : "IQ3_S";
    else if (is(l, {"IQ3_XS", "IQ3_S"}) && n_gqa >= 4) t = "Q4_K";
    else if (is(l, {"IQ3_M"})) t = "Q4_K";
    else if (is(l, {"Q3_K_M"})) t = layer < 2 ? "Q5_K" : "Q4_K";
    else if (is(l, {"Q3_K_L"})) t = "Q5_K";
    else if (is(l, {"IQ4_NL", "IQ4_XS"}) && n_gqa >= 4) t = "Q5_K";
    else if (is(l, {"Q4_K_M", "Q5_K_M"}) && use_more_bits(layer, layers)) t = "Q6_K";
    else if (is(l, {"Q4_K_S"}) && layer < 4) t = "Q5_K";
    // LLM_TYPE_70B (llama-model.cpp: a Llama with 80 layers): 8 heads share attn_v, so it gets more bits.
    if (s.architecture == "llama" && s.num_layers == 80 && (t == "Q3_K" || t == "Q4_K")) t = "Q5_K";
    if (n_expert == 8) t = "Q8_0";
    return t;
  }
  case Role::attn_k:
    if (n_expert == 8) return "Q8_0";
    if (is(l, {"IQ3_XS"})) return "IQ3_XXS";
    if (is(l, {"IQ3_XXS"})) return "IQ2_S";
    return t;
  case Role::attn_q:
    if (is(l, {"IQ3_XS"})) return "IQ3_XXS";
    if (is(l, {"IQ3_XXS"})) return "IQ2_S";
    return t;
  case Role::ffn_down:
    if (is(l, {"Q2_K"})) return "Q3_K";
    if (is(l, {"Q2_K_S"})) return layer < layers / 8 ? "Q4_K" : t;
    if (is(l, {"IQ3_XXS"})) return layer < layers / 8 ? "Q4_K" : "Q3_K";
    if (is(l, {"Q3_K_M"})) return layer < layers / 16 ? "Q5_K" : !falcon || use_more_bits(layer, layers) ? "Q4_K" : "Q3_K";
    if (is(l, {"IQ3_M"}) && (layer < layers / 8 || (n_expert == 8 && use_more_bits(layer, layers)))) return "Q4_K";
    if (is(l, {"Q3_K_L"})) return falcon ? "Q4_K" : "Q5_K";
    if (is(l, {"Q4_K_M"})) {
      if (falcon) return layer < layers / 16 ? "Q6_K" : use_more_bits(layer, layers) ? "Q5_K" : "Q4_K";
      return use_more_bits(layer, layers) ? "Q6_K" : t;
    }
    if (layer < layers / 8 && is(l, {"IQ4_NL", "IQ4_XS"})) return "Q5_K";
    if (is(l, {"Q5_K_M"}) && use_more_bits(layer, layers)) return "Q6_K";
    if (is(l, {"Q4_K_S"}) && !falcon && layer < layers / 8) return "Q5_K";
    return t;
  case Role::attn_output:
    if (falcon) return is(l, {"Q3_K_L"}) ? "Q4_K" : t;
    if (n_expert == 8) {
      if (is(l, {"Q2_K", "IQ3_XS", "IQ3_XXS", "Q3_K_S", "Q3_K_M", "IQ4_NL", "Q4_K_S", "Q4_K_M", "IQ3_S", "IQ3_M", "IQ4_XS"}))
        return "Q5_K";
      return t;
    }
    if (is(l, {"Q2_K"})) return "Q3_K";
    if (is(l, {"IQ3_XXS"})) return "IQ3_S";
    if (is(l, {"Q3_K_M", "IQ3_M"})) return "Q4_K";
    if (is(l, {"Q3_K_L"})) return "Q5_K";
    return t;
  case Role::ffn_gate:
  case Role::ffn_up:
    if (is(l, {"IQ3_XS"}) && layer >= layers / 8 && layer < 7 * layers / 8) return "IQ3_XXS";
    return t;
  default: return t;
  }
}

/// tensor_type_fallback: a row length the block does not divide falls back to a 32-element type.
std::string fallback(const std::string& type, double row) {
  const GgmlType* g = ggml_type_by_name(type);
  if (!g || std::fmod(row, g->block_elements) == 0) return type;
  static const std::pair<const char*, const char*> k_fallback[] = {
      {"IQ1_S", "IQ4_NL"}, {"IQ1_M", "IQ4_NL"}, {"IQ2_XXS", "IQ4_NL"}, {"IQ2_XS", "IQ4_NL"}, {"IQ2_S", "IQ4_NL"},
      {"IQ3_XXS", "IQ4_NL"}, {"IQ3_S", "IQ4_NL"}, {"IQ4_XS", "IQ4_NL"}, {"Q2_K", "Q4_0"}, {"Q3_K", "Q4_0"},
      {"TQ1_0", "Q4_0"}, {"TQ2_0", "Q4_0"}, {"Q4_K", "Q5_0"}, {"Q5_K", "Q5_1"}, {"Q6_K", "Q8_0"}};
  for (const auto& [from, to] : k_fallback)
    if (type == from) return std::fmod(row, 32) == 0 ? to : "F16";
  return "F16";
}

} // namespace

const GgufLabel* gguf_label_by_name(std::string_view name) {
  std::string n = normalize_name(name);
  // llama-quantize's aliases: Q3_K, Q4_K and Q5_K name the _M mixes.
  if (n == "q3k") n = "q3km";
  if (n == "q4k") n = "q4km";
  if (n == "q5k") n = "q5km";
  for (const auto& l : k_labels)
    if (normalize_name(l.name) == n) return &l;
  return nullptr;
}

const GgufLabel* gguf_label_by_file_type(long long file_type) {
  for (const auto& l : k_labels)
    if (l.file_type == file_type) return &l;
  return nullptr;
}

std::string gguf_label_names() {
  std::string out;
  for (const auto& l : k_labels) out += (out.empty() ? "" : ", ") + std::string(l.name);
  return out;
}

Precision gguf_label_family(const GgufLabel& l) {
  const std::string base = l.base;
  if (base == "Q8_0") return Precision::q8_0;
  if (base == "Q4_0" || base == "Q4_1" || base == "Q5_0" || base == "Q5_1" || base == "IQ4_NL") return Precision::q4_0;
  return Precision::q4_k_m; // K, IQ, TQ and MXFP4_MOE mixes: llama.cpp's quantized kernels, any CUDA/HIP GPU
}

GgufMix gguf_mix(const ModelShape& s, const GgufLabel& label) {
  GgufMix mix;
  mix.label = &label;
  const double h = s.hidden_size;
  const bool tied = s.tie_word_embeddings;
  const auto add = [&](Role role, int layer, double rows, double row_length, bool expert3d = false) {
    const std::string type = fallback(pick(label, role, layer, s.num_layers, s, tied, expert3d), row_length);
    const GgmlType* g = ggml_type_by_name(type);
    const double elements = rows * row_length;
    const double bytes = elements / g->block_elements * g->block_bytes;
    mix.bytes += bytes;
    mix.params += elements;
    mix.bytes_by_type[type] += bytes;
  };
  // 1-D weights (norms, biases, router) stay F32: tensor_allows_quantization skips them and the router.
  const auto keep_f32 = [&](double elements) {
    mix.bytes += 4 * elements;
    mix.params += elements;
    mix.bytes_by_type["F32"] += 4 * elements;
  };
  add(Role::token_embd, 0, s.vocab_size, h);
  if (!tied) add(Role::output, 0, s.vocab_size, h);
  const double q = static_cast<double>(s.num_attention_heads) * s.head_dim;
  const double kv = static_cast<double>(s.num_kv_heads) * s.head_dim;
  const double per_layer_f32 = s.norms_per_layer * h * (s.layernorm ? 2 : 1) + (s.qkv_bias ? q + 2 * kv : 0) +
                               (s.o_bias ? h : 0) + s.qk_norm_width;
  for (int i = 0; i < s.num_layers; ++i) {
    if (s.mla) {
      // MLA projections (q_a/q_b, kv_a, kv_b, o): counted at the label's attention types by role.
      const auto& m = *s.mla;
      const double qd = static_cast<double>(s.num_attention_heads) * (m.qk_nope_head_dim + m.qk_rope_head_dim);
      if (m.q_lora_rank > 0) {
        add(Role::attn_q, i, m.q_lora_rank, h);
        add(Role::attn_q, i, qd, m.q_lora_rank);
      } else {
        add(Role::attn_q, i, qd, h);
      }
      add(Role::other, i, m.kv_lora_rank + m.qk_rope_head_dim, h);
      add(Role::attn_v, i, static_cast<double>(s.num_attention_heads) * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank);
      add(Role::attn_output, i, h, static_cast<double>(s.num_attention_heads) * m.v_head_dim);
    } else {
      add(Role::attn_q, i, q, h);
      add(Role::attn_k, i, kv, h);
      add(Role::attn_v, i, kv, h);
      add(Role::attn_output, i, h, q);
    }
    keep_f32(per_layer_f32);
    const auto mlp = [&](double f, double copies, bool expert3d) {
      if (s.gated_mlp) add(Role::ffn_gate, i, copies * f, h, expert3d);
      add(Role::ffn_up, i, copies * f, h, expert3d);
      add(Role::ffn_down, i, copies * h, f, expert3d);
    };
    if (s.moe && s.moe->is_moe_layer(i)) {
      const auto& e = *s.moe;
      mlp(e.expert_intermediate_size, e.num_experts, true);
      if (e.num_shared_experts > 0)
        mlp(e.shared_expert_intermediate_size > 0 ? e.shared_expert_intermediate_size : e.expert_intermediate_size,
            e.num_shared_experts, false);
      keep_f32(h * e.num_experts); // ffn_gate_inp (router): never quantized
      if (e.expert_bias) // gpt-oss: expert and router biases (names end in "bias": never quantized)
        keep_f32(e.num_experts * ((s.gated_mlp ? 2.0 : 1.0) * e.expert_intermediate_size + h) + e.num_experts);
    } else {
      const double f = s.moe && s.moe->dense_intermediate_size > 0 ? s.moe->dense_intermediate_size : s.intermediate_size;
      mlp(f, 1, false);
      if (s.mlp_bias) keep_f32((s.gated_mlp ? 2.0 : 1.0) * f + h);
    }
  }
  keep_f32(h * (s.layernorm ? 2 : 1) + s.other_params + static_cast<double>(s.learned_positions) * h +
           (s.lm_head_bias ? s.vocab_size : 0));
  return mix;
}

} // namespace gpuadvise

namespace gpuadvise {

LlamaCppComputeBuffer llamacpp_compute_buffer(const ModelShape& s, double n_ctx, bool flash_attention) {
  LlamaCppComputeBuffer b;
  b.n_ubatch = std::min(512.0, std::max(1.0, n_ctx)); // llama.cpp default -ub 512 (capped at the context)
  const double ub = b.n_ubatch;
  const double h = s.hidden_size;
  // FFN stage: gate, up and their product (f32, n_ubatch x the active MLP width) and three hidden-size
  // f32 tensors (residual, normed input, FFN output); MoE adds the k weighted expert outputs per token.
  double f_active = s.intermediate_size;
  double moe_extra = 0;
  if (s.moe) {
    const auto& e = *s.moe;
    const double shared = e.shared_expert_intermediate_size > 0 ? e.shared_expert_intermediate_size : e.expert_intermediate_size;
    f_active = static_cast<double>(e.experts_per_token) * e.expert_intermediate_size + e.num_shared_experts * shared;
    moe_extra = 4.0 * ub * e.experts_per_token * h;
  }
  const double ffn_stage = 4.0 * ub * (3.0 * f_active + 3.0 * h) + moe_extra;
  // Without flash attention the attention stage materialises K*Q (f32, n_kv x n_ubatch x n_head); the
  // graph allocator reuses memory between stages, so the buffer holds the larger stage.
  const double kq = flash_attention ? 0 : 4.0 * n_ctx * ub * s.num_attention_heads;
  const double mask = 2.0 * n_ctx * ub;     // the KQ mask, f16, n_kv x n_ubatch, alive for the whole graph
  const double logits = 4.0 * s.vocab_size; // the reserve graph's one output row
  b.expected = std::max(ffn_stage, kq) + mask + logits;
  // Against gguf-parser-go's measured sweep (docs/model-files.md): nine dense models at -3.2% to +0.6%,
  // five MoE models at -33% to +4% of the measured size (measured / expected from 0.67 to 1.04).
  b.low = b.expected * (s.moe ? 0.65 : 0.93);
  b.high = b.expected * (s.moe ? 1.1 : 1.07);
  return b;
}

} // namespace gpuadvise
