// GGUF headers (ggml-org/ggml docs/gguf.md, version 2 and 3): "GGUF", u32 version, u64 tensor count,
// u64 metadata count; each metadata entry is a string key (u64 length + bytes), a u32 value type and the
// value (0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array = u32 type + u64
// count + items, 10 u64, 11 i64, 12 f64); each tensor entry is a name, u32 dims, u64 sizes, u32 ggml
// type and u64 offset. Bytes per tensor come from the type's block layout (ggml-common.h).
#include <gpuadvise/error.hpp>
#include <gpuadvise/model_files.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace gpuadvise {
namespace {

/// ggml types, ids from ggml.h `enum ggml_type`, block layouts from ggml-common.h (elements per block,
/// bytes per block). Removed ids (4, 5, 31-33, 36-38) are absent.
const GgmlType k_types[] = {
    {0, "F32", 1, 4},         {1, "F16", 1, 2},        {2, "Q4_0", 32, 18},     {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},      {7, "Q5_1", 32, 24},     {8, "Q8_0", 32, 34},     {9, "Q8_1", 32, 36},
    {10, "Q2_K", 256, 84},    {11, "Q3_K", 256, 110},  {12, "Q4_K", 256, 144},  {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210},   {15, "Q8_K", 256, 292},  {16, "IQ2_XXS", 256, 66}, {17, "IQ2_XS", 256, 74},
    {18, "IQ3_XXS", 256, 98}, {19, "IQ1_S", 256, 50},  {20, "IQ4_NL", 32, 18},  {21, "IQ3_S", 256, 110},
    {22, "IQ2_S", 256, 82},   {23, "IQ4_XS", 256, 136}, {24, "I8", 1, 1},       {25, "I16", 1, 2},
    {26, "I32", 1, 4},        {27, "I64", 1, 8},       {28, "F64", 1, 8},       {29, "IQ1_M", 256, 56},
    {30, "BF16", 1, 2},       {34, "TQ1_0", 256, 54},  {35, "TQ2_0", 256, 66},  {39, "MXFP4", 32, 17},
};

/// Limits that keep a corrupt header from asking for absurd allocations.
constexpr std::uint64_t k_max_string = 1 << 24;     // 16 MiB per string
constexpr std::uint64_t k_max_count = 1 << 26;      // entries, items, tensors
constexpr std::uint32_t k_max_dims = 4;             // GGML_MAX_DIMS

class Cursor {
public:
  Cursor(std::string_view bytes, std::string origin) : m_bytes(bytes), m_origin(std::move(origin)) {}
  template <class T> T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, m_bytes.data() + m_pos, sizeof(T)); // GGUF is little-endian, as is every host we build for
    m_pos += sizeof(T);
    return v;
  }
  std::string string(const char* what) {
    const auto n = get<std::uint64_t>(what);
    if (n > k_max_string) fail(fmt::format("{} is {} bytes long, over the 16 MiB limit", what, n));
    need(static_cast<std::size_t>(n), what);
    std::string s(m_bytes.substr(m_pos, static_cast<std::size_t>(n)));
    m_pos += static_cast<std::size_t>(n);
    return s;
  }
  void skip(std::uint64_t n, const char* what) {
    need(static_cast<std::size_t>(std::min<std::uint64_t>(n, m_bytes.size() + 1)), what);
    m_pos += static_cast<std::size_t>(n);
  }
  [[noreturn]] void fail(const std::string& problem) const {
    throw InputError(fmt::format("{}: GGUF header at byte {}: {}", m_origin, m_pos, problem));
  }
  bool truncated() const { return m_truncated; }

private:
  void need(std::size_t n, const char* what) {
    if (m_pos + n > m_bytes.size() || m_pos + n < m_pos) {
      m_truncated = true;
      fail(fmt::format("the file ends inside {}", what));
    }
  }
  std::string_view m_bytes;
  std::size_t m_pos = 0;
  std::string m_origin;
  bool m_truncated = false;
};

