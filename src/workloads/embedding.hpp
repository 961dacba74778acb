#pragma once
// Internal: the text-embedding / reranking kind (encoder-only transformers), registered in registry.cpp.
#include <gpuadvise/evaluation.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// An encoder-only embedding or reranking model (data/embedding.json), each number from its config.json.
struct EncoderModel {
  std::string id, name, task, architecture, source, params_source;
  std::vector<std::string> aliases;
  int num_layers = 0, hidden_size = 0, num_attention_heads = 0, intermediate_size = 0;
  bool gated_mlp = false;            ///< GeGLU/SwiGLU: the up projection is h x 2f
  int vocab_size = 0, max_position_embeddings = 0, type_vocab_size = 0;
  bool absolute_positions = true;    ///< a learned position table (else rotary)
  bool bias = true;                  ///< linear layers and norms carry biases
  int local_attention_window = 0;    ///< ModernBERT: local layers attend this many tokens
  int global_attention_every = 0;    ///< ModernBERT: every n-th layer attends globally
  int embedding_dim = 0;
  double params_published = 0;
};

/// The embedding kind's part of a Workload.
struct EncoderSpec : KindSpec {
  EncoderModel model;
};

/// The built-in embedding presets, parsed on first use; `text` parses another file (tests).
const std::vector<EncoderModel>& embedding_presets();
std::vector<EncoderModel> parse_embedding_presets(std::string_view text, std::string_view origin);
/// Parameters from the shape: embeddings + layers x (attention + MLP + norms) + final norm (docs/formulas.md).
double encoder_params(const EncoderModel& m);
/// Key positions one token attends to on average over the layers, for sequences of `tokens`.
double encoder_attended_positions(const EncoderModel& m, double tokens);

namespace detail {
/// The registry row of the embedding kind.
KindModule embedding_module();
} // namespace detail

} // namespace gpuadvise
