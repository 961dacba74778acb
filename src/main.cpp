// gpuadvise: the command line. It parses options into plain structs, calls the library, and prints.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/check.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/embedded.hpp>
#include <gpuadvise/explain.hpp>
#include <gpuadvise/files.hpp>
#include <gpuadvise/generative.hpp>
#include <gpuadvise/listing.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/report.hpp>
#include <gpuadvise/svg.hpp>
#include <gpuadvise/sweep.hpp>
#include <gpuadvise/units.hpp>
#include <gpuadvise/training.hpp>
#include <gpuadvise/validation.hpp>
#include <gpuadvise/workload.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <unistd.h>

namespace {

using namespace gpuadvise;

/// Options of the default command (advise).
struct AdviseCli {
  WorkloadRequest workload;
  std::string batch, runtime, precision, kv_precision, context, input_tokens, requests, tokens, model_config;
  std::vector<std::string> gpus;
  std::string count;
  std::string provider;
  std::vector<std::string> catalogs;
  std::vector<std::string> prices;
  std::vector<std::string> models_catalogs;
  std::string calibration;
  bool json = false;
  bool no_color = false;
  bool explain = false;
  // Image/video generation and analytics.
  std::string workload_kind, resolution, frames, steps, dataset_size, rows, bytes_per_row;
  bool no_guidance = false;
  std::vector<std::string> addons, operations;
  // Training and plans.
  std::string task, optimizer, recompute, lora_rank, zero, micro_batch, train_tokens, dataset_tokens, epochs;
  std::vector<std::string> lora_targets;
  bool offload = false;
  std::string node_network, gpus_per_node, max_hours, budget;
};

void setup_advise(CLI::App& app, AdviseCli& o) {
  app.add_option("--model,-m", o.workload.model, "Model: a size (13B, 7b, 350M, 1.5T, 13e9) or a preset (llama-2-13b)");
  app.add_option("--model-config", o.model_config, "A Hugging Face config.json to take the model's shape from");
  app.add_option("--precision,-p", o.precision,
                 "Weights and compute: fp32|fp16|bf16|fp8|int8|int8-wo|int4|nf4 (default fp16, or the config's quantization)");
  app.add_option("--kv-precision", o.kv_precision, "KV cache: fp16|bf16|fp8|int8 (default: the 16-bit compute dtype)");
  app.add_option("--batch,-b", o.batch,
                 "Concurrent sequences (default: per GPU, the batch with the lowest job cost that fits, up to 256)");
  app.add_option("--context,-c", o.context, "Tokens per sequence held in the KV cache: 4096, 4k, 128k (default 4096)");
  app.add_option("--input-tokens", o.input_tokens, "Prompt tokens per request (default: context - output tokens)");
  app.add_option("--output-tokens", o.workload.output_tokens, "Generated tokens per request (default 256)");
  app.add_option("--requests", o.requests, "Requests in the job (default 1000)");
  app.add_option("--tokens", o.tokens, "Total generated tokens in the job (instead of --requests)");
  app.add_option("--memory-utilization", o.workload.memory_utilization,
                 "Fraction of GPU memory the runtime may use, as vLLM's gpu_memory_utilization (default 0.90)");
  app.add_option("--runtime", o.runtime, "Serving runtime: vllm|trtllm|llamacpp|transformers (default vllm; llamacpp for GGUF)");
  app.add_option("--gpu,-g", o.gpus, "Candidate GPU (repeatable): id or alias such as l40, A6000, 'H100 SXM'");
  app.add_option("--count,-n", o.count,
                 "GPUs per candidate (default: the smallest count that fits, 1 when one GPU does; training: the best TP/PP/DP plan)");
  app.add_option("--provider", o.provider, "Price provider (default: the cheapest on-demand price per GPU)");
  app.add_option("--catalog", o.catalogs, "Extra GPU catalog JSON merged over the built-in one (repeatable)");
  app.add_option("--price", o.prices, "Override a price for this run: GPU=USD per GPU-hour (repeatable)");
  app.add_option("--models-catalog", o.models_catalogs, "Extra model catalog JSON (repeatable)");
  app.add_option("--calibration", o.calibration, "JSON with measured efficiency fractions replacing the defaults");
  app.add_option("--workload", o.workload_kind, "llm (default) | diffusion | video | analytics");
  app.add_option("--resolution", o.resolution, "Image/video size: 1024 (square) or 1280x720 (default: the model's)");
  app.add_option("--frames", o.frames, "Video frames per clip (default: the model's)");
  app.add_option("--steps", o.steps, "Denoising steps (default: the model's)");
  app.add_flag("--no-guidance", o.no_guidance, "No classifier-free guidance (one denoiser pass per step)");
  app.add_option("--addon", o.addons, "Diffusion add-on: controlnet, ip-adapter (repeatable)");
  app.add_option("--dataset-size", o.dataset_size, "Analytics: data in GPU memory, e.g. 200GB, 1.5TB");
  app.add_option("--rows", o.rows, "Analytics: rows (e.g. 2B), with --bytes-per-row");
  app.add_option("--bytes-per-row", o.bytes_per_row, "Analytics: bytes per row in memory");
  app.add_option("--ops", o.operations, "Analytics operations per query: scan, filter, groupby, join, sort")->delimiter(',');
  app.add_option("--task", o.task, "inference (default) | finetune | lora | qlora | pretrain");
  app.add_option("--optimizer", o.optimizer, "Training optimizer: adamw (mixed precision, default) | adamw-8bit | sgd");
  app.add_option("--lora-rank", o.lora_rank, "LoRA/QLoRA adapter rank (default 16)");
  app.add_option("--lora-targets", o.lora_targets, "Projections with adapters (default: q k v o gate up down)")->delimiter(',');
  app.add_option("--recompute", o.recompute, "Activation recomputation: none | selective (default) | full");
  app.add_option("--zero", o.zero, "ZeRO/FSDP stage 0-3 across data-parallel GPUs (default 0)");
  app.add_flag("--offload", o.offload, "Keep optimizer states and fp32 master weights in CPU memory (ZeRO-Offload)");
  app.add_option("--micro-batch", o.micro_batch, "Training sequences per micro-batch per GPU group (default 1)");
  app.add_option("--train-tokens", o.train_tokens, "Tokens the training job processes (default 100M; pretrain: 20 x params)");
  app.add_option("--dataset-tokens", o.dataset_tokens, "Dataset size in tokens (with --epochs, instead of --train-tokens)");
  app.add_option("--epochs", o.epochs, "Passes over --dataset-tokens (default 1)");
  app.add_option("--gpus-per-node", o.gpus_per_node, "GPUs per node for multi-node plans (default 8)");
  app.add_option("--node-network", o.node_network, "Network per GPU between nodes, Gb/s (default 400, InfiniBand NDR)");
  app.add_option("--max-hours", o.max_hours, "The job must finish within this many hours");
  app.add_option("--budget", o.budget, "The job must cost at most this many USD");
  app.add_flag("--json", o.json, "Print the result as JSON (schema in docs/json.md)");
  app.add_flag("--explain", o.explain,
               "Show every estimate of the pick (or of the one --gpu) as its formula, numbers and sources");
  app.add_flag("--no-color", o.no_color, "Never colour the output (NO_COLOR is also respected)");
}

/// Options of `gpuadvise gpus`.
struct GpusCli {
  GpuFilter filter;
  std::string min_memory;
  std::vector<std::string> catalogs;
  bool json = false;
};

void setup_gpus(CLI::App& app, GpusCli& o) {
  app.add_option("--name", o.filter.name, "Only GPUs whose id, name or alias contains this (e.g. a100, ada)");
  app.add_option("--min-memory", o.min_memory, "Only GPUs with at least this many GB of memory (e.g. 48)");
  app.add_option("--provider", o.filter.provider, "Show this provider's price (default: cheapest on-demand)");
  app.add_option("--catalog", o.catalogs, "Extra GPU catalog JSON merged over the built-in one (repeatable)");
  app.add_flag("--json", o.json, "Print the catalog as JSON");
}

GpuCatalog load_catalog(const std::vector<std::string>& paths) {
  auto catalog = GpuCatalog::embedded();
  for (const auto& path : paths) catalog.merge_json(read_text_file(path, "catalog"), path);
  return catalog;
}

int run_gpus(GpusCli& o) {
  const auto catalog = load_catalog(o.catalogs);
  if (!o.min_memory.empty()) {
    char* end = nullptr;
    o.filter.min_memory_gb = std::strtod(o.min_memory.c_str(), &end);
    if (end == o.min_memory.c_str() || *end != '\0' || !(o.filter.min_memory_gb >= 0) || o.filter.min_memory_gb > 1e6)
      throw InputError(fmt::format("invalid --min-memory '{}': expected a number of GB such as 48", o.min_memory));
  }
  const auto gpus = select_gpus(catalog, o.filter);
  if (o.json) std::cout << gpus_json(gpus, o.filter, catalog.catalog_date()).dump(2) << "\n";
  else write_gpus_text(std::cout, gpus, o.filter);
  return 0;
}

/// Options of `gpuadvise models`.
struct ModelsCli {
  std::vector<std::string> models_catalogs;
  bool json = false;
};

void setup_models(CLI::App& app, ModelsCli& o) {
  app.add_option("--models-catalog", o.models_catalogs, "Extra model catalog JSON (repeatable)");
  app.add_flag("--json", o.json, "Print the presets as JSON");
}

int run_models(const ModelsCli& o) {
  auto models = ModelCatalog::embedded();
  for (const auto& path : o.models_catalogs) models.merge_json(read_text_file(path, "models catalog"), path);
  if (o.json) std::cout << models_json(models).dump(2) << "\n";
  else write_models_text(std::cout, models);
  return 0;
}

/// Options of `gpuadvise validate`.
struct ValidateCli {
  std::string data;
  std::string calibration;
  bool json = false;
};

void setup_validate(CLI::App& app, ValidateCli& o) {
  app.add_option("--data", o.data, "Measurements file (default: data/validation.json as built in)");
  app.add_option("--calibration", o.calibration, "JSON with measured efficiency fractions replacing the defaults");
  app.add_flag("--json", o.json, "Print rows and summary as JSON");
}

int run_validate(const ValidateCli& o) {
  const auto catalog = GpuCatalog::embedded();
  const auto models = ModelCatalog::embedded();
  auto assumptions = Assumptions::embedded();
  if (!o.calibration.empty()) assumptions.merge_json(read_text_file(o.calibration, "calibration file"), o.calibration);
  auto results = o.data.empty()
                     ? run_validation(embedded_validation_json(), "data/validation.json (embedded)", catalog, models, assumptions)
                     : run_validation(read_text_file(o.data, "measurements file"), o.data, catalog, models, assumptions);
  if (o.data.empty())
    for (auto& r : run_validation(embedded_generative_json(), "data/generative.json (embedded)", catalog, models, assumptions))
      results.push_back(std::move(r));
  if (o.json) std::cout << validation_json(results).dump(2) << "\n";
  else write_validation_text(std::cout, results);
  return 0;
}

/// Options of `gpuadvise check`.
struct CheckCli {
  std::vector<std::string> files;
  CheckOptions options;
  std::string count;
  std::string format = "text";
  std::vector<std::string> catalogs;
  std::vector<std::string> prices;
  std::vector<std::string> models_catalogs;
};

void setup_check(CLI::App& app, CheckCli& o) {
  app.add_option("files", o.files, "Deployment files (JSON or YAML) or vLLM engine configs")->required();
  app.add_option("--gpu", o.options.gpu, "GPU for vLLM configs that name none");
  app.add_option("--count", o.count, "GPUs for vLLM configs (default: tensor-parallel-size)");
  app.add_option("--format", o.format, "text | json | junit | github | markdown")
      ->check(CLI::IsMember({"text", "json", "junit", "github", "markdown"}));
  app.add_flag("--strict", o.options.strict, "Warnings fail the check too");
  app.add_option("--provider", o.options.provider, "Price provider (default: cheapest on-demand)");
  app.add_option("--price", o.prices, "Override a price for this run: GPU=USD per GPU-hour (repeatable)");
  app.add_option("--catalog", o.catalogs, "Extra GPU catalog JSON merged over the built-in one (repeatable)");
  app.add_option("--models-catalog", o.models_catalogs, "Extra model catalog JSON (repeatable)");
}

/// Applies `--price GPU=USD` overrides.
void apply_prices(GpuCatalog& catalog, const std::vector<std::string>& prices) {
  for (const auto& text : prices) {
    const auto eq = text.find('=');
    if (eq == std::string::npos)
      throw InputError(fmt::format("invalid --price '{}': expected GPU=USD, e.g. l40=0.90", text));
    const std::string value = text.substr(eq + 1);
    char* end = nullptr;
    const double usd = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(usd > 0) || usd > 10000)
      throw InputError(fmt::format("invalid --price '{}': '{}' is not a price in USD per GPU-hour", text, value));
    catalog.override_price(text.substr(0, eq), usd);
  }
}

