#pragma once
/// Reading the files users name on the command line.
#include <string>
#include <string_view>

namespace gpuadvise {

/// Reads a whole file; throws InputError naming `what` and the path when it cannot be read.
std::string read_text_file(const std::string& path, std::string_view what);

} // namespace gpuadvise