/// A tensor name for an error message: printable, and cut short when a corrupt length made it long.
std::string shown(const std::string& name) {
  return name.size() > 80 ? printable(name.substr(0, 80)) + "..." : printable(name);
}

/// A metadata value: numbers as double, strings as text, arrays as their length (and numeric items).
struct Value {
  bool is_string = false;
  bool is_array = false;
  double number = 0;
  std::string text;
  std::vector<double> items; ///< numeric array items (strings are counted only)
  std::uint64_t count = 0;
};

double scalar(Cursor& c, std::uint32_t type) {
  switch (type) {
  case 0: return c.get<std::uint8_t>("a u8");
  case 1: return c.get<std::int8_t>("an i8");
  case 2: return c.get<std::uint16_t>("a u16");
  case 3: return c.get<std::int16_t>("an i16");
  case 4: return c.get<std::uint32_t>("a u32");
  case 5: return c.get<std::int32_t>("an i32");
  case 6: return c.get<float>("an f32");
  case 7: return c.get<std::uint8_t>("a bool");
  case 10: return static_cast<double>(c.get<std::uint64_t>("a u64"));
  case 11: return static_cast<double>(c.get<std::int64_t>("an i64"));
  case 12: return c.get<double>("an f64");
  default: c.fail(fmt::format("unknown metadata value type {}", type));
  }
}

Value value(Cursor& c, std::uint32_t type) {
  Value v;
  if (type == 8) {
    v.is_string = true;
    v.text = c.string("a string value");
  } else if (type == 9) {
    v.is_array = true;
    const auto item_type = c.get<std::uint32_t>("an array's item type");
    v.count = c.get<std::uint64_t>("an array's length");
    if (v.count > k_max_count) c.fail(fmt::format("an array of {} items is over the limit", v.count));
    if (item_type == 9) c.fail("nested arrays are not part of GGUF metadata");
    for (std::uint64_t i = 0; i < v.count; ++i) {
      if (item_type == 8) {
        const auto n = c.get<std::uint64_t>("a string item's length");
        if (n > k_max_string) c.fail("a string item is over the 16 MiB limit");
        c.skip(n, "a string item");
      } else {
        const double x = scalar(c, item_type);
        if (v.items.size() < 4096) v.items.push_back(x); // per-layer arrays are short; token scores are not kept
      }
    }
  } else {
    v.number = scalar(c, type);
  }
  return v;
}

} // namespace

const GgmlType* ggml_type(int id) {
  for (const auto& t : k_types)
    if (t.id == id) return &t;
  return nullptr;
}

const GgmlType* ggml_type_by_name(std::string_view name) {
  const std::string wanted = normalize_name(name);
  for (const auto& t : k_types)
    if (normalize_name(t.name) == wanted) return &t;
  return nullptr;
}

