#pragma once
/// The recommender: evaluates every candidate GPU, applies the rules, ranks, and picks one.
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/estimate.hpp>
#include <gpuadvise/instances.hpp>
#include <gpuadvise/training.hpp>
#include <gpuadvise/workload.hpp>

#include <optional>
#include <string>
#include <vector>

namespace gpuadvise {

enum class Severity { info, warning, error };
std::string_view to_string(Severity s);

/// A setting a remedy changes, named as the library knows it; the CLI renders it as a flag
/// (`--precision`), `check` as the deployment file's key (`precision:`, vLLM's `max-model-len`).
enum class Setting { model, precision, kv_precision, count, context, batch, task, zero_stage, recompute };
std::string_view to_string(Setting s);

/// One concrete change that clears a finding: set `setting` to `to`.
struct Remedy {
  Setting setting = Setting::precision;
  std::string to;
  bool operator==(const Remedy&) const = default;
};

/// One rule that fired: a stable id (docs/json.md), a severity, a message, a hint in plain words (no flag
/// names) and the structured remedies, if any, that clear it.
struct Finding {
  std::string id;
  Severity severity = Severity::info;
  std::string message;
  std::string hint;
  std::vector<Remedy> remedies;
};

/// A training plan's result on one GPU kind.
struct TrainingCandidate {
  TrainingSetup setup;
  bool found = true;   ///< a plan fits; false: `plan` and `memory` are the closest miss (least memory per GPU tried)
  ParallelPlan plan;
  TrainingMemory memory;
  TrainingPerf perf;
  double train_tokens = 0;
  Span hours;          ///< job wall-clock hours
  Span job_usd;
};

/// One GPU kind at one count, fully evaluated.
struct Candidate {
  const Gpu* gpu = nullptr;
  int count = 1;             ///< GPUs the plan uses: tp x pp
  int tp = 1;                ///< tensor-parallel group, always inside one node (instance)
  int pp = 1;                ///< pipeline stages, one node group each, joined by the node network
  std::optional<MachinePlan> machines; ///< the instances rented and priced (a provider with instance shapes)
  std::int64_t batch = 1;    ///< concurrent sequences evaluated (chosen when the user gave none)
  bool batch_chosen = false; ///< true when the advisor picked the batch
  PrecisionDecision precision;
  MemoryEstimate memory;
  PerfEstimate performance;
  CostEstimate cost;
  std::vector<Finding> findings;
  bool eligible = false;     ///< fits, runs the precision natively, has a price, valid split
  bool count_chosen = false; ///< the advisor searched the GPU count (the user gave none)
  WorkloadKind kind = WorkloadKind::llm; ///< how several GPUs split the work (tensor parallel for LLMs)
  std::optional<TrainingCandidate> training; ///< set for training tasks (memory/performance then unused)

  /// "4 x L40, TP=4 over PCIe"-style description of the GPUs and how the model is split.
  std::string plan_text() const;
  /// True only when the plan evaluated fits in memory (training: a valid plan was found and fits).
  bool fits() const { return training ? training->found && training->memory.fits() : memory.fits(); }
  /// Memory per GPU needed and usable: the plan's, or for a training candidate without a plan the closest miss.
  double memory_needed_bytes() const { return training ? training->memory.total_bytes : memory.total_bytes; }
  double memory_usable_bytes() const { return training ? training->memory.usable_bytes : memory.usable_bytes; }
  /// Job cost used for ranking (training or inference); +inf without a price.
  double job_usd() const;
  /// Job time in seconds (training or inference).
  double job_seconds() const;
};

/// The pick, or none, as indices into Advice::candidates (so an Advice can be copied).
struct Recommendation {
  std::optional<std::size_t> pick;
  std::optional<std::size_t> runner_up;
  std::string reason;
};

/// Which candidates to evaluate and how.
struct AdviseOptions {
  std::vector<std::string> gpus;   ///< names as typed; empty = the whole catalog
  int count = 1;                   ///< GPUs per candidate (tensor parallel)
  bool count_given = true;         ///< false: search the smallest count that fits (and meets the limits)
  std::string provider;            ///< price provider; empty = cheapest on-demand
  std::optional<TrainingSetup> training;  ///< set for fine-tuning, LoRA, QLoRA and pretraining
  double train_tokens = 0;         ///< tokens the training job processes (all epochs)
  Cluster cluster;                 ///< GPUs per node and node network, for multi-node plans
  std::optional<double> max_hours; ///< job must finish within this many hours
  std::optional<double> budget_usd;///< job must cost at most this
  int max_gpus = 512;              ///< upper bound of the count search
  const InstanceCatalog* instances = nullptr; ///< instance shapes; null: GPUs priced one by one, nodes of cluster.gpus_per_node
  std::string region;              ///< only instances in this region (needs provider)
  bool spot = false;               ///< price instances at their spot price (needs provider)
};

/// Checks a run's provider, region and spot choice the same way for every command (the default command, check,
/// sweep): region and spot need a provider; a provider with instance shapes must have rows in the region; any
/// other provider must price some GPU and takes no region. Throws InputError naming the flag.
void require_pricing(const GpuCatalog& catalog, const AdviseOptions& options);

/// GPUs one node holds for `gpu`: the provider's largest instance shape, else the largest shape any provider
/// rents, else cluster.gpus_per_node. A tensor-parallel group never spans nodes.
int node_gpus(const Gpu& gpu, const AdviseOptions& options);

/// Evaluates `tp` x `pp` GPUs (tensor parallel inside a node, pipeline stages across nodes) and, with
/// instance shapes for options.provider, rents and prices them as instances. Used by advise().
Candidate evaluate_plan(const Workload& workload, const Gpu& gpu, int tp, int pp, const Assumptions& assumptions,
                        const AdviseOptions& options);

/// The whole result: what the formatters print.
struct Advice {
  Workload workload;
  std::vector<Candidate> candidates;   ///< ranked: eligible by job cost, then the rest
  std::vector<Finding> findings;       ///< about the workload as a whole
  Recommendation recommendation;
  std::string catalog_date;
  const Assumptions* assumptions = nullptr;
};

/// Evaluates the workload on every candidate GPU and recommends the cheapest eligible one.
/// Throws InputError for an unknown GPU name or an invalid count.
Advice advise(const Workload& workload, const GpuCatalog& catalog, const Assumptions& assumptions,
              const AdviseOptions& options);

/// Largest batch the advisor tries when the user does not fix one.
inline constexpr std::int64_t k_max_auto_batch = 256;

/// Evaluates a training plan for one GPU kind: the fastest valid plan at `count` GPUs, or (count 0)
/// the smallest count whose plan fits and meets the limits.
Candidate evaluate_training(const Workload& workload, const Gpu& gpu, const Assumptions& assumptions,
                            const AdviseOptions& options, int count);

/// Evaluates one candidate (memory, precision, speed, cost, findings) at the workload's batch, or,
/// when the user gave none, at the power-of-two batch up to 256 (and the job's request count) that
/// fits and makes the job cheapest. Pure; used by advise() and benchmarks.
Candidate evaluate(const Workload& workload, const Gpu& gpu, int count, const Assumptions& assumptions,
                   std::string_view provider);

} // namespace gpuadvise
