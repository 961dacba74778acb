#pragma once
// Internal: the bytes and FLOPs of image/video generation and analytics, called by estimate.cpp.
#include <gpuadvise/estimate.hpp>

namespace gpuadvise::detail {

MemoryEstimate generative_memory(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count,
                                 const Assumptions& a);
PerfEstimate generative_performance(const Workload& w, const PrecisionDecision& p, const Gpu& gpu, int count,
                                    const Assumptions& a);
MemoryEstimate analytics_memory(const Workload& w, const Gpu& gpu, int count, const Assumptions& a);
PerfEstimate analytics_performance(const Workload& w, const Gpu& gpu, int count, const Assumptions& a);

} // namespace gpuadvise::detail
