// --emit: deployment files from a plan, their values, their structure, and `check` reading each back.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/check.hpp>
#include <gpuadvise/emit.hpp>
#include <gpuadvise/engine_memory.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/instances.hpp>

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

using namespace gpuadvise;

namespace {

const GpuCatalog& gpus() {
  static const auto c = GpuCatalog::embedded();
  return c;
}
const ModelCatalog& models() {
  static const auto c = ModelCatalog::embedded();
  return c;
}
const Assumptions& assumptions() {
  static const auto a = Assumptions::embedded();
  return a;
}

struct Plan {
  Workload workload;
  Candidate pick;
};

/// The advisor's plan for `model` on `count` x `gpu` (as `--gpu G --count N` would fix it).
Plan plan(const std::string& model, const std::string& gpu, int count, const std::string& context = "8192",
          const std::string& precision = "bf16", const std::string& kv = "") {
  WorkloadRequest r;
  r.model = model;
  r.context = context;
  r.input_tokens = "1000";
  r.output_tokens = "200";
  r.precision = precision;
  if (!kv.empty()) r.kv_precision = kv;
  const Workload w = build_workload(r, models());
  AdviseOptions o;
  o.gpus = {gpu};
  o.count = count;
  o.count_given = true;
  const Advice a = advise(w, gpus(), assumptions(), o);
  REQUIRE(a.recommendation.pick);
  return {a.workload, a.candidates[*a.recommendation.pick]};
}

const EmittedFile& file_named(const std::vector<EmittedFile>& files, const std::string& name) {
  for (const auto& f : files)
    if (f.name == name) return f;
  FAIL("no emitted file " << name);
  throw std::logic_error("unreachable");
}

/// Writes the files into a fresh folder (check reads a TensorRT-LLM options file next to its script).
std::filesystem::path write_all(const std::vector<EmittedFile>& files, const std::string& folder) {
  const auto dir = std::filesystem::temp_directory_path() / ("gpuadvise-emit-test-" + folder);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const auto& f : files) std::ofstream(dir / f.name) << f.content;
  return dir;
}

std::vector<DeploymentResult> check(const std::string& text, const std::string& path) {
  return check_text(text, path, gpus(), models(), assumptions(), {});
}

int errors(const std::vector<DeploymentResult>& results) {
  int n = 0;
  for (const auto& r : results)
    for (const auto& f : r.findings) n += f.severity == Severity::error;
  return n;
}

/// The 1-based line of the first line containing `needle`.
int line_with(const std::string& text, const std::string& needle) {
  int line = 1;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto end = std::min(text.find('\n', pos), text.size());
    if (text.substr(pos, end - pos).find(needle) != std::string::npos) return line;
    pos = end + 1;
    ++line;
  }
  FAIL("no line with " << needle);
  return 0;
}

/// The text with the first `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

/// The emitted file with one value changed fails `check` with `rule` on the changed line.
void fails_on_line(const std::string& text, const std::string& path, const std::string& from, const std::string& to,
                   const std::string& rule, const std::string& key_line = "") {
  const std::string edited = replaced(text, from, to);
  const int line = line_with(edited, key_line.empty() ? to : key_line);
  const auto results = check(edited, path);
  bool found = false;
  for (const auto& r : results)
    for (const auto& f : r.findings)
      if (f.rule == rule && f.severity == Severity::error) {
        found = true;
        CHECK(f.line == line);
      }
  INFO(edited);
  CHECK(found);
}

/// The edited file is refused as input (exit 2) with the key and line in the message.
void refused_on_line(const std::string& text, const std::string& path, const std::string& from, const std::string& to,
                     const std::string& key) {
  const std::string edited = replaced(text, from, to);
  const int line = line_with(edited, to);
  try {
    check(edited, path);
    FAIL("accepted: " << to);
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find(path + ":" + std::to_string(line) + ":") != std::string::npos);
    CHECK(what.find(key) != std::string::npos);
  }
}

YAML::Node only_doc(const std::string& text) { return YAML::Load(text); }

} // namespace

