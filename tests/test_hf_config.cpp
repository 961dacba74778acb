// Hugging Face config.json reading on real config files (tests/data/configs, sources in SOURCES.md):
// parameter counts against the published ones, KV bytes per token by hand, and every spelling of the
// features the shape needs (nested text_config, MQA/GQA, GELU MLPs, windows, experts, MLA, quantization).
#include <gpuadvise/error.hpp>
#include <gpuadvise/files.hpp>
#include <gpuadvise/hf_config.hpp>
#include <gpuadvise/model.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

using namespace gpuadvise;

namespace {

ModelShape load(const std::string& name, HfConfigInfo* info = nullptr) {
  const std::string path = std::string(GPUADVISE_SOURCE_DIR) + "/tests/data/configs/" + name + ".config.json";
  return shape_from_hf_config(read_text_file(path, "fixture"), path, info);
}

/// A published parameter count and the precision it is published with (half of its last digit):
/// "1.23B" is known to +-0.005B, "7B" only to +-0.5B. The check allows max(0.5%, that rounding).
struct Published {
  const char* fixture;
  double params;
  double rounding;
  const char* source;
};

bool within(double computed, const Published& p) {
  const double allowed = std::max(0.005 * p.params, p.rounding);
  return std::abs(computed - p.params) <= allowed;
}

} // namespace

