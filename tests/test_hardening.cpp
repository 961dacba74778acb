// Hardening: every input the fuzzers (tests/fuzz) broke, as a regression test, the numeric limits of
// absurd workloads, and a property test over random valid workloads (docs/hardening.md).
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/check.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/estimate.hpp>
#include <gpuadvise/hf_config.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/report.hpp>
#include <gpuadvise/units.hpp>
#include <gpuadvise/validation.hpp>
#include <gpuadvise/workload.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

using namespace gpuadvise;
using nlohmann::json;

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

/// Runs `call` and requires exactly the exception type E whose message contains every needle.
template <typename E>
void require_error(const std::function<void()>& call, const std::vector<std::string>& needles) {
  try {
    call();
    FAIL("expected an exception");
  } catch (const E& e) {
    const std::string message = e.what();
    INFO("message: " << message);
    for (const auto& needle : needles) CHECK(message.find(needle) != std::string::npos);
  }
}

/// A valid one-GPU user catalog entry; tests change one field.
json user_gpu() {
  return json{{"id", "testgpu"},
              {"name", "Test GPU"},
              {"architecture", "ada"},
              {"compute_capability", 8.9},
              {"memory_gb", 48},
              {"memory_bandwidth_gb_per_s", 864},
              {"dense_tflops", {{"fp32", 90}, {"fp16", 181}, {"bf16", 181}, {"fp8", 362}}},
              {"fp8_support", true},
              {"bf16_support", true},
              {"tdp_watts", 300},
              {"nvlink", nullptr},
              {"prices", json::array({{{"provider", "acme"}, {"usd_per_hour", 1.0}, {"date", "2026-01-01"}}})}};
}

std::string catalog_of(const json& gpu) { return json{{"gpus", json::array({gpu})}}.dump(); }

/// A config.json with Llama-2-7B's shape; tests change one field.
json llama_config() {
  return json{{"model_type", "llama"},          {"num_hidden_layers", 32}, {"hidden_size", 4096},
              {"num_attention_heads", 32},      {"num_key_value_heads", 32}, {"intermediate_size", 11008},
              {"vocab_size", 32000},            {"max_position_embeddings", 4096}};
}

WorkloadRequest request_for(std::string model) {
  WorkloadRequest r;
  r.model = std::move(model);
  return r;
}

/// True when x is a finite number >= 0.
bool quantity(double x) { return std::isfinite(x) && x >= 0; }

bool quantity(const Span& s) { return quantity(s.low) && quantity(s.expected) && quantity(s.high); }

} // namespace

// ---------------------------------------------------------------------------------------------
// Fuzzer findings, one test each.

TEST_CASE("hardening: a number that overflows a double (1e400) is a CatalogError in every JSON input", "[hardening]") {
  const std::string text = R"({"gpus": [{"id": "l40", "memory_bandwidth_gb_per_s": 1e400}]})";
  require_error<CatalogError>([&] { GpuCatalog::from_json(text, "inf.json"); }, {"inf.json", "number overflow"});
  GpuCatalog merged = gpus();
  require_error<CatalogError>([&] { merged.merge_json(text, "inf.json"); }, {"inf.json"});
  require_error<CatalogError>([&] { ModelCatalog::from_json(R"({"models": [], "x": 1e400})", "m.json"); }, {"m.json"});
  require_error<CatalogError>([&] { shape_from_hf_config(R"({"hidden_size": -1e999})", "config.json"); },
                              {"config.json"});
  Assumptions a = assumptions();
  require_error<CatalogError>([&] { a.merge_json(R"({"efficiency": {"bandwidth": {"low": 1e400}}})", "cal.json"); },
                              {"cal.json"});
  require_error<CatalogError>(
      [&] { run_validation(R"({"rows": [{"value": 1e400}]})", "v.json", gpus(), models(), assumptions()); }, {"v.json"});
  require_error<InputError>(
      [&] { check_text(R"({"deployments": [{"name": "a", "count": 1e400}]})", "d.json", gpus(), models(), assumptions(), {}); },
      {"d.json", "invalid JSON"});
}

