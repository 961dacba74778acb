#pragma once
/// Reading a Hugging Face config.json into a ModelShape.
#include <gpuadvise/model.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// What a config.json said about how its weights are stored (quantization_config).
struct HfQuantization {
  std::string method;                 ///< quant_method as written (gptq, awq, fp8, compressed-tensors, mxfp4, ...)
  std::string format;                 ///< compressed-tensors "format" (pack-quantized, float-quantized, ...)
  std::string precision;              ///< the gpuadvise precision the format maps to; empty if none
  int bits = 0;                       ///< weight bits (4, 8); 0 when the format does not say
  int group_size = 0;                 ///< quantization group size; 0 = per-channel / per-tensor / absent
  std::vector<std::string> ignored;   ///< modules kept unquantized (ignore, modules_to_not_convert, ...)
  double params_kept_16bit = 0;       ///< parameters (besides embeddings) those modules hold, kept in 16-bit
  std::string description;            ///< one line: "compressed-tensors int4 (group 128, weights only)"
};

/// What a config.json said besides the shape.
struct HfConfigInfo {
  std::string model_type;
  std::string torch_dtype;                 ///< e.g. "bfloat16"; empty when absent
  std::string quant_method;                ///< quantization_config.quant_method (gptq, awq, fp8, bitsandbytes, ...)
  std::string quant_precision;             ///< the gpuadvise precision that format maps to; empty if none
  int quant_group_size = 0;                ///< quantization_config.group_size, 0 when absent
  std::optional<HfQuantization> quantization;
  bool nested_text_config = false;         ///< the language model was read from text_config
  double vision_params = 0;                ///< vision tower + projector parameters (vision_config), 0 if none
  std::vector<std::string> notes;          ///< published defaults assumed for absent fields, with their source
  std::vector<std::string> used_fields;    ///< keys that shaped the estimate
  std::vector<std::string> unused_fields;  ///< keys present but not used (the report lists them)
};

/// Parses a config.json; `origin` (the path) appears in errors. A multimodal config's language model
/// is read from `text_config` and its vision tower counted from `vision_config`. Throws CatalogError
/// when the file is not JSON or lacks a field the shape needs and the family has no published default.
ModelShape shape_from_hf_config(std::string_view text, std::string_view origin, HfConfigInfo* info = nullptr);

} // namespace gpuadvise
