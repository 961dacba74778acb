// --format and --json: one option style for every command's output.
#include "cli/format.hpp"

#include <gpuadvise/error.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace gpuadvise::cli {

void add_format_options(CLI::App& app, FormatOptions& o, const std::vector<std::string>& choices,
                        const std::string& format_help, const std::string& json_help) {
  const std::string listed = fmt::format("{}", fmt::join(choices, " | "));
  auto one_of = [choices, listed](std::string& value) -> std::string {
    if (std::find(choices.begin(), choices.end(), value) != choices.end()) return {};
    if (value.empty()) return fmt::format("empty; expected {}", listed);
    return fmt::format("'{}' is not one of {}", value, listed);
  };
  // Described as CLI::IsMember would be: TEXT:{text,json} in --help.
  app.add_option("--format", o.format, format_help)
      ->check(CLI::Validator(one_of, fmt::format("{{{}}}", fmt::join(choices, ",")), "format"));
  app.add_flag("--json", o.json, json_help);
}

std::string chosen_format(const FormatOptions& o, std::string_view fallback) {
  if (o.json && !o.format.empty() && o.format != "json")
    throw InputError(fmt::format("--json and --format {} disagree: --json means --format json; give one of them", o.format));
  if (o.json) return "json";
  return o.format.empty() ? std::string(fallback) : o.format;
}

} // namespace gpuadvise::cli