int run_check(CheckCli& o) {
  auto catalog = load_catalog(o.catalogs);
  apply_prices(catalog, o.prices);
  auto models = ModelCatalog::embedded();
  for (const auto& path : o.models_catalogs) models.merge_json(read_text_file(path, "models catalog"), path);
  const auto assumptions = Assumptions::embedded();
  if (!o.count.empty()) o.options.count = static_cast<int>(parse_positive_int(o.count, "--count", 4096));
  CheckReport report;
  report.strict = o.options.strict;
  // Every file is read and checked before anything is printed: an unreadable file stops the run (exit 2).
  for (const auto& file : o.files) {
    auto results = check_text(read_text_file(file, "deployment file"), file, catalog, models, assumptions, o.options);
    for (auto& r : results) report.deployments.push_back(std::move(r));
  }
  for (const auto& d : report.deployments)
    for (const auto& f : d.findings) {
      report.errors += f.severity == Severity::error;
      report.warnings += f.severity == Severity::warning;
    }
  if (o.format == "json") write_check_json(std::cout, report);
  else if (o.format == "junit") write_check_junit(std::cout, report);
  else if (o.format == "github") write_check_github(std::cout, report);
  else if (o.format == "markdown") write_check_markdown(std::cout, report);
  else write_check_text(std::cout, report);
  return report.exit_code();
}

