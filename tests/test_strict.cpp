// Strict inputs (issue 15): one test per input class of docs/hardening.md's "Strict inputs" table.
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/check.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/sweep.hpp>
#include <gpuadvise/units.hpp>
#include <gpuadvise/validation.hpp>
#include <gpuadvise/workload.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

using namespace gpuadvise;

namespace {

const GpuCatalog& gpus() {
  static const GpuCatalog catalog = GpuCatalog::embedded();
  return catalog;
}
const ModelCatalog& models() {
  static const ModelCatalog catalog = ModelCatalog::embedded();
  return catalog;
}
const Assumptions& assumptions() {
  static const Assumptions a = Assumptions::embedded();
  return a;
}

/// The message of the gpuadvise::Error `run` throws ("" when it throws none).
std::string error_of(const std::function<void()>& run) {
  try {
    run();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<DeploymentResult> check(const std::string& text, const std::string& file = "d.yaml", CheckOptions options = {}) {
  return check_text(text, file, gpus(), models(), assumptions(), options);
}

bool has_rule(const DeploymentResult& r, const std::string& rule) {
  return std::any_of(r.findings.begin(), r.findings.end(), [&](const CheckFinding& f) { return f.rule == rule; });
}

} // namespace

TEST_CASE("strict: an unknown key in a --catalog file names file, path and the closest key", "[strict]") {
  GpuCatalog catalog = gpus();
  const auto message = error_of([&] {
    catalog.merge_json(R"({"gpus": [{"id": "l40", "memory_gbb": {"value": 50, "source": "s"}}]})", "my.json");
  });
  CHECK_THAT(message, Catch::Contains("my.json: gpus[0]") && Catch::Contains("unknown key 'memory_gbb'") &&
                          Catch::Contains("did you mean 'memory_gb'?"));
  // Nested objects and sourced values are held to their keys too.
  CHECK_THAT(error_of([&] { catalog.merge_json(R"({"gpus": [{"id": "l40", "pcie": {"lanse": 16}}]})", "my.json"); }),
             Catch::Contains("unknown key 'lanse' (did you mean 'lanes'?)"));
  CHECK_THAT(error_of([&] { catalog.merge_json(R"({"gpus": [{"id": "l40", "tdp_watts": {"value": 1, "sorce": "s"}}]})", "my.json"); }),
             Catch::Contains("unknown key 'sorce' (did you mean 'source'?)"));
  CHECK_THAT(error_of([&] { catalog.merge_json(R"({"gpu": []})", "my.json"); }),
             Catch::Contains("unknown key 'gpu' (did you mean 'gpus'?)"));
}

TEST_CASE("strict: unknown keys in model catalogs, calibration and validation files", "[strict]") {
  ModelCatalog catalog = models();
  CHECK_THAT(error_of([&] { catalog.merge_json(R"({"models": [{"id": "m", "num_layer": 2}]})", "m.json"); }),
             Catch::Contains("m.json: models[0] (id 'm')") && Catch::Contains("unknown key 'num_layer' (did you mean 'num_layers'?)"));
  Assumptions a = assumptions();
  CHECK_THAT(error_of([&] { a.merge_json(R"({"efficency": {}})", "cal.json"); }),
             Catch::Contains("cal.json") && Catch::Contains("did you mean 'efficiency'?"));
  CHECK_THAT(error_of([&] {
               a.merge_json(R"({"efficiency": {"bandwidth": {"low": 0.5, "expected": 0.6, "high": 0.7, "source": "s", "hgh": 1}}})",
                            "cal.json");
             }),
             Catch::Contains("efficiency 'bandwidth'") && Catch::Contains("did you mean 'high'?"));
  CHECK_THAT(error_of([&] {
               run_validation(R"({"rows": [{"id": "r", "source": "s", "metric": "decode_tokens_per_s", "value": 1, "gpuu": "l40"}]})",
                              "v.json", gpus(), models(), assumptions());
             }),
             Catch::Contains("v.json: rows[0] (id 'r')") && Catch::Contains("did you mean 'gpu'?"));
  // A key far from every known one has no suggestion.
  CHECK_THAT(error_of([&] { a.merge_json(R"({"efficiency": {}, "zzzzzzzz": 1})", "cal.json"); }),
             Catch::Contains("unknown key 'zzzzzzzz'") && !Catch::Contains("did you mean"));
}

TEST_CASE("strict: a key given twice is an error in JSON and in YAML", "[strict]") {
  GpuCatalog catalog = gpus();
  CHECK_THAT(error_of([&] { catalog.merge_json(R"({"gpus": [{"id": "l40", "id": "l4"}]})", "dup.json"); }),
             Catch::Contains("dup.json: duplicate key 'id' in gpus[0]"));
  CHECK_THAT(error_of([&] { GpuCatalog::from_json(R"({"gpus": [], "gpus": []})", "dup.json"); }),
             Catch::Contains("duplicate key 'gpus' at the top level"));
  CHECK_THAT(error_of([&] { check("deployments:\n  - name: a\n    gpu: l40\n    gpu: l4\n    model: llama-3-8b\n"); }),
             Catch::Contains("d.yaml:4: duplicate key 'gpu'"));
  // vLLM spells an argument with '-' or '_': both spellings at once are the same key twice.
  CHECK_THAT(error_of([&] { check("model: llama-3-8b\nmax-model-len: 4096\nmax_model_len: 8192\n", "v.yaml", {"l40"}); }),
             Catch::Contains("v.yaml:3") && Catch::Contains("same engine argument"));
}

TEST_CASE("strict: every document of a multi-document YAML file is checked", "[strict]") {
  const std::string one = "deployments:\n  - name: a\n    gpu: l40\n    model: llama-3-8b\n";
  const std::string two = "deployments:\n  - name: b\n    gpu: l40\n    model: llama-3-8b\n";
  CHECK(check(one + "---\n" + two).size() == 2);
  const std::string bad = "deployments:\n  - name: c\n    gpu: l40\n    model: llama-3-8b\n    contxt: 4096\n";
  CHECK_THAT(error_of([&] { check(one + "---\n" + bad); }),
             Catch::Contains("d.yaml:10") && Catch::Contains("unknown key 'contxt' (did you mean 'context'?)"));
  CHECK_THAT(error_of([&] { check(one + "---\n" + one); }), Catch::Contains("duplicate deployment name 'a'"));
}

TEST_CASE("strict: a duplicated GPU id, or an alias that is another GPU's id, is an error", "[strict]") {
  GpuCatalog catalog = gpus();
  CHECK_THAT(error_of([&] {
               catalog.merge_json(R"({"gpus": [{"id": "l40", "tdp_watts": 300}, {"id": "L40", "tdp_watts": 301}]})", "ids.json");
             }),
             Catch::Contains("ids.json: gpus[1]") && Catch::Contains("duplicate GPU id 'L40' (also gpus[0] of this file)"));
  CHECK_THAT(error_of([&] { catalog.merge_json(R"({"gpus": [{"id": "l40", "aliases": ["a100-80gb-sxm"]}]})", "alias.json"); }),
             Catch::Contains("alias.json") && Catch::Contains("alias 'a100-80gb-sxm' is the id of another GPU"));
  // The built-in catalog itself has no such collision.
  CHECK_NOTHROW(GpuCatalog(gpus()).merge_json(R"({"gpus": []})", "empty.json"));
}

TEST_CASE("strict: a misspelt vLLM key is an error; an argument gpuadvise does not model stays a note", "[strict]") {
  CHECK_THAT(error_of([&] { check("model: llama-3-8b\nmax-model-lenn: 4096\n", "v.yaml", {"l40"}); }),
             Catch::Contains("v.yaml:2") && Catch::Contains("unknown key 'max-model-lenn' (did you mean 'max-model-len'?)"));
  CHECK_THAT(error_of([&] { check("model: llama-3-8b\ngpu_memory_utilisation: 0.8\n", "v.yaml", {"l40"}); }),
             Catch::Contains("did you mean 'gpu_memory_utilization'?"));
  const auto results = check("model: llama-3-8b\nmax-model-len: 4096\nenable-lora: true\n", "v.yaml", {"l40"});
  REQUIRE(results.size() == 1);
  CHECK(has_rule(results[0], "vllm-keys-ignored"));
}

TEST_CASE("strict: max-model-len above the model's maximum is an error finding at its line", "[strict]") {
  // llama-3-8b: max_position_embeddings 8192 (data/models.json); vLLM refuses a longer max-model-len.
  const auto results = check("model: llama-3-8b\nmax-model-len: 16384\n", "v.yaml", {"h100-sxm"});
  REQUIRE(results.size() == 1);
  const auto& findings = results[0].findings;
  const auto it = std::find_if(findings.begin(), findings.end(),
                               [](const CheckFinding& f) { return f.rule == "vllm-max-model-len-above-model"; });
  REQUIRE(it != findings.end());
  CHECK(it->severity == Severity::error);
  CHECK(it->line == 2);
  CHECK(it->hint == "set max-model-len: 8192 or less");
  CHECK_FALSE(results[0].passed);
  // At the maximum it passes that rule.
  CHECK_FALSE(has_rule(check("model: llama-3-8b\nmax-model-len: 8192\n", "v.yaml", {"h100-sxm"})[0],
                       "vllm-max-model-len-above-model"));
}

TEST_CASE("strict: a sweep past a preset's maximum context is an error; bare sizes have none", "[strict]") {
  SweepGrid grid;
  grid.contexts = parse_token_range("2k..32k");
  WorkloadRequest request;
  request.model = "llama-3-8b";
  request.batch = "1";
  const Workload preset = build_workload(request, models());
  const std::vector<const Gpu*> l40 = {&gpus().find("l40")};
  CHECK_THAT(error_of([&] { run_sweep(preset, gpus(), l40, 1, assumptions(), grid, ""); }),
             Catch::Contains("32768") && Catch::Contains("maximum context is 8192"));
  request.model = "8B";
  const Workload bare = build_workload(request, models());
  CHECK_NOTHROW(run_sweep(bare, gpus(), l40, 1, assumptions(), grid, ""));
}

TEST_CASE("strict: a deployment file's errors name its key and line, not the option", "[strict]") {
  const auto message = error_of([&] {
    check("deployments:\n  - name: a\n    gpu: l40\n    model: llama-3-8b\n    context: 4q\n", "x.yaml");
  });
  CHECK_THAT(message, Catch::Contains("x.yaml:5: deployment 'a': invalid context '4q'") && !Catch::Contains("--context"));
  const auto vllm = error_of([&] { check("model: llama-3-8b\nmax-model-len: 4q\n", "v.yaml", {"l40"}); });
  CHECK_THAT(vllm, Catch::Contains("v.yaml:2") && Catch::Contains("max-model-len '4q'") && !Catch::Contains("--context"));
  const auto gpu = error_of([&] { check("deployments:\n  - name: a\n    model: llama-3-8b\n    gpu: h900\n", "x.yaml"); });
  CHECK_THAT(gpu, Catch::Contains("x.yaml:4") && Catch::Contains("gpu: unknown GPU 'h900'") && !Catch::Contains("--gpu"));
}

TEST_CASE("strict: an unknown provider is the same error wherever it is given", "[strict]") {
  CHECK_THAT(error_of([&] { gpus().require_provider("nocloud"); }),
             Catch::Contains("unknown --provider 'nocloud'"));
  CHECK_NOTHROW(gpus().require_provider(""));
  CHECK_NOTHROW(gpus().require_provider("lambda"));
  CheckOptions options;
  options.provider = "nocloud";
  CHECK_THAT(error_of([&] { check("deployments:\n  - name: a\n    gpu: l40\n    model: llama-3-8b\n", "x.yaml", options); }),
             Catch::Contains("unknown --provider 'nocloud'"));
  CHECK_THAT(error_of([&] { check("deployments:\n  - name: a\n    gpu: l40\n    model: llama-3-8b\n    provider: nocloud\n", "x.yaml"); }),
             Catch::Contains("x.yaml:5") && Catch::Contains("unknown provider 'nocloud'"));
}

TEST_CASE("strict: names from files are escaped before they reach a terminal", "[strict]") {
  CHECK(printable("plain-name") == "plain-name");
  CHECK(printable("a\x1b[2Jb") == "a\\x1b[2Jb");
  CHECK(printable("line\nbreak\r") == "line\\x0abreak\\x0d");
  CHECK(printable("\x7f") == "\\x7f");
  CHECK(printable("csi\xc2\x9b") == "csi\\u009b");     // C1 control, UTF-8 encoded
  CHECK(printable("bad\xff") == "bad\\xff");           // not UTF-8
  CHECK(printable("caf\xc3\xa9") == "caf\xc3\xa9");    // UTF-8 text is kept
  // A deployment name with an escape sequence: text and markdown show it escaped.
  CheckReport report;
  report.deployments = check("deployments:\n  - name: \"evil\\e[31m\"\n    gpu: l40\n    model: llama-3-8b\n");
  for (auto* write : {write_check_text, write_check_markdown}) {
    std::ostringstream out;
    write(out, report);
    CHECK(out.str().find('\x1b') == std::string::npos);
    CHECK_THAT(out.str(), Catch::Contains("evil\\x1b[31m"));
  }
  // A catalog name with a control character is refused, shown escaped.
  GpuCatalog catalog = gpus();
  CHECK_THAT(error_of([&] { catalog.merge_json("{\"gpus\": [{\"id\": \"l40\", \"name\": \"L40\\u001b]0;x\"}]}", "esc.json"); }),
             Catch::Contains("field 'name'") && Catch::Contains("L40\\x1b]0;x") && Catch::Contains("control characters"));
}

TEST_CASE("strict: a NUL byte in a deployment file is an error, not a hang in the YAML reader", "[strict][hardening]") {
  // Found by fuzz_check: yaml-cpp's LoadAll looped on this input (a NUL where YAML expects text).
  static const char input[] = "\0,\0\0\0\0\0\0\0\0{\n  \"deployments\": 7\0\0\b\0\0\0\0[     \"name\": \"mix  \"@+#g p";
  const std::string text(input, sizeof input - 1);
  const auto gpus = GpuCatalog::embedded();
  const auto models = ModelCatalog::embedded();
  const auto assumptions = Assumptions::embedded();
  CHECK_THROWS_WITH(check_text(text, "nul.yaml", gpus, models, assumptions, {}), Catch::Contains("NUL byte"));
}
