#pragma once
/// `--explain`: every estimate of one candidate as its formula, the numbers put in, and their sources.
#include <gpuadvise/advisor.hpp>

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace gpuadvise {

/// One line of the explanation.
struct ExplainTerm {
  std::string name;                  ///< e.g. "kv_cache_bytes"
  std::string formula;               ///< symbolic, e.g. "2 x layers x KV heads x head dim x bytes x tokens x sequences"
  std::string substituted;           ///< the same with the numbers put in
  double value = 0;
  std::string unit;                  ///< "bytes", "s", "tokens/s", "USD", ...
  std::vector<std::string> sources;  ///< where each constant comes from
};

/// The terms behind a candidate's memory, speed and cost (inference candidates; training candidates
/// get their memory and step terms). Values equal the estimator's (a test checks it).
std::vector<ExplainTerm> explain(const Workload& w, const Candidate& c, const Assumptions& a);

void write_explain_text(std::ostream& out, const Candidate& c, const std::vector<ExplainTerm>& terms);
nlohmann::json explain_json(const std::vector<ExplainTerm>& terms);

} // namespace gpuadvise