TEST_CASE("Real config.json files: parameters within 0.5% (or the card's rounding) of the published count",
          "[hf_config]") {
  const Published cases[] = {
      {"gpt2", 124e6, 0.5e6, "huggingface.co/openai-community/gpt2 card: 'the smallest version of GPT-2, with 124M parameters'"},
      {"gpt2-medium", 355e6, 0.5e6, "huggingface.co/openai-community/gpt2-medium card: 'the 355M parameter version'"},
      {"gpt-j-6b", 6'053'381'344, 0, "huggingface.co/EleutherAI/gpt-j-6b card table: n_parameters 6,053,381,344"},
      {"santacoder", 1.1e9, 0.05e9, "huggingface.co/bigcode/gpt_bigcode-santacoder card: '1.1B parameter models'"},
      {"redpajama-incite-3b", 2.8e9, 0.05e9, "huggingface.co/togethercomputer/RedPajama-INCITE-Chat-3B-v1 card: '2.8B parameter'"},
      {"mixtral-8x7b", 46.7e9, 0.05e9, "mistral.ai/news/mixtral-of-experts: '46.7B total parameters'"},
      {"llama-2-13b", 13e9, 0.5e9, "huggingface.co/meta-llama/Llama-2-13b-hf card: 13B"},
      {"llama-3.1-70b", 70.6e9, 0.05e9, "huggingface.co/meta-llama/Llama-3.1-70B safetensors 'Model size 70.6B params' (card: 70B)"},
      {"llama-3.2-1b", 1.23e9, 0.005e9, "huggingface.co/meta-llama/Llama-3.2-1B-Instruct card: '1B (1.23B)'"},
      {"llama-3.2-3b", 3.21e9, 0.005e9, "huggingface.co/meta-llama/Llama-3.2-3B-Instruct card: '3B (3.21B)'"},
      {"qwen3-0.6b", 0.6e9, 0.05e9, "huggingface.co/Qwen/Qwen3-0.6B card: 'Number of Parameters: 0.6B'"},
      {"qwen3-1.7b", 1.7e9, 0.05e9, "huggingface.co/Qwen/Qwen3-1.7B card: 'Number of Parameters: 1.7B'"},
      {"qwen2.5-3b", 3.09e9, 0.005e9, "huggingface.co/Qwen/Qwen2.5-3B-Instruct card: 'Number of Parameters: 3.09B'"},
      {"qwen1.5-moe-a2.7b", 14.3e9, 0.05e9, "qwenlm.github.io/blog/qwen-moe: '14.3B parameters in total'"},
      {"deepseek-v2-lite", 15.7e9, 0.05e9, "DeepSeek-V2 paper (arXiv:2405.04434) appendix B: '15.7B parameters in total'"},
      {"gemma-3-1b-it", 1000e6, 0.5e6, "Gemma 3 technical report table 1: 302M embedding + 698M non-embedding"},
      {"gemma-2-2b", 2'614'341'888, 0, "Gemma 2 technical report table 1: 590,118,912 embedding + 2,024,517,888 non-embedding"},
      {"gemma-2-27b", 27'227'718'144, 0, "Gemma 2 technical report table 1: 1,180,237,824 embedding + 26,047,480,320 non-embedding"},
      {"phi-3.5-mini", 3.8e9, 0.05e9, "huggingface.co/microsoft/Phi-3.5-mini-instruct card: '3.8B parameters'"},
      {"phi-4-mini", 3.8e9, 0.05e9, "huggingface.co/microsoft/Phi-4-mini-instruct card: '3.8B parameters'"},
      {"tinyllama-1.1b", 1.1e9, 0.05e9, "huggingface.co/TinyLlama/TinyLlama-1.1B-Chat-v1.0 card: 1.1B"},
      {"snowflake-arctic-embed-m", 110e6, 0.5e6, "huggingface.co/Snowflake/snowflake-arctic-embed-m card table: 110 (millions)"},
      {"olmo-2-7b", 7e9, 0.5e9, "huggingface.co/allenai/OLMo-2-1124-7B card: 7B"},
      {"mistral-7b-v0.3", 7e9, 0.5e9, "huggingface.co/mistralai/Mistral-7B-Instruct-v0.3 card: 7B"},
      {"starcoder2-7b", 7e9, 0.5e9, "huggingface.co/bigcode/starcoder2-7b card: '7B parameter model'"},
      {"llava-1.5-7b", 7e9, 0.5e9, "huggingface.co/llava-hf/llava-1.5-7b-hf card: 7B"},
      {"qwen2-0.5b", 0.49e9, 0.005e9, "qwenlm.github.io/blog/qwen2 model table: Qwen2-0.5B 0.49B parameters"},
      {"codellama-34b", 34e9, 0.5e9, "huggingface.co/codellama/CodeLlama-34b-hf card: 34B"},
      {"olmo-2-32b", 32e9, 0.5e9, "huggingface.co/allenai/OLMo-2-0325-32B card: 32B"},
      {"gemma-2b", 2'506'434'560, 0, "Gemma technical report (2024) table: 524,550,144 embedding + 1,981,884,416 non-embedding"},
      {"smollm-135m", 135e6, 0.5e6, "huggingface.co/HuggingFaceTB/SmolLM-135M card: 135M"},
      {"smollm-1.7b", 1.7e9, 0.05e9, "huggingface.co/HuggingFaceTB/SmolLM-1.7B card: 1.7B"},
      {"stablelm-2-1.6b", 1.6e9, 0.05e9, "huggingface.co/stabilityai/stablelm-2-zephyr-1_6b card: '1.6 billion parameter'"},
      // Two rounded figures summed: +-0.05B each.
      {"ministral-3-3b", 3.8e9, 0.1e9, "huggingface.co/mistralai/Ministral-3-3B-Instruct-2512 card: 3.4B language model + 0.4B vision encoder"},
  };
  for (const auto& p : cases) {
    const double computed = count_params(load(p.fixture)).total;
    INFO(p.fixture << ": computed " << computed << ", published " << p.params << " (" << p.source << ")");
    CHECK(within(computed, p));
  }
}

TEST_CASE("Real config.json files: KV bytes per token by hand (bf16 cache, 2 bytes)", "[hf_config][kv]") {
  const auto kv = [](const char* name) { return kv_cache_bytes_per_sequence(load(name), 1, 2); };
  // 2 (K and V) x layers x KV heads x head dim x 2 bytes
  CHECK(kv("gpt2") == 2.0 * 12 * 12 * 64 * 2);            // MHA, 768 / 12 heads
  CHECK(kv("santacoder") == 2.0 * 24 * 1 * 128 * 2);      // multi_query: one KV head of 2048 / 16
  CHECK(kv("gpt-j-6b") == 2.0 * 28 * 16 * 256 * 2);
  CHECK(kv("redpajama-incite-3b") == 2.0 * 32 * 32 * 80 * 2);
  CHECK(kv("phi-2") == 2.0 * 32 * 32 * 80 * 2);           // n_head_kv null: MHA
  CHECK(kv("starcoder2-7b") == 2.0 * 32 * 4 * 128 * 2);
  CHECK(kv("llama-3.2-1b") == 2.0 * 16 * 8 * 64 * 2);
  CHECK(kv("llama-3.1-70b") == 2.0 * 80 * 8 * 128 * 2);
  CHECK(kv("qwen3-0.6b") == 2.0 * 28 * 8 * 128 * 2);      // head_dim 128 given, not 1024 / 16
  CHECK(kv("gemma-3-1b-it") == 2.0 * 26 * 1 * 256 * 2);
  CHECK(kv("gemma-2-27b") == 2.0 * 46 * 16 * 128 * 2);
  CHECK(kv("phi-4-mini") == 2.0 * 32 * 8 * 128 * 2);
  CHECK(kv("mixtral-8x7b") == 2.0 * 32 * 8 * 128 * 2);
  CHECK(kv("qwen1.5-moe-a2.7b") == 2.0 * 24 * 16 * 128 * 2);
  CHECK(kv("ministral-3-3b") == 2.0 * 26 * 8 * 128 * 2);  // from text_config
  CHECK(kv("llava-1.5-7b") == 2.0 * 32 * 32 * 128 * 2);   // LlamaConfig defaults, noted
  // MLA: the compressed latent (kv_lora_rank 512) + the RoPE key (64) per layer, 27 layers
  CHECK(kv("deepseek-v2-lite") == 27.0 * (512 + 64) * 2);
  CHECK(kv("gemma-2b") == 2.0 * 18 * 1 * 256 * 2);        // MQA, head_dim 256
  CHECK(kv("codellama-34b") == 2.0 * 48 * 8 * 128 * 2);
  CHECK(kv("smollm-135m") == 2.0 * 30 * 3 * 64 * 2);      // 576 / 9 heads
  CHECK(kv("stablelm-2-1.6b") == 2.0 * 24 * 32 * 64 * 2);
}

TEST_CASE("Windows from real configs: Gemma 3 pattern, Gemma 2 alternation, StarCoder2 and Qwen switches", "[hf_config][kv]") {
  // Gemma 3 1B: sliding_window 512, sliding_window_pattern 6 -> 26 - 26/6 = 22 local layers, 4 global.
  const auto gemma3 = load("gemma-3-1b-it");
  CHECK(gemma3.sliding_window == 512);
  CHECK(gemma3.sliding_layer_count() == 22);
  CHECK(kv_cache_bytes_per_sequence(gemma3, 32768, 2) == 2.0 * 1 * 256 * 2 * (4 * 32768.0 + 22 * 512.0));
  // Gemma 2 2B: 26 layers alternate, 13 local at 4096.
  CHECK(load("gemma-2-2b").sliding_layer_count() == 13);
  // StarCoder2-7B: 4096-token window on every layer.
  CHECK(kv_cache_bytes_per_sequence(load("starcoder2-7b"), 16384, 2) == 2.0 * 32 * 4 * 128 * 2 * 4096);
  // Qwen1.5-MoE: sliding_window 32768 but use_sliding_window false: no window.
  CHECK(load("qwen1.5-moe-a2.7b").sliding_window == 0);
}

TEST_CASE("GELU 4h families: two MLP matrices, biases, learned positions", "[hf_config]") {
  // GPT-2 small by hand: 12 layers of (4h^2 + 4h) attention + (8h^2 + 5h) MLP + 4h LayerNorms, tied
  // 50257 x 768 table, 1024 x 768 positions, final LayerNorm 2h.
  const double h = 768;
  const double layer = 4 * h * h + 4 * h + 2 * h * 4 * h + 4 * h + h + 4 * h;
  CHECK(count_params(load("gpt2")).total == Approx(12 * layer + 50257 * h + 1024 * h + 2 * h).epsilon(1e-12));
  HfConfigInfo info;
  const auto gptj = load("gpt-j-6b", &info);
  CHECK_FALSE(gptj.gated_mlp);
  CHECK(gptj.intermediate_size == 4 * 4096); // n_inner null -> 4 x n_embd, noted with its source
  bool noted = false;
  for (const auto& note : info.notes) noted = noted || note.find("4 x hidden = 16384") != std::string::npos;
  CHECK(noted);
  CHECK_FALSE(load("redpajama-incite-3b").gated_mlp);
  CHECK_FALSE(load("starcoder2-7b").gated_mlp);
  CHECK_FALSE(load("snowflake-arctic-embed-m").gated_mlp);
  CHECK(load("llama-3.2-1b").gated_mlp);
}

TEST_CASE("Falcon's KV spellings: multi_query (7B) and new_decoder_architecture with num_kv_heads (40B)", "[hf_config]") {
  // Falcon-7B's values as listed by Cerebras modelzoo's falcon converter (tiiuae/falcon-7b config.json);
  // the file has no max_position_embeddings: FalconConfig's default 2048 is noted.
  const std::string falcon7 = R"({"model_type": "falcon", "vocab_size": 65024, "hidden_size": 4544,
    "num_hidden_layers": 32, "num_attention_heads": 71, "multi_query": true, "new_decoder_architecture": false,
    "parallel_attn": true, "bias": false, "alibi": false})";
  HfConfigInfo info;
  const auto s7 = shape_from_hf_config(falcon7, "falcon-7b.json", &info);
  CHECK(s7.num_kv_heads == 1);
  CHECK(kv_cache_bytes_per_sequence(s7, 1, 2) == 2.0 * 32 * 1 * 64 * 2);
  CHECK_FALSE(s7.gated_mlp);
  CHECK(s7.max_context == 2048);
  CHECK(info.notes.size() >= 2); // the 4h MLP and the context default
  // By hand: per layer q (h x h) + k, v (h x 64 each) + o (h x h) + 2 x h x 4h MLP + one LayerNorm (2h);
  // tied 65024-token table; final LayerNorm. Falcon-7B's card: "7B"; the shape gives 6.92B.
  const double h = 4544;
  const double layer = h * h + 2 * h * 64 + h * h + 2 * h * 4 * h + 2 * h;
  CHECK(count_params(s7).total == Approx(32 * layer + 65024 * h + 2 * h).epsilon(1e-12));

  const std::string falcon40 = R"({"model_type": "falcon", "vocab_size": 65024, "hidden_size": 8192,
    "num_hidden_layers": 60, "num_attention_heads": 128, "num_kv_heads": 8, "new_decoder_architecture": true,
    "parallel_attn": true, "bias": false, "max_position_embeddings": 2048})";
  const auto s40 = shape_from_hf_config(falcon40, "falcon-40b.json");
  CHECK(s40.num_kv_heads == 8);
  CHECK(s40.norms_per_layer == 2);
  CHECK(kv_cache_bytes_per_sequence(s40, 1, 2) == 2.0 * 60 * 8 * 64 * 2);
}

