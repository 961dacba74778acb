#pragma once
// Shared helpers of the libFuzzer targets (tests/fuzz, built with -DGPUADVISE_FUZZ=ON).
// Every target feeds the input to one library entry point. A gpuadvise::Error is the expected way to
// reject bad input and is swallowed; anything else escapes and libFuzzer reports it as a crash.
// Numbers that must be finite and non-negative are checked with must_be_quantity(), which traps.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/estimate.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace gpuadvise::fuzz {

/// Keeps a target that can resolve a model id off the network and out of the user's cache: the
/// Hugging Face lookups see HF_HUB_OFFLINE=1 and an empty cache folder under the working directory
/// (tests/fuzz/run.sh runs each target inside its scratch corpus folder).
inline void stay_offline() {
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  ::setenv("HF_HUB_CACHE", "fuzz-hf-cache-absent", 1);
  ::unsetenv("HF_TOKEN");
}

/// The fuzzer's bytes as text.
inline std::string text_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

/// Says which number was wrong, then traps (libFuzzer saves the input as a crash).
[[noreturn]] inline void fail(const char* what, double value) {
  std::fprintf(stderr, "gpuadvise fuzz check failed: %s = %g\n", what, value);
  __builtin_trap();
}

/// Traps unless `value` is a finite number >= 0 (bytes, seconds, dollars, tokens/s).
inline void must_be_quantity(double value, const char* what = "quantity") {
  if (!std::isfinite(value) || value < 0) fail(what, value);
}

/// Traps unless `value` is a finite number (may be negative: e.g. a KV budget that is overdrawn).
inline void must_be_finite(double value, const char* what = "number") {
  if (!std::isfinite(value)) fail(what, value);
}

/// Traps unless low <= expected <= high and all three are quantities.
inline void must_be_span(const Span& s, const char* what = "span") {
  must_be_quantity(s.low, what);
  must_be_quantity(s.expected, what);
  must_be_quantity(s.high, what);
}

inline void must_be_memory(const MemoryEstimate& m) {
  must_be_quantity(m.weights_bytes, "m.weights_bytes");
  must_be_quantity(m.kv_cache_bytes, "m.kv_cache_bytes");
  must_be_quantity(m.activation_bytes, "m.activation_bytes");
  must_be_quantity(m.overhead_bytes, "m.overhead_bytes");
  must_be_quantity(m.total_bytes, "m.total_bytes");
  must_be_quantity(m.usable_bytes, "m.usable_bytes");
  must_be_quantity(m.allocatable_bytes, "m.allocatable_bytes");
}

inline void must_be_perf(const PerfEstimate& p) {
  must_be_span(p.prefill_tokens_per_s, "p.prefill_tokens_per_s");
  must_be_span(p.time_to_first_token_s, "p.time_to_first_token_s");
  must_be_span(p.decode_step_s, "p.decode_step_s");
  must_be_span(p.decode_tokens_per_s, "p.decode_tokens_per_s");
  must_be_span(p.decode_tokens_per_s_per_sequence, "p.decode_tokens_per_s_per_sequence");
  must_be_span(p.prefill_job_s, "p.prefill_job_s");
  must_be_span(p.decode_job_s, "p.decode_job_s");
  must_be_span(p.job_s, "p.job_s");
  must_be_quantity(p.decode_bytes_per_step, "p.decode_bytes_per_step");
  must_be_quantity(p.decode_flops_per_step, "p.decode_flops_per_step");
  must_be_quantity(p.prefill_flops_per_token, "p.prefill_flops_per_token");
  must_be_quantity(p.communication_s_per_step, "p.communication_s_per_step");
}

inline void must_be_cost(const CostEstimate& c) {
  must_be_quantity(c.usd_per_hour, "c.usd_per_hour");
  must_be_span(c.job_usd, "c.job_usd");
  must_be_span(c.usd_per_million_tokens, "c.usd_per_million_tokens");
}

/// Every number of one evaluated candidate.
inline void must_be_candidate(const Candidate& c) {
  if (c.batch < 1) fail("batch", static_cast<double>(c.batch));
  must_be_memory(c.memory);
  must_be_perf(c.performance);
  must_be_cost(c.cost);
}

/// Every number in a JSON document must be finite (nlohmann writes NaN and inf as null, silently), and
/// every "*_bytes" field but the headroom must be >= 0 (a byte count past 2^63 rounds to a negative).
inline void must_be_finite_json(const nlohmann::json& j) {
  if (j.is_number_float()) must_be_finite(j.get<double>(), "JSON number");
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& key = it.key();
      const bool bytes = key.size() > 6 && key.compare(key.size() - 6, 6, "_bytes") == 0;
      if (bytes && key.find("headroom") == std::string::npos && key.find("budget") == std::string::npos &&
          it->is_number() && it->get<double>() < 0)
        fail(key.c_str(), it->get<double>());
      must_be_finite_json(*it);
    }
  } else if (j.is_array()) {
    for (const auto& item : j) must_be_finite_json(item);
  }
}

} // namespace gpuadvise::fuzz
