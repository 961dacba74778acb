#include <gpuadvise/advisor.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/files.hpp>
#include <gpuadvise/hf_config.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/model_files.hpp>
#include <gpuadvise/units.hpp>
#include <gpuadvise/workload.hpp>
#include <gpuadvise/evaluation.hpp>

#include <tuple>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <functional>
#include <cstdlib>

namespace gpuadvise {
namespace {

/// Largest KV cache a workload may need, in bytes (1 EB): byte counts stay exact 64-bit integers.
constexpr double k_max_kv_cache_bytes = 1e18;

/// The model text is echoed in the report and the JSON document: it must be UTF-8 (the JSON writer
/// throws on anything else) without control characters (a NUL would also cut a file path short).
void require_printable(const std::string& text, std::string_view what) {
  const bool control = std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  bool utf8 = true;
  try {
    (void)nlohmann::json(text).dump();
  } catch (const nlohmann::json::type_error&) {
    utf8 = false;
  }
  if (control || !utf8) {
    // Quoted with escapes, so the message itself is printable.
    const std::string quoted = nlohmann::json(text).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    throw InputError(fmt::format("invalid {} {}: {}", what, quoted,
                                 control ? "contains control characters" : "is not UTF-8 text"));
  }
}

} // namespace

Workload workload_for_shape(const ModelShape& shape, ModelOrigin origin) {
  Workload w;
  w.shape = shape;
  w.origin = origin;
  const ParamCounts counts = count_params(shape);
  w.params_total = counts.total;
  w.params_active = counts.active;
  w.params_embedding = counts.embedding;
  return w;
}

double lookup_params(const Workload& w) { return w.shape.tie_word_embeddings ? 0 : w.params_embedding / 2; }

double dense_matmul_params(const Workload& w) { return std::max(0.0, w.params_active - lookup_params(w)); }

namespace {

/// True when --model names a file or folder: it exists and has a path separator or a model file's extension.
bool names_a_path(const std::string& model) {
  const auto ends = [&](std::string_view tail) {
    return model.size() >= tail.size() && model.compare(model.size() - tail.size(), tail.size(), tail) == 0;
  };
  const bool file_like = ends(".gguf") || ends(".safetensors") || ends(".json");
  std::error_code ec;
  if (file_like) return true;
  // A folder in the working directory counts when it holds a model (a config.json).
  if (std::filesystem::is_regular_file(std::filesystem::path(model) / "config.json", ec)) return true;
  return (model.find('/') != std::string::npos || model.find('\\') != std::string::npos) && std::filesystem::exists(model, ec);
}

/// A workload from model files: the shape from config.json or GGUF metadata, exact bytes from the headers.
Workload workload_from_files(const ModelFiles& m, std::string& file_precision, const GgufLabel*& file_label) {
  file_label = m.gguf_file_type;
  Workload w = workload_for_shape(m.shape, ModelOrigin::config_file);
  w.config_path = m.config_path.empty() && m.table ? m.table->files.front() : m.config_path;
  w.config_unused_fields = m.config.unused_fields;
  w.config_quant_method = m.config.quant_method;
  w.group_size = m.config.quant_group_size;
  w.model_notes = m.config.notes;
  for (const auto& note : m.notes) w.model_notes.push_back(note);
  w.params_vision = m.config.vision_params;
  if (m.config.quantization) w.params_kept_16bit = m.config.quantization->params_kept_16bit;
  file_precision = m.config.quant_precision;
  if (m.table && m.stored_precision) {
    w.stored_weight_bytes = static_cast<double>(m.table->total_bytes);
    w.stored_precision = *m.stored_precision;
    w.weight_bytes_source = m.described_as;
    file_precision = std::string(to_string(*m.stored_precision));
  }
  if (m.gguf) w.runtime = "llamacpp";
  return w;
}

} // namespace

Workload build_llm_workload(const WorkloadRequest& request, const ModelCatalog& models) {
  reject_unused_options(request, "llm", {"--model", "--precision", "--batch", "--context", "--requests"});
  Workload w;
  w.model_text = request.model_config ? *request.model_config : request.model;
  const std::string model = request.model;
  std::string config_precision;
  const GgufLabel* file_label = nullptr; // a GGUF file's own general.file_type
  if (request.model_config && !model.empty())
    throw InputError("give either --model or --model-config, not both");
  require_printable(w.model_text, request.model_config ? "--model-config" : "--model");
  if (request.model_config) {
    HfConfigInfo info;
    try {
      const ModelShape shape =
          shape_from_hf_config(read_text_file(*request.model_config, "model config"), *request.model_config, &info);
      const std::string typed = w.model_text;
      w = workload_for_shape(shape, ModelOrigin::config_file);
      w.model_text = typed;
    } catch (const CatalogError& e) {
      throw InputError(e.what());
    }
    w.config_path = *request.model_config;
    w.config_unused_fields = info.unused_fields;
    w.config_quant_method = info.quant_method;
    w.group_size = info.quant_group_size;
    w.model_notes = info.notes;
    w.params_vision = info.vision_params;
    if (info.quantization) w.params_kept_16bit = info.quantization->params_kept_16bit;
    config_precision = info.quant_precision;
  } else if (model.empty()) {
    throw InputError("missing --model: give a size such as 13B, a preset such as llama-2-13b, or --model-config PATH");
  }
  const bool looks_like_size = !model.empty() && (std::isdigit(static_cast<unsigned char>(model.front())) ||
                                                  model.front() == '.' || model.front() == '-' || model.front() == '+');
  // Model files: a path, or a Hugging Face id found in the local cache (before the presets: real files win).
  std::optional<std::string> files_path;
  if (!request.model_config && !model.empty()) {
    if (names_a_path(model)) files_path = model;
    else if (looks_like_hf_id(model)) files_path = find_in_hf_cache(model, hf_hub_cache_dir());
  }
  if (request.model_config) {
    // shape read above
  } else if (files_path) {
    const std::string typed = w.model_text;
    w = workload_from_files(load_model_path(*files_path), config_precision, file_label);
    w.model_text = typed;
    // A config.json without _name_or_path: name the model as the user did (folder or Hugging Face id).
    if (w.shape.name == "config.json") w.shape.name = typed;
  } else if (const ModelShape* preset = looks_like_size ? nullptr : models.find(model)) {
    const std::string typed = w.model_text;
    w = workload_for_shape(*preset, ModelOrigin::preset);
    w.model_text = typed;
  } else if (looks_like_size) {
    w.origin = ModelOrigin::bare_size;
    w.params_total = parse_param_count(model, "model size");
    w.shape = models.reference_for(w.params_total);
    // The user's count is authoritative; the reference shape gives layers, heads and the share of
    // the count that sits in embedding tables.
    const ParamCounts reference = count_params(w.shape);
    w.params_active = w.params_total;
    w.params_embedding = w.params_total * reference.embedding / reference.total;
  } else if (looks_like_hf_id(model)) {
    // Not cached, not a preset: the hub (config.json and safetensors headers only), into a scratch folder.
    std::string id = model;
    std::replace(id.begin(), id.end(), '/', '-');
    std::replace(id.begin(), id.end(), '@', '-');
    const auto scratch = std::filesystem::temp_directory_path() /
                         fmt::format("gpuadvise-hub-{}-{}", id, std::hash<std::string>{}(model + std::to_string(std::rand())));
    std::error_code ec;
    try {
      const std::string typed = w.model_text;
      w = workload_from_files(load_model_path(fetch_from_hub(model, scratch.string())), config_precision, file_label);
      w.model_text = typed;
      w.config_path = model + " (Hugging Face hub)";
      if (w.shape.name == "config.json") w.shape.name = model;
    } catch (...) {
      std::filesystem::remove_all(scratch, ec);
      throw;
    }
    std::filesystem::remove_all(scratch, ec);
  } else {
    const auto close = models.suggestions(model);
    throw InputError(fmt::format("unknown model '{}': did you mean {}? (or give a size such as 13B; "
                                 "`gpuadvise models` lists the presets)",
                                 model, fmt::join(close, ", ")));
  }
  // Presets and config.json files are held to the same limit as a bare size.
  if (w.params_total > k_max_param_count)
    throw InputError(fmt::format("model '{}' has {} parameters: more than the limit of 100T", w.model_text,
                                 format_params(w.params_total)));

  // A llama.cpp label (Q5_K_M, IQ4_XS, q4_k_m, ...) is a per-tensor mix: its bytes are the mix over the
  // shape (src/models/gguf_mix.cpp), or a GGUF file's own bytes when the file is that label. It runs on
  // llama.cpp; its kernels and GPU support are those of its family (gguf_label_family).
  if (const GgufLabel* label = request.precision ? gguf_label_by_name(*request.precision) : nullptr) {
    if (request.runtime && normalize_name(*request.runtime) != "llamacpp")
      throw InputError(fmt::format("--precision {} is a llama.cpp GGUF format: --runtime {} does not apply (leave it out, "
                                   "or give --runtime llamacpp)", *request.precision, *request.runtime));
    w.precision = gguf_label_family(*label);
    w.runtime = "llamacpp";
    if (!(w.stored_weight_bytes && file_label == label)) {
      const GgufMix mix = gguf_mix(w.shape, *label);
      // A bare size keeps the user's count: the reference shape gives the mix's bytes per weight.
      const double text_bytes = w.origin == ModelOrigin::bare_size ? mix.bytes / mix.params * w.params_total : mix.bytes;
      std::vector<std::string> parts;
      for (const auto& [type, bytes] : mix.bytes_by_type) parts.push_back(fmt::format("{} {:.2f} GB", type, bytes / 1e9));
      w.stored_weight_bytes = text_bytes + 2.0 * w.params_vision; // a vision tower ships as an F16 mmproj file
      w.stored_precision = w.precision;
      w.weight_bytes_source = fmt::format("llama.cpp {} mix over the model's tensors (llama-quant.cpp type rules): {}{}",
                                          label->name, fmt::join(parts, ", "),
                                          w.params_vision > 0 ? "; vision tower as an F16 mmproj file" : "");
    }
  } else {
    w.precision = request.precision ? parse_precision(*request.precision)
                  : !config_precision.empty() ? parse_precision(config_precision) : Precision::fp16;
  }
  if (request.kv_precision) {
    w.kv_precision = parse_kv_precision(*request.kv_precision);
    w.kv_precision_given = true;
  }
  w.batch_given = request.batch.has_value();
  w.batch = w.batch_given ? parse_positive_int(*request.batch, "--batch", 1'000'000) : 1;
  w.output_tokens = parse_token_count(request.output_tokens, "--output-tokens");
  if (request.input_tokens) w.input_tokens = parse_token_count(*request.input_tokens, "--input-tokens");
  if (request.context) {
    w.context = parse_token_count(*request.context, "--context");
  } else {
    w.context = request.input_tokens ? w.input_tokens + w.output_tokens : 4096;
  }
  if (!request.input_tokens) {
    // The sequence fills its context: what the memory fit assumes.
    if (w.context <= w.output_tokens)
      throw InputError(fmt::format("--output-tokens {} leaves no room for a prompt in --context {}", w.output_tokens,
                                   w.context));
    w.input_tokens = w.context - w.output_tokens;
  } else if (w.input_tokens + w.output_tokens > w.context) {
    throw InputError(fmt::format("--input-tokens {} + --output-tokens {} exceed --context {}", w.input_tokens,
                                 w.output_tokens, w.context));
  }
  if (request.tokens && request.requests)
    throw InputError("give either --requests or --tokens, not both");
  if (request.tokens) {
    const auto total = parse_token_count(*request.tokens, "--tokens", 1e15);
    w.requests = (total + w.output_tokens - 1) / w.output_tokens;
  } else if (request.requests) {
    w.requests = parse_positive_int(*request.requests, "--requests", 1'000'000'000'000LL);
  }
  if (!(request.memory_utilization > 0.05 && request.memory_utilization <= 1.0))
    throw InputError(fmt::format("invalid --memory-utilization {}: must be in (0.05, 1]", request.memory_utilization));
  w.memory_utilization = request.memory_utilization;
  if (request.runtime) {
    static const char* known[] = {"vllm", "trtllm", "llamacpp", "transformers"};
    const std::string id = normalize_name(*request.runtime);
    if (std::find(std::begin(known), std::end(known), id) == std::end(known))
      throw InputError(fmt::format("unknown --runtime '{}': expected one of vllm, trtllm, llamacpp, transformers",
                                   *request.runtime));
    w.runtime = id;
  }
  // The KV cache of the largest batch evaluated must stay a number the reports can print: byte counts
  // are 64-bit integers in the JSON output (at most 9.2e18), and nothing holds 10^18 bytes anyway.
  const double batch = w.batch_given ? static_cast<double>(w.batch)
                                     : static_cast<double>(std::min<std::int64_t>(k_max_auto_batch, w.requests));
  const double kv_element = kv_bytes_per_element(w.kv_precision_given ? w.kv_precision
                                                 : w.precision == Precision::fp32 ? Precision::fp32 : Precision::fp16);
  const double kv_bytes = batch * kv_cache_bytes_per_sequence(w.shape, static_cast<double>(w.context), kv_element);
  if (kv_bytes > k_max_kv_cache_bytes)
    throw InputError(fmt::format("--batch {} x --context {} needs {:.3g} bytes of KV cache, more than the limit of "
                                 "{:.0e} bytes (1 EB): lower --batch or --context",
                                 static_cast<std::int64_t>(batch), w.context, kv_bytes, k_max_kv_cache_bytes));
  return w;
}

Workload build_workload(const WorkloadRequest& request, const ModelCatalog& models) {
  const WorkloadKind kind = request.kind.empty() ? WorkloadKind::llm : parse_kind_name(request.kind);
  return kind_module(kind).build(request, models);
}

void reject_unused_options(const WorkloadRequest& r, std::string_view kind, const std::vector<std::string_view>& used) {
  // Every kind-specific option with the kinds that read it; an option given to another kind is an error.
  const std::vector<std::tuple<std::string_view, bool, std::string_view>> options = {
      {"--model-config", r.model_config.has_value(), "llm"},
      {"--kv-precision", r.kv_precision.has_value(), "llm"},
      {"--input-tokens", r.input_tokens.has_value(), "llm"},
      {"--tokens", r.tokens.has_value(), "llm"},
      {"--runtime", r.runtime.has_value(), "llm"},
      {"--resolution", r.resolution.has_value(), "diffusion, video"},
      {"--frames", r.frames.has_value(), "video"},
      {"--steps", r.steps.has_value(), "diffusion, video"},
      {"--no-guidance", r.no_guidance, "diffusion, video"},
      {"--addon", !r.addons.empty(), "diffusion"},
      {"--dataset-size", r.dataset_size.has_value(), "analytics"},
      {"--rows", r.rows.has_value(), "analytics"},
      {"--bytes-per-row", r.bytes_per_row.has_value(), "analytics"},
      {"--ops", !r.operations.empty(), "analytics"},
      {"--context", r.context.has_value(), "llm, embedding"},
      {"--precision", r.precision.has_value(), "llm, diffusion, video, embedding"},
  };
  for (const auto& [flag, given, kinds] : options) {
    if (!given || kinds.find(kind) != std::string_view::npos) continue;
    if (std::find(used.begin(), used.end(), flag) != used.end()) continue;
    throw InputError(fmt::format("{} does not apply to --workload {}: it applies to --workload {}", flag, kind, kinds));
  }
}

} // namespace gpuadvise
