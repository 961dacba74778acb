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

/// A llama.cpp quantization label: a file type `llama-quantize` writes (Q4_K_M, Q5_K_S, IQ4_XS, Q8_0, ...).
struct GgufLabel {
  const char* name = "";   ///< "Q4_K_M"
  int file_type = 0;       ///< llama.h `enum llama_ftype` value, as a GGUF's general.file_type stores it
  const char* base = "";   ///< the default ggml type (llama-quant.cpp llama_ftype_get_default_type)
};
/// The label by name, case- and punctuation-insensitive ("q5_k_m", "Q5_K_M"; Q3_K/Q4_K/Q5_K = the _M mix);
/// nullptr when unknown.
const GgufLabel* gguf_label_by_name(std::string_view name);
/// The label of a GGUF's general.file_type; nullptr when unknown.
const GgufLabel* gguf_label_by_file_type(long long file_type);
/// Every label, comma-separated, for error messages.
std::string gguf_label_names();
/// The gpuadvise precision whose kernels and GPU support a label uses: Q8_0 -> q8_0; the 32-element
/// legacy types (Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL) -> q4_0; K, IQ, TQ and MXFP4_MOE mixes -> q4_k_m.
Precision gguf_label_family(const GgufLabel& label);

/// The bytes a label gives a shape: each 2-D weight at the type llama.cpp's quantizer picks for its role
/// and layer (llama-quant.cpp), 1-D weights and routers in F32.
struct GgufMix {
  const GgufLabel* label = nullptr;
  double bytes = 0;
  double params = 0;
  std::map<std::string, double> bytes_by_type;
};
GgufMix gguf_mix(const ModelShape& shape, const GgufLabel& label);

/// llama.cpp's compute buffer (the "CUDA0 compute buffer size" it logs at start-up) for a context of
/// `n_ctx` KV cells at the default micro-batch of 512 tokens, fully offloaded: the larger of the FFN
/// stage and (without flash attention) the K*Q scores, plus the f16 KQ mask and one row of logits
/// (docs/model-files.md, with its measured range).
struct LlamaCppComputeBuffer {
  double low = 0, expected = 0, high = 0; ///< bytes
  double n_ubatch = 0;
};
LlamaCppComputeBuffer llamacpp_compute_buffer(const ModelShape& shape, double n_ctx, bool flash_attention = true);

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
  const GgufLabel* gguf_file_type = nullptr; ///< a GGUF's general.file_type, when it names a known label
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
