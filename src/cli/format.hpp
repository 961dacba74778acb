#pragma once
/// --format NAME and its shorthand --json, the same for every command that prints a result.
#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise::cli {

/// The output format as given on the command line.
struct FormatOptions {
  std::string format; ///< --format; empty when not given
  bool json = false;  ///< --json, the same as --format json
};

/// Registers --format (one of `choices`, described by `format_help`) and --json (described by `json_help`).
void add_format_options(CLI::App& app, FormatOptions& o, const std::vector<std::string>& choices,
                        const std::string& format_help, const std::string& json_help);
/// The format to write: --format, json for --json, else `fallback`; --json with another --format is an InputError.
std::string chosen_format(const FormatOptions& o, std::string_view fallback);
/// Throws InputError for an option of `app` given with an empty value (flags take none).
void reject_empty_values(const CLI::App& app);

} // namespace gpuadvise::cli
