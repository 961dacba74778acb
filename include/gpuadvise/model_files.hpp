#pragma once
/// Models from the files people have: safetensors headers, GGUF headers, Hugging Face snapshot folders
/// and the local Hugging Face cache. Only headers are read, never the tensors' data.
#include <gpuadvise/hf_config.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/precision.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// One tensor as a weight file's header lists it.
struct TensorInfo {
  std::string name;
  std::string dtype;                 ///< safetensors dtype (BF16, F8_E4M3, I32, ...) or ggml type (Q4_K, F16, ...)
  std::vector<std::uint64_t> shape;  ///< as stored (packed 4-bit tensors hold several weights per element)
  std::uint64_t elements = 0;        ///< product of the shape
  std::uint64_t bytes = 0;           ///< exact bytes the tensor occupies in the file
};

/// The tensor table of one model's weight files.
struct TensorTable {
  std::string format;                ///< "safetensors" or "gguf"
  std::vector<std::string> files;    ///< the files whose headers were read
  std::vector<TensorInfo> tensors;
  std::uint64_t total_bytes = 0;     ///< sum of every tensor's bytes
  std::map<std::string, std::uint64_t> bytes_by_dtype;
  std::map<std::string, std::uint64_t> elements_by_dtype;
  /// Weights (parameters) the tensors hold: float tensors count their elements; packed 4-bit integer
  /// tensors (GPTQ/AWQ qweight, compressed-tensors weight_packed, MXFP4 blocks) count 8 per I32 and 2 per
  /// U8 element; scales, zero points and group indices are not parameters. GGUF: every tensor's elements.
  double parameters = 0;
};

/// Bytes per element of a safetensors dtype (F8_E4M3 1, BF16 2, I32 4, ...); nullopt when unknown.
std::optional<double> safetensors_dtype_bytes(std::string_view dtype);

/// Parses one safetensors file's first bytes (the 8-byte little-endian header length and the JSON
/// header; anything after is ignored). `origin` names the file in errors. Throws InputError.
TensorTable parse_safetensors_header(std::string_view bytes, std::string_view origin);

/// Reads the headers of a .safetensors file, of every .safetensors file in a folder, or of the files a
/// model.safetensors.index.json lists. Reads only the headers. Throws InputError.
TensorTable read_safetensors(const std::string& path);

/// A ggml tensor type's block layout: elements per block and bytes per block (ggml-common.h).
struct GgmlType {
  int id = 0;
  const char* name = "";
  int block_elements = 1;
  int block_bytes = 0;
};
/// The layout of ggml type `id`; nullptr when unknown.
const GgmlType* ggml_type(int id);
/// The layout of a ggml type by name ("Q4_K", "iq4_xs", ...); nullptr when unknown.
const GgmlType* ggml_type_by_name(std::string_view name);

/// A GGUF file's header: metadata, tensor table, and the model shape its metadata describes.
struct GgufModel {
  std::uint32_t version = 0;
  std::map<std::string, std::string> metadata; ///< scalar values as text (arrays: "[n items]")
  std::string architecture;                    ///< general.architecture
  std::string name;                            ///< general.name, else the file name
  TensorTable table;
  ModelShape shape;
  std::vector<std::string> notes;              ///< defaults assumed for absent keys
};

/// Parses a GGUF header from its bytes (the header only; tensor data may be absent). Throws InputError.
GgufModel parse_gguf(std::string_view bytes, std::string_view origin);
/// Reads a .gguf file's header (metadata + tensor table), never the tensor data. Throws InputError.
GgufModel read_gguf(const std::string& path);

/// Everything a model file, folder or Hugging Face id gave.
struct ModelFiles {
  ModelShape shape;
  HfConfigInfo config;                 ///< when a config.json was read
  std::string config_path;             ///< the config.json read ("" for GGUF)
  std::optional<TensorTable> table;    ///< weight headers, when present
  std::optional<Precision> stored_precision; ///< the format the weights are stored in, when known
  std::string described_as;            ///< "safetensors headers (4 files)", "GGUF tensor table"
  std::vector<std::string> notes;
  bool gguf = false;
};

/// The Hugging Face hub cache folder: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
std::string hf_hub_cache_dir();
/// The snapshot folder of `org/name[@revision]` in the local cache, or nullopt when not cached.
/// A revision is a branch/tag (refs/<name>) or a commit hash; default "main".
std::optional<std::string> find_in_hf_cache(std::string_view repo_id, const std::string& cache_dir);
/// True when `text` has the form org/name or org/name@revision.
bool looks_like_hf_id(std::string_view text);

/// Fetches `org/name[@revision]`'s config.json and safetensors headers from the Hugging Face hub
/// ($HF_ENDPOINT, default https://huggingface.co; $HF_TOKEN; refused when $HF_HUB_OFFLINE is set) into
/// `work_dir` as a model folder with header-only safetensors files, and returns that folder. Only the
/// headers are transferred (HTTP range requests). Throws InputError (offline, unreachable, 401/403 gated).
std::string fetch_from_hub(std::string_view repo_id, const std::string& work_dir);

/// Loads a model from a path: a config.json, a .safetensors file, a model.safetensors.index.json, a
/// folder (config.json + safetensors), or a .gguf file. Throws InputError.
ModelFiles load_model_path(const std::string& path);

} // namespace gpuadvise
