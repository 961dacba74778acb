// The default command: which GPU should run this workload, will it fit, how fast, what will it cost.
#include "cli/commands.hpp"

#include <gpuadvise/advisor.hpp>
#include <gpuadvise/emit.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/evaluation.hpp>
#include <gpuadvise/explain.hpp>
#include <gpuadvise/generative.hpp>
#include <gpuadvise/report.hpp>
#include <gpuadvise/training.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace gpuadvise::cli {

namespace {

/// A positive number for option `what`, at most `max`; InputError otherwise.
double parse_positive(const std::string& text, const char* what, double max) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(value > 0) || value > max)
    throw InputError(fmt::format("invalid {} '{}': expected a positive number", what, text));
  return value;
}

/// A remedy as the option that applies it: {precision, int8} -> "--precision int8".
std::string remedy_as_flag(const Remedy& r) {
  switch (r.setting) {
  case Setting::model: return "--model " + r.to;
  case Setting::precision: return "--precision " + r.to;
  case Setting::kv_precision: return "--kv-precision " + r.to;
  case Setting::count: return "--count " + r.to;
  case Setting::context: return "--context " + r.to;
  case Setting::batch: return "--batch " + r.to;
  case Setting::task: return "--task " + r.to;
  case Setting::zero_stage: return "--zero " + r.to;
  case Setting::recompute: return "--recompute " + r.to;
  }
  throw InternalError("a remedy without a flag");
}

/// Prints an advice in the chosen format (with --explain terms); returns the exit code.
int print_advice(const AdviseCli& o, const std::string& format, const Advice& advice, const Assumptions& assumptions,
                 std::ostream& out) {
  // --explain: the pick, or the only candidate when one --gpu was named.
  const Candidate* explained = nullptr;
  if (o.explain && !advice.candidates.empty())
    explained = advice.recommendation.pick ? &advice.candidates[*advice.recommendation.pick] : &advice.candidates.front();
  if (format == "json") {
    auto doc = to_json(advice);
    if (explained)
      doc["explain"] = {{"gpu", explained->gpu->id}, {"terms", explain_json(explain(advice.workload, *explained, assumptions))}};
    out << doc.dump(2) << "\n";
  } else {
    TextOptions text;
    text.remedy = remedy_as_flag;
    text.color = !o.no_color && std::getenv("NO_COLOR") == nullptr && &out == &std::cout && isatty(STDOUT_FILENO);
    write_text(out, advice, text);
    if (explained) write_explain_text(out, *explained, explain(advice.workload, *explained, assumptions));
  }
  return advice.recommendation.pick ? 0 : 1;
}

/// --emit: the pick's deployment files, written to --emit-dir or printed (alone, so they pipe into
/// kubectl or a file); with --format json they are in the document's "emitted" list. Returns the exit code.
int emit_advice(const AdviseCli& o, const std::string& format, const Advice& advice, const Assumptions& assumptions,
                std::ostream& out) {
  const EmitTarget target = parse_emit_target(o.emit);
  if (!advice.recommendation.pick) {
    print_advice(o, format, advice, assumptions, out);
    if (format != "json") out << "nothing to emit: no plan fits\n";
    return 1;
  }
  const Candidate& pick = advice.candidates[*advice.recommendation.pick];
  const auto files = emit_files(target, advice.workload, pick);
  std::vector<std::string> written;
  if (!o.emit_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.emit_dir, ec);
    if (ec) throw InputError(fmt::format("--emit-dir '{}': cannot create the folder: {}", o.emit_dir, ec.message()));
    for (const auto& f : files) {
      const auto path = std::filesystem::path(o.emit_dir) / f.name;
      std::ofstream file(path, std::ios::binary);
      file << f.content;
      if (!file.flush()) throw InputError(fmt::format("--emit-dir: cannot write '{}'", path.string()));
      file.close();
      if (path.extension() == ".sh")
        std::filesystem::permissions(path, std::filesystem::perms::owner_exec | std::filesystem::perms::group_exec |
                                               std::filesystem::perms::others_exec,
                                     std::filesystem::perm_options::add, ec);
      written.push_back(path.string());
    }
  }
  if (format == "json") {
    auto doc = to_json(advice);
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t i = 0; i < files.size(); ++i) {
      list.push_back({{"target", std::string(to_string(target))}, {"name", files[i].name}, {"content", files[i].content}});
      if (!written.empty()) list.back()["path"] = written[i];
    }
    doc["emitted"] = list;
    out << doc.dump(2) << "\n";
  } else if (written.empty()) {
    for (const auto& f : files) {
      if (files.size() > 1) out << fmt::format("# ==> {} <==\n", f.name);
      out << f.content;
    }
  } else {
    print_advice(o, format, advice, assumptions, out);
    for (const auto& path : written) out << "wrote " << path << "\n";
  }
  return 0;
}