TEST_CASE("Nested text_config: Ministral 3 (Pixtral tower) and LLaVA (CLIP tower, LlamaConfig defaults)", "[hf_config]") {
  HfConfigInfo info;
  const auto m = load("ministral-3-3b", &info);
  CHECK(info.nested_text_config);
  CHECK(m.num_layers == 26);
  CHECK(m.hidden_size == 3072);
  // Pixtral by hand: conv 3 x 14 x 14 x 1024, ln_pre 1024, 24 x (4 x 1024^2 + 3 x 1024 x 4096 + 2 x 1024);
  // projector: norm 1024 + patch merger (2 x 2 x 1024) x 1024 + 1024 x 3072 + 3072 x 3072 (no biases).
  const double tower = 3.0 * 14 * 14 * 1024 + 1024 + 24 * (4.0 * 1024 * 1024 + 3.0 * 1024 * 4096 + 2 * 1024);
  const double projector = 1024 + 4.0 * 1024 * 1024 + 1024.0 * 3072 + 3072.0 * 3072;
  CHECK(info.vision_params == Approx(tower + projector).epsilon(1e-12));
  const auto counts = count_params(m);
  CHECK(counts.vision == info.vision_params);
  CHECK(counts.total - counts.active == Approx(info.vision_params)); // held, not used per text token

  HfConfigInfo llava_info;
  const auto llava = load("llava-1.5-7b", &llava_info);
  CHECK(llava.num_layers == 32);     // LlamaConfig default, noted
  CHECK(llava.vocab_size == 32064);  // text_config's own value
  CHECK(llava_info.notes.size() >= 4);
  CHECK(llava_info.vision_params > 0.3e9); // CLIP ViT-L/14-336 (~303M) + 2-layer projector (~21M)
  CHECK(llava_info.vision_params < 0.33e9);
}

