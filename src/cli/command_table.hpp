#pragma once
// Internal to the executable: the table of commands main.cpp dispatches over, and the top-level footer.
// Adding a command is one row in k_commands.
#include "cli/commands.hpp"

#include <memory>
#include <ostream>
#include <string_view>

namespace gpuadvise::cli {

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

} // namespace gpuadvise::cli
