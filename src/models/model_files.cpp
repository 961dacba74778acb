// A model from a path (config.json, safetensors file/folder/index, GGUF) or from the local Hugging Face
// cache (huggingface_hub's layout: <cache>/models--org--name/{refs/<branch>, snapshots/<commit>/...}).
#include <gpuadvise/error.hpp>
#include <gpuadvise/files.hpp>
#include <gpuadvise/model_files.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace gpuadvise {
namespace {

namespace fs = std::filesystem;

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

/// The format the bulk of a safetensors table is stored in, when no quantization_config says.
std::optional<Precision> dominant_float(const TensorTable& t) {
  std::string best;
  std::uint64_t bytes = 0;
  for (const auto& [dtype, n] : t.bytes_by_dtype)
    if (n > bytes) best = dtype, bytes = n;
  if (best == "BF16") return Precision::bf16;
  if (best == "F16") return Precision::fp16;
  if (best == "F32") return Precision::fp32;
  if (best == "F8_E4M3") return Precision::fp8;
  return std::nullopt;
}

/// The gpuadvise precision that labels a GGUF file: its dominant ggml type's family.
Precision gguf_label(const TensorTable& t, std::string* dominant) {
  std::uint64_t bytes = 0;
  for (const auto& [type, n] : t.bytes_by_dtype)
    if (n > bytes) *dominant = type, bytes = n;
  if (*dominant == "F16") return Precision::fp16;
  if (*dominant == "BF16") return Precision::bf16;
  if (*dominant == "F32") return Precision::fp32;
  if (*dominant == "Q8_0") return Precision::q8_0;
  if (*dominant == "Q4_0" || *dominant == "Q4_1" || *dominant == "IQ4_NL") return Precision::q4_0;
  return Precision::q4_k_m; // K-quant and IQ mixes: llama.cpp's CUDA kernels, as q4_k_m
}

std::string describe_bytes(const TensorTable& t) {
  std::vector<std::string> parts;
  for (const auto& [dtype, n] : t.bytes_by_dtype) parts.push_back(fmt::format("{} {:.2f} GB", dtype, static_cast<double>(n) / 1e9));
  return fmt::format("{}", fmt::join(parts, ", "));
}

ModelFiles from_config_and_weights(const fs::path& config, const std::vector<fs::path>& weights) {
  ModelFiles m;
  m.config_path = config.string();
  try {
    m.shape = shape_from_hf_config(read_text_file(m.config_path, "model config"), m.config_path, &m.config);
  } catch (const CatalogError& e) {
    throw InputError(e.what());
  }
  TensorTable all;
  all.format = "safetensors";
  for (const auto& w : weights) {
    const TensorTable one = read_safetensors(w.string());
    for (const auto& f : one.files) all.files.push_back(f);
    for (const auto& t : one.tensors) {
      all.total_bytes += t.bytes;
      all.bytes_by_dtype[t.dtype] += t.bytes;
      all.elements_by_dtype[t.dtype] += t.elements;
      all.tensors.push_back(t);
    }
    all.parameters += one.parameters;
  }
  if (!weights.empty()) {
    m.table = all;
    if (!m.config.quant_precision.empty()) m.stored_precision = parse_precision(m.config.quant_precision);
    else m.stored_precision = dominant_float(all);
    m.described_as = fmt::format("safetensors headers of {} file{}: {}", all.files.size(), all.files.size() == 1 ? "" : "s",
                                 describe_bytes(all));
    if (!m.stored_precision)
      m.notes.push_back(fmt::format("the weight files' dtypes ({}) map to no single gpuadvise format: their exact bytes are "
                                    "shown but the estimate uses the shape", describe_bytes(all)));
  }
  return m;
}

} // namespace

std::string hf_hub_cache_dir() {
  if (const std::string v = env("HF_HUB_CACHE"); !v.empty()) return v;
  if (const std::string v = env("HUGGINGFACE_HUB_CACHE"); !v.empty()) return v;
  if (const std::string v = env("HF_HOME"); !v.empty()) return (fs::path(v) / "hub").string();
  if (const std::string v = env("XDG_CACHE_HOME"); !v.empty()) return (fs::path(v) / "huggingface" / "hub").string();
  return (fs::path(env("HOME")) / ".cache" / "huggingface" / "hub").string();
}

