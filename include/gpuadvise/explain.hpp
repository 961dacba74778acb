#pragma once
/// `--explain`: every estimate of one candidate as its formula, the numbers put in, and their sources.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/evaluation.hpp>

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace gpuadvise {

/// One line of the explanation: a part of the candidate's evaluation.
using ExplainTerm = Part;

/// The parts behind a candidate's memory, speed and cost, from its kind's module (training candidates:
/// the plan's). Values are the estimator's own numbers (a test checks it for every kind).
std::vector<ExplainTerm> explain(const Workload& w, const Candidate& c, const Assumptions& a);

void write_explain_text(std::ostream& out, const Candidate& c, const std::vector<ExplainTerm>& terms);
nlohmann::json explain_json(const std::vector<ExplainTerm>& terms);

} // namespace gpuadvise
