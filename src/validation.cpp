#include "json_fields.hpp"

#include <gpuadvise/error.hpp>
#include <gpuadvise/generative.hpp>
#include <gpuadvise/stacks.hpp>
#include <gpuadvise/training.hpp>
#include <gpuadvise/units.hpp>
#include <gpuadvise/validation.hpp>
#include <gpuadvise/workload.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace gpuadvise {
namespace {

using detail::Fields;

/// The leading format name of a free-text field ("bf16/fp16 ('16')" -> "bf16").
std::string leading_token(const std::string& text) {
  std::string token;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') token += c;
    else break;
  }
  return token;
}

Workload row_workload(const ModelShape& shape, Precision precision, long long batch, long long input, long long output) {
  Workload w = workload_for_shape(shape, ModelOrigin::preset);
  w.precision = precision;
  w.batch = batch;
  w.input_tokens = input;
  w.output_tokens = output;
  w.context = input + output;
  w.requests = batch;
  return w;
}

} // namespace

Span training_tokens_per_s_per_gpu(const ModelShape& shape, double params_matmul, double sequence, const Gpu& gpu,
                                   Precision precision, bool full_recompute, const Assumptions& a) {
  const double passes = full_recompute ? 4.0 : 3.0; // forward + backward (2x forward) [+ forward again]
  const double flops_per_token =
      passes * (2.0 * params_matmul + 4.0 * shape.num_layers * shape.hidden_size * sequence);
  const Range& mfu = a.fraction("mfu", gpu.architecture, precision);
  const double peak = gpu.peak_flops(compute_format(precision));
  return {peak * mfu.low / flops_per_token, peak * mfu.expected / flops_per_token, peak * mfu.high / flops_per_token};
}

