// The engines' start-up memory accounting (src/engine_memory.cpp, docs/engine-memory.md): one test per
// term, each worked out by hand below from the engine's formula, then the budget, blocks, tokens,
// concurrency, the failures in the engine's words, and the published-log validation.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/check.hpp>
#include <gpuadvise/embedded.hpp>
#include <gpuadvise/engine_memory.hpp>
#include <gpuadvise/error.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <set>

using namespace gpuadvise;

namespace {

constexpr double GiB = 1024.0 * 1024.0 * 1024.0;

/// Llama-3.1-8B's config.json shape, typed in.
ModelShape llama8b() {
  ModelShape s;
  s.id = "test-llama-8b";
  s.num_layers = 32;
  s.hidden_size = 4096;
  s.num_attention_heads = 32;
  s.num_kv_heads = 8;
  s.head_dim = 128;
  s.intermediate_size = 14336;
  s.vocab_size = 128256;
  s.tie_word_embeddings = false;
  s.max_context = 131072;
  return s;
}

Gpu gpu(const std::string& id, double allocatable_mib) {
  Gpu g;
  g.id = id;
  g.allocatable_bytes = allocatable_mib * 1024 * 1024;
  g.memory_bytes = g.allocatable_bytes;
  return g;
}

} // namespace

TEST_CASE("engine memory: weights as loaded, bf16, one rank", "[engine_memory]") {
  EngineLaunch s;
  // Per layer: q 4096x4096 + k,v 2 x 4096x1024 + o 4096x4096 + gate/up/down 3 x 4096x14336 = 218,103,808.
  const double layers = 32.0 * 218103808;
  const double tables = 2.0 * 128256 * 4096; // embedding + untied LM head (128256 is a multiple of 64)
  const double norms = (32.0 * 2 + 1) * 4096;
  const double rotary = 131072.0 * 128;      // cos/sin cache, max_position x head_dim
  CHECK(engine_weight_bytes(llama8b(), s) == Approx((layers + tables + norms + rotary) * 2));
  // The logged "Loading model weights took 14.9888 GB" (GiB) for this model (vllm#10517).
  CHECK(engine_weight_bytes(llama8b(), s) / GiB == Approx(14.99).margin(0.01));
}

TEST_CASE("engine memory: weights per rank under tensor and pipeline parallel, FP8 and int4 linear layers", "[engine_memory]") {
  EngineLaunch s;
  s.tensor_parallel = 2;
  s.format = CheckpointFormat::fp8;
  // Linear layers halve and take 1 byte; embedding/LM head halve but stay 2 bytes; norms and rotary cache replicate.
  const double linear = 32.0 * 218103808 / 2;
  const double in_dtype = (2.0 * 128256 * 4096 / 2 + (32.0 * 2 + 1) * 4096 + 131072.0 * 128) * 2;
  CHECK(engine_weight_bytes(llama8b(), s) == Approx(linear * 1 + in_dtype));

  EngineLaunch q;
  q.format = CheckpointFormat::int4;
  q.group_size = 128;
  // 4 bits per weight + an fp16 scale and a 4-bit zero per group of 128.
  const double per_weight = 0.5 + 2.5 / 128;
  const double dtype_part = (2.0 * 128256 * 4096 + (32.0 * 2 + 1) * 4096 + 131072.0 * 128) * 2;
  CHECK(engine_weight_bytes(llama8b(), q) == Approx(32.0 * 218103808 * per_weight + dtype_part));

  EngineLaunch pp;
  pp.pipeline_parallel = 2;
  // 16 layers per stage; the binding stage holds one vocabulary table.
  const double stage = (16.0 * 218103808 + 128256.0 * 4096 + (16.0 * 2 + 1) * 4096 + 131072.0 * 128) * 2;
  CHECK(engine_weight_bytes(llama8b(), pp) == Approx(stage));
}

