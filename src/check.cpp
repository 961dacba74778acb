#include "json_fields.hpp"

#include <gpuadvise/check.hpp>
#include <gpuadvise/emit.hpp>
#include <gpuadvise/engine_memory.hpp>
#include <gpuadvise/report.hpp>
#include <gpuadvise/evaluation.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/estimate.hpp>
#include <gpuadvise/files.hpp>
#include <gpuadvise/svg.hpp>
#include <gpuadvise/units.hpp>
#include <gpuadvise/workload.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

namespace gpuadvise {
namespace {

/// Where a YAML node sits, for messages: "deploy.yaml:12".
int line_of(const YAML::Node& node) { return node.Mark().is_null() ? 0 : node.Mark().line + 1; }

[[noreturn]] void invalid(const std::string& file, int line, const std::string& what) {
  throw InputError(line > 0 ? fmt::format("{}:{}: {}", file, line, what) : fmt::format("{}: {}", file, what));
}

/// A mapping key as text; a key that is itself a list or mapping is an error, not a YAML::Exception.
std::string key_text(const YAML::Node& key, const std::string& file) {
  if (!key.IsScalar()) invalid(file, line_of(key), "a mapping key must be a plain name, not a list or mapping");
  return key.Scalar();
}

std::string scalar(const YAML::Node& node, const std::string& file, const std::string& where, const std::string& key) {
  if (!node.IsScalar()) invalid(file, line_of(node), fmt::format("{}: field '{}' must be a single value", where, key));
  return node.Scalar();
}

double number(const YAML::Node& node, const std::string& file, const std::string& where, const std::string& key,
              double min, double max) {
  const std::string text = scalar(node, file, where, key);
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value))
    invalid(file, line_of(node), fmt::format("{}: field '{}': '{}' is not a number", where, key, text));
  if (value < min || value > max)
    invalid(file, line_of(node), fmt::format("{}: field '{}': {} is outside [{}, {}]", where, key, text, min, max));
  return value;
}

/// "unknown key 'contxt' (did you mean 'context'?)", worded as for every other input file.
std::string unknown_key(const std::string& key, const std::set<std::string>& known) {
  return detail::unknown_key_message(key, std::vector<std::string>(known.begin(), known.end()));
}

/// Refuses a key given twice in any mapping of the document (yaml-cpp keeps both and finds the first).
void reject_duplicate_keys(const YAML::Node& node, const std::string& file) {
  if (node.IsMap()) {
    std::set<std::string> seen;
    for (const auto& item : node) {
      const std::string key = key_text(item.first, file);
      if (!seen.insert(key).second) invalid(file, line_of(item.first), fmt::format("duplicate key '{}'", key));
      reject_duplicate_keys(item.second, file);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) reject_duplicate_keys(item, file);
  }
}

/// Everything needed to evaluate one deployment, after reading.
struct Spec {
  std::string name;
  std::string kind;
  int line = 0;
  std::string gpu;
  int count = 1;
  WorkloadRequest request;
  std::string provider;
  std::string region;          ///< deployment `region:`; empty = the command line's
  std::optional<bool> spot;    ///< deployment `spot:`; unset = the command line's
  std::optional<double> max_usd_per_hour, max_usd_per_job, max_hours, min_tokens_per_s, min_headroom;
  bool job_given = false;
  // vLLM only
  double max_num_seqs = 0;
  EngineLaunch engine;            ///< the engine's launch settings (src/engine_memory.cpp)
  std::string model_id;             ///< the model as the config names it (a quantized checkpoint's id)
  // Serving: the fleet and the load it must carry (deployment files' replicas, traffic and slo).
  int replicas = 1;
  std::optional<Traffic> traffic;
  std::string traffic_text;
  Targets targets;
  std::map<std::string, int> slo_lines;   ///< slo key -> line
  int traffic_line = 0;
  /// The file's own name and line for each option a key sets ("--context" -> max-model-len, line 4), so
  /// messages speak the file's language.
  std::map<std::string, std::pair<std::string, int>> keys;
  /// A rule's finding points at the key that decides it (tensor-parallel-invalid -> tensor-parallel-size's line).
  std::map<std::string, int> rule_lines;
};

/// An option's message in the file's terms: each "--flag" a key of the file set becomes that key, and
/// the line is the line of the first key named (else the deployment's).
std::pair<std::string, int> in_file_terms(std::string message, const Spec& spec) {
  int line = 0;
  std::size_t first = std::string::npos;
  // Longest flags first: --model-config before --model.
  std::vector<std::pair<std::string, std::pair<std::string, int>>> flags(spec.keys.begin(), spec.keys.end());
  std::sort(flags.begin(), flags.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [flag, key] : flags) {
    for (std::size_t at = message.find(flag); at != std::string::npos; at = message.find(flag, at)) {
      const std::size_t end = at + flag.size();
      if (end < message.size() && (std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '-')) {
        at = end;
        continue;
      }
      if (at < first) {
        first = at;
        line = key.second;
      }
      message.replace(at, flag.size(), key.first);
      at += key.first.size();
    }
  }
  return {message, line > 0 ? line : spec.line};
}

const std::set<std::string> k_deployment_keys = {
    "name", "gpu", "count", "model", "model_config", "precision", "kv_precision", "batch", "max_concurrent_sequences",
    "context", "input_tokens", "output_tokens", "requests", "task", "runtime", "provider", "region", "spot", "memory_utilization", "budget", "workload",
    "replicas", "traffic", "slo"};
const std::set<std::string> k_traffic_keys = {"rate", "concurrency", "input_tokens", "output_tokens", "input_spread",
                                              "output_spread", "length_profile", "requests", "seed"};
const std::set<std::string> k_slo_keys = {"ttft_p95", "ttft_p99", "tpot_p95", "tokens_per_s_per_user", "e2e_p95"};
const std::set<std::string> k_budget_keys = {"max_usd_per_hour", "max_usd_per_job", "max_hours", "min_tokens_per_s",
                                             "min_headroom"};

/// A mapping's keys checked against `known` ("deployment 'x' traffic: unknown key ...").
void require_known_keys(const YAML::Node& map, const std::string& file, const std::string& where,
                        const std::set<std::string>& known) {
  for (const auto& item : map) {
    const std::string key = key_text(item.first, file);
    if (!known.count(key)) invalid(file, line_of(item.first), fmt::format("{}: {}", where, unknown_key(key, known)));
  }
}

/// The line of `key` itself in a mapping (a block mapping's value starts on the next line).
int key_line(const YAML::Node& map, const std::string& key, const std::string& file) {
  for (const auto& item : map)
    if (key_text(item.first, file) == key) return line_of(item.first);
  return line_of(map);
}

/// `replicas`, `traffic` and `slo`: the fleet, the load it must carry, and its latency targets.
void read_serving(const YAML::Node& node, const std::string& file, const std::string& where, Spec& spec) {
  if (node["replicas"]) {
    const double n = number(node["replicas"], file, where, "replicas", 1, 4096);
    if (n != std::floor(n)) invalid(file, line_of(node["replicas"]), where + ": replicas must be whole");
    spec.replicas = static_cast<int>(n);
  }
  const YAML::Node slo = node["slo"];
  const YAML::Node traffic = node["traffic"];
  if (slo && !traffic)
    invalid(file, key_line(node, "slo", file), where + ": 'slo' needs 'traffic' (the rate or concurrency the targets apply at)");
  if (node["replicas"] && !traffic)
    invalid(file, line_of(node["replicas"]), where + ": 'replicas' needs 'traffic' (the load the fleet serves)");
  if (!traffic) return;
  if (!traffic.IsMap()) invalid(file, line_of(traffic), where + ": 'traffic' must be a mapping");
  spec.traffic_line = key_line(node, "traffic", file);
  const std::string tw = where + " traffic";
  require_known_keys(traffic, file, tw, k_traffic_keys);
  Traffic t;
  if (!traffic["rate"] == !traffic["concurrency"])
    invalid(file, spec.traffic_line, tw + ": give exactly one of 'rate' (requests/s) or 'concurrency' (users)");
  if (traffic["rate"]) t.rate = number(traffic["rate"], file, tw, "rate", 1e-3, 1e6);
  if (traffic["concurrency"]) {
    const double users = number(traffic["concurrency"], file, tw, "concurrency", 1, 100000);
    if (users != std::floor(users)) invalid(file, line_of(traffic["concurrency"]), tw + ": concurrency must be whole");
    t.concurrency = static_cast<int>(users);
  }
  if (traffic["requests"]) t.requests = static_cast<int>(number(traffic["requests"], file, tw, "requests", 1, 200000));
  if (traffic["seed"]) t.seed = static_cast<std::uint64_t>(number(traffic["seed"], file, tw, "seed", 1, 1e15));
  const bool lengths = traffic["input_tokens"] || traffic["output_tokens"] || traffic["input_spread"] || traffic["output_spread"];
  if (traffic["length_profile"]) {
    if (lengths)
      invalid(file, line_of(traffic["length_profile"]),
              tw + ": 'length_profile' sets the lengths: give it or input_tokens/output_tokens, not both");
    try {
      const LengthProfile& p = find_length_profile(scalar(traffic["length_profile"], file, tw, "length_profile"));
      t.input = p.input;
      t.output = p.output;
      spec.traffic_text = fmt::format("{} lengths", p.name);
    } catch (const InputError& e) {
      invalid(file, line_of(traffic["length_profile"]), fmt::format("{} length_profile: {}", tw, e.what()));
    }
  } else {
    // The deployment's own input_tokens/output_tokens when the traffic does not give them.
    auto tokens = [&](const char* key, double fallback) {
      const YAML::Node v = traffic[key] ? traffic[key] : node[key];
      if (!v) return fallback;
      try {
        return static_cast<double>(parse_token_count(scalar(v, file, tw, key), key, 1e6));
      } catch (const InputError& e) {
        invalid(file, line_of(v), fmt::format("{}: {}", tw, e.what()));
      }
    };
    t.input.mean = tokens("input_tokens", 1000);
    t.output.mean = tokens("output_tokens", 200);
    if (traffic["input_spread"]) t.input.cv = number(traffic["input_spread"], file, tw, "input_spread", 0, 5);
    if (traffic["output_spread"]) t.output.cv = number(traffic["output_spread"], file, tw, "output_spread", 0, 5);
    spec.traffic_text = fmt::format("{:g} in / {:g} out tokens", t.input.mean, t.output.mean);
  }
  spec.traffic_text = (t.rate ? fmt::format("{:g} req/s", *t.rate) : fmt::format("{} concurrent users", *t.concurrency)) +
                      ", " + spec.traffic_text;
  spec.traffic = t;
  if (!slo) return;
  if (!slo.IsMap()) invalid(file, key_line(node, "slo", file), where + ": 'slo' must be a mapping");
  const std::string sw = where + " slo";
  require_known_keys(slo, file, sw, k_slo_keys);
  if (slo["tpot_p95"] && slo["tokens_per_s_per_user"])
    invalid(file, line_of(slo["tokens_per_s_per_user"]), sw + ": give tpot_p95 or tokens_per_s_per_user, not both");
  auto latency = [&](const char* key) -> std::optional<double> {
    if (!slo[key]) return std::nullopt;
    spec.slo_lines[key] = line_of(slo[key]);
    try {
      return parse_latency(scalar(slo[key], file, sw, key), key);
    } catch (const InputError& e) {
      invalid(file, line_of(slo[key]), fmt::format("{}: {}", sw, e.what()));
    }
  };
  spec.targets.ttft_p95 = latency("ttft_p95");
  spec.targets.ttft_p99 = latency("ttft_p99");
  spec.targets.tpot_p95 = latency("tpot_p95");
  spec.targets.e2e_p95 = latency("e2e_p95");
  if (slo["tokens_per_s_per_user"]) {
    spec.slo_lines["tpot_p95"] = line_of(slo["tokens_per_s_per_user"]);
    spec.targets.tpot_p95 = 1 / number(slo["tokens_per_s_per_user"], file, sw, "tokens_per_s_per_user", 0.01, 1e5);
  }
}

