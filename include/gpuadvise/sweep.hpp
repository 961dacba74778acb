#pragma once
/// `gpuadvise sweep`: one workload evaluated over a grid of batches, contexts and precisions per GPU,
/// with the fit limits found by bisection, and its table, CSV, JSON and SVG writers.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/precision.hpp>
#include <gpuadvise/svg.hpp>
#include <gpuadvise/workload.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// Most values one range may expand to.
inline constexpr std::size_t k_max_range_points = 64;
/// Most points one sweep may evaluate (GPUs x precisions x batches x contexts).
inline constexpr std::size_t k_max_sweep_points = 100'000;
/// Largest batch a sweep accepts and the upper end of the largest-batch bisection (as --batch).
inline constexpr std::int64_t k_max_sweep_batch = 1'000'000;

/// Parses a token range as users type it: "2k..128k" (doubling from the first value; the last value
/// is included even when doubling does not land on it), "512,1k,4k" (a list), or a mix of both
/// ("512,2k..8k"). Values use parse_token_count's units. Returns sorted, distinct values. Throws
/// InputError naming `what` on junk, empty items, reversed ranges and more than k_max_range_points values.
std::vector<std::int64_t> parse_token_range(std::string_view text, std::string_view what = "--context range");
/// The same for plain counts such as batches: "1..64" -> 1, 2, 4, ..., 64; "1,3,8". At most `max_value` each.
std::vector<std::int64_t> parse_count_range(std::string_view text, std::string_view what = "--batch range",
                                            std::int64_t max_value = k_max_sweep_batch);
/// Parses a comma-separated list of precisions ("fp16,fp8"); distinct, in the order given. Throws InputError.
std::vector<Precision> parse_precision_list(std::string_view text, std::string_view what = "--precision");

/// The values to sweep. An empty list means "the base workload's value" (its batch, context or precision).
struct SweepGrid {
  std::vector<std::int64_t> batches;
  std::vector<std::int64_t> contexts;
  std::vector<Precision> precisions;
};

/// One (GPU, precision, batch, context) evaluated with evaluate() at a fixed batch.
struct SweepPoint {
  std::string gpu;                 ///< GPU id
  int count = 1;                   ///< GPUs in tensor parallel
  Precision precision = Precision::fp16;           ///< as requested
  Precision effective_precision = Precision::fp16; ///< what the GPU runs (differs when not native)
  std::int64_t batch = 1;
  std::int64_t context = 0;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  bool fits = false;               ///< memory per GPU <= usable memory
  bool native = false;             ///< the GPU runs the requested precision in hardware
  bool priced = false;             ///< the GPU has a price (else the usd_* fields are 0)
  double memory_total_bytes = 0;   ///< per GPU
  double memory_usable_bytes = 0;  ///< per GPU
  double decode_tokens_per_s = 0;  ///< all sequences, expected
  double decode_tokens_per_s_per_sequence = 0;
  double usd_per_hour = 0;         ///< all `count` GPUs
  double usd_per_million_tokens = 0;   ///< per million generated tokens
  double tokens_per_s_per_usd_hour = 0; ///< decode tokens/s divided by $/hr: throughput per dollar
};

/// Fit limits of one GPU at one precision, found by bisection over integers with estimate_memory.
struct SweepSummary {
  std::string gpu;
  Precision precision = Precision::fp16;
  double memory_usable_bytes = 0;
  std::int64_t batch = 1;            ///< the grid's smallest batch
  std::int64_t largest_context = 0;  ///< largest context that fits at `batch`; 0 when none does
  bool context_at_limit = false;     ///< the search stopped at k_max_tokens_per_sequence: at least that
  std::int64_t context = 0;          ///< the grid's smallest context
  std::int64_t largest_batch = 0;    ///< largest batch that fits at `context`; 0 when none does
  bool batch_at_limit = false;       ///< the search stopped at k_max_sweep_batch: at least that
};

/// The whole sweep: the grid as run (sorted, defaults filled in), the points and the summaries.
struct SweepResult {
  Workload base;
  SweepGrid grid;
  int count = 1;
  std::string provider;                ///< as given; empty = cheapest on-demand
  std::string catalog_date;
  std::vector<SweepPoint> points;      ///< GPU order, then precision, batch, context
  std::vector<SweepSummary> summaries; ///< GPU order, then precision
};

/// Evaluates `base` on every GPU in `gpus` (empty = the whole catalog) at every grid point, with the
/// batch fixed (batch_given = true). The sequence fills its context: input = context - output tokens,
/// or, when the context is no longer than the output, input = context / 2 and output = the rest.
/// Throws InputError for contexts below 2, an invalid count, an unknown provider or too many points.
SweepResult run_sweep(const Workload& base, const GpuCatalog& catalog, const std::vector<const Gpu*>& gpus, int count,
                      const Assumptions& assumptions, const SweepGrid& grid, std::string_view provider);
/// The same sweep priced as the default command prices a plan: with `pricing.instances` and a provider that has
/// instance shapes, each point's GPUs are rented as that provider's instances (rounded up to a shape, only
/// `pricing.region`'s rows, spot prices with `pricing.spot`); checked by require_pricing.
SweepResult run_sweep(const Workload& base, const GpuCatalog& catalog, const std::vector<const Gpu*>& gpus, int count,
                      const Assumptions& assumptions, const SweepGrid& grid, const AdviseOptions& pricing);

/// An aligned table (at most 80 columns for GPU ids up to 23 characters) and one summary line per GPU and precision.
void write_sweep_table(std::ostream& out, const SweepResult& result);
/// CSV: a header row, then one row per point; plain numbers (no units), booleans as true/false, empty when unpriced.
void write_sweep_csv(std::ostream& out, const SweepResult& result);
/// The sweep as a JSON document: schema_version 1, tool, workload, grid, points, summary.
nlohmann::json sweep_json(const SweepResult& result);

/// What a sweep plot shows on y.
enum class SweepMetric { tokens_per_s_per_usd_hour, memory_gb };
/// Which grid axis a sweep plot puts on x.
enum class SweepAxis { context, batch };

/// One series per GPU (per GPU and precision when the grid has several) over the chosen axis, with
/// the other axis fixed at `fixed` (0 = the grid's smallest value). Points that do not fit, or have
/// no price for a per-dollar metric, are missing. Throws InputError when `fixed` is not in the grid.
PlotSpec sweep_plot(const SweepResult& result, SweepMetric metric, SweepAxis axis, std::int64_t fixed = 0);

} // namespace gpuadvise