TEST_CASE("engine memory: KV bytes per token per GPU, heads sharded, replicated below one per rank, fp8", "[engine_memory]") {
  EngineLaunch s;
  CHECK(engine_kv_bytes_per_token(llama8b(), s) == 2.0 * 8 * 128 * 2 * 32); // 131,072
  s.tensor_parallel = 4;
  CHECK(engine_kv_bytes_per_token(llama8b(), s) == 2.0 * 2 * 128 * 2 * 32);
  s.tensor_parallel = 16; // 8 KV heads over 16 ranks: each keeps one
  CHECK(engine_kv_bytes_per_token(llama8b(), s) == 2.0 * 1 * 128 * 2 * 32);
  EngineLaunch fp8;
  fp8.kv_bytes_per_element = 1;
  CHECK(engine_kv_bytes_per_token(llama8b(), fp8) == 2.0 * 8 * 128 * 1 * 32);
  ModelShape mla = llama8b();
  mla.mla = MlaShape{512, 0, 128, 64, 128};
  EngineLaunch m;
  m.tensor_parallel = 2; // the latent is not split over ranks
  CHECK(engine_kv_bytes_per_token(mla, m) == (512.0 + 64) * 2 * 32);
}

TEST_CASE("engine memory: device total as the engine reads it", "[engine_memory]") {
  CHECK(engine_visible_bytes(gpu("h100-sxm", 81559)) == Approx(79.19 * GiB));
  CHECK(engine_visible_bytes(gpu("rtx-3090", 24576)) == Approx(23.58 * GiB));
  // Otherwise nvidia-smi's total less the driver's 449 MiB.
  CHECK(engine_visible_bytes(gpu("l40", 46068)) == Approx((46068.0 - 449) * 1024 * 1024));
}

TEST_CASE("engine memory: vLLM V1 profiling run, non-torch memory, budget, blocks, tokens, concurrency", "[engine_memory]") {
  EngineLaunch s;
  s.memory_fraction = 0.95;
  s.max_model_len = 8192;
  const Gpu h100 = gpu("h100-sxm", 81559);
  const EngineMemory m = engine_memory(llama8b(), h100, s);
  // H100 (>= 70 GiB, not an A100): max-num-batched-tokens 8192, max-num-seqs 1024 by default.
  CHECK(m.profiled_tokens == 8192);
  CHECK(m.profiled_seqs == 1024);
  // Forward: 8192 x (2 x 14336 + 14336 + 3 x 4096) x 2 B; sampler: 1024 x 128256 x 15 B + 8192 x 4096 x 2 B.
  const double forward = 8192.0 * (3 * 14336 + 3 * 4096) * 2;
  const double sampler = 1024.0 * 128256 * 15 + 8192.0 * 4096 * 2;
  CHECK(forward == 905969664.0);
  CHECK(m.activation_bytes == Approx(std::max(forward, sampler)));
  CHECK(m.non_torch_bytes == Approx(0.25 * GiB));
  const double weights = engine_weight_bytes(llama8b(), s);
  const double budget = 79.19 * GiB * 0.95 - weights - 0.25 * GiB - sampler;
  CHECK(m.kv_budget_bytes == Approx(budget));
  const auto blocks = static_cast<std::int64_t>(std::floor(budget / (16 * 131072.0)));
  CHECK(m.num_blocks == blocks);
  CHECK(m.kv_tokens == blocks * 16);
  CHECK(m.max_concurrency == Approx(blocks * 16.0 / 8192));
  CHECK(m.failure == EngineFailure::none);
  // The start-up lines in vLLM's words.
  const auto lines = m.log_lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("Available KV cache memory: ", 0) == 0);
  CHECK(lines[1].find(" tokens") != std::string::npos);
  CHECK(lines[2].rfind("Maximum concurrency for 8,192 tokens per request: ", 0) == 0);
  CHECK(m.summary().find("maximum concurrency") != std::string::npos);

  // Tensor parallel: NCCL and all-reduce buffers as logged at TP >= 2.
  EngineLaunch tp2 = s;
  tp2.tensor_parallel = 2;
  CHECK(engine_memory(llama8b(), h100, tp2).non_torch_bytes == Approx(2.1 * GiB));
  // A GPU under 70 GiB profiles 2048 tokens and 256 sequences.
  const EngineMemory small = engine_memory(llama8b(), gpu("rtx-4090", 24564), s);
  CHECK(small.profiled_tokens == 2048);
  CHECK(small.profiled_seqs == 256);
}