TEST_CASE("Experts: Qwen-MoE shared expert, DeepSeek first-k dense + MLA, active counts", "[hf_config]") {
  const auto qwen = load("qwen1.5-moe-a2.7b");
  REQUIRE(qwen.moe);
  CHECK(qwen.moe->num_shared_experts == 1);
  CHECK(qwen.moe->shared_expert_intermediate_size == 5632);
  // Qwen's blog: 2.7B activated parameters.
  CHECK(count_params(qwen).active == Approx(2.7e9).margin(0.05e9));
  const auto ds = load("deepseek-v2-lite");
  REQUIRE(ds.moe);
  REQUIRE(ds.mla);
  CHECK(ds.moe->first_dense_layers == 1);
  CHECK(ds.moe->num_shared_experts == 2);
  // DeepSeek-V2 paper appendix B: 2.4B activated per token. Without the input embedding table (a lookup,
  // as gpt-oss's card counts too) the shape gives 2.45B: 2% over the paper's two-digit figure, which does
  // not say what it leaves out; checked at 3%.
  CHECK(count_params(ds).active - 102400.0 * 2048 == Approx(2.4e9).epsilon(0.03));
  // Mixtral: 12.9B active (Mistral AI).
  CHECK(count_params(load("mixtral-8x7b")).active == Approx(12.9e9).margin(0.05e9));
}