Spec read_deployment(const YAML::Node& node, const std::string& file, std::size_t index) {
  if (!node.IsMap()) invalid(file, line_of(node), fmt::format("deployments[{}] must be a mapping", index));
  Spec spec;
  spec.kind = "deployment";
  spec.line = line_of(node);
  const std::string where_index = fmt::format("deployments[{}]", index);
  if (!node["name"]) invalid(file, spec.line, where_index + ": missing field 'name'");
  spec.name = scalar(node["name"], file, where_index, "name");
  const std::string where = fmt::format("deployment '{}'", spec.name);
  for (const auto& item : node) {
    const std::string key = key_text(item.first, file);
    if (!k_deployment_keys.count(key))
      invalid(file, line_of(item.first), fmt::format("{}: {}", where, unknown_key(key, k_deployment_keys)));
  }
  // The option each key sets, for messages in the file's terms.
  for (const auto& [flag, key] : std::initializer_list<std::pair<const char*, const char*>>{
           {"--model-config", "model_config"}, {"--model", "model"}, {"--precision", "precision"},
           {"--kv-precision", "kv_precision"}, {"--batch", node["max_concurrent_sequences"] ? "max_concurrent_sequences" : "batch"},
           {"--context", "context"}, {"--input-tokens", "input_tokens"}, {"--output-tokens", "output_tokens"},
           {"--requests", "requests"}, {"--runtime", "runtime"}, {"--provider", "provider"}, {"--region", "region"},
           {"--spot", "spot"}, {"--workload", "workload"},
           {"--memory-utilization", "memory_utilization"}, {"--gpu", "gpu"}})
    spec.keys[flag] = {key, node[key] ? line_of(node[key]) : 0};
  auto text = [&](const char* key) -> std::optional<std::string> {
    if (!node[key] || node[key].IsNull()) return std::nullopt;
    return scalar(node[key], file, where, key);
  };
  // "gpu:" with no value is a null node: as missing as no key at all.
  const auto gpu = text("gpu");
  if (!gpu) invalid(file, spec.line, where + ": missing field 'gpu'");
  spec.gpu = *gpu;
  if (node["count"]) {
    const double count = number(node["count"], file, where, "count", 1, 4096);
    if (count != std::floor(count)) invalid(file, line_of(node["count"]), where + ": count must be whole");
    spec.count = static_cast<int>(count);
  }
  const auto model = text("model");
  const auto config = text("model_config");
  if (!model && !config) invalid(file, spec.line, where + ": missing field 'model' (a preset, a size, or model_config: PATH)");
  if (model) spec.request.model = *model;
  if (config) {
    // Relative to the deployment file.
    const auto base = std::filesystem::path(file).parent_path();
    spec.request.model_config = (base / *config).string();
  }
  if (const auto v = text("workload")) spec.request.kind = *v;
  if (const auto v = text("precision")) spec.request.precision = *v;
  if (const auto v = text("kv_precision")) spec.request.kv_precision = *v;
  if (const auto v = text("batch")) spec.request.batch = *v;
  if (const auto v = text("max_concurrent_sequences")) spec.request.batch = *v;
  if (!spec.request.batch) spec.request.batch = "1";
  if (const auto v = text("context")) spec.request.context = *v;
  if (const auto v = text("input_tokens")) spec.request.input_tokens = *v;
  if (const auto v = text("output_tokens")) spec.request.output_tokens = *v;
  if (const auto v = text("requests")) spec.request.requests = *v;
  spec.job_given = spec.request.requests.has_value();
  if (const auto v = text("runtime")) spec.request.runtime = *v;
  if (const auto v = text("provider")) spec.provider = *v;
  if (const auto v = text("region")) spec.region = *v;
  if (const auto v = text("spot")) {
    const std::string b = normalize_name(*v);
    if (b != "true" && b != "false")
      invalid(file, line_of(node["spot"]), fmt::format("{}: spot '{}' is not true or false", where, *v));
    spec.spot = b == "true";
  }
  if (const auto v = text("task"); v && *v != "inference")
    invalid(file, line_of(node["task"]), fmt::format("{}: task '{}' is not checked yet (only inference)", where, *v));
  if (node["memory_utilization"])
    spec.request.memory_utilization = number(node["memory_utilization"], file, where, "memory_utilization", 0.05, 1);
  if (const auto budget = node["budget"]) {
    if (!budget.IsMap()) invalid(file, line_of(budget), where + ": 'budget' must be a mapping");
    for (const auto& item : budget) {
      const std::string key = key_text(item.first, file);
      if (!k_budget_keys.count(key))
        invalid(file, line_of(item.first), fmt::format("{} budget: {}", where, unknown_key(key, k_budget_keys)));
    }
    const std::string w = where + " budget";
    if (budget["max_usd_per_hour"]) spec.max_usd_per_hour = number(budget["max_usd_per_hour"], file, w, "max_usd_per_hour", 0, 1e9);
    if (budget["max_usd_per_job"]) spec.max_usd_per_job = number(budget["max_usd_per_job"], file, w, "max_usd_per_job", 0, 1e12);
    if (budget["max_hours"]) spec.max_hours = number(budget["max_hours"], file, w, "max_hours", 0, 1e9);
    if (budget["min_tokens_per_s"]) spec.min_tokens_per_s = number(budget["min_tokens_per_s"], file, w, "min_tokens_per_s", 0, 1e12);
    if (budget["min_headroom"]) spec.min_headroom = number(budget["min_headroom"], file, w, "min_headroom", 0, 0.95);
  }
  read_serving(node, file, where, spec);
  return spec;
}

/// vLLM engine arguments that decide memory, and those known not to.
const std::set<std::string> k_vllm_used = {"model", "tensor_parallel_size", "max_model_len", "max_num_seqs",
                                           "gpu_memory_utilization", "dtype", "quantization", "kv_cache_dtype",
                                           "max_num_batched_tokens", "gpu", "gpu_count", "count", "name", "block_size",
                                           "enable_chunked_prefill", "vllm_version", "pipeline_parallel_size"};
const std::set<std::string> k_vllm_harmless = {
    "host", "port", "served_model_name", "api_key", "trust_remote_code", "enable_prefix_caching", "disable_log_requests",
    "disable_log_stats", "uvicorn_log_level", "download_dir", "tokenizer", "tokenizer_mode", "revision", "seed",
    "enforce_eager", "swap_space", "disable_custom_all_reduce", "chat_template",
    "response_role", "load_format", "max_log_len", "distributed_executor_backend", "worker_use_ray",
    "code_revision", "tokenizer_revision", "max_seq_len_to_capture", "generation_config", "enable_auto_tool_choice",
    "tool_call_parser", "guided_decoding_backend", "scheduling_policy", "task", "num_scheduler_steps"};

std::string normalize_key(std::string key) {
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

/// An engine config's keys, read once for vLLM and SGLang alike: normalised (dashes as underscores), a key
/// given twice refused with `twice(first as written, second as written)`, a key close to one the engine
/// knows refused as a typo, and the others (another engine argument) returned as ignored.
struct EngineKeys {
  std::map<std::string, YAML::Node> values;                     ///< normalised key -> value
  std::map<std::string, std::pair<std::string, int>> positions; ///< normalised key -> as written, line
  std::vector<std::string> ignored;
};
template <typename Twice>
EngineKeys read_engine_keys(const YAML::Node& root, const std::string& file, const char* label,
                            const std::set<std::string>& used, const std::set<std::string>& harmless, Twice twice) {
  EngineKeys out;
  std::vector<std::string> known(used.begin(), used.end());
  known.insert(known.end(), harmless.begin(), harmless.end());
  for (const auto& item : root) {
    const std::string as_written = key_text(item.first, file);
    const std::string key = normalize_key(as_written);
    if (!out.values.emplace(key, item.second).second)
      invalid(file, line_of(item.first), fmt::format("{}: {}", label, twice(out.positions[key].first, as_written)));
    out.positions[key] = {as_written, line_of(item.first)};
    if (used.count(key) || harmless.count(key)) continue;
    // Close to an argument the engine knows: a typo that would silently change nothing; far from all: another argument.
    std::string suggestion = detail::did_you_mean(key, known);
    if (!suggestion.empty()) {
      if (as_written.find('-') != std::string::npos) std::replace(suggestion.begin(), suggestion.end(), '_', '-');
      invalid(file, line_of(item.first), fmt::format("{}: unknown key '{}'{}", label, as_written, suggestion));
    }
    out.ignored.push_back(as_written);
  }
  return out;
}

/// Options as the config's keys (`--context` -> max-model-len, line 4), for messages in its terms.
void map_flag(Spec& spec, const EngineKeys& k, const char* flag, const char* key) {
  const auto it = k.positions.find(key);
  if (it != k.positions.end()) spec.keys[flag] = it->second;
}

Spec read_vllm(const YAML::Node& root, const std::string& file, const CheckOptions& options,
               std::vector<CheckFinding>& notes) {
  Spec spec;
  spec.kind = "vllm";
  spec.line = line_of(root) > 0 ? line_of(root) : 1;
  EngineKeys k = read_engine_keys(root, file, "vLLM config", k_vllm_used, k_vllm_harmless,
                                  [](const std::string& first, const std::string& second) {
                                    return fmt::format("'{}' and '{}' are the same engine argument", first, second);
                                  });
  auto& keys = k.values;
  auto& ignored = k.ignored;
  const auto& positions = k.positions;
  map_flag(spec, k, "--context", "max_model_len");
  map_flag(spec, k, "--model", "model");
  map_flag(spec, k, "--precision", positions.count("quantization") ? "quantization" : "dtype");
  map_flag(spec, k, "--kv-precision", "kv_cache_dtype");
  map_flag(spec, k, "--memory-utilization", "gpu_memory_utilization");
  if (options.gpu.empty()) map_flag(spec, k, "--gpu", "gpu");
  const std::string model = scalar(keys["model"], file, "vLLM config", "model");
  spec.name = keys.count("name") ? scalar(keys["name"], file, "vLLM config", "name") : model;
  const std::string where = fmt::format("vLLM config '{}'", spec.name);
  // A local directory with a config.json is read as such; anything else must be a preset (HF id).
  const auto base = std::filesystem::path(file).parent_path();
  std::error_code ec;
  if (std::filesystem::is_regular_file(base / model / "config.json", ec))
    spec.request.model_config = (base / model / "config.json").string();
  else
    spec.request.model = model;
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = keys.find(key);
    if (it == keys.end() || it->second.IsNull()) return std::nullopt;
    return scalar(it->second, file, where, key);
  };
  spec.gpu = options.gpu.empty() ? text("gpu").value_or("") : options.gpu;
  if (spec.gpu.empty())
    invalid(file, 0, where + ": no GPU: give --gpu NAME or a 'gpu' key in the file");
  int tp = 1;
  if (keys.count("tensor_parallel_size"))
    tp = static_cast<int>(number(keys["tensor_parallel_size"], file, where, "tensor-parallel-size", 1, 1024));
  int pp = 1;
  if (keys.count("pipeline_parallel_size"))
    pp = static_cast<int>(number(keys["pipeline_parallel_size"], file, where, "pipeline-parallel-size", 1, 1024));
  spec.engine.pipeline_parallel = pp;
  for (const auto& [rule, key] : std::initializer_list<std::pair<const char*, const char*>>{
           {"tensor-parallel-invalid", "tensor_parallel_size"}, {"vllm-max-model-len-too-long", "max_model_len"},
           {"vllm-max-model-len-above-model", "max_model_len"}, {"vllm-model-does-not-fit", "gpu_memory_utilization"},
           {"vllm-concurrency-limited", "max_num_seqs"}, {"vllm-tp-differs", "tensor_parallel_size"}})
    if (positions.count(key)) spec.rule_lines[rule] = positions.at(key).second;
  int count = options.count > 0 ? options.count : tp * pp;
  if (options.count == 0 && (keys.count("gpu_count") || keys.count("count")))
    count = static_cast<int>(number(keys.count("gpu_count") ? keys["gpu_count"] : keys["count"], file, where, "gpu_count", 1, 4096));
  spec.count = count;
  if (tp * pp != count)
    notes.push_back({"vllm-tp-differs", Severity::warning, spec.name, file, 0,
                     fmt::format("tensor-parallel-size {} but {} GPUs given: the check uses {} GPUs in tensor parallel",
                                 tp, count, count),
                     fmt::format("set tensor-parallel-size: {}", count)});
  spec.request.context = text("max_model_len");
  if (!spec.request.context) spec.request.context = "4096"; // vLLM would use the model's maximum; see finding below
  spec.max_num_seqs = keys.count("max_num_seqs") ? number(keys["max_num_seqs"], file, where, "max-num-seqs", 1, 1e6) : 256;
  spec.request.batch = "1"; // vLLM needs room for one sequence of max-model-len to start
  spec.request.output_tokens = "1";
  if (keys.count("gpu_memory_utilization"))
    spec.request.memory_utilization = number(keys["gpu_memory_utilization"], file, where, "gpu-memory-utilization", 0.05, 1);
  const std::string dtype = text("dtype").value_or("auto");
  const std::string quantization = normalize_name(text("quantization").value_or(""));
  if (quantization == "awq" || quantization == "gptq" || quantization == "awqmarlin" || quantization == "gptqmarlin" ||
      quantization == "marlin")
    spec.request.precision = "int4";
  else if (quantization == "fp8" || quantization == "fbgemmfp8")
    spec.request.precision = "fp8";
  else if (quantization == "bitsandbytes")
    spec.request.precision = "nf4";
  else if (!quantization.empty() && quantization != "none")
    invalid(file, line_of(keys["quantization"]), fmt::format("{}: quantization '{}' is not modelled", where, quantization));
  else if (dtype == "half" || dtype == "float16" || dtype == "fp16")
    spec.request.precision = "fp16";
  else if (dtype == "bfloat16" || dtype == "bf16")
    spec.request.precision = "bf16";
  else if (dtype == "float32" || dtype == "float")
    spec.request.precision = "fp32";
  else if (dtype != "auto")
    invalid(file, line_of(keys["dtype"]), fmt::format("{}: dtype '{}' is not one of auto, half, float16, bfloat16, float32", where, dtype));
  const std::string kv = normalize_name(text("kv_cache_dtype").value_or("auto"));
  if (kv.rfind("fp8", 0) == 0) spec.request.kv_precision = "fp8";
  else if (kv != "auto") invalid(file, 0, fmt::format("{}: kv-cache-dtype '{}' is not auto or fp8", where, kv));
  spec.request.runtime = "vllm";
  // The engine's own accounting (src/engine_memory.cpp) needs the settings that decide its profiling run.
  EngineLaunch& e = spec.engine;
  e.engine = Engine::vllm_v1;
  if (const auto version = text("vllm_version")) {
    int major = 0, minor = 0;
    if (std::sscanf(version->c_str(), "%d.%d", &major, &minor) != 2)
      invalid(file, line_of(keys["vllm_version"]), fmt::format("{}: vllm-version '{}' is not MAJOR.MINOR", where, *version));
    e.engine = major == 0 && minor < 8 ? Engine::vllm_v0 : Engine::vllm_v1;
  }
  e.tensor_parallel = count;
  e.memory_fraction = spec.request.memory_utilization;
  // max-model-len: the workload's context once parsed (evaluate_spec), so a bad value is reported there.
  if (keys.count("max_num_batched_tokens"))
    e.max_num_batched_tokens =
        static_cast<std::int64_t>(number(keys["max_num_batched_tokens"], file, where, "max-num-batched-tokens", 1, 1e9));
  if (keys.count("max_num_seqs")) e.max_num_seqs = static_cast<std::int64_t>(spec.max_num_seqs);
  if (keys.count("block_size")) e.block_size = static_cast<int>(number(keys["block_size"], file, where, "block-size", 1, 1024));
  if (const auto chunked = text("enable_chunked_prefill")) {
    const std::string c = normalize_name(*chunked);
    if (c != "true" && c != "false")
      invalid(file, line_of(keys["enable_chunked_prefill"]), fmt::format("{}: enable-chunked-prefill '{}' is not true or false", where, *chunked));
    e.chunked_prefill = c == "true";
  }
  if (spec.request.precision == "fp32") e.dtype_bytes = 4;
  if (spec.request.precision == "fp8") e.format = CheckpointFormat::fp8;
  else if (spec.request.precision == "int4" || spec.request.precision == "nf4") e.format = CheckpointFormat::int4;
  else if (quantization.empty()) {
    // A quantized checkpoint named only by its id ("...-FP8", "...-AWQ"): vLLM reads its quantization_config.
    if (const auto format = checkpoint_format_from_id(model)) {
      e.format = *format;
      const std::string named = *format == CheckpointFormat::fp8 ? "fp8" : *format == CheckpointFormat::int4 ? "int4" : "int8";
      spec.request.precision = named;
      notes.push_back({"vllm-quantized-checkpoint", Severity::info, spec.name, file, 0,
                       fmt::format("'{}' is named as an {} checkpoint: its linear layers load as {}", model, named, named), ""});
    }
  }
  if (spec.request.kv_precision && *spec.request.kv_precision == "fp8") e.kv_bytes_per_element = 1;
  spec.model_id = model;
  if (!ignored.empty())
    notes.push_back({"vllm-keys-ignored", Severity::info, spec.name, file, 0,
                     fmt::format("keys not modelled by the check: {}", fmt::join(ignored, ", ")), ""});
  if (!keys.count("max_model_len"))
    notes.push_back({"vllm-max-model-len-missing", Severity::warning, spec.name, file, 0,
                     "no max-model-len: vLLM uses the model's full context, the check assumed 4096",
                     "set max-model-len to the longest request you serve"});
  return spec;
}