TEST_CASE("engine memory: vLLM V0 profiles max-model-len tokens without chunked prefill, 2048 past 32K", "[engine_memory]") {
  EngineLaunch s;
  s.engine = Engine::vllm_v0;
  s.max_model_len = 20000;
  const Gpu rtx3090 = gpu("rtx-3090", 24576);
  const EngineMemory m = engine_memory(llama8b(), rtx3090, s);
  CHECK(m.profiled_tokens == 20000);
  // 20000 x (3 x 14336 + 3 x 4096) x 2 B = 2.06 GiB; the log (vllm#10517) says 17.06 - 14.99 = 2.07 GiB.
  CHECK(m.activation_bytes == Approx(20000.0 * 55296 * 2));
  CHECK(m.non_torch_bytes == Approx(0.27 * GiB));
  CHECK(m.kv_budget_bytes == Approx(23.58 * GiB * 0.9 - engine_weight_bytes(llama8b(), s) - 0.27 * GiB - 20000.0 * 55296 * 2));
  s.max_model_len = 40000;
  CHECK(engine_memory(llama8b(), rtx3090, s).profiled_tokens == 2048);
  s.chunked_prefill = false;
  CHECK(engine_memory(llama8b(), rtx3090, s).profiled_tokens == 40000);
}

TEST_CASE("engine memory: the engines' refusals in their own words", "[engine_memory]") {
  EngineLaunch s;
  s.engine = Engine::vllm_v0;
  s.max_model_len = 29000;
  const Gpu rtx3090 = gpu("rtx-3090", 24576);
  const EngineMemory too_long = engine_memory(llama8b(), rtx3090, s);
  CHECK(too_long.failure == EngineFailure::max_model_len_too_long);
  CHECK(too_long.failure_message().find("is larger than the maximum number of tokens that can be stored in KV cache") !=
        std::string::npos);
  s.engine = Engine::vllm_v1;
  s.max_model_len = 200000;
  CHECK(engine_memory(llama8b(), rtx3090, s).failure_message().find("To serve at least one request with the models's max seq len (200000)") !=
        std::string::npos);
  s.memory_fraction = 0.5; // 11.79 GiB: less than the weights
  const EngineMemory none = engine_memory(llama8b(), rtx3090, s);
  CHECK(none.failure == EngineFailure::no_cache_blocks);
  CHECK(none.failure_message().rfind("No available memory for the cache blocks", 0) == 0);
  CHECK(kv_token_capacity(llama8b(), rtx3090, s) == 0);
  s.tensor_parallel = 3;
  CHECK_THROWS_AS(engine_memory(llama8b(), rtx3090, s), InputError); // 32 heads over 3 ranks
}

TEST_CASE("engine memory: SGLang sizes the pool from the memory free at start", "[engine_memory]") {
  EngineLaunch s;
  s.engine = Engine::sglang;
  s.memory_fraction = 0.9;
  s.max_model_len = 8192;
  const Gpu h100 = gpu("h100-sxm", 81559);
  const EngineMemory m = engine_memory(llama8b(), h100, s);
  const double budget = 0.9 * (79.19 * GiB - 0.25 * GiB) - engine_weight_bytes(llama8b(), s);
  CHECK(m.kv_budget_bytes == Approx(budget));
  CHECK(m.kv_tokens == static_cast<std::int64_t>(std::floor(budget / 131072.0)));
  CHECK(m.log_lines()[0].rfind("KV Cache is allocated. #tokens: ", 0) == 0);
}

