#pragma once
/// Deployment files for one plan (docs/deploy.md): the vLLM, SGLang and TensorRT-LLM launch commands and
/// configs, a SkyPilot task and a Kubernetes Deployment, with every value computed from the plan and a
/// comment saying why. `gpuadvise check` reads each of them back.
#include <gpuadvise/advisor.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// What to emit.
enum class EmitTarget { vllm, sglang, trtllm, skypilot, k8s };

/// "vllm", "sglang", "trtllm", "skypilot", "k8s".
std::string_view to_string(EmitTarget t);
/// Parses a target name; throws InputError naming the accepted ones.
EmitTarget parse_emit_target(std::string_view text);

/// One emitted file: its name (no folder) and its whole text.
struct EmittedFile {
  std::string name;
  std::string content;
};

/// One launch value and why it has that value (the comment the files carry).
struct EmitValue {
  std::string key;   ///< vLLM's spelling: "tensor-parallel-size"
  std::string value;
  std::string why;
};

/// The engine settings derived from a plan, shared by every emitter.
struct ServeSettings {
  std::string model_id;        ///< the Hugging Face id the engine loads
  std::string name;            ///< a DNS-safe name for the service ("llama-3-1-8b-instruct")
  std::string gpu_id;          ///< catalog id
  std::string gpu_name;
  bool amd = false;
  int tp = 1;
  int pp = 1;
  std::int64_t max_model_len = 4096;
  double memory_fraction = 0.9;
  std::string dtype;           ///< "bfloat16" / "float16" / "auto"
  std::string quantization;    ///< vLLM --quantization, empty for none
  bool kv_fp8 = false;
  std::int64_t max_num_seqs = 1;
  std::int64_t max_num_batched_tokens = 2048;
  std::int64_t kv_tokens = 0;  ///< the engine's KV cache in tokens per replica
  int replicas = 1;
  std::string provider;        ///< with an instance shape: its provider and type
  std::string instance_type;
  std::vector<EmitValue> values; ///< in launch order, with why
};

/// The settings for serving `workload` on candidate `c` (its GPU, tensor and pipeline split, precision).
/// Throws InputError when the plan cannot be emitted (not an LLM inference plan, a model with no
/// Hugging Face id, a weight format the engines do not load, or an engine that would not start).
ServeSettings serve_settings(const Workload& workload, const Candidate& c);

/// The files for `target`. Throws InputError as serve_settings does.
std::vector<EmittedFile> emit_files(EmitTarget target, const Workload& workload, const Candidate& c);

/// The catalog GPU id a Kubernetes node label value names (`nvidia.com/gpu.product: NVIDIA-L40S`,
/// `amd.com/gpu.product-name: AMD_Instinct_MI300X_OAM`); nullopt when none.
std::optional<std::string> gpu_from_product_label(std::string_view label);
/// The catalog GPU id a SkyPilot accelerator name names ("L40S", "A100-80GB"); nullopt when none.
std::optional<std::string> gpu_from_skypilot_name(std::string_view name);

} // namespace gpuadvise
