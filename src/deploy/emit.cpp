// Deployment files for one plan: every value from the plan, each with the reason (docs/deploy.md).
#include <gpuadvise/emit.hpp>

#include <gpuadvise/engine_memory.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/precision.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace gpuadvise {
namespace {

/// A catalog GPU and the names deployment tools give it.
struct GpuNames {
  const char* id;
  /// The Kubernetes node label value: NVIDIA GPU feature discovery's `nvidia.com/gpu.product` is the NVML
  /// device name (as nvidia-smi prints it) with spaces as '-' (github.com/NVIDIA/k8s-device-plugin
  /// docs/gpu-feature-discovery/README.md "Generated Labels"); AMD's node labeller writes
  /// `amd.com/gpu.product-name` (github.com/ROCm/k8s-device-plugin, labeller: AMD_Instinct_MI300X_OAM).
  const char* product_label;
  /// SkyPilot's accelerator name (`sky show-gpus`), empty when not known.
  const char* skypilot;
};

constexpr GpuNames k_gpu_names[] = {
    {"l40", "NVIDIA-L40", "L40"},
    {"rtx-a6000", "NVIDIA-RTX-A6000", "RTXA6000"},
    {"a100-80gb-sxm", "NVIDIA-A100-SXM4-80GB", "A100-80GB"},
    {"a100-80gb-pcie", "NVIDIA-A100-80GB-PCIe", "A100-80GB"},
    {"a100-40gb-sxm", "NVIDIA-A100-SXM4-40GB", "A100"},
    {"h100-sxm", "NVIDIA-H100-80GB-HBM3", "H100"},
    {"h100-pcie", "NVIDIA-H100-PCIe", "H100"},
    {"h200-sxm", "NVIDIA-H200", "H200"},
    {"l40s", "NVIDIA-L40S", "L40S"},
    {"l4", "NVIDIA-L4", "L4"},
    {"a10", "NVIDIA-A10", "A10"},
    {"a40", "NVIDIA-A40", "A40"},
    {"rtx-4090", "NVIDIA-GeForce-RTX-4090", "RTX4090"},
    {"rtx-3090", "NVIDIA-GeForce-RTX-3090", "RTX3090"},
    {"rtx-6000-ada", "NVIDIA-RTX-6000-Ada-Generation", ""},
    {"b200", "NVIDIA-B200", "B200"},
    {"t4", "Tesla-T4", "T4"},
    {"a10g", "NVIDIA-A10G", "A10G"},
    {"v100-16gb-sxm2", "Tesla-V100-SXM2-16GB", "V100"},
    {"gh200", "NVIDIA-GH200-480GB", "GH200"},
    {"rtx-pro-6000", "NVIDIA-RTX-PRO-6000-Blackwell-Server-Edition", ""},
    {"mi300x", "AMD_Instinct_MI300X_OAM", "MI300X"},
};

const GpuNames* names_of(std::string_view id) {
  for (const auto& n : k_gpu_names)
    if (id == n.id) return &n;
  return nullptr;
}

constexpr int k_port = 8000; // vLLM's and trtllm-serve's default port

/// A DNS-1123 label from a model id: lower case, [a-z0-9-], at most 63 characters.
std::string dns_name(std::string_view id) {
  const auto slash = id.rfind('/');
  if (slash != std::string_view::npos) id = id.substr(slash + 1);
  std::string out;
  for (char c : id) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::isalnum(static_cast<unsigned char>(l))) out += l;
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 50) out.resize(50);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "llm" : out;
}

/// A shell word: plain when safe, else single-quoted.
std::string shell_word(const std::string& s) {
  const bool safe = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_./:=@+,").find(c) != std::string_view::npos;
  });
  if (safe) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// A YAML scalar: plain when it cannot be read as anything but this string, else double-quoted.
std::string yaml_string(const std::string& s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_./").find(c) != std::string_view::npos;
  }) && !std::isdigit(static_cast<unsigned char>(s[0])) && s != "true" && s != "false" && s != "null" && s != "yes" && s != "no";
  if (plain) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string fraction(double f) { return fmt::format("{:.2f}", f); }

