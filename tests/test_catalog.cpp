// Unit tests for include/gpuadvise/catalog.hpp: parsing and validation, merging of user catalogs,
// name lookup, and an audit of the shipped data/gpus.json.
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/embedded.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/units.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#ifndef GPUADVISE_SOURCE_DIR
#error "GPUADVISE_SOURCE_DIR must be defined by tests/CMakeLists.txt"
#endif

using namespace gpuadvise;
using nlohmann::json;

namespace {

const std::string k_origin = "tiny-catalog.json";

/// A minimal valid GPU entry; tests mutate a copy.
json minimal_gpu(const std::string& id = "testgpu") {
  return json{
      {"id", id},
      {"name", "Test GPU " + id},
      {"architecture", "ada"},
      {"compute_capability", 8.9},
      {"memory_gb", {{"value", 48}, {"source", "test"}}},
      {"memory_bandwidth_gb_per_s", 864},
      {"dense_tflops", {{"fp16", 181.05}, {"bf16", 181.05}, {"fp8", 362}}},
      {"fp8_support", true},
      {"bf16_support", true},
      {"tdp_watts", 300},
      {"nvlink", nullptr},
      {"prices", json::array({{{"provider", "acme"}, {"tier", "on-demand"}, {"usd_per_hour", 1.0}, {"date", "2026-01-01"}}})}};
}

std::string catalog_text(const std::vector<json>& gpus) {
  return json{{"catalog_date", "2026-01-01"}, {"gpus", gpus}}.dump();
}

/// Runs `call`, requires a CatalogError, and checks its message contains every one of `needles`.
void require_catalog_error(const std::function<void()>& call, const std::vector<std::string>& needles) {
  try {
    call();
    FAIL("expected gpuadvise::CatalogError");
  } catch (const CatalogError& e) {
    const std::string message = e.what();
    INFO("message: " << message);
    for (const auto& needle : needles) {
      INFO("expected to contain: " << needle);
      CHECK(message.find(needle) != std::string::npos);
    }
  }
}

/// Parses a catalog of one mutated minimal GPU; requires a CatalogError naming origin, id and field.
void require_invalid(const json& gpu, const std::string& field) {
  std::string quoted_id = "'";
  quoted_id += gpu.value("id", std::string("testgpu"));
  quoted_id += "'";
  std::string quoted_field = "'";
  quoted_field += field;
  quoted_field += "'";
  require_catalog_error([&] { GpuCatalog::from_json(catalog_text({gpu}), k_origin); }, {k_origin, quoted_id, quoted_field});
}

std::string read_source_file(const std::string& relative) {
  const std::string path = std::string(GPUADVISE_SOURCE_DIR) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const Gpu* find_by_id(const GpuCatalog& catalog, const std::string& id) {
  for (const auto& gpu : catalog.gpus())
    if (gpu.id == id) return &gpu;
  return nullptr;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// from_json
// ---------------------------------------------------------------------------------------------

TEST_CASE("from_json reads a minimal GPU in SI units", "[catalog]") {
  const auto catalog = GpuCatalog::from_json(catalog_text({minimal_gpu()}), k_origin);
  REQUIRE(catalog.gpus().size() == 1);
  const Gpu& gpu = catalog.gpus().front();
  CHECK(catalog.catalog_date() == "2026-01-01");
  CHECK(gpu.id == "testgpu");
  CHECK(gpu.architecture == "ada");
  CHECK(gpu.compute_capability == Approx(8.9));
  CHECK(gpu.memory_bytes == Approx(48 * 1e9));
  CHECK(gpu.allocatable_bytes == Approx(gpu.memory_bytes)); // nothing measured: nominal
  CHECK_FALSE(gpu.allocatable_measured);
  CHECK(gpu.bandwidth_bytes_per_s == Approx(864 * 1e9));
  CHECK(gpu.peak_flops(Precision::fp16) == Approx(181.05 * 1e12));
  CHECK(gpu.peak_flops(Precision::fp8) == Approx(362 * 1e12));
  CHECK(gpu.peak_flops(Precision::int4) == 0);
  CHECK(gpu.sources.at("memory_gb") == "test");
  CHECK_FALSE(gpu.has_nvlink);
  REQUIRE(gpu.prices.size() == 1);
  CHECK(gpu.prices[0].provider_name == "acme"); // defaults to the provider slug
  REQUIRE(gpu.price() != nullptr);
  CHECK(gpu.price()->usd_per_hour == Approx(1.0));
}

TEST_CASE("from_json reports a missing field with origin, id and field", "[catalog]") {
  for (const std::string field : {"name", "architecture", "compute_capability", "memory_gb", "memory_bandwidth_gb_per_s",
                                  "dense_tflops", "fp8_support", "bf16_support", "tdp_watts", "nvlink", "prices"}) {
    SECTION("missing " + field) {
      json gpu = minimal_gpu();
      gpu.erase(field);
      require_invalid(gpu, field);
    }
  }
}

TEST_CASE("from_json reports a missing id with origin and field", "[catalog]") {
  json gpu = minimal_gpu();
  gpu.erase("id");
  require_catalog_error([&] { GpuCatalog::from_json(catalog_text({gpu}), k_origin); }, {k_origin, "'id'"});
}

TEST_CASE("from_json reports a mistyped field", "[catalog]") {
  SECTION("string where a number belongs") {
    json gpu = minimal_gpu();
    gpu["memory_bandwidth_gb_per_s"] = "864";
    require_invalid(gpu, "memory_bandwidth_gb_per_s");
  }
  SECTION("string inside a sourced value") {
    json gpu = minimal_gpu();
    gpu["memory_gb"]["value"] = "48";
    require_invalid(gpu, "memory_gb");
  }
  SECTION("number where a string belongs") {
    json gpu = minimal_gpu();
    gpu["name"] = 42;
    require_invalid(gpu, "name");
  }
  SECTION("string where a boolean belongs") {
    json gpu = minimal_gpu();
    gpu["fp8_support"] = "yes";
    require_invalid(gpu, "fp8_support");
  }
  SECTION("number where an object belongs") {
    json gpu = minimal_gpu();
    gpu["dense_tflops"] = 181;
    require_invalid(gpu, "dense_tflops");
  }
  SECTION("a price given as a string") {
    json gpu = minimal_gpu();
    gpu["prices"][0]["usd_per_hour"] = "1.00";
    require_invalid(gpu, "usd_per_hour");
  }
}

TEST_CASE("from_json rejects negative and out-of-range numbers", "[catalog]") {
  SECTION("negative tdp") {
    json gpu = minimal_gpu();
    gpu["tdp_watts"] = -300;
    require_invalid(gpu, "tdp_watts");
  }
  SECTION("negative memory") {
    json gpu = minimal_gpu();
    gpu["memory_gb"]["value"] = -48;
    require_invalid(gpu, "memory_gb");
  }
  SECTION("negative throughput") {
    json gpu = minimal_gpu();
    gpu["dense_tflops"]["fp16"] = -1;
    require_invalid(gpu, "fp16");
  }
  SECTION("negative price") {
    json gpu = minimal_gpu();
    gpu["prices"][0]["usd_per_hour"] = -1.0;
    require_invalid(gpu, "usd_per_hour");
  }
}

TEST_CASE("from_json rejects duplicate ids", "[catalog]") {
  SECTION("identical ids") {
    require_catalog_error([] { GpuCatalog::from_json(catalog_text({minimal_gpu("dup"), minimal_gpu("dup")}), k_origin); },
                          {k_origin, "'dup'", "'id'", "duplicate"});
  }
  SECTION("ids equal after normalisation") {
    require_catalog_error(
        [] { GpuCatalog::from_json(catalog_text({minimal_gpu("dup-x"), minimal_gpu("DUP_X")}), k_origin); },
        {k_origin, "'DUP_X'", "'id'", "duplicate"});
  }
}

TEST_CASE("from_json rejects an unknown architecture", "[catalog]") {
  json gpu = minimal_gpu();
  gpu["architecture"] = "pascal";
  require_invalid(gpu, "architecture");
}

TEST_CASE("from_json rejects fp8 flags that disagree with the fp8 throughput", "[catalog]") {
  SECTION("fp8_support true without an fp8 throughput") {
    json gpu = minimal_gpu();
    gpu["dense_tflops"].erase("fp8");
    require_invalid(gpu, "fp8");
  }
  SECTION("fp8_support false with an fp8 throughput") {
    json gpu = minimal_gpu();
    gpu["fp8_support"] = false;
    require_invalid(gpu, "fp8");
  }
}

TEST_CASE("from_json rejects other inconsistencies", "[catalog]") {
  SECTION("no fp16 throughput") {
    json gpu = minimal_gpu();
    gpu["dense_tflops"].erase("fp16");
    require_invalid(gpu, "fp16");
  }
  SECTION("unknown precision key") {
    json gpu = minimal_gpu();
    gpu["dense_tflops"]["fp6"] = 10;
    require_invalid(gpu, "fp6");
  }
  SECTION("unknown price tier") {
    json gpu = minimal_gpu();
    gpu["prices"][0]["tier"] = "reserved";
    require_invalid(gpu, "tier");
  }
  SECTION("price without a date") {
    json gpu = minimal_gpu();
    gpu["prices"][0].erase("date");
    require_invalid(gpu, "date");
  }
}

TEST_CASE("from_json reports malformed JSON with the origin", "[catalog]") {
  require_catalog_error([] { GpuCatalog::from_json(R"({"gpus": [ {"id": "x",, } ])", k_origin); }, {k_origin});
  require_catalog_error([] { GpuCatalog::from_json("", k_origin); }, {k_origin});
  require_catalog_error([] { GpuCatalog::from_json(R"({"catalog_date": "2026-01-01"})", k_origin); }, {k_origin, "'gpus'"});
  require_catalog_error([] { GpuCatalog::from_json("[]", k_origin); }, {k_origin});
}

// ---------------------------------------------------------------------------------------------
// merge_json
// ---------------------------------------------------------------------------------------------

TEST_CASE("merge_json overrides a field of an existing GPU and keeps the rest", "[catalog][merge]") {
  auto catalog = GpuCatalog::embedded();
  const Gpu before = catalog.find("l40");
  const std::size_t count = catalog.gpus().size();

  SECTION("plain number replaces a sourced value") {
    const double patched = 1000;
    catalog.merge_json(json{{"gpus", {{{"id", "l40"}, {"memory_bandwidth_gb_per_s", patched}}}}}.dump(), "user.json");
    const Gpu& after = catalog.find("l40");
    CHECK(after.bandwidth_bytes_per_s == Approx(patched * 1e9));
    CHECK(after.memory_bytes == Approx(before.memory_bytes));
    CHECK(after.peak_flops(Precision::fp16) == Approx(before.peak_flops(Precision::fp16)));
    CHECK(after.prices.size() == before.prices.size());
    CHECK(catalog.gpus().size() == count);
  }
  SECTION("a value inside a sourced object merges and keeps the source") {
    const double patched = 900;
    catalog.merge_json(json{{"gpus", {{{"id", "l40"}, {"memory_bandwidth_gb_per_s", {{"value", patched}}}}}}}.dump(),
                       "user.json");
    const Gpu& after = catalog.find("l40");
    CHECK(after.bandwidth_bytes_per_s == Approx(patched * 1e9));
    CHECK(after.sources.at("memory_bandwidth_gb_per_s") == before.sources.at("memory_bandwidth_gb_per_s"));
  }
  SECTION("one precision of dense_tflops merges without dropping the others") {
    const double patched = 200;
    catalog.merge_json(json{{"gpus", {{{"id", "l40"}, {"dense_tflops", {{"fp16", patched}}}}}}}.dump(), "user.json");
    const Gpu& after = catalog.find("l40");
    CHECK(after.peak_flops(Precision::fp16) == Approx(patched * 1e12));
    CHECK(after.peak_flops(Precision::fp8) == Approx(before.peak_flops(Precision::fp8)));
  }
}

TEST_CASE("merge_json adds a new GPU", "[catalog][merge]") {
  auto catalog = GpuCatalog::embedded();
  const std::size_t count = catalog.gpus().size();
  catalog.merge_json(catalog_text({minimal_gpu("my-new-gpu")}), "user.json");
  CHECK(catalog.gpus().size() == count + 1);
  const Gpu& added = catalog.find("my-new-gpu");
  CHECK(added.id == "my-new-gpu");
  CHECK(added.bandwidth_bytes_per_s == Approx(864 * 1e9));
  CHECK(&catalog.find("l40") != &added);
}

TEST_CASE("merge_json merges prices by provider and tier", "[catalog][merge]") {
  auto catalog = GpuCatalog::embedded();
  const Gpu before = catalog.find("l40");
  const Price* hyperstack_spot = nullptr;
  for (const auto& p : before.prices)
    if (p.provider == "hyperstack" && p.tier == "spot") hyperstack_spot = &p;

  SECTION("a new provider is added") {
    double cheapest = before.price()->usd_per_hour;
    const double offered = cheapest / 2;
    catalog.merge_json(json{{"gpus",
                             {{{"id", "l40"},
                               {"prices",
                                {{{"provider", "newcloud"}, {"tier", "on-demand"}, {"usd_per_hour", offered}, {"date", "2026-02-02"}}}}}}}}
                           .dump(),
                       "user.json");
    const Gpu& after = catalog.find("l40");
    CHECK(after.prices.size() == before.prices.size() + 1);
    REQUIRE(after.price() != nullptr);
    CHECK(after.price()->provider == "newcloud");
    CHECK(after.price()->usd_per_hour == Approx(offered));
    REQUIRE(after.price("newcloud") != nullptr);
    CHECK(after.price("hyperstack") != nullptr); // the old ones stay
  }
  SECTION("the same provider and tier replaces the old price; another tier stays") {
    REQUIRE(hyperstack_spot != nullptr);
    const double spot = hyperstack_spot->usd_per_hour;
    const double replaced = 2.5;
    catalog.merge_json(json{{"gpus",
                             {{{"id", "l40"},
                               {"prices",
                                {{{"provider", "hyperstack"}, {"tier", "on-demand"}, {"usd_per_hour", replaced}, {"date", "2026-02-02"}}}}}}}}
                           .dump(),
                       "user.json");
    const Gpu& after = catalog.find("l40");
    CHECK(after.prices.size() == before.prices.size());
    REQUIRE(after.price("hyperstack") != nullptr);
    CHECK(after.price("hyperstack")->usd_per_hour == Approx(replaced));
    CHECK(after.price("hyperstack")->date == "2026-02-02");
    bool spot_kept = false;
    for (const auto& p : after.prices) spot_kept = spot_kept || (p.provider == "hyperstack" && p.tier == "spot" && p.usd_per_hour == spot);
    CHECK(spot_kept);
  }
}

TEST_CASE("merge_json reports an invalid patch naming the user's file", "[catalog][merge]") {
  auto catalog = GpuCatalog::embedded();
  SECTION("a mistyped override of an existing GPU") {
    require_catalog_error(
        [&] { catalog.merge_json(json{{"gpus", {{{"id", "l40"}, {"memory_gb", "lots"}}}}}.dump(), "user-catalog.json"); },
        {"user-catalog.json", "'l40'", "'memory_gb'"});
  }
  SECTION("a new GPU with a missing field") {
    json gpu = minimal_gpu("incomplete");
    gpu.erase("tdp_watts");
    require_catalog_error([&] { catalog.merge_json(catalog_text({gpu}), "user-catalog.json"); },
                          {"user-catalog.json", "'incomplete'", "'tdp_watts'"});
  }
  SECTION("a new GPU whose id clashes with an existing one after normalisation") {
    require_catalog_error([&] { catalog.merge_json(catalog_text({minimal_gpu("L-40")}), "user-catalog.json"); },
                          {"user-catalog.json", "'L-40'", "'id'"});
  }
  SECTION("prices that are not an array") {
    require_catalog_error(
        [&] { catalog.merge_json(json{{"gpus", {{{"id", "l40"}, {"prices", "cheap"}}}}}.dump(), "user-catalog.json"); },
        {"user-catalog.json", "'prices'"});
  }
  SECTION("malformed JSON") {
    require_catalog_error([&] { catalog.merge_json("{\"gpus\": [", "user-catalog.json"); }, {"user-catalog.json"});
  }
  SECTION("no gpus array") {
    require_catalog_error([&] { catalog.merge_json("{}", "user-catalog.json"); }, {"user-catalog.json", "'gpus'"});
  }
}

// ---------------------------------------------------------------------------------------------
// find
// ---------------------------------------------------------------------------------------------

TEST_CASE("find resolves ids and aliases case- and punctuation-insensitively", "[catalog][find]") {
  const auto catalog = GpuCatalog::embedded();
  CHECK(catalog.find("l40").id == "l40");
  CHECK(catalog.find("L40").id == "l40");
  CHECK(catalog.find("NVIDIA L40").id == "l40");
  CHECK(catalog.find("l40s").id == "l40s");
  CHECK(catalog.find("A6000").id == "rtx-a6000");
  CHECK(catalog.find("rtx-a6000").id == "rtx-a6000");
  CHECK(catalog.find("RTX A6000").id == "rtx-a6000");
  CHECK(catalog.find("h100-sxm").id == "h100-sxm");
  CHECK(catalog.find("H100 SXM").id == "h100-sxm");
  CHECK(catalog.find("h100_pcie").id == "h100-pcie");
}

TEST_CASE("find rejects an unknown name and lists close matches", "[catalog][find]") {
  const auto catalog = GpuCatalog::embedded();
  try {
    catalog.find("h900");
    FAIL("expected InputError");
  } catch (const InputError& e) {
    const std::string message = e.what();
    INFO("message: " << message);
    CHECK(message.find("unknown GPU") != std::string::npos);
    CHECK(message.find("'h900'") != std::string::npos);
    // "h900" is one substitution away from "h100", an id prefix of both H100s.
    CHECK((message.find("h100-sxm") != std::string::npos || message.find("h100-pcie") != std::string::npos));
  }
  CHECK_THROWS_AS(catalog.find(""), InputError);
  CHECK_THROWS_AS(catalog.find("---"), InputError);
}

TEST_CASE("find rejects an ambiguous name and lists both matches (embedded catalog)", "[catalog][find]") {
  const auto catalog = GpuCatalog::embedded();
  // BUG: data/gpus.json lists "h100" as an alias of h100-sxm, so find("h100") silently returns the
  // SXM card instead of reporting that "h100" matches both h100-sxm and h100-pcie.
  try {
    const Gpu& gpu = catalog.find("h100");
    FAIL("expected InputError for ambiguous 'h100', got " << gpu.id);
  } catch (const InputError& e) {
    const std::string message = e.what();
    INFO("message: " << message);
    CHECK(message.find("'h100'") != std::string::npos);
    CHECK(message.find("h100-sxm") != std::string::npos);
    CHECK(message.find("h100-pcie") != std::string::npos);
  }
}

TEST_CASE("find rejects an ambiguous prefix and lists every match (inline catalog)", "[catalog][find]") {
  const auto catalog =
      GpuCatalog::from_json(catalog_text({minimal_gpu("x100-sxm"), minimal_gpu("x100-pcie"), minimal_gpu("y1")}), k_origin);
  CHECK(catalog.find("x100 sxm").id == "x100-sxm");
  CHECK(catalog.find("X100PCIE").id == "x100-pcie");
  try {
    catalog.find("x100");
    FAIL("expected InputError");
  } catch (const InputError& e) {
    const std::string message = e.what();
    INFO("message: " << message);
    CHECK(message.find("'x100'") != std::string::npos);
    CHECK(message.find("x100-sxm") != std::string::npos);
    CHECK(message.find("x100-pcie") != std::string::npos);
    CHECK(message.find("y1") == std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// The shipped data
// ---------------------------------------------------------------------------------------------

TEST_CASE("the embedded data equals the files in data/", "[catalog][data]") {
  CHECK(std::string(embedded_gpus_json()) == read_source_file("data/gpus.json"));
  CHECK(std::string(embedded_models_json()) == read_source_file("data/models.json"));
  CHECK(std::string(embedded_assumptions_json()) == read_source_file("data/assumptions.json"));
}

TEST_CASE("the embedded catalog loads", "[catalog][data]") {
  const auto catalog = GpuCatalog::embedded();
  const json doc = json::parse(read_source_file("data/gpus.json"));
  CHECK(catalog.gpus().size() == doc.at("gpus").size());
  CHECK(catalog.catalog_date() == doc.at("catalog_date").get<std::string>());
}

namespace {

bool is_whole_word(const std::string& text) {
  return !text.empty() && std::none_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); });
}

/// Walks `value` and records every numeric leaf whose enclosing object has no non-empty "source".
void audit_numbers(const json& value, const std::string& path, const json* parent, const std::string& key,
                   const std::string& parent_key, std::vector<std::string>& unsourced) {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it)
      audit_numbers(*it, path + "." + it.key(), &value, it.key(), key, unsourced);
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i)
      audit_numbers(value[i], path + "[" + std::to_string(i) + "]", &value, key, parent_key, unsourced);
  } else if (value.is_number()) {
    // Exempt: a price's amount (its entry has its own citation and date), and the PCIe/NVLink
    // generation and lane counts (identifiers, not measured quantities).
    if (parent_key == "prices" && key == "usd_per_hour") return;
    if (parent_key == "pcie" && (key == "generation" || key == "lanes")) return;
    if (parent_key == "nvlink" && key == "generation") return;
    const bool sourced = parent && parent->is_object() && parent->contains("source") && (*parent)["source"].is_string() &&
                         !(*parent)["source"].get<std::string>().empty();
    if (!sourced) unsourced.push_back(path);
  }
}

void collect_sources(const json& value, const std::string& path, std::vector<std::pair<std::string, std::string>>& out) {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (it.key() == "source" && it->is_string()) out.emplace_back(path, it->get<std::string>());
      else collect_sources(*it, path + "." + it.key(), out);
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) collect_sources(value[i], path + "[" + std::to_string(i) + "]", out);
  }
}

