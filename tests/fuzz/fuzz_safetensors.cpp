// Fuzz target: the safetensors header reader (--model given a .safetensors file). Any input is either an InputError
// or a table whose byte and parameter sums are finite and non-negative.
#include "fuzz_common.hpp"

#include <gpuadvise/error.hpp>
#include <gpuadvise/model_files.hpp>

using namespace gpuadvise;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const std::string text = fuzz::text_of(data, size);
    const TensorTable t = parse_safetensors_header(text, "fuzz.safetensors");
    fuzz::must_be_quantity(static_cast<double>(t.total_bytes));
    fuzz::must_be_quantity(t.parameters);
  } catch (const Error&) {
  }
  return 0;
}