/// Options of `gpuadvise catalog validate|show`.
struct CatalogCli {
  std::string file;
  std::vector<std::string> catalogs;
};

int run_catalog_validate(const CatalogCli& o) {
  // A file on its own must be a complete catalog; it is also merged over the built-in one, as --catalog would.
  const std::string text = read_text_file(o.file, "catalog");
  auto merged = GpuCatalog::embedded();
  merged.merge_json(text, o.file);
  std::cout << fmt::format("{}: valid; merged catalog has {} GPUs\n", o.file, merged.gpus().size());
  return 0;
}

int run_catalog_show(const CatalogCli& o) {
  const auto catalog = load_catalog(o.catalogs);
  std::cout << catalog.to_json().dump(2) << "\n";
  return 0;
}

/// Options of `gpuadvise sweep`.
struct SweepCli {
  WorkloadRequest workload;
  std::string precisions = "fp16", batches, contexts, output_tokens, count = "1", provider, format = "table";
  std::string plot, plot_metric = "throughput-per-dollar";
  std::vector<std::string> gpus;
};

void setup_sweep(CLI::App& app, SweepCli& o) {
  app.add_option("--model,-m", o.workload.model, "Model: a size or a preset")->required();
  app.add_option("--precision,-p", o.precisions, "Precisions to sweep, comma-separated (default fp16)");
  app.add_option("--batch,-b", o.batches, "Batch sizes: 1..64, 1,8,32 (default 1)");
  app.add_option("--context,-c", o.contexts, "Contexts: 2k..128k, 4096,8k (default 4096)");
  app.add_option("--output-tokens", o.output_tokens, "Generated tokens per request (default 256)");
  app.add_option("--gpu,-g", o.gpus, "GPUs to sweep (repeatable; default: the whole catalog)");
  app.add_option("--count,-n", o.count, "GPUs per point, tensor parallel (default 1)");
  app.add_option("--provider", o.provider, "Price provider (default: cheapest on-demand)");
  app.add_option("--format", o.format, "table | csv | json")->check(CLI::IsMember({"table", "csv", "json"}));
  app.add_option("--plot", o.plot, "Also write an SVG plot to this file (one line per GPU)");
  app.add_option("--plot-metric", o.plot_metric, "throughput-per-dollar | memory")
      ->check(CLI::IsMember({"throughput-per-dollar", "memory"}));
}

