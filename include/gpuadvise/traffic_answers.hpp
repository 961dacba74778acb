#pragma once
/// The default command's answer for serving without a traffic rate (docs/serving.md, "Without a rate").
#include <gpuadvise/advisor.hpp>

#include <cstddef>
#include <optional>

namespace gpuadvise {

/// Without a traffic rate, the two answers a serving team needs (LLM inference with the batch chosen by
/// the advisor, so each candidate runs at the largest batch its memory allows): the cheapest GPU per hour
/// that fits (low traffic), the cheapest per million output tokens at that batch (high traffic), and the
/// output rate from which one of the second costs less than the first's fleet (docs/serving.md).
struct TrafficAnswers {
  std::size_t low = 0;                 ///< index into Advice::candidates: the lowest $/hr among eligible ones
  std::size_t high = 0;                ///< the lowest $ per 1M output tokens among eligible ones
  /// crossover = price(high) / price(low) x tokens/s(low): the output tokens/s at which enough of `low` to
  /// carry it cost as much per hour as one `high`; 0 when low == high.
  double crossover_tokens_per_s = 0;
};
/// The answers, or none when they do not apply (not LLM inference, --batch given, nothing eligible).
std::optional<TrafficAnswers> traffic_answers(const Advice& advice);

} // namespace gpuadvise