/// SGLang server arguments that decide memory, and those known not to.
const std::set<std::string> k_sglang_used = {"model_path", "tp_size", "tp", "mem_fraction_static", "context_length",
                                             "kv_cache_dtype", "quantization", "dtype", "max_running_requests",
                                             "gpu", "gpu_count", "count", "name", "pp_size"};
const std::set<std::string> k_sglang_harmless = {
    "host", "port", "served_model_name", "api_key", "trust_remote_code", "tokenizer_path", "log_level",
    "chunked_prefill_size", "max_prefill_tokens", "enable_mixed_chunk", "disable_radix_cache", "random_seed",
    "tool_call_parser", "reasoning_parser", "chat_template", "revision", "download_dir", "attention_backend",
    "cuda_graph_max_bs", "disable_cuda_graph", "enable_metrics", "schedule_policy"};

/// An SGLang server config (`python -m sglang.launch_server --config`, dashes or underscores). The pool is
/// sized by mem-fraction-static, which SGLang defaults per version, GPU and TP: the file must give it.
Spec read_sglang(const YAML::Node& root, const std::string& file, const CheckOptions& options,
                 std::vector<CheckFinding>& notes) {
  Spec spec;
  spec.kind = "sglang";
  spec.line = line_of(root) > 0 ? line_of(root) : 1;
  EngineKeys k = read_engine_keys(root, file, "SGLang config", k_sglang_used, k_sglang_harmless,
                                  [](const std::string&, const std::string& second) {
                                    return fmt::format("'{}' is given twice", second);
                                  });
  auto& keys = k.values;
  auto& ignored = k.ignored;
  const auto& positions = k.positions;
  map_flag(spec, k, "--context", "context_length");
  map_flag(spec, k, "--model", "model_path");
  map_flag(spec, k, "--precision", positions.count("quantization") ? "quantization" : "dtype");
  map_flag(spec, k, "--kv-precision", "kv_cache_dtype");
  if (options.gpu.empty()) map_flag(spec, k, "--gpu", "gpu");
  const std::string model = scalar(keys["model_path"], file, "SGLang config", "model-path");
  spec.name = keys.count("name") ? scalar(keys["name"], file, "SGLang config", "name") : model;
  const std::string where = fmt::format("SGLang config '{}'", spec.name);
  spec.request.model = model;
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = keys.find(key);
    if (it == keys.end() || it->second.IsNull()) return std::nullopt;
    return scalar(it->second, file, where, key);
  };
  spec.gpu = options.gpu.empty() ? text("gpu").value_or("") : options.gpu;
  if (spec.gpu.empty()) invalid(file, 0, where + ": no GPU: give --gpu NAME or a 'gpu' key in the file");
  int tp = 1;
  if (keys.count("tp_size") || keys.count("tp"))
    tp = static_cast<int>(number(keys.count("tp_size") ? keys["tp_size"] : keys["tp"], file, where, "tp-size", 1, 1024));
  int pp = 1;
  if (keys.count("pp_size")) pp = static_cast<int>(number(keys["pp_size"], file, where, "pp-size", 1, 1024));
  spec.engine.pipeline_parallel = pp;
  spec.count = options.count > 0 ? options.count : tp * pp;
  for (const auto& [rule, key] : std::initializer_list<std::pair<const char*, const char*>>{
           {"tensor-parallel-invalid", keys.count("tp_size") ? "tp_size" : "tp"}, {"sglang-model-does-not-fit", "mem_fraction_static"}})
    if (positions.count(key)) spec.rule_lines[rule] = positions.at(key).second;
  if (!keys.count("mem_fraction_static"))
    invalid(file, 0, where + ": no mem-fraction-static: SGLang's default depends on its version, the GPU and tp-size; give it");
  spec.request.memory_utilization = number(keys["mem_fraction_static"], file, where, "mem-fraction-static", 0.05, 1);
  spec.request.context = text("context_length");
  if (!spec.request.context) {
    spec.request.context = "4096";
    notes.push_back({"sglang-context-length-missing", Severity::warning, spec.name, file, 0,
                     "no context-length: SGLang uses the model's full context, the check assumed 4096",
                     "set context-length to the longest request you serve"});
  }
  spec.max_num_seqs = keys.count("max_running_requests")
                          ? number(keys["max_running_requests"], file, where, "max-running-requests", 1, 1e6)
                          : 0;
  spec.request.batch = "1";
  spec.request.output_tokens = "1";
  spec.request.runtime = "vllm"; // the step-time model; SGLang's memory is the engine accounting below
  const std::string quantization = normalize_name(text("quantization").value_or(""));
  const std::string dtype = text("dtype").value_or("auto");
  EngineLaunch& e = spec.engine;
  e.engine = Engine::sglang;
  if (quantization == "fp8") spec.request.precision = "fp8";
  else if (quantization == "awq" || quantization == "gptq" || quantization == "awqmarlin" || quantization == "gptqmarlin")
    spec.request.precision = "int4";
  else if (!quantization.empty() && quantization != "none")
    invalid(file, line_of(keys["quantization"]), fmt::format("{}: quantization '{}' is not modelled", where, quantization));
  else if (dtype == "float32") spec.request.precision = "fp32";
  else if (dtype == "half" || dtype == "float16") spec.request.precision = "fp16";
  else if (dtype == "bfloat16") spec.request.precision = "bf16";
  else if (dtype != "auto")
    invalid(file, line_of(keys["dtype"]), fmt::format("{}: dtype '{}' is not one of auto, half, float16, bfloat16, float32", where, dtype));
  if (quantization.empty())
    if (const auto format = checkpoint_format_from_id(model)) {
      const std::string named = *format == CheckpointFormat::fp8 ? "fp8" : *format == CheckpointFormat::int4 ? "int4" : "int8";
      spec.request.precision = named;
      notes.push_back({"sglang-quantized-checkpoint", Severity::info, spec.name, file, 0,
                       fmt::format("'{}' is named as an {} checkpoint: its linear layers load as {}", model, named, named), ""});
    }
  const std::string pname = spec.request.precision.value_or("");
  if (pname == "fp32") e.dtype_bytes = 4;
  if (pname == "fp8") e.format = CheckpointFormat::fp8;
  else if (pname == "int4") e.format = CheckpointFormat::int4;
  else if (pname == "int8") e.format = CheckpointFormat::int8;
  const std::string kv = normalize_name(text("kv_cache_dtype").value_or("auto"));
  if (kv.rfind("fp8", 0) == 0) {
    spec.request.kv_precision = "fp8";
    e.kv_bytes_per_element = 1;
  } else if (kv != "auto") {
    invalid(file, 0, fmt::format("{}: kv-cache-dtype '{}' is not auto or fp8", where, kv));
  }
  e.memory_fraction = spec.request.memory_utilization;
  spec.model_id = model;
  if (!ignored.empty())
    notes.push_back({"sglang-keys-ignored", Severity::info, spec.name, file, 0,
                     fmt::format("keys not modelled by the check: {}", fmt::join(ignored, ", ")), ""});
  return spec;
}

/// One shell word and the 1-based line it starts on.
struct Word {
  std::string text;
  int line = 0;
};