int run_sweep_command(SweepCli& o) {
  const auto catalog = GpuCatalog::embedded();
  const auto models = ModelCatalog::embedded();
  const auto assumptions = Assumptions::embedded();
  if (!o.output_tokens.empty()) o.workload.output_tokens = o.output_tokens;
  o.workload.batch = "1";
  const Workload base = build_workload(o.workload, models);
  SweepGrid grid;
  grid.precisions = parse_precision_list(o.precisions);
  if (!o.batches.empty()) grid.batches = parse_count_range(o.batches);
  if (!o.contexts.empty()) grid.contexts = parse_token_range(o.contexts);
  std::vector<const Gpu*> gpus;
  for (const auto& name : o.gpus) gpus.push_back(&catalog.find(name));
  const int count = static_cast<int>(parse_positive_int(o.count, "--count", 4096));
  const SweepResult result = run_sweep(base, catalog, gpus, count, assumptions, grid, o.provider);
  if (o.format == "csv") write_sweep_csv(std::cout, result);
  else if (o.format == "json") std::cout << sweep_json(result).dump(2) << "\n";
  else write_sweep_table(std::cout, result);
  if (!o.plot.empty()) {
    const SweepAxis axis = grid.contexts.size() > 1 || grid.batches.size() <= 1 ? SweepAxis::context : SweepAxis::batch;
    const SweepMetric metric = o.plot_metric == "memory" ? SweepMetric::memory_gb : SweepMetric::tokens_per_s_per_usd_hour;
    std::ofstream file(o.plot, std::ios::binary);
    if (!file) throw InputError(fmt::format("cannot write --plot '{}'", o.plot));
    write_svg_line_plot(file, sweep_plot(result, metric, axis));
    if (!file) throw InputError(fmt::format("cannot write --plot '{}'", o.plot));
  }
  return 0;
}

