#include "json_fields.hpp"

#include <gpuadvise/error.hpp>
#include <gpuadvise/training.hpp>
#include <gpuadvise/training_validation.hpp>
#include <gpuadvise/workload.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gpuadvise {
namespace {

using detail::Fields;

constexpr double k_gib = 1024.0 * 1024.0 * 1024.0;

} // namespace

std::vector<TrainingMemoryRow> run_training_memory_validation(std::string_view text, std::string_view origin,
                                                              const GpuCatalog& gpus, const ModelCatalog& models,
                                                              const Assumptions& assumptions) {
  const auto doc = detail::parse_json(text, origin);
  const Fields top(doc, std::string(origin));
  top.only({"description", "sources", "rows"});
  const auto* rows = top.array("rows");
  if (!rows) top.fail("rows", "missing (expected an array of measurements)");
  std::vector<TrainingMemoryRow> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const Fields first((*rows)[i], fmt::format("{}: rows[{}]", origin, i));
    const Fields f((*rows)[i], fmt::format("{}: rows[{}] (id '{}')", origin, i, first.string("id")));
    f.only({"id", "source", "trainer", "stack", "model", "task", "gpu", "gpu_count", "micro_batch", "sequence", "precision",
            "checkpointing", "optimizer", "optimizer_in_backward", "paged_optimizer", "zero_stage", "offload_params",
            "offload_optimizer", "lora_rank", "lora_targets", "lora_dropout", "loss", "compile", "gradient_accumulation",
            "metric", "value", "unit", "exclude", "notes"});
    TrainingMemoryRow r;
    r.id = f.string("id");
    r.source = f.string("source");
    r.trainer = f.string("trainer");
    r.metric = f.string("metric");
    if (r.metric != "allocated" && r.metric != "active" && r.metric != "reserved" && r.metric != "device")
      f.fail("metric", fmt::format("'{}' is not one of allocated, active, reserved, device", r.metric));
    const std::string unit = f.string("unit");
    if (unit != "GiB" && unit != "GB") f.fail("unit", fmt::format("'{}' is not GiB or GB", unit));
    r.measured_gib = f.number("value", 1e-6) * (unit == "GB" ? 1e9 / k_gib : 1.0);

    TrainingSetup s;
    try {
      s.stack = parse_stack(f.string("stack"));
      s.task = parse_task(f.string("task"));
      if (f.has("optimizer")) s.optimizer = parse_optimizer(f.string("optimizer"));
      if (f.has("checkpointing")) s.checkpointing = parse_checkpointing(f.string("checkpointing"));
    } catch (const InputError& e) {
      f.fail("stack", e.what());
    }
    r.stack = std::string(to_string(*s.stack));
    r.task = std::string(to_string(s.task));
    s.micro_batch = f.integer("micro_batch", 1, 1 << 20);
    s.sequence = f.integer("sequence", 1, 1 << 24);
    r.micro_batch = s.micro_batch;
    r.sequence = s.sequence;
    s.optimizer_in_backward = f.boolean_or("optimizer_in_backward", false);
    s.paged_optimizer = f.boolean_or("paged_optimizer", false);
    s.offload_params = f.boolean_or("offload_params", false);
    s.offload_optimizer = f.boolean_or("offload_optimizer", false);
    s.compiled = f.boolean_or("compile", false);
    s.gradient_accumulation = static_cast<int>(f.integer_or("gradient_accumulation", 0, 0, 100000));
    s.zero_stage = static_cast<int>(f.integer_or("zero_stage", stack_profile(*s.stack).default_zero_stage_multi_gpu, 0, 3));
    if (f.has("lora_rank")) s.lora_rank = static_cast<int>(f.integer("lora_rank", 1, 65536));
    if (f.has("lora_targets")) s.lora_targets = f.strings("lora_targets");
    if (f.has("lora_dropout")) s.lora_dropout = f.number("lora_dropout", 0, 1);
    const std::string precision = f.string_or("precision", "");
    if (precision == "bf16-true") s.pure_bf16 = true;
    else if (precision == "bf16-mixed") s.pure_bf16 = false;
    else if (!precision.empty()) f.fail("precision", fmt::format("'{}' is not bf16-true or bf16-mixed", precision));
    if (f.has("loss")) {
      const std::string loss = f.string("loss");
      if (loss == "fp32-full") s.loss = LossKind::fp32_full;
      else if (loss == "fp32-chunked") s.loss = LossKind::fp32_chunked;
      else if (loss == "bf16-chunked") s.loss = LossKind::bf16_chunked;
      else if (loss == "fused") s.loss = LossKind::fused;
      else f.fail("loss", fmt::format("'{}' is not fp32-full, fp32-chunked, bf16-chunked or fused", loss));
    }

    const Gpu* gpu = nullptr;
    try {
      gpu = &gpus.find(f.string("gpu"));
    } catch (const InputError& e) {
      f.fail("gpu", e.what());
    }
    r.gpu = gpu->id;
    r.gpu_count = static_cast<int>(f.integer_or("gpu_count", 1, 1, 100000));
    const ModelShape* shape = models.find(f.string("model"));
    if (!shape) f.fail("model", fmt::format("'{}' is not a model preset", f.string("model")));
    r.model = shape->id;
    Workload w = workload_for_shape(*shape, ModelOrigin::preset);
    w.precision = Precision::bf16;
    const ParallelPlan plan{1, 1, r.gpu_count};
    TrainingMemory m;
    try {
      m = estimate_training_memory(w, s, plan, *gpu, assumptions);
    } catch (const InputError& e) {
      f.fail("task", e.what());
    }
    r.peak_moment = m.peak_moment;
    // The quantity the row reports: PyTorch's allocated (= active at the peak) or reserved counters, or
    // the device's used memory (nvidia-smi: reserved + managed + CUDA context).
    const Span reserve = allocator_reserve_fraction(*s.stack);
    const double allocated = m.allocated_bytes / k_gib;
    if (r.metric == "allocated" || r.metric == "active") {
      r.estimate_gib = {allocated * 0.9, allocated, allocated * 1.1};
    } else {
      const double extra = r.metric == "device" ? (m.managed_bytes + m.overhead_bytes) / k_gib : 0.0;
      r.estimate_gib = {allocated * (1 + reserve.low) * 0.9 + extra, allocated * (1 + reserve.expected) + extra,
                        allocated * (1 + reserve.high) * 1.1 + extra};
    }
    r.excluded = f.string_or("exclude", "");
    r.error = r.estimate_gib.expected / r.measured_gib - 1;
    r.within_range = r.measured_gib >= r.estimate_gib.low && r.measured_gib <= r.estimate_gib.high;
    out.push_back(std::move(r));
  }
  return out;
}