/// A shell script's simple commands as words (quotes, backslash escapes and continuations, comments), each
/// word with its line; `first_line` is the line of text[0]. Enough shell for launch scripts, not a shell.
std::vector<std::vector<Word>> shell_commands(const std::string& text, int first_line) {
  std::vector<std::vector<Word>> commands(1);
  std::string word;
  bool in_word = false;
  int line = first_line, word_line = first_line;
  auto end_word = [&] {
    if (in_word) commands.back().push_back({word, word_line});
    word.clear();
    in_word = false;
  };
  auto end_command = [&] {
    end_word();
    if (!commands.back().empty()) commands.emplace_back();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    auto start = [&] {
      if (!in_word) word_line = line;
      in_word = true;
    };
    if (c == '\n') {
      ++line;
      end_command();
    } else if (c == ' ' || c == '\t' || c == '\r') {
      end_word();
    } else if (c == '#' && !in_word) {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == ';' || c == '&' || c == '|') {
      end_command();
    } else if (c == '\\') {
      if (i + 1 < text.size() && text[i + 1] == '\n') {
        end_word();
        ++line;
        ++i;
      } else if (i + 1 < text.size()) {
        start();
        word += text[++i];
      }
    } else if (c == '\'' || c == '"') {
      start();
      for (++i; i < text.size() && text[i] != c; ++i) {
        if (text[i] == '\n') ++line;
        if (c == '"' && text[i] == '\\' && i + 1 < text.size()) ++i;
        word += text[i];
      }
    } else {
      start();
      word += c;
    }
  }
  end_command();
  if (commands.back().empty()) commands.pop_back();
  return commands;
}

/// A server launch found in a command: which server and its arguments (after the program, with the model
/// as the positional argument of `vllm serve` and `trtllm-serve`).
struct Launch {
  std::string server;  ///< "vllm", "sglang", "trtllm"
  std::vector<Word> args;
  Word positional;     ///< the model, when given positionally
};

/// The launch a command runs, if it runs one: `[exec] vllm serve M ...`, `python[3] -m
/// vllm.entrypoints.openai.api_server ...`, `python[3] -m sglang.launch_server ...`, `trtllm-serve M ...`.
std::optional<Launch> find_launch(const std::vector<Word>& words) {
  std::size_t i = 0;
  while (i < words.size() && (words[i].text == "exec" || words[i].text.find('=') != std::string::npos)) ++i;
  auto at = [&](std::size_t k) -> std::string { return i + k < words.size() ? words[i + k].text : std::string(); };
  Launch launch;
  std::size_t args = 0;
  const bool python = at(0) == "python" || at(0) == "python3";
  if (at(0) == "vllm" && at(1) == "serve") launch.server = "vllm", args = 2;
  else if (python && at(1) == "-m" && at(2) == "vllm.entrypoints.openai.api_server") launch.server = "vllm", args = 3;
  else if (python && at(1) == "-m" && at(2) == "sglang.launch_server") launch.server = "sglang", args = 3;
  else if (at(0) == "trtllm-serve") launch.server = "trtllm", args = (at(1) == "serve" ? 2 : 1);
  else return std::nullopt;
  launch.args.assign(words.begin() + static_cast<std::ptrdiff_t>(i + args), words.end());
  if (launch.server != "sglang" && !launch.args.empty() && launch.args.front().text.rfind("-", 0) != 0 &&
      !(launch.server == "vllm" && args == 3)) {
    launch.positional = launch.args.front();
    launch.args.erase(launch.args.begin());
  }
  return launch;
}

/// A launch's arguments as an engine config mapping whose keys sit on the lines the arguments were on, so
/// the config readers' messages point into the script: `--tp 4` on line 7 becomes `tp: "4"` on line 7
/// (a YAML flow mapping keeps several keys on one line). `extra` adds keys (the GPU from a node selector).
YAML::Node launch_as_config(const Launch& launch, const std::string& file, const char* model_key,
                            const std::vector<std::pair<std::string, Word>>& extra) {
  std::vector<std::pair<std::string, Word>> pairs = extra;
  if (!launch.positional.text.empty()) pairs.push_back({model_key, launch.positional});
  for (std::size_t i = 0; i < launch.args.size(); ++i) {
    const Word& w = launch.args[i];
    if (w.text.rfind("--", 0) != 0 || w.text.size() < 3)
      invalid(file, w.line, fmt::format("'{}' is not an --argument of the {} server", w.text, launch.server));
    std::string key = w.text.substr(2), value;
    if (const auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (i + 1 < launch.args.size() && launch.args[i + 1].text.rfind("--", 0) != 0) {
      value = launch.args[++i].text;
    } else if (key.rfind("no-", 0) == 0 || key.rfind("no_", 0) == 0) {
      key = key.substr(3);
      value = "false";
    } else {
      value = "true";
    }
    pairs.push_back({key, {value, w.line}});
  }
  int last = 1;
  for (const auto& p : pairs) last = std::max(last, p.second.line);
  std::vector<std::string> lines(static_cast<std::size_t>(last));
  auto quoted = [](const std::string& t) {
    std::string out = "\"";
    for (char c : t) {
      if (c == '"' || c == '\\') out += '\\';
      out += c < ' ' ? ' ' : c;
    }
    return out + "\"";
  };
  bool first = true;
  for (const auto& [key, value] : pairs) {
    auto& row = lines[static_cast<std::size_t>(std::max(1, value.line) - 1)];
    row += (first ? " " : ", ") + quoted(key) + ": " + quoted(value.text);
    first = false;
  }
  std::string text = "{";
  for (std::size_t i = 0; i < lines.size(); ++i) text += (i ? "\n " : "") + lines[i];
  text += "}";
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    invalid(file, 0, fmt::format("the {} server's arguments cannot be read: {}", launch.server, e.msg));
  }
}

/// TensorRT-LLM's trtllm-serve arguments that decide memory, and those known not to.
const std::set<std::string> k_trtllm_used = {"model", "tp_size", "pp_size", "max_seq_len", "max_batch_size",
                                             "max_num_tokens", "kv_cache_free_gpu_memory_fraction",
                                             "extra_llm_api_options", "gpu", "name"};
const std::set<std::string> k_trtllm_harmless = {"host", "port", "backend", "trust_remote_code", "log_level", "tokenizer",
                                                 "ep_size", "cluster_size", "num_postprocess_workers", "reasoning_parser",
                                                 "gpus_per_node", "metadata_server_config_file", "server_role"};

/// A trtllm-serve launch: the advisor's fit at max_seq_len on tp_size x pp_size GPUs, its limits checked,
/// and the extra LLM API options file it names (KV cache dtype and free memory fraction) read too.
Spec read_trtllm(const YAML::Node& root, const std::string& file, const CheckOptions& options,
                 std::vector<CheckFinding>& notes) {
  Spec spec;
  spec.kind = "trtllm";
  spec.line = 1;
  EngineKeys k = read_engine_keys(root, file, "trtllm-serve", k_trtllm_used, k_trtllm_harmless,
                                  [](const std::string&, const std::string& second) {
                                    return fmt::format("'--{}' is given twice", second);
                                  });
  auto& keys = k.values;
  const auto& positions = k.positions;
  map_flag(spec, k, "--context", "max_seq_len");
  map_flag(spec, k, "--model", "model");
  if (options.gpu.empty()) map_flag(spec, k, "--gpu", "gpu");
  if (!keys.count("model")) invalid(file, 0, "trtllm-serve: no model (the first argument)");
  const std::string model = scalar(keys["model"], file, "trtllm-serve", "model");
  spec.name = keys.count("name") ? scalar(keys["name"], file, "trtllm-serve", "name") : model;
  spec.line = positions.count("model") ? positions.at("model").second : 1;
  const std::string where = fmt::format("trtllm-serve '{}'", spec.name);
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = keys.find(key);
    if (it == keys.end() || it->second.IsNull()) return std::nullopt;
    return scalar(it->second, file, where, key);
  };
  spec.request.model = model;
  spec.gpu = options.gpu.empty() ? text("gpu").value_or("") : options.gpu;
  if (spec.gpu.empty()) invalid(file, 0, where + ": no GPU: give --gpu NAME or a '# gpuadvise: gpu=NAME' line");
  const int tp = keys.count("tp_size") ? static_cast<int>(number(keys["tp_size"], file, where, "--tp_size", 1, 1024)) : 1;
  const int pp = keys.count("pp_size") ? static_cast<int>(number(keys["pp_size"], file, where, "--pp_size", 1, 1024)) : 1;
  spec.count = options.count > 0 ? options.count : tp * pp;
  for (const auto& [rule, key] : std::initializer_list<std::pair<const char*, const char*>>{
           {"tensor-parallel-invalid", "tp_size"}, {"context-exceeds-model", "max_seq_len"}, {"memory-does-not-fit", "max_seq_len"}})
    if (positions.count(key)) spec.rule_lines[rule] = positions.at(key).second;
  spec.request.context = text("max_seq_len");
  if (!spec.request.context) {
    spec.request.context = "4096";
    notes.push_back({"trtllm-max-seq-len-missing", Severity::warning, spec.name, file, 0,
                     "no --max_seq_len: trtllm-serve uses the model's full context, the check assumed 4096",
                     "set --max_seq_len to the longest request you serve"});
  }
  if (keys.count("max_batch_size")) number(keys["max_batch_size"], file, where, "--max_batch_size", 1, 1e6);
  if (keys.count("max_num_tokens")) number(keys["max_num_tokens"], file, where, "--max_num_tokens", 1, 1e9);
  if (keys.count("kv_cache_free_gpu_memory_fraction"))
    number(keys["kv_cache_free_gpu_memory_fraction"], file, where, "--kv_cache_free_gpu_memory_fraction", 0.01, 1);
  spec.request.batch = "1";
  spec.request.output_tokens = "1";
  spec.request.runtime = "trtllm";
  if (const auto format = checkpoint_format_from_id(model))
    spec.request.precision = *format == CheckpointFormat::fp8 ? "fp8" : *format == CheckpointFormat::int4 ? "int4" : "int8";
  if (const auto extra = text("extra_llm_api_options")) {
    // The options file, relative to the script (the emitted script changes to its own folder first).
    const auto path = std::filesystem::path(file).parent_path() / *extra;
    const std::string name = path.string();
    std::string body;
    try {
      body = read_text_file(name, "extra LLM API options file");
    } catch (const InputError& e) {
      invalid(file, positions.at("extra_llm_api_options").second, e.what());
    }
    YAML::Node doc;
    try {
      doc = YAML::Load(body);
    } catch (const YAML::Exception& e) {
      invalid(name, e.mark.is_null() ? 0 : e.mark.line + 1, fmt::format("malformed YAML: {}", e.msg));
    }
    if (doc && !doc.IsMap()) invalid(name, line_of(doc), "expected a mapping of LLM API options");
    if (doc) reject_duplicate_keys(doc, name);
    if (const YAML::Node kv = doc ? doc["kv_cache_config"] : YAML::Node(); kv && kv.IsMap()) {
      if (kv["free_gpu_memory_fraction"])
        number(kv["free_gpu_memory_fraction"], name, "kv_cache_config", "free_gpu_memory_fraction", 0.01, 1);
      if (kv["dtype"]) {
        const std::string dtype = normalize_name(scalar(kv["dtype"], name, "kv_cache_config", "dtype"));
        if (dtype == "fp8") spec.request.kv_precision = "fp8";
        else if (dtype != "auto")
          invalid(name, line_of(kv["dtype"]), fmt::format("kv_cache_config: dtype '{}' is not auto or fp8", dtype));
      }
    }
  }
  if (!k.ignored.empty())
    notes.push_back({"trtllm-keys-ignored", Severity::info, spec.name, file, 0,
                     fmt::format("arguments not modelled by the check: {}", fmt::join(k.ignored, ", ")), ""});
  return spec;
}

/// The GPU a `# gpuadvise: gpu=NAME` line names (emitted files carry one), else empty.
std::string marker_gpu(const std::string& text) {
  const std::string tag = "# gpuadvise: gpu=";
  for (std::size_t at = text.find(tag); at != std::string::npos; at = text.find(tag, at + 1))
    if (at == 0 || text[at - 1] == '\n') {
      const std::size_t start = at + tag.size();
      const std::size_t end = text.find_first_of(" \t\r\n", start);
      return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }
  return "";
}

/// The spec a launch describes, read by its engine's config reader with the file's own lines.
Spec read_launch(const Launch& launch, const std::string& file, const CheckOptions& options,
                 std::vector<CheckFinding>& notes, const std::vector<std::pair<std::string, Word>>& extra) {
  if (launch.server == "sglang")
    return read_sglang(launch_as_config(launch, file, "model-path", extra), file, options, notes);
  if (launch.server == "trtllm") return read_trtllm(launch_as_config(launch, file, "model", extra), file, options, notes);
  const YAML::Node config = launch_as_config(launch, file, "model", extra);
  if (!config["model"]) invalid(file, launch.args.empty() ? 0 : launch.args.front().line, "vllm serve: no model");
  return read_vllm(config, file, options, notes);
}