namespace {

/// The header and tensor table; `meta` receives the metadata values.
GgufModel parse_table(std::string_view bytes, std::string_view origin, std::map<std::string, Value>& meta) {
  Cursor c(bytes, std::string(origin));
  if (bytes.size() < 4 || bytes.substr(0, 4) != "GGUF") throw InputError(fmt::format("{}: not a GGUF file (no \"GGUF\" magic)", origin));
  c.skip(4, "the magic");
  GgufModel m;
  m.version = c.get<std::uint32_t>("the version");
  if (m.version < 2 || m.version > 3)
    c.fail(fmt::format("version {} is not one gpuadvise reads (2 or 3)", m.version));
  const auto tensors = c.get<std::uint64_t>("the tensor count");
  const auto entries = c.get<std::uint64_t>("the metadata count");
  if (tensors > k_max_count || entries > k_max_count) c.fail("tensor or metadata count is over the limit");

  for (std::uint64_t i = 0; i < entries; ++i) {
    const std::string key = c.string("a metadata key");
    const auto type = c.get<std::uint32_t>("a metadata type");
    Value v = value(c, type);
    m.metadata[printable(key)] = v.is_string ? printable(v.text) : v.is_array ? fmt::format("[{} items]", v.count)
                                                                             : fmt::format("{}", v.number);
    meta[key] = std::move(v);
  }
  m.table.format = "gguf";
  m.table.files.emplace_back(origin);
  for (std::uint64_t i = 0; i < tensors; ++i) {
    TensorInfo t;
    t.name = c.string("a tensor name");
    const auto dims = c.get<std::uint32_t>("a tensor's dimension count");
    if (dims == 0 || dims > k_max_dims) c.fail(fmt::format("tensor '{}' has {} dimensions (1 to 4)", shown(t.name), dims));
    t.elements = 1;
    for (std::uint32_t d = 0; d < dims; ++d) {
      const auto n = c.get<std::uint64_t>("a tensor dimension");
      if (n != 0 && t.elements > (std::uint64_t{1} << 50) / n) c.fail(fmt::format("tensor '{}' is too large", shown(t.name)));
      t.shape.push_back(n);
      t.elements *= n;
    }
    const auto type_id = c.get<std::uint32_t>("a tensor type");
    (void)c.get<std::uint64_t>("a tensor offset");
    const GgmlType* type = ggml_type(static_cast<int>(type_id));
    if (!type) c.fail(fmt::format("tensor '{}' has ggml type {}, which gpuadvise does not know", shown(t.name), type_id));
    if (t.shape[0] % static_cast<std::uint64_t>(type->block_elements) != 0)
      c.fail(fmt::format("tensor '{}': its first dimension {} is not a multiple of {}'s block of {}", shown(t.name),
                         t.shape[0], type->name, type->block_elements));
    t.dtype = type->name;
    t.bytes = t.elements / static_cast<std::uint64_t>(type->block_elements) * static_cast<std::uint64_t>(type->block_bytes);
    m.table.total_bytes += t.bytes;
    m.table.bytes_by_dtype[t.dtype] += t.bytes;
    m.table.elements_by_dtype[t.dtype] += t.elements;
    m.table.parameters += static_cast<double>(t.elements);
    m.table.tensors.push_back(std::move(t));
  }
  return m;
}

} // namespace