bool looks_like_hf_id(std::string_view text) {
  const auto at = text.find('@');
  const std::string_view id = text.substr(0, at);
  const auto slash = id.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == id.size() || id.find('/', slash + 1) != std::string_view::npos)
    return false;
  const auto ok = [](std::string_view part) {
    if (part == "." || part == ".." || part.empty()) return false;
    return std::all_of(part.begin(), part.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
  };
  if (!ok(id.substr(0, slash)) || !ok(id.substr(slash + 1))) return false;
  if (at == std::string_view::npos) return true;
  const std::string_view rev = text.substr(at + 1);
  return !rev.empty() && rev.find("..") == std::string_view::npos &&
         std::all_of(rev.begin(), rev.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
         });
}

std::optional<std::string> find_in_hf_cache(std::string_view repo_id, const std::string& cache_dir) {
  if (!looks_like_hf_id(repo_id)) return std::nullopt;
  const auto at = repo_id.find('@');
  const std::string id(repo_id.substr(0, at));
  const std::string revision = at == std::string_view::npos ? "main" : std::string(repo_id.substr(at + 1));
  std::string folder = "models--" + id;
  folder.replace(folder.find('/'), 1, "--");
  const fs::path repo = fs::path(cache_dir) / folder;
  if (!is_dir(repo)) return std::nullopt;
  std::string commit = revision;
  if (is_file(repo / "refs" / revision)) {
    std::ifstream in(repo / "refs" / revision);
    std::getline(in, commit);
    commit.erase(std::remove_if(commit.begin(), commit.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); }),
                 commit.end());
    if (commit.empty() || commit.find('/') != std::string::npos || commit.find("..") != std::string::npos)
      throw InputError(fmt::format("Hugging Face cache: {} does not hold a commit hash", (repo / "refs" / revision).string()));
  }
  const fs::path snapshot = repo / "snapshots" / commit;
  if (!is_dir(snapshot)) return std::nullopt;
  return snapshot.string();
}

ModelFiles load_model_path(const std::string& path) {
  const fs::path p(path);
  if (!fs::exists(p)) throw InputError(fmt::format("--model '{}': no such file or folder", path));
  const auto gguf_model = [&](const fs::path& file) {
    GgufModel g = read_gguf(file.string());
    ModelFiles m;
    m.gguf = true;
    m.shape = g.shape;
    m.notes = g.notes;
    std::string dominant;
    m.stored_precision = gguf_label(g.table, &dominant);
    if (const auto ft = g.metadata.find("general.file_type"); ft != g.metadata.end()) {
      char* end = nullptr;
      const long long v = std::strtoll(ft->second.c_str(), &end, 10);
      if (end && *end == '\0') m.gguf_file_type = gguf_label_by_file_type(v);
    }
    m.described_as = fmt::format("GGUF v{} tensor table of {} tensors: {}", g.version, g.table.tensors.size(), describe_bytes(g.table));
    m.table = std::move(g.table);
    return m;
  };
  if (is_file(p) && p.extension() == ".gguf") return gguf_model(p);
  if (is_file(p) && p.filename() == "config.json") return from_config_and_weights(p, {});
  if (is_file(p) && (p.extension() == ".safetensors" || p.filename().string().find(".safetensors.index.json") != std::string::npos)) {
    const fs::path config = p.parent_path() / "config.json";
    if (!is_file(config))
      throw InputError(fmt::format("--model '{}': no config.json beside it (safetensors headers hold tensor sizes, not the "
                                   "layer and head counts the KV cache needs)", path));
    return from_config_and_weights(config, {p});
  }
  if (is_dir(p)) {
    const fs::path config = p / "config.json";
    std::vector<fs::path> ggufs;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(p, ec))
      if (entry.path().extension() == ".gguf") ggufs.push_back(entry.path());
    if (!is_file(config)) {
      if (ggufs.size() == 1) return gguf_model(ggufs.front());
      throw InputError(fmt::format("--model '{}': the folder has no config.json{}", path,
                                   ggufs.size() > 1 ? " and several .gguf files: name one" : ""));
    }
    const bool has_weights = is_file(p / "model.safetensors.index.json") || [&] {
      for (const auto& entry : fs::directory_iterator(p, ec))
        if (entry.path().extension() == ".safetensors") return true;
      return false;
    }();
    return has_weights ? from_config_and_weights(config, {p}) : from_config_and_weights(config, {});
  }
  throw InputError(fmt::format("--model '{}': not a config.json, .safetensors, safetensors index, .gguf or model folder", path));
}

} // namespace gpuadvise
