// The serving simulator against published serving benchmarks (data/serving_validation.json): each row
// run with the model, GPU, tensor-parallel size, lengths and load the source states.
#include <gpuadvise/error.hpp>
#include <gpuadvise/serving.hpp>

#include <nlohmann/json.hpp>

#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace gpuadvise {

std::vector<ServingValidationRow> run_serving_validation(std::string_view text, std::string_view origin,
                                                         const GpuCatalog& catalog, const ModelCatalog& models,
                                                         const Assumptions& assumptions) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON: {}", origin, e.what()));
  }
  std::vector<ServingValidationRow> out;
  for (const auto& r : doc.at("rows")) {
    ServingValidationRow row;
    const auto& run = r.at("gpuadvise");
    row.id = r.at("id").get<std::string>();
    row.source = r.at("source").get<std::string>();
    row.engine = r.at("engine").get<std::string>();
    row.model = run.at("model").get<std::string>();
    row.gpu = run.at("gpu").get<std::string>();
    row.tp = run.at("tp").get<int>();
    if (run.contains("skip")) {
      row.skipped = run.at("skip").get<std::string>();
      out.push_back(row);
      continue;
    }
    const auto& m = r.at("measured");
    const bool sharegpt = r.value("dataset", "") == "sharegpt";
    Traffic t;
    const auto number = [&](const char* key) { return r.contains(key) && r[key].is_number() ? r[key].get<double>() : 0.0; };
    if (sharegpt) {
      const LengthProfile& p = find_length_profile("sharegpt");
      t.input = p.input;
      t.output = p.output;
    } else {
      t.input.mean = number("input_tokens");
      t.output.mean = number("output_tokens");
    }
    const int prompts = static_cast<int>(number("num_prompts"));
    if (number("request_rate") > 0) {
      t.rate = number("request_rate");
      t.requests = prompts > 0 ? prompts : 1000;
      row.setting = fmt::format("{:g} req/s", *t.rate);
    } else if (number("max_concurrency") > 0) {
      t.concurrency = static_cast<int>(number("max_concurrency"));
      // Fixed-batch latency rows run exactly one batch; concurrency rows enough requests to reach steady state.
      t.requests = prompts > 0 ? prompts : r.value("dataset", "") == "fixed" ? *t.concurrency : std::max(200, 4 * *t.concurrency);
      row.setting = fmt::format("concurrency {}", *t.concurrency);
    } else {
      t.concurrency = prompts > 0 ? prompts : 1000;
      t.requests = *t.concurrency;
      row.setting = fmt::format("all {} at once", *t.concurrency);
    }
    WorkloadRequest request;
    request.model = row.model;
    request.precision = run.at("precision").get<std::string>();
    request.runtime = run.at("runtime").get<std::string>();
    request.batch = "1";
    request.context = "4096";
    request.output_tokens = "1";
    const Workload w = build_workload(request, models);
    EngineSettings engine;
    // TensorRT-LLM's benchmarks run large in-flight batches (its max_batch_size defaults to 2048).
    if (row.engine == "trtllm" || row.engine == "nim") engine.max_num_seqs = 2048;
    // The scheduler the source ran, when it differs from the defaults (data file: gpuadvise.scheduler).
    if (run.contains("scheduler")) {
      const auto& sch = run.at("scheduler");
      engine.chunked_prefill = sch.value("chunked_prefill", engine.chunked_prefill);
      engine.num_scheduler_steps = sch.value("num_scheduler_steps", engine.num_scheduler_steps);
      engine.max_num_seqs = sch.value("max_num_seqs", engine.max_num_seqs);
      engine.max_num_batched_tokens = sch.value("max_num_batched_tokens", engine.max_num_batched_tokens);
    }
    // vLLM's V0 engine (0.5.x, 0.6.x) prepares inputs and processes outputs in Python between steps, per
    // sequence (docs/serving.md, "Host time per sequence"); later engines overlap it with the GPU.
    const std::string version = r.contains("engine_version") && r["engine_version"].is_string() ? r["engine_version"].get<std::string>() : "";
    if (row.engine == "vllm" && (version.rfind("0.5", 0) == 0 || version.rfind("0.6", 0) == 0))
      engine.host_s_per_sequence = assumptions.constant("serving_host_us_per_sequence_vllm_v0") / 1e6;
    const ReplicaModel replica = make_replica(w, catalog.find(row.gpu), row.tp, assumptions, engine);
    const ServingResult s = simulate(replica, 1, t, Targets{});
    auto add = [&](const char* name, double measured, double simulated) {
      if (measured > 0) row.metrics.emplace_back(name, measured, simulated);
    };
    const double mean_output = t.output.mean;
    if (m.contains("output_tokens_per_s")) add("output_tokens_per_s", m["output_tokens_per_s"].get<double>(), s.output_tokens_per_s);
    else if (m.contains("request_throughput_per_s"))
      add("output_tokens_per_s", m["request_throughput_per_s"].get<double>() * mean_output, s.output_tokens_per_s);
    if (m.contains("ttft_ms_median")) add("ttft_s", m["ttft_ms_median"].get<double>() / 1e3, s.ttft_s.p50);
    else if (m.contains("ttft_ms_mean")) add("ttft_s", m["ttft_ms_mean"].get<double>() / 1e3, s.ttft_mean_s);
    if (m.contains("tpot_ms_median")) add("tpot_s", m["tpot_ms_median"].get<double>() / 1e3, s.tpot_s.p50);
    else if (m.contains("tpot_ms_mean")) add("tpot_s", m["tpot_ms_mean"].get<double>() / 1e3, s.tpot_mean_s);
    else if (m.contains("itl_ms_mean")) add("tpot_s", m["itl_ms_mean"].get<double>() / 1e3, s.tpot_mean_s);
    if (m.contains("e2e_latency_s_median")) add("e2e_s", m["e2e_latency_s_median"].get<double>(), s.e2e_s.p50);
    out.push_back(std::move(row));
  }
  return out;
}

} // namespace gpuadvise