TEST_CASE("emit: the vLLM values come from the plan and the engine's KV budget") {
  const Plan p = plan("llama-3.1-70b", "l40s", 4);
  const ServeSettings s = serve_settings(p.workload, p.pick);
  CHECK(s.model_id == "meta-llama/Llama-3.1-70B");
  CHECK(s.tp == 4);                // the fixed count, one node
  CHECK(64 % s.tp == 0);           // divides the 64 attention heads
  CHECK(s.max_model_len == 8192);
  CHECK(s.memory_fraction == Approx(0.90));
  CHECK(s.dtype == "bfloat16");
  CHECK_FALSE(s.kv_fp8);
  // max-num-seqs = floor(KV tokens / (1000 + 200) tokens per request), capped at vLLM's default: the KV
  // tokens from the engine accounting at the default limits (L40S: 44.4 GiB, under 70 GiB -> 2048 / 256).
  EngineLaunch launch = engine_launch_for(p.workload, 4);
  const EngineMemory m = engine_memory(p.workload.shape, *p.pick.gpu, launch);
  REQUIRE(m.failure == EngineFailure::none);
  CHECK(m.profiled_tokens == 2048);
  CHECK(s.max_num_batched_tokens == 2048);
  const std::int64_t expected = std::min<std::int64_t>(256, std::max<std::int64_t>(1, m.kv_tokens / 1200));
  CHECK(s.max_num_seqs == expected);
}

TEST_CASE("emit: fp8 weights and KV cache become vLLM's quantization and kv-cache-dtype") {
  const Plan p = plan("llama-3.1-8b", "l40s", 1, "8192", "fp8", "fp8");
  const auto files = emit_files(EmitTarget::vllm, p.workload, p.pick);
  const YAML::Node y = only_doc(file_named(files, "vllm-config.yaml").content);
  CHECK(y["quantization"].as<std::string>() == "fp8");
  CHECK(y["kv-cache-dtype"].as<std::string>() == "fp8");
  CHECK(y["tensor-parallel-size"].as<int>() == 1);
  CHECK(y["max-model-len"].as<int>() == 8192);
  CHECK(errors(check(file_named(files, "vllm-config.yaml").content, "vllm-config.yaml")) == 0);
}

TEST_CASE("emit: what cannot be deployed is an error, not a file") {
  WorkloadRequest r;
  r.model = "13B"; // a bare size names no checkpoint
  const Workload w = build_workload(r, models());
  AdviseOptions o;
  o.gpus = {"h100-sxm"};
  const Advice a = advise(w, gpus(), assumptions(), o);
  REQUIRE(a.recommendation.pick);
  CHECK_THROWS_AS(emit_files(EmitTarget::vllm, a.workload, a.candidates[*a.recommendation.pick]), InputError);
  CHECK_THROWS_AS(parse_emit_target("docker"), InputError);
  const Plan int4 = plan("llama-3.1-8b", "l40s", 1, "8192", "int4");
  CHECK_THROWS_AS(emit_files(EmitTarget::vllm, int4.workload, int4.pick), InputError); // needs an AWQ/GPTQ checkpoint
}

TEST_CASE("emit round trip: vLLM command and config pass check; an impossible value fails on its key") {
  const Plan p = plan("llama-3.1-8b", "l4", 1);
  const auto files = emit_files(EmitTarget::vllm, p.workload, p.pick);
  const std::string sh = file_named(files, "vllm-serve.sh").content;
  const std::string yaml = file_named(files, "vllm-config.yaml").content;
  CHECK(sh.find("exec vllm serve meta-llama/Llama-3.1-8B") != std::string::npos);
  for (const auto& [text, path] : {std::pair{sh, std::string("vllm-serve.sh")}, std::pair{yaml, std::string("vllm-config.yaml")}}) {
    const auto results = check(text, path);
    REQUIRE(results.size() == 1);
    CHECK(results[0].gpu == "l4");
    CHECK(errors(results) == 0);
  }
  YAML::Node y = only_doc(yaml);
  CHECK(y["model"].as<std::string>() == "meta-llama/Llama-3.1-8B");
  // tensor-parallel-size 3 does not divide 32 heads; max-model-len 120000 leaves no KV room on an L4.
  fails_on_line(yaml, "vllm-config.yaml", "tensor-parallel-size: 1", "tensor-parallel-size: 3", "tensor-parallel-invalid");
  fails_on_line(yaml, "vllm-config.yaml", "max-model-len: 8192", "max-model-len: 120000", "vllm-max-model-len-too-long");
  fails_on_line(sh, "vllm-serve.sh", "--max-model-len 8192", "--max-model-len 120000", "vllm-max-model-len-too-long");
  fails_on_line(sh, "vllm-serve.sh", "--tensor-parallel-size 1", "--tensor-parallel-size 3", "tensor-parallel-invalid");
  refused_on_line(yaml, "vllm-config.yaml", "gpu-memory-utilization: 0.90", "gpu-memory-utilization: 1.5",
                  "gpu-memory-utilization");
  refused_on_line(sh, "vllm-serve.sh", "--gpu-memory-utilization 0.90", "--gpu-memory-utilization 1.5",
                  "gpu-memory-utilization");
}

