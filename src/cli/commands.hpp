#pragma once
/// The gpuadvise commands: each is a plain options struct, a setup that registers the options into it and a
/// run that does the work and returns the exit code (0 ok, 1 nothing fits or a check failed). main.cpp lists
/// them in one table. The option structs are named *Cli: the library already has AdviseOptions and CheckOptions.
#include "cli/format.hpp"
#include "cli/inputs.hpp"

#include <gpuadvise/check.hpp>
#include <gpuadvise/listing.hpp>
#include <gpuadvise/workload.hpp>

#include <CLI/CLI.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace gpuadvise::cli {

/// Options of the default command: which GPU for this workload.
struct AdviseCli {
  WorkloadRequest workload;
  std::string batch, runtime, precision, kv_precision, context, input_tokens, requests, tokens, model_config;
  std::vector<std::string> gpus;
  std::string count;
  PricingOptions pricing;
  InputOptions inputs;
  FormatOptions format;
  bool no_color = false;
  bool explain = false;
  // Image/video generation and analytics.
  std::string workload_kind, resolution, frames, steps, dataset_size, rows, bytes_per_row;
  bool no_guidance = false;
  std::vector<std::string> addons, operations;
  // Training and plans.
  std::string task, optimizer, recompute, lora_rank, zero, micro_batch, train_tokens, dataset_tokens, epochs, stack;
  std::vector<std::string> lora_targets;
  bool offload = false;
  std::string node_network, gpus_per_node, max_hours, budget;
  // Deployment files for the plan (docs/deploy.md).
  std::string emit, emit_dir;
};
/// Registers the default command's options (on the top-level app).
void setup_advise(CLI::App& app, AdviseCli& o);
/// Runs the advisor and prints the advice; 0 with a recommendation, 1 without.
int run_advise(const AdviseCli& o, std::ostream& out);

/// Options of `gpuadvise gpus`.
struct GpusCli {
  GpuFilter filter;
  std::string min_memory;
  std::string region;            ///< with --provider: only this region's instances
  std::string stale;             ///< --stale [DAYS]: list prices older than DAYS (bare: 90)
  const CLI::Option* stale_option = nullptr; ///< to tell a bare --stale from none
  std::string as_of;             ///< the date --stale measures from (default: today, UTC)
  InputOptions inputs;
  FormatOptions format;
};
/// Registers `gpus`' options.
void setup_gpus(CLI::App& app, GpusCli& o);
/// Prints the GPU catalog, filtered.
int run_gpus(const GpusCli& o, std::ostream& out);

/// Options of `gpuadvise models`.
struct ModelsCli {
  InputOptions inputs;
  FormatOptions format;
};
/// Registers `models`' options.
void setup_models(CLI::App& app, ModelsCli& o);
/// Prints the model presets.
int run_models(const ModelsCli& o, std::ostream& out);

/// Options of `gpuadvise check`.
struct CheckCli {
  std::vector<std::string> files;
  CheckOptions options;
  PricingOptions pricing;
  std::string count;
  InputOptions inputs;
  FormatOptions format;
};
/// Registers `check`'s options.
void setup_check(CLI::App& app, CheckCli& o);
/// Checks every deployment file, then prints the report; 1 when a check failed.
int run_check(const CheckCli& o, std::ostream& out);

/// Options of `gpuadvise catalog validate|show`.
struct CatalogCli {
  enum class Action { validate, show };
  Action action = Action::show; ///< which subcommand was given (CLI11 requires one)
  std::string file;             ///< validate: the catalog file
  InputOptions inputs;          ///< show: --catalog files
};
/// Registers `catalog` and its subcommands `validate` and `show`.
void setup_catalog(CLI::App& app, CatalogCli& o);
/// Validates a catalog file or prints the merged catalog.
int run_catalog(const CatalogCli& o, std::ostream& out);

/// Options of `gpuadvise validate`.
struct ValidateCli {
  std::string data;
  bool serving = false;
  bool training_memory = false;
  bool engine_memory = false;
  InputOptions inputs;
  FormatOptions format;
};
/// Registers `validate`'s options.
void setup_validate(CLI::App& app, ValidateCli& o);
/// Runs the estimator on published measurements and prints the errors.
int run_validate(const ValidateCli& o, std::ostream& out);

/// Options of `gpuadvise sweep`.
struct SweepCli {
  WorkloadRequest workload;
  std::string precisions = "fp16", batches, contexts, output_tokens, count = "1";
  PricingOptions pricing;
  std::string plot, plot_metric;
  /// A rate sweep (serving simulator): requests/s to simulate, and its lengths, requests, seed, replicas.
  std::string rates, input_tokens, length_profile, requests, seed, replicas;
  std::vector<std::string> gpus;
  InputOptions inputs;
  FormatOptions format;
};
/// Registers `sweep`'s options.
void setup_sweep(CLI::App& app, SweepCli& o);
/// Evaluates the workload over the grid and prints it (and writes --plot).
int run_sweep(const SweepCli& o, std::ostream& out);

/// Options of `gpuadvise serve`.
struct ServeCli {
  WorkloadRequest workload;
  std::string precision, kv_precision, rate, concurrency, input_tokens, output_tokens, input_spread, output_spread;
  std::string length_profile, trace, ttft_p95, ttft_p99, tpot_p95, e2e_p95, tokens_per_s_per_user;
  std::string max_num_seqs, max_num_batched_tokens, prefix_cache_hit_rate, requests, seed, router = "least-outstanding";
  bool no_chunked_prefill = false, explain = false;
  std::vector<std::string> gpus;
  PricingOptions pricing;
  std::vector<std::string> tp_sizes;
  InputOptions inputs;
  FormatOptions format;
};
/// Registers `serve`'s options.
void setup_serve(CLI::App& app, ServeCli& o);
/// Finds the cheapest serving plan that meets the traffic and targets, and prints it.
int run_serve(const ServeCli& o, std::ostream& out);

/// Options of `gpuadvise completions`.
struct CompletionsCli {
  std::string shell;
  const CLI::App* root = nullptr; ///< the whole command line, whose options the script completes
};
/// Registers `completions`' options.
void setup_completions(CLI::App& app, CompletionsCli& o);
/// Prints the bash or zsh completion script.
int run_completions(const CompletionsCli& o, std::ostream& out);

/// Options of `gpuadvise man`.
struct ManCli {
  const CLI::App* root = nullptr; ///< the whole command line, which the page documents
};
/// Registers `man` (no options).
void setup_man(CLI::App& app, ManCli& o);
/// Prints the man page (roff).
int run_man(const ManCli& o, std::ostream& out);

} // namespace gpuadvise::cli