TEST_CASE("Llama 4 chunked attention, shared expert and interleaved MoE; gpt-oss layer_types", "[hf_config]") {
  // Llama-4-Maverick's text_config values (TensorRT-LLM's test copy of the published config, with its 48 layers).
  const std::string maverick = R"({"model_type": "llama4", "text_config": {"model_type": "llama4_text",
    "attention_chunk_size": 8192, "head_dim": 128, "hidden_size": 5120, "interleave_moe_layer_step": 2,
    "intermediate_size": 8192, "intermediate_size_mlp": 16384, "max_position_embeddings": 1048576,
    "num_attention_heads": 40, "num_experts_per_tok": 1, "num_hidden_layers": 48, "num_key_value_heads": 8,
    "num_local_experts": 128, "vocab_size": 202048, "tie_word_embeddings": false}})";
  HfConfigInfo info;
  const auto s = shape_from_hf_config(maverick, "maverick.json", &info);
  CHECK(s.sliding_window == 8192);
  CHECK(s.sliding_layer_count() == 36); // every 4th layer global (no_rope_layer_interval default 4, noted)
  CHECK(kv_cache_bytes_per_sequence(s, 100000, 2) == 2.0 * 8 * 128 * 2 * (12 * 100000.0 + 36 * 8192.0));
  REQUIRE(s.moe);
  CHECK(s.moe->layer_step == 2);
  CHECK(s.moe->num_shared_experts == 1);
  CHECK(s.moe->dense_intermediate_size == 16384);
  // Meta's card: 17B active, 400B total (language model only here: no vision_config given).
  const auto c = count_params(s);
  CHECK(c.active == Approx(17e9).margin(0.5e9));
  CHECK(c.total == Approx(400e9).margin(5e9));

  // gpt-oss-20b's shape (openai/gpt-oss-20b config.json values): alternating sliding/full layers.
  std::string types;
  for (int i = 0; i < 24; ++i) types += std::string(i ? "," : "") + (i % 2 == 0 ? "\"sliding_attention\"" : "\"full_attention\"");
  const std::string oss = R"({"model_type": "gpt_oss", "hidden_size": 2880, "intermediate_size": 2880,
    "num_hidden_layers": 24, "num_attention_heads": 64, "num_key_value_heads": 8, "head_dim": 64,
    "num_local_experts": 32, "num_experts_per_tok": 4, "vocab_size": 201088, "tie_word_embeddings": false,
    "attention_bias": true, "sliding_window": 128, "max_position_embeddings": 131072, "layer_types": [)" + types + R"(],
    "quantization_config": {"quant_method": "mxfp4", "modules_to_not_convert": ["model.layers.*.self_attn",
    "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"]}})";
  HfConfigInfo oss_info;
  const auto g = shape_from_hf_config(oss, "gpt-oss-20b.json", &oss_info);
  CHECK(g.sliding_layer_count() == 12);
  CHECK(kv_cache_bytes_per_sequence(g, 4096, 2) == 2.0 * 8 * 64 * 2 * (12 * 4096.0 + 12 * 128.0));
  // OpenAI's card: 21B total (20.9B), 3.6B active; its active count leaves out the input embedding table
  // (a lookup), which gpuadvise's active count keeps.
  CHECK(count_params(g).total == Approx(20.9e9).margin(0.1e9));
  CHECK(count_params(g).active - 201088.0 * 2880 == Approx(3.6e9).margin(0.05e9));
  REQUIRE(oss_info.quantization);
  CHECK(oss_info.quant_precision == "mxfp4");
  // Kept in 16-bit: q, k, v, o of 24 layers and the routers (embeddings are counted apart).
  const double attention = 24 * (2.0 * 2880 * 4096 + 2.0 * 2880 * 512);
  CHECK(oss_info.quantization->params_kept_16bit == Approx(attention + 24 * 2880.0 * 32));
}

