#include "json_fields.hpp"

#include <gpuadvise/catalog.hpp>
#include <gpuadvise/units.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace gpuadvise {
namespace {

using detail::Fields;

constexpr double k_mib = 1024.0 * 1024.0;

/// The top-level keys of a GPU catalog (data/gpus.json, or a --catalog file merged over it).
const std::vector<std::string_view> k_catalog_keys = {"catalog_date", "description", "sources", "gpus"};

const std::set<std::string> k_architectures = {"volta", "turing", "ampere", "ada", "hopper", "blackwell", "cdna3"};

/// Reads one GPU entry into a Gpu; every failure names origin, index, id and field.
Gpu read_gpu(const nlohmann::json& entry, const std::string& where) {
  Fields f(entry, where);
  Gpu gpu;
  gpu.id = f.string("id");
  if (gpu.id.empty() || normalize_name(gpu.id).empty()) f.fail("id", "must not be empty");
  const Fields g(entry, fmt::format("{} (id '{}')", where, gpu.id));
  g.only({"id", "name", "vendor", "aliases", "architecture", "compute_capability", "memory_type", "memory_gb",
          "memory_allocatable_mib", "memory_bandwidth_gb_per_s", "dense_tflops", "fp16_accumulate_tflops", "fp8_support",
          "bf16_support", "tdp_watts", "form_factor", "pcie", "nvlink", "notes", "prices"});
  gpu.name = g.string("name");
  gpu.aliases = g.strings("aliases");
  gpu.vendor = g.string_or("vendor", "nvidia");
  if (gpu.vendor != "nvidia" && gpu.vendor != "amd") g.fail("vendor", fmt::format("'{}' is not nvidia or amd", gpu.vendor));
  gpu.architecture = g.string("architecture");
  if (!k_architectures.count(gpu.architecture))
    g.fail("architecture", fmt::format("'{}' is not one of volta, turing, ampere, ada, hopper, blackwell, cdna3",
                                       gpu.architecture));
  std::string source;
  // AMD GPUs have no CUDA compute capability; every NVIDIA entry must give one.
  if (gpu.vendor == "nvidia" || g.has("compute_capability")) {
    gpu.compute_capability = g.sourced("compute_capability", &source, 1, 20);
    gpu.sources["compute_capability"] = source;
  }
  gpu.memory_type = g.string_or("memory_type", "");
  gpu.memory_bytes = g.sourced("memory_gb", &source, 0.001, 1e6) * 1e9;
  gpu.sources["memory_gb"] = source;
  if (g.has("memory_allocatable_mib")) {
    gpu.allocatable_bytes = g.sourced("memory_allocatable_mib", &source, 1, 1e9) * k_mib;
    gpu.allocatable_measured = true;
    gpu.sources["memory_allocatable_mib"] = source;
  } else {
    gpu.allocatable_bytes = gpu.memory_bytes;
  }
  gpu.bandwidth_bytes_per_s = g.sourced("memory_bandwidth_gb_per_s", &source, 1e-3, 1e6) * 1e9;
  gpu.sources["memory_bandwidth_gb_per_s"] = source;

  const auto* tflops = g.object("dense_tflops");
  if (!tflops) g.fail("dense_tflops", "missing (expected an object of dense TFLOPS per precision)");
  const Fields t(*tflops, g.where() + ": field 'dense_tflops'");
  for (auto it = tflops->begin(); it != tflops->end(); ++it) {
    static const std::set<std::string> known = {"fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", "fp4"};
    if (!known.count(it.key()))
      t.fail(it.key(), "unknown precision (expected fp32, tf32, fp16, bf16, fp8, int8, int4, fp4)");
    const double value = t.sourced(it.key(), &source, 0, 1e6) * 1e12;
    gpu.sources["dense_tflops." + it.key()] = source;
    if (it.key() == "tf32") continue; // recorded for the table; fp32 inference does not use TF32 by default
    if (it.key() == "fp4") {
      // Blackwell's FP4 tensor cores run NVFP4 and MXFP4 at the same dense rate (NVIDIA Blackwell datasheets).
      for (const Precision p : {Precision::nvfp4, Precision::mxfp4}) {
        gpu.dense_flops[p] = value;
        gpu.sources["dense_tflops." + std::string(to_string(p))] = source;
      }
      continue;
    }
    gpu.dense_flops[parse_precision(it.key())] = value;
  }
  if (gpu.peak_flops(Precision::fp16) <= 0) t.fail("fp16", "missing or zero (every supported GPU has fp16 tensor throughput)");

  if (g.has("fp16_accumulate_tflops")) {
    gpu.fp16_accumulate_flops = g.sourced("fp16_accumulate_tflops", &source, 0, 1e6) * 1e12;
    gpu.sources["fp16_accumulate_tflops"] = source;
  }
  gpu.fp8_support = g.boolean("fp8_support");
  gpu.bf16_support = g.boolean("bf16_support");
  if (gpu.fp8_support && gpu.peak_flops(Precision::fp8) <= 0)
    t.fail("fp8", "fp8_support is true but the fp8 throughput is missing or zero");
  if (!gpu.fp8_support && gpu.peak_flops(Precision::fp8) > 0)
    t.fail("fp8", "fp8_support is false but an fp8 throughput is given");
  if (gpu.bf16_support && gpu.peak_flops(Precision::bf16) <= 0)
    t.fail("bf16", "bf16_support is true but the bf16 throughput is missing or zero");

  gpu.tdp_watts = g.sourced("tdp_watts", &source, 1, 1e5);
  gpu.sources["tdp_watts"] = source;
  gpu.form_factor = g.string_or("form_factor", "");
  if (const auto* pcie = g.object("pcie")) {
    const Fields p(*pcie, g.where() + ": field 'pcie'");
    p.only({"generation", "lanes", "bandwidth_gb_per_s"});
    gpu.pcie_generation = static_cast<int>(p.integer("generation", 1, 9));
    gpu.pcie_lanes = static_cast<int>(p.integer("lanes", 1, 32));
    gpu.pcie_bandwidth_bytes_per_s = p.sourced("bandwidth_gb_per_s", &source, 0.1, 1e5) * 1e9;
    gpu.sources["pcie.bandwidth_gb_per_s"] = source;
  }
  if (!entry.contains("nvlink")) g.fail("nvlink", "missing (expected null for PCIe-only, or an object)");
  if (const auto* nvlink = g.object("nvlink")) {
    const Fields n(*nvlink, g.where() + ": field 'nvlink'");
    n.only({"generation", "bandwidth_gb_per_s", "note"});
    gpu.has_nvlink = true;
    gpu.nvlink_generation = static_cast<int>(n.integer_or("generation", 0, 0, 9));
    gpu.nvlink_bandwidth_bytes_per_s = n.sourced("bandwidth_gb_per_s", &source, 0.1, 1e5) * 1e9;
    gpu.sources["nvlink.bandwidth_gb_per_s"] = source;
  }
  if (const auto* notes = g.array("notes"))
    for (const auto& note : *notes)
      if (note.is_string()) gpu.notes.push_back(note.get<std::string>());

  const auto* prices = g.array("prices");
  if (!prices) g.fail("prices", "missing (expected an array of provider prices)");
  for (std::size_t i = 0; i < prices->size(); ++i) {
    const Fields p((*prices)[i], fmt::format("{}: prices[{}]", g.where(), i));
    p.only({"provider", "provider_name", "tier", "usd_per_hour", "date", "source", "note"});
    Price price;
    price.provider = p.string("provider");
    price.provider_name = p.string_or("provider_name", price.provider);
    price.tier = p.string_or("tier", "on-demand");
    if (price.tier != "on-demand" && price.tier != "marketplace" && price.tier != "spot")
      p.fail("tier", fmt::format("'{}' is not on-demand, marketplace or spot", price.tier));
    price.usd_per_hour = p.number("usd_per_hour", 0.0001, 10000);
    price.date = p.string("date");
    price.source = p.string_or("source", "");
    gpu.prices.push_back(std::move(price));
  }
  return gpu;
}

/// Key under which price entries merge: the same provider and tier replace each other.
std::string price_key(const nlohmann::json& price) {
  // Non-string values get a key of their own; read_gpu then rejects them with the field's path.
  auto text = [&](const char* key, const char* fallback) {
    const auto it = price.find(key);
    if (it == price.end() || it->is_null()) return std::string(fallback);
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  return text("provider", "") + "/" + text("tier", "on-demand");
}

} // namespace

double Gpu::peak_flops(Precision p) const {
  auto it = dense_flops.find(p);
  return it == dense_flops.end() ? 0 : it->second;
}

const Price* Gpu::price(std::string_view provider) const {
  const Price* best = nullptr;
  for (const auto& p : prices)
    if (p.tier == "override") return &p; // --price for this run wins over every catalog price
  for (const auto& p : prices) {
    // Spot prices are never a default; marketplace offers only when their provider is asked for.
    if (p.tier == "spot" || (provider.empty() && p.tier != "on-demand")) continue;
    if (!provider.empty() && normalize_name(p.provider) != normalize_name(provider)) continue;
    if (!best || p.usd_per_hour < best->usd_per_hour) best = &p;
  }
  return best;
}

void GpuCatalog::require_provider(std::string_view provider) const {
  if (provider.empty()) return;
  for (const auto& gpu : m_gpus)
    for (const auto& price : gpu.prices)
      if (price.tier != "override" && normalize_name(price.provider) == normalize_name(provider)) return;
  throw InputError(fmt::format("unknown --provider '{}': no GPU in the catalog has a price from it", provider));
}

GpuCatalog GpuCatalog::from_json(std::string_view text, std::string_view origin) {
  const auto doc = detail::parse_json(text, origin);
  const Fields top(doc, std::string(origin));
  top.only(k_catalog_keys);
  GpuCatalog catalog;
  catalog.m_date = top.string_or("catalog_date", "");
  const auto* gpus = top.array("gpus");
  if (!gpus) top.fail("gpus", "missing (expected an array of GPUs)");
  for (const auto& entry : *gpus) catalog.m_entries.push_back({entry, std::string(origin)});
  catalog.rebuild();
  return catalog;
}

GpuCatalog GpuCatalog::from_parts(std::vector<Gpu> gpus, std::string date, std::string_view text, std::string origin) {
  GpuCatalog catalog;
  catalog.m_gpus = std::move(gpus);
  catalog.m_date = std::move(date);
  catalog.m_lazy_text = text;
  catalog.m_lazy_origin = std::move(origin);
  return catalog;
}

void GpuCatalog::merge_json(std::string_view text, std::string_view origin) {
  materialize();
  // All or nothing: a patch that fails validation leaves the catalog as it was.
  const std::vector<Entry> before = m_entries;
  try {
    merge_entries(text, origin);
    rebuild();
  } catch (...) {
    m_entries = before;
    throw;
  }
}

void GpuCatalog::materialize() {
  // Entries built without parsing get their JSON now: merges and to_json work on JSON.
  if (m_entries.empty() && !m_lazy_text.empty()) {
    m_entries = from_json(m_lazy_text, m_lazy_origin).m_entries;
    m_lazy_text = {};
  }
}

void GpuCatalog::override_price(std::string_view name, double usd_per_hour) {
  const Gpu& found = find(name);
  for (auto& gpu : m_gpus)
    if (gpu.id == found.id) {
      gpu.prices.erase(std::remove_if(gpu.prices.begin(), gpu.prices.end(), [](const Price& p) { return p.tier == "override"; }),
                       gpu.prices.end());
      gpu.prices.push_back({"override", "--price (this run)", "override", usd_per_hour, "given on the command line", ""});
    }
}

nlohmann::json GpuCatalog::to_json() const {
  GpuCatalog copy = *this;
  copy.materialize();
  nlohmann::json gpus = nlohmann::json::array();
  for (const auto& e : copy.m_entries) gpus.push_back(e.json);
  return {{"catalog_date", m_date}, {"gpus", gpus}};
}

void GpuCatalog::merge_entries(std::string_view text, std::string_view origin) {
  const auto doc = detail::parse_json(text, origin);
  const Fields top(doc, std::string(origin));
  top.only(k_catalog_keys);
  const auto* gpus = top.array("gpus");
  if (!gpus) top.fail("gpus", "missing (expected an array of GPUs)");
  std::map<std::string, std::size_t> ids_in_file;
  for (std::size_t i = 0; i < gpus->size(); ++i) {
    const Fields f((*gpus)[i], fmt::format("{}: gpus[{}]", origin, i));
    const std::string id = f.string("id");
    if (const auto [seen, added] = ids_in_file.emplace(normalize_name(id), i); !added)
      f.fail("id", fmt::format("duplicate GPU id '{}' (also gpus[{}] of this file)", id, seen->second));
    auto existing = std::find_if(m_entries.begin(), m_entries.end(),
                                 [&](const Entry& e) { return e.json.value("id", "") == id; });
    if (existing == m_entries.end()) {
      m_entries.push_back({(*gpus)[i], fmt::format("{}: gpus[{}]", origin, i)});
      continue;
    }
    // Prices merge by provider and tier; every other field merges as JSON objects do.
    nlohmann::json patch = (*gpus)[i];
    nlohmann::json prices = existing->json.value("prices", nlohmann::json::array());
    if (patch.contains("prices")) {
      if (!patch["prices"].is_array()) f.fail("prices", "expected an array");
      // An entry added earlier in this same file is not validated yet: its "prices" may be anything.
      if (!prices.is_array()) prices = nlohmann::json::array();
      for (const auto& price : patch["prices"]) {
        if (!price.is_object()) f.fail("prices", "every price must be an object");
        auto same = std::find_if(prices.begin(), prices.end(),
                                 [&](const nlohmann::json& p) { return price_key(p) == price_key(price); });
        if (same != prices.end()) *same = price;
        else prices.push_back(price);
      }
      patch.erase("prices");
    }
    detail::merge_objects(existing->json, patch);
    existing->json["prices"] = prices;
    existing->origin += fmt::format(" + {}: gpus[{}]", origin, i);
  }
}

void GpuCatalog::rebuild() {
  std::vector<Gpu> gpus;
  std::set<std::string> ids;
  auto where_of = [&](std::size_t i) {
    const auto& origin = m_entries[i].origin;
    return origin.find(": gpus[") == std::string::npos ? fmt::format("{}: gpus[{}]", origin, i) : origin;
  };
  for (std::size_t i = 0; i < m_entries.size(); ++i) {
    const auto& entry = m_entries[i];
    const std::string where = where_of(i);
    Gpu gpu = read_gpu(entry.json, where);
    if (!ids.insert(normalize_name(gpu.id)).second)
      throw CatalogError(fmt::format("{}: field 'id': duplicate GPU id '{}'", where, gpu.id));
    gpus.push_back(std::move(gpu));
  }
  // An alias that is another GPU's id would make that id name two GPUs.
  for (std::size_t i = 0; i < gpus.size(); ++i)
    for (const auto& alias : gpus[i].aliases)
      for (const auto& other : gpus)
        if (&other != &gpus[i] && normalize_name(alias) == normalize_name(other.id))
          throw CatalogError(fmt::format("{} (id '{}'): field 'aliases': alias '{}' is the id of another GPU",
                                         where_of(i), gpus[i].id, alias));
  m_gpus = std::move(gpus);
}

const Gpu& GpuCatalog::find(std::string_view name) const {
  const std::string wanted = normalize_name(name);
  if (wanted.empty()) throw InputError(fmt::format("unknown GPU '{}'", name));
  std::vector<const Gpu*> exact;
  for (const auto& gpu : m_gpus) {
    bool match = normalize_name(gpu.id) == wanted || normalize_name(gpu.name) == wanted;
    for (const auto& alias : gpu.aliases) match = match || normalize_name(alias) == wanted;
    // "NVIDIA L40" and "l40" name the same card.
    match = match || "nvidia" + wanted == normalize_name(gpu.name);
    if (match) exact.push_back(&gpu);
  }
  if (exact.size() == 1) return *exact.front();
  // Otherwise an unambiguous prefix of an id or alias ("h100-sxm" for "h100-sxm5").
  std::vector<const Gpu*> prefix;
  for (const auto& gpu : m_gpus) {
    std::vector<std::string> names = {normalize_name(gpu.id), normalize_name(gpu.name)};
    for (const auto& alias : gpu.aliases) names.push_back(normalize_name(alias));
    for (const auto& n : names) {
      const std::string stripped = n.rfind("nvidia", 0) == 0 ? n.substr(6) : n;
      if (n.rfind(wanted, 0) == 0 || stripped.rfind(wanted, 0) == 0) {
        prefix.push_back(&gpu);
        break;
      }
    }
  }
  if (prefix.size() == 1) return *prefix.front();
  std::vector<std::string> close;
  if (prefix.size() > 1) {
    for (const auto* gpu : prefix) close.push_back(gpu->id);
    throw InputError(fmt::format("ambiguous GPU '{}': it matches {}", name, fmt::join(close, ", ")));
  }
  std::vector<std::pair<std::size_t, std::string>> ranked;
  // Distance to each id or alias, or (one more) to its prefix of the typed length: "h900" is near "h100-sxm".
  auto distance = [&](const std::string& n) {
    return std::min(edit_distance(wanted, n), edit_distance(wanted, n.substr(0, wanted.size())) + 1);
  };
  for (const auto& gpu : m_gpus) {
    std::size_t best = distance(normalize_name(gpu.id));
    for (const auto& alias : gpu.aliases) best = std::min(best, distance(normalize_name(alias)));
    ranked.emplace_back(best, gpu.id);
  }
  std::sort(ranked.begin(), ranked.end());
  // The three closest, and any tied with the third (up to five): a wider catalog has more near names.
  for (std::size_t i = 0; i < ranked.size() && (i < 3 || (i < 5 && ranked[i].first == ranked[2].first)); ++i)
    close.push_back(ranked[i].second);
  throw InputError(fmt::format("unknown GPU '{}': did you mean {}? (`gpuadvise gpus` lists the catalog)", name,
                               fmt::join(close, ", ")));
}

} // namespace gpuadvise
