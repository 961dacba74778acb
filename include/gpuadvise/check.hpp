#pragma once
/// `gpuadvise check`: deployment files and vLLM engine configs checked as CI gates.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/serving.hpp>
#include <gpuadvise/model.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace gpuadvise {

/// One problem found in one deployment: a stable rule id (docs/check.md), where, what, and the fix.
struct CheckFinding {
  std::string rule;
  Severity severity = Severity::error;
  std::string deployment;
  std::string file;
  int line = 0;        ///< 1-based line of the deployment in its file; 0 when unknown
  std::string message;
  std::string hint;
};

/// The outcome of one deployment.
struct DeploymentResult {
  std::string name;
  std::string file;
  int line = 0;
  std::string kind;                ///< "deployment", "vllm" or "sglang"
  std::string gpu;                 ///< catalog id
  int count = 1;
  std::string model;
  bool passed = true;              ///< no error finding
  double memory_total_bytes = 0;   ///< per GPU
  double memory_usable_bytes = 0;
  double kv_cache_bytes = 0;       ///< per GPU, for the requested concurrency
  double kv_budget_bytes = 0;      ///< per GPU left for the KV cache after weights, activations, overhead
  double max_sequences_at_context = 0; ///< sequences of full context length that fit in the KV budget
  double decode_tokens_per_s = 0;
  double usd_per_hour = 0;
  double job_usd = 0;
  double job_hours = 0;
  /// When the deployment declares `traffic`: the fleet (`replicas` x this deployment) simulated under it.
  bool has_traffic = false;
  std::string traffic_text;        ///< "40 req/s, 1500 in / 300 out tokens"
  int replicas = 1;
  ServingResult serving;
  int replicas_needed = 0;         ///< fewest replicas meeting the slo (0: none up to 64; set when the slo is missed)
  std::vector<CheckFinding> findings;
};

/// Options of a check run.
struct CheckOptions {
  std::string gpu;        ///< for vLLM configs without a GPU: catalog name
  int count = 0;          ///< for vLLM configs: GPUs (0 = tensor-parallel-size or 1)
  std::string provider;   ///< price provider (a deployment's `provider:` key wins)
  std::string region;     ///< only this region's instances (a deployment's `region:` key wins)
  bool spot = false;      ///< instances at their spot price (a deployment's `spot:` key wins)
  const InstanceCatalog* instances = nullptr; ///< instance shapes: with a provider that has some, GPUs are rented as instances
  bool strict = false;    ///< warnings fail too
};

/// A whole run over several files.
struct CheckReport {
  std::vector<DeploymentResult> deployments;
  int errors = 0;
  int warnings = 0;
  bool strict = false;
  /// 0 all pass (warnings allowed unless strict), 1 a check failed.
  int exit_code() const;
};

/// Checks one file's text (deployment file in JSON or YAML, or a vLLM engine config in YAML/JSON).
/// Throws InputError naming the file (and line where known) when it cannot be read as either.
std::vector<DeploymentResult> check_text(const std::string& text, const std::string& file, const GpuCatalog& gpus,
                                         const ModelCatalog& models, const Assumptions& assumptions,
                                         const CheckOptions& options);

/// The fields a deployment entry may have (data/deployment.schema.json lists the same).
const std::set<std::string>& deployment_fields();
/// The fields of a deployment's budget.
const std::set<std::string>& budget_fields();

/// Output formats of a check run. Each is deterministic: same input, same bytes.
void write_check_text(std::ostream& out, const CheckReport& report);
void write_check_json(std::ostream& out, const CheckReport& report);
void write_check_junit(std::ostream& out, const CheckReport& report);
void write_check_github(std::ostream& out, const CheckReport& report);
void write_check_markdown(std::ostream& out, const CheckReport& report);

} // namespace gpuadvise
