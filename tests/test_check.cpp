// `gpuadvise check`: deployment files and vLLM configs, rule ids, exit codes and every output format.
#include <gpuadvise/check.hpp>
#include <gpuadvise/engine_memory.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/files.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace gpuadvise;

namespace {

std::string fixture_path(const std::string& name) { return std::string(GPUADVISE_SOURCE_DIR) + "/tests/data/check/" + name; }

CheckReport run(const std::vector<std::string>& files, CheckOptions options = {}) {
  static const auto gpus = GpuCatalog::embedded();
  static const auto models = ModelCatalog::embedded();
  static const auto assumptions = Assumptions::embedded();
  CheckReport report;
  report.strict = options.strict;
  for (const auto& name : files) {
    const std::string path = fixture_path(name);
    for (auto& d : check_text(read_text_file(path, "fixture"), path, gpus, models, assumptions, options))
      report.deployments.push_back(std::move(d));
  }
  for (const auto& d : report.deployments)
    for (const auto& f : d.findings) {
      report.errors += f.severity == Severity::error;
      report.warnings += f.severity == Severity::warning;
    }
  return report;
}

bool has_rule(const DeploymentResult& d, const std::string& rule) {
  for (const auto& f : d.findings)
    if (f.rule == rule) return true;
  return false;
}

/// A small XML well-formedness check: balanced, properly nested tags, quoted attributes, escaped text.
bool well_formed_xml(const std::string& text, std::string& problem) {
  std::vector<std::string> stack;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '<') {
      const auto end = text.find('>', i);
      if (end == std::string::npos) return problem = "unterminated tag", false;
      std::string tag = text.substr(i + 1, end - i - 1);
      i = end + 1;
      if (tag.rfind("?xml", 0) == 0) continue;
      if (!tag.empty() && tag[0] == '/') {
        if (stack.empty() || stack.back() != tag.substr(1)) return problem = "mismatched </" + tag.substr(1) + ">", false;
        stack.pop_back();
        continue;
      }
      const bool self_closing = !tag.empty() && tag.back() == '/';
      const std::string name = tag.substr(0, tag.find_first_of(" /"));
      // Attribute values must be quoted and hold no raw '<' or '"'.
      std::size_t quotes = 0;
      for (char c : tag) quotes += c == '"';
      if (quotes % 2 != 0) return problem = "unbalanced quotes in <" + name + ">", false;
      if (!self_closing) stack.push_back(name);
    } else {
      if (text[i] == '&') {
        const auto semi = text.find(';', i);
        const std::string entity = text.substr(i, semi == std::string::npos ? 1 : semi - i + 1);
        if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" && entity != "&apos;")
          return problem = "bad entity " + entity, false;
      }
      ++i;
    }
  }
  if (!stack.empty()) return problem = "unclosed <" + stack.back() + ">", false;
  return true;
}

} // namespace

TEST_CASE("check: passing deployment files, YAML and JSON", "[check]") {
  for (const char* file : {"serving.yaml", "serving.json"}) {
    INFO(file);
    const auto report = run({file});
    CHECK(report.exit_code() == 0);
    for (const auto& d : report.deployments) CHECK(d.passed);
  }
}

TEST_CASE("check: failing deployment files name the rule, the deployment, the file and line, and a fix", "[check]") {
  const auto report = run({"too-big.yaml", "too-big.json"});
  CHECK(report.exit_code() == 1);
  REQUIRE(report.deployments.size() == 4);
  const auto& big = report.deployments[0];
  CHECK(big.name == "big-chat");
  CHECK(big.line == 3);
  CHECK_FALSE(big.passed);
  REQUIRE(has_rule(big, "memory-does-not-fit"));
  CHECK(big.findings[0].hint.find("4 x l40") != std::string::npos); // 70B fp16 = 138 GB: four 48 GB cards
  CHECK(has_rule(report.deployments[1], "budget-usd-per-hour"));
  CHECK(has_rule(report.deployments[2], "memory-does-not-fit"));
  CHECK(has_rule(report.deployments[3], "precision-not-native"));
  for (const auto& d : report.deployments)
    for (const auto& f : d.findings) {
      CHECK(f.file.find("too-big") != std::string::npos);
      CHECK(f.line > 0);
      CHECK_FALSE(f.message.empty());
    }
}