TEST_CASE("hardening: merging a price whose provider is not a string is a CatalogError", "[hardening]") {
  GpuCatalog catalog = gpus();
  const std::size_t before = catalog.gpus().size();
  const std::string patch = R"({"gpus": [{"id": "l40", "prices": [{"provider": 5, "usd_per_hour": 1, "date": "2026-01-01"}]}]})";
  require_error<CatalogError>([&] { catalog.merge_json(patch, "p.json"); }, {"p.json", "provider"});
  CHECK(catalog.gpus().size() == before);
  // The same new id twice in one file is an error (issue 15), whatever the first entry's prices hold.
  json first = user_gpu();
  first["prices"] = "cheap";
  json second = {{"id", "testgpu"}, {"prices", json::array({{{"provider", "acme"}, {"usd_per_hour", 2}, {"date", "d"}}})}};
  require_error<CatalogError>([&] { catalog.merge_json(json{{"gpus", json::array({first, second})}}.dump(), "twice.json"); },
                              {"twice.json", "gpus[1]", "duplicate GPU id 'testgpu'"});
  CHECK(catalog.gpus().size() == before);
}

TEST_CASE("hardening: config.json dimensions past 10M are a CatalogError, not a truncated int or a division by zero",
          "[hardening]") {
  json config = llama_config();
  config["num_attention_heads"] = 4294967296LL; // 2^32: was cast to int 0, then used as a divisor
  require_error<CatalogError>([&] { shape_from_hf_config(config.dump(), "c.json"); }, {"num_attention_heads", "above"});
  config = llama_config();
  config["hidden_size"] = 1'000'000'000'000LL;
  require_error<CatalogError>([&] { shape_from_hf_config(config.dump(), "c.json"); }, {"hidden_size"});
  config = llama_config();
  config["n_shared_experts"] = 3'000'000'000LL;
  config["num_local_experts"] = 8;
  config["num_experts_per_tok"] = 2;
  require_error<CatalogError>([&] { shape_from_hf_config(config.dump(), "c.json"); }, {"n_shared_experts"});
  config = llama_config();
  config["sliding_window"] = 3'000'000'000LL;
  config["max_position_embeddings"] = 4'000'000'000LL;
  require_error<CatalogError>([&] { shape_from_hf_config(config.dump(), "c.json"); }, {"c.json"});
}

TEST_CASE("hardening: config.json with more heads than hidden units needs an explicit head_dim", "[hardening]") {
  json config = llama_config();
  config["hidden_size"] = 16;
  config["num_attention_heads"] = 32;
  config["num_key_value_heads"] = 32;
  require_error<CatalogError>([&] { shape_from_hf_config(config.dump(), "c.json"); }, {"head dimension of 0", "head_dim"});
  config["head_dim"] = 8;
  CHECK(shape_from_hf_config(config.dump(), "c.json").head_dim == 8);
}

TEST_CASE("hardening: a YAML mapping key that is a list or mapping is an InputError, not a YAML::Exception",
          "[hardening]") {
  for (const char* text : {"? [a, b]\n: 1\nmodel: llama-3-8b\n", "model: x\n? {a: 1}\n: 2\n",
                           "deployments:\n  - name: a\n    ? {x: 1}\n    : 2\n"}) {
    INFO(text);
    require_error<InputError>([&] { check_text(text, "k.yaml", gpus(), models(), assumptions(), {}); },
                              {"k.yaml", "mapping key"});
  }
}

TEST_CASE("hardening: a fractional GPU count in a deployment file is rejected, not truncated", "[hardening]") {
  const std::string text = "deployments:\n  - name: a\n    gpu: l40\n    model: llama-3-8b\n    count: 1.5\n";
  require_error<InputError>([&] { check_text(text, "c.yaml", gpus(), models(), assumptions(), {}); },
                            {"c.yaml:5", "count must be whole"});
}