namespace gpuadvise {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace

std::map<std::string, std::pair<double, int>> serving_validation_summary(const std::vector<ServingValidationRow>& rows) {
  std::map<std::string, std::vector<double>> errors;
  for (const auto& r : rows)
    for (const auto& [name, measured, simulated] : r.metrics) errors[name].push_back(std::abs(simulated / measured - 1));
  std::map<std::string, std::pair<double, int>> out;
  for (auto& [name, e] : errors) out[name] = {median(e), static_cast<int>(e.size())};
  return out;
}

void write_serving_validation_text(std::ostream& out, const std::vector<ServingValidationRow>& rows) {
  out << fmt::format("{:<52} {:<20} {:>10} {:>10} {:>7}\n", "row (engine, GPU x TP, load)", "metric", "measured", "simulated", "error");
  for (const auto& r : rows) {
    if (!r.skipped.empty()) {
      out << fmt::format("{:<52} skipped: {}\n", r.id.substr(0, 52), r.skipped);
      continue;
    }
    bool first = true;
    for (const auto& [name, measured, simulated] : r.metrics) {
      out << fmt::format("{:<52} {:<20} {:>10.4g} {:>10.4g} {:>+6.0f}%\n",
                         first ? fmt::format("{} ({}, {} x{}, {})", r.id.substr(0, 20), r.engine, r.gpu, r.tp, r.setting).substr(0, 52)
                               : "",
                         name, measured, simulated, (simulated / measured - 1) * 100);
      first = false;
    }
  }
  out << "\nMedian absolute error:";
  for (const auto& [name, m] : serving_validation_summary(rows)) out << fmt::format(" {} {:.1f}% ({} rows);", name, m.first * 100, m.second);
  out << "\n";
}

nlohmann::json serving_validation_json(const std::vector<ServingValidationRow>& rows) {
  nlohmann::json doc = {{"schema_version", 1}, {"rows", nlohmann::json::array()}, {"summary", nlohmann::json::object()}};
  for (const auto& r : rows) {
    nlohmann::json j = {{"id", r.id}, {"engine", r.engine}, {"model", r.model}, {"gpu", r.gpu}, {"tp", r.tp},
                        {"setting", r.setting}, {"source", r.source},
                        {"skipped", r.skipped.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.skipped)},
                        {"metrics", nlohmann::json::array()}};
    for (const auto& [name, measured, simulated] : r.metrics)
      j["metrics"].push_back({{"name", name}, {"measured", measured}, {"simulated", round_significant(simulated)},
                              {"error", round_significant(simulated / measured - 1)}});
    doc["rows"].push_back(j);
  }
  for (const auto& [name, m] : serving_validation_summary(rows))
    doc["summary"][name] = {{"median_abs_error", round_significant(m.first)}, {"rows", m.second}};
  return doc;
}

} // namespace gpuadvise
