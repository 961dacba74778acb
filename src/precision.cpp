#include <gpuadvise/error.hpp>
#include <gpuadvise/model_files.hpp>
#include <gpuadvise/precision.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

namespace gpuadvise {

std::string_view to_string(Precision p) {
  switch (p) {
  case Precision::fp32: return "fp32";
  case Precision::fp16: return "fp16";
  case Precision::bf16: return "bf16";
  case Precision::fp8: return "fp8";
  case Precision::int8: return "int8";
  case Precision::int8_wo: return "int8-wo";
  case Precision::int4: return "int4";
  case Precision::nf4: return "nf4";
  case Precision::q8_0: return "q8_0";
  case Precision::q4_0: return "q4_0";
  case Precision::q4_k_m: return "q4_k_m";
  case Precision::nvfp4: return "nvfp4";
  case Precision::mxfp4: return "mxfp4";
  }
  return "?";
}

Precision parse_precision(std::string_view text, std::string_view what) {
  const std::string name = normalize_name(text);
  if (name == "fp32" || name == "float32" || name == "float") return Precision::fp32;
  if (name == "fp16" || name == "float16" || name == "half") return Precision::fp16;
  if (name == "bf16" || name == "bfloat16") return Precision::bf16;
  if (name == "fp8" || name == "float8" || name == "fp8e4m3" || name == "e4m3") return Precision::fp8;
  if (name == "int8" || name == "w8a8") return Precision::int8;
  if (name == "int8wo" || name == "w8a16" || name == "int8weightonly" || name == "llmint8") return Precision::int8_wo;
  if (name == "int4" || name == "w4a16" || name == "awq" || name == "gptq") return Precision::int4;
  if (name == "nf4" || name == "bnb4" || name == "bnbnf4") return Precision::nf4;
  if (name == "q80") return Precision::q8_0;
  if (name == "q40") return Precision::q4_0;
  if (name == "q4km") return Precision::q4_k_m;
  if (name == "fp4" || name == "nvfp4") return Precision::nvfp4;
  if (name == "mxfp4") return Precision::mxfp4;
  if (name == "f16") return Precision::fp16;
  if (name == "f32") return Precision::fp32;
  // Other GGUF types and llama.cpp's mix labels (Q5_K_M = Q5_K with Q6_K for some tensors): an LLM's
  // --precision takes them (build_llm_workload: the label's per-tensor mix, src/models/gguf_mix.cpp);
  // everywhere a single format is needed (sweep lists, KV cache, other kinds) they are an error here.
  std::string base = name;
  for (const char* mix : {"xxs", "xs", "s", "m", "l"}) {
    const std::string tail(mix);
    if (base.size() > tail.size() + 2 && base.compare(base.size() - tail.size(), tail.size(), tail) == 0 &&
        ggml_type_by_name(base.substr(0, base.size() - tail.size())) != nullptr) {
      base = base.substr(0, base.size() - tail.size());
      break;
    }
  }
  if (const GgmlType* t = ggml_type_by_name(text); t != nullptr || ggml_type_by_name(base) != nullptr) {
    if (!t) t = ggml_type_by_name(base);
    throw InputError(fmt::format("{} '{}' is a GGUF {} ({} bytes per {} weights, {:.4g} bits each){}: here the GGUF "
                                 "formats are q8_0, q4_0 and q4_k_m; an LLM's --precision takes every llama.cpp label ({}), "
                                 "and a .gguf file given as --model carries its exact bytes",
                                 what, text, t == ggml_type_by_name(text) ? "type" : "mix label", t->block_bytes,
                                 t->block_elements, t->block_bytes * 8.0 / t->block_elements,
                                 t == ggml_type_by_name(text) ? "" : fmt::format(" built on {}", t->name),
                                 gguf_label_names()));
  }
  throw InputError(fmt::format("unknown {} '{}': expected one of fp32, fp16, bf16, fp8, int8, int8-wo, int4, nf4, "
                               "q8_0, q4_0, q4_k_m, nvfp4 (fp4), mxfp4; an LLM's --precision also takes the llama.cpp "
                               "GGUF labels {}",
                               what, text, gguf_label_names()));
}

Precision parse_kv_precision(std::string_view text) {
  const Precision p = parse_precision(text, "KV-cache precision");
  if (p == Precision::int4 || p == Precision::int8_wo || p == Precision::nf4 || is_gguf(p) || is_fp4(p))
    throw InputError(fmt::format("unknown KV-cache precision '{}': expected one of fp16, bf16, fp8, int8, fp32", text));
  return p;
}

double weight_bytes_per_param(Precision p, int int4_group_size) {
  switch (p) {
  case Precision::fp32: return 4;
  case Precision::fp16:
  case Precision::bf16: return 2;
  case Precision::fp8:
  case Precision::int8: return 1;
  case Precision::int8_wo: return 1 + 4.0 / int4_group_size;  // fp16 scale + fp16 zero per group
  case Precision::int4: return 0.5 + 4.0 / int4_group_size;    // fp16 scale + fp16 zero per group
  case Precision::nf4: return 0.5 + 4.0 / 64;                  // fp32 absmax per block of 64
  case Precision::q8_0: return 34.0 / 32;                       // 32 int8 + fp16 scale per block
  case Precision::q4_0: return 18.0 / 32;                       // 32 x 4 bits + fp16 scale per block
  case Precision::q4_k_m: return 4.8 / 8;                       // mixed Q4_K/Q6_K, 4.8 bits on average
  case Precision::nvfp4: return 0.5 + 1.0 / 16;                  // E2M1 + one E4M3 scale per 16 (NVIDIA NVFP4)
  case Precision::mxfp4: return 0.5 + 1.0 / 32;                  // E2M1 + one E8M0 scale per 32 (OCP MX v1.0)
  }
  return 2;
}

double kv_bytes_per_element(Precision p) {
  switch (p) {
  case Precision::fp32: return 4;
  case Precision::fp8:
  case Precision::int8: return 1;
  default: return 2;
  }
}

double activation_bytes_per_element(Precision p) { return p == Precision::fp32 ? 4 : 2; }

Precision compute_format(Precision p) {
  return p == Precision::int4 || p == Precision::int8_wo || p == Precision::nf4 || p == Precision::mxfp4 ||
                 p == Precision::nvfp4 || is_gguf(p)
             ? Precision::fp16
             : p;
}

bool is_fp4(Precision p) { return p == Precision::nvfp4 || p == Precision::mxfp4; }

bool is_gguf(Precision p) { return p == Precision::q8_0 || p == Precision::q4_0 || p == Precision::q4_k_m; }

double embedding_bytes_per_param(Precision p, int group_size) {
  if (p == Precision::fp32) return 4;
  if (is_gguf(p)) return weight_bytes_per_param(p, group_size);
  return 2;
}

bool is_quantized(Precision p) {
  return p == Precision::fp8 || p == Precision::int8 || p == Precision::int8_wo || p == Precision::int4 ||
         p == Precision::nf4 || is_gguf(p) || is_fp4(p);
}

} // namespace gpuadvise
