#pragma once
/// Serving plans: a discrete-event simulation of continuous batching (vLLM/SGLang scheduling) for one
/// model on replicas of `tp` GPUs behind a router, and the search for the cheapest plan that meets a
/// traffic rate and latency targets. docs/serving.md has the model and what it leaves out.
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/estimate.hpp>
#include <gpuadvise/svg.hpp>
#include <gpuadvise/workload.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <ostream>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace gpuadvise {

/// Token lengths of requests: fixed (spread 0) or log-normal with this mean and coefficient of variation.
struct LengthDistribution {
  double mean = 0;
  double cv = 0;       ///< standard deviation / mean; 0 = every request has `mean` tokens
  int min = 1;
  int max = 1 << 20;
};

/// A named length profile with its published statistics and source (ShareGPT, summarisation, code).
struct LengthProfile {
  std::string name;
  LengthDistribution input, output;
  std::string source;
};
/// The built-in profiles: sharegpt, summarization, code-completion.
const std::vector<LengthProfile>& length_profiles();
/// A profile by name; InputError listing the known ones.
const LengthProfile& find_length_profile(std::string_view name);

/// One request of the load.
struct Request {
  double arrival_s = 0;
  int input_tokens = 0;
  int output_tokens = 1;
};

/// How requests arrive: open loop at `rate` requests/s (Poisson), or `concurrency` closed-loop users
/// who send the next request when the previous one finishes, or a trace.
struct Traffic {
  std::optional<double> rate;
  std::optional<int> concurrency;
  LengthDistribution input, output;
  std::vector<Request> trace;   ///< when non-empty: these requests, as recorded
  int requests = 2000;          ///< requests simulated (open and closed loop)
  std::uint64_t seed = 1;
};

/// Reads a trace: CSV (arrival_s,input_tokens,output_tokens with a header) or JSONL with those keys.
/// Throws InputError naming the file and line.
std::vector<Request> parse_trace(std::string_view text, std::string_view origin);

/// The requests of `traffic` (open loop or trace), sorted by arrival; closed loop: the first wave at t=0
/// and the rest's lengths (arrival set by the simulator). Deterministic for a seed.
std::vector<Request> generate_requests(const Traffic& traffic);

/// Latency targets; unset ones do not apply. Seconds.
struct Targets {
  std::optional<double> ttft_p95, ttft_p99, tpot_p95, e2e_p95;
  bool any() const { return ttft_p95 || ttft_p99 || tpot_p95 || e2e_p95; }
};

/// The engine's scheduler settings, named as vLLM names them.
struct EngineSettings {
  int max_num_seqs = 256;
  int max_num_batched_tokens = 8192;
  bool chunked_prefill = true;
  double prefix_cache_hit_rate = 0;   ///< share of prompt tokens found in the prefix cache (not recomputed)
  int block_size = 16;                ///< tokens per KV-cache block
  /// vLLM V0's multi-step scheduling (--num-scheduler-steps, 0.6.x): a decode batch runs this many steps
  /// per scheduling; admissions wait for the run's end and its tokens reach the client at the run's end.
  int num_scheduler_steps = 1;
  /// Host (CPU) time per sequence per scheduling that the GPU waits for: input preparation, sampling
  /// metadata, output processing and detokenization in an engine that does them between steps (vLLM's
  /// V0 engine, 0.5-0.6: data/assumptions.json serving_host_us_per_sequence_vllm_v0). Added to every
  /// scheduling's step time once per sequence in it (once per multi-step run). 0 = overlapped or negligible.
  double host_s_per_sequence = 0;
};

enum class Router { round_robin, least_outstanding };

/// p50, p95 and p99 of one latency, in seconds.
struct Percentiles {
  double p50 = 0, p95 = 0, p99 = 0;
};

