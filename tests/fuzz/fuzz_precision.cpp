// Fuzz target: parse_precision / parse_kv_precision and the per-element byte counts of what they accept.
#include "fuzz_common.hpp"

#include <gpuadvise/error.hpp>
#include <gpuadvise/precision.hpp>

using namespace gpuadvise;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = fuzz::text_of(data, size);
  try {
    const Precision p = parse_precision(text);
    if (parse_precision(to_string(p)) != p) __builtin_trap(); // to_string is the inverse
    for (int group : {1, 32, 64, 128, 4096}) {
      const double bytes = weight_bytes_per_param(p, group);
      if (!(bytes > 0) || !std::isfinite(bytes)) __builtin_trap();
      fuzz::must_be_quantity(embedding_bytes_per_param(p, group));
    }
    fuzz::must_be_quantity(activation_bytes_per_element(p));
  } catch (const Error&) {
  }
  try {
    const Precision kv = parse_kv_precision(text);
    if (!(kv_bytes_per_element(kv) > 0)) __builtin_trap();
  } catch (const Error&) {
  }
  return 0;
}