TEST_CASE("quantization_config: every method maps to a precision, with group size and ignore list", "[hf_config]") {
  const auto quant = [](const std::string& q) {
    const std::string text = R"({"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
      "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
      "max_position_embeddings": 131072, "tie_word_embeddings": false, "quantization_config": )" + q + "}";
    HfConfigInfo info;
    (void)shape_from_hf_config(text, "q.json", &info);
    return info;
  };
  // llm-compressor W4A16 (compressed-tensors pack-quantized, int4 group 128, lm_head ignored).
  auto w4 = quant(R"({"quant_method": "compressed-tensors", "format": "pack-quantized", "ignore": ["lm_head"],
    "config_groups": {"group_0": {"targets": ["Linear"], "input_activations": null,
    "weights": {"num_bits": 4, "type": "int", "strategy": "group", "group_size": 128, "symmetric": true}}}})");
  CHECK(w4.quant_precision == "int4");
  CHECK(w4.quant_group_size == 128);
  // W8A8 int8 and fp8 dynamic (float-quantized).
  CHECK(quant(R"({"quant_method": "compressed-tensors", "format": "int-quantized", "config_groups": {"g": {
    "input_activations": {"num_bits": 8, "type": "int"}, "weights": {"num_bits": 8, "type": "int", "strategy": "channel"}}}})")
            .quant_precision == "int8");
  CHECK(quant(R"({"quant_method": "compressed-tensors", "format": "float-quantized", "config_groups": {"g": {
    "input_activations": {"num_bits": 8, "type": "float"}, "weights": {"num_bits": 8, "type": "float", "strategy": "tensor"}}}})")
            .quant_precision == "fp8");
  CHECK(quant(R"({"quant_method": "compressed-tensors", "format": "nvfp4-pack-quantized", "config_groups": {"g": {
    "weights": {"num_bits": 4, "type": "float", "strategy": "tensor_group", "group_size": 16}}}})")
            .quant_precision == "nvfp4");
  // DeepSeek-V3 style block-wise fp8, AWQ, GPTQ 8-bit, bitsandbytes 4-bit.
  CHECK(quant(R"({"quant_method": "fp8", "activation_scheme": "dynamic", "fmt": "e4m3", "weight_block_size": [128, 128]})")
            .quant_precision == "fp8");
  const auto awq = quant(R"({"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": true, "version": "gemm"})");
  CHECK(awq.quant_precision == "int4");
  CHECK(awq.quant_group_size == 128);
  CHECK(quant(R"({"quant_method": "gptq", "bits": 8, "group_size": 128, "desc_act": false})").quant_precision == "int8-wo");
  CHECK(quant(R"({"quant_method": "bitsandbytes", "load_in_4bit": true, "bnb_4bit_quant_type": "nf4"})").quant_precision == "nf4");
  CHECK(quant(R"({"quant_method": "bitsandbytes", "load_in_8bit": true})").quant_precision == "int8-wo");
  // Unknown methods and impossible widths are errors naming the field.
  CHECK_THROWS_WITH(quant(R"({"quant_method": "hqq"})"), Catch::Contains("quant_method") && Catch::Contains("hqq"));
  CHECK_THROWS_WITH(quant(R"({"quant_method": "gptq", "bits": 3})"), Catch::Contains("bits"));
}

