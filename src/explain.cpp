#include <gpuadvise/evaluation.hpp>
#include <gpuadvise/explain.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gpuadvise {

std::vector<ExplainTerm> explain(const Workload& w, const Candidate& c, const Assumptions& a) {
  return kind_module(w.kind).parts(w, c, a);
}

void write_explain_text(std::ostream& out, const Candidate& c, const std::vector<ExplainTerm>& terms) {
  out << fmt::format("\nExplain: {}\n", c.plan_text());
  for (const auto& term : terms) {
    out << fmt::format("  {}\n    = {}\n    = {}\n", term.name, term.formula, term.substituted);
    for (const auto& source : term.sources) out << "    source: " << source << "\n";
  }
}

nlohmann::json explain_json(const std::vector<ExplainTerm>& terms) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& t : terms)
  {
    nlohmann::json term = {{"name", t.name},   {"group", to_string(t.group)}, {"formula", t.formula},
                           {"substituted", t.substituted}, {"value", t.unit == "bytes" ? nlohmann::json(std::llround(t.value)) : nlohmann::json(round_significant(t.value))}, {"unit", t.unit},
                           {"per", t.per.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.per)}, {"sources", t.sources}};
    if (t.range) term["range"] = {{"low", round_significant(t.range->low)}, {"high", round_significant(t.range->high)}};
    list.push_back(std::move(term));
  }
  return list;
}

} // namespace gpuadvise