/// Every option name of a command, for completions.
std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app.get_options()) {
    for (const auto& n : opt->get_lnames()) names.push_back("--" + n);
    for (const auto& n : opt->get_snames()) names.push_back("-" + n);
  }
  return names;
}

/// Shell completion scripts generated from the command definitions.
void write_completions(std::ostream& out, const CLI::App& app, const std::string& shell) {
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
  if (shell == "bash") {
    out << "# bash completion for gpuadvise (generated by `gpuadvise completions bash`)\n"
        << "_gpuadvise() {\n  local cur=\"${COMP_WORDS[COMP_CWORD]}\" cmd=\"\"\n"
        << "  for w in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do case \"$w\" in " << fmt::format("{}", fmt::join(commands, "|"))
        << ") cmd=\"$w\"; break;; esac; done\n  local words\n  case \"$cmd\" in\n";
    for (const CLI::App* sub : app.get_subcommands({})) {
      std::vector<std::string> words = option_names(*sub);
      for (const CLI::App* subsub : sub->get_subcommands({})) words.push_back(subsub->get_name());
      out << fmt::format("    {}) words=\"{}\";;\n", sub->get_name(), fmt::join(words, " "));
    }
    std::vector<std::string> top = option_names(app);
    top.insert(top.end(), commands.begin(), commands.end());
    out << fmt::format("    *) words=\"{}\";;\n  esac\n", fmt::join(top, " "))
        << "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\ncomplete -o default -F _gpuadvise gpuadvise\n";
  } else {
    out << "#compdef gpuadvise\n# zsh completion for gpuadvise (generated by `gpuadvise completions zsh`)\n"
        << "_gpuadvise() {\n  local -a commands\n  commands=(\n";
    for (const CLI::App* sub : app.get_subcommands({}))
      out << fmt::format("    '{}:{}'\n", sub->get_name(), sub->get_description().substr(0, sub->get_description().find(':')));
    out << "  )\n  if (( CURRENT == 2 )); then\n    _describe 'command' commands\n";
    std::vector<std::string> top = option_names(app);
    out << fmt::format("    compadd -- {}\n    return\n  fi\n  case $words[2] in\n", fmt::join(top, " "));
    for (const CLI::App* sub : app.get_subcommands({}))
      out << fmt::format("    {}) compadd -- {};;\n", sub->get_name(), fmt::join(option_names(*sub), " "));
    out << fmt::format("    *) compadd -- {};;\n  esac\n}}\n_gpuadvise \"$@\"\n", fmt::join(top, " "));
  }
}

/// The man page (roff), generated from the command definitions.
void write_man_page(std::ostream& out, const CLI::App& app) {
  auto roff = [](std::string text) {
    std::string r;
    for (char c : text) r += c == '\\' ? std::string("\\e") : c == '-' ? std::string("\\-") : std::string(1, c);
    return r;
  };
  auto options = [&](const CLI::App& a) {
    for (const CLI::Option* opt : a.get_options()) {
      if (opt->get_name().empty()) continue;
      out << ".TP\n.B " << roff(opt->get_name(false, true)) << "\n" << roff(opt->get_description()) << "\n";
    }
  };
  out << ".TH GPUADVISE 1 \"" << k_version << "\" \"gpuadvise " << k_version << "\" \"User Commands\"\n"
      << ".SH NAME\ngpuadvise \\- which GPU should run this model, will it fit, how fast, and what will it cost\n"
      << ".SH SYNOPSIS\n.B gpuadvise\n\\-\\-model SIZE|PRESET [OPTIONS]\n.br\n.B gpuadvise\nCOMMAND [OPTIONS]\n"
      << ".SH DESCRIPTION\nFor every GPU in its catalog, gpuadvise works out whether the model fits (weights, KV cache, "
         "activations, runtime overhead), whether the GPU runs the precision natively, how fast prefill and decode run "
         "(with a low\\-high range), what the job costs, and which GPU to pick and why. Every formula and constant is "
         "documented with its source.\n"
      << ".SH OPTIONS\n";
  options(app);
  out << ".SH COMMANDS\n";
  for (const CLI::App* sub : app.get_subcommands({})) {
    out << ".SS " << sub->get_name() << "\n" << roff(sub->get_description()) << "\n";
    options(*sub);
    for (const CLI::App* subsub : sub->get_subcommands({}))
      out << ".TP\n.B " << sub->get_name() << " " << subsub->get_name() << "\n" << roff(subsub->get_description()) << "\n";
  }
  out << ".SH EXIT STATUS\n0: a recommendation (check: all pass); 1: nothing fits or satisfies the constraints (check: "
         "a check failed); 2: bad input, one line on stderr.\n"
      << ".SH EXAMPLES\n.nf\ngpuadvise \\-\\-model 13B \\-\\-precision fp8\n"
         "gpuadvise \\-\\-model llama\\-2\\-13b \\-\\-precision fp16 \\-\\-gpu l40 \\-\\-explain\n"
         "gpuadvise \\-\\-model llama\\-2\\-7b \\-\\-task lora\n"
         "gpuadvise sweep \\-\\-model llama\\-3\\-8b \\-\\-context 2k..128k \\-\\-plot sweep.svg\n"
         "gpuadvise check \\-\\-format github deploy/*.yaml\n.fi\n"
      << ".SH ENVIRONMENT\nNO_COLOR: never colour the output.\n"
      << ".SH SEE ALSO\nREADME.md, docs/formulas.md, docs/json.md, docs/check.md in the source distribution.\n";
}