/// What one simulation of a fleet gives.
struct ServingResult {
  int replicas = 1;
  int finished = 0;
  double duration_s = 0;                ///< first arrival to last completion
  Percentiles ttft_s, tpot_s, itl_s, e2e_s;
  double ttft_mean_s = 0, tpot_mean_s = 0, e2e_mean_s = 0;
  double request_throughput_per_s = 0;
  double output_tokens_per_s = 0;
  double goodput_per_s = 0;             ///< requests meeting every target, per second
  double goodput_share = 0;             ///< their share of all requests
  double kv_utilization = 0;            ///< mean share of KV blocks in use during steps
  double queueing_share = 0;            ///< mean share of a request's latency spent waiting to start
  int preemptions = 0;
  bool stable = true;                   ///< latency does not grow over the run (the fleet keeps up with the load)
  double mean_step_s = 0;
  double mean_batch = 0;                ///< sequences per step, mean
  std::int64_t kv_blocks = 0;           ///< per replica
  bool stopped_early = false;           ///< simulate(stop_on_certain_miss): stopped once a target was certainly missed
  double mean_decodes = 0;              ///< decoding sequences per scheduling that decodes, mean (for --explain)
  double mean_decode_context = 0;       ///< tokens of context of a decoding sequence, mean over those steps
  double mean_prefill_tokens = 0;       ///< prompt tokens per scheduling that computes prompt tokens, mean
};

/// One replica's engine: its step-time model and KV-block budget.
struct ReplicaModel {
  StepModel step;
  std::int64_t kv_blocks = 0;
  EngineSettings engine;
  /// Which of the step model's cases the simulation uses: 0 optimistic, 1 expected, 2 pessimistic.
  int case_index = 1;
};

/// Builds a replica of `tp` GPUs: KV blocks from the memory model (usable - weights - activations -
/// overhead, per GPU, in blocks of `engine.block_size` tokens). kv_blocks is 0 when the weights do not fit.
ReplicaModel make_replica(const Workload& w, const Gpu& gpu, int tp, const Assumptions& a, const EngineSettings& engine);

/// Simulates `replicas` copies of `model` serving `traffic` behind `router`. Deterministic. With
/// `stop_on_certain_miss` the run stops once it is certain to miss a target (a percentile's target
/// already exceeded by more requests than the percentile allows, or a refused request): the result
/// then has `stopped_early` set and only says "misses" (the plan search's bisection probes).
ServingResult simulate(const ReplicaModel& model, int replicas, const Traffic& traffic, const Targets& targets,
                       Router router = Router::least_outstanding, bool stop_on_certain_miss = false);

/// A plan for one GPU kind and tensor-parallel size.
struct ServingPlan {
  const Gpu* gpu = nullptr;
  int tp = 1;
  int replicas = 0;                  ///< 0: no count up to the search limit meets the targets
  bool fits = false;                 ///< one replica holds the weights and at least one sequence's KV cache
  ServingResult result;              ///< at the chosen replica count (or the largest tried)
  ServingResult optimistic, pessimistic; ///< the same fleet with the fast and slow step-time cases (detailed plans)
  double max_rate_per_replica = 0;   ///< highest rate one replica sustains within the targets (detailed plans)
  double saturation_rate = 0;        ///< requests/s one replica serves with max-num-seqs users always waiting
  bool detailed = false;             ///< ranges and max_rate_per_replica computed (the three cheapest plans that meet)
  bool priced = false;
  double usd_per_hour = 0, usd_per_month = 0, usd_per_million_output_tokens = 0;
  std::string failing_target;        ///< when nothing meets the targets: the first target missed and by how much
};

/// Options of the plan search.
struct ServingSearch {
  std::vector<const Gpu*> gpus;      ///< empty: the whole catalog
  std::vector<int> tp_sizes = {1, 2, 4, 8};
  int max_replicas = 64;
  std::string provider;
  Router router = Router::least_outstanding;
};

/// For every GPU kind and TP size that fits: the fewest replicas meeting the targets at the traffic's
/// rate (bisection), the highest rate one replica sustains, and the costs. Sorted: plans that meet the
/// targets by $/hr, then the others.
std::vector<ServingPlan> search_serving_plans(const Workload& w, const GpuCatalog& catalog, const Assumptions& a,
                                              const Traffic& traffic, const Targets& targets, const EngineSettings& engine,
                                              const ServingSearch& search);

/// A whole serving answer: what was asked and the plans, for the writers.
struct ServingReport {
  Workload workload;
  Traffic traffic;
  std::string traffic_text;          ///< how the lengths were given ("fixed 1500 in / 300 out", "profile sharegpt")
  Targets targets;
  EngineSettings engine;
  std::vector<ServingPlan> plans;    ///< ranked: the first meets the targets at the lowest $/hr, when any does
  std::string catalog_date;
};