GgufModel parse_gguf(std::string_view bytes, std::string_view origin) {
  std::map<std::string, Value> meta;
  GgufModel m = parse_table(bytes, origin, meta);

  // The shape from the llama.cpp metadata keys of the architecture (llama.cpp src/llama-arch.cpp).
  const auto text = [&](const std::string& key) -> std::string {
    const auto it = meta.find(key);
    return it != meta.end() && it->second.is_string ? it->second.text : std::string();
  };
  m.architecture = text("general.architecture");
  if (m.architecture.empty()) throw InputError(fmt::format("{}: GGUF metadata: general.architecture missing", origin));
  const std::string a = m.architecture;
  const auto number = [&](const std::string& key, bool required, double fallback = 0) -> double {
    const auto it = meta.find(a + "." + key);
    if (it == meta.end()) {
      if (required) throw InputError(fmt::format("{}: GGUF metadata: {}.{} missing (needed for the model shape)", origin, a, key));
      return fallback;
    }
    const Value& v = it->second;
    if (v.is_string) throw InputError(fmt::format("{}: GGUF metadata: {}.{} is a string, not a number", origin, a, key));
    if (v.is_array) { // per-layer values (e.g. head_count_kv of hybrid models): the largest
      if (v.items.empty()) return fallback;
      return *std::max_element(v.items.begin(), v.items.end());
    }
    return v.number;
  };
  const auto dim = [&](const std::string& key, bool required, double fallback = 0) {
    const double v = number(key, required, fallback);
    if (v < 0 || v > 1e7 || v != std::floor(v))
      throw InputError(fmt::format("{}: GGUF metadata: {}.{} = {} is not a size", origin, a, key, v));
    if (required && v == 0) throw InputError(fmt::format("{}: GGUF metadata: {}.{} is 0 (needed for the model shape)", origin, a, key));
    return static_cast<int>(v);
  };
  ModelShape& s = m.shape;
  s.architecture = a;
  m.name = text("general.name");
  s.name = m.name.empty() ? std::string(origin) : printable(m.name);
  s.id = std::string(origin);
  s.source = std::string(origin);
  s.num_layers = dim("block_count", true);
  s.hidden_size = dim("embedding_length", true);
  s.num_attention_heads = dim("attention.head_count", true);
  s.num_kv_heads = dim("attention.head_count_kv", false, s.num_attention_heads);
  if (s.num_kv_heads == 0) s.num_kv_heads = s.num_attention_heads;
  if (!meta.count(a + ".attention.head_count_kv"))
    m.notes.push_back(fmt::format("{}.attention.head_count_kv absent: assumed {} = head_count (llama.cpp's default)", a,
                                  s.num_attention_heads));
  s.head_dim = dim("attention.key_length", false, s.hidden_size / s.num_attention_heads);
  s.intermediate_size = dim("feed_forward_length", false, 0);
  const long long ctx = static_cast<long long>(number("context_length", true));
  if (ctx <= 0) throw InputError(fmt::format("{}: GGUF metadata: {}.context_length is {} (needed for the context limit)", origin, a, ctx));
  s.max_context = ctx;
  // Vocabulary: <arch>.vocab_size, else the tokenizer's token list.
  const auto tokens = meta.find("tokenizer.ggml.tokens");
  s.vocab_size = dim("vocab_size", false, tokens != meta.end() && tokens->second.is_array ? static_cast<double>(tokens->second.count) : 0);
  if (s.vocab_size == 0) throw InputError(fmt::format("{}: GGUF metadata: neither {}.vocab_size nor tokenizer.ggml.tokens", origin, a));
  bool has_output = false;
  for (const auto& t : m.table.tensors) has_output = has_output || t.name == "output.weight";
  s.tie_word_embeddings = !has_output; // llama.cpp reuses token_embd when output.weight is absent
  const int experts = dim("expert_count", false, 0);
  if (experts > 1) {
    MoeShape e;
    e.num_experts = experts;
    e.experts_per_token = dim("expert_used_count", true);
    e.num_shared_experts = dim("expert_shared_count", false, 0);
    e.expert_intermediate_size = dim("expert_feed_forward_length", false, s.intermediate_size);
    e.first_dense_layers = std::min(dim("leading_dense_block_count", false, 0), s.num_layers);
    e.dense_intermediate_size = s.intermediate_size;
    if (e.expert_intermediate_size == 0) throw InputError(fmt::format("{}: GGUF metadata: {}.expert_feed_forward_length missing", origin, a));
    s.moe = e;
  } else if (s.intermediate_size == 0) {
    throw InputError(fmt::format("{}: GGUF metadata: {}.feed_forward_length missing (needed for the MLP)", origin, a));
  }
  const int window = dim("attention.sliding_window", false, 0);
  if (window > 0 && window < s.max_context) {
    s.sliding_window = window;
    // llama.cpp's per-architecture layer patterns (llama-model.cpp): Gemma 2 alternates, Gemma 3 has
    // 5 local layers per global one, gpt-oss alternates; others slide on every layer.
    if (a == "gemma2" || a == "gpt-oss" || a == "gptoss") s.sliding_layers = SlidingLayers::even;
    else if (a == "gemma3") { s.sliding_layers = SlidingLayers::counted; s.counted_sliding_layers = s.num_layers - s.num_layers / 6; }
    else s.sliding_layers = SlidingLayers::all;
  }
  const int kv_lora = dim("attention.kv_lora_rank", false, 0);
  if (kv_lora > 0) {
    MlaShape mla;
    mla.kv_lora_rank = kv_lora;
    mla.q_lora_rank = dim("attention.q_lora_rank", false, 0);
    mla.qk_rope_head_dim = dim("rope.dimension_count", true);
    const int key_length = dim("attention.key_length", true);
    mla.qk_nope_head_dim = key_length - mla.qk_rope_head_dim;
    mla.v_head_dim = dim("attention.value_length", true);
    if (mla.qk_nope_head_dim <= 0) throw InputError(fmt::format("{}: GGUF metadata: key_length is not larger than the RoPE dims", origin));
    s.mla = mla;
    s.num_kv_heads = s.num_attention_heads;
    s.head_dim = key_length;
  }
  if (s.num_kv_heads > s.num_attention_heads || s.num_attention_heads % s.num_kv_heads != 0)
    throw InputError(fmt::format("{}: GGUF metadata: head_count_kv {} does not divide head_count {}", origin, s.num_kv_heads,
                                 s.num_attention_heads));
  if (s.head_dim <= 0) throw InputError(fmt::format("{}: GGUF metadata: no head dimension", origin));
  // GELU (2-matrix) MLPs: no ffn_gate tensor.
  bool gate = false;
  for (const auto& t : m.table.tensors) gate = gate || t.name.find("ffn_gate") != std::string::npos;
  s.gated_mlp = gate;
  return m;
}