TEST_CASE("check: a vLLM config for Llama-3-8B at 8192 on one L40 passes; Llama-2-70B fp16 fails with a plan", "[check]") {
  CheckOptions options;
  options.gpu = "l40";
  const auto pass = run({"vllm-llama3-8b.yaml"}, options);
  REQUIRE(pass.deployments.size() == 1);
  CHECK(pass.exit_code() == 0);
  CHECK(pass.deployments[0].model == "llama-3-8b");
  // How many sequences of max-model-len fit: the KV budget over the KV cache of one 8192-token sequence.
  const double kv_per_sequence = 2.0 * 32 * 8 * 128 * 2 * 8192;
  CHECK(pass.deployments[0].max_sequences_at_context == std::floor(pass.deployments[0].kv_budget_bytes / kv_per_sequence));
  CHECK(pass.deployments[0].max_sequences_at_context >= 1);

  const auto fail = run({"vllm-llama2-70b.yaml"}, options);
  CHECK(fail.exit_code() == 1);
  REQUIRE(has_rule(fail.deployments[0], "vllm-model-does-not-fit"));
  CHECK(fail.deployments[0].findings.back().hint.find("tensor-parallel-size: 4") != std::string::npos);
  options.count = 4;
  CHECK(run({"vllm-llama2-70b.yaml"}, options).exit_code() == 0);
}

TEST_CASE("check: invalid files are errors naming file, line and field", "[check]") {
  CHECK_THROWS_WITH(run({"invalid-field.yaml"}), Catch::Contains("invalid-field.yaml:5") && Catch::Contains("contxt") &&
                                                    Catch::Contains("did you mean 'context'"));
  CHECK_THROWS_WITH(run({"malformed.yaml"}), Catch::Contains("malformed.yaml") && Catch::Contains("malformed YAML"));
  CHECK_THROWS_AS(run({"vllm-llama3-8b.yaml"}), InputError); // no GPU given anywhere
}

TEST_CASE("check: warnings pass unless --strict", "[check]") {
  CheckReport report;
  DeploymentResult d;
  d.findings.push_back({"memory-low-headroom", Severity::warning, "x", "f", 1, "m", ""});
  report.deployments.push_back(d);
  report.warnings = 1;
  CHECK(report.exit_code() == 0);
  report.strict = true;
  CHECK(report.exit_code() == 1);
}

TEST_CASE("check: output formats are well formed and deterministic", "[check]") {
  const auto report = run({"serving.yaml", "too-big.yaml", "too-big.json"});
  std::size_t findings = 0;
  for (const auto& d : report.deployments)
    for (const auto& f : d.findings) findings += f.severity != Severity::info;

  std::ostringstream junit, again;
  write_check_junit(junit, report);
  write_check_junit(again, run({"serving.yaml", "too-big.yaml", "too-big.json"}));
  CHECK(junit.str() == again.str());
  std::string problem;
  CHECK(well_formed_xml(junit.str(), problem));
  INFO(problem);
  CHECK(junit.str().find("<testcase classname=") != std::string::npos);
  CHECK(junit.str().find("failures=\"4\"") != std::string::npos);

  std::ostringstream github;
  write_check_github(github, report);
  std::size_t annotations = 0;
  std::istringstream lines(github.str());
  for (std::string line; std::getline(lines, line);) annotations += line.rfind("::", 0) == 0;
  CHECK(annotations == findings); // one annotation per finding (no info findings in these files)
  CHECK(github.str().find("::error file=") != std::string::npos);

  std::ostringstream json;
  write_check_json(json, report);
  const auto doc = nlohmann::json::parse(json.str());
  CHECK(doc.at("schema_version") == 1);
  CHECK(doc.at("passed") == false);
  CHECK(doc.at("deployments").size() == report.deployments.size());

  std::ostringstream markdown, text;
  write_check_markdown(markdown, report);
  write_check_text(text, report);
  CHECK(markdown.str().find("| FAIL | big-chat") != std::string::npos);
  CHECK(text.str().find("FAIL big-chat") != std::string::npos);
}

TEST_CASE("check: prices overridden for a run are used and named", "[check]") {
  auto gpus = GpuCatalog::embedded();
  gpus.override_price("l40", 0.10);
  const Price* p = gpus.find("l40").price();
  REQUIRE(p != nullptr);
  CHECK(p->usd_per_hour == 0.10);
  CHECK(p->tier == "override");
  CHECK_THROWS_AS(gpus.override_price("h900", 1.0), InputError);
}

