#include "json_fields.hpp"

#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/embedded.hpp>

namespace gpuadvise {
namespace {

using detail::Fields;

Range read_range(const Fields& parent, const std::string& key) {
  const auto* object = parent.object(key);
  if (!object) parent.fail(key, "expected an object {\"low\", \"expected\", \"high\", \"source\"}");
  const Fields f(*object, fmt::format("{}: efficiency '{}'", parent.where(), key));
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
    if (kind != "bandwidth" && kind != "compute" && kind != "mfu")
      e.fail(it.key(), "keys must start with bandwidth, compute or mfu (optionally :architecture[:precision])");
    out[it.key()] = read_range(e, it.key());
  }
}

} // namespace

Assumptions Assumptions::from_json(std::string_view text, std::string_view origin) {
  const auto doc = detail::parse_json(text, origin);
  const Fields top(doc, std::string(origin));
  Assumptions a;
  a.runtime_overhead_bytes = top.sourced("runtime_overhead_gib", &a.runtime_overhead_source, 0, 64) * 1024 * 1024 * 1024;
  a.max_batched_tokens = top.sourced("max_batched_tokens", &a.max_batched_tokens_source, 1, 1e7);
  a.int4_group_size = static_cast<int>(top.sourced("int4_group_size", &a.int4_group_size_source, 8, 4096));
  a.step_overhead_s = top.sourced("step_overhead_ms", &a.step_overhead_source, 0, 1000) / 1e3;
  a.layer_overhead_s = top.sourced("layer_overhead_us", &a.layer_overhead_source, 0, 1e5) / 1e6;
  read_efficiency(top, a.efficiency);
  for (const char* kind : {"bandwidth", "compute", "mfu"})
    if (!a.efficiency.count(kind)) top.fail("efficiency", fmt::format("missing the default '{}' entry", kind));
  return a;
}

Assumptions Assumptions::embedded() {
  return from_json(embedded_assumptions_json(), "data/assumptions.json (embedded)");
}

void Assumptions::merge_json(std::string_view text, std::string_view origin) {
  const auto doc = detail::parse_json(text, origin);
  const Fields top(doc, std::string(origin));
  if (!top.has("efficiency")) top.fail("efficiency", "missing (a calibration file gives measured fractions here)");
  read_efficiency(top, efficiency);
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
