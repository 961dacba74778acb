// Model files: safetensors and GGUF headers written by the tests themselves with real layouts (a
// Llama-3.2-1B-shaped tensor table, GPTQ packing, FP8 scales, llama.cpp block types), and a fake
// Hugging Face cache folder resolved by org/name.
#include <gpuadvise/error.hpp>
#include <gpuadvise/estimate.hpp>
#include <gpuadvise/files.hpp>
#include <gpuadvise/model_files.hpp>
#include <gpuadvise/workload.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

using namespace gpuadvise;
namespace fs = std::filesystem;

namespace {

std::string fixture_path(const std::string& name) {
  return std::string(GPUADVISE_SOURCE_DIR) + "/tests/data/configs/" + name + ".config.json";
}

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("gpuadvise-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string u64le(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

/// A safetensors file holding only its header: tensors laid out back to back in the order given.
struct SafetensorsWriter {
  nlohmann::json header = nlohmann::json::object();
  std::uint64_t offset = 0;
  void add(const std::string& name, const std::string& dtype, std::vector<std::uint64_t> shape, double bytes_per_element) {
    std::uint64_t n = 1;
    for (auto d : shape) n *= d;
    const auto bytes = static_cast<std::uint64_t>(static_cast<double>(n) * bytes_per_element);
    header[name] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string bytes() const {
    const std::string text = header.dump();
    return u64le(text.size()) + text;
  }
  void write(const fs::path& file) const { std::ofstream(file, std::ios::binary) << bytes(); }
};

/// Llama-3.2-1B's tensor table (transformers names), bf16: 16 layers, hidden 2048, 32 heads / 8 KV x 64,
/// MLP 8192, vocabulary 128256, tied embeddings.
SafetensorsWriter llama_3_2_1b_table() {
  SafetensorsWriter w;
  w.add("model.embed_tokens.weight", "BF16", {128256, 2048}, 2);
  for (int i = 0; i < 16; ++i) {
    const std::string l = "model.layers." + std::to_string(i) + ".";
    w.add(l + "self_attn.q_proj.weight", "BF16", {2048, 2048}, 2);
    w.add(l + "self_attn.k_proj.weight", "BF16", {512, 2048}, 2);
    w.add(l + "self_attn.v_proj.weight", "BF16", {512, 2048}, 2);
    w.add(l + "self_attn.o_proj.weight", "BF16", {2048, 2048}, 2);
    w.add(l + "mlp.gate_proj.weight", "BF16", {8192, 2048}, 2);
    w.add(l + "mlp.up_proj.weight", "BF16", {8192, 2048}, 2);
    w.add(l + "mlp.down_proj.weight", "BF16", {2048, 8192}, 2);
    w.add(l + "input_layernorm.weight", "BF16", {2048}, 2);
    w.add(l + "post_attention_layernorm.weight", "BF16", {2048}, 2);
  }
  w.add("model.norm.weight", "BF16", {2048}, 2);
  return w;
}

/// By hand: 16 x (2 x 2048^2 + 2 x 512 x 2048 + 3 x 8192 x 2048 + 2 x 2048) + 128256 x 2048 + 2048.
const double k_llama_1b_params =
    16.0 * (2.0 * 2048 * 2048 + 2.0 * 512 * 2048 + 3.0 * 8192 * 2048 + 2.0 * 2048) + 128256.0 * 2048 + 2048;

// GGUF writing: little-endian scalars, u64-length strings, typed metadata values.
struct GgufWriter {
  std::string out;
  std::uint64_t tensors = 0, entries = 0;
  std::string meta, infos;
  static std::string u32(std::uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }
  static std::string u64(std::uint64_t v) { return u64le(v); }
  static std::string str(const std::string& s) { return u64(s.size()) + s; }
  void kv_u32(const std::string& k, std::uint32_t v) { meta += str(k) + u32(4) + u32(v); ++entries; }
  void kv_str(const std::string& k, const std::string& v) { meta += str(k) + u32(8) + str(v); ++entries; }
  void kv_tokens(std::uint64_t n) {
    meta += str("tokenizer.ggml.tokens") + u32(9) + u32(8) + u64(n);
    for (std::uint64_t i = 0; i < n; ++i) meta += str("t" + std::to_string(i));
    ++entries;
  }
  void tensor(const std::string& name, std::vector<std::uint64_t> dims, std::uint32_t type) {
    infos += str(name) + u32(static_cast<std::uint32_t>(dims.size()));
    for (auto d : dims) infos += u64(d);
    infos += u32(type) + u64(0);
    ++tensors;
  }
  std::string bytes() const { return "GGUF" + u32(3) + u64(tensors) + u64(entries) + meta + infos; }
};

enum : std::uint32_t { F32 = 0, Q8_0 = 8, Q4_K = 12, Q6_K = 14 };

/// A 2-layer llama-architecture GGUF in the Q4_K_M style (Q6_K for attn_v, ffn_down and output).
GgufWriter small_gguf() {
  GgufWriter g;
  g.kv_str("general.architecture", "llama");
  g.kv_str("general.name", "tiny-llama");
  g.kv_u32("llama.block_count", 2);
  g.kv_u32("llama.embedding_length", 256);
  g.kv_u32("llama.attention.head_count", 4);
  g.kv_u32("llama.attention.head_count_kv", 2);
  g.kv_u32("llama.context_length", 4096);
  g.kv_u32("llama.feed_forward_length", 512);
  g.kv_tokens(1000);
  g.tensor("token_embd.weight", {256, 1000}, Q4_K);
  g.tensor("output.weight", {256, 1000}, Q6_K);
  g.tensor("output_norm.weight", {256}, F32);
  for (int i = 0; i < 2; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    g.tensor(b + "attn_q.weight", {256, 256}, Q4_K);
    g.tensor(b + "attn_k.weight", {256, 128}, Q4_K);
    g.tensor(b + "attn_v.weight", {256, 128}, Q6_K);
    g.tensor(b + "attn_output.weight", {256, 256}, Q4_K);
    g.tensor(b + "ffn_gate.weight", {256, 512}, Q4_K);
    g.tensor(b + "ffn_up.weight", {256, 512}, Q4_K);
    g.tensor(b + "ffn_down.weight", {512, 256}, Q6_K);
    g.tensor(b + "attn_norm.weight", {256}, F32);
    g.tensor(b + "ffn_norm.weight", {256}, F32);
  }
  return g;
}

} // namespace

TEST_CASE("safetensors: a Llama-3.2-1B tensor table gives exact bytes and parameters", "[model_files][safetensors]") {
  const auto table = parse_safetensors_header(llama_3_2_1b_table().bytes(), "model.safetensors");
  CHECK(table.tensors.size() == 1 + 16 * 9 + 1);
  CHECK(table.parameters == k_llama_1b_params);
  CHECK(static_cast<double>(table.total_bytes) == 2 * k_llama_1b_params);
  CHECK(table.bytes_by_dtype.at("BF16") == table.total_bytes);
  // The config.json's shape gives the same count: the reader and the shape agree.
  const auto shape = shape_from_hf_config(read_text_file(fixture_path("llama-3.2-1b"), "f"), "llama-3.2-1b");
  CHECK(count_params(shape).total == k_llama_1b_params);
}

TEST_CASE("safetensors: GPTQ int4 packing, FP8 with scales, counted as stored", "[model_files][safetensors]") {
  SafetensorsWriter w;
  // GPTQ, in 4096 -> out 4096, group 128: qweight I32 [in/8, out], qzeros I32 [in/128, out/8],
  // scales F16 [in/128, out], g_idx I32 [in].
  w.add("model.layers.0.mlp.up_proj.qweight", "I32", {512, 4096}, 4);
  w.add("model.layers.0.mlp.up_proj.qzeros", "I32", {32, 512}, 4);
  w.add("model.layers.0.mlp.up_proj.scales", "F16", {32, 4096}, 2);
  w.add("model.layers.0.mlp.up_proj.g_idx", "I32", {4096}, 4);
  // FP8 (e4m3) weight with a per-tensor fp32 scale.
  w.add("model.layers.0.mlp.down_proj.weight", "F8_E4M3", {4096, 4096}, 1);
  w.add("model.layers.0.mlp.down_proj.weight_scale", "F32", {1}, 4);
  const auto t = parse_safetensors_header(w.bytes(), "q.safetensors");
  // Bytes by hand: 512 x 4096 x 4 + 32 x 512 x 4 + 32 x 4096 x 2 + 4096 x 4 + 4096^2 + 4.
  CHECK(t.total_bytes == 512ull * 4096 * 4 + 32ull * 512 * 4 + 32ull * 4096 * 2 + 4096ull * 4 + 4096ull * 4096 + 4);
  CHECK(t.bytes_by_dtype.at("F8_E4M3") == 4096ull * 4096);
  // Parameters: 8 weights per I32 of qweight; scales, zeros and g_idx are not weights.
  CHECK(t.parameters == 4096.0 * 4096 + 4096.0 * 4096);
}

TEST_CASE("safetensors: malformed headers are errors naming the file and tensor", "[model_files][safetensors]") {
  CHECK_THROWS_WITH(parse_safetensors_header("abc", "x.safetensors"), Catch::Contains("x.safetensors"));
  CHECK_THROWS_WITH(parse_safetensors_header(u64le(1000) + "{}", "x.safetensors"), Catch::Contains("file ends"));
  CHECK_THROWS_WITH(parse_safetensors_header(u64le(1ull << 40), "x.safetensors"), Catch::Contains("100 MB"));
  const auto one = [](const std::string& json) { return u64le(json.size()) + json; };
  CHECK_THROWS_WITH(parse_safetensors_header(one(R"({"a": {"dtype": "Q9", "shape": [2], "data_offsets": [0, 2]}})"), "x"),
                    Catch::Contains("'a'") && Catch::Contains("Q9"));
  CHECK_THROWS_WITH(parse_safetensors_header(one(R"({"a": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 6]}})"), "x"),
                    Catch::Contains("span 6 bytes"));
  CHECK_THROWS_WITH(parse_safetensors_header(one(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
    "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}})"), "x"), Catch::Contains("overlap"));
}

TEST_CASE("safetensors folder and index: exact bytes win over the shape estimate", "[model_files][safetensors]") {
  const fs::path dir = temp_dir("st");
  fs::copy_file(fixture_path("llama-3.2-1b"), dir / "config.json");
  // Two shards: the embedding in one, the rest in the other, listed by model.safetensors.index.json.
  SafetensorsWriter first, second;
  const auto full = llama_3_2_1b_table();
  nlohmann::json map = nlohmann::json::object();
  for (auto it = full.header.begin(); it != full.header.end(); ++it) {
    auto& shard = it.key() == "model.embed_tokens.weight" ? first : second;
    const auto& shape = it.value()["shape"];
    shard.add(it.key(), "BF16", shape.get<std::vector<std::uint64_t>>(), 2);
    map[it.key()] = &shard == &first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  first.write(dir / "model-00001-of-00002.safetensors");
  second.write(dir / "model-00002-of-00002.safetensors");
  std::ofstream(dir / "model.safetensors.index.json") << nlohmann::json{{"metadata", {{"total_size", 2 * k_llama_1b_params}}},
                                                                        {"weight_map", map}}.dump();
  const auto table = read_safetensors((dir / "model.safetensors.index.json").string());
  CHECK(table.files.size() == 2);
  CHECK(static_cast<double>(table.total_bytes) == 2 * k_llama_1b_params);

  WorkloadRequest r;
  r.model = dir.string();
  const auto w = build_llm_workload(r, ModelCatalog::embedded());
  REQUIRE(w.stored_weight_bytes);
  CHECK(*w.stored_weight_bytes == 2 * k_llama_1b_params);
  CHECK(w.precision == Precision::bf16); // the files' own format
  CHECK(uses_stored_weight_bytes(w, Precision::bf16));
  CHECK(weight_bytes(w, Precision::bf16, 128) == 2 * k_llama_1b_params);
  // Another format: the shape's count x that format's bytes (the files say nothing about it).
  CHECK_FALSE(uses_stored_weight_bytes(w, Precision::fp8));
  CHECK(w.weight_bytes_source.find("2 files") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("GGUF: block layouts of the ggml types", "[model_files][gguf]") {
  // ggml-common.h block structs: elements per block / bytes per block.
  const struct { const char* name; int elements; int bytes; } expected[] = {
      {"Q4_0", 32, 18}, {"Q8_0", 32, 34}, {"Q2_K", 256, 84}, {"Q3_K", 256, 110}, {"Q4_K", 256, 144}, {"Q5_K", 256, 176},
      {"Q6_K", 256, 210}, {"IQ4_XS", 256, 136}, {"IQ2_XXS", 256, 66}, {"IQ3_S", 256, 110}, {"MXFP4", 32, 17},
      {"F16", 1, 2}, {"BF16", 1, 2}};
  for (const auto& e : expected) {
    const GgmlType* t = ggml_type_by_name(e.name);
    REQUIRE(t != nullptr);
    CHECK(t->block_elements == e.elements);
    CHECK(t->block_bytes == e.bytes);
  }
  // Bits per weight: Q4_K 144 x 8 / 256 = 4.5, Q6_K 210 x 8 / 256 = 6.5625.
  CHECK(ggml_type_by_name("q4_k")->block_bytes * 8.0 / 256 == 4.5);
  CHECK(ggml_type_by_name("Q6_K")->block_bytes * 8.0 / 256 == 6.5625);
}

TEST_CASE("GGUF: header, metadata and tensor table of a Q4_K_M-style file", "[model_files][gguf]") {
  const auto g = parse_gguf(small_gguf().bytes(), "tiny.gguf");
  CHECK(g.architecture == "llama");
  CHECK(g.shape.num_layers == 2);
  CHECK(g.shape.hidden_size == 256);
  CHECK(g.shape.num_kv_heads == 2);
  CHECK(g.shape.head_dim == 64);
  CHECK(g.shape.vocab_size == 1000); // from the tokenizer's token list
  CHECK(g.shape.max_context == 4096);
  CHECK_FALSE(g.shape.tie_word_embeddings); // output.weight present
  // Bytes by hand: Q4_K 144 B per 256 weights, Q6_K 210 B per 256, F32 4 B.
  const double q4k = 144.0 / 256, q6k = 210.0 / 256;
  const double per_layer = (256.0 * 256 + 256 * 128 + 256 * 256 + 2 * 256 * 512) * q4k + (256.0 * 128 + 512 * 256) * q6k + 2 * 256 * 4;
  const double expected = 256.0 * 1000 * q4k + 256.0 * 1000 * q6k + 256 * 4 + 2 * per_layer;
  CHECK(static_cast<double>(g.table.total_bytes) == expected);
  CHECK(g.table.parameters == 2 * 256.0 * 1000 + 256 + 2 * (256.0 * 256 * 2 + 2 * 256 * 128 + 3 * 256 * 512 + 2 * 256));
  // llama.cpp's KV cache (f16): 2 x 2 layers x 2 KV heads x 64 x 2 bytes per token.
  CHECK(kv_cache_bytes_per_sequence(g.shape, 4096, 2) == 2.0 * 2 * 2 * 64 * 2 * 4096);
}

TEST_CASE("GGUF: corrupt headers are errors, never crashes", "[model_files][gguf]") {
  const std::string good = small_gguf().bytes();
  CHECK_THROWS_WITH(parse_gguf("GGML" + good.substr(4), "x.gguf"), Catch::Contains("magic"));
  CHECK_THROWS_WITH(parse_gguf(good.substr(0, good.size() - 5), "x.gguf"), Catch::Contains("ends inside"));
  std::string v1 = good;
  v1[4] = 1;
  CHECK_THROWS_WITH(parse_gguf(v1, "x.gguf"), Catch::Contains("version 1"));
  GgufWriter g = small_gguf();
  g.tensor("bad", {256}, 4); // removed type id
  CHECK_THROWS_WITH(parse_gguf(g.bytes(), "x.gguf"), Catch::Contains("ggml type 4"));
  GgufWriter h;
  h.kv_str("general.architecture", "llama");
  CHECK_THROWS_WITH(parse_gguf(h.bytes(), "x.gguf"), Catch::Contains("llama.block_count"));
  // A corrupt name length is cut short in the message.
  GgufWriter long_name = small_gguf();
  long_name.tensor(std::string(500, 'x'), {256}, 4);
  try {
    (void)parse_gguf(long_name.bytes(), "x.gguf");
    FAIL("expected InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).size() < 300);
    CHECK(std::string(e.what()).find("...") != std::string::npos);
  }
  // Every truncation point is an error, not a crash.
  for (std::size_t n = 0; n < 400 && n < good.size(); n += 7) CHECK_THROWS_AS(parse_gguf(good.substr(0, n), "x.gguf"), InputError);
}

TEST_CASE("GGUF split files: every part's tensor table is read", "[model_files][gguf]") {
  const fs::path dir = temp_dir("split");
  // Part 1: the metadata and half the tensors; part 2: split metadata only and the rest (gguf-split layout).
  GgufWriter first = small_gguf();
  first.kv_u32("split.count", 2);
  GgufWriter second;
  second.kv_u32("split.count", 2);
  second.tensor("extra.weight", {256, 256}, Q8_0); // 65536 weights in Q8_0: 2048 blocks of 34 bytes
  std::ofstream(dir / "m-00001-of-00002.gguf", std::ios::binary) << first.bytes();
  std::ofstream(dir / "m-00002-of-00002.gguf", std::ios::binary) << second.bytes();
  const auto one = parse_gguf(first.bytes(), "one");
  const auto all = read_gguf((dir / "m-00001-of-00002.gguf").string());
  CHECK(all.table.files.size() == 2);
  CHECK(all.table.total_bytes == one.table.total_bytes + 65536 / 32 * 34);
  // A missing part is an error naming it.
  fs::remove(dir / "m-00002-of-00002.gguf");
  CHECK_THROWS_WITH(read_gguf((dir / "m-00001-of-00002.gguf").string()), Catch::Contains("m-00002-of-00002.gguf"));
  fs::remove_all(dir);
}

TEST_CASE("A precision naming a GGUF type or mix label is a clear error with its block layout", "[model_files][gguf]") {
  // Q5_K: 176 bytes per 256 weights = 5.5 bits; IQ4_XS: 136 per 256 = 4.25 bits.
  CHECK_THROWS_WITH(parse_precision("Q5_K_M"), Catch::Contains("mix label") && Catch::Contains("5.5 bits") &&
                                                  Catch::Contains("Q5_K") && Catch::Contains("--model"));
  CHECK_THROWS_WITH(parse_precision("iq4_xs"), Catch::Contains("GGUF type") && Catch::Contains("4.25 bits"));
  CHECK(parse_precision("F16") == Precision::fp16);
  CHECK(parse_precision("mxfp4") == Precision::mxfp4);
  CHECK(weight_bytes_per_param(Precision::mxfp4, 128) == 17.0 / 32); // OCP MX: 32 x 4 bits + 8-bit scale
  CHECK(weight_bytes_per_param(Precision::nvfp4, 128) == 9.0 / 16);  // 16 x 4 bits + 8-bit scale
}

TEST_CASE("GGUF file as --model: exact bytes, llama.cpp runtime, no other flag", "[model_files][gguf]") {
  const fs::path dir = temp_dir("gguf");
  const fs::path file = dir / "tiny.gguf";
  std::ofstream(file, std::ios::binary) << small_gguf().bytes();
  WorkloadRequest r;
  r.model = file.string();
  const auto w = build_llm_workload(r, ModelCatalog::embedded());
  REQUIRE(w.stored_weight_bytes);
  CHECK(w.runtime == "llamacpp");
  CHECK(w.precision == Precision::q4_k_m); // a K-quant mix
  CHECK(weight_bytes(w, w.precision, 128) == *w.stored_weight_bytes);
  fs::remove_all(dir);
}

TEST_CASE("Hugging Face cache: org/name resolves to its snapshot through refs/main", "[model_files][hf_cache]") {
  const fs::path cache = temp_dir("hfcache");
  const fs::path repo = cache / "models--acme--tiny-llama";
  fs::create_directories(repo / "refs");
  fs::create_directories(repo / "snapshots" / "0123abcd");
  std::ofstream(repo / "refs" / "main") << "0123abcd";
  fs::copy_file(fixture_path("llama-3.2-1b"), repo / "snapshots" / "0123abcd" / "config.json");
  llama_3_2_1b_table().write(repo / "snapshots" / "0123abcd" / "model.safetensors");

  CHECK(find_in_hf_cache("acme/tiny-llama", cache.string()) == (repo / "snapshots" / "0123abcd").string());
  CHECK(find_in_hf_cache("acme/tiny-llama@0123abcd", cache.string()) == (repo / "snapshots" / "0123abcd").string());
  CHECK_FALSE(find_in_hf_cache("acme/tiny-llama@v2", cache.string()));
  CHECK_FALSE(find_in_hf_cache("acme/other", cache.string()));
  CHECK_FALSE(looks_like_hf_id("acme/../x"));
  CHECK_FALSE(looks_like_hf_id("13B"));

  ::setenv("HF_HUB_CACHE", cache.string().c_str(), 1);
  CHECK(hf_hub_cache_dir() == cache.string());
  WorkloadRequest r;
  r.model = "acme/tiny-llama";
  const auto w = build_llm_workload(r, ModelCatalog::embedded());
  REQUIRE(w.stored_weight_bytes);
  CHECK(*w.stored_weight_bytes == 2 * k_llama_1b_params);
  CHECK(w.shape.num_layers == 16);
  // Not cached and not a preset, offline: an error naming the cache (no request is made).
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  r.model = "acme/missing";
  CHECK_THROWS_WITH(build_llm_workload(r, ModelCatalog::embedded()),
                    Catch::Contains(cache.string()) && Catch::Contains("acme/missing") && Catch::Contains("HF_HUB_OFFLINE"));
  ::unsetenv("HF_HUB_OFFLINE");
  ::unsetenv("HF_HUB_CACHE");
  fs::remove_all(cache);
}

TEST_CASE("llama.cpp labels as --precision: the per-tensor mix of llama-quant.cpp, by hand", "[model_files][gguf][mix]") {
  const auto catalog = ModelCatalog::embedded();
  const auto& l31 = *catalog.find("llama-3.1-8b");
  const double h = 4096, kv = 1024, f = 14336, vocab = 128256;
  const double q4k = 144.0 / 256, q6k = 210.0 / 256, q5k = 176.0 / 256, q8 = 34.0 / 32;
  const double f32_per_layer = 2 * h * 4; // two RMSNorm vectors stay F32
  // use_more_bits over 32 layers: 0-3, 28-31 and 6, 9, ..., 27 (every third from the eighth): 16 layers.
  int more = 0;
  for (int i = 0; i < 32; ++i) more += i < 4 || i >= 28 || (i - 4) % 3 == 2;
  REQUIRE(more == 16);
  const double base_layer = (h * h + h * kv + h * h + 2 * h * f) * q4k; // q, k, o, gate, up
  const double q4km = vocab * h * q4k + vocab * h * q6k +                // token_embd at the base, output Q6_K
                      32 * base_layer + 16 * (h * kv + f * h) * q6k + 16 * (h * kv + f * h) * q4k +
                      32 * f32_per_layer + h * 4;
  SECTION("Q4_K_M on Llama-3.1-8B: attn_v and ffn_down at Q6_K in 16 of 32 layers, output Q6_K") {
    const auto mix = gguf_mix(l31, *gguf_label_by_name("Q4_K_M"));
    CHECK(mix.bytes == Approx(q4km).epsilon(1e-12));
    CHECK(mix.bytes_by_type.at("Q6_K") == Approx((vocab * h + 16 * (h * kv + f * h)) * q6k).epsilon(1e-12));
    // bartowski/Meta-Llama-3.1-8B-Instruct-GGUF lists its Q4_K_M file at 4.92 GB (weights + a few MB of metadata).
    CHECK(mix.bytes / 1e9 == Approx(4.92).margin(0.01));
  }
  SECTION("Q8_0: every 2-D weight at 34 bytes per 32, output included") {
    const auto mix = gguf_mix(l31, *gguf_label_by_name("q8_0"));
    const double matrices = 2 * vocab * h + 32 * (2 * h * h + 2 * h * kv + 3 * h * f);
    CHECK(mix.bytes == Approx(matrices * q8 + 32 * f32_per_layer + h * 4).epsilon(1e-12));
  }
  SECTION("Q5_K_M: Q5_K base, the same layers raised to Q6_K") {
    const auto mix = gguf_mix(l31, *gguf_label_by_name("Q5_K_M"));
    const double expect = vocab * h * q5k + vocab * h * q6k + 32 * (h * h + h * kv + h * h + 2 * h * f) * q5k +
                          16 * (h * kv + f * h) * q6k + 16 * (h * kv + f * h) * q5k + 32 * f32_per_layer + h * 4;
    CHECK(mix.bytes == Approx(expect).epsilon(1e-12));
  }
  SECTION("Llama-3-70B Q4_K_M: the 70B rule raises the other attn_v to Q5_K; llama-bench prints 39.59 GiB") {
    const auto& l70 = *catalog.find("llama-3-70b");
    const double H = 8192, KV = 1024, F = 28672;
    int more80 = 0;
    for (int i = 0; i < 80; ++i) more80 += i < 10 || i >= 70 || (i - 10) % 3 == 2;
    const double expect = vocab * H * (q4k + q6k) + 80 * (2 * H * H + H * KV + 2 * H * F) * q4k +
                          more80 * (H * KV + F * H) * q6k + (80 - more80) * (H * KV * q5k + F * H * q4k) +
                          80 * 2 * H * 4 + H * 4;
    const auto mix = gguf_mix(l70, *gguf_label_by_name("Q4_K_M"));
    CHECK(mix.bytes == Approx(expect).epsilon(1e-12));
    // data/validation.json xdai-llama3-70b-q4km-weights-gib: 'llama 70B Q4_K - Medium | 39.59 GiB'.
    CHECK(mix.bytes / (1024.0 * 1024 * 1024) == Approx(39.59).margin(0.01));
  }
  SECTION("the header-only Llama-3.2-1B Q4_K_M file's table and the mix agree") {
    const auto g = read_gguf(std::string(GPUADVISE_SOURCE_DIR) + "/tests/data/models/llama-3.2-1b-instruct-q4_k_m.gguf");
    const auto mix = gguf_mix(g.shape, *gguf_label_by_name("Q4_K_M"));
    CHECK(mix.bytes == Approx(static_cast<double>(g.table.total_bytes)).epsilon(1e-6));
  }
  SECTION("labels, aliases, families and unknown names") {
    CHECK(std::string(gguf_label_by_name("q4_k")->name) == "Q4_K_M"); // llama-quantize's alias
    CHECK(std::string(gguf_label_by_name("iq4-xs")->base) == "IQ4_XS");
    CHECK(std::string(gguf_label_by_name("IQ2_M")->base) == "IQ2_S");  // llama_ftype_get_default_type
    CHECK(gguf_label_by_file_type(15) == gguf_label_by_name("Q4_K_M"));
    CHECK(gguf_label_family(*gguf_label_by_name("Q5_0")) == Precision::q4_0);
    CHECK(gguf_label_family(*gguf_label_by_name("Q6_K")) == Precision::q4_k_m);
    CHECK(gguf_label_family(*gguf_label_by_name("Q8_0")) == Precision::q8_0);
    CHECK(gguf_label_by_name("Q4_K_X") == nullptr);
    for (const char* name : {"Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q5_K_S", "Q6_K", "Q4_1", "Q5_1", "IQ1_S",
                             "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_XS", "IQ3_S", "IQ3_M", "IQ4_NL",
                             "TQ1_0", "TQ2_0", "MXFP4_MOE", "Q2_K_S"}) {
      INFO(name);
      const auto* label = gguf_label_by_name(name);
      REQUIRE(label != nullptr);
      const auto mix = gguf_mix(l31, *label);
      // Between the smallest (IQ1_S, 1.5625 bits) and Q8_0 (8.5 bits) for every weight.
      CHECK(mix.bytes > 1.5 / 8 * mix.params);
      CHECK(mix.bytes < 8.5 / 8 * mix.params + 1e6);
    }
  }
}

TEST_CASE("A llama.cpp label as the precision: mix bytes, llama.cpp runtime, clear errors", "[model_files][gguf][mix]") {
  const auto catalog = ModelCatalog::embedded();
  WorkloadRequest r;
  r.model = "llama-3.1-8b";
  r.precision = "Q5_K_M";
  const auto w = build_llm_workload(r, catalog);
  CHECK(w.runtime == "llamacpp");
  CHECK(w.precision == Precision::q4_k_m);
  REQUIRE(w.stored_weight_bytes);
  CHECK(w.weight_bytes_source.rfind("llama.cpp Q5_K_M mix", 0) == 0);
  CHECK(*w.stored_weight_bytes == Approx(gguf_mix(*catalog.find("llama-3.1-8b"), *gguf_label_by_name("Q5_K_M")).bytes));
  CHECK(weight_bytes(w, w.precision, 128) == *w.stored_weight_bytes);
  CHECK(w.weight_bytes_source.find("Q5_K_M") != std::string::npos);

  r.runtime = "vllm";
  CHECK_THROWS_WITH(build_llm_workload(r, catalog), Catch::Contains("llama.cpp GGUF format") && Catch::Contains("--runtime vllm"));
  r.runtime.reset();
  r.precision = "Q4_K_X";
  CHECK_THROWS_WITH(build_llm_workload(r, catalog),
                    Catch::Contains("unknown precision 'Q4_K_X'") && Catch::Contains("Q5_K_M") && Catch::Contains("IQ4_XS"));

  // A GGUF file of that very label keeps its exact bytes.
  WorkloadRequest g;
  g.model = std::string(GPUADVISE_SOURCE_DIR) + "/tests/data/models/llama-3.2-1b-instruct-q4_k_m.gguf";
  g.precision = "Q4_K_M";
  const auto wg = build_llm_workload(g, catalog);
  CHECK(wg.weight_bytes_source.find("GGUF v3 tensor table") != std::string::npos);
  g.precision = "Q8_0";
  CHECK(build_llm_workload(g, catalog).weight_bytes_source.rfind("llama.cpp Q8_0 mix", 0) == 0);
}

TEST_CASE("llama.cpp compute buffer: FFN stage + KQ mask + one logits row, checked against measured sizes",
          "[model_files][gguf][compute]") {
  const auto load = [](const char* name) {
    const std::string path = std::string(GPUADVISE_SOURCE_DIR) + "/tests/data/configs/" + name + ".config.json";
    return shape_from_hf_config(read_text_file(path, "fixture"), path);
  };
  const double MiB = 1024.0 * 1024;
  // Qwen2.5-3B: hidden 2048, MLP 11008, vocab 151936; context 4096, micro-batch 512.
  const auto q = load("qwen2.5-3b");
  const auto b = llamacpp_compute_buffer(q, 4096);
  CHECK(b.n_ubatch == 512);
  const double expected = 4.0 * 512 * (3 * 11008 + 3 * 2048) + 2.0 * 4096 * 512 + 4.0 * 151936;
  CHECK(b.expected == Approx(expected).epsilon(1e-12));
  // gguf-parser-go's sweep measured 80.59 MiB for qwen2.5-3b-instruct-q4_k_m.gguf at context 4096.
  CHECK(b.low <= 80.59 * MiB);
  CHECK(b.high >= 80.59 * MiB);
  CHECK(b.expected / MiB == Approx(80.59).epsilon(0.01));
  // Without flash attention the f32 K*Q scores of 16 heads dominate at long context.
  const auto no_fa = llamacpp_compute_buffer(q, 32768, false);
  CHECK(no_fa.expected == Approx(4.0 * 32768 * 512 * 16 + 2.0 * 32768 * 512 + 4.0 * 151936).epsilon(1e-12));
  // A short context caps the micro-batch.
  CHECK(llamacpp_compute_buffer(q, 256).n_ubatch == 256);
  // gpt-oss-20b (MoE, 4 of 32 experts of 2880): the sweep measured 91.58 MiB; the MoE range holds it.
  const auto oss = llamacpp_compute_buffer(load("gpt-oss-20b-bf16"), 4096);
  CHECK(oss.expected == Approx(4.0 * 512 * (3 * 4 * 2880.0 + 3 * 2880) + 4.0 * 512 * 4 * 2880 + 2.0 * 4096 * 512 +
                               4.0 * 201088).epsilon(1e-12));
  CHECK(oss.low <= 91.58 * MiB);
  CHECK(oss.high >= 91.58 * MiB);
}