double median_abs_error(const std::vector<TrainingMemoryRow>& rows) {
  std::vector<double> e;
  for (const auto& r : rows)
    if (r.excluded.empty()) e.push_back(std::abs(r.error));
  if (e.empty()) return 0;
  std::sort(e.begin(), e.end());
  const std::size_t n = e.size();
  return n % 2 ? e[n / 2] : (e[n / 2 - 1] + e[n / 2]) / 2;
}

void write_training_memory_text(std::ostream& out, const std::vector<TrainingMemoryRow>& rows) {
  out << "| id | stack | model | task | GPUs | micro-batch x seq | metric | published GiB | estimate GiB (low-high) | error | peak at |\n"
      << "|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows)
    out << fmt::format("| {} | {} | {} | {} | {}x {} | {} x {} | {} | {:.2f} | {:.2f} ({:.2f}-{:.2f}) | {:+.1f}%{} | {} |\n", r.id,
                       r.stack, r.model, r.task, r.gpu_count, r.gpu, r.micro_batch, r.sequence, r.metric, r.measured_gib,
                       r.estimate_gib.expected, r.estimate_gib.low, r.estimate_gib.high, r.error * 100,
                       r.excluded.empty() ? "" : " (excluded)", r.peak_moment);
  for (const auto& r : rows)
    if (!r.excluded.empty()) out << fmt::format("\nexcluded {}: {}\n", r.id, r.excluded);
  int counted = 0, in_range = 0;
  std::vector<std::string> sources;
  for (const auto& r : rows) {
    if (!r.excluded.empty()) continue;
    ++counted;
    if (r.within_range) ++in_range;
  }
  out << fmt::format("\nrows counted: {}; median absolute error: {:.1f}%; measured within the estimate's range: {}/{}\n", counted,
                     median_abs_error(rows) * 100, in_range, counted);
}

nlohmann::json training_memory_json(const std::vector<TrainingMemoryRow>& rows) {
  nlohmann::json list = nlohmann::json::array();
  int counted = 0;
  for (const auto& r : rows) {
    if (r.excluded.empty()) ++counted;
    list.push_back({{"id", r.id}, {"source", r.source}, {"trainer", r.trainer}, {"stack", r.stack}, {"model", r.model},
                    {"task", r.task}, {"gpu", r.gpu}, {"gpu_count", r.gpu_count}, {"micro_batch", r.micro_batch},
                    {"sequence", r.sequence}, {"metric", r.metric}, {"measured_gib", r.measured_gib},
                    {"estimate_gib", r.estimate_gib.expected}, {"low_gib", r.estimate_gib.low}, {"high_gib", r.estimate_gib.high},
                    {"error", r.error}, {"within_range", r.within_range}, {"peak_moment", r.peak_moment},
                    {"excluded", r.excluded.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.excluded)}});
  }
  return {{"schema_version", 1}, {"rows", list}, {"summary", {{"rows", counted}, {"median_abs_error", median_abs_error(rows)}}}};
}

} // namespace gpuadvise