/// "# why" lines for a YAML or shell file, wrapped at about 100 columns.
std::string comment(const std::string& text, const std::string& indent = "") {
  std::string out, line = indent + "#";
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (line.size() + word.size() + 1 > 100 && line.size() > indent.size() + 1) {
      out += line + "\n";
      line = indent + "#";
    }
    line += " " + word;
    start = end + 1;
  }
  return out + line + "\n";
}

/// The Hugging Face id to load: the id the user typed, else the preset's first hub alias.
std::string hub_id(const Workload& w) {
  if (w.origin == ModelOrigin::bare_size)
    throw InputError(fmt::format("--emit: '{}' is a size, not a checkpoint the engine can load: give --model a Hugging "
                                 "Face id (org/name) or a preset",
                                 w.model_text));
  if (w.model_text.find('/') != std::string::npos && w.origin != ModelOrigin::config_file) return w.model_text;
  for (const auto& alias : w.shape.aliases)
    if (alias.find('/') != std::string::npos) return alias;
  throw InputError(fmt::format("--emit: '{}' names no checkpoint the engine can load: give --model a Hugging Face id "
                               "(org/name) or a preset that has one",
                               w.model_text.empty() ? w.shape.id : w.model_text));
}

/// The engine's start-up accounting for the plan (src/engine_memory.cpp), at these scheduler limits.
EngineMemory engine_for(const Workload& w, const Candidate& c, const ServeSettings& s, Engine engine,
                        std::int64_t max_num_seqs, std::int64_t max_num_batched_tokens) {
  EngineLaunch launch = engine_launch_for(w, s.tp, max_num_seqs, max_num_batched_tokens);
  launch.engine = engine;
  launch.pipeline_parallel = s.pp;
  launch.memory_fraction = s.memory_fraction;
  if (s.kv_fp8) launch.kv_bytes_per_element = 1;
  if (engine == Engine::sglang) launch.block_size = 1;
  return engine_memory(w.shape, *c.gpu, launch);
}

} // namespace

std::string_view to_string(EmitTarget t) {
  switch (t) {
  case EmitTarget::vllm: return "vllm";
  case EmitTarget::sglang: return "sglang";
  case EmitTarget::trtllm: return "trtllm";
  case EmitTarget::skypilot: return "skypilot";
  case EmitTarget::k8s: return "k8s";
  }
  return "vllm";
}

EmitTarget parse_emit_target(std::string_view text) {
  for (auto t : {EmitTarget::vllm, EmitTarget::sglang, EmitTarget::trtllm, EmitTarget::skypilot, EmitTarget::k8s})
    if (text == to_string(t)) return t;
  throw InputError(fmt::format("invalid --emit '{}': expected vllm, sglang, trtllm, skypilot or k8s", text));
}

std::optional<std::string> gpu_from_product_label(std::string_view label) {
  for (const auto& n : k_gpu_names)
    if (label == n.product_label) return std::string(n.id);
  return std::nullopt;
}

std::optional<std::string> gpu_from_skypilot_name(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& n : k_gpu_names) {
    std::string sky = n.skypilot;
    for (char& c : sky) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!sky.empty() && sky == upper) return std::string(n.id); // the first row: the SXM part for "H100"
  }
  return std::nullopt;
}