/// Prints an advice in the chosen format (with --explain terms); returns the exit code.
int print_advice(const AdviseCli& o, const Advice& advice, const Assumptions& assumptions) {
  // --explain: the pick, or the only candidate when one --gpu was named.
  const Candidate* explained = nullptr;
  if (o.explain && !advice.candidates.empty())
    explained = advice.recommendation.pick ? &advice.candidates[*advice.recommendation.pick] : &advice.candidates.front();
  if (o.json) {
    auto doc = to_json(advice);
    if (explained)
      doc["explain"] = {{"gpu", explained->gpu->id}, {"terms", explain_json(explain(advice.workload, *explained, assumptions))}};
    std::cout << doc.dump(2) << "\n";
  } else {
    TextOptions text;
    text.color = !o.no_color && std::getenv("NO_COLOR") == nullptr && isatty(STDOUT_FILENO);
    write_text(std::cout, advice, text);
    if (explained) write_explain_text(std::cout, *explained, explain(advice.workload, *explained, assumptions));
  }
  return advice.recommendation.pick ? 0 : 1;
}

/// --workload diffusion|video|analytics: the same advisor over another kind of work.
int run_generative(const AdviseCli& o, WorkloadKind kind, const GpuCatalog& catalog, const Assumptions& assumptions) {
  if (!o.task.empty() && o.task != "inference") throw InputError("--task applies to --workload llm");
  GenerativeRequest r;
  r.kind = std::string(to_string(kind));
  r.model = o.workload.model;
  if (kind != WorkloadKind::analytics && r.model.empty())
    throw InputError("missing --model: a generation preset such as sdxl, flux1-dev, wan2.1-14b (see docs/generative.md)");
  if (!o.precision.empty()) r.precision = o.precision;
  if (!o.batch.empty()) r.batch = o.batch;
  if (!o.requests.empty()) r.items = o.requests;
  if (!o.resolution.empty()) r.resolution = o.resolution;
  if (!o.frames.empty()) r.frames = o.frames;
  if (!o.steps.empty()) r.steps = o.steps;
  r.no_guidance = o.no_guidance;
  r.addons = o.addons;
  if (!o.dataset_size.empty()) r.dataset_size = o.dataset_size;
  if (!o.rows.empty()) r.rows = o.rows;
  if (!o.bytes_per_row.empty()) r.bytes_per_row = o.bytes_per_row;
  r.operations = o.operations;
  r.memory_utilization = o.workload.memory_utilization;
  const Workload workload = build_generative_workload(r);
  AdviseOptions options;
  options.gpus = o.gpus;
  options.count_given = !o.count.empty();
  options.count = options.count_given ? static_cast<int>(parse_positive_int(o.count, "--count", 4096)) : 1;
  options.provider = o.provider;
  return print_advice(o, advise(workload, catalog, assumptions, options), assumptions);
}

