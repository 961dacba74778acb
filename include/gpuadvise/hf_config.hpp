#pragma once
/// Reading a Hugging Face config.json into a ModelShape.
#include <gpuadvise/model.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// What a config.json said besides the shape.
struct HfConfigInfo {
  std::string model_type;
  std::string torch_dtype;                 ///< e.g. "bfloat16"; empty when absent
  std::string quant_method;                ///< quantization_config.quant_method (gptq, awq, fp8, bitsandbytes, ...)
  std::string quant_precision;             ///< the gpuadvise precision that format maps to; empty if none
  int quant_group_size = 0;                ///< quantization_config.group_size, 0 when absent
  std::vector<std::string> used_fields;    ///< keys that shaped the estimate
  std::vector<std::string> unused_fields;  ///< keys present but not used (the report lists them)
};

/// Parses a config.json; `origin` (the path) appears in errors. Throws CatalogError when the file is
/// not JSON or lacks a field the shape needs (layers, hidden size, heads, vocabulary).
ModelShape shape_from_hf_config(std::string_view text, std::string_view origin, HfConfigInfo* info = nullptr);

} // namespace gpuadvise