TEST_CASE("engine memory: quantized checkpoints named only by their id", "[engine_memory]") {
  CHECK(checkpoint_format_from_id("neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8") == CheckpointFormat::fp8);
  CHECK(checkpoint_format_from_id("RedHatAI/Llama-3.3-70B-Instruct-fp8-dynamic") == CheckpointFormat::fp8);
  CHECK(checkpoint_format_from_id("Qwen/Qwen2.5-7B-Instruct-AWQ") == CheckpointFormat::int4);
  CHECK(checkpoint_format_from_id("Qwen/Qwen1.5-7B-Chat-GPTQ-Int4") == CheckpointFormat::int4);
  CHECK(checkpoint_format_from_id("RedHatAI/Qwen2.5-7B-Instruct-quantized.w8a8") == CheckpointFormat::int8);
  CHECK_FALSE(checkpoint_format_from_id("meta-llama/Llama-3.1-8B-Instruct").has_value());
  CHECK(strip_quantization_suffix("meta-llama/Llama-3.1-8B-Instruct-FP8") == "meta-llama/Llama-3.1-8B-Instruct");
  CHECK(strip_quantization_suffix("Qwen/Qwen2.5-7B-Instruct-AWQ") == "Qwen/Qwen2.5-7B-Instruct");
}

TEST_CASE("engine memory: the launch the serving simulator asks for follows the workload", "[engine_memory]") {
  Workload w;
  w.shape = llama8b();
  w.precision = Precision::fp8;
  w.kv_precision = Precision::fp8;
  w.kv_precision_given = true;
  w.context = 8192;
  w.memory_utilization = 0.9;
  const EngineLaunch s = engine_launch_for(w, 2, 128, 4096, 16);
  CHECK(s.format == CheckpointFormat::fp8);
  CHECK(s.kv_bytes_per_element == 1);
  CHECK(s.tensor_parallel == 2);
  CHECK(s.max_num_seqs == 128);
  CHECK(s.max_num_batched_tokens == 4096);
  CHECK(s.max_model_len == 8192);
  const Gpu h100 = gpu("h100-sxm", 81559);
  CHECK(kv_token_capacity(w.shape, h100, s) == engine_memory(w.shape, h100, s).kv_tokens);
}

TEST_CASE("engine memory: published start-up logs, median error within 3%", "[engine_memory]") {
  const auto rows = run_engine_memory_validation(embedded_engine_memory_validation_json(), "engine_memory_validation",
                                                 GpuCatalog::embedded(), ModelCatalog::embedded());
  REQUIRE(rows.size() >= 25);
  std::set<std::string> gpus;
  bool tp = false, fp8 = false, int4 = false, long_len = false, sglang = false;
  for (const auto& r : rows) {
    INFO(r.id);
    CHECK(std::isfinite(r.kv_error));
    gpus.insert(r.gpu);
    tp = tp || r.tensor_parallel > 1;
    fp8 = fp8 || r.settings.find("FP8") != std::string::npos || r.settings.find("fp8") != std::string::npos;
    int4 = int4 || r.settings.find("Int4") != std::string::npos || r.settings.find("AWQ") != std::string::npos;
    long_len = long_len || r.estimate.max_model_len >= 32768;
    sglang = sglang || r.estimate.engine == Engine::sglang;
    // A logged refusal is predicted as one.
    if (r.logged_failure) CHECK(r.estimate.failure != EngineFailure::none);
  }
  CHECK(gpus.count("rtx-3090") == 1);
  CHECK(gpus.count("rtx-4090") == 1);
  CHECK(tp);
  CHECK(fp8);
  CHECK(int4);
  CHECK(long_len);
  CHECK(sglang);
  const auto [kv, conc] = engine_memory_medians(rows);
  CHECK(kv < 0.03);
  CHECK(conc < 0.03);
}

TEST_CASE("engine memory: a malformed validation row is a catalog error naming it", "[engine_memory]") {
  CHECK_THROWS_WITH(run_engine_memory_validation(R"({"rows": [{"id": "x", "source": "s", "engine_version": "1", "gpu": "h100-sxm",
      "model": "llama-3.1-8b", "engine": "tgi", "memory_fraction": 0.9, "max_model_len": 10, "logged": {"tokens": 5}}]})",
                                                 "f.json", GpuCatalog::embedded(), ModelCatalog::embedded()),
                    Catch::Contains("f.json: row 'x'") && Catch::Contains("engine"));
}

