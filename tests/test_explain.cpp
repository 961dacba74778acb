// --explain: every term's value is the estimator's own number, with its formula and sources.
#include <gpuadvise/explain.hpp>

#include <catch2/catch.hpp>

#include <map>

using namespace gpuadvise;

TEST_CASE("explain: terms equal the estimates and name their sources", "[explain]") {
  const auto catalog = GpuCatalog::embedded();
  const auto models = ModelCatalog::embedded();
  const auto assumptions = Assumptions::embedded();
  WorkloadRequest r;
  r.model = "llama-2-13b";
  r.precision = "fp16";
  r.batch = "8";
  const Workload w = build_workload(r, models);
  const Candidate c = evaluate(w, catalog.find("h100-sxm"), 1, assumptions, "");
  std::map<std::string, ExplainTerm> terms;
  for (const auto& t : explain(w, c, assumptions)) terms[t.name] = t;
  CHECK(terms.at("weights_bytes").value == c.memory.weights_bytes);
  CHECK(terms.at("kv_cache_bytes").value == c.memory.kv_cache_bytes);
  CHECK(terms.at("total_bytes").value == c.memory.total_bytes);
  CHECK(terms.at("decode_tokens_per_s").value == c.performance.decode_tokens_per_s.expected);
  CHECK(terms.at("job_usd").value == c.cost.job_usd.expected);
  // The KV line shows the hand formula with the numbers put in: 2 x 40 x 40 x 128 x 2 B x 4096 x 8 = 26.84 GB.
  const auto& kv = terms.at("kv_cache_bytes");
  CHECK(kv.substituted.find("2 x 40 layers x 40 KV heads x 128 x 2 B x 4096 tokens x 8") != std::string::npos);
  CHECK(kv.substituted.find("26.84 GB") != std::string::npos);
  CHECK_FALSE(terms.at("decode_step_s").sources.empty());
  CHECK(terms.at("usd_per_hour").sources.at(0).find("price of") != std::string::npos);
  const auto json = explain_json(explain(w, c, assumptions));
  CHECK(json.size() == terms.size());
  CHECK(json.at(0).contains("formula"));
}
