// The serving simulator: continuous batching the way vLLM (V1) and SGLang schedule it, one step at a
// time. Each step runs every decoding sequence's next token and fills the rest of the token budget
// (max-num-batched-tokens) with prompt chunks; requests are admitted while max-num-seqs and the KV-cache
// blocks allow; when a decode needs a block and none is free, the newest sequence is preempted and
// recomputed later. Step times come from StepModel (the evaluation core's roofline). docs/serving.md.
#include <gpuadvise/error.hpp>
#include <gpuadvise/engine_memory.hpp>
#include <gpuadvise/serving.hpp>
#include <gpuadvise/training.hpp>
#include <gpuadvise/units.hpp>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <queue>
#include <random>
#include <sstream>

namespace gpuadvise {
namespace {

/// A sequence in the engine.
struct Seq {
  int input = 0, output = 1;
  double arrival = 0;
  int to_prefill = 0;        ///< prompt (or, after a preemption, prompt + generated) tokens not yet computed
  int context = 0;           ///< tokens whose KV is held
  int generated = 0;
  int blocks = 0;
  double first_token = -1;
  double started = -1;       ///< first scheduled
  double finished = -1;
};

struct Replica {
  std::deque<int> waiting;
  std::vector<int> running;          ///< admission order: the newest last
  std::int64_t free_blocks = 0;
  bool busy = false;
  double step_end = 0;
  // The step in flight.
  std::vector<std::pair<int, int>> prefills; ///< (sequence, tokens) computed this step
  std::vector<int> decodes;
  int steps = 1;                     ///< engine steps in this scheduling (multi-step runs: several)
  int outstanding() const { return static_cast<int>(waiting.size() + running.size()); }
};

Percentiles percentiles_of(std::vector<double> v) {
  // The nearest-rank values of the sorted list, found by selection (the same values as sorting first).
  if (v.empty()) return {};
  auto at = [&](double q) {
    const std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    const auto nth = v.begin() + static_cast<std::ptrdiff_t>(std::min(v.size() - 1, rank == 0 ? 0 : rank - 1));
    std::nth_element(v.begin(), nth, v.end());
    return *nth;
  };
  const double p50 = at(0.50), p95 = at(0.95), p99 = at(0.99);
  return {p50, p95, p99};
}

/// Step durations weighted by the sequences each advanced, in log-spaced bins (0.5% wide, 1 us to ~1000 s):
/// the inter-token latency distribution without storing every token.
class StepHistogram {
public:
  void add(double seconds, double weight) {
    const double x = std::log(std::max(seconds, k_min) / k_min) / k_log_step;
    m_bins[std::min(m_bins.size() - 1, static_cast<std::size_t>(x))] += weight;
    m_total += weight;
  }
  Percentiles percentiles() const {
    if (m_total <= 0) return {};
    auto at = [&](double q) {
      double seen = 0;
      for (std::size_t i = 0; i < m_bins.size(); ++i) {
        seen += m_bins[i];
        if (seen >= q * m_total) return k_min * std::exp((static_cast<double>(i) + 0.5) * k_log_step);
      }
      return k_min * std::exp(static_cast<double>(m_bins.size()) * k_log_step);
    };
    return {at(0.50), at(0.95), at(0.99)};
  }

private:
  static constexpr double k_min = 1e-6;
  static constexpr double k_log_step = 0.005;
  std::vector<double> m_bins = std::vector<double>(static_cast<std::size_t>(std::log(1e9) / k_log_step) + 1, 0.0);
  double m_total = 0;
};

int sample_length(const LengthDistribution& d, std::mt19937_64& rng) {
  double value = d.mean;
  if (d.cv > 0) {
    // Log-normal with the given mean and coefficient of variation.
    const double sigma2 = std::log(1 + d.cv * d.cv);
    std::normal_distribution<double> normal(std::log(d.mean) - sigma2 / 2, std::sqrt(sigma2));
    value = std::exp(normal(rng));
  }
  return static_cast<int>(std::clamp(std::llround(value), static_cast<long long>(d.min), static_cast<long long>(d.max)));
}

/// A request meets the targets that apply to one request (p95/p99 targets are checked per request here,
/// so that goodput counts requests served within them).
bool meets(const Seq& s, const Targets& t) {
  const double ttft = s.first_token - s.arrival;
  const double e2e = s.finished - s.arrival;
  const double tpot = s.output > 1 ? (s.finished - s.first_token) / (s.output - 1) : 0;
  if (t.ttft_p95 && ttft > *t.ttft_p95) return false;
  if (t.ttft_p99 && ttft > *t.ttft_p99) return false;
  if (t.tpot_p95 && tpot > *t.tpot_p95) return false;
  if (t.e2e_p95 && e2e > *t.e2e_p95) return false;
  return true;
}

} // namespace

const std::vector<LengthProfile>& length_profiles() {
  static const std::vector<LengthProfile> profiles = {
      {"sharegpt", {202, 1.0, 4, 4096}, {179, 1.0, 1, 4096},
       "ShareGPT as vLLM's benchmark_serving samples it: mean 202 input and 179 output tokens (vLLM blog, 'vLLM v0.6.0: "
       "2.7x throughput improvement', 2024-09-05, benchmark appendix); spread: coefficient of variation 1.0 (an "
       "engineering assumption for its heavy-tailed conversation lengths)"},
      {"summarization", {1500, 0.5, 64, 32768}, {150, 0.5, 1, 4096},
       "long input, short output: mean 1,500 in / 150 out (the 'prefill-heavy' shapes of the vLLM and TensorRT-LLM "
       "benchmarks, e.g. TensorRT-LLM perf-overview 2048/128); spread 0.5 assumed"},
      {"code-completion", {1000, 0.5, 16, 32768}, {50, 0.5, 1, 2048},
       "editor completions: ~1,000 tokens of file context, ~50 generated (an engineering estimate; no public "
       "trace found); spread 0.5 assumed"},
  };
  return profiles;
}

const LengthProfile& find_length_profile(std::string_view name) {
  std::vector<std::string> names;
  for (const auto& p : length_profiles()) {
    if (normalize_name(p.name) == normalize_name(name)) return p;
    names.push_back(p.name);
  }
  throw InputError(fmt::format("unknown --length-profile '{}': expected one of {}", name, fmt::join(names, ", ")));
}

std::vector<Request> parse_trace(std::string_view text, std::string_view origin) {
  std::vector<Request> out;
  std::istringstream lines{std::string(text)};
  std::string line;
  int number = 0;
  bool header_seen = false;
  auto fail = [&](std::string_view what) {
    throw InputError(fmt::format("{}: line {}: {}", origin, number, what));
  };
  while (std::getline(lines, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    Request r;
    if (line.front() == '{') {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception&) {
        fail("not a JSON object");
      }
      for (const char* key : {"arrival_s", "input_tokens", "output_tokens"})
        if (!j.contains(key) || !j[key].is_number()) fail(fmt::format("'{}' missing or not a number", key));
      for (const auto& [key, value] : j.items())
        if (key != "arrival_s" && key != "input_tokens" && key != "output_tokens") fail(fmt::format("unknown key '{}'", key));
      r.arrival_s = j["arrival_s"].get<double>();
      const double in = j["input_tokens"].get<double>(), outp = j["output_tokens"].get<double>();
      if (in != std::floor(in) || outp != std::floor(outp) || in < 1 || outp < 1 || in > 1e7 || outp > 1e7)
        fail("input_tokens and output_tokens must be whole numbers from 1 to 10^7");
      r.input_tokens = static_cast<int>(in);
      r.output_tokens = static_cast<int>(outp);
    } else {
      if (!header_seen && line.find("arrival") != std::string::npos) {
        if (line != "arrival_s,input_tokens,output_tokens") fail("the CSV header must be arrival_s,input_tokens,output_tokens");
        header_seen = true;
        continue;
      }
      double a = 0;
      long long in = 0, outp = 0;
      char c1 = 0, c2 = 0;
      std::istringstream fields(line);
      if (!(fields >> a >> c1 >> in >> c2 >> outp) || c1 != ',' || c2 != ',' || !(fields >> std::ws).eof())
        fail("expected arrival_s,input_tokens,output_tokens");
      if (in < 1 || outp < 1 || in > 10'000'000 || outp > 10'000'000) fail("token counts must be from 1 to 10^7");
      r.arrival_s = a;
      r.input_tokens = static_cast<int>(in);
      r.output_tokens = static_cast<int>(outp);
    }
    if (!(r.arrival_s >= 0) || r.arrival_s > 1e9) fail("arrival_s must be a time in seconds from 0");
    out.push_back(r);
  }
  if (out.empty()) throw InputError(fmt::format("{}: no requests", origin));
  std::stable_sort(out.begin(), out.end(), [](const Request& a, const Request& b) { return a.arrival_s < b.arrival_s; });
  return out;
}

std::vector<Request> generate_requests(const Traffic& t) {
  if (!t.trace.empty()) return t.trace;
  std::mt19937_64 rng(t.seed);
  std::vector<Request> out;
  out.reserve(static_cast<std::size_t>(t.requests));
  std::exponential_distribution<double> gap(t.rate ? *t.rate : 1.0);
  double clock = 0;
  for (int i = 0; i < t.requests; ++i) {
    Request r;
    if (t.rate) {
      clock += gap(rng);
      r.arrival_s = clock;
    }
    r.input_tokens = sample_length(t.input, rng);
    r.output_tokens = std::max(1, sample_length(t.output, rng));
    out.push_back(r);
  }
  return out;
}

ReplicaModel make_replica(const Workload& w, const Gpu& gpu, int tp, const Assumptions& a, const EngineSettings& engine) {
  const PrecisionDecision p = decide_precision(w, gpu);
  ReplicaModel r{StepModel(w, p, gpu, tp, a), 0, engine, 1};
  // The KV blocks as the engine sizes them at start-up (vLLM V1's accounting, docs/engine-memory.md):
  // the same budget `check` prints for a vLLM config. The precision is the one the replica runs.
  Workload as_run = w;
  as_run.precision = p.effective;
  try {
    const EngineMemory m = engine_memory(
        as_run.shape, gpu, engine_launch_for(as_run, tp, engine.max_num_seqs, engine.max_num_batched_tokens, engine.block_size));
    r.kv_blocks = m.kv_tokens > 0 ? m.kv_tokens / engine.block_size : 0;
  } catch (const InputError&) {
    r.kv_blocks = 0; // a split the engine refuses (more ranks than heads): no replica
  }
  return r;
}

ServingResult simulate(const ReplicaModel& model, int replicas, const Traffic& traffic, const Targets& targets, Router router,
                       bool stop_on_certain_miss) {
  if (replicas < 1) throw InternalError("simulate: no replicas");
  const EngineSettings& e = model.engine;
  const bool closed = traffic.concurrency.has_value() && traffic.trace.empty();
  std::vector<Request> requests = generate_requests(traffic);
  std::vector<Seq> seqs(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    Seq& s = seqs[i];
    s.input = requests[i].input_tokens;
    s.output = requests[i].output_tokens;
    s.arrival = requests[i].arrival_s;
  }
  // Closed loop: `concurrency` users start at 0; each finished request releases the next one.
  std::size_t next_arrival = 0;
  std::size_t released = closed ? std::min<std::size_t>(seqs.size(), static_cast<std::size_t>(*traffic.concurrency)) : seqs.size();
  if (closed)
    for (std::size_t i = 0; i < released; ++i) seqs[i].arrival = 0;

  std::vector<Replica> fleet(static_cast<std::size_t>(replicas));
  // Step ends of the busy replicas: (time, replica), earliest first.
  std::priority_queue<std::pair<double, std::size_t>, std::vector<std::pair<double, std::size_t>>, std::greater<>> step_ends;
  for (auto& r : fleet) r.free_blocks = model.kv_blocks;
  const auto blocks_for = [&](int tokens) { return (tokens + e.block_size - 1) / e.block_size; };
  StepHistogram itl; // step seconds, weighted by the sequences that got a token
  double kv_weighted = 0, time_weighted = 0, step_sum = 0, batch_sum = 0;
  double decode_sum = 0, decode_context_sum = 0, prefill_sum = 0;
  int decode_schedulings = 0, prefill_schedulings = 0;
  int steps = 0, preemptions = 0, finished = 0;
  std::size_t rr = 0;

  // Starts the next step of replica `r` at time `now`, if it has work.
  auto start_step = [&](Replica& r, double now) {
    r.prefills.clear();
    r.decodes.clear();
    int budget = e.max_num_batched_tokens;
    double decode_context = 0, prefill_tokens = 0, prefill_attended = 0;
    // 1. Prompt work. With chunked prefill, prompt chunks ride along with the decodes (below). Without it
    //    (vLLM V0's default, SGLang without mixed chunks), waiting prompts run first in a prefill-only
    //    step, whole, while the running sequences' decodes pause; a prompt longer than the token budget
    //    runs alone (the engine sizes the budget to at least max-model-len when prefill is not chunked).
    auto prefill = [&](int id) {
      Seq& s = seqs[static_cast<std::size_t>(id)];
      int chunk = std::min(s.to_prefill, budget);
      if (!e.chunked_prefill && chunk < s.to_prefill) {
        if (!r.prefills.empty()) return false;
        chunk = s.to_prefill;
      }
      const std::int64_t need = blocks_for(s.context + chunk) - s.blocks;
      if (need > r.free_blocks) {
        if (!e.chunked_prefill) return false;
        chunk = static_cast<int>(std::min<std::int64_t>(chunk, (s.blocks + r.free_blocks) * e.block_size - s.context));
        if (chunk <= 0) return false;
      }
      const std::int64_t take = blocks_for(s.context + chunk) - s.blocks;
      r.free_blocks -= take;
      s.blocks += static_cast<int>(take);
      r.prefills.emplace_back(id, chunk);
      prefill_tokens += chunk;
      prefill_attended += chunk * (s.context + chunk / 2.0);
      budget -= chunk;
      if (s.started < 0) s.started = now;
      return true;
    };
    auto admit = [&] {
      while (budget > 0 && !r.waiting.empty() && static_cast<int>(r.running.size()) < e.max_num_seqs) {
        const int id = r.waiting.front();
        if (!prefill(id)) break;
        r.waiting.pop_front();
        r.running.push_back(id);
      }
    };
    if (!e.chunked_prefill) {
      admit();
      if (!r.prefills.empty()) budget = 0; // a prefill-only step
    }
    // 2. Running decodes, each needing a KV slot; when none is free the newest sequence is preempted
    //    (recomputed when readmitted, as vLLM does).
    auto preempt = [&](int victim) {
      Seq& v = seqs[static_cast<std::size_t>(victim)];
      r.free_blocks += v.blocks;
      v.blocks = 0;
      v.to_prefill += v.context;
      v.context = 0;
      r.running.erase(std::find(r.running.begin(), r.running.end(), victim));
      r.waiting.push_front(victim);
      ++preemptions;
    };
    // A multi-step run (decodes only) reserves the slots of all its steps up front (vLLM's lookahead slots).
    const int lookahead = e.num_scheduler_steps > 1 && r.prefills.empty() ? e.num_scheduler_steps : 1;
    // Whether this loop saw every running sequence without preempting, and how many of them still have
    // prompt tokens to compute: when none do, step 3's pass over the running sequences has nothing to do.
    bool scanned_all = true;
    std::size_t prefilling = 0;
    const int preempted_before = preemptions;
    for (std::size_t i = 0; i < r.running.size() && budget > 0; ++i) {
      const int id = r.running[i];
      Seq& s = seqs[static_cast<std::size_t>(id)];
      if (s.to_prefill > 0) {
        ++prefilling;
        continue;
      }
      // Blocks to add (negative: to give back) so that the next tokens' KV fits: blocks_for(context + k) -
      // blocks, without the division in the common case of the tokens still inside the blocks held.
      const int next = s.context + std::min(lookahead, s.output - s.generated);
      const int need = next <= s.blocks * e.block_size && next > (s.blocks - 1) * e.block_size ? 0 : blocks_for(next) - s.blocks;
      while (need > r.free_blocks && r.running.size() > i + 1) preempt(r.running.back());
      if (need > r.free_blocks) {
        preempt(id);
        break;
      }
      r.free_blocks -= need;
      s.blocks += need;
      r.decodes.push_back(id);
      decode_context += s.context;
      --budget;
    }
    if (preemptions != preempted_before) scanned_all = false;
    // 3. With chunked prefill: prompt chunks of running sequences, then newly admitted ones, into the
    //    rest of the budget. (A decoding sequence has nothing left to prefill: the lists never share one.)
    if (e.chunked_prefill) {
      if (!(scanned_all && prefilling == 0))
        for (std::size_t i = 0; i < r.running.size() && budget > 0; ++i)
          if (seqs[static_cast<std::size_t>(r.running[i])].to_prefill > 0) prefill(r.running[i]);
      admit();
    }
    if (r.decodes.empty() && r.prefills.empty()) {
      r.busy = false;
      return;
    }
    // Attention work of the prompt chunks: each token attends on average to its position (all layers).
    const double attended = prefill_tokens > 0 ? prefill_attended / prefill_tokens : 0;
    double seconds =
        model.step.step_case_s(model.case_index, static_cast<double>(r.decodes.size()), decode_context, prefill_tokens, attended);
    // A multi-step run: every sequence of the batch is stepped `lookahead` times (one that finishes early
    // keeps its place in the batch until the run ends, as vLLM 0.6's multi-step runner does).
    r.steps = r.prefills.empty() ? lookahead : 1;
    for (int k = 1; k < r.steps; ++k)
      seconds += model.step.step_case_s(model.case_index, static_cast<double>(r.decodes.size()),
                                        decode_context + static_cast<double>(k * r.decodes.size()), 0, 0);
    // The host's per-sequence work between schedulings (vLLM V0: input preparation, output processing and
    // detokenization), which the GPU waits for; a multi-step run does it once.
    seconds += e.host_s_per_sequence * static_cast<double>(r.decodes.size() + r.prefills.size());
    r.busy = true;
    r.step_end = now + seconds;
    step_ends.emplace(r.step_end, static_cast<std::size_t>(&r - fleet.data()));
    const double used = static_cast<double>(model.kv_blocks - r.free_blocks);
    kv_weighted += (model.kv_blocks > 0 ? used / static_cast<double>(model.kv_blocks) : 0) * seconds;
    time_weighted += seconds;
    step_sum += seconds;
    batch_sum += static_cast<double>(r.decodes.size() + r.prefills.size()) * r.steps;
    steps += r.steps;
    if (!r.decodes.empty()) itl.add(seconds / r.steps, static_cast<double>(r.decodes.size() * r.steps));
    if (!r.decodes.empty()) {
      ++decode_schedulings;
      decode_sum += static_cast<double>(r.decodes.size());
      decode_context_sum += decode_context;
    }
    if (prefill_tokens > 0) {
      ++prefill_schedulings;
      prefill_sum += prefill_tokens;
    }
  };

  auto route = [&](int id, double now) {
    std::size_t target = 0;
    if (router == Router::round_robin) {
      target = rr++ % fleet.size();
    } else {
      for (std::size_t i = 1; i < fleet.size(); ++i)
        if (fleet[i].outstanding() < fleet[target].outstanding()) target = i;
    }
    Replica& r = fleet[target];
    Seq& s = seqs[static_cast<std::size_t>(id)];
    const int cached = static_cast<int>(std::floor(s.input * e.prefix_cache_hit_rate));
    s.to_prefill = s.input - cached;
    s.context = cached;
    r.waiting.push_back(id);
    if (!r.busy) start_step(r, now);
  };

  // Requests whose prompt and output can never fit one replica's KV cache are refused (vLLM rejects them).
  const auto too_long = [&](const Seq& s) { return blocks_for(s.input + s.output) > model.kv_blocks; };

  // With stop_on_certain_miss, the run ends as soon as the result is certain to miss a target: more
  // requests have exceeded a percentile's target than the percentile may leave above it (nearest rank
  // over all requests, the same ranks percentiles_of takes), or a request is refused (not all finish).
  const std::size_t total = seqs.size();
  std::size_t multi_token = 0;
  for (const auto& s : seqs) multi_token += s.output > 1 ? 1 : 0;
  const auto allowed_above = [](std::size_t n, double q) -> std::size_t {
    if (n == 0) return std::numeric_limits<std::size_t>::max();
    const std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
    return n - std::min(n, std::max<std::size_t>(rank, 1)); // values above the rank-th may not exceed this
  };
  const std::size_t ttft95_allowed = allowed_above(total, 0.95), ttft99_allowed = allowed_above(total, 0.99),
                    tpot95_allowed = allowed_above(multi_token, 0.95), e2e95_allowed = allowed_above(total, 0.95);
  std::size_t ttft95_over = 0, ttft99_over = 0, tpot95_over = 0, e2e95_over = 0;
  bool certain_miss = false;
  const auto first_token_at = [&](const Seq& s, double now) {
    if (!stop_on_certain_miss) return;
    const double ttft = now - s.arrival;
    if (targets.ttft_p95 && ttft > *targets.ttft_p95 && ++ttft95_over > ttft95_allowed) certain_miss = true;
    if (targets.ttft_p99 && ttft > *targets.ttft_p99 && ++ttft99_over > ttft99_allowed) certain_miss = true;
  };
  const auto finished_at = [&](const Seq& s) {
    if (!stop_on_certain_miss) return;
    if (targets.e2e_p95 && s.finished - s.arrival > *targets.e2e_p95 && ++e2e95_over > e2e95_allowed) certain_miss = true;
    if (targets.tpot_p95 && s.output > 1 && (s.finished - s.first_token) / (s.output - 1) > *targets.tpot_p95 &&
        ++tpot95_over > tpot95_allowed)
      certain_miss = true;
  };

  std::vector<int> done;
  double last_time = 0;
  while (!certain_miss) {
    // The next event: an arrival, or the earliest step to finish.
    double arrival_time = std::numeric_limits<double>::infinity();
    if (next_arrival < released) arrival_time = seqs[next_arrival].arrival;
    // The earliest step end, the lowest replica index first on a tie. A replica has at most one step in
    // flight and starts the next only when that one is taken from the queue, so no entry is ever stale.
    const double step_time = step_ends.empty() ? std::numeric_limits<double>::infinity() : step_ends.top().first;
    if (std::isinf(arrival_time) && std::isinf(step_time)) break;
    if (arrival_time <= step_time) {
      const int id = static_cast<int>(next_arrival++);
      if (too_long(seqs[static_cast<std::size_t>(id)])) {
        certain_miss = stop_on_certain_miss;
        continue;
      }
      route(id, arrival_time);
      continue;
    }
    const std::size_t stepping = step_ends.top().second;
    step_ends.pop();
    Replica& r = fleet[stepping];
    const double now = step_time;
    last_time = now;
    auto finish = [&](int id) {
      Seq& s = seqs[static_cast<std::size_t>(id)];
      s.finished = now;
      r.free_blocks += s.blocks;
      s.blocks = 0;
      r.running.erase(std::find(r.running.begin(), r.running.end(), id));
      ++finished;
      finished_at(s);
      if (closed && released < seqs.size()) {
        seqs[released].arrival = now;
        ++released;
      }
    };
    done.clear();
    for (const auto& [id, chunk] : r.prefills) {
      Seq& s = seqs[static_cast<std::size_t>(id)];
      s.context += chunk;
      s.to_prefill -= chunk;
      if (s.to_prefill == 0) {
        // The prompt's last chunk samples a token: the first one, or the next after a recompute.
        if (s.first_token < 0) {
          s.first_token = now;
          first_token_at(s, now);
        }
        ++s.generated;
        if (s.generated >= s.output) done.push_back(id);
      }
    }
    for (int id : r.decodes) {
      Seq& s = seqs[static_cast<std::size_t>(id)];
      const int advanced = std::min(r.steps, s.output - s.generated);
      s.context += advanced;
      s.generated += advanced;
      if (s.generated >= s.output) done.push_back(id);
    }
    for (int id : done) finish(id);
    start_step(r, now);
  }

  ServingResult out;
  out.stopped_early = certain_miss;
  out.replicas = replicas;
  out.finished = finished;
  out.preemptions = preemptions;
  out.kv_blocks = model.kv_blocks;
  std::vector<double> ttft, tpot, e2e;
  double first_arrival = std::numeric_limits<double>::infinity(), queue_share = 0;
  int good = 0;
  for (const auto& s : seqs) {
    if (s.finished < 0) continue;
    first_arrival = std::min(first_arrival, s.arrival);
    ttft.push_back(s.first_token - s.arrival);
    e2e.push_back(s.finished - s.arrival);
    if (s.output > 1) tpot.push_back((s.finished - s.first_token) / (s.output - 1));
    queue_share += s.finished > s.arrival ? (s.started - s.arrival) / (s.finished - s.arrival) : 0;
    good += meets(s, targets);
    out.output_tokens_per_s += s.output;
  }
  out.duration_s = finished > 0 ? last_time - first_arrival : 0;
  // A fleet that cannot keep up shows a queue that grows with time: the last quarter of the arrivals waits
  // far longer than the second quarter (Poisson noise and warm-up stay well inside 1.5x + 0.5 s).
  if (!closed && seqs.size() >= 8) {
    auto mean_e2e = [&](std::size_t from, std::size_t to) {
      double sum = 0;
      std::size_t n = 0;
      for (std::size_t i = from; i < to; ++i)
        if (seqs[i].finished >= 0) sum += seqs[i].finished - seqs[i].arrival, ++n;
      return n > 0 ? sum / static_cast<double>(n) : 0.0;
    };
    const std::size_t q = seqs.size() / 4;
    out.stable = finished == static_cast<int>(seqs.size()) && mean_e2e(3 * q, seqs.size()) <= 1.5 * mean_e2e(q, 2 * q) + 0.5;
  }
  auto mean = [](const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
  };
  out.ttft_mean_s = mean(ttft);
  out.tpot_mean_s = mean(tpot);
  out.e2e_mean_s = mean(e2e);
  out.ttft_s = percentiles_of(std::move(ttft));
  out.tpot_s = percentiles_of(std::move(tpot));
  out.e2e_s = percentiles_of(std::move(e2e));
  out.itl_s = itl.percentiles();
  if (out.duration_s > 0) {
    out.request_throughput_per_s = finished / out.duration_s;
    out.output_tokens_per_s /= out.duration_s;
    out.goodput_per_s = good / out.duration_s;
  } else {
    out.output_tokens_per_s = 0;
  }
  out.goodput_share = seqs.empty() ? 0 : static_cast<double>(good) / static_cast<double>(seqs.size());
  out.kv_utilization = time_weighted > 0 ? kv_weighted / time_weighted : 0;
  out.queueing_share = finished > 0 ? queue_share / finished : 0;
  out.mean_step_s = steps > 0 ? step_sum / steps : 0;
  out.mean_batch = steps > 0 ? batch_sum / steps : 0;
  out.mean_decodes = decode_schedulings > 0 ? decode_sum / decode_schedulings : 0;
  out.mean_decode_context = decode_sum > 0 ? decode_context_sum / decode_sum : 0;
  out.mean_prefill_tokens = prefill_schedulings > 0 ? prefill_sum / prefill_schedulings : 0;
  return out;
}

} // namespace gpuadvise