namespace {

/// Parses a file's header by reading a growing prefix until it fits (metadata such as tokenizer lists is
/// megabytes; tensor data is never read).
template <class Parse> auto parse_prefix(const std::string& path, Parse parse) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw InputError(fmt::format("cannot read GGUF file '{}'", path));
  const auto size = static_cast<std::uint64_t>(in.tellg());
  std::uint64_t want = std::min<std::uint64_t>(size, 16u << 20);
  for (;;) {
    std::string buffer(static_cast<std::size_t>(want), '\0');
    in.seekg(0);
    in.read(buffer.data(), static_cast<std::streamsize>(want));
    try {
      return parse(buffer);
    } catch (const InputError& e) {
      const bool ran_out = std::string(e.what()).find("the file ends inside") != std::string::npos;
      if (!ran_out || want >= size || want >= (std::uint64_t{1} << 30)) throw;
      want = std::min<std::uint64_t>(size, want * 4);
    }
  }
}

} // namespace

GgufModel read_gguf(const std::string& path) {
  GgufModel m = parse_prefix(path, [&](const std::string& bytes) { return parse_gguf(bytes, path); });
  // Split files (llama.cpp gguf-split: NAME-00001-of-00003.gguf, "split.count" in every part): the first
  // holds the metadata; every part holds part of the tensor table. All parts are read.
  const auto count_it = m.metadata.find("split.count");
  const long long count = count_it == m.metadata.end() ? 1 : std::atoll(count_it->second.c_str());
  if (count <= 1) return m;
  const std::string suffix = fmt::format("-of-{:05d}.gguf", count);
  const auto at = path.size() >= suffix.size() + 6 ? path.rfind(suffix) : std::string::npos;
  if (at == std::string::npos || at + suffix.size() != path.size() || at < 6 || path[at - 6] != '-')
    throw InputError(fmt::format("{}: GGUF split into {} parts, but the name does not end in -0000N-of-{:05d}.gguf", path,
                                 count, count));
  const std::string stem = path.substr(0, at - 6);
  for (long long part = 1; part <= count; ++part) {
    const std::string other = fmt::format("{}-{:05d}{}", stem, part, suffix);
    if (other == path) continue;
    std::map<std::string, Value> meta;
    const GgufModel piece = parse_prefix(other, [&](const std::string& bytes) { return parse_table(bytes, other, meta); });
    m.table.files.push_back(other);
    for (const auto& t : piece.table.tensors) {
      m.table.total_bytes += t.bytes;
      m.table.bytes_by_dtype[t.dtype] += t.bytes;
      m.table.elements_by_dtype[t.dtype] += t.elements;
      m.table.parameters += static_cast<double>(t.elements);
      m.table.tensors.push_back(t);
    }
  }
  // The LM head and gate tensors may sit in any part.
  bool output = false, gate = false;
  for (const auto& t : m.table.tensors) {
    output = output || t.name == "output.weight";
    gate = gate || t.name.find("ffn_gate") != std::string::npos;
  }
  m.shape.tie_word_embeddings = !output;
  m.shape.gated_mlp = gate;
  return m;
}

} // namespace gpuadvise