TEST_CASE("check: the JSON Schema in data/ lists exactly the fields the reader accepts", "[check]") {
  const auto schema = nlohmann::json::parse(read_text_file(std::string(GPUADVISE_SOURCE_DIR) + "/data/deployment.schema.json", "schema"));
  std::set<std::string> fields, budget;
  for (const auto& [key, value] : schema.at("$defs").at("deployment").at("properties").items()) fields.insert(key);
  for (const auto& [key, value] : schema.at("$defs").at("deployment").at("properties").at("budget").at("properties").items())
    budget.insert(key);
  CHECK(fields == deployment_fields());
  CHECK(budget == budget_fields());
}

TEST_CASE("check: a deployment's traffic runs the serving simulator; a missed slo fails on its key", "[check][serving]") {
  const auto gpus = GpuCatalog::embedded();
  const auto models = ModelCatalog::embedded();
  const auto assumptions = Assumptions::embedded();
  SECTION("the declared fleet is simulated exactly as serve would: same replica, same traffic") {
    const CheckReport report = run({"traffic.yaml"});
    REQUIRE(report.deployments.size() == 1);
    const DeploymentResult& d = report.deployments[0];
    CHECK(d.passed);
    REQUIRE(d.has_traffic);
    CHECK(d.replicas == 2);
    WorkloadRequest request;
    request.model = "llama-3.1-8b";
    request.batch = "1";
    const Workload w = build_workload(request, models);
    const ReplicaModel replica = make_replica(w, gpus.find("h100-sxm"), 1, assumptions, EngineSettings{});
    Traffic t;
    t.rate = 20;
    t.input.mean = 1500;
    t.output.mean = 300;
    const ServingResult direct = simulate(replica, 2, t, Targets{});
    CHECK(d.serving.ttft_s.p95 == Approx(direct.ttft_s.p95));
    CHECK(d.serving.output_tokens_per_s == Approx(direct.output_tokens_per_s));
    CHECK(d.serving.ttft_s.p95 <= 0.5);       // the file's slo: ttft_p95 500ms
    CHECK(d.serving.tpot_s.p95 <= 1.0 / 25);  // tokens_per_s_per_user 25
  }
  SECTION("a fleet that misses its targets fails on the slo key's line, and the hinted replica count meets them") {
    const CheckReport report = run({"traffic-slo-missed.yaml"});
    const DeploymentResult& d = report.deployments.at(0);
    CHECK_FALSE(d.passed);
    CHECK(has_rule(d, "slo-ttft-p95"));
    CHECK(has_rule(d, "traffic-not-sustained"));
    for (const auto& f : d.findings)
      if (f.rule == "slo-ttft-p95") CHECK(f.line == 12); // "ttft_p95: 500ms" in the file
    REQUIRE(d.replicas_needed > 1);
    // Independently: that many replicas meet both targets, one fewer misses one of them.
    WorkloadRequest request;
    request.model = "llama-3.1-8b";
    request.precision = "fp8";
    request.batch = "1";
    const Workload w = build_workload(request, models);
    const ReplicaModel replica = make_replica(w, gpus.find("l4"), 1, assumptions, EngineSettings{});
    Traffic t;
    t.rate = 8;
    t.input.mean = 1500;
    t.output.mean = 300;
    const ServingResult enough = simulate(replica, d.replicas_needed, t, Targets{});
    CHECK(enough.ttft_s.p95 <= 0.5);
    CHECK(enough.tpot_s.p95 <= 0.05);
    const ServingResult fewer = simulate(replica, d.replicas_needed - 1, t, Targets{});
    CHECK((fewer.ttft_s.p95 > 0.5 || fewer.tpot_s.p95 > 0.05 || !fewer.stable));
  }
  SECTION("slo without traffic, and unknown keys inside traffic, are errors naming the key and line") {
    const std::string no_traffic = "deployments:\n  - name: a\n    gpu: l4\n    model: llama-3.1-8b\n    slo:\n      ttft_p95: 1s\n";
    CHECK_THROWS_WITH(check_text(no_traffic, "f.yaml", gpus, models, assumptions, {}),
                      Catch::Contains("f.yaml:5") && Catch::Contains("'slo' needs 'traffic'"));
    const std::string typo = "deployments:\n  - name: a\n    gpu: l4\n    model: llama-3.1-8b\n    traffic:\n      rate: 1\n      ouput_tokens: 300\n";
    CHECK_THROWS_WITH(check_text(typo, "f.yaml", gpus, models, assumptions, {}),
                      Catch::Contains("f.yaml:7") && Catch::Contains("did you mean 'output_tokens'"));
    const std::string bad_latency = "deployments:\n  - name: a\n    gpu: l4\n    model: llama-3.1-8b\n    traffic:\n      rate: 1\n    slo:\n      ttft_p95: soon\n";
    CHECK_THROWS_WITH(check_text(bad_latency, "f.yaml", gpus, models, assumptions, {}),
                      Catch::Contains("f.yaml:8") && Catch::Contains("ttft_p95"));
  }
}

