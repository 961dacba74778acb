#pragma once
/// Numeric formats for weights, compute and KV cache, and what each costs per element.
#include <optional>
#include <string>
#include <string_view>

namespace gpuadvise {

/// A precision (weight format) a user can ask for:
/// - fp8: W8A8 FP8 (e4m3) with per-tensor scales, FP8 tensor cores;
/// - int8: W8A8 (SmoothQuant-style), int8 tensor cores;
/// - int8_wo: int8 weight-only (GPTQ 8-bit, bitsandbytes LLM.int8), fp16 compute;
/// - int4: weight-only group-wise int4 (AWQ/GPTQ), fp16 compute;
/// - nf4: bitsandbytes 4-bit NormalFloat (QLoRA), fp16/bf16 compute.
/// - q8_0, q4_0, q4_k_m: llama.cpp GGUF block formats (every tensor, embeddings included), fp16 compute.
/// - mxfp4, nvfp4: 4-bit float block formats (OCP MX: 32 x e2m1 + e8m0 scale; NVIDIA NVFP4: 16 x e2m1 +
///   e4m3 scale), counted as weight-only with 16-bit compute (Marlin/Triton kernels before Blackwell).
enum class Precision { fp32, fp16, bf16, fp8, int8, int8_wo, int4, nf4, q8_0, q4_0, q4_k_m, mxfp4, nvfp4 };

/// "fp16" etc.; the inverse of parse_precision.
std::string_view to_string(Precision p);
/// Parses fp32|fp16|bf16|fp8|int8|int8-wo|int4|nf4 (case-insensitive; also float16, bfloat16, w8a8,
/// w8a16, w4a16, awq, gptq, bnb4). Throws InputError naming the accepted values.
Precision parse_precision(std::string_view text, std::string_view what = "precision");
/// Parses a KV-cache precision: fp16|bf16|fp8|int8 (fp32 too). Throws InputError otherwise.
Precision parse_kv_precision(std::string_view text);

/// Bytes per weight element stored in this format, including quantization constants:
/// fp32 4, fp16/bf16 2, fp8/int8 1 (per-tensor or per-channel scales are negligible),
/// int8_wo 1 + 4 / group_size, int4 0.5 + (2-byte scale + 2-byte zero) / group_size,
/// nf4 0.5 + 4 / 64 (one fp32 absmax per block of 64, bitsandbytes without double quantization),
/// q8_0 34/32 and q4_0 18/32 (32 weights + one fp16 scale per block), q4_k_m 4.8 bits on average,
/// mxfp4 17/32, nvfp4 9/16.
double weight_bytes_per_param(Precision p, int int4_group_size);
/// Bytes per KV-cache element.
double kv_bytes_per_element(Precision p);
/// Bytes per activation element: the compute dtype of the format (fp32 4, else 2).
double activation_bytes_per_element(Precision p);

/// The tensor-core format whose dense throughput bounds this precision's matmuls:
/// weight-only formats (int8_wo, int4, nf4) compute in fp16; the rest in their own format.
Precision compute_format(Precision p);
/// True for formats whose weights are quantized.
bool is_quantized(Precision p);
/// True for llama.cpp GGUF block formats.
bool is_gguf(Precision p);
/// Bytes per parameter of the embedding table and LM head: 4 in fp32, the format's own rate for
/// GGUF files (they quantize every tensor), else 2 (AWQ, GPTQ, bitsandbytes, fp8 keep them in 16-bit).
double embedding_bytes_per_param(Precision p, int group_size);

} // namespace gpuadvise
