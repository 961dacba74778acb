#pragma once
/// Numeric formats for weights, compute and KV cache, and what each costs per element.
#include <optional>
#include <string>
#include <string_view>

namespace gpuadvise {

/// A precision a user can ask for. int8 means W8A8 (int8 tensor cores); int4 means
/// weight-only group-wise int4 (AWQ/GPTQ style) with fp16 compute.
enum class Precision { fp32, fp16, bf16, fp8, int8, int4 };

/// "fp16" etc.; the inverse of parse_precision.
std::string_view to_string(Precision p);
/// Parses fp32|fp16|bf16|fp8|int8|int4 (case-insensitive; also float16/bfloat16/float32). Throws InputError.
Precision parse_precision(std::string_view text, std::string_view what = "precision");
/// Parses a KV-cache precision: fp16|bf16|fp8|int8 (fp32 too). Throws InputError otherwise.
Precision parse_kv_precision(std::string_view text);

/// Bytes per weight element stored in this format, including quantization scales:
/// fp32 4, fp16/bf16 2, fp8/int8 1 (per-tensor or per-channel scales are negligible),
/// int4 group-wise: 0.5 + (2-byte scale + 2-byte zero) / group_size.
double weight_bytes_per_param(Precision p, int int4_group_size);
/// Bytes per KV-cache element.
double kv_bytes_per_element(Precision p);
/// Bytes per activation element: the compute dtype of the format (fp32 4, else 2).
double activation_bytes_per_element(Precision p);

/// The tensor-core format whose dense throughput bounds this precision's matmuls:
/// int4 weight-only computes in fp16; the rest compute in their own format.
Precision compute_format(Precision p);

} // namespace gpuadvise