TEST_CASE("hardening: check --format json writes names that are not UTF-8 instead of throwing", "[hardening]") {
  const std::string text = "deployments:\n  - name: bad\xff\n    gpu: l40\n    model: llama-3-8b\n";
  CheckReport report;
  REQUIRE_NOTHROW(report.deployments = check_text(text, "u.yaml", gpus(), models(), assumptions(), {}));
  std::ostringstream out;
  REQUIRE_NOTHROW(write_check_json(out, report));
  CHECK(json::parse(out.str())["deployments"][0]["name"].get<std::string>().find("bad") == 0);
}

TEST_CASE("hardening: positive integers are read up to their limit whatever the leading zeros", "[hardening]") {
  CHECK(parse_positive_int("1000000000000", "--requests", 1'000'000'000'000LL) == 1'000'000'000'000LL);
  CHECK(parse_positive_int("0000000000000000000016", "--batch", 1'000'000) == 16);
  require_error<InputError>([] { parse_positive_int("99999999999999999999999", "--batch", 1'000'000); },
                            {"--batch", "at most 1000000"});
  require_error<InputError>([] { parse_positive_int("1000001", "--batch", 1'000'000); }, {"at most"});
}

TEST_CASE("hardening: fp32 on a user GPU without an fp32 rate is not native, and the numbers stay finite",
          "[hardening]") {
  json gpu = user_gpu();
  gpu["dense_tflops"].erase("fp32");
  const GpuCatalog catalog = GpuCatalog::from_json(catalog_of(gpu), "nofp32.json");
  WorkloadRequest r = request_for("llama-3-8b");
  r.precision = "fp32";
  r.batch = "4";
  const Workload w = build_workload(r, models());
  const Candidate c = evaluate(w, catalog.gpus().front(), 1, assumptions(), "");
  CHECK_FALSE(c.precision.native);
  CHECK_FALSE(c.eligible);
  CHECK(quantity(c.performance.job_s));
  CHECK(quantity(c.performance.decode_tokens_per_s));
  CHECK(quantity(c.cost.job_usd));
}

// ---------------------------------------------------------------------------------------------
// Absurd and invalid numbers.

TEST_CASE("hardening: a KV cache past 10^18 bytes (64-bit byte counts) is an InputError", "[hardening]") {
  WorkloadRequest r = request_for("99T");
  r.context = "95M";
  r.batch = "1000000";
  require_error<InputError>([&] { build_workload(r, models()); }, {"--batch 1000000", "KV cache", "1 EB"});
  r.context = "100M"; // 104857600 tokens: over the per-sequence limit before any arithmetic
  require_error<InputError>([&] { build_workload(r, models()); }, {"--context", "limit"});
  // Without --batch the largest batch tried (256) is what counts: 95M tokens fit the limit, and do not fit a GPU.
  r = request_for("99T");
  r.context = "95M";
  const Workload w = build_workload(r, models());
  AdviseOptions only_b200;
  only_b200.gpus = {"b200"};
  const Advice advice = advise(w, gpus(), assumptions(), only_b200);
  CHECK_FALSE(advice.recommendation.pick);
  const json memory = to_json(advice)["candidates"][0]["memory"];
  CHECK(memory["total_bytes"].get<double>() > 0);
  CHECK(memory["kv_cache_bytes"].get<double>() > 0);
}

TEST_CASE("hardening: the largest workload accepted prints exact, non-negative byte counts", "[hardening]") {
  WorkloadRequest r = request_for("100T");
  r.batch = "1000000";
  r.context = "1k";
  r.requests = "1000000";
  const Workload w = build_workload(r, models());
  AdviseOptions many;
  many.gpus = {"h100-sxm"};
  many.count = 4096;
  const Advice advice = advise(w, gpus(), assumptions(), many);
  const json doc = to_json(advice);
  const auto& memory = doc["candidates"][0]["memory"];
  for (const char* key : {"weights_bytes", "kv_cache_bytes", "activation_bytes", "total_bytes", "usable_bytes"}) {
    INFO(key);
    CHECK(memory[key].get<double>() >= 0);
  }
  CHECK_FALSE(advice.recommendation.pick); // 100T parameters do not fit on 4096 H100s' 80 GB each: exit 1
}