/// The first server launch among a script's commands; nullopt when it runs none.
std::optional<Launch> launch_in(const std::string& script, int first_line) {
  for (const auto& command : shell_commands(script, first_line)) {
    if (auto launch = find_launch(command)) return launch;
    // `sh -c "vllm serve ..."`: the launch inside the string.
    for (std::size_t i = 0; i + 1 < command.size(); ++i)
      if (command[i].text == "-c")
        if (auto inner = launch_in(command[i + 1].text, command[i + 1].line)) return inner;
  }
  return std::nullopt;
}

/// A scalar's whole-number value, or an error naming the key and line.
int whole(const YAML::Node& node, const std::string& file, const std::string& where, const std::string& key, double min,
          double max) {
  const double v = number(node, file, where, key, min, max);
  if (v != std::floor(v)) invalid(file, line_of(node), fmt::format("{}: {} must be whole", where, key));
  return static_cast<int>(v);
}

/// A Kubernetes Deployment whose container runs the vLLM OpenAI server: the server's arguments checked as a
/// vLLM config, the GPU from the node selector, the GPU limit against the tensor-parallel group, and the
/// replica count.
Spec read_k8s_deployment(const YAML::Node& root, const std::string& file, const std::string& marker,
                         const CheckOptions& options, std::vector<CheckFinding>& notes) {
  const YAML::Node meta = root["metadata"];
  if (!meta || !meta.IsMap() || !meta["name"]) invalid(file, line_of(root), "Deployment: missing metadata.name");
  const std::string name = scalar(meta["name"], file, "Deployment", "metadata.name");
  const std::string where = fmt::format("Deployment '{}'", name);
  const YAML::Node spec_node = root["spec"];
  if (!spec_node || !spec_node.IsMap()) invalid(file, line_of(root), where + ": missing spec");
  const YAML::Node pod = spec_node["template"] && spec_node["template"].IsMap() && spec_node["template"]["spec"]
                            ? spec_node["template"]["spec"]
                            : YAML::Node();
  if (!pod || !pod.IsMap()) invalid(file, line_of(spec_node), where + ": missing spec.template.spec");
  const YAML::Node containers = pod["containers"];
  if (!containers || !containers.IsSequence() || containers.size() == 0)
    invalid(file, line_of(pod), where + ": spec.template.spec.containers must be a non-empty list");
  std::optional<Launch> launch;
  YAML::Node server;
  for (std::size_t index = 0; index < containers.size(); ++index) {
    const YAML::Node c = containers[index];
    if (!c.IsMap()) continue;
    std::vector<Word> words;
    for (const char* part : {"command", "args"})
      if (c[part] && c[part].IsSequence())
        for (const auto& w : c[part]) words.push_back({scalar(w, file, where, part), line_of(w)});
    // No command: the vllm/vllm-openai image's entrypoint, the OpenAI server module.
    if (!c["command"] && c["image"] && scalar(c["image"], file, where, "image").find("vllm") != std::string::npos)
      words.insert(words.begin(), {{"python3", line_of(c)}, {"-m", line_of(c)}, {"vllm.entrypoints.openai.api_server", line_of(c)}});
    launch = find_launch(words);
    for (std::size_t i = 0; !launch && i + 1 < words.size(); ++i)
      if (words[i].text == "-c") launch = launch_in(words[i + 1].text, words[i + 1].line);
    if (launch) {
      server = c;
      break;
    }
  }
  if (!launch || launch->server != "vllm")
    invalid(file, line_of(containers), where + ": no container runs `vllm serve` or python3 -m vllm.entrypoints.openai.api_server");
  std::vector<std::pair<std::string, Word>> extra = {{"name", {name, line_of(meta["name"])}}};
  // The GPU: the node selector's product label, else --gpu, else the emitted marker line.
  CheckOptions opts = options;
  const YAML::Node selector = pod["nodeSelector"];
  bool labelled = false;
  for (const char* label : {"nvidia.com/gpu.product", "amd.com/gpu.product-name"})
    if (selector && selector.IsMap() && selector[label] && options.gpu.empty()) {
      const std::string value = scalar(selector[label], file, where, label);
      std::string id = gpu_from_product_label(value).value_or(value);
      if (!gpu_from_product_label(value)) std::replace(id.begin(), id.end(), '-', ' ');
      extra.push_back({"gpu", {id, line_of(selector[label])}});
      labelled = true;
    }
  if (!labelled && opts.gpu.empty()) {
    if (marker.empty())
      invalid(file, line_of(pod), where + ": no GPU: give --gpu NAME or a nodeSelector nvidia.com/gpu.product (GPU feature discovery)");
    opts.gpu = marker;
  }
  Spec spec = read_launch(*launch, file, opts, notes, extra);
  spec.line = line_of(root);
  auto error = [&](const char* rule, int line, std::string message, std::string hint) {
    notes.push_back({rule, Severity::error, spec.name, file, line, std::move(message), std::move(hint)});
  };
  if (spec_node["replicas"]) {
    const int replicas = whole(spec_node["replicas"], file, where, "replicas", 0, 100000);
    if (replicas < 1)
      error("k8s-replicas", line_of(spec_node["replicas"]), fmt::format("replicas: {} runs no server", replicas),
            "set replicas: 1 or more");
  }
  // The GPU limit must hold the whole tensor x pipeline group on one pod.
  const YAML::Node limits = server["resources"] && server["resources"].IsMap() && server["resources"]["limits"]
                                ? server["resources"]["limits"]
                                : YAML::Node();
  const char* resource = nullptr;
  for (const char* r : {"nvidia.com/gpu", "amd.com/gpu"})
    if (limits && limits.IsMap() && limits[r]) resource = r;
  if (!resource) {
    error("k8s-gpu-limit", line_of(server), where + ": the vLLM container has no nvidia.com/gpu (or amd.com/gpu) limit: it gets no GPU",
          fmt::format("set resources.limits nvidia.com/gpu: {}", spec.count));
  } else {
    const int gpus = whole(limits[resource], file, where, resource, 0, 4096);
    if (gpus != spec.count)
      error("k8s-gpu-limit", line_of(limits[resource]),
            fmt::format("{}: {} but the server's tensor x pipeline parallel group needs {} GPUs", resource, gpus, spec.count),
            fmt::format("set {}: {}", resource, spec.count));
  }
  bool shm = false;
  if (server["volumeMounts"] && server["volumeMounts"].IsSequence())
    for (const auto& m : server["volumeMounts"])
      if (m.IsMap() && m["mountPath"] && m["mountPath"].IsScalar() && m["mountPath"].Scalar() == "/dev/shm") shm = true;
  if (!shm && spec.count > 1)
    notes.push_back({"k8s-no-shm", Severity::warning, spec.name, file, line_of(server),
                     "no /dev/shm volume: tensor-parallel workers share tensors through it, and the container default is 64 MB",
                     "mount an emptyDir with medium: Memory at /dev/shm"});
  return spec;
}

/// The first line at or after `from` (1-based) whose text, trimmed, is `content` trimmed; `from` if none.
int line_of_text(const std::string& text, int from, const std::string& content) {
  auto trim = [](std::string s) {
    const auto a = s.find_first_not_of(" \t\r");
    const auto b = s.find_last_not_of(" \t\r");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
  };
  const std::string wanted = trim(content);
  int line = 1;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    if (line >= from && trim(text.substr(pos, end - pos)) == wanted) return line;
    if (end == text.size()) break;
    pos = end + 1;
    ++line;
  }
  return from;
}

/// A SkyPilot task or service YAML whose run command launches vLLM, SGLang or TensorRT-LLM: the server's
/// arguments checked as that engine's config, the GPU and count from resources.accelerators, the
/// service's replicas and readiness probe.
Spec read_skypilot(const YAML::Node& root, const std::string& text, const std::string& file, const std::string& marker,
                   const CheckOptions& options, std::vector<CheckFinding>& notes) {
  const std::string where = "SkyPilot task";
  const YAML::Node run = root["run"];
  if (!run.IsScalar()) invalid(file, line_of(run), where + ": run must be a command string");
  const std::string script = run.Scalar();
  const std::string first = script.substr(0, script.find('\n'));
  const int start = line_of_text(text, key_line(root, "run", file), first);
  const auto launch = launch_in(script, start);
  if (!launch) invalid(file, start, where + ": run starts no server (vllm serve, python -m sglang.launch_server, trtllm-serve)");
  std::vector<std::pair<std::string, Word>> extra;
  if (root["name"] && root["name"].IsScalar()) extra.push_back({"name", {root["name"].Scalar(), line_of(root["name"])}});
  CheckOptions opts = options;
  int per_node = 0, accelerators_line = 0;
  const YAML::Node resources = root["resources"];
  if (resources && resources.IsMap() && resources["accelerators"]) {
    const YAML::Node acc = resources["accelerators"];
    accelerators_line = line_of(acc);
    std::string gpu_name;
    if (acc.IsScalar()) {
      const std::string value = acc.Scalar();
      const auto colon = value.find(':');
      gpu_name = value.substr(0, colon);
      per_node = 1;
      if (colon != std::string::npos) {
        const std::string count = value.substr(colon + 1);
        char* end = nullptr;
        const double n = std::strtod(count.c_str(), &end);
        if (count.empty() || end != count.c_str() + count.size() || !(n >= 0 && n <= 4096) || n != std::floor(n))
          invalid(file, accelerators_line, fmt::format("{}: accelerators '{}': the count after ':' must be a whole number", where, value));
        per_node = static_cast<int>(n);
      }
    } else if (acc.IsMap() && acc.size() == 1) {
      gpu_name = key_text(acc.begin()->first, file);
      per_node = whole(acc.begin()->second, file, where, "accelerators count", 0, 4096);
    } else {
      invalid(file, accelerators_line, where + ": resources.accelerators must be NAME:COUNT (one GPU kind, so the check knows which)");
    }
    if (options.gpu.empty()) extra.push_back({"gpu", {gpu_from_skypilot_name(gpu_name).value_or(gpu_name), accelerators_line}});
  } else if (opts.gpu.empty()) {
    if (marker.empty()) invalid(file, line_of(root), where + ": no resources.accelerators: give --gpu NAME or accelerators: NAME:COUNT");
    opts.gpu = marker;
  }
  Spec spec = read_launch(*launch, file, opts, notes, extra);
  spec.line = 1;
  auto error = [&](const char* rule, int line, std::string message, std::string hint) {
    notes.push_back({rule, Severity::error, spec.name, file, line, std::move(message), std::move(hint)});
  };
  const int nodes = root["num_nodes"] ? whole(root["num_nodes"], file, where, "num_nodes", 1, 4096) : 1;
  if (per_node > 0 && per_node * nodes != spec.count)
    error("skypilot-accelerators", accelerators_line,
          fmt::format("accelerators give {} GPU{} per replica but the server's tensor x pipeline parallel group needs {}",
                      per_node * nodes, per_node * nodes == 1 ? "" : "s", spec.count),
          fmt::format("set accelerators to {} GPUs", spec.count));
  if (per_node == 0 && accelerators_line > 0)
    error("skypilot-accelerators", accelerators_line, "accelerators count 0: the server gets no GPU", "set the count after ':'");
  if (const YAML::Node service = root["service"]) {
    if (!service.IsMap()) invalid(file, line_of(service), where + ": service must be a mapping");
    if (!service["readiness_probe"])
      error("skypilot-readiness-probe", key_line(root, "service", file),
            "service has no readiness_probe: SkyServe needs one to route traffic", "add readiness_probe: /health");
    for (const YAML::Node& replicas :
         {service["replicas"], service["replica_policy"] && service["replica_policy"].IsMap()
                                   ? service["replica_policy"]["min_replicas"]
                                   : YAML::Node()})
      if (replicas && !replicas.IsNull() && whole(replicas, file, where, "replicas", 0, 100000) < 1)
        error("skypilot-replicas", line_of(replicas), fmt::format("replicas {} serves no traffic", replicas.Scalar()),
              "set replicas: 1 or more");
  }
  return spec;
}

