// Fuzz target: the gguf header reader (--model given a .gguf file). Any input is either an InputError
// or a table whose byte and parameter sums are finite and non-negative.
#include "fuzz_common.hpp"

#include <gpuadvise/error.hpp>
#include <gpuadvise/model_files.hpp>

using namespace gpuadvise;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const std::string text = fuzz::text_of(data, size);
    const GgufModel g = parse_gguf(text, "fuzz.gguf");
    fuzz::must_be_quantity(static_cast<double>(g.table.total_bytes));
    if (g.shape.num_layers < 1 || g.shape.hidden_size < 1 || g.shape.num_kv_heads < 1 || g.shape.head_dim < 1)
      __builtin_trap(); // an accepted shape has every dimension the estimators use
    fuzz::must_be_quantity(count_params(g.shape).total);
    fuzz::must_be_quantity(kv_cache_bytes_per_sequence(g.shape, 4096, 2));
  } catch (const Error&) {
  }
  return 0;
}