TEST_CASE("hardening: absurd model sizes are InputErrors naming the limit", "[hardening]") {
  require_error<InputError>([] { build_workload(request_for("1e15"), models()); }, {"1e15", "absurd", "100T"});
  require_error<InputError>([] { build_workload(request_for("1000T"), models()); }, {"absurd"});
  require_error<InputError>([] { build_workload(request_for("1e400"), models()); }, {"1e400"});
  require_error<InputError>([] { build_workload(request_for("0.5"), models()); }, {"at least 1M"});
  // A preset file can describe a model past the limit too: same error as a bare size.
  const std::string huge = R"({"models": [{"id": "huge", "name": "Huge", "source": "test", "num_layers": 10000000,
    "hidden_size": 10000000, "num_attention_heads": 1, "num_kv_heads": 1, "head_dim": 1, "intermediate_size": 1,
    "vocab_size": 1, "tie_word_embeddings": true, "max_context": 4096}]})";
  const ModelCatalog catalog = ModelCatalog::from_json(huge, "huge.json");
  require_error<InputError>([&] { build_workload(request_for("huge"), catalog); }, {"huge", "limit of 100T"});
}

TEST_CASE("hardening: zero, negative and junk counts are InputErrors", "[hardening]") {
  for (const char* batch : {"0", "-1", "1.5", "", " ", "1e3", "0x10", "nan"}) {
    WorkloadRequest r = request_for("7B");
    r.batch = batch;
    INFO("--batch '" << batch << "'");
    CHECK_THROWS_AS(build_workload(r, models()), InputError);
  }
  for (const char* context : {"0", "-4k", "0.5", "1G", "1e9", "inf", "128q"}) {
    WorkloadRequest r = request_for("7B");
    r.context = context;
    INFO("--context '" << context << "'");
    CHECK_THROWS_AS(build_workload(r, models()), InputError);
  }
  for (const char* requests : {"0", "-3", "1000000000001"}) {
    WorkloadRequest r = request_for("7B");
    r.requests = requests;
    CHECK_THROWS_AS(build_workload(r, models()), InputError);
  }
  const Workload w = build_workload(request_for("7B"), models());
  for (int count : {0, -1, 4097}) {
    AdviseOptions options;
    options.count = count;
    CHECK_THROWS_AS(advise(w, gpus(), assumptions(), options), InputError);
  }
  WorkloadRequest r = request_for("7B");
  r.memory_utilization = std::nan("");
  CHECK_THROWS_AS(build_workload(r, models()), InputError);
  r.memory_utilization = INFINITY;
  CHECK_THROWS_AS(build_workload(r, models()), InputError);
}

TEST_CASE("hardening: a 10^9-token context is an InputError; 95M tokens gives 'does not fit', with real numbers",
          "[hardening]") {
  WorkloadRequest r = request_for("llama-3-8b");
  r.context = "1000000000";
  require_error<InputError>([&] { build_workload(r, models()); }, {"--context", "limit"});
  r.context = "95M";
  r.batch = "1";
  const Workload w = build_workload(r, models());
  const Candidate c = evaluate(w, gpus().find("h100-sxm"), 1, assumptions(), "");
  CHECK_FALSE(c.memory.fits());
  // 95 x 2^20 tokens x 32 layers x 8 KV heads x 128 x 2 (K and V) x 2 bytes, by hand.
  CHECK(c.memory.kv_cache_bytes == Approx(95.0 * 1048576 * 32 * 8 * 128 * 2 * 2));
  CHECK(quantity(c.performance.job_s));
}

