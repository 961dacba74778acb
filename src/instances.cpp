#include <gpuadvise/error.hpp>
#include <gpuadvise/instances.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>

namespace gpuadvise {
namespace {

/// Splits one CSV line into fields: commas separate, double quotes protect commas ("" is a quote).
std::vector<std::string> split_csv(std::string_view line, const std::string& where) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') { out.back() += '"'; ++i; }
      else if (ch == '"') quoted = false;
      else out.back() += ch;
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      out.emplace_back();
    } else {
      out.back() += ch;
    }
  }
  if (quoted) throw CatalogError(fmt::format("{}: unterminated double quote", where));
  for (auto& field : out) {
    const auto first = field.find_first_not_of(" \t");
    const auto last = field.find_last_not_of(" \t");
    field = first == std::string::npos ? std::string() : field.substr(first, last - first + 1);
  }
  return out;
}

double number(const std::string& text, const std::string& where, const char* column, double min, double max) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value))
    throw CatalogError(fmt::format("{}: column {}: '{}' is not a number", where, column, text));
  if (value < min || value > max)
    throw CatalogError(fmt::format("{}: column {}: {} is outside {}..{}", where, column, text, min, max));
  return value;
}

bool is_iso_date(const std::string& text) {
  static const std::regex pattern(R"((\d{4})-(\d{2})-(\d{2}))");
  std::smatch m;
  if (!std::regex_match(text, m, pattern)) return false;
  const int month = std::stoi(m[2]);
  const int day = std::stoi(m[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

bool same(std::string_view a, std::string_view b) { return normalize_name(a) == normalize_name(b); }

} // namespace

const std::vector<std::string_view>& InstanceCatalog::columns() {
  static const std::vector<std::string_view> k = {"Provider", "InstanceType", "AcceleratorName", "AcceleratorCount",
                                                  "GpuInterconnect", "vCPUs", "MemoryGiB", "NetworkGbps", "Price",
                                                  "SpotPrice", "Region", "PriceDate", "Source"};
  return k;
}

InstanceCatalog InstanceCatalog::from_csv(std::string_view text, std::string_view origin) {
  InstanceCatalog catalog;
  std::map<std::string, std::size_t> column_of;
  std::set<std::string> keys;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  bool header_seen = false;
  while (pos <= text.size()) {
    const auto end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? text.size() + 1 : end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = fmt::format("{}:{}", origin, line_no);
    if (line.find_first_not_of(" \t") == std::string_view::npos || line.front() == '#') continue;
    const auto fields = split_csv(line, where);
    if (!header_seen) {
      header_seen = true;
      for (std::size_t i = 0; i < fields.size(); ++i) {
        if (std::find(columns().begin(), columns().end(), fields[i]) == columns().end())
          throw CatalogError(fmt::format("{}: unknown column '{}' (expected {})", where, fields[i],
                                         fmt::join(columns(), ",")));
        if (!column_of.emplace(fields[i], i).second)
          throw CatalogError(fmt::format("{}: column '{}' appears twice", where, fields[i]));
      }
      for (const auto name : columns())
        if (!column_of.count(std::string(name)))
          throw CatalogError(fmt::format("{}: missing column '{}' (expected {})", where, name, fmt::join(columns(), ",")));
      continue;
    }
    if (fields.size() != column_of.size())
      throw CatalogError(fmt::format("{}: {} fields, but the header has {} columns", where, fields.size(), column_of.size()));
    auto get = [&](const char* name) -> const std::string& { return fields[column_of.at(name)]; };
    auto required = [&](const char* name) -> const std::string& {
      const auto& value = get(name);
      if (value.empty()) throw CatalogError(fmt::format("{}: column {}: empty (required)", where, name));
      return value;
    };
    Instance row;
    row.origin = where;
    row.provider = required("Provider");
    row.instance_type = required("InstanceType");
    row.gpu_id = required("AcceleratorName");
    const double count = number(required("AcceleratorCount"), where, "AcceleratorCount", 1, 1024);
    if (count != std::floor(count))
      throw CatalogError(fmt::format("{}: column AcceleratorCount: '{}' is not a whole number", where, get("AcceleratorCount")));
    row.gpu_count = static_cast<int>(count);
    row.interconnect = required("GpuInterconnect");
    static const std::set<std::string> links = {"nvswitch", "nvlink", "infinity-fabric", "pcie"};
    if (!links.count(row.interconnect))
      throw CatalogError(fmt::format("{}: column GpuInterconnect: '{}' is not nvswitch, nvlink, infinity-fabric or pcie",
                                     where, row.interconnect));
    if (!get("vCPUs").empty()) row.vcpus = number(get("vCPUs"), where, "vCPUs", 1, 100000);
    if (!get("MemoryGiB").empty()) row.memory_gib = number(get("MemoryGiB"), where, "MemoryGiB", 0.1, 1e6);
    if (!get("NetworkGbps").empty()) row.network_gbps = number(get("NetworkGbps"), where, "NetworkGbps", 0.1, 1e6);
    row.usd_per_hour = number(required("Price"), where, "Price", 0.0001, 1e5);
    if (!get("SpotPrice").empty()) row.spot_usd_per_hour = number(get("SpotPrice"), where, "SpotPrice", 0.0001, 1e5);
    row.region = required("Region");
    row.price_date = required("PriceDate");
    if (!is_iso_date(row.price_date))
      throw CatalogError(fmt::format("{}: column PriceDate: '{}' is not a date (expected YYYY-MM-DD)", where, row.price_date));
    row.source = required("Source");
    const std::string key = normalize_name(row.provider) + "/" + row.instance_type + "/" + row.region;
    if (!keys.insert(key).second)
      throw CatalogError(fmt::format("{}: duplicate row for {} {} in {}", where, row.provider, row.instance_type, row.region));
    catalog.m_rows.push_back(std::move(row));
  }
  if (!header_seen) throw CatalogError(fmt::format("{}: no header line (expected {})", origin, fmt::join(columns(), ",")));
  return catalog;
}

void InstanceCatalog::merge_csv(std::string_view text, std::string_view origin) {
  const InstanceCatalog patch = from_csv(text, origin);
  for (const auto& row : patch.m_rows) {
    auto existing = std::find_if(m_rows.begin(), m_rows.end(), [&](const Instance& r) {
      return same(r.provider, row.provider) && r.instance_type == row.instance_type && r.region == row.region;
    });
    if (existing != m_rows.end()) *existing = row;
    else m_rows.push_back(row);
  }
}

void InstanceCatalog::check_gpus(const GpuCatalog& gpus) const {
  for (const auto& row : m_rows) {
    const bool known = std::any_of(gpus.gpus().begin(), gpus.gpus().end(), [&](const Gpu& g) { return g.id == row.gpu_id; });
    if (!known)
      throw CatalogError(fmt::format("{}: column AcceleratorName: '{}' is not a GPU id in the GPU catalog (`gpuadvise gpus` "
                                     "lists them)",
                                     row.origin, row.gpu_id));
  }
}

std::vector<const Instance*> InstanceCatalog::shapes(std::string_view gpu_id, std::string_view provider,
                                                     std::string_view region) const {
  std::vector<const Instance*> out;
  for (const auto& row : m_rows)
    if (row.gpu_id == gpu_id && (provider.empty() || same(row.provider, provider)) && (region.empty() || row.region == region))
      out.push_back(&row);
  return out;
}

bool InstanceCatalog::has_provider(std::string_view provider) const {
  return std::any_of(m_rows.begin(), m_rows.end(), [&](const Instance& r) { return same(r.provider, provider); });
}

void InstanceCatalog::require_region(std::string_view provider, std::string_view region) const {
  if (region.empty()) return;
  std::set<std::string> known;
  for (const auto& row : m_rows)
    if (same(row.provider, provider)) {
      if (row.region == region) return;
      known.insert(row.region);
    }
  if (known.empty())
    throw InputError(fmt::format("invalid --region '{}': the instance catalog has no rows for provider '{}'", region, provider));
  throw InputError(fmt::format("unknown --region '{}' for {}: the instance catalog has {}", region, provider,
                               fmt::join(known, ", ")));
}

std::optional<MachinePlan> plan_machines(const InstanceCatalog& catalog, std::string_view gpu_id, int count, int tp,
                                         std::string_view provider, std::string_view region, bool spot) {
  std::optional<MachinePlan> best;
  for (const Instance* shape : catalog.shapes(gpu_id, provider, region)) {
    if (spot && !shape->spot_usd_per_hour) continue;
    // A tensor-parallel group never spans instances; a PCIe-only shape with several GPUs still holds it.
    if (shape->gpu_count < std::min(tp, count)) continue;
    MachinePlan plan;
    plan.instance = *shape;
    plan.instances = count <= shape->gpu_count ? 1 : (count + shape->gpu_count - 1) / shape->gpu_count;
    plan.gpus = plan.instances * shape->gpu_count;
    plan.rounded_up = plan.gpus > count;
    plan.spot = spot;
    plan.usd_per_hour = plan.instances * (spot ? *shape->spot_usd_per_hour : shape->usd_per_hour);
    // Cheapest first; at equal price the fewer idle GPUs, then the smaller instance.
    if (!best || plan.usd_per_hour < best->usd_per_hour - 1e-9 ||
        (std::abs(plan.usd_per_hour - best->usd_per_hour) <= 1e-9 && plan.gpus < best->gpus))
      best = plan;
  }
  return best;
}

int largest_shape(const InstanceCatalog& catalog, std::string_view gpu_id, std::string_view provider, std::string_view region) {
  int largest = 0;
  for (const Instance* shape : catalog.shapes(gpu_id, provider, region)) largest = std::max(largest, shape->gpu_count);
  return largest;
}

} // namespace gpuadvise