/// The report as text (80 columns): the plans table, the pick with its latency percentiles and ranges, costs.
void write_serving_text(std::ostream& out, const ServingReport& report);
/// The report as JSON (documented in docs/serving.md).
nlohmann::json serving_json(const ServingReport& report);
/// --explain: the pick's step time in its parts (a mean decode step, a prompt alone) and how the
/// latency percentiles come out of the simulated requests (one line saying so when no plan meets the targets).
void write_serving_explain(std::ostream& out, const ServingReport& report, const Assumptions& a);

/// Hours in a month for $/month (730 = 8760 / 12).
inline constexpr double k_hours_per_month = 730;

/// One point of a rate sweep: a fleet of `replicas` x `tp` GPUs of one kind at one request rate.
struct RateSweepPoint {
  std::string gpu;
  int tp = 1;
  int replicas = 1;
  double rate = 0;                    ///< requests/s offered (Poisson)
  bool fits = false;                  ///< one replica holds the weights and one request's KV cache
  ServingResult result;               ///< when fits
  bool priced = false;
  double usd_per_hour = 0;            ///< the whole fleet
  double usd_per_million_output_tokens = 0; ///< $/hr / (output tokens/s served x 3600) x 10^6
};

/// A latency-throughput curve per GPU: the same fleet simulated at each rate.
struct RateSweep {
  Workload workload;
  std::string traffic_text;           ///< how the lengths were given
  Traffic traffic;                    ///< lengths, requests and seed (the rate is each point's)
  std::vector<double> rates;          ///< ascending
  std::vector<RateSweepPoint> points; ///< per GPU, in rate order
};

/// Parses "1,2,4,8" or a doubling range "1..64" of request rates (requests/s, > 0). InputError naming `what`.
std::vector<double> parse_rate_list(std::string_view text, std::string_view what = "--rates");

/// Simulates `replicas` replicas of `tp` GPUs of each GPU kind (empty: the catalog's GPUs that run the
/// precision natively) at every rate. Deterministic for the traffic's seed.
RateSweep run_rate_sweep(const Workload& w, const GpuCatalog& catalog, std::vector<const Gpu*> gpus, int tp, int replicas,
                         const Assumptions& a, const Traffic& traffic, const std::vector<double>& rates,
                         const EngineSettings& engine, std::string_view provider);

/// The curve as an 80-column table, CSV and JSON.
void write_rate_sweep_table(std::ostream& out, const RateSweep& sweep);
void write_rate_sweep_csv(std::ostream& out, const RateSweep& sweep);
nlohmann::json rate_sweep_json(const RateSweep& sweep);

/// What a rate sweep's plot shows against the rate.
enum class RateSweepMetric { ttft_p95, tpot_p95, usd_per_million_output_tokens };
/// One line per GPU: the metric against the offered rate (a fleet that does not fit is a missing point).
PlotSpec rate_sweep_plot(const RateSweep& sweep, RateSweepMetric metric);

} // namespace gpuadvise

namespace gpuadvise {

/// One published serving measurement next to the simulation of the same settings.
struct ServingValidationRow {
  std::string id, source, engine, model, gpu;
  int tp = 1;
  std::string setting;            ///< "all 500 at once", "32 req/s", "concurrency 25"
  std::string skipped;            ///< why the row is not simulated (empty when it is)
  /// Metric name -> (measured, simulated): output_tokens_per_s, ttft_s, tpot_s, e2e_s (medians where the
  /// source gives medians, else means).
  std::vector<std::tuple<std::string, double, double>> metrics;
};

/// Simulates every row of a serving validation file (data/serving_validation.json's format).
std::vector<ServingValidationRow> run_serving_validation(std::string_view text, std::string_view origin,
                                                         const GpuCatalog& catalog, const ModelCatalog& models,
                                                         const Assumptions& assumptions);

/// Median absolute error and row count per metric.
std::map<std::string, std::pair<double, int>> serving_validation_summary(const std::vector<ServingValidationRow>& rows);
/// The rows as a table with the medians.
void write_serving_validation_text(std::ostream& out, const std::vector<ServingValidationRow>& rows);
/// The rows and medians as JSON.
nlohmann::json serving_validation_json(const std::vector<ServingValidationRow>& rows);

} // namespace gpuadvise
