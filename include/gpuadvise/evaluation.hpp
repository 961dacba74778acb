#pragma once
/// One evaluation, named parts: what every workload kind returns for (workload, GPU, plan, assumptions),
/// and the registry of workload kinds. Reports, JSON and --explain loop over the parts; nobody
/// re-derives a number to print it.
#include <gpuadvise/estimate.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

struct Candidate;
class ModelCatalog;

/// What a part measures: memory per GPU, a time or a rate, a cost, or a fact about the model/plan.
enum class PartGroup { model, memory, time, cost };
std::string_view to_string(PartGroup g);

/// One named quantity of an evaluation: its value, its formula, the same with the numbers put in, and
/// where each constant comes from. `value` is the estimator's own number, never recomputed for display.
struct Part {
  std::string name;                  ///< e.g. "kv_cache_bytes"
  std::string formula;               ///< symbolic, e.g. "2 x layers x KV heads x head dim x bytes x tokens x sequences"
  std::string substituted;           ///< the same with the numbers put in
  double value = 0;
  std::string unit;                  ///< "bytes", "s", "tokens/s", "USD", ...
  std::vector<std::string> sources;  ///< where each constant comes from
  PartGroup group = PartGroup::model;
  std::string per;                   ///< unit of work: "GPU", "token", "image", "clip", "query", "step", "job", ...
  std::optional<Span> range;         ///< low..high where the estimate has one
};

/// Kind-specific description a workload kind attaches to a Workload (the embedding kind's encoder shape, ...).
struct KindSpec {
  virtual ~KindSpec() = default;
};

/// One workload kind: how its work turns into memory, time and parts. Registering a kind is one row in
/// workload_kinds() (src/workloads/registry.cpp); the advisor, rules, reports, check and sweep never branch
/// on the kind for anything a module provides.
struct KindModule {
  WorkloadKind kind;
  std::string_view name;         ///< as typed after --workload
  std::string_view description;  ///< one line for --help and docs
  std::string_view item;         ///< one unit of a job: "request", "image", "clip", "query", "sequence"
  std::string_view rate_unit;    ///< the headline rate's unit in tables: "tok/s", "s/image", ...
  double cost_per_items = 1;     ///< cost shown per this many items (1,000 images; 1 clip)
  bool has_context = false;      ///< the work has a token context (sweep's context axis, context limits)
  /// Validates a request into a workload of this kind; rejects options the kind does not use.
  Workload (*build)(const WorkloadRequest&, const ModelCatalog&);
  /// Memory per GPU on `count` GPUs splitting the work.
  MemoryEstimate (*memory)(const Workload&, const PrecisionDecision&, const Gpu&, int count, const Assumptions&);
  /// Speed on `count` GPUs.
  PerfEstimate (*performance)(const Workload&, const PrecisionDecision&, const Gpu&, int count, const Assumptions&);
  /// The headline rate for tables and sweeps (tokens/s, seconds per image, ...), expected.
  double (*headline)(const PerfEstimate&);
  /// The candidate's parts: model facts, memory per GPU, times and rates, in the order they are explained.
  std::vector<Part> (*parts)(const Workload&, const Candidate&, const Assumptions&);
};

/// Every registered kind, in --help order.
const std::vector<KindModule>& workload_kinds();
/// The module of a kind (throws InternalError for an unregistered kind).
const KindModule& kind_module(WorkloadKind kind);
/// Parses a --workload value through the registry (case-insensitive). Throws InputError naming the known kinds.
WorkloadKind parse_kind_name(std::string_view text);

/// The memory parts every kind ends with: runtime overhead, the total of the memory parts so far (its
/// formula names them) and what is usable (memory utilization x allocatable), all per GPU.
void append_memory_totals(std::vector<Part>& parts, const Workload& w, const Candidate& c, const Assumptions& a);
/// The cost parts every kind shares: $/hr, job $ and the per-item cost (from CostEstimate, never recomputed).
void append_cost_parts(std::vector<Part>& parts, const Workload& w, const Candidate& c);
/// A memory part per GPU (unit bytes, per GPU).
Part memory_part(std::string name, std::string formula, std::string substituted, double bytes,
                 std::vector<std::string> sources = {});
/// A time or rate part with its range.
Part time_part(std::string name, std::string formula, std::string substituted, const Span& value, std::string unit,
               std::string per, std::vector<std::string> sources = {});

/// "12.34 GB" (10^9 bytes, two decimals): the way explained byte counts are written.
std::string explain_gb(double bytes);
/// A number as explained: integers without decimals, others with 4 significant digits.
std::string explain_num(double v);
/// "<gpu> <field>: <source>" for a catalog field, "(no source given)" when the catalog has none.
std::string catalog_source(const Gpu& gpu, const std::string& field);

} // namespace gpuadvise