/// A remedy as the key of the file being checked: a deployment's `precision: int8`, a vLLM config's
/// `tensor-parallel-size: 4`.
std::string remedy_as_key(const Remedy& r, bool vllm) {
  switch (r.setting) {
  case Setting::model: return "model: " + r.to;
  case Setting::precision: return (vllm ? "quantization: " : "precision: ") + r.to;
  case Setting::kv_precision: return vllm ? "kv-cache-dtype: " + (r.to == "fp8" ? r.to : std::string("auto")) : "kv_precision: " + r.to;
  case Setting::count: return (vllm ? "tensor-parallel-size: " : "count: ") + r.to;
  case Setting::context: return (vllm ? "max-model-len: " : "context: ") + r.to;
  case Setting::batch: return (vllm ? "max-num-seqs: " : "batch: ") + r.to;
  case Setting::task: return "task: " + r.to;
  case Setting::zero_stage: return "ZeRO stage " + r.to;
  case Setting::recompute: return r.to + " activation recomputation";
  }
  throw InternalError("a remedy without a key");
}

/// The largest context (tokens) whose KV cache for `batch` sequences fits, by bisection; 0 if none.
std::int64_t largest_fitting_context(Workload w, const PrecisionDecision& p, const Gpu& gpu, int count,
                                     const Assumptions& a) {
  std::int64_t lo = 0, hi = w.context;
  while (lo < hi) {
    const std::int64_t mid = (lo + hi + 1) / 2;
    w.context = mid;
    if (estimate_memory(w, p, gpu, count, a).fits()) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/// Concrete changes that would make a deployment that does not fit pass.
std::string fit_hint(const Workload& w, const Candidate& c, const GpuCatalog& gpus, const Assumptions& a,
                     const std::string& provider, bool vllm) {
  std::vector<std::string> options;
  for (int n = c.count * 2; n <= 64; n *= 2)
    if (estimate_memory(w, c.precision, *c.gpu, n, a).fits()) {
      options.push_back(vllm ? fmt::format("{} x {} (tensor-parallel-size: {})", n, c.gpu->id, n)
                             : fmt::format("{} x {} (count: {})", n, c.gpu->id, n));
      break;
    }
  if (c.precision.kv_effective != Precision::fp8) {
    Workload fp8 = w;
    fp8.kv_precision = Precision::fp8;
    fp8.kv_precision_given = true;
    const auto p = decide_precision(fp8, *c.gpu);
    if (estimate_memory(fp8, p, *c.gpu, c.count, a).fits()) options.push_back(vllm ? "kv-cache-dtype: fp8" : "kv_precision: fp8");
  }
  if (const auto context = largest_fitting_context(w, c.precision, *c.gpu, c.count, a); context >= 256)
    options.push_back(vllm ? fmt::format("max-model-len: {} or less", context) : fmt::format("context: {} or less", context));
  // The cheapest other GPU kind that fits at this count.
  const Candidate* best = nullptr;
  std::vector<Candidate> others;
  for (const auto& gpu : gpus.gpus())
    if (gpu.id != c.gpu->id) others.push_back(evaluate(w, gpu, c.count, a, provider));
  for (const auto& o : others)
    if (o.eligible && (!best || o.cost.usd_per_hour < best->cost.usd_per_hour)) best = &o;
  if (best) options.push_back(fmt::format("gpu: {} ({}/hr for {})", best->gpu->id, format_usd(best->cost.usd_per_hour),
                                          best->count > 1 ? fmt::format("{} GPUs", best->count) : "one"));
  return options.empty() ? "no single change found; see `gpuadvise --model ...` for plans"
                         : "any of: " + fmt::format("{}", fmt::join(options, "; "));
}

/// The declared fleet (replicas x the deployment) simulated under its traffic (docs/serving.md); a missed
/// slo target is an error on that key, with the replica count that meets every target.
void check_traffic(const Spec& spec, const Workload& w, const Gpu& gpu, const GpuCatalog& gpus, const Assumptions& a,
                   const std::string& provider, DeploymentResult& r) {
  EngineSettings engine;
  // batch / max_concurrent_sequences, when given, is the engine's max-num-seqs.
  if (spec.keys.count("--batch") && spec.keys.at("--batch").second > 0) engine.max_num_seqs = w.batch;
  const ReplicaModel replica = make_replica(w, gpu, spec.count, a, engine);
  r.has_traffic = true;
  r.traffic_text = spec.traffic_text;
  r.replicas = spec.replicas;
  if (replica.kv_blocks <= 0) return; // the fit findings already say why
  r.serving = simulate(replica, spec.replicas, *spec.traffic, spec.targets);
  auto add = [&](std::string rule, int line, std::string message, std::string hint) {
    r.findings.push_back({std::move(rule), Severity::error, spec.name, r.file, line > 0 ? line : spec.traffic_line,
                          std::move(message), std::move(hint)});
  };
  const std::string fleet = fmt::format("{} replica{} of {}{}", spec.replicas, spec.replicas > 1 ? "s" : "",
                                        spec.count > 1 ? fmt::format("{} x ", spec.count) : "", gpu.name);
  struct Miss {
    const char* key;
    std::optional<double> target;
    double value;
    const char* what;
  };
  std::vector<Miss> misses;
  for (const Miss& m : {Miss{"ttft_p95", spec.targets.ttft_p95, r.serving.ttft_s.p95, "p95 time to first token"},
                        Miss{"ttft_p99", spec.targets.ttft_p99, r.serving.ttft_s.p99, "p99 time to first token"},
                        Miss{"tpot_p95", spec.targets.tpot_p95, r.serving.tpot_s.p95, "p95 time per output token"},
                        Miss{"e2e_p95", spec.targets.e2e_p95, r.serving.e2e_s.p95, "p95 end-to-end latency"}})
    if (m.target && m.value > *m.target) misses.push_back(m);
  const bool unstable = !r.serving.stable;
  if (misses.empty() && !unstable) return;
  // The fix: the fewest replicas of this deployment that carry the load within every target.
  ServingSearch search;
  search.gpus = {&gpu};
  search.tp_sizes = {spec.count};
  search.provider = provider;
  const auto plans = search_serving_plans(w, gpus, a, *spec.traffic, spec.targets, engine, search);
  r.replicas_needed = !plans.empty() ? plans.front().replicas : 0;
  const std::string hint = r.replicas_needed > 0
                               ? fmt::format("set replicas: {} (the fewest that meet every target in the simulation)", r.replicas_needed)
                               : "no replica count up to 64 meets the targets on this GPU: choose a faster GPU, more GPUs per replica, or relax the slo";
  if (unstable)
    add("traffic-not-sustained", spec.traffic_line,
        fmt::format("{} cannot keep up with {}: the queue grows through the simulated run ({:.0f} output tokens/s served)",
                    fleet, spec.traffic_text, r.serving.output_tokens_per_s),
        hint);
  for (const Miss& m : misses) {
    const auto line = spec.slo_lines.find(m.key);
    std::string rule = fmt::format("slo-{}", m.key);
    std::replace(rule.begin(), rule.end(), '_', '-');
    add(rule, line == spec.slo_lines.end() ? 0 : line->second,
        fmt::format("at {}, {} give{} a {} of {}, over the slo of {}", spec.traffic_text, fleet, spec.replicas > 1 ? "" : "s", m.what,
                    format_duration(m.value), format_duration(*m.target)),
        hint);
  }
}

DeploymentResult evaluate_spec(const Spec& spec, const std::string& file, const GpuCatalog& gpus,
                               const ModelCatalog& models, const Assumptions& assumptions, const CheckOptions& options) {
  DeploymentResult r;
  r.name = spec.name;
  r.file = file;
  r.line = spec.line;
  r.kind = spec.kind;
  r.count = spec.count;
  const std::string where = fmt::format("{} '{}'",
                                        spec.kind == "vllm"     ? "vLLM config"
                                        : spec.kind == "sglang" ? "SGLang config"
                                        : spec.kind == "trtllm" ? "trtllm-serve"
                                                                : "deployment",
                                        spec.name);
  const bool engine_config = spec.kind == "vllm" || spec.kind == "sglang";
  const Gpu* gpu = nullptr;
  Workload w;
  AdviseOptions pricing;
  try {
    try {
      gpu = &gpus.find(spec.gpu);
    } catch (const InputError& e) {
      throw InputError(fmt::format("--gpu: {}", e.what())); // named by its key below
    }
    WorkloadRequest request = spec.request;
    // A quantized checkpoint's id ("...-Instruct-FP8") names its base model's shape.
    if (spec.kind != "deployment" && !request.model.empty() && !models.find(request.model) &&
        models.find(strip_quantization_suffix(request.model)))
      request.model = strip_quantization_suffix(request.model);
    w = build_workload(request, models);
    // The file's provider, region and spot win over the command line's; checked as the default command checks them.
    pricing.provider = spec.provider.empty() ? options.provider : spec.provider;
    pricing.region = spec.region.empty() ? options.region : spec.region;
    pricing.spot = spec.spot.value_or(options.spot);
    pricing.instances = options.instances;
    // A choice the file makes is an error in the file's terms (key and line); the command line's alone, in its own.
    if (!spec.provider.empty() || !spec.region.empty() || spec.spot) require_pricing(gpus, pricing);
  } catch (const InputError& e) {
    const auto [message, line] = in_file_terms(e.what(), spec);
    invalid(file, line, fmt::format("{}: {}", where, message));
  }
  require_pricing(gpus, pricing);
  r.gpu = gpu->id;
  r.model = w.shape.id;
  const std::string provider = pricing.provider;
  // The deployment's GPUs in tensor parallel, rented as the provider's instances when it has shapes.
  const Candidate c = evaluate_plan(w, *gpu, spec.count, 1, assumptions, pricing);
  r.memory_total_bytes = c.memory.total_bytes;
  r.memory_usable_bytes = c.memory.usable_bytes;
  r.kv_cache_bytes = c.memory.kv_cache_bytes;
  r.kv_budget_bytes = c.memory.usable_bytes - c.memory.weights_bytes - c.memory.activation_bytes - c.memory.overhead_bytes;
  double kv_per_sequence = c.memory.kv_cache_bytes / static_cast<double>(w.batch);
  // A vLLM config: the KV budget, blocks and concurrency as the engine computes them at start-up.
  std::optional<EngineMemory> engine;
  if (engine_config) {
    EngineLaunch settings = spec.engine;
    settings.tensor_parallel = std::max(1, spec.count / std::max(1, settings.pipeline_parallel));
    settings.max_model_len = w.context;
    try {
      engine = engine_memory(w.shape, *gpu, settings);
      r.kv_budget_bytes = engine->kv_budget_bytes;
      kv_per_sequence = engine->kv_bytes_per_token * static_cast<double>(w.context);
    } catch (const InputError&) {
      // Heads that do not divide over the GPUs: the engine would not load the model at all, and the
      // advisor's tensor-parallel-invalid finding says so below.
      engine.reset();
    }
  }
  r.max_sequences_at_context = kv_per_sequence > 0 ? std::max(0.0, std::floor(r.kv_budget_bytes / kv_per_sequence)) : 0;
  r.decode_tokens_per_s = kind_module(w.kind).headline(c.performance);
  r.usd_per_hour = c.cost.usd_per_hour;
  r.job_usd = c.cost.job_usd.expected;
  r.job_hours = c.performance.job_s.expected / 3600;

  auto add = [&](std::string rule, Severity severity, std::string message, std::string hint) {
    r.findings.push_back({std::move(rule), severity, spec.name, file, spec.line, std::move(message), std::move(hint)});
  };
  // vLLM refuses a max-model-len above the model's maximum (unless VLLM_ALLOW_LONG_MAX_MODEL_LEN=1): an error.
  if (spec.kind == "vllm" && w.origin != ModelOrigin::bare_size && w.shape.max_context > 0 && w.context > w.shape.max_context) {
    const auto key = spec.keys.find("--context");
    const std::string name = key == spec.keys.end() ? "max-model-len" : key->second.first;
    r.findings.push_back({"vllm-max-model-len-above-model", Severity::error, spec.name, file,
                          key == spec.keys.end() ? spec.line : key->second.second,
                          fmt::format("vLLM would not start: {} {} is longer than {}'s maximum context of {} tokens "
                                      "(max_position_embeddings); vLLM refuses it unless VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 is set",
                                      name, w.context, w.shape.name, w.shape.max_context),
                          fmt::format("set {}: {} or less", name, w.shape.max_context)});
  }
  for (const auto& f : c.findings) {
    if (f.severity == Severity::info) continue;
    if (spec.kind == "vllm" && f.id == "context-exceeds-model") continue; // an error for vLLM: below
    std::string hint = f.hint;
    // The engine's own accounting decides whether it starts (below); it fills its memory fraction with KV
    // blocks by design, so the advisor's headroom warning does not apply to it.
    if (engine && (f.id == "memory-does-not-fit" || f.id == "memory-low-headroom")) continue;
    if (f.id == "memory-does-not-fit") hint = fit_hint(w, c, gpus, assumptions, provider, spec.kind == "vllm");
    add(f.id, f.severity, f.message, f.id == "memory-does-not-fit" ? hint : hint_with_remedies(f, [&](const Remedy& remedy) {
          return remedy_as_key(remedy, spec.kind == "vllm");
        }));
  }
  if (engine && engine->failure != EngineFailure::none) {
    std::string hint = fit_hint(w, c, gpus, assumptions, provider, true);
    {
      // The engine's own remedies first: the memory fraction that would hold one max-model-len sequence,
      // and the longest max-model-len its KV cache holds; then the advisor's other GPUs and counts. Its
      // max-model-len (the advisor's estimate) and, with no block at all, the KV dtype do not apply.
      const bool sglang_config = spec.kind == "sglang";
      const double one_sequence = std::ceil(static_cast<double>(w.context) / static_cast<double>(engine->block_size)) *
                                  static_cast<double>(engine->block_size) * engine->kv_bytes_per_token;
      const double needed =
          sglang_config ? (engine->weights_bytes + one_sequence) / (engine->total_bytes - engine->non_torch_bytes)
                        : (engine->weights_bytes + engine->non_torch_bytes + engine->activation_bytes + one_sequence) /
                              engine->total_bytes;
      std::vector<std::string> options;
      if (needed < 0.99 && needed > spec.engine.memory_fraction)
        options.push_back(fmt::format("{}: {:.2f}", sglang_config ? "mem-fraction-static" : "gpu-memory-utilization",
                                      std::ceil(needed * 100) / 100));
      if (engine->failure == EngineFailure::max_model_len_too_long)
        options.push_back(fmt::format("max-model-len: {} or less", engine->kv_tokens));
      const std::string prefix = "any of: ";
      if (hint.rfind(prefix, 0) == 0) {
        std::string rest = hint.substr(prefix.size());
        std::size_t start = 0;
        while (start <= rest.size()) {
          const std::size_t end = std::min(rest.find("; ", start), rest.size());
          const std::string option = rest.substr(start, end - start);
          const bool drop = option.rfind("max-model-len:", 0) == 0 ||
                            (engine->failure == EngineFailure::no_cache_blocks && option.rfind("kv-cache-dtype:", 0) == 0);
          if (!option.empty() && !drop) options.push_back(option);
          start = end + 2;
        }
      }
      if (!options.empty()) hint = prefix + fmt::format("{}", fmt::join(options, "; "));
    }
    const bool sglang = spec.kind == "sglang";
    if (sglang) // SGLang's keys for the same remedies
      for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
               {"tensor-parallel-size:", "tp-size:"}, {"max-model-len:", "context-length:"}})
        for (std::size_t at = hint.find(from); at != std::string::npos; at = hint.find(from, at + to.size()))
          hint.replace(at, from.size(), to);
    add(sglang ? "sglang-model-does-not-fit"
               : engine->failure == EngineFailure::no_cache_blocks ? "vllm-model-does-not-fit" : "vllm-max-model-len-too-long",
        Severity::error,
        fmt::format("{} would not start: \"{}\" (weights {:.2f} GiB, activation peak {:.2f} GiB, non-torch {:.2f} GiB of "
                    "{:.2f} GiB x {} {:.2f} per GPU)",
                    sglang ? "SGLang" : "vLLM",
                    engine->failure_message(), engine->weights_bytes / (1024.0 * 1024 * 1024),
                    engine->activation_bytes / (1024.0 * 1024 * 1024), engine->non_torch_bytes / (1024.0 * 1024 * 1024),
                    engine->total_bytes / (1024.0 * 1024 * 1024), sglang ? "mem-fraction-static" : "gpu-memory-utilization",
                    spec.engine.memory_fraction),
        hint);
  } else if (engine) {
    add(spec.kind == "sglang" ? "sglang-kv-cache" : "vllm-kv-cache", Severity::info, engine->summary(), "");
  }
  if (spec.kind == "vllm" && engine && engine->failure == EngineFailure::none && r.max_sequences_at_context < spec.max_num_seqs)
    add("vllm-concurrency-limited", Severity::info,
        fmt::format("KV cache for {:.0f} sequences of {} tokens fits ({} per GPU); max-num-seqs is {:.0f}, so "
                    "long requests will queue",
                    r.max_sequences_at_context, w.context, format_gb(r.kv_budget_bytes), spec.max_num_seqs),
        "");
  if (spec.traffic && c.memory.fits()) check_traffic(spec, w, *gpu, gpus, assumptions, provider, r);
  if (!c.cost.priced) return r.passed = false, r;

  const std::string job = spec.job_given ? "" : " (job: 1000 requests, the default; set requests: to size it)";
  if (spec.max_usd_per_hour && c.cost.usd_per_hour > *spec.max_usd_per_hour)
    add("budget-usd-per-hour", Severity::error,
        fmt::format("costs {}/hr ({} x {} at {}, price of {}), over the budget of {}/hr", format_usd(c.cost.usd_per_hour),
                    spec.count, format_usd(c.cost.price.usd_per_hour), c.cost.price.provider_name, c.cost.price.date,
                    format_usd(*spec.max_usd_per_hour)),
        "choose a cheaper GPU or provider, or fewer GPUs");
  if (spec.max_usd_per_job && c.cost.job_usd.expected > *spec.max_usd_per_job)
    add("budget-usd-per-job", Severity::error,
        fmt::format("the job costs {} (range {}-{}), over the budget of {}{}", format_usd(c.cost.job_usd.expected),
                    format_usd(c.cost.job_usd.low), format_usd(c.cost.job_usd.high), format_usd(*spec.max_usd_per_job), job),
        "raise the batch, use a cheaper GPU, or fp8/int4 weights");
  if (spec.max_hours && r.job_hours > *spec.max_hours)
    add("budget-hours", Severity::error,
        fmt::format("the job takes {} (range {}-{}), over the limit of {:.2f} h{}", format_duration(c.performance.job_s.expected),
                    format_duration(c.performance.job_s.low), format_duration(c.performance.job_s.high), *spec.max_hours, job),
        "use more or faster GPUs, or a bigger batch");
  if (spec.min_tokens_per_s && r.decode_tokens_per_s < *spec.min_tokens_per_s)
    add("target-tokens-per-s", Severity::error,
        fmt::format("decode reaches {:.0f} tokens/s over all {} sequences (range {:.0f}-{:.0f}), below the target of {:.0f}",
                    r.decode_tokens_per_s, w.batch, c.performance.decode_tokens_per_s.low,
                    c.performance.decode_tokens_per_s.high, *spec.min_tokens_per_s),
        "use a GPU with more memory bandwidth, more GPUs, or a smaller weight format");
  if (spec.min_headroom && c.memory.fits() &&
      c.memory.usable_bytes - c.memory.total_bytes < *spec.min_headroom * c.memory.usable_bytes)
    add("target-headroom", Severity::error,
        fmt::format("leaves {} free of {} usable per GPU ({:.0f}%), below the required {:.0f}%",
                    format_gb(c.memory.usable_bytes - c.memory.total_bytes), format_gb(c.memory.usable_bytes),
                    100 * (c.memory.usable_bytes - c.memory.total_bytes) / c.memory.usable_bytes, *spec.min_headroom * 100),
        "lower batch or context, or use fp8 KV cache");
  return r;
}