std::vector<ValidationResult> run_validation(std::string_view text, std::string_view origin, const GpuCatalog& gpus,
                                             const ModelCatalog& base_models, const Assumptions& assumptions) {
  const auto doc = detail::parse_json(text, origin);
  const Fields top(doc, std::string(origin));
  if (top.has("rows")) top.only({"description", "models", "rows"}); // data/generative.json holds its measurements with its presets
  // Shapes the published runs trained that are no preset (MPT, GPT-3 style), in the model catalog's format.
  ModelCatalog models = base_models;
  if (top.has("rows") && doc.contains("models")) {
    const nlohmann::json extra = {{"models", doc["models"]}};
    models.merge_json(extra.dump(), std::string(origin) + " models");
  }
  const auto* rows = top.has("rows") ? top.array("rows") : top.array("measurements");
  if (!rows) top.fail("rows", "missing (expected an array of measurements)");
  std::vector<ValidationResult> results;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const Fields first((*rows)[i], fmt::format("{}: rows[{}]", origin, i));
    const Fields f((*rows)[i], fmt::format("{}: rows[{}] (id '{}')", origin, i, first.string("id")));
    f.only({"id", "source", "metric", "value", "gpu", "gpu_count", "gpu_assumed", "model", "batch", "input_tokens",
            "output_tokens", "precision", "weight_format", "kv_precision", "framework", "per_gpu", "exclude", "notes",
            "resolution", "width", "frames", "steps", "full_recompute", "stack", "checkpointing", "tp", "pp",
            "gradient_accumulation", "fp8_linears", "compiled", "eager_attention", "dropout"});
    ValidationResult r;
    r.id = f.string("id");
    r.source = f.string("source");
    r.metric = f.string("metric");
    r.measured = f.number("value", 1e-9);
    r.gpu_count = static_cast<int>(f.integer_or("gpu_count", 1, 1, 100000));
    r.batch = f.integer_or("batch", 1, 1, 1'000'000);
    const long long input = f.integer_or("input_tokens", 1, 1, 10'000'000);
    const long long output = f.integer_or("output_tokens", 128, 1, 10'000'000);

    const Gpu* gpu = nullptr;
    try {
      gpu = &gpus.find(f.string("gpu"));
    } catch (const InputError& e) {
      f.fail("gpu", e.what());
    }
    r.gpu = gpu->id;
    if (r.metric == "seconds_per_image" || r.metric == "seconds_per_clip" || r.metric == "peak_memory_gib") {
      // Image and video generation rows (data/generative.json): the same advisor engine, another workload kind.
      GenerativeRequest g;
      g.model = f.string("model");
      const bool video = f.has("frames");
      g.kind = video ? "video" : "diffusion";
      g.precision = leading_token(f.string("precision"));
      g.batch = std::to_string(r.batch);
      g.items = "1";
      if (f.has("resolution")) {
        const long long h = f.integer("resolution", 64, 16384);
        g.resolution = video ? fmt::format("{}x{}", h * 3 / 2, h) : std::to_string(h); // video rows: 3:2 (720x480)
      }
      if (video) g.frames = std::to_string(f.integer("frames", 1, 10000));
      if (f.has("steps")) g.steps = std::to_string(f.integer("steps", 1, 10000));
      Workload w;
      try {
        w = build_generative_workload(g);
      } catch (const InputError& e) {
        f.fail("model", e.what());
      }
      r.model = w.generative->model.id;
      r.precision = std::string(to_string(w.precision));
      const auto decision = decide_precision(w, *gpu);
      if (r.metric == "peak_memory_gib") {
        const double gib = estimate_memory(w, decision, *gpu, r.gpu_count, assumptions).total_bytes / (1024.0 * 1024 * 1024);
        r.estimate = {gib * 0.8, gib, gib * 1.2};
      } else {
        r.estimate = estimate_performance(w, decision, *gpu, r.gpu_count, assumptions).seconds_per_item;
      }
      r.excluded = f.string_or("exclude", "");
      r.error = r.estimate.expected / r.measured - 1;
      r.within_range = r.measured >= r.estimate.low * (1 - 1e-9) && r.measured <= r.estimate.high * (1 + 1e-9);
      results.push_back(std::move(r));
      continue;
    }
    const ModelShape* shape = models.find(f.string("model"));
    if (!shape) f.fail("model", fmt::format("'{}' is not a model preset", f.string("model")));
    r.model = shape->id;
    Precision precision = Precision::fp16;
    try {
      precision = parse_precision(leading_token(f.string("weight_format")));
    } catch (const InputError& e) {
      f.fail("weight_format", e.what());
    }
    r.precision = std::string(to_string(precision));

    Workload w = row_workload(*shape, precision, r.batch, input, output);
    // The runtime that produced the row, where the framework names one we model.
    const std::string framework = normalize_name(f.string_or("framework", ""));
    if (framework.find("llamacpp") != std::string::npos) w.runtime = "llamacpp";
    else if (framework.find("tensorrtllm") != std::string::npos) w.runtime = "trtllm";
    else if (framework.find("vllm") != std::string::npos) w.runtime = "vllm";
    else if (framework.find("transformers") != std::string::npos) w.runtime = "transformers";
    const double per_gpu = f.boolean_or("per_gpu", false) ? r.gpu_count : 1;
    const std::string kv = leading_token(f.string_or("kv_precision", ""));
    try {
      if (!kv.empty()) {
        w.kv_precision = parse_kv_precision(kv);
        w.kv_precision_given = true;
      }
    } catch (const InputError&) {
      // "not stated", "default": the runtime's default KV dtype
    }
    const PrecisionDecision decision = decide_precision(w, *gpu);
    if (r.metric == "decode_tokens_per_s") {
      r.estimate = estimate_performance(w, decision, *gpu, r.gpu_count, assumptions).decode_tokens_per_s_per_sequence;
    } else if (r.metric == "decode_total_tokens_per_s") {
      // Output tokens of one full batch over the time to prefill and generate them (benchmark convention).
      const auto perf = estimate_performance(w, decision, *gpu, r.gpu_count, assumptions);
      const double tokens = static_cast<double>(r.batch) * output / per_gpu;
      r.estimate = {tokens / perf.job_s.high, tokens / perf.job_s.expected, tokens / perf.job_s.low};
    } else if (r.metric == "prefill_tokens_per_s") {
      r.estimate = estimate_performance(w, decision, *gpu, r.gpu_count, assumptions).prefill_tokens_per_s;
    } else if (r.metric == "time_to_first_token_s") {
      r.estimate = estimate_performance(w, decision, *gpu, r.gpu_count, assumptions).time_to_first_token_s;
    } else if (r.metric == "memory_gib") {
      // Weights only (what frameworks report as the model's size); files and loaders differ by a few
      // percent (vocabulary padding, metadata, tensors kept in other formats): +-3%.
      const double gib = weight_bytes(w, precision, assumptions.int4_group_size) / (1024.0 * 1024 * 1024);
      r.estimate = {gib * 0.97, gib, gib * 1.03};
    } else if ((r.metric == "train_tokens_per_s_per_gpu" || r.metric == "train_mfu") && f.has("stack")) {
      // The published run as the training step model sees it (docs/training.md section 3b).
      TrainingSetup s;
      s.task = Task::pretrain;
      try {
        s.stack = parse_stack(f.string("stack"));
      } catch (const InputError& e) {
        f.fail("stack", e.what());
      }
      if (f.has("checkpointing")) {
        try {
          s.checkpointing = parse_checkpointing(f.string("checkpointing"));
        } catch (const InputError& e) {
          f.fail("checkpointing", e.what());
        }
      }
      s.micro_batch = r.batch;
      s.sequence = input;
      s.gradient_accumulation = static_cast<int>(f.integer_or("gradient_accumulation", 1, 1, 100000));
      s.fp8_linears = f.boolean_or("fp8_linears", false);
      s.compiled = f.boolean_or("compiled", false);
      s.eager_attention = f.boolean_or("eager_attention", false);
      s.dropout = f.boolean_or("dropout", false);
      ParallelPlan plan;
      plan.tp = static_cast<int>(f.integer_or("tp", 1, 1, 64));
      plan.pp = static_cast<int>(f.integer_or("pp", 1, 1, 1024));
      if (r.gpu_count % (plan.tp * plan.pp) != 0) f.fail("gpu_count", "is not a multiple of tp x pp");
      plan.dp = r.gpu_count / (plan.tp * plan.pp);
      if (plan.dp > 1) s.zero_stage = stack_profile(*s.stack).default_zero_stage_multi_gpu;
      TrainingPerf perf;
      try {
        perf = estimate_training_step(w, s, plan, *gpu, assumptions);
      } catch (const InputError& e) {
        f.fail("tp", e.what());
      }
      if (r.metric == "train_mfu") r.estimate = perf.mfu;
      else r.estimate = {perf.tokens_per_s.low / r.gpu_count, perf.tokens_per_s.expected / r.gpu_count,
                         perf.tokens_per_s.high / r.gpu_count};
    } else if (r.metric == "train_tokens_per_s_per_gpu") {
      r.estimate = training_tokens_per_s_per_gpu(*shape, dense_matmul_params(w), static_cast<double>(input), *gpu, precision,
                                                 f.boolean_or("full_recompute", false), assumptions);
    } else if (r.metric == "train_mfu") {
      const Range& mfu = assumptions.fraction("mfu", gpu->architecture, precision);
      r.estimate = {mfu.low, mfu.expected, mfu.high};
    } else {
      f.fail("metric", fmt::format("'{}' is not a known metric", r.metric));
    }
    r.excluded = f.string_or("exclude", "");
    r.error = r.estimate.expected / r.measured - 1;
    const double slack = 1e-9 * r.measured;
    r.within_range = r.measured >= r.estimate.low - slack && r.measured <= r.estimate.high + slack;
    results.push_back(std::move(r));
  }
  return results;
}