TEST_CASE("A field the shape needs is an error naming it, or a noted published default", "[hf_config]") {
  const auto parse = [](const std::string& text) { return shape_from_hf_config(text, "c.json"); };
  // No intermediate_size in a gated family: no published default to fall back on.
  CHECK_THROWS_WITH(parse(R"({"model_type": "qwen2", "hidden_size": 1024, "num_hidden_layers": 2,
    "num_attention_heads": 8, "vocab_size": 1000, "max_position_embeddings": 4096})"),
                    Catch::Contains("intermediate_size") && Catch::Contains("missing"));
  // max_position_embeddings 0 is not a context.
  CHECK_THROWS_WITH(parse(R"({"model_type": "qwen2", "hidden_size": 1024, "intermediate_size": 4096,
    "num_hidden_layers": 2, "num_attention_heads": 8, "vocab_size": 1000, "max_position_embeddings": 0})"),
                    Catch::Contains("max_position_embeddings") && Catch::Contains("is 0"));
  // Nested: the error names the text_config.
  CHECK_THROWS_WITH(parse(R"({"model_type": "x", "text_config": {"model_type": "qwen2", "hidden_size": 1024}})"),
                    Catch::Contains("text_config") && Catch::Contains("num_hidden_layers"));
  // Absent tie_word_embeddings: the family's default, stated.
  HfConfigInfo info;
  const auto s = shape_from_hf_config(R"({"model_type": "mistral", "hidden_size": 1024, "intermediate_size": 4096,
    "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 8, "vocab_size": 1000,
    "max_position_embeddings": 4096})", "c.json", &info);
  CHECK_FALSE(s.tie_word_embeddings);
  REQUIRE(info.notes.size() == 1);
  CHECK(info.notes[0].find("tie_word_embeddings absent, assumed false") != std::string::npos);
}