TEST_CASE("hardening: non-finite and zero values in a user catalog are CatalogErrors", "[hardening]") {
  json gpu = user_gpu();
  gpu["memory_bandwidth_gb_per_s"] = 0;
  require_error<CatalogError>([&] { GpuCatalog::from_json(catalog_of(gpu), "zero.json"); },
                              {"zero.json", "memory_bandwidth_gb_per_s", "below the minimum"});
  GpuCatalog merged = gpus();
  require_error<CatalogError>(
      [&] { merged.merge_json(R"({"gpus": [{"id": "l40", "memory_bandwidth_gb_per_s": 0}]})", "zero.json"); },
      {"l40", "memory_bandwidth_gb_per_s"});
  gpu = user_gpu();
  gpu["memory_gb"] = -48;
  CHECK_THROWS_AS(GpuCatalog::from_json(catalog_of(gpu), "neg.json"), CatalogError);
  gpu = user_gpu();
  gpu["dense_tflops"]["fp16"] = 0;
  CHECK_THROWS_AS(GpuCatalog::from_json(catalog_of(gpu), "flops.json"), CatalogError);
  gpu = user_gpu();
  gpu["prices"][0]["usd_per_hour"] = 0;
  CHECK_THROWS_AS(GpuCatalog::from_json(catalog_of(gpu), "free.json"), CatalogError);
  gpu = user_gpu();
  gpu["memory_gb"] = "48";
  CHECK_THROWS_AS(GpuCatalog::from_json(catalog_of(gpu), "string.json"), CatalogError);
}

// ---------------------------------------------------------------------------------------------
// Properties over random valid workloads.

TEST_CASE("hardening: every number of a random valid workload is finite, monotone and consistent", "[hardening]") {
  std::mt19937 rng(20260901);
  const std::vector<std::string> precisions = {"fp32", "fp16", "bf16", "fp8",  "int8",   "int8-wo",
                                               "int4", "nf4",  "q8_0", "q4_0", "q4_k_m"};
  std::uniform_real_distribution<double> log_params(std::log(1e6), std::log(2e12));
  std::uniform_int_distribution<int> batch_dist(1, 1024);
  std::uniform_real_distribution<double> log_context(std::log(16.0), std::log(1048576.0));
  std::uniform_int_distribution<std::size_t> precision_dist(0, precisions.size() - 1);
  const auto& a = assumptions();

  for (int i = 0; i < 300; ++i) {
    WorkloadRequest r;
    r.model = fmt::format("{:.0f}", std::exp(log_params(rng)));
    r.precision = precisions[precision_dist(rng)];
    const int batch = batch_dist(rng);
    const auto context = static_cast<std::int64_t>(std::exp(log_context(rng)));
    r.batch = std::to_string(batch);
    r.context = std::to_string(context);
    r.output_tokens = std::to_string(std::max<std::int64_t>(1, std::min<std::int64_t>(256, context / 2)));
    r.requests = std::to_string(1 + i % 2000);
    const Workload w = build_workload(r, models());
    INFO("workload: --model " << r.model << " --precision " << *r.precision << " --batch " << batch << " --context "
                              << context);

    // Weights grow with the width of the format.
    const double fp8 = weight_bytes(w, Precision::fp8, a.int4_group_size);
    const double fp16 = weight_bytes(w, Precision::fp16, a.int4_group_size);
    const double fp32 = weight_bytes(w, Precision::fp32, a.int4_group_size);
    CHECK(fp8 < fp16);
    CHECK(fp16 < fp32);

    for (const auto& gpu : gpus().gpus()) {
      INFO("gpu: " << gpu.id);
      const Candidate c = evaluate(w, gpu, 1, a, "");
      REQUIRE(quantity(c.memory.weights_bytes));
      REQUIRE(quantity(c.memory.kv_cache_bytes));
      REQUIRE(quantity(c.memory.activation_bytes));
      REQUIRE(quantity(c.memory.overhead_bytes));
      REQUIRE(quantity(c.memory.total_bytes));
      REQUIRE(quantity(c.memory.usable_bytes));
      REQUIRE(quantity(c.performance.prefill_tokens_per_s));
      REQUIRE(quantity(c.performance.time_to_first_token_s));
      REQUIRE(quantity(c.performance.decode_tokens_per_s));
      REQUIRE(quantity(c.performance.job_s));
      if (c.cost.priced) {
        REQUIRE(quantity(c.cost.job_usd));
        REQUIRE(quantity(c.cost.usd_per_million_tokens));
        // Cost is hours x $/hr x GPUs.
        CHECK(c.cost.usd_per_hour == c.cost.price.usd_per_hour * c.count);
        CHECK(c.cost.job_usd.expected ==
              Approx(c.performance.job_s.expected / 3600 * c.cost.price.usd_per_hour * c.count).epsilon(1e-12));
      }

      // Memory never shrinks as batch or context grows.
      Workload bigger = w;
      bigger.batch = w.batch * 2;
      CHECK(estimate_memory(bigger, c.precision, gpu, 1, a).total_bytes >= c.memory.total_bytes);
      bigger = w;
      bigger.context = w.context * 2;
      bigger.input_tokens = bigger.context - w.output_tokens;
      CHECK(estimate_memory(bigger, c.precision, gpu, 1, a).total_bytes >= c.memory.total_bytes);

      // Less bandwidth never gives more decode throughput.
      Gpu slower = gpu;
      slower.bandwidth_bytes_per_s /= 2;
      const PerfEstimate slow = estimate_performance(w, c.precision, slower, 1, a);
      CHECK(slow.decode_tokens_per_s.low <= c.performance.decode_tokens_per_s.low);
      CHECK(slow.decode_tokens_per_s.expected <= c.performance.decode_tokens_per_s.expected);
      CHECK(slow.decode_tokens_per_s.high <= c.performance.decode_tokens_per_s.high);
    }

    // The recommendation fits and runs the precision natively.
    const Advice advice = advise(w, gpus(), a, AdviseOptions{});
    if (advice.recommendation.pick) {
      const Candidate& pick = advice.candidates[*advice.recommendation.pick];
      CHECK(pick.eligible);
      CHECK(pick.memory.fits());
      CHECK(supports_natively(*pick.gpu, w.precision));
      CHECK(pick.cost.priced);
    }
  }
}