bool is_iso_date(const std::string& text) {
  static const std::regex pattern(R"((\d{4})-(\d{2})-(\d{2}))");
  std::smatch m;
  if (!std::regex_match(text, m, pattern)) return false;
  const int month = std::stoi(m[2]);
  const int day = std::stoi(m[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

} // namespace

TEST_CASE("audit helper: finds unsourced numbers and honours the exemptions", "[catalog][audit]") {
  const json gpu = json::parse(R"({
    "id": "x",
    "memory_gb": {"value": 48, "source": "s"},
    "tdp_watts": 300,
    "dense_tflops": {"fp16": {"value": 100, "source": ""}, "fp8": {"value": 200, "source": "s"}},
    "pcie": {"generation": 4, "lanes": 16, "bandwidth_gb_per_s": {"value": 64}},
    "nvlink": {"generation": 3, "links": 2},
    "prices": [{"provider": "p", "usd_per_hour": 1.0, "date": "2026-01-01", "discount": 0.1}]
  })");
  std::vector<std::string> unsourced;
  for (auto it = gpu.begin(); it != gpu.end(); ++it) audit_numbers(*it, "x." + it.key(), &gpu, it.key(), "", unsourced);
  std::sort(unsourced.begin(), unsourced.end());
  CHECK(unsourced == std::vector<std::string>{"x.dense_tflops.fp16.value", "x.nvlink.links",
                                              "x.pcie.bandwidth_gb_per_s.value", "x.prices[0].discount", "x.tdp_watts"});
}

TEST_CASE("audit: every number in data/gpus.json has a source", "[catalog][data][audit]") {
  const json doc = json::parse(read_source_file("data/gpus.json"));
  std::vector<std::string> unsourced;
  for (const auto& gpu : doc.at("gpus")) {
    // Walk each top-level field of the GPU with the field name as the key.
    const std::string id = gpu.at("id").get<std::string>();
    for (auto it = gpu.begin(); it != gpu.end(); ++it)
      audit_numbers(*it, id + "." + it.key(), &gpu, it.key(), "", unsourced);
  }
  std::ostringstream list;
  for (const auto& path : unsourced) list << "  " << path << "\n";
  INFO("numbers without a source:\n" << list.str());
  CHECK(unsourced.empty());
}

TEST_CASE("audit: every source key in data/gpus.json is defined", "[catalog][data][audit]") {
  const json doc = json::parse(read_source_file("data/gpus.json"));
  const json& sources = doc.at("sources");
  REQUIRE(sources.is_object());
  for (auto it = sources.begin(); it != sources.end(); ++it) {
    INFO("source key " << it.key());
    CHECK(it->is_string());
    CHECK_FALSE(it->get<std::string>().empty());
  }
  std::vector<std::pair<std::string, std::string>> used;
  for (const auto& gpu : doc.at("gpus")) collect_sources(gpu, gpu.at("id").get<std::string>(), used);
  REQUIRE_FALSE(used.empty());
  std::vector<std::string> undefined;
  static const std::regex reference_key(R"(S\d+)");
  for (const auto& [path, source] : used) {
    if (source.empty()) {
      undefined.push_back(path + ": empty source");
      continue;
    }
    // A single word is a key into "sources"; text with spaces is a free-text citation, which may
    // start with a reference key such as "S12 ..." that must then be defined too.
    if (is_whole_word(source)) {
      if (!sources.contains(source)) undefined.push_back(path + ": " + source);
    } else {
      const std::string first = source.substr(0, source.find_first_of(" \t"));
      if (std::regex_match(first, reference_key) && !sources.contains(first))
        undefined.push_back(path + ": " + first + " (in '" + source + "')");
    }
  }
  std::ostringstream list;
  for (const auto& entry : undefined) list << "  " << entry << "\n";
  INFO("undefined sources:\n" << list.str());
  CHECK(undefined.empty());
}

TEST_CASE("audit: every GPU in data/gpus.json has a dated on-demand price", "[catalog][data][audit]") {
  const json doc = json::parse(read_source_file("data/gpus.json"));
  for (const auto& gpu : doc.at("gpus")) {
    const std::string id = gpu.at("id").get<std::string>();
    INFO("gpu " << id);
    REQUIRE(gpu.contains("prices"));
    int on_demand = 0;
    for (const auto& price : gpu.at("prices")) {
      INFO("price " << price.dump());
      CHECK(price.value("provider", std::string()).size() > 0);
      CHECK(is_iso_date(price.value("date", std::string())));
      CHECK(price.value("usd_per_hour", 0.0) > 0);
      if (price.value("tier", std::string("on-demand")) == "on-demand" && !price.value("provider", std::string()).empty() &&
          is_iso_date(price.value("date", std::string())))
        ++on_demand;
    }
    CHECK(on_demand >= 1);
  }
}

TEST_CASE("audit: datasheet dense throughputs and NVLink of the L40 and RTX A6000", "[catalog][data][audit]") {
  const json doc = json::parse(read_source_file("data/gpus.json"));
  const json* l40 = nullptr;
  const json* a6000 = nullptr;
  for (const auto& gpu : doc.at("gpus")) {
    if (gpu.at("id") == "l40") l40 = &gpu;
    if (gpu.at("id") == "rtx-a6000") a6000 = &gpu;
  }
  REQUIRE(l40 != nullptr);
  REQUIRE(a6000 != nullptr);
  // Datasheet dense figures: L40 362.1 TFLOPS FP16 with sparsity -> 181.05 dense; RTX A6000 154.8 dense.
  CHECK(l40->at("dense_tflops").at("fp16").at("value").get<double>() == Approx(362.1 / 2));
  CHECK(a6000->at("dense_tflops").at("fp16").at("value").get<double>() == Approx(154.8));
  CHECK(l40->at("nvlink").is_null());
  CHECK_FALSE(a6000->at("nvlink").is_null());

  // And the parsed catalog agrees, in FLOP/s.
  const auto catalog = GpuCatalog::embedded();
  const Gpu* parsed_l40 = find_by_id(catalog, "l40");
  const Gpu* parsed_a6000 = find_by_id(catalog, "rtx-a6000");
  REQUIRE(parsed_l40 != nullptr);
  REQUIRE(parsed_a6000 != nullptr);
  CHECK(parsed_l40->peak_flops(Precision::fp16) == Approx(181.05e12));
  CHECK(parsed_a6000->peak_flops(Precision::fp16) == Approx(154.8e12));
  CHECK_FALSE(parsed_l40->has_nvlink);
  CHECK(parsed_a6000->has_nvlink);
  CHECK(parsed_a6000->nvlink_bandwidth_bytes_per_s > 0);
}

TEST_CASE("audit: the GPUs added for cloud breadth match their datasheet figures", "[catalog][data][audit]") {
  // Typed in from the sources named in data/gpus.json, not from the program: dense (no sparsity) TFLOPS,
  // memory in GB (10^9), bandwidth in GB/s.
  struct Sheet {
    const char* id;
    double memory_gb, bandwidth_gb_s, fp16_tflops, tdp_w;
  };
  const Sheet sheets[] = {
      {"t4", 16, 320, 65, 70},               // NVIDIA T4: 16 GB GDDR6, 320 GB/s, 65 TFLOPS mixed precision, 70 W
      {"a10g", 24, 600, 70, 150},            // A10G: 24 GB / 600 GB/s (Baseten), 70 TFLOPS (llm-analysis)
      {"v100-16gb-sxm2", 16, 900, 125, 300}, // Volta whitepaper: 125 tensor TFLOPS, 300 W; 900 GB/s HBM2
      {"gh200", 96, 4000, 989, 900},         // GH200 96 GB HBM3 4.00 TB/s; H100-class 989 dense BF16
      {"rtx-pro-6000", 96, 1792, 500, 600},  // 96 GB GDDR7 at 28 Gbps x 512 bits = 1,792 GB/s; 600 W
      {"mi300x", 192, 5300, 1300, 750},      // AMD MI300X: 192 GB HBM3, 5.3 TB/s, 1,300 TFLOPS FP16, 750 W
  };
  const auto catalog = GpuCatalog::embedded();
  for (const auto& sheet : sheets) {
    INFO(sheet.id);
    const Gpu* gpu = find_by_id(catalog, sheet.id);
    REQUIRE(gpu != nullptr);
    CHECK(gpu->memory_bytes == Approx(sheet.memory_gb * 1e9));
    CHECK(gpu->bandwidth_bytes_per_s == Approx(sheet.bandwidth_gb_s * 1e9));
    CHECK(gpu->peak_flops(Precision::fp16) == Approx(sheet.fp16_tflops * 1e12));
    CHECK(gpu->tdp_watts == Approx(sheet.tdp_w));
  }
  // Precision support per architecture.
  CHECK_FALSE(find_by_id(catalog, "t4")->bf16_support);                  // Turing: no BF16
  CHECK_FALSE(find_by_id(catalog, "t4")->fp8_support);
  CHECK(find_by_id(catalog, "t4")->peak_flops(Precision::int8) == Approx(130e12)); // 130 TOPS INT8
  CHECK(find_by_id(catalog, "t4")->compute_capability == Approx(7.5));
  CHECK(find_by_id(catalog, "v100-16gb-sxm2")->compute_capability == Approx(7.0));
  CHECK(find_by_id(catalog, "v100-16gb-sxm2")->nvlink_bandwidth_bytes_per_s == Approx(300e9));
  CHECK(find_by_id(catalog, "mi300x")->vendor == "amd");
  CHECK(find_by_id(catalog, "mi300x")->fp8_support);                     // CDNA 3 has FP8
  CHECK(find_by_id(catalog, "mi300x")->peak_flops(Precision::fp8) == Approx(2610e12));
  CHECK(find_by_id(catalog, "mi300x")->peak_flops(Precision::nvfp4) == 0); // no FP4 before CDNA 4
  CHECK(find_by_id(catalog, "gh200")->peak_flops(Precision::fp8) == Approx(1979e12));
  // Blackwell FP4: B200 NVFP4 9,000 dense (nv-dgxc); RTX PRO 6000 '4,000 AI TOPS' FP4 with sparsity -> 2,000.
  CHECK(find_by_id(catalog, "b200")->peak_flops(Precision::nvfp4) == Approx(9000e12));
  CHECK(find_by_id(catalog, "b200")->peak_flops(Precision::mxfp4) == Approx(9000e12));
  CHECK(find_by_id(catalog, "rtx-pro-6000")->peak_flops(Precision::nvfp4) == Approx(4000e12 / 2));
  CHECK(find_by_id(catalog, "rtx-pro-6000")->peak_flops(Precision::fp32) == Approx(125e12));
  // No FP4 on Hopper or Ada.
  for (const char* id : {"h100-sxm", "h200-sxm", "l40s", "rtx-4090"}) {
    INFO(id);
    CHECK(find_by_id(catalog, id)->peak_flops(Precision::nvfp4) == 0);
  }
}

TEST_CASE("audit: the H100 NVL, RTX 5090 and MI325X match their datasheet figures", "[catalog][data][audit]") {
  // Typed in from the datasheet tables named in data/gpus.json (not from the program). NVIDIA lists tensor
  // rates with 2:4 sparsity; dense is half. Memory in GB (10^9), bandwidth in GB/s.
  const auto catalog = GpuCatalog::embedded();
  const Gpu* nvl = find_by_id(catalog, "h100-nvl");
  const Gpu* rtx5090 = find_by_id(catalog, "rtx-5090");
  const Gpu* mi325x = find_by_id(catalog, "mi325x");
  REQUIRE(nvl != nullptr);
  REQUIRE(rtx5090 != nullptr);
  REQUIRE(mi325x != nullptr);

  // H100 NVL (NVIDIA H100 datasheet, NVL column): 94 GB HBM3, 3.9 TB/s, BF16/FP16 1,671*, FP8 3,341*,
  // TF32 835*, FP32 60, 350-400 W, NVLink bridge 600 GB/s, PCIe Gen5 128 GB/s.
  CHECK(nvl->memory_bytes == Approx(94e9));
  CHECK(nvl->bandwidth_bytes_per_s == Approx(3.9e12));
  CHECK(nvl->peak_flops(Precision::fp16) == Approx(1671e12 / 2));
  CHECK(nvl->peak_flops(Precision::bf16) == Approx(1671e12 / 2));
  CHECK(nvl->peak_flops(Precision::fp8) == Approx(3341e12 / 2));
  CHECK(nvl->peak_flops(Precision::int8) == Approx(3341e12 / 2));
  CHECK(nvl->peak_flops(Precision::fp32) == Approx(60e12));
  CHECK(nvl->tdp_watts == Approx(400));
  CHECK(nvl->has_nvlink);
  CHECK(nvl->nvlink_bandwidth_bytes_per_s == Approx(600e9));
  CHECK(nvl->pcie_bandwidth_bytes_per_s == Approx(128e9));
  CHECK(nvl->architecture == "hopper");
  CHECK(nvl->fp8_support);
  CHECK(nvl->peak_flops(Precision::nvfp4) == 0); // Hopper: no FP4 tensor cores

  // RTX 5090: 32 GB GDDR7 at 28 Gbps on a 512-bit bus = 28 x 512 / 8 = 1,792 GB/s; 575 W; 'AI TOPS' 3,352 is FP4
  // with sparsity (1,676 dense); FP16 tensor 838.4 with sparsity and FP16 accumulate -> 419.2 dense, FP32
  // accumulate half of that on GeForce (209.6); CUDA-core FP32 104.8.
  CHECK(rtx5090->memory_bytes == Approx(32e9));
  CHECK(rtx5090->bandwidth_bytes_per_s == Approx(28e9 * 512 / 8));
  CHECK(rtx5090->tdp_watts == Approx(575));
  CHECK(rtx5090->peak_flops(Precision::nvfp4) == Approx(3352e12 / 2));
  CHECK(rtx5090->peak_flops(Precision::mxfp4) == Approx(3352e12 / 2));
  CHECK(rtx5090->fp16_accumulate_flops == Approx(838.4e12 / 2));
  CHECK(rtx5090->peak_flops(Precision::fp16) == Approx(838.4e12 / 4));
  CHECK(rtx5090->peak_flops(Precision::fp32) == Approx(104.8e12));
  CHECK(rtx5090->compute_capability == Approx(12.0));
  CHECK(rtx5090->fp8_support);
  CHECK_FALSE(rtx5090->has_nvlink);

  // AMD Instinct MI325X: 256 GB HBM3E, 6.0 TB/s, FP16/BF16 1,307.4 (1,300 in the table read), FP8 2,614.9
  // (2,610), 1,000 W; CDNA 3 like the MI300X: FP8, no FP4.
  CHECK(mi325x->memory_bytes == Approx(256e9));
  CHECK(mi325x->bandwidth_bytes_per_s == Approx(6.0e12));
  CHECK(mi325x->peak_flops(Precision::fp16) == Approx(1307.4e12).epsilon(0.01));
  CHECK(mi325x->peak_flops(Precision::fp8) == Approx(2614.9e12).epsilon(0.01));
  CHECK(mi325x->tdp_watts == Approx(1000));
  CHECK(mi325x->vendor == "amd");
  CHECK(mi325x->architecture == "cdna3");
  CHECK(mi325x->fp8_support);
  CHECK(mi325x->peak_flops(Precision::nvfp4) == 0);
  // Same compute as the MI300X (same CDNA 3 dies), more and faster memory.
  const Gpu* mi300x = find_by_id(catalog, "mi300x");
  REQUIRE(mi300x != nullptr);
  CHECK(mi325x->peak_flops(Precision::fp8) == mi300x->peak_flops(Precision::fp8));
  CHECK(mi325x->memory_bytes > mi300x->memory_bytes);
}