std::vector<MetricSummary> summarize(const std::vector<ValidationResult>& results) {
  std::vector<MetricSummary> out;
  for (const auto& r : results) {
    if (!r.excluded.empty()) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const MetricSummary& s) { return s.metric == r.metric; });
    if (it == out.end()) {
      out.push_back(MetricSummary{r.metric, 0, 0, 0, "", 0});
      it = out.end() - 1;
    }
    ++it->rows;
    if (r.within_range) ++it->within_range;
    if (std::abs(r.error) > it->worst_abs_error) {
      it->worst_abs_error = std::abs(r.error);
      it->worst_id = r.id;
    }
  }
  for (auto& s : out) {
    std::vector<double> errors;
    for (const auto& r : results)
      if (r.metric == s.metric && r.excluded.empty()) errors.push_back(std::abs(r.error));
    std::sort(errors.begin(), errors.end());
    const std::size_t n = errors.size();
    s.median_abs_error = n % 2 ? errors[n / 2] : (errors[n / 2 - 1] + errors[n / 2]) / 2;
  }
  return out;
}

void write_validation_text(std::ostream& out, const std::vector<ValidationResult>& results) {
  out << "| id | GPU | model | format | batch | metric | measured | estimate (low-high) | error | in range |\n"
      << "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : results)
    out << fmt::format("| {} | {}{} | {} | {} | {} | {} | {:.4g} | {:.4g} ({:.4g}-{:.4g}) | {:+.1f}% | {} |\n", r.id,
                       r.gpu_count > 1 ? fmt::format("{}x ", r.gpu_count) : "", r.gpu, r.model, r.precision, r.batch,
                       r.metric, r.measured, r.estimate.expected, r.estimate.low, r.estimate.high, r.error * 100,
                       !r.excluded.empty() ? "excluded" : r.within_range ? "yes" : "NO");
  for (const auto& r : results)
    if (!r.excluded.empty()) out << fmt::format("\nexcluded {}: {}\n", r.id, r.excluded);
  out << "\n| metric | rows | median abs error | worst abs error (row) | within range |\n|---|---|---|---|---|\n";
  for (const auto& s : summarize(results))
    out << fmt::format("| {} | {} | {:.1f}% | {:.1f}% ({}) | {}/{} |\n", s.metric, s.rows, s.median_abs_error * 100,
                       s.worst_abs_error * 100, s.worst_id, s.within_range, s.rows);
}

nlohmann::json validation_json(const std::vector<ValidationResult>& results) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : results)
    rows.push_back({{"id", r.id}, {"source", r.source}, {"gpu", r.gpu}, {"gpu_count", r.gpu_count}, {"model", r.model},
                    {"precision", r.precision}, {"batch", r.batch}, {"metric", r.metric}, {"measured", r.measured},
                    {"estimate", r.estimate.expected}, {"low", r.estimate.low}, {"high", r.estimate.high},
                    {"error", r.error}, {"within_range", r.within_range},
                    {"excluded", r.excluded.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.excluded)}});
  nlohmann::json summary = nlohmann::json::array();
  for (const auto& s : summarize(results))
    summary.push_back({{"metric", s.metric}, {"rows", s.rows}, {"median_abs_error", s.median_abs_error},
                       {"worst_abs_error", s.worst_abs_error}, {"worst_id", s.worst_id}, {"within_range", s.within_range}});
  return {{"schema_version", 1}, {"rows", rows}, {"summary", summary}};
}

} // namespace gpuadvise
