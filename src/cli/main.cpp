// gpuadvise: the command line. Builds every command from one table, dispatches, and maps errors to exit codes.
#include "cli/command_table.hpp"

#include <gpuadvise/embedded.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/report.hpp>

#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <string_view>

namespace {

using namespace gpuadvise::cli;

/// Prints an error line: names from files may hold terminal escapes, so the whole line is made printable.
void print_error(std::string_view kind, std::string_view message) {
  std::cerr << "gpuadvise: " << kind << ": " << gpuadvise::printable(message) << "\n";
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{std::string(k_commands[0].description)};
  app.set_version_flag("--version", std::string("gpuadvise ") + gpuadvise::k_version + " (GPU catalog " +
                                        gpuadvise::embedded_catalog_date() + ")");
  app.require_subcommand(0, 1);
  std::vector<std::pair<const CLI::App*, std::shared_ptr<void>>> commands;
  for (const Command& c : k_commands) {
    CLI::App* target = c.name.empty() ? &app : app.add_subcommand(std::string(c.name), std::string(c.description));
    commands.emplace_back(target, c.setup(*target));
  }
  app.footer(k_footer); // after the subcommands: they would inherit it
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error("error", e.what());
    return 2;
  }
  try {
    // The subcommand given, else the default command.
    std::size_t chosen = 0;
    for (std::size_t i = 1; i < commands.size(); ++i)
      if (commands[i].first->parsed()) chosen = i;
    gpuadvise::cli::reject_empty_values(*commands[chosen].first);
    errno = 0;
    const int code = k_commands[chosen].run(commands[chosen].second.get(), std::cout);
    // One check for every command: output that did not reach stdout (a full disk, a closed pipe) is an error.
    std::cout.flush();
    if (!std::cout) {
      print_error("error", fmt::format("cannot write to standard output{}", errno ? fmt::format(": {}", std::strerror(errno)) : ""));
      return 2;
    }
    return code;
  } catch (const gpuadvise::Error& e) {
    print_error("error", e.what());
    return 2;
  } catch (const std::exception& e) { // gpuadvise::InternalError and anything else unexpected
    print_error("internal error", e.what());
  } catch (...) {
    print_error("internal error", "an unknown exception");
  }
  return 3;
}
