#pragma once
// Internal: the bytes and FLOPs of image/video generation and analytics, called by estimate.cpp.
#include <gpuadvise/estimate.hpp>
#include <gpuadvise/evaluation.hpp>

namespace gpuadvise::detail {

MemoryEstimate generative_memory(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count,
                                 const Assumptions& a);
PerfEstimate generative_performance(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count,
                                    const Assumptions& a);
MemoryEstimate analytics_memory(const Workload& w, const Gpu& gpu, int count, const Assumptions& a);
PerfEstimate analytics_performance(const Workload& w, const Gpu& gpu, int count, const Assumptions& a);

/// Parts of an image/video generation candidate (diffusion and video kinds).
std::vector<Part> generative_parts(const Workload& w, const Candidate& c, const Assumptions& a);
/// Parts of an analytics candidate.
std::vector<Part> analytics_parts(const Workload& w, const Candidate& c, const Assumptions& a);
/// LLM inference memory and speed (the bodies behind estimate_memory/estimate_performance for LLMs).
MemoryEstimate llm_memory(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count, const Assumptions& a);
PerfEstimate llm_performance(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count, const Assumptions& a);
/// Parts of an LLM candidate: inference, or the training plan when the candidate has one.
std::vector<Part> llm_parts(const Workload& w, const Candidate& c, const Assumptions& a);
/// Parts of a training candidate (its plan, memory per GPU, step and throughput).
std::vector<Part> training_parts(const Workload& w, const Candidate& c, const Assumptions& a);

} // namespace gpuadvise::detail
