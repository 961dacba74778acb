#include "json_fields.hpp"

#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/error.hpp>

#include <vector>

namespace gpuadvise {
namespace {

using detail::Fields;

Range read_range(const Fields& parent, const std::string& key) {
  const auto* object = parent.object(key);
  if (!object) parent.fail(key, "expected an object {\"low\", \"expected\", \"high\", \"source\"}");
  const Fields f(*object, fmt::format("{}: efficiency '{}'", parent.where(), key));
  f.only({"low", "expected", "high", "source"});
  Range r;
  r.low = f.number("low", 1e-4, 1);
  r.expected = f.number("expected", 1e-4, 1);
  r.high = f.number("high", 1e-4, 1);
  r.source = f.string("source");
  if (!(r.low <= r.expected && r.expected <= r.high)) f.fail("expected", "must satisfy low <= expected <= high");
  return r;
}

void read_efficiency(const Fields& top, std::map<std::string, Range>& out) {
  const auto* efficiency = top.object("efficiency");
  if (!efficiency) return;
  const Fields e(*efficiency, top.where() + ": field 'efficiency'");
  for (auto it = efficiency->begin(); it != efficiency->end(); ++it) {
    const std::string kind = it.key().substr(0, it.key().find(':'));
    // train_*: the training step's GEMM, attention and elementwise fractions (docs/training.md section 3b).
    if (kind != "bandwidth" && kind != "compute" && kind != "mfu" && kind != "train_gemm" && kind != "train_attention" &&
        kind != "train_attention_fused" && kind != "train_elementwise")
      e.fail(it.key(), "keys must start with bandwidth, compute, mfu, train_gemm, train_attention, train_attention_fused or "
                       "train_elementwise (optionally :architecture[:precision])");
    out[it.key()] = read_range(e, it.key());
  }
}

} // namespace

Assumptions Assumptions::from_json(std::string_view text, std::string_view origin) {
  const auto doc = detail::parse_json(text, origin);
  const Fields top(doc, std::string(origin));
  top.only({"description", "runtime_overhead_gib", "max_batched_tokens", "gemm_half_efficiency_tokens",
            "moe_compute_efficiency", "int4_group_size", "constants", "runtimes", "default_runtime", "efficiency"});
  Assumptions a;
  a.runtime_overhead_bytes = top.sourced("runtime_overhead_gib", &a.runtime_overhead_source, 0, 64) * 1024 * 1024 * 1024;
  a.max_batched_tokens = top.sourced("max_batched_tokens", &a.max_batched_tokens_source, 1, 1e7);
  a.gemm_half_tokens = top.sourced("gemm_half_efficiency_tokens", &a.gemm_half_tokens_source, 0, 1e6);
  a.moe_compute_efficiency = top.sourced("moe_compute_efficiency", &a.moe_compute_efficiency_source, 0.01, 1);
  a.int4_group_size = static_cast<int>(top.sourced("int4_group_size", &a.int4_group_size_source, 8, 4096));
  if (const auto* constants = top.object("constants")) {
    const Fields c(*constants, top.where() + ": field 'constants'");
    for (auto it = constants->begin(); it != constants->end(); ++it) {
      std::string source;
      const double value = c.sourced(it.key(), &source, 0, 1e12);
      a.constants[it.key()] = Range{value, value, value, source};
    }
  }
  const auto* runtimes = top.object("runtimes");
  if (!runtimes) top.fail("runtimes", "missing (expected an object of serving runtimes)");
  for (auto it = runtimes->begin(); it != runtimes->end(); ++it) {
    const Fields r(it.value(), fmt::format("{}: runtime '{}'", origin, it.key()));
    r.only({"name", "step_overhead_ms", "layer_overhead_us", "fp16_accumulate", "compute_scale", "bandwidth_scale", "source"});
    Runtime runtime;
    runtime.id = it.key();
    runtime.name = r.string("name");
    runtime.step_overhead_s = r.number("step_overhead_ms", 0, 1000) / 1e3;
    runtime.layer_overhead_s = r.number("layer_overhead_us", 0, 1e5) / 1e6;
    runtime.fp16_accumulate = r.boolean_or("fp16_accumulate", false);
    runtime.compute_scale = r.number_or("compute_scale", 1, 0.05, 2);
    runtime.bandwidth_scale = r.number_or("bandwidth_scale", 1, 0.05, 2);
    runtime.source = r.string("source");
    a.runtimes[runtime.id] = runtime;
  }
  a.default_runtime = top.string("default_runtime");
  if (!a.runtimes.count(a.default_runtime)) top.fail("default_runtime", "is not one of the runtimes");
  read_efficiency(top, a.efficiency);
  for (const char* kind : {"bandwidth", "compute", "mfu"})
    if (!a.efficiency.count(kind)) top.fail("efficiency", fmt::format("missing the default '{}' entry", kind));
  return a;
}


void Assumptions::merge_json(std::string_view text, std::string_view origin) {
  const auto doc = detail::parse_json(text, origin);
  const Fields top(doc, std::string(origin));
  top.only({"description", "efficiency"});
  if (!top.has("efficiency")) top.fail("efficiency", "missing (a calibration file gives measured fractions here)");
  read_efficiency(top, efficiency);
}

double Assumptions::constant(std::string_view name) const {
  auto it = constants.find(std::string(name));
  if (it == constants.end()) throw CatalogError(fmt::format("data/assumptions.json has no constant '{}'", name));
  return it->second.expected;
}

const Runtime& Assumptions::runtime(std::string_view id) const {
  auto it = runtimes.find(std::string(id));
  if (it != runtimes.end()) return it->second;
  std::vector<std::string> known;
  for (const auto& [key, value] : runtimes) known.push_back(key);
  throw InputError(fmt::format("unknown --runtime '{}': expected one of {}", id, fmt::join(known, ", ")));
}

const Range& Assumptions::fraction(std::string_view kind, std::string_view architecture, Precision precision) const {
  const std::string base(kind);
  const std::string arch(architecture);
  const std::string prec(to_string(precision));
  for (const std::string& key : {base + ":" + arch + ":" + prec, base + ":" + arch, base + ":*:" + prec, base}) {
    auto it = efficiency.find(key);
    if (it != efficiency.end()) return it->second;
  }
  throw CatalogError("no efficiency entry for " + base);
}

} // namespace gpuadvise