TEST_CASE("Real configs added for issue 14: Falcon-7B-instruct, Llama 4 Scout, Mistral Small 3.1, gpt-oss-20b", "[hf_config]") {
  SECTION("falcon-7b-instruct: multi_query wins over num_kv_heads 71 (one KV head, 4h GELU MLP)") {
    HfConfigInfo info;
    const auto s = load("falcon-7b-instruct", &info);
    CHECK(s.num_kv_heads == 1);
    CHECK_FALSE(s.gated_mlp);
    CHECK(s.parallel_attention);
    CHECK(s.max_context == 2048); // absent: FalconConfig default, noted
    // 2 (K, V) x 32 layers x 1 head x 64 (4544 / 71) x 2 bytes: not 71 x this.
    CHECK(kv_cache_bytes_per_sequence(s, 1, 2) == 2.0 * 32 * 1 * 64 * 2);
    const double h = 4544;
    const double layer = h * h + 2 * h * 64 + h * h + 2 * h * 4 * h + 2 * h; // q, k+v (one head), o, 4h MLP, LayerNorm
    CHECK(count_params(s).total == Approx(32 * layer + 65024 * h + 2 * h).epsilon(1e-12));
    CHECK(count_params(s).total == Approx(7e9).margin(0.5e9)); // card: "7B"
    bool noted = false;
    for (const auto& n : info.notes) noted = noted || n.find("num_kv_heads 71 is not used") != std::string::npos;
    CHECK(noted);
  }
  SECTION("Llama 4 Scout: text_config with chunked attention on 36 of 48 layers, shared expert, vision tower") {
    HfConfigInfo info;
    const auto s = load("llama-4-scout", &info);
    CHECK(s.num_layers == 48);
    CHECK(s.sliding_window == 8192);
    CHECK(s.sliding_layer_count() == 36); // no_rope_layers: 36 ones (RoPE, chunked), 12 zeros (global)
    CHECK(kv_cache_bytes_per_sequence(s, 65536, 2) == 2.0 * 8 * 128 * 2 * (12 * 65536.0 + 36 * 8192.0));
    REQUIRE(s.moe);
    CHECK(s.moe->num_experts == 16);
    CHECK(s.moe->num_shared_experts == 1);
    // By hand: per layer q, o (5120 x 5120), k, v (5120 x 1024), 16 routed + 1 shared SwiGLU expert of 8192,
    // router 5120 x 16, two RMSNorms; untied 202048-token embedding and head; final norm.
    const double h = 5120;
    const double attention = 2 * h * h + 2 * h * 1024 + 2 * h;
    const double expert = 3 * h * 8192;
    const double text = 48 * (attention + 17 * expert + h * 16) + 2 * 202048 * h + h;
    const double active = 48 * (attention + 2 * expert + h * 16) + 2 * 202048 * h + h;
    // Vision (CLIP-like, 34 layers of 1408, MLP 5632, 577 positions with the class token, pre/post LayerNorm),
    // pixel-shuffle adapter 5632 -> 4096 -> 4096 and projector 4096 -> 5120 (module sizes as printed by the
    // model's parameter table in the same source).
    const double vh = 1408, vf = 5632;
    const double vision = 3 * 14 * 14 * vh + 577 * vh + vh + 2 * vh +
                          34 * (4 * vh * vh + 4 * vh + 2 * vh * vf + vf + vh + 4 * vh) + 2 * vh + 5632 * 4096.0 +
                          4096 * 4096.0 + 4096 * h;
    CHECK(info.vision_params == Approx(vision).epsilon(1e-12));
    const auto c = count_params(s);
    CHECK(c.total == Approx(text + vision).epsilon(1e-12));
    CHECK(c.active == Approx(active).epsilon(1e-12));
    // Meta's card: 17B active, 109B total.
    CHECK(c.total == Approx(109e9).margin(0.5e9));
    CHECK(c.active == Approx(17e9).margin(0.5e9));
  }
  SECTION("Mistral Small 3.1: the same shape and count as the preset, from the nested file") {
    HfConfigInfo info;
    const auto s = load("mistral-small-3.1-24b", &info);
    CHECK(s.num_layers == 40);
    CHECK(s.head_dim == 128);
    CHECK_FALSE(s.tie_word_embeddings); // absent in text_config: MistralConfig default, noted
    CHECK(s.sliding_layer_count() == 0);
    CHECK(kv_cache_bytes_per_sequence(s, 1, 2) == 2.0 * 40 * 8 * 128 * 2);
    CHECK(count_params(s).total == Approx(24e9).margin(0.5e9));
    CHECK(info.torch_dtype == "bfloat16");
  }
  SECTION("gpt-oss-20b (a bf16 upload: no quantization_config) reads as the preset does") {
    HfConfigInfo info;
    const auto s = load("gpt-oss-20b-bf16", &info);
    CHECK(s.sliding_layer_count() == 12);
    CHECK_FALSE(info.quantization);
    CHECK(info.torch_dtype == "bfloat16");
    CHECK(count_params(s).total == Approx(20.9e9).margin(0.05e9));
  }
}

TEST_CASE("A quantized model's real config.json: Qwen3-32B W8A8 (compressed-tensors int8, lm_head ignored)", "[hf_config]") {
  HfConfigInfo info;
  const auto s = load("qwen3-32b-w8a8", &info);
  REQUIRE(info.quantization);
  CHECK(info.quant_method == "compressed-tensors");
  CHECK(info.quant_precision == "int8");     // 8-bit int weights with 8-bit dynamic input activations: W8A8
  CHECK(info.quantization->params_kept_16bit == 0); // lm_head is the untied head, counted with the embeddings
  // The shape is Qwen3-32B's (the preset's figures): 64 layers of q (5120 x 8192), k, v (5120 x 1024 each),
  // o, q/k norms (2 x 128), SwiGLU 25600 and two RMSNorms; untied 151936-token table and head; final norm.
  const double h = 5120;
  const double layer = 2 * h * 8192 + 2 * h * 1024 + 256 + 3 * h * 25600 + 2 * h;
  CHECK(count_params(s).total == Approx(64 * layer + 2 * 151936 * h + h).epsilon(1e-12));
  CHECK(kv_cache_bytes_per_sequence(s, 1, 2) == 2.0 * 64 * 8 * 128 * 2);
  CHECK(s.sliding_layer_count() == 0); // sliding_window null, use_sliding_window false
}