TEST_CASE("emit round trip: SGLang") {
  const Plan p = plan("llama-3.1-70b", "h100-sxm", 4);
  const auto files = emit_files(EmitTarget::sglang, p.workload, p.pick);
  const std::string sh = file_named(files, "sglang-serve.sh").content;
  const std::string yaml = file_named(files, "sglang-config.yaml").content;
  CHECK(sh.find("python3 -m sglang.launch_server") != std::string::npos);
  CHECK(only_doc(yaml)["tp-size"].as<int>() == 4);
  CHECK(errors(check(sh, "sglang-serve.sh")) == 0);
  CHECK(errors(check(yaml, "sglang-config.yaml")) == 0);
  fails_on_line(yaml, "sglang-config.yaml", "tp-size: 4", "tp-size: 3", "tensor-parallel-invalid");
  refused_on_line(sh, "sglang-serve.sh", "--mem-fraction-static 0.90", "--mem-fraction-static 1.5", "mem-fraction-static");
}

TEST_CASE("emit round trip: TensorRT-LLM script and its LLM API options") {
  const Plan p = plan("llama-3.1-70b", "h100-sxm", 4);
  const auto files = emit_files(EmitTarget::trtllm, p.workload, p.pick);
  const auto dir = write_all(files, "trtllm");
  const std::string sh = file_named(files, "trtllm-serve.sh").content;
  const std::string script = (dir / "trtllm-serve.sh").string();
  const YAML::Node options = only_doc(file_named(files, "trtllm-extra-llm-api-options.yaml").content);
  CHECK(options["kv_cache_config"]["free_gpu_memory_fraction"].as<double>() == Approx(0.9));
  CHECK(options["enable_chunked_prefill"].as<bool>());
  const auto results = check(sh, script);
  REQUIRE(results.size() == 1);
  CHECK(results[0].count == 4);
  CHECK(errors(results) == 0);
  fails_on_line(sh, script, "--tp_size 4", "--tp_size 3", "tensor-parallel-invalid");
  refused_on_line(sh, script, "--kv_cache_free_gpu_memory_fraction 0.90", "--kv_cache_free_gpu_memory_fraction 1.5",
                  "kv_cache_free_gpu_memory_fraction");
  // The options file is read too: an impossible fraction there names that file and line.
  std::ofstream(dir / "trtllm-extra-llm-api-options.yaml") << "kv_cache_config:\n  free_gpu_memory_fraction: 1.5\n";
  try {
    check(sh, script);
    FAIL("accepted an options file with free_gpu_memory_fraction 1.5");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("trtllm-extra-llm-api-options.yaml:2:") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("emit round trip: SkyPilot service YAML uses only documented keys") {
  const Plan p = plan("llama-3.1-70b", "l40s", 4);
  const auto files = emit_files(EmitTarget::skypilot, p.workload, p.pick);
  const std::string yaml = file_named(files, "sky-serve.yaml").content;
  const YAML::Node y = only_doc(yaml);
  CHECK(y["resources"]["accelerators"].as<std::string>() == "L40S:4");
  CHECK(y["service"]["readiness_probe"]["path"].as<std::string>() == "/health");
  CHECK(y["service"]["replicas"].as<int>() == 1);
  // Keys as the SkyPilot docs list them: https://docs.skypilot.co/en/latest/reference/yaml-spec.html (task and
  // resources fields) and https://docs.skypilot.co/en/latest/serving/service-yaml-spec.html (service fields).
  const std::set<std::string> top = {"name", "workdir", "num_nodes", "resources", "envs", "secrets", "volumes",
                                     "file_mounts", "setup", "run", "service", "config"};
  const std::set<std::string> resources = {"infra", "cloud", "region", "zone", "accelerators", "accelerator_args", "cpus",
                                           "memory", "instance_type", "use_spot", "disk_size", "disk_tier", "network_tier",
                                           "ports", "image_id", "labels", "autostop", "any_of", "ordered", "job_recovery",
                                           "max_hourly_cost"};
  const std::set<std::string> service = {"readiness_probe", "replicas", "replica_policy", "load_balancing_policy", "ports"};
  const std::set<std::string> probe = {"path", "post_data", "initial_delay_seconds", "timeout_seconds", "headers"};
  auto subset = [](const YAML::Node& map, const std::set<std::string>& known) {
    REQUIRE(map.IsMap());
    for (const auto& item : map) {
      INFO(item.first.as<std::string>());
      CHECK(known.count(item.first.as<std::string>()) == 1);
    }
  };
  subset(y, top);
  subset(y["resources"], resources);
  subset(y["service"], service);
  subset(y["service"]["readiness_probe"], probe);
  const auto results = check(yaml, "sky-serve.yaml");
  REQUIRE(results.size() == 1);
  CHECK(results[0].gpu == "l40s");
  CHECK(results[0].count == 4);
  CHECK(errors(results) == 0);
  fails_on_line(yaml, "sky-serve.yaml", "replicas: 1", "replicas: 0", "skypilot-replicas");
  fails_on_line(yaml, "sky-serve.yaml", "accelerators: L40S:4", "accelerators: L40S:2", "skypilot-accelerators");
  fails_on_line(yaml, "sky-serve.yaml", "--tensor-parallel-size 4", "--tensor-parallel-size 3", "tensor-parallel-invalid");
}

TEST_CASE("emit round trip: Kubernetes Deployment and Service have what kubectl apply needs") {
  const Plan p = plan("llama-3.1-70b", "l40s", 4);
  const auto files = emit_files(EmitTarget::k8s, p.workload, p.pick);
  const std::string yaml = file_named(files, "k8s-vllm.yaml").content;
  // Two documents: a Deployment and a Service, each with apiVersion, kind and metadata.name.
  const auto split = yaml.find("\n---\n");
  REQUIRE(split != std::string::npos);
  const YAML::Node deployment = YAML::Load(yaml.substr(0, split));
  const YAML::Node service = YAML::Load(yaml.substr(split + 5));
  CHECK(deployment["apiVersion"].as<std::string>() == "apps/v1");
  CHECK(deployment["kind"].as<std::string>() == "Deployment");
  CHECK(service["apiVersion"].as<std::string>() == "v1");
  CHECK(service["kind"].as<std::string>() == "Service");
  const std::string name = deployment["metadata"]["name"].as<std::string>();
  CHECK(!name.empty());
  CHECK(name.size() <= 63);
  for (char c : name) CHECK((std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'));
  CHECK(!service["metadata"]["name"].as<std::string>().empty());
  // apps/v1 needs spec.selector, and it must match the pod template's labels.
  const YAML::Node spec = deployment["spec"];
  CHECK(spec["replicas"].as<int>() >= 1);
  const YAML::Node labels = spec["template"]["metadata"]["labels"];
  REQUIRE(spec["selector"]["matchLabels"].IsMap());
  for (const auto& l : spec["selector"]["matchLabels"])
    CHECK(labels[l.first.as<std::string>()].as<std::string>() == l.second.as<std::string>());
  for (const auto& l : service["spec"]["selector"])
    CHECK(labels[l.first.as<std::string>()].as<std::string>() == l.second.as<std::string>());
  const YAML::Node pod = spec["template"]["spec"];
  CHECK(pod["nodeSelector"]["nvidia.com/gpu.product"].as<std::string>() == "NVIDIA-L40S");
  REQUIRE(pod["containers"].IsSequence());
  REQUIRE(pod["containers"].size() == 1);
  const YAML::Node c = pod["containers"][0];
  CHECK(!c["name"].as<std::string>().empty());
  CHECK(!c["image"].as<std::string>().empty());
  CHECK(c["resources"]["limits"]["nvidia.com/gpu"].as<int>() == 4);
  for (const char* probe : {"readinessProbe", "livenessProbe"}) {
    CHECK(c[probe]["httpGet"]["path"].as<std::string>() == "/health");
    CHECK(c[probe]["httpGet"]["port"].as<int>() == c["ports"][0]["containerPort"].as<int>());
  }
  CHECK(c["volumeMounts"][0]["mountPath"].as<std::string>() == "/dev/shm");
  CHECK(pod["volumes"][0]["name"].as<std::string>() == c["volumeMounts"][0]["name"].as<std::string>());
  CHECK(pod["volumes"][0]["emptyDir"]["medium"].as<std::string>() == "Memory");
  CHECK(service["spec"]["ports"][0]["targetPort"].as<int>() == c["ports"][0]["containerPort"].as<int>());
  // Every arg is a string (Kubernetes refuses numbers in args).
  for (const auto& a : c["args"]) CHECK(a.Tag() != "tag:yaml.org,2002:int");

  const auto results = check(yaml, "k8s-vllm.yaml");
  REQUIRE(results.size() == 1);
  CHECK(results[0].name == name);
  CHECK(results[0].gpu == "l40s");
  CHECK(results[0].count == 4);
  CHECK(errors(results) == 0);
  fails_on_line(yaml, "k8s-vllm.yaml", "replicas: 1", "replicas: 0", "k8s-replicas");
  fails_on_line(yaml, "k8s-vllm.yaml", "nvidia.com/gpu: 4", "nvidia.com/gpu: 2", "k8s-gpu-limit");
  // A list of args: the finding is on the flag's line (the key), the value follows it.
  fails_on_line(yaml, "k8s-vllm.yaml", "- \"4\"", "- \"3\"", "tensor-parallel-invalid", "- --tensor-parallel-size");
}

TEST_CASE("check: a hand-written Kubernetes Deployment running the OpenAI server module") {
  const std::string yaml = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: chat
spec:
  replicas: 2
  selector:
    matchLabels: {app: chat}
  template:
    metadata:
      labels: {app: chat}
    spec:
      nodeSelector:
        nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3
      containers:
        - name: server
          image: vllm/vllm-openai:v0.8.5
          args: ["--model", "meta-llama/Llama-3.1-8B", "--max-model-len=8192", "--gpu-memory-utilization", "0.9"]
          resources:
            limits:
              nvidia.com/gpu: 1
)";
  const auto results = check(yaml, "chat.yaml");
  REQUIRE(results.size() == 1);
  CHECK(results[0].gpu == "h100-sxm");
  CHECK(results[0].count == 1);
  CHECK(errors(results) == 0);
  // No Deployment at all: an error naming what is missing, not "neither a deployment file nor a vLLM config".
  try {
    check("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n", "svc.yaml");
    FAIL("a Service alone was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("no Deployment") != std::string::npos);
  }
}

TEST_CASE("emit: the Kubernetes label and SkyPilot name tables read back to the same GPU") {
  CHECK(gpu_from_product_label("NVIDIA-L40S") == std::optional<std::string>("l40s"));
  CHECK(gpu_from_product_label("AMD_Instinct_MI300X_OAM") == std::optional<std::string>("mi300x"));
  CHECK(gpu_from_skypilot_name("A100-80GB") == std::optional<std::string>("a100-80gb-sxm"));
  CHECK(gpu_from_skypilot_name("l40s") == std::optional<std::string>("l40s"));
  CHECK_FALSE(gpu_from_skypilot_name("TPU-v5"));
}

TEST_CASE("emit: an AMD plan asks Kubernetes for amd.com/gpu on nodes AMD's labeller marks") {
  const Plan p = plan("llama-3.1-8b", "mi300x", 1);
  const auto files = emit_files(EmitTarget::k8s, p.workload, p.pick);
  const std::string yaml = file_named(files, "k8s-vllm.yaml").content;
  const YAML::Node d = YAML::Load(yaml.substr(0, yaml.find("\n---\n")));
  const YAML::Node pod = d["spec"]["template"]["spec"];
  CHECK(pod["nodeSelector"]["amd.com/gpu.product-name"].as<std::string>() == "AMD_Instinct_MI300X_OAM");
  CHECK(pod["containers"][0]["resources"]["limits"]["amd.com/gpu"].as<int>() == 1);
  const auto results = check(yaml, "k8s-amd.yaml");
  REQUIRE(results.size() == 1);
  CHECK(results[0].gpu == "mi300x");
  CHECK(errors(results) == 0);
  CHECK_THROWS_AS(emit_files(EmitTarget::trtllm, p.workload, p.pick), InputError); // NVIDIA only
}

TEST_CASE("check: a hand-written launch script, quoted and with --flag=value, points findings at its lines") {
  const std::string script = "#!/bin/bash\n"
                             "set -e  # stop on errors\n"
                             "export HF_HOME=/models\n"
                             "vllm serve 'meta-llama/Llama-3.1-8B' --max-model-len=8192 \\\n"
                             "    --tensor-parallel-size \"3\" \\\n"
                             "    --no-enable-prefix-caching --port 8000\n";
  CheckOptions options;
  options.gpu = "l40s";
  const auto results = check_text(script, "serve.sh", gpus(), models(), assumptions(), options);
  REQUIRE(results.size() == 1);
  CHECK(results[0].count == 3);
  bool found = false;
  for (const auto& f : results[0].findings)
    if (f.rule == "tensor-parallel-invalid") {
      found = true;
      CHECK(f.line == 5);
    }
  CHECK(found);
  // A typo of an engine argument is refused on its line, as in a YAML config.
  try {
    check_text("vllm serve meta-llama/Llama-3.1-8B \\\n  --max-modle-len 8192\n", "typo.sh", gpus(), models(), assumptions(),
               options);
    FAIL("a typo was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("typo.sh:2:") != std::string::npos);
  }
}
