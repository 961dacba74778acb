// gpuadvise: the command line. Builds every command from one table, dispatches, and maps errors to exit codes.
#include "cli/commands.hpp"

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

/// One command: its name (empty for the default command, whose options are the top level's), its one-line
/// description, and its setup/run pair over an options struct only they know.
struct Command {
  std::string_view name;
  std::string_view description;
  std::shared_ptr<void> (*setup)(CLI::App&);
  int (*run)(const void* options, std::ostream& out);
};

/// A table row from an options struct and the setup/run pair of its command.
template <class Options, void (*Setup)(CLI::App&, Options&), int (*Run)(const Options&, std::ostream&)>
constexpr Command command(std::string_view name, std::string_view description) {
  return {name, description,
          [](CLI::App& app) -> std::shared_ptr<void> {
            auto options = std::make_shared<Options>();
            Setup(app, *options);
            return options;
          },
          [](const void* options, std::ostream& out) { return Run(*static_cast<const Options*>(options), out); }};
}

/// Every command, in --help order; adding one is one row.
constexpr Command k_commands[] = {
    command<AdviseCli, setup_advise, run_advise>("", "gpuadvise: which GPU should run this model, will it fit, how fast, "
                                                     "and what will it cost?"),
    command<GpusCli, setup_gpus, run_gpus>("gpus", "List the GPU catalog: memory, bandwidth, dense TFLOPS, interconnect, price"),
    command<ModelsCli, setup_models, run_models>("models", "List the model presets with their shapes and parameter counts"),
    command<CheckCli, setup_check, run_check>(
        "check", "Check deployment files or vLLM configs: exit 1 when one will not fit or breaks a budget"),
    command<CatalogCli, setup_catalog, run_catalog>("catalog", "Validate a catalog file, or print the merged catalog as JSON"),
    command<ValidateCli, setup_validate, run_validate>("validate", "Run the estimator on published measurements and print the errors"),
    command<SweepCli, setup_sweep, run_sweep>("sweep", "The same workload over a grid of batches, contexts and precisions, per GPU"),
    command<ServeCli, setup_serve, run_serve>(
        "serve", "Serving plan: the fewest replicas that meet a request rate and latency targets, and the cost"),
    command<CompletionsCli, setup_completions, run_completions>("completions", "Print a shell completion script: bash or zsh"),
    command<ManCli, setup_man, run_man>("man", "Print the man page (roff)"),
};

/// The top level's --help footer: examples and the exit-code contract (also in README.md and the man page).
constexpr const char* k_footer = "Examples:\n"
                                 "  gpuadvise --model 13B --precision fp8\n"
                                 "  gpuadvise --model llama-3-8b --gpu l40 --gpu a6000 --batch 16 --context 8k\n"
                                 "  gpuadvise --model llama-2-13b --precision fp16 --gpu l40 --explain\n"
                                 "  gpuadvise --model llama-2-7b --task lora --json | jq .recommendation\n"
                                 "  gpuadvise sweep --model llama-3.1-8b --context 2k..128k --plot sweep.svg\n"
                                 "  gpuadvise check --format github deploy/*.yaml\n"
                                 "Exit codes: 0 recommendation (check: all pass), 1 nothing fits (check: a check failed), "
                                 "2 bad input, 3 internal error.";

/// An option given with an empty value (--precision "", --context=) is an error, for every option of every
/// command: checked here once, after parsing, rather than option by option. Flags take no value.
void reject_empty_values(const CLI::App& app) {
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_expected_min() == 0 && option->nonpositional()) continue;
    for (const auto& value : option->results())
      if (value.empty())
        throw gpuadvise::InputError(option->nonpositional()
                                        ? fmt::format("{} is empty: give it a value, or leave the option out", option->get_name())
                                        : fmt::format("an empty {} argument", option->get_name()));
  }
}

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
    reject_empty_values(*commands[chosen].first);
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