/// Runs the advisor; returns the exit code (0 recommendation, 1 none).
int run_advise(AdviseCli& o) {
  auto catalog = load_catalog(o.catalogs);
  apply_prices(catalog, o.prices);
  auto models = ModelCatalog::embedded();
  for (const auto& path : o.models_catalogs) models.merge_json(read_text_file(path, "models catalog"), path);
  auto assumptions = Assumptions::embedded();
  if (!o.calibration.empty()) assumptions.merge_json(read_text_file(o.calibration, "calibration file"), o.calibration);

  auto& request = o.workload;
  if (!o.precision.empty()) request.precision = o.precision;
  if (!o.batch.empty()) request.batch = o.batch;
  if (!o.runtime.empty()) request.runtime = o.runtime;
  if (!o.model_config.empty()) request.model_config = o.model_config;
  if (!o.kv_precision.empty()) request.kv_precision = o.kv_precision;
  if (!o.context.empty()) request.context = o.context;
  if (!o.input_tokens.empty()) request.input_tokens = o.input_tokens;
  if (!o.requests.empty()) request.requests = o.requests;
  if (!o.tokens.empty()) request.tokens = o.tokens;
  AdviseOptions options;
  request.kind = o.workload_kind;
  if (!o.resolution.empty()) request.resolution = o.resolution;
  if (!o.frames.empty()) request.frames = o.frames;
  if (!o.steps.empty()) request.steps = o.steps;
  if (!o.dataset_size.empty()) request.dataset_size = o.dataset_size;
  if (!o.rows.empty()) request.rows = o.rows;
  if (!o.bytes_per_row.empty()) request.bytes_per_row = o.bytes_per_row;
  request.no_guidance = o.no_guidance;
  request.addons = o.addons;
  request.operations = o.operations;
  const Task task = o.task.empty() ? Task::inference : parse_task(o.task);
  const bool llm = o.workload_kind.empty() || parse_workload_kind(o.workload_kind) == WorkloadKind::llm;
  if (!llm && task != Task::inference) throw InputError("--task applies to --workload llm");
  if (task != Task::inference && !request.precision) request.precision = "bf16"; // mixed-precision training
  if (task != Task::inference && !request.batch) request.batch = "1";
  const Workload workload = build_workload(request, models);
  options.gpus = o.gpus;
  options.count_given = !o.count.empty();
  options.count = options.count_given ? static_cast<int>(parse_positive_int(o.count, "--count", 4096)) : 1;
  options.provider = o.provider;
  auto positive = [](const std::string& text, const char* what, double max) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !(value > 0) || value > max)
      throw InputError(fmt::format("invalid {} '{}': expected a positive number", what, text));
    return value;
  };
  if (!o.max_hours.empty()) options.max_hours = positive(o.max_hours, "--max-hours", 1e7);
  if (!o.budget.empty()) options.budget_usd = positive(o.budget, "--budget", 1e12);
  if (!o.gpus_per_node.empty())
    options.cluster.gpus_per_node = static_cast<int>(parse_positive_int(o.gpus_per_node, "--gpus-per-node", 64));
  if (!o.node_network.empty()) options.cluster.node_network_bytes_per_s = positive(o.node_network, "--node-network", 1e5) * 1e9 / 8;
  if (task != Task::inference) {
    TrainingSetup setup;
    setup.task = task;
    if (!o.optimizer.empty()) setup.optimizer = parse_optimizer(o.optimizer);
    if (!o.recompute.empty()) setup.recompute = parse_recompute(o.recompute);
    if (!o.lora_rank.empty()) setup.lora_rank = static_cast<int>(parse_positive_int(o.lora_rank, "--lora-rank", 65536));
    if (!o.lora_targets.empty()) setup.lora_targets = o.lora_targets;
    if (!o.zero.empty()) {
      if (o.zero.size() != 1 || o.zero[0] < '0' || o.zero[0] > '3')
        throw InputError(fmt::format("invalid --zero '{}': expected 0, 1, 2 or 3", o.zero));
      setup.zero_stage = o.zero[0] - '0';
    }
    setup.offload_optimizer = o.offload;
    if (!o.micro_batch.empty()) setup.micro_batch = parse_positive_int(o.micro_batch, "--micro-batch", 65536);
    setup.sequence = workload.context;
    options.training = setup;
    if (!o.train_tokens.empty() && !o.dataset_tokens.empty())
      throw InputError("give either --train-tokens or --dataset-tokens with --epochs, not both");
    if (!o.train_tokens.empty()) options.train_tokens = static_cast<double>(parse_token_count(o.train_tokens, "--train-tokens", 1e16));
    else if (!o.dataset_tokens.empty())
      options.train_tokens = static_cast<double>(parse_token_count(o.dataset_tokens, "--dataset-tokens", 1e16)) *
                             (o.epochs.empty() ? 1.0 : positive(o.epochs, "--epochs", 1e4));
    else
      options.train_tokens = task == Task::pretrain ? 20 * workload.params_total : 1e8; // Chinchilla: 20 tokens/param
  } else if (!o.optimizer.empty() || !o.lora_rank.empty() || !o.zero.empty() || !o.train_tokens.empty()) {
    throw InputError("--optimizer, --lora-rank, --zero and --train-tokens need --task finetune|lora|qlora|pretrain");
  }
  const Advice advice = advise(workload, catalog, assumptions, options);

  return print_advice(o, advice, assumptions);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"gpuadvise: which GPU should run this model, will it fit, how fast, and what will it cost?"};
  app.set_version_flag("--version", std::string("gpuadvise ") + gpuadvise::k_version + " (GPU catalog " +
                                        gpuadvise::embedded_catalog_date() + ")");
  app.require_subcommand(0, 1);
  AdviseCli advise_cli;
  setup_advise(app, advise_cli);
  GpusCli gpus_cli;
  auto* gpus = app.add_subcommand("gpus", "List the GPU catalog: memory, bandwidth, dense TFLOPS, interconnect, price");
  setup_gpus(*gpus, gpus_cli);
  ModelsCli models_cli;
  auto* models = app.add_subcommand("models", "List the model presets with their shapes and parameter counts");
  setup_models(*models, models_cli);
  CheckCli check_cli;
  auto* check = app.add_subcommand("check", "Check deployment files or vLLM configs: exit 1 when one will not fit or breaks a budget");
  setup_check(*check, check_cli);
  CatalogCli catalog_cli;
  auto* catalog_cmd = app.add_subcommand("catalog", "Validate a catalog file, or print the merged catalog as JSON");
  catalog_cmd->require_subcommand(1);
  auto* catalog_validate = catalog_cmd->add_subcommand("validate", "Check a GPU catalog file and say what is wrong");
  catalog_validate->add_option("file", catalog_cli.file, "Catalog JSON")->required();
  auto* catalog_show = catalog_cmd->add_subcommand("show", "Print the merged catalog (built-in + --catalog files) as JSON");
  catalog_show->add_option("--catalog", catalog_cli.catalogs, "Extra GPU catalog JSON (repeatable)");
  ValidateCli validate_cli;
  auto* validate = app.add_subcommand("validate", "Run the estimator on published measurements and print the errors");
  setup_validate(*validate, validate_cli);
  SweepCli sweep_cli;
  auto* sweep = app.add_subcommand("sweep", "The same workload over a grid of batches, contexts and precisions, per GPU");
  setup_sweep(*sweep, sweep_cli);
  std::string shell;
  auto* completions = app.add_subcommand("completions", "Print a shell completion script: bash or zsh");
  completions->add_option("shell", shell, "bash | zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  auto* man = app.add_subcommand("man", "Print the man page (roff)");
  app.footer("Examples:\n"
             "  gpuadvise --model 13B --precision fp8\n"
             "  gpuadvise --model llama-3-8b --gpu l40 --gpu a6000 --batch 16 --context 8k\n"
             "  gpuadvise --model llama-2-13b --precision fp16 --gpu l40 --explain\n"
             "  gpuadvise --model llama-2-7b --task lora --json | jq .recommendation\n"
             "  gpuadvise sweep --model llama-3-8b --context 2k..128k --plot sweep.svg\n"
             "  gpuadvise check --format github deploy/*.yaml\n"
             "Exit codes: 0 recommendation, 1 nothing fits, 2 bad input.");
  gpus->footer("Example: gpuadvise gpus --name a100 --min-memory 80 --json");
  models->footer("Example: gpuadvise models --json | jq '.models[] | {id, params_total}'");
  check->footer("Examples:\n  gpuadvise check deploy/serving.yaml\n  gpuadvise check --gpu l40 vllm.yaml\n"
                "  gpuadvise check --format junit deploy/*.yaml > report.xml\nExit codes: 0 pass, 1 a check failed, 2 invalid file.");
  sweep->footer("Examples:\n  gpuadvise sweep --model llama-3-8b --context 2k..128k --gpu l40 --gpu a6000\n"
                "  gpuadvise sweep --model 13B --batch 1..64 --precision fp16,fp8 --format csv\n"
                "  gpuadvise sweep --model llama-3-8b --context 2k..128k --plot sweep.svg");
  validate->footer("Example: gpuadvise validate --json | jq '.summary'");
  completions->footer("Example: gpuadvise completions bash > /etc/bash_completion.d/gpuadvise");
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "gpuadvise: error: " << e.what() << "\n";
    return 2;
  }
  try {
    if (gpus->parsed()) return run_gpus(gpus_cli);
    if (models->parsed()) return run_models(models_cli);
    if (validate->parsed()) return run_validate(validate_cli);
    if (check->parsed()) return run_check(check_cli);
    if (catalog_validate->parsed()) return run_catalog_validate(catalog_cli);
    if (catalog_show->parsed()) return run_catalog_show(catalog_cli);
    if (sweep->parsed()) return run_sweep_command(sweep_cli);
    if (completions->parsed()) {
      write_completions(std::cout, app, shell);
      return 0;
    }
    if (man->parsed()) {
      write_man_page(std::cout, app);
      return 0;
    }
    return run_advise(advise_cli);
  } catch (const gpuadvise::Error& e) {
    std::cerr << "gpuadvise: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "gpuadvise: internal error: " << e.what() << "\n";
    return 3;
  }
}