ServeSettings serve_settings(const Workload& w, const Candidate& c) {
  if (w.kind != WorkloadKind::llm || c.training)
    throw InputError("--emit writes serving files for LLM inference plans: leave out --task and --workload");
  if (!c.gpu) throw InternalError("emit: a candidate without a GPU");
  if (!c.fits())
    throw InputError(fmt::format("--emit: the plan on {} x {} does not fit in memory; nothing to deploy", c.count, c.gpu->name));
  ServeSettings s;
  s.model_id = hub_id(w);
  s.name = dns_name(s.model_id);
  s.gpu_id = c.gpu->id;
  s.gpu_name = c.gpu->name;
  s.amd = c.gpu->vendor == "amd";
  s.tp = c.tp;
  s.pp = c.pp;
  s.max_model_len = w.context;
  s.memory_fraction = w.memory_utilization;
  if (c.machines) {
    s.provider = c.machines->instance.provider;
    s.instance_type = c.machines->instance.instance_type;
  }
  auto& v = s.values;
  v.push_back({"model", s.model_id, w.model_text.find('/') != std::string::npos
                                        ? "the checkpoint named on the command line"
                                        : fmt::format("the Hugging Face checkpoint of the {} preset (data/models.json)", w.shape.name)});
  // Weights: the plan's precision as the engine loads it.
  const Precision p = c.precision.effective;
  const auto named = checkpoint_format_from_id(s.model_id);
  const std::string prec(to_string(p));
  if (p == Precision::fp16 || p == Precision::bf16 || p == Precision::fp32) {
    s.dtype = p == Precision::fp16 ? "float16" : p == Precision::bf16 ? "bfloat16" : "float32";
    if (named)
      throw InputError(fmt::format("--emit: '{}' is a quantized checkpoint but the plan runs {} weights: set --precision to "
                                   "its format", s.model_id, prec));
    v.push_back({"dtype", s.dtype, fmt::format("the plan's {} weights and compute", prec)});
  } else if ((p == Precision::fp8 && named == CheckpointFormat::fp8) || ((p == Precision::int4) && named == CheckpointFormat::int4) ||
             ((p == Precision::int8) && named == CheckpointFormat::int8)) {
    s.dtype = "auto";
    v.push_back({"dtype", "auto", fmt::format("{} weights from the checkpoint's own quantization_config", prec)});
  } else if (p == Precision::fp8) {
    s.quantization = "fp8";
    s.dtype = "auto";
    v.push_back({"quantization", "fp8", "the plan's fp8 weights: vLLM quantizes the 16-bit checkpoint to FP8 as it loads"});
  } else if (p == Precision::nf4) {
    s.quantization = "bitsandbytes";
    s.dtype = "auto";
    v.push_back({"quantization", "bitsandbytes", "the plan's nf4 weights: bitsandbytes 4-bit, quantized as vLLM loads"});
  } else {
    throw InputError(fmt::format("--emit: {} weights need a checkpoint already quantized to that format: give its id with "
                                 "--model (e.g. an -AWQ or -w8a8 repository), or plan with --precision fp8, nf4 or bf16",
                                 prec));
  }
  if (c.precision.kv_effective == Precision::fp8) s.kv_fp8 = true;
  else if (c.precision.kv_effective == Precision::int8)
    throw InputError("--emit: the engines have no int8 KV cache: use --kv-precision fp8");
  v.push_back({"tensor-parallel-size", std::to_string(s.tp),
               fmt::format("the plan's tensor-parallel group: {} divides the {} attention heads{} and stays inside one "
                           "node",
                           s.tp, w.shape.num_attention_heads,
                           w.shape.num_kv_heads > 0 ? fmt::format(" ({} KV heads)", w.shape.num_kv_heads) : "")});
  if (s.pp > 1)
    v.push_back({"pipeline-parallel-size", std::to_string(s.pp),
                 fmt::format("{} pipeline stages, one per node of {} GPU{}: the plan's cheapest split; vLLM runs them on a "
                             "Ray cluster spanning the nodes",
                             s.pp, s.tp, s.tp == 1 ? "" : "s")});
  v.push_back({"max-model-len", std::to_string(s.max_model_len),
               fmt::format("the context the plan holds per sequence (prompt + output); the model's maximum is {}",
                           w.shape.max_context)});
  v.push_back({"gpu-memory-utilization", fraction(s.memory_fraction),
               "the fraction of each GPU the engine may take for weights, activations and KV cache (the plan's memory "
               "utilization)"});
  v.push_back({"kv-cache-dtype", s.kv_fp8 ? "fp8" : "auto",
               s.kv_fp8 ? "the plan's fp8 KV cache: half the bytes per token of 16-bit"
                        : "the KV cache in the model's compute dtype, as the plan sized it"});
  // The engine's KV budget at its default limits, then max-num-seqs: how many requests of this shape fit.
  const EngineMemory first = engine_for(w, c, s, Engine::vllm_v1, 0, 0);
  if (first.failure != EngineFailure::none)
    throw InputError(fmt::format("--emit: vLLM would not start this plan on {} x {}: {}", s.tp * s.pp, s.gpu_name,
                                 first.failure_message()));
  const std::int64_t default_seqs = first.profiled_tokens >= 8192 ? 1024 : 256; // vLLM V1 arg_utils defaults
  const std::int64_t per_request =
      std::max<std::int64_t>(1, std::min(s.max_model_len, w.input_tokens > 0 ? w.input_tokens + w.output_tokens : s.max_model_len));
  s.max_num_batched_tokens = first.profiled_tokens;
  s.max_num_seqs = std::clamp<std::int64_t>(first.kv_tokens / per_request, 1, default_seqs);
  const EngineMemory final_memory = engine_for(w, c, s, Engine::vllm_v1, s.max_num_seqs, s.max_num_batched_tokens);
  s.kv_tokens = final_memory.kv_tokens;
  v.push_back({"max-num-seqs", std::to_string(s.max_num_seqs),
               fmt::format("KV cache {} tokens / {} tokens per request = {} requests at once{}", first.kv_tokens, per_request,
                           first.kv_tokens / per_request,
                           first.kv_tokens / per_request > default_seqs
                               ? fmt::format(", capped at vLLM's default of {}", default_seqs)
                               : first.kv_tokens / per_request < 1 ? ", at least 1" : "")});
  v.push_back({"max-num-batched-tokens", std::to_string(s.max_num_batched_tokens),
               fmt::format("vLLM V1's default for a {} GiB GPU: the tokens one step schedules, and the size of the "
                           "profiling run the KV budget above was computed with",
                           static_cast<int>(first.total_bytes / (1024.0 * 1024 * 1024)))});
  v.push_back({"enable-chunked-prefill", "true",
               fmt::format("prompts longer than {} tokens are prefilled in chunks between decode steps (V1 always chunks)",
                           s.max_num_batched_tokens)});
  v.push_back({"replicas", "1", "one replica serves the plan's concurrency; run more behind the service for more traffic"});
  return s;
}

