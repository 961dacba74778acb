// Fuzz target: the quantity parsers of units.hpp (parameter counts, token counts, positive integers)
// and the formatters applied to whatever they accept.
#include "fuzz_common.hpp"

#include <gpuadvise/error.hpp>
#include <gpuadvise/units.hpp>

using namespace gpuadvise;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = fuzz::text_of(data, size);
  try {
    const double params = parse_param_count(text);
    if (!(params >= 1e6 && params <= k_max_param_count)) __builtin_trap();
    (void)format_params(params);
  } catch (const Error&) {
  }
  try {
    const std::int64_t tokens = parse_token_count(text, "--context");
    if (tokens < 1 || static_cast<double>(tokens) > k_max_tokens_per_sequence) __builtin_trap();
  } catch (const Error&) {
  }
  try {
    const std::int64_t tokens = parse_token_count(text, "--tokens", 1e15);
    if (tokens < 1 || static_cast<double>(tokens) > 1e15) __builtin_trap();
  } catch (const Error&) {
  }
  try {
    const std::int64_t n = parse_positive_int(text, "--batch", 1'000'000);
    if (n < 1 || n > 1'000'000) __builtin_trap();
  } catch (const Error&) {
  }
  try {
    const std::int64_t n = parse_positive_int(text, "--requests", 1'000'000'000'000LL);
    if (n < 1 || n > 1'000'000'000'000LL) __builtin_trap();
  } catch (const Error&) {
  }
  (void)normalize_name(text);
  if (size <= 256) (void)edit_distance(text, "llama-2-13b");
  return 0;
}