/// Options that do nothing for the chosen task are errors that name what applies instead. (Options of
/// another workload kind, such as --resolution for an LLM, are refused by the library: reject_unused_options.)
void reject_inapplicable_options(const AdviseCli& o, Task task) {
  const std::pair<const char*, bool> training[] = {
      {"--optimizer", !o.optimizer.empty()},         {"--lora-rank", !o.lora_rank.empty()},
      {"--lora-targets", !o.lora_targets.empty()},   {"--recompute", !o.recompute.empty()},
      {"--zero", !o.zero.empty()},                   {"--offload", o.offload},
      {"--micro-batch", !o.micro_batch.empty()},     {"--train-tokens", !o.train_tokens.empty()},
      {"--dataset-tokens", !o.dataset_tokens.empty()}, {"--epochs", !o.epochs.empty()},
      {"--gpus-per-node", !o.gpus_per_node.empty()}, {"--node-network", !o.node_network.empty()},
      {"--stack", !o.stack.empty()}};
  if (task == Task::inference) {
    for (const auto& [flag, given] : training)
      if (given)
        throw InputError(fmt::format("{} applies only to training: add --task finetune|lora|qlora|pretrain, or leave it out",
                                     flag));
    return;
  }
  if (!o.batch.empty())
    throw InputError(fmt::format("--batch does not apply to --task {}: training sequences per step are set with --micro-batch",
                                 o.task));
  if (!o.epochs.empty() && o.dataset_tokens.empty())
    throw InputError("--epochs applies only with --dataset-tokens (the job is --dataset-tokens x --epochs); "
                     "or give --train-tokens alone");
}

/// "--stack" help: every stack and the defaults.
std::string stack_help() {
  std::vector<std::string> names;
  for (const auto& p : stack_profiles()) names.emplace_back(p.name);
  return fmt::format("Trainer whose memory behaviour to model: {} (default: hf-trainer for finetune/lora/qlora, megatron "
                     "for pretrain)",
                     fmt::join(names, " | "));
}

/// "llm (default) | diffusion | ...": the registered workload kinds, for --help.
std::string kind_names() {
  std::vector<std::string> names;
  for (const auto& k : workload_kinds()) names.push_back(fmt::format("{}{}", k.name, names.empty() ? " (default)" : ""));
  return fmt::format("{}", fmt::join(names, " | "));
}

} // namespace

void setup_advise(CLI::App& app, AdviseCli& o) {
  app.add_option("--model,-m", o.workload.model, "Model: a size (13B, 7b, 350M, 1.5T, 13e9) or a preset (llama-2-13b)");
  app.add_option("--model-config", o.model_config, "A Hugging Face config.json to take the model's shape from");
  app.add_option("--precision,-p", o.precision,
                 "Weights and compute: fp32|fp16|bf16|fp8|int8|int8-wo|int4|nf4|nvfp4 (fp4)|mxfp4, or a llama.cpp GGUF label (Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q4_0, IQ4_XS, ...; runs on llama.cpp) (default fp16, or the model file's own format)");
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
  add_pricing_options(app, o.pricing);
  InputKinds inputs = k_all_inputs;
  inputs.instances = true;
  add_input_options(app, o.inputs, inputs);
  app.add_option("--workload", o.workload_kind, kind_names());
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
  app.add_option("--stack", o.stack, stack_help());
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
  add_format_options(app, o.format, {"text", "json"}, "text | json",
                     "Print the result as JSON (schema in docs/json.md)");
  app.add_flag("--explain", o.explain,
               "Show every estimate of the pick (or of the one --gpu) as its formula, numbers and sources");
  app.add_flag("--no-color", o.no_color, "Never colour the output (NO_COLOR is also respected)");
  app.add_option("--emit", o.emit,
                 "Deployment files for the pick (or the fixed --gpu/--count/--provider): vllm | sglang | trtllm | skypilot | "
                 "k8s (docs/deploy.md); printed, or written with --emit-dir");
  app.add_option("--emit-dir", o.emit_dir, "Write the --emit files into this folder (created if missing)");
}