namespace {

/// vLLM's launch arguments as (flag, value) with their reasons; "" value = a boolean flag.
std::vector<EmitValue> vllm_args(const ServeSettings& s) {
  std::vector<EmitValue> out;
  for (const auto& v : s.values)
    if (v.key != "model" && v.key != "replicas") out.push_back(v);
  return out;
}

/// "# gpuadvise: gpu=l40s" — the line `check` reads for the GPU of a file that names none.
std::string marker(const ServeSettings& s) { return fmt::format("# gpuadvise: gpu={}\n", s.gpu_id); }

std::string header(const ServeSettings& s, const Workload& w, std::string_view what, std::string_view file) {
  std::string out = fmt::format("# {} for {} on {} x {} (gpuadvise --emit).\n", what, w.shape.name, s.tp * s.pp, s.gpu_name);
  out += fmt::format("# Check it before deploying: gpuadvise check {}\n", file);
  out += marker(s);
  return out;
}

/// A command with one argument per line, joined by backslash-newline.
std::string command_lines(const std::vector<std::string>& head, const std::vector<std::pair<std::string, std::string>>& args,
                          const std::string& indent = "  ") {
  std::string out;
  for (std::size_t i = 0; i < head.size(); ++i) out += (i ? " " : "") + shell_word(head[i]);
  for (const auto& [flag, value] : args) out += " \\\n" + indent + flag + (value.empty() ? "" : " " + shell_word(value));
  return out + "\n";
}

std::vector<std::pair<std::string, std::string>> vllm_flags(const ServeSettings& s) {
  std::vector<std::pair<std::string, std::string>> flags;
  for (const auto& v : vllm_args(s))
    flags.push_back({"--" + v.key, v.key == "enable-chunked-prefill" ? std::string() : v.value});
  flags.push_back({"--port", std::to_string(k_port)});
  return flags;
}

std::string whys(const std::vector<EmitValue>& values, const std::string& indent = "") {
  std::string out;
  for (const auto& v : values) out += comment(fmt::format("{} {}: {}", v.key, v.value, v.why), indent);
  return out;
}

std::vector<EmittedFile> emit_vllm(const ServeSettings& s, const Workload& w) {
  std::string sh = "#!/bin/sh\n" + header(s, w, "vLLM OpenAI-compatible server", "vllm-serve.sh");
  sh += "#\n" + whys(vllm_args(s));
  sh += "exec " + command_lines({"vllm", "serve", s.model_id}, vllm_flags(s));
  std::string yaml = header(s, w, "vLLM engine config (vllm serve --config vllm-config.yaml)", "vllm-config.yaml");
  for (const auto& v : s.values) {
    if (v.key == "replicas") continue;
    yaml += comment(v.why);
    yaml += fmt::format("{}: {}\n", v.key, v.key == "gpu-memory-utilization" || v.key == "enable-chunked-prefill" ||
                                              v.key.find("size") != std::string::npos || v.key.rfind("max-", 0) == 0
                                          ? v.value
                                          : yaml_string(v.value));
  }
  yaml += "# the OpenAI-compatible server's port\nport: " + std::to_string(k_port) + "\n";
  return {{"vllm-serve.sh", sh}, {"vllm-config.yaml", yaml}};
}

/// SGLang's spelling of the same launch, with its own KV accounting for max-running-requests.
std::vector<EmitValue> sglang_args(const ServeSettings& s, const Workload& w, const Candidate& c) {
  std::vector<EmitValue> out;
  const EngineMemory m = engine_for(w, c, s, Engine::sglang, 0, 0);
  if (m.failure != EngineFailure::none)
    throw InputError(fmt::format("--emit: SGLang would not start this plan on {} x {}: {}", s.tp * s.pp, s.gpu_name,
                                 m.failure_message()));
  const std::int64_t per_request =
      std::max<std::int64_t>(1, std::min(s.max_model_len, w.input_tokens > 0 ? w.input_tokens + w.output_tokens : s.max_model_len));
  const std::int64_t running = std::clamp<std::int64_t>(m.kv_tokens / per_request, 1, 1024);
  for (const auto& v : s.values) {
    if (v.key == "model") out.push_back({"model-path", v.value, v.why});
    else if (v.key == "tensor-parallel-size") out.push_back({"tp-size", v.value, v.why});
    else if (v.key == "pipeline-parallel-size") out.push_back({"pp-size", v.value, v.why});
    else if (v.key == "max-model-len") out.push_back({"context-length", v.value, v.why});
    else if (v.key == "gpu-memory-utilization")
      out.push_back({"mem-fraction-static", v.value,
                     "the fraction of GPU memory for weights and the KV pool (the plan's memory utilization); SGLang "
                     "keeps the rest for activations and CUDA graphs"});
    else if (v.key == "kv-cache-dtype") {
      if (s.kv_fp8) out.push_back({"kv-cache-dtype", "fp8_e4m3", v.why});
    } else if (v.key == "quantization" || v.key == "dtype") {
      if (v.value != "auto" || v.key == "dtype") out.push_back(v);
    } else if (v.key == "max-num-seqs")
      out.push_back({"max-running-requests", std::to_string(running),
                     fmt::format("SGLang's KV pool {} tokens / {} tokens per request = {} requests at once{}", m.kv_tokens,
                                 per_request, m.kv_tokens / per_request, m.kv_tokens / per_request > 1024 ? ", capped at 1024" : "")});
    else if (v.key == "max-num-batched-tokens")
      out.push_back({"chunked-prefill-size", v.value, "prompts are prefilled in chunks of this many tokens, as in the vLLM plan"});
  }
  return out;
}

std::vector<EmittedFile> emit_sglang(const ServeSettings& s, const Workload& w, const Candidate& c) {
  const auto args = sglang_args(s, w, c);
  std::string sh = "#!/bin/sh\n" + header(s, w, "SGLang server", "sglang-serve.sh") + "#\n" + whys(args);
  std::vector<std::pair<std::string, std::string>> flags;
  for (const auto& a : args) flags.push_back({"--" + a.key, a.value});
  flags.push_back({"--port", std::to_string(k_port)});
  sh += "exec " + command_lines({"python3", "-m", "sglang.launch_server"}, flags);
  std::string yaml = header(s, w, "SGLang server config (python3 -m sglang.launch_server --config sglang-config.yaml)",
                            "sglang-config.yaml");
  for (const auto& a : args) {
    yaml += comment(a.why);
    const bool number = !a.value.empty() && (std::isdigit(static_cast<unsigned char>(a.value[0])) != 0);
    yaml += fmt::format("{}: {}\n", a.key, number ? a.value : yaml_string(a.value));
  }
  yaml += "port: " + std::to_string(k_port) + "\n";
  return {{"sglang-serve.sh", sh}, {"sglang-config.yaml", yaml}};
}

std::vector<EmittedFile> emit_trtllm(const ServeSettings& s, const Workload& w) {
  if (!s.quantization.empty())
    throw InputError(fmt::format("--emit trtllm: trtllm-serve loads {} weights only from a checkpoint already quantized "
                                 "(NVIDIA ModelOpt): give its id with --model, or plan with --precision bf16",
                                 s.quantization));
  if (s.amd) throw InputError("--emit trtllm: TensorRT-LLM runs on NVIDIA GPUs only");
  std::vector<EmitValue> args;
  for (const auto& v : s.values) {
    if (v.key == "tensor-parallel-size") args.push_back({"tp_size", v.value, v.why});
    else if (v.key == "pipeline-parallel-size") args.push_back({"pp_size", v.value, v.why});
    else if (v.key == "max-model-len") args.push_back({"max_seq_len", v.value, v.why});
    else if (v.key == "max-num-seqs") args.push_back({"max_batch_size", v.value, v.why + " (vLLM's accounting of the KV cache)"});
    else if (v.key == "max-num-batched-tokens")
      args.push_back({"max_num_tokens", v.value, "the tokens one iteration schedules, as in the vLLM plan"});
    else if (v.key == "gpu-memory-utilization")
      args.push_back({"kv_cache_free_gpu_memory_fraction", v.value,
                      "the fraction of the memory left after weights and activations that the KV cache takes"});
  }
  std::string sh = "#!/bin/sh\n" + header(s, w, "TensorRT-LLM OpenAI-compatible server", "trtllm-serve.sh") + "#\n" + whys(args);
  sh += comment("extra_llm_api_options: the KV cache dtype and chunked prefill, which trtllm-serve takes only from this file "
                "(trtllm-extra-llm-api-options.yaml, next to this script)");
  std::vector<std::pair<std::string, std::string>> flags;
  for (const auto& a : args) flags.push_back({"--" + a.key, a.value});
  flags.push_back({"--extra_llm_api_options", "trtllm-extra-llm-api-options.yaml"});
  flags.push_back({"--port", std::to_string(k_port)});
  sh += "cd \"$(dirname \"$0\")\"\nexec " + command_lines({"trtllm-serve", s.model_id}, flags);
  std::string yaml = fmt::format("# TensorRT-LLM LLM API options for {} (trtllm-serve --extra_llm_api_options).\n", w.shape.name);
  yaml += "kv_cache_config:\n";
  yaml += comment(fmt::format("free_gpu_memory_fraction {}: as --kv_cache_free_gpu_memory_fraction in trtllm-serve.sh",
                              fraction(s.memory_fraction)), "  ");
  yaml += "  free_gpu_memory_fraction: " + fraction(s.memory_fraction) + "\n";
  yaml += comment(s.kv_fp8 ? "dtype fp8: the plan's fp8 KV cache" : "dtype auto: the KV cache in the model's dtype", "  ");
  yaml += std::string("  dtype: ") + (s.kv_fp8 ? "fp8" : "auto") + "\n";
  yaml += comment(fmt::format("prompts longer than {} tokens are prefilled in chunks", s.max_num_batched_tokens));
  yaml += "enable_chunked_prefill: true\n";
  return {{"trtllm-serve.sh", sh}, {"trtllm-extra-llm-api-options.yaml", yaml}};
}

std::vector<EmittedFile> emit_skypilot(const ServeSettings& s, const Workload& w) {
  const GpuNames* names = names_of(s.gpu_id);
  if (!names || std::string_view(names->skypilot).empty())
    throw InputError(fmt::format("--emit skypilot: no SkyPilot accelerator name is known for {}", s.gpu_name));
  if (s.pp > 1)
    throw InputError(fmt::format("--emit skypilot: the plan puts {} pipeline stages on {} nodes, which needs a Ray cluster "
                                 "across them that this file does not set up; emit vllm for the command, or plan on a "
                                 "provider or GPU whose instance holds all {} GPUs",
                                 s.pp, s.pp, s.tp * s.pp));
  const std::string accelerators = fmt::format("{}:{}", names->skypilot, s.tp);
  std::string y = fmt::format("# SkyPilot service for {} on {} x {} (gpuadvise --emit skypilot).\n", w.shape.name, s.tp * s.pp,
                              s.gpu_name);
  y += "# Launch: sky serve up sky-serve.yaml   Check it: gpuadvise check sky-serve.yaml\n";
  y += "# Keys as docs.skypilot.co/en/latest/reference/yaml-spec.html and serving/service-yaml-spec.html document them.\n";
  y += fmt::format("name: {}\n", s.name);
  y += "resources:\n";
  y += comment(fmt::format("accelerators {}: the plan's {} GPU{} per replica", accelerators, s.tp, s.tp == 1 ? "" : "s"), "  ");
  y += fmt::format("  accelerators: {}\n", accelerators);
  // SkyPilot's infra names for the catalog's providers it launches on (docs.skypilot.co, "infra").
  const bool sky_cloud = s.provider == "aws" || s.provider == "gcp" || s.provider == "azure" || s.provider == "lambda" ||
                         s.provider == "runpod";
  if (!s.instance_type.empty() && sky_cloud) {
    y += comment(fmt::format("instance_type {}: the {} machine the plan rents and prices", s.instance_type, s.provider), "  ");
    y += fmt::format("  infra: {}\n  instance_type: {}\n", s.provider, s.instance_type);
  } else if (!s.instance_type.empty()) {
    y += comment(fmt::format("the plan priced {}'s {}; SkyPilot picks the cheapest cloud offering the accelerators",
                             s.provider, s.instance_type), "  ");
  }
  y += fmt::format("  ports: {}\n", k_port);
  y += "envs:\n  HF_TOKEN: \"\"  # set for gated checkpoints: sky serve up --env HF_TOKEN\n";
  y += "setup: |\n  pip install vllm\n";
  y += "# The vLLM server, every value from the plan:\n" + whys(vllm_args(s));
  y += "run: |\n  " + command_lines({"vllm", "serve", s.model_id}, vllm_flags(s), "    ");
  y += "service:\n";
  y += comment("SkyServe routes traffic to a replica once GET /health answers 200; loading the weights takes minutes", "  ");
  y += fmt::format("  readiness_probe:\n    path: /health\n    initial_delay_seconds: 1200\n");
  y += comment("one replica serves the plan's concurrency", "  ");
  y += fmt::format("  replicas: {}\n", s.replicas);
  return {{"sky-serve.yaml", y}};
}

std::vector<EmittedFile> emit_k8s(const ServeSettings& s, const Workload& w) {
  const GpuNames* names = names_of(s.gpu_id);
  if (!names) throw InputError(fmt::format("--emit k8s: no Kubernetes node label is known for {}", s.gpu_name));
  if (s.pp > 1)
    throw InputError("--emit k8s: the plan puts pipeline stages on several nodes, which needs a Ray cluster across them "
                     "(a multi-node launcher such as LeaderWorkerSet); emit vllm for the command, or plan on a provider or "
                     "GPU whose instance holds all the GPUs");
  const std::string resource = s.amd ? "amd.com/gpu" : "nvidia.com/gpu";
  const std::string label = s.amd ? "amd.com/gpu.product-name" : "nvidia.com/gpu.product";
  const std::string image = s.amd ? "rocm/vllm:latest" : "vllm/vllm-openai:latest";
  std::string y = fmt::format("# Kubernetes Deployment and Service for {} on {} x {} (gpuadvise --emit k8s).\n", w.shape.name,
                              s.tp, s.gpu_name);
  y += "# Apply: kubectl apply -f k8s-vllm.yaml   Check it: gpuadvise check k8s-vllm.yaml\n";
  y += "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n";
  y += fmt::format("  name: {}\n  labels:\n    app: {}\nspec:\n", s.name, s.name);
  y += comment("one replica serves the plan's concurrency", "  ");
  y += fmt::format("  replicas: {}\n  selector:\n    matchLabels:\n      app: {}\n", s.replicas, s.name);
  y += fmt::format("  template:\n    metadata:\n      labels:\n        app: {}\n    spec:\n", s.name);
  y += comment(fmt::format("only nodes with {} ({} label{})", s.gpu_name, label,
                           s.amd ? " from AMD's node labeller" : " from NVIDIA GPU feature discovery"), "      ");
  y += fmt::format("      nodeSelector:\n        {}: {}\n", label, names->product_label);
  y += "      containers:\n";
  y += fmt::format("        - name: vllm\n          image: {}\n", image);
  y += "          command: [\"vllm\", \"serve\"]\n";
  y += whys(vllm_args(s), "          ");
  y += "          args:\n";
  y += fmt::format("            - {}\n", yaml_string(s.model_id));
  for (const auto& [flag, value] : vllm_flags(s)) {
    y += fmt::format("            - {}\n", flag);
    if (!value.empty()) y += fmt::format("            - \"{}\"\n", value);
  }
  y += "          env:\n            - name: HF_TOKEN\n              valueFrom:\n                secretKeyRef:\n"
       "                  name: hf-token\n                  key: token\n                  optional: true\n";
  y += fmt::format("          ports:\n            - name: http\n              containerPort: {}\n", k_port);
  y += "          resources:\n";
  y += comment(fmt::format("{} GPUs: the tensor-parallel group", s.tp), "            ");
  y += fmt::format("            limits:\n              {}: {}\n", resource, s.tp);
  y += "          volumeMounts:\n            - name: dshm\n              mountPath: /dev/shm\n";
  y += comment("ready for traffic once the weights are loaded", "          ");
  y += fmt::format("          readinessProbe:\n            httpGet:\n              path: /health\n              port: {}\n"
                   "            initialDelaySeconds: 60\n            periodSeconds: 10\n",
                   k_port);
  y += comment("restarted when the server stops answering; the delay leaves time to download and load the weights",
               "          ");
  y += fmt::format("          livenessProbe:\n            httpGet:\n              path: /health\n              port: {}\n"
                   "            initialDelaySeconds: 900\n            periodSeconds: 30\n",
                   k_port);
  y += comment("shared memory in RAM: tensor-parallel workers exchange tensors through /dev/shm, larger than the "
               "container default of 64 MB", "      ");
  y += "      volumes:\n        - name: dshm\n          emptyDir:\n            medium: Memory\n";
  y += "---\napiVersion: v1\nkind: Service\nmetadata:\n";
  y += fmt::format("  name: {}\nspec:\n  selector:\n    app: {}\n  ports:\n    - name: http\n      port: {}\n      targetPort: {}\n",
                   s.name, s.name, k_port, k_port);
  return {{"k8s-vllm.yaml", y}};
}

} // namespace

std::vector<EmittedFile> emit_files(EmitTarget target, const Workload& w, const Candidate& c) {
  const ServeSettings s = serve_settings(w, c);
  switch (target) {
  case EmitTarget::vllm: return emit_vllm(s, w);
  case EmitTarget::sglang: return emit_sglang(s, w, c);
  case EmitTarget::trtllm: return emit_trtllm(s, w);
  case EmitTarget::skypilot: return emit_skypilot(s, w);
  case EmitTarget::k8s: return emit_k8s(s, w);
  }
  throw InternalError("emit: unknown target");
}

} // namespace gpuadvise