TEST_CASE("check: a vLLM config gets the engine's KV cache line; an FP8 checkpoint named by id loads as fp8", "[check][engine_memory]") {
  CheckOptions options;
  options.gpu = "h100-sxm";
  const auto report = run({"vllm-llama31-8b-fp8.yaml"}, options);
  REQUIRE(report.deployments.size() == 1);
  const auto& d = report.deployments[0];
  CHECK(report.exit_code() == 0);
  CHECK(d.model == "llama-3.1-8b");
  CHECK(has_rule(d, "vllm-quantized-checkpoint"));
  REQUIRE(has_rule(d, "vllm-kv-cache"));
  for (const auto& f : d.findings)
    if (f.rule == "vllm-kv-cache") {
      CHECK(f.message.rfind("KV cache: ", 0) == 0);
      CHECK(f.message.find("maximum concurrency") != std::string::npos);
      CHECK(f.message.find("at 8,192 tokens per request") != std::string::npos);
    }
  // FP8 weights leave more for the KV cache than bf16 would: 79.19 GiB x 0.9 less about 8.5 GiB of weights.
  CHECK(d.kv_budget_bytes > 60.0 * 1024 * 1024 * 1024);
}

TEST_CASE("check: vLLM 0.6 refuses max-model-len 29000 on an RTX 3090, in its own words", "[check][engine_memory]") {
  CheckOptions options;
  options.gpu = "rtx-3090";
  const auto report = run({"vllm-3090-too-long.yaml"}, options);
  CHECK(report.exit_code() == 1);
  const auto& d = report.deployments[0];
  REQUIRE(has_rule(d, "vllm-max-model-len-too-long"));
  for (const auto& f : d.findings)
    if (f.rule == "vllm-max-model-len-too-long")
      CHECK(f.message.find("is larger than the maximum number of tokens that can be stored in KV cache") != std::string::npos);
}

TEST_CASE("check: an SGLang config sizes the pool from mem-fraction-static as SGLang does", "[check][engine_memory]") {
  CheckOptions options;
  options.gpu = "h100-sxm";
  const auto report = run({"sglang-llama31-8b.yaml"}, options);
  REQUIRE(report.deployments.size() == 1);
  const auto& d = report.deployments[0];
  CHECK(d.kind == "sglang");
  CHECK(report.exit_code() == 0);
  REQUIRE(has_rule(d, "sglang-kv-cache"));
  // 0.88 x (79.19 GiB logged total - 0.25 GiB non-torch) - the weights as loaded.
  const double gib = 1024.0 * 1024 * 1024;
  const ModelCatalog catalog = ModelCatalog::embedded();
  const auto* shape = catalog.find("llama-3.1-8b");
  REQUIRE(shape);
  EngineLaunch launch;
  launch.engine = Engine::sglang;
  CHECK(d.kv_budget_bytes == Approx(0.88 * (79.19 - 0.25) * gib - engine_weight_bytes(*shape, launch)));
  const auto small = run({"sglang-too-small.yaml"}, options);
  CHECK(small.exit_code() == 1);
  REQUIRE(has_rule(small.deployments[0], "sglang-model-does-not-fit"));
  for (const auto& f : small.deployments[0].findings)
    if (f.rule == "sglang-model-does-not-fit") CHECK(f.message.find("Not enough memory") != std::string::npos);
}