/// Every document of the file (a YAML stream may hold several, separated by ---), duplicate keys refused.
std::vector<YAML::Node> load(const std::string& text, const std::string& file) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) invalid(file, 0, "the file is empty");
  // A NUL byte is never in a text file, and yaml-cpp's multi-document reader can loop on one (found by
  // fuzz_check): refuse it before parsing, naming its line.
  if (const auto nul = text.find('\0'); nul != std::string::npos)
    invalid(file, static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(nul), '\n')) + 1,
            "a NUL byte: not a text file");
  if (text[first] == '{' || text[first] == '[') {
    // JSON: let the JSON parser say precisely what is wrong before YAML reads it for line numbers.
    try {
      const auto parsed = nlohmann::json::parse(text);
      (void)parsed;
    } catch (const nlohmann::json::parse_error& e) {
      const std::string what = e.what();
      invalid(file, 0, fmt::format("malformed JSON at byte {}: {}", e.byte, what.substr(what.find(':') + 2)));
    } catch (const nlohmann::json::exception& e) {
      // out_of_range 406: a number such as 1e400 that overflows a double.
      const std::string what = e.what();
      const auto text = what.find("] ");
      invalid(file, 0, fmt::format("invalid JSON: {}", text == std::string::npos ? what : what.substr(text + 2)));
    }
  }
  // Documents split at "---" / "..." lines and read one by one with YAML::Load: yaml-cpp 0.7's LoadAll can
  // loop forever on malformed input (found by fuzz_check). Each document is padded with the newlines before
  // it, so yaml-cpp's line numbers stay those of the file.
  std::vector<YAML::Node> documents;
  std::string current;
  int line = 0, start = 0;
  auto flush = [&] {
    if (current.find_first_not_of(" \t\r\n") != std::string::npos) {
      try {
        documents.push_back(YAML::Load(std::string(static_cast<std::size_t>(start), '\n') + current));
      } catch (const YAML::Exception& e) {
        invalid(file, e.mark.is_null() ? 0 : e.mark.line + 1, fmt::format("malformed YAML: {}", e.msg));
      }
    }
    current.clear();
  };
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string row = text.substr(pos, end - pos);
    const bool marker = row.rfind("---", 0) == 0 && (row.size() == 3 || row[3] == ' ' || row[3] == '\t' || row[3] == '\r');
    const bool finish = row.rfind("...", 0) == 0 && (row.size() == 3 || row[3] == ' ' || row[3] == '\r');
    if (marker || finish) {
      flush();
      start = line + 1;
      if (marker && row.size() > 3) {  // "--- content": the content starts the new document on this line
        start = line;
        current = std::string(3, ' ') + row.substr(3) + "\n";
      }
    } else {
      current += row;
      current += '\n';
    }
    ++line;
    if (end == text.size()) break;
    pos = end + 1;
  }
  flush();
  // "---" alone or a trailing "---" makes an empty document: nothing to check in it.
  documents.erase(std::remove_if(documents.begin(), documents.end(), [](const YAML::Node& d) { return d.IsNull(); }),
                  documents.end());
  if (documents.empty()) invalid(file, 0, "the file holds no document");
  for (const auto& document : documents) reject_duplicate_keys(document, file);
  return documents;
}

} // namespace

const std::set<std::string>& deployment_fields() { return k_deployment_keys; }
const std::set<std::string>& budget_fields() { return k_budget_keys; }

int CheckReport::exit_code() const { return errors > 0 || (strict && warnings > 0) ? 1 : 0; }