TEST_CASE("engine memory: the advisor's fit is the engine's own KV check on the vLLM runtime", "[engine_memory]") {
  const GpuCatalog catalog = GpuCatalog::embedded();
  const ModelCatalog models = ModelCatalog::embedded();
  const Assumptions assumptions = Assumptions::embedded();
  const Gpu& rtx3090 = catalog.find("rtx-3090");
  auto candidate = [&](const std::string& context, const std::string& batch, const std::string& runtime) {
    WorkloadRequest r;
    r.model = "llama-3.1-8b";
    r.precision = "fp16";
    r.context = context;
    r.batch = batch;
    r.runtime = runtime;
    const Workload w = build_workload(r, models);
    AdviseOptions o;
    o.gpus = {"rtx-3090"};
    return std::make_pair(w, evaluate_plan(w, rtx3090, 1, 1, assumptions, o));
  };
  // Llama-3.1-8B in bf16 on one RTX 3090 (vLLM V1 profiles 2,048 tokens on a card under 70 GiB): the
  // candidate carries the engine's figures for its own launch and fits only when the memory sum fits and
  // the engine's KV cache holds batch x context tokens.
  for (const auto& [context, batch] : {std::pair{"20000", "1"}, std::pair{"29000", "1"}, std::pair{"8192", "4"}}) {
    INFO(context << " x " << batch);
    const auto [w, c] = candidate(context, batch, "vllm");
    REQUIRE(c.memory.engine.has_value());
    const auto& e = *c.memory.engine;
    const EngineMemory m = engine_memory(w.shape, rtx3090, engine_launch_for(w, 1));
    CHECK(e.kv_tokens == m.kv_tokens);
    CHECK(e.needed_tokens == w.batch * w.context);
    CHECK(e.max_model_len == w.context);
    const bool sum_fits = c.memory.total_bytes <= c.memory.usable_bytes;
    CHECK(c.fits() == (sum_fits && m.failure == EngineFailure::none && m.kv_tokens >= w.batch * w.context));
  }

  // Where the engine binds: a 1,000,000-token vocabulary makes V1's sampler warm-up on an H100 (1,024
  // sequences x vocabulary x 15 B = 14.3 GiB) far larger than the sum's logits buffer. One sequence more
  // than the engine's maximum concurrency: the sum fits, the candidate does not, and the finding speaks
  // in the engine's terms with the batch it holds as the remedy.
  ModelShape big_vocab = llama8b();
  big_vocab.vocab_size = 1000000;
  Workload w = workload_for_shape(big_vocab, ModelOrigin::config_file);
  w.context = 8192;
  const Gpu& h100 = catalog.find("h100-sxm");
  const EngineMemory m = engine_memory(big_vocab, h100, engine_launch_for(w, 1));
  REQUIRE(m.failure == EngineFailure::none);
  const auto held = static_cast<std::int64_t>(std::floor(m.max_concurrency));
  w.batch = held + 1;
  AdviseOptions o;
  o.gpus = {"h100-sxm"};
  const Candidate c = evaluate_plan(w, h100, 1, 1, assumptions, o);
  REQUIRE(c.memory.total_bytes <= c.memory.usable_bytes);
  CHECK_FALSE(c.fits());
  bool engine_words = false, batch_remedy = false;
  for (const auto& f : c.findings) {
    if (f.id != "memory-does-not-fit") continue;
    engine_words = engine_words || f.message.find("vLLM's start-up accounting") != std::string::npos;
    for (const auto& r : f.remedies) batch_remedy = batch_remedy || (r.setting == Setting::batch && r.to == std::to_string(held));
  }
  CHECK(engine_words);
  CHECK(batch_remedy);
  w.batch = held;
  CHECK(evaluate_plan(w, h100, 1, 1, assumptions, o).fits());

  // Sliding-window models: the run-time window is not modelled, so the memory sum alone decides.
  ModelShape windowed = llama8b();
  windowed.sliding_window = 4096;
  windowed.sliding_layers = SlidingLayers::all;
  Workload ww = workload_for_shape(windowed, ModelOrigin::config_file);
  CHECK_FALSE(evaluate_plan(ww, h100, 1, 1, assumptions, o).memory.engine.has_value());
  // Other runtimes size their caches differently: no engine check.
  CHECK_FALSE(candidate("8192", "1", "transformers").second.memory.engine.has_value());
  CHECK_FALSE(candidate("8192", "1", "trtllm").second.memory.engine.has_value());
}