TEST_CASE("hardening: a model name that is not UTF-8 or has control characters is an InputError, not a JSON "
          "exception",
          "[hardening]") {
  // Preset lookup ignores punctuation, so these once matched deepseek-v3 and broke `--json` output.
  for (const std::string& model : {std::string("deepseek-v3\xfe"), std::string("de\0epseek-v3", 12), std::string("llama\x1b[0m-3-8b")}) {
    require_error<InputError>([&] { build_workload(request_for(model), models()); }, {"invalid --model"});
  }
  WorkloadRequest r;
  r.model_config = std::string("/tmp/\xff/config.json");
  require_error<InputError>([&] { build_workload(r, models()); }, {"--model-config", "not UTF-8"});
  CHECK_NOTHROW(build_workload(request_for("Mistral 7B \xc3\xa9"), models())); // valid UTF-8 is fine
}

TEST_CASE("hardening: 'gpu:' without a value in a deployment file is a missing field, not an empty optional read",
          "[hardening]") {
  // Found by fuzz_check: *text("gpu") dereferenced an empty std::optional (heap corruption under ASan).
  const std::string text = "deployments:\n  - name: big-chat\n    gpu:\n    model: llama-3-8b\n";
  require_error<InputError>([&] { check_text(text, "g.yaml", gpus(), models(), assumptions(), {}); },
                            {"g.yaml:2", "deployment 'big-chat': missing field 'gpu'"});
}

TEST_CASE("errors: InternalError is a bug (exit 3), never a user-facing gpuadvise::Error (exit 2)", "[hardening]") {
  STATIC_REQUIRE(std::is_base_of_v<std::logic_error, gpuadvise::InternalError>);
  STATIC_REQUIRE_FALSE(std::is_base_of_v<gpuadvise::Error, gpuadvise::InternalError>);
}
