#include <gpuadvise/error.hpp>
#include <gpuadvise/files.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gpuadvise {

std::string read_text_file(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(fmt::format("cannot read {} '{}': it is a directory", what, path));
  // Devices and pipes (/dev/zero, a FIFO) could be read forever: only regular files are inputs.
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw InputError(fmt::format("cannot read {} '{}': not a regular file", what, path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("cannot read {} '{}': {}", what, path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(fmt::format("cannot read {} '{}': read error", what, path));
  return text.str();
}

} // namespace gpuadvise