std::vector<DeploymentResult> check_text(const std::string& text, const std::string& file, const GpuCatalog& gpus,
                                         const ModelCatalog& models, const Assumptions& assumptions,
                                         const CheckOptions& options) {
  std::vector<Spec> specs;
  std::vector<CheckFinding> notes;
  std::set<std::string> names;
  // Emitted files name their GPU on a "# gpuadvise: gpu=ID" line; --gpu and the file's own keys win.
  const std::string marker = marker_gpu(text);
  CheckOptions with_marker = options;
  if (with_marker.gpu.empty()) with_marker.gpu = marker;
  // A launch script (`vllm serve ...`, `python3 -m sglang.launch_server ...`, `trtllm-serve ...`).
  {
    const auto first = text.find_first_not_of(" \t\r\n");
    std::string first_word;
    for (const auto& command : shell_commands(text.substr(0, std::min(text.size(), std::size_t{1} << 20)), 1)) {
      if (!command.empty()) first_word = command.front().text;
      break;
    }
    const bool script = (first != std::string::npos && text.compare(first, 2, "#!") == 0) || first_word == "exec" ||
                        first_word == "vllm" || first_word == "python" || first_word == "python3" || first_word == "trtllm-serve";
    if (script && text.find('\0') == std::string::npos) {
      const auto launch = launch_in(text, 1);
      if (!launch) invalid(file, 0, "a shell script that starts no server (vllm serve, python3 -m sglang.launch_server, trtllm-serve)");
      specs.push_back(read_launch(*launch, file, with_marker, notes, {}));
    }
  }
  bool k8s_manifest = false;
  for (const YAML::Node& root : specs.empty() ? load(text, file) : std::vector<YAML::Node>{}) {
  if (!root.IsMap()) invalid(file, line_of(root), "expected a mapping with 'deployments:' or a vLLM config with 'model:'");
  if (root["apiVersion"] && root["kind"]) {
    // A Kubernetes manifest: its Deployments are checked, the other objects (Service, ...) pass through.
    k8s_manifest = true;
    if (root["kind"].IsScalar() && root["kind"].Scalar() == "Deployment") {
      specs.push_back(read_k8s_deployment(root, file, marker, options, notes));
      if (!names.insert(specs.back().name).second)
        invalid(file, specs.back().line, fmt::format("two Deployments named '{}' in one file", specs.back().name));
    }
  } else if (root["run"] && (root["resources"] || root["service"])) {
    specs.push_back(read_skypilot(root, text, file, marker, options, notes));
  } else if (root["deployments"]) {
    const YAML::Node list = root["deployments"];
    if (!list.IsSequence() || list.size() == 0)
      invalid(file, line_of(list), "'deployments' must be a non-empty list");
    for (const auto& item : root)
      if (key_text(item.first, file) != "deployments" && key_text(item.first, file) != "version")
        invalid(file, line_of(item.first),
                fmt::format("top level: {}", unknown_key(key_text(item.first, file), {"deployments", "version"})));
    for (std::size_t i = 0; i < list.size(); ++i) {
      specs.push_back(read_deployment(list[i], file, i));
      if (!names.insert(specs.back().name).second)
        invalid(file, specs.back().line, fmt::format("duplicate deployment name '{}'", specs.back().name));
    }
  } else if (root["model-path"] || root["model_path"]) {
    specs.push_back(read_sglang(root, file, root["gpu"] ? options : with_marker, notes));
    if (!names.insert(specs.back().name).second)
      invalid(file, specs.back().line, fmt::format("two SGLang configs named '{}' in one file", specs.back().name));
  } else if (root["model"]) {
    specs.push_back(read_vllm(root, file, root["gpu"] ? options : with_marker, notes));
    if (!names.insert(specs.back().name).second)
      invalid(file, specs.back().line, fmt::format("two vLLM configs named '{}' in one file", specs.back().name));
  } else {
    invalid(file, line_of(root), "neither a deployment file ('deployments:'), a vLLM config ('model:'), an SGLang config "
                                 "('model-path:'), a Kubernetes manifest nor a SkyPilot task ('run:')");
  }
  }
  if (k8s_manifest && specs.empty())
    invalid(file, 0, "a Kubernetes manifest with no Deployment to check (its container runs vllm serve)");
  std::vector<DeploymentResult> results;
  for (const auto& spec : specs) {
    auto r = evaluate_spec(spec, file, gpus, models, assumptions, options);
    for (const auto& n : notes)
      if (n.deployment == spec.name) r.findings.insert(r.findings.begin(), n);
    for (auto& f : r.findings) {
      f.line = f.line ? f.line : spec.line;
      // The finding on the key that decides it, where the file gives that key.
      if (const auto key = spec.rule_lines.find(f.rule); key != spec.rule_lines.end() && f.line == spec.line) f.line = key->second;
    }
    r.passed = std::none_of(r.findings.begin(), r.findings.end(), [](const CheckFinding& f) { return f.severity == Severity::error; });
    results.push_back(std::move(r));
  }
  return results;
}

namespace {

std::string status(const DeploymentResult& d, bool strict) {
  const bool warn = std::any_of(d.findings.begin(), d.findings.end(), [](const CheckFinding& f) { return f.severity == Severity::warning; });
  if (!d.passed) return "FAIL";
  return warn && strict ? "FAIL" : warn ? "WARN" : "PASS";
}

std::string location(const CheckFinding& f) { return f.line > 0 ? fmt::format("{}:{}", f.file, f.line) : f.file; }

std::string xml(const std::string& text) { return xml_escape(text); }

/// GitHub workflow-command escaping: data escapes %, CR, LF; properties also ':' and ','.
std::string gh_data(const std::string& text) {
  std::string out;
  for (char c : printable(text)) {
    if (c == '%') out += "%25";
    else if (c == '\r') out += "%0D";
    else if (c == '\n') out += "%0A";
    else out += c;
  }
  return out;
}

std::string gh_property(const std::string& text) {
  std::string out;
  for (char c : gh_data(text)) {
    if (c == ':') out += "%3A";
    else if (c == ',') out += "%2C";
    else out += c;
  }
  return out;
}

std::string md(const std::string& text) {
  std::string out;
  for (char c : printable(text)) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string summary_line(const CheckReport& r) {
  const auto passed = std::count_if(r.deployments.begin(), r.deployments.end(), [](const DeploymentResult& d) { return d.passed; });
  return fmt::format("{} deployment{}: {} passed, {} failed; {} error{}, {} warning{}{}", r.deployments.size(),
                     r.deployments.size() == 1 ? "" : "s", passed, r.deployments.size() - passed, r.errors,
                     r.errors == 1 ? "" : "s", r.warnings, r.warnings == 1 ? "" : "s", r.strict ? " (strict)" : "");
}

} // namespace

void write_check_text(std::ostream& out, const CheckReport& report) {
  for (const auto& d : report.deployments) {
    // Names and messages come from the files: printable, so they cannot drive the terminal.
    out << fmt::format("{} {} ({}{}) {}{} {}: {:.1f}/{:.1f} GB per GPU, {:.0f} tok/s, {}/hr\n", status(d, report.strict),
                       printable(d.name), printable(d.file), d.line > 0 ? fmt::format(":{}", d.line) : "",
                       d.count > 1 ? fmt::format("{} x ", d.count) : "", printable(d.gpu), printable(d.model), d.memory_total_bytes / 1e9, d.memory_usable_bytes / 1e9, d.decode_tokens_per_s,
                       format_usd(d.usd_per_hour));
    if (d.has_traffic && d.serving.finished > 0)
      out << fmt::format("  serving {} on {} replica{} ({}/hr): TTFT p95 {}, TPOT p95 {}, e2e p95 {}, {:.0f} output tok/s\n",
                         printable(d.traffic_text), d.replicas, d.replicas > 1 ? "s" : "", format_usd(d.usd_per_hour * d.replicas),
                         format_duration(d.serving.ttft_s.p95), format_duration(d.serving.tpot_s.p95),
                         format_duration(d.serving.e2e_s.p95), d.serving.output_tokens_per_s);
    for (const auto& f : d.findings) {
      out << fmt::format("  {} [{}] {}\n", to_string(f.severity), f.rule, printable(f.message));
      if (!f.hint.empty()) out << "    hint: " << printable(f.hint) << "\n";
    }
  }
  out << summary_line(report) << "\n";
}

void write_check_json(std::ostream& out, const CheckReport& report) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : report.deployments) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : d.findings)
      findings.push_back({{"rule", f.rule}, {"severity", to_string(f.severity)}, {"file", f.file}, {"line", f.line},
                          {"message", f.message}, {"hint", f.hint}});
    list.push_back({{"name", d.name},
                    {"file", d.file},
                    {"line", d.line},
                    {"kind", d.kind},
                    {"status", status(d, report.strict)},
                    {"passed", d.passed},
                    {"gpu", d.gpu},
                    {"count", d.count},
                    {"model", d.model},
                    {"memory_total_bytes", std::llround(d.memory_total_bytes)},
                    {"memory_usable_bytes", std::llround(d.memory_usable_bytes)},
                    {"kv_budget_bytes", std::llround(d.kv_budget_bytes)},
                    {"max_sequences_at_context", d.max_sequences_at_context},
                    {"decode_tokens_per_s", std::round(d.decode_tokens_per_s * 100) / 100},
                    {"usd_per_hour", std::round(d.usd_per_hour * 1e4) / 1e4},
                    {"job_usd", std::round(d.job_usd * 1e4) / 1e4},
                    {"findings", findings}});
    if (d.has_traffic)
      list.back()["serving"] = {{"traffic", d.traffic_text},
                                {"replicas", d.replicas},
                                {"ttft_p95_s", round_significant(d.serving.ttft_s.p95)},
                                {"ttft_p99_s", round_significant(d.serving.ttft_s.p99)},
                                {"tpot_p95_s", round_significant(d.serving.tpot_s.p95)},
                                {"e2e_p95_s", round_significant(d.serving.e2e_s.p95)},
                                {"output_tokens_per_s", round_significant(d.serving.output_tokens_per_s)},
                                {"sustained", d.serving.stable},
                                {"replicas_needed", d.replicas_needed > 0 ? nlohmann::json(d.replicas_needed) : nlohmann::json(nullptr)}};
  }
  nlohmann::json doc = {{"schema_version", 1},   {"passed", report.exit_code() == 0}, {"errors", report.errors},
                        {"warnings", report.warnings}, {"strict", report.strict},      {"deployments", list}};
  // Names come from YAML, which does not insist on UTF-8: replace invalid bytes rather than throw.
  out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void write_check_junit(std::ostream& out, const CheckReport& report) {
  int failures = 0;
  for (const auto& d : report.deployments) failures += status(d, report.strict) == "FAIL";
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << fmt::format("<testsuites name=\"gpuadvise check\" tests=\"{}\" failures=\"{}\">\n", report.deployments.size(), failures);
  out << fmt::format("  <testsuite name=\"gpuadvise check\" tests=\"{}\" failures=\"{}\" errors=\"0\">\n",
                     report.deployments.size(), failures);
  for (const auto& d : report.deployments) {
    out << fmt::format("    <testcase classname=\"{}\" name=\"{}\">\n", xml(d.file), xml(d.name));
    std::string body;
    for (const auto& f : d.findings)
      body += fmt::format("{} [{}] {}: {}{}\n", to_string(f.severity), f.rule, location(f), f.message,
                          f.hint.empty() ? "" : " (hint: " + f.hint + ")");
    if (status(d, report.strict) == "FAIL") {
      const auto first = std::find_if(d.findings.begin(), d.findings.end(), [&](const CheckFinding& f) {
        return f.severity == Severity::error || (report.strict && f.severity == Severity::warning);
      });
      out << fmt::format("      <failure type=\"{}\" message=\"{}\">{}</failure>\n", xml(first->rule), xml(first->message),
                         xml(body));
    } else if (!body.empty()) {
      out << fmt::format("      <system-out>{}</system-out>\n", xml(body));
    }
    out << "    </testcase>\n";
  }
  out << "  </testsuite>\n</testsuites>\n";
}

void write_check_github(std::ostream& out, const CheckReport& report) {
  for (const auto& d : report.deployments)
    for (const auto& f : d.findings) {
      const char* level = f.severity == Severity::error ? "error" : f.severity == Severity::warning ? "warning" : "notice";
      out << fmt::format("::{} file={}{},title={}::{}\n", level, gh_property(f.file),
                         f.line > 0 ? fmt::format(",line={}", f.line) : "", gh_property("gpuadvise " + f.rule + " (" + d.name + ")"),
                         gh_data(f.message + (f.hint.empty() ? "" : " Hint: " + f.hint)));
    }
  out << summary_line(report) << "\n";
}

void write_check_markdown(std::ostream& out, const CheckReport& report) {
  out << "### gpuadvise check\n\n" << summary_line(report) << "\n\n";
  out << "| status | deployment | GPU | model | memory per GPU | tok/s | $/hr |\n|---|---|---|---|---|---|---|\n";
  for (const auto& d : report.deployments)
    out << fmt::format("| {} | {} (`{}`) | {}{} | {} | {:.1f} / {:.1f} GB | {:.0f} | {} |\n", status(d, report.strict),
                       md(d.name), md(d.file), d.count > 1 ? fmt::format("{} x ", d.count) : "", md(d.gpu), md(d.model),
                       d.memory_total_bytes / 1e9, d.memory_usable_bytes / 1e9, d.decode_tokens_per_s, format_usd(d.usd_per_hour));
  bool header = false;
  for (const auto& d : report.deployments)
    for (const auto& f : d.findings) {
      if (!header) {
        out << "\n#### Findings\n\n";
        header = true;
      }
      out << fmt::format("- **{}** `{}` {} ({}): {}{}\n", to_string(f.severity), f.rule, md(d.name), md(location(f)), md(f.message),
                         f.hint.empty() ? "" : " — *hint:* " + md(f.hint));
    }
}

} // namespace gpuadvise
