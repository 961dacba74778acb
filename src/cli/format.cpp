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

/// An option given with an empty value (--precision "", --context=) is an error, for every option of every
/// command: checked here once, after parsing, rather than option by option. Flags take no value.
void reject_empty_values(const CLI::App& app) {
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_expected_min() == 0 && option->nonpositional()) continue;
    for (const auto& value : option->results())
      if (value.empty())
        throw InputError(option->nonpositional()
                                        ? fmt::format("{} is empty: give it a value, or leave the option out", option->get_name())
                                        : fmt::format("an empty {} argument", option->get_name()));
  }
}

} // namespace gpuadvise::cli