int run_advise(const AdviseCli& o, std::ostream& out) {
  const std::string format = chosen_format(o.format, "text");
  const Inputs inputs = load_inputs(o.inputs);

  WorkloadRequest request = o.workload;
  if (!o.precision.empty()) request.precision = o.precision;
  if (!o.batch.empty()) request.batch = o.batch;
  if (!o.runtime.empty()) request.runtime = o.runtime;
  if (!o.model_config.empty()) request.model_config = o.model_config;
  if (!o.kv_precision.empty()) request.kv_precision = o.kv_precision;
  if (!o.context.empty()) request.context = o.context;
  if (!o.input_tokens.empty()) request.input_tokens = o.input_tokens;
  if (!o.requests.empty()) request.requests = o.requests;
  if (!o.tokens.empty()) request.tokens = o.tokens;
  AdviseOptions options = pricing_options(o.pricing, inputs);
  // Every kind's options go into one request; the kind's module takes what it uses and refuses the rest.
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
  const bool llm = o.workload_kind.empty() || parse_workload_kind(o.workload_kind) == WorkloadKind::llm;
  const Task task = o.task.empty() ? Task::inference : parse_task(o.task);
  if (!llm && task != Task::inference) throw InputError("--task applies to --workload llm");
  reject_inapplicable_options(o, task);
  if (task != Task::inference && !request.precision) request.precision = "bf16"; // mixed-precision training
  if (task != Task::inference && !request.batch) request.batch = "1";
  const Workload workload = build_workload(request, inputs.models);
  options.gpus = o.gpus;
  options.count_given = !o.count.empty();
  options.count = options.count_given ? static_cast<int>(parse_positive_int(o.count, "--count", 4096)) : 1;
  if (!o.max_hours.empty()) options.max_hours = parse_positive(o.max_hours, "--max-hours", 1e7);
  if (!o.budget.empty()) options.budget_usd = parse_positive(o.budget, "--budget", 1e12);
  if (!o.gpus_per_node.empty())
    options.cluster.gpus_per_node = static_cast<int>(parse_positive_int(o.gpus_per_node, "--gpus-per-node", 64));
  if (!o.node_network.empty())
    options.cluster.node_network_bytes_per_s = parse_positive(o.node_network, "--node-network", 1e5) * 1e9 / 8;
  if (task != Task::inference) {
    TrainingSetup setup;
    setup.task = task;
    if (!o.optimizer.empty()) setup.optimizer = parse_optimizer(o.optimizer);
    if (!o.recompute.empty()) setup.recompute = parse_recompute(o.recompute);
    setup.stack = o.stack.empty() ? default_stack(task) : parse_stack(o.stack);
    setup.stack_chosen = o.stack.empty();
    if (!o.recompute.empty())  // the stack's checkpointing, as --recompute names it
      setup.checkpointing = setup.recompute == Recompute::none   ? Checkpointing::none
                            : setup.recompute == Recompute::full ? Checkpointing::full
                                                                 : Checkpointing::selective_op;
    if (!o.lora_rank.empty()) setup.lora_rank = static_cast<int>(parse_positive_int(o.lora_rank, "--lora-rank", 65536));
    if (!o.lora_targets.empty()) setup.lora_targets = o.lora_targets;
    if (!o.zero.empty()) {
      if (o.zero.size() != 1 || o.zero[0] < '0' || o.zero[0] > '3')
        throw InputError(fmt::format("invalid --zero '{}': expected 0, 1, 2 or 3", o.zero));
      setup.zero_stage = o.zero[0] - '0';
    } else {
      setup.zero_stage = stack_profile(*setup.stack).default_zero_stage_multi_gpu; // applies only with data parallelism
    }
    setup.offload_optimizer = o.offload;
    if (!o.micro_batch.empty()) setup.micro_batch = parse_positive_int(o.micro_batch, "--micro-batch", 65536);
    setup.sequence = workload.context;
    options.training = setup;
    if (!o.train_tokens.empty() && !o.dataset_tokens.empty())
      throw InputError("give either --train-tokens or --dataset-tokens with --epochs, not both");
    if (!o.train_tokens.empty())
      options.train_tokens = static_cast<double>(parse_token_count(o.train_tokens, "--train-tokens", 1e16));
    else if (!o.dataset_tokens.empty())
      options.train_tokens = static_cast<double>(parse_token_count(o.dataset_tokens, "--dataset-tokens", 1e16)) *
                             (o.epochs.empty() ? 1.0 : parse_positive(o.epochs, "--epochs", 1e4));
    else
      options.train_tokens = task == Task::pretrain ? 20 * workload.params_total : 1e8; // Chinchilla: 20 tokens/param
  }
  if (!o.emit_dir.empty() && o.emit.empty()) throw InputError("--emit-dir applies only with --emit vllm|sglang|trtllm|skypilot|k8s");
  if (!o.emit.empty()) {
    parse_emit_target(o.emit); // a bad name is an error before any work
    if (task != Task::inference) throw InputError("--emit writes serving files: it does not apply to --task " + o.task);
    if (o.explain && o.emit_dir.empty()) throw InputError("--emit prints the files alone: leave out --explain (or use --emit-dir)");
  }
  const Advice advice = advise(workload, inputs.catalog, inputs.assumptions, options);
  if (!o.emit.empty()) return emit_advice(o, format, advice, inputs.assumptions, out);
  return print_advice(o, format, advice, inputs.assumptions, out);
}

} // namespace gpuadvise::cli
