#include <gpuadvise/listing.hpp>
#include <gpuadvise/units.hpp>

#include <gpuadvise/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace gpuadvise {
namespace {

std::string interconnect(const Gpu& gpu) {
  if (gpu.has_nvlink)
    return fmt::format("{} {:.0f} GB/s", gpu.vendor == "amd" ? "IF" : "NVLink", gpu.nvlink_bandwidth_bytes_per_s / 1e9);
  if (gpu.pcie_generation > 0) return fmt::format("PCIe {} x{}", gpu.pcie_generation, gpu.pcie_lanes);
  return "PCIe";
}

std::string tflops(const Gpu& gpu, Precision p) {
  const double value = gpu.peak_flops(p);
  return value > 0 ? fmt::format("{:.0f}", value / 1e12) : "-";
}

std::string attention_kind(const ModelShape& s) {
  if (s.mla) return "MLA";
  std::string kind = s.num_kv_heads == s.num_attention_heads ? "MHA"
                     : s.num_kv_heads == 1                   ? "MQA"
                                                             : fmt::format("GQA {}/{}", s.num_kv_heads, s.num_attention_heads);
  if (s.sliding_window > 0)
    kind += s.sliding_layer_count() == s.num_layers ? fmt::format(", SWA {}", s.sliding_window)
                                                    : fmt::format(", SWA {} x{}", s.sliding_window, s.sliding_layer_count());
  return kind;
}

} // namespace

std::vector<const Gpu*> select_gpus(const GpuCatalog& catalog, const GpuFilter& filter) {
  std::vector<const Gpu*> out;
  const std::string wanted = normalize_name(filter.name);
  for (const auto& gpu : catalog.gpus()) {
    bool match = wanted.empty() || normalize_name(gpu.id).find(wanted) != std::string::npos ||
                 normalize_name(gpu.name).find(wanted) != std::string::npos;
    for (const auto& alias : gpu.aliases) match = match || normalize_name(alias).find(wanted) != std::string::npos;
    if (match && gpu.memory_bytes >= filter.min_memory_gb * 1e9) out.push_back(&gpu);
  }
  return out;
}

void write_gpus_text(std::ostream& out, const std::vector<const Gpu*>& gpus, const GpuFilter& filter) {
  out << fmt::format("{:<14} {:>4} {:>6} {:>5} {:>5} {:>5} {:>5} {:<4} {:<17} {:>6} {:<18} {}\n", "GPU", "GB", "GB/s",
                     "fp16", "fp8", "fp4", "int8", "bf16", "interconnect", "$/hr", "provider", "price date");
  for (const Gpu* gpu : gpus) {
    const Price* price = gpu->price(filter.provider);
    const std::string row = fmt::format("{:<14} {:>4.0f} {:>6.0f} {:>5} {:>5} {:>5} {:>5} {:<4} {:<17} {:>6} {:<18} {}",
                                        gpu->id, gpu->memory_bytes / 1e9, gpu->bandwidth_bytes_per_s / 1e9,
                                        tflops(*gpu, Precision::fp16), tflops(*gpu, Precision::fp8),
                                        tflops(*gpu, Precision::nvfp4), tflops(*gpu, Precision::int8),
                                        gpu->bf16_support ? "yes" : "no", interconnect(*gpu),
                                        price ? fmt::format("{:.2f}", price->usd_per_hour) : "-",
                                        price ? price->provider_name : "", price ? price->date : "");
    out << row.substr(0, row.find_last_not_of(' ') + 1) << "\n";
  }
  out << "(dense tensor TFLOPS, no sparsity; fp8/fp4 '-' = no FP8/FP4 tensor cores; GB = 10^9 bytes; $/hr per GPU, "
         "on-demand)\n";
}

nlohmann::json gpus_json(const std::vector<const Gpu*>& gpus, const GpuFilter& filter, const std::string& catalog_date) {
  nlohmann::json list = nlohmann::json::array();
  for (const Gpu* gpu : gpus) {
    nlohmann::json tflops_json = nlohmann::json::object();
    for (const auto& [p, value] : gpu->dense_flops) tflops_json[std::string(to_string(p))] = value / 1e12;
    const Price* price = gpu->price(filter.provider);
    nlohmann::json prices = nlohmann::json::array();
    for (const auto& p : gpu->prices)
      prices.push_back({{"provider", p.provider}, {"provider_name", p.provider_name}, {"tier", p.tier},
                        {"usd_per_hour", p.usd_per_hour}, {"date", p.date}, {"source", p.source}});
    list.push_back({{"id", gpu->id},
                    {"name", gpu->name},
                    {"architecture", gpu->architecture},
                    {"compute_capability", gpu->compute_capability},
                    {"memory_bytes", gpu->memory_bytes},
                    {"allocatable_bytes", gpu->allocatable_bytes},
                    {"memory_bandwidth_bytes_per_s", gpu->bandwidth_bytes_per_s},
                    {"dense_tflops", tflops_json},
                    {"fp8_support", gpu->fp8_support},
                    {"bf16_support", gpu->bf16_support},
                    {"tdp_watts", gpu->tdp_watts},
                    {"nvlink_bandwidth_bytes_per_s", gpu->has_nvlink ? nlohmann::json(gpu->nvlink_bandwidth_bytes_per_s)
                                                                     : nlohmann::json(nullptr)},
                    {"pcie", {{"generation", gpu->pcie_generation}, {"lanes", gpu->pcie_lanes}}},
                    {"price", price ? nlohmann::json{{"provider", price->provider}, {"usd_per_hour", price->usd_per_hour},
                                                     {"date", price->date}}
                                    : nlohmann::json(nullptr)},
                    {"prices", prices}});
  }
  return {{"schema_version", 1}, {"catalog_date", catalog_date}, {"gpus", list}};
}

std::vector<const Instance*> select_instances(const InstanceCatalog& instances, const GpuCatalog& gpus,
                                              const GpuFilter& filter, const std::string& region) {
  std::vector<const Instance*> out;
  const auto wanted = select_gpus(gpus, filter);
  for (const auto& row : instances.instances()) {
    if (!filter.provider.empty() && normalize_name(row.provider) != normalize_name(filter.provider)) continue;
    if (!region.empty() && row.region != region) continue;
    const bool gpu_ok = std::any_of(wanted.begin(), wanted.end(), [&](const Gpu* g) { return g->id == row.gpu_id; });
    if (gpu_ok) out.push_back(&row);
  }
  std::stable_sort(out.begin(), out.end(), [](const Instance* a, const Instance* b) {
    if (a->gpu_id != b->gpu_id) return a->gpu_id < b->gpu_id;
    return a->gpu_count < b->gpu_count || (a->gpu_count == b->gpu_count && a->usd_per_hour < b->usd_per_hour);
  });
  return out;
}

void write_instances_text(std::ostream& out, const std::vector<const Instance*>& rows) {
  out << fmt::format("{:<24} {:>4} {:<14} {:<15} {:>5} {:>6} {:>5} {:>9} {:>9} {:<12} {}\n", "instance", "GPUs", "GPU",
                     "GPU link", "vCPU", "GiB", "Gbps", "$/hr", "spot $/hr", "region", "price date");
  auto num = [](double v) { return v > 0 ? fmt::format("{:g}", v) : std::string("-"); };
  for (const Instance* r : rows)
    out << fmt::format("{:<24} {:>4} {:<14} {:<15} {:>5} {:>6} {:>5} {:>9.4f} {:>9} {:<12} {}\n", r->instance_type,
                       r->gpu_count, r->gpu_id, r->interconnect, num(r->vcpus), num(r->memory_gib), num(r->network_gbps),
                       r->usd_per_hour, r->spot_usd_per_hour ? fmt::format("{:.4f}", *r->spot_usd_per_hour) : "-",
                       r->region, r->price_date);
  out << "($/hr per instance; '-' = not published in the sources read; sources: data/instances.csv)\n";
}

nlohmann::json instances_json(const std::vector<const Instance*>& rows) {
  nlohmann::json list = nlohmann::json::array();
  for (const Instance* r : rows)
    list.push_back({{"provider", r->provider},
                    {"instance_type", r->instance_type},
                    {"gpu", r->gpu_id},
                    {"gpu_count", r->gpu_count},
                    {"gpu_interconnect", r->interconnect},
                    {"vcpus", r->vcpus > 0 ? nlohmann::json(r->vcpus) : nlohmann::json(nullptr)},
                    {"memory_gib", r->memory_gib > 0 ? nlohmann::json(r->memory_gib) : nlohmann::json(nullptr)},
                    {"network_gbps", r->network_gbps > 0 ? nlohmann::json(r->network_gbps) : nlohmann::json(nullptr)},
                    {"usd_per_hour", r->usd_per_hour},
                    {"spot_usd_per_hour", r->spot_usd_per_hour ? nlohmann::json(*r->spot_usd_per_hour) : nlohmann::json(nullptr)},
                    {"region", r->region},
                    {"price_date", r->price_date},
                    {"source", r->source}});
  return {{"schema_version", 1}, {"instances", list}};
}

namespace {

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
long days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long>(doe) - 719468;
}

long parse_day(const std::string& date) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (date.size() != 10 || std::sscanf(date.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 ||
      d > 31)
    throw InputError(fmt::format("invalid date '{}': expected YYYY-MM-DD", date));
  return days_from_civil(y, m, d);
}

} // namespace

int days_between(const std::string& from, const std::string& to) {
  return static_cast<int>(parse_day(to) - parse_day(from));
}

std::vector<StalePrice> stale_prices(const GpuCatalog& gpus, const InstanceCatalog& instances, const std::string& today,
                                     int days) {
  std::vector<StalePrice> out;
  for (const auto& gpu : gpus.gpus())
    for (const auto& p : gpu.prices) {
      if (p.tier == "override") continue;
      const int age = days_between(p.date, today);
      if (age > days) out.push_back({gpu.id, p.provider, p.tier, p.usd_per_hour, p.date, age, p.source});
    }
  for (const auto& r : instances.instances()) {
    const int age = days_between(r.price_date, today);
    if (age > days)
      out.push_back({fmt::format("{} ({} x {})", r.instance_type, r.gpu_count, r.gpu_id), r.provider, "instance",
                     r.usd_per_hour, r.price_date, age, r.source});
  }
  std::stable_sort(out.begin(), out.end(), [](const StalePrice& a, const StalePrice& b) { return a.age_days > b.age_days; });
  return out;
}

void write_stale_text(std::ostream& out, const std::vector<StalePrice>& stale, const std::string& today, int days) {
  out << fmt::format("{} prices older than {} days on {}:\n", stale.size(), days, today);
  if (stale.empty()) return;
  out << fmt::format("{:<36} {:<17} {:<11} {:>10} {:<10} {:>4}\n", "GPU / instance", "provider", "tier", "$/hr", "date", "days");
  for (const auto& s : stale)
    out << fmt::format("{:<36} {:<17} {:<11} {:>10.4f} {:<10} {:>4}\n", s.what, s.provider, s.tier, s.usd_per_hour, s.date,
                       s.age_days);
  out << "(re-read each source and update data/gpus.json or data/instances.csv, or pass your own with --catalog / "
         "--instances)\n";
}

nlohmann::json stale_json(const std::vector<StalePrice>& stale, const std::string& today, int days) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : stale)
    list.push_back({{"what", s.what}, {"provider", s.provider}, {"tier", s.tier}, {"usd_per_hour", s.usd_per_hour},
                    {"date", s.date}, {"age_days", s.age_days}, {"source", s.source}});
  return {{"schema_version", 1}, {"as_of", today}, {"older_than_days", days}, {"stale", list}};
}

nlohmann::json model_shape_json(const ModelShape& s) {
  const ParamCounts counts = count_params(s);
  nlohmann::json j = {{"id", s.id},
                      {"name", s.name},
                      {"source", s.source},
                      {"layers", s.num_layers},
                      {"hidden_size", s.hidden_size},
                      {"attention_heads", s.num_attention_heads},
                      {"kv_heads", s.num_kv_heads},
                      {"head_dim", s.head_dim},
                      {"intermediate_size", s.intermediate_size},
                      {"vocab_size", s.vocab_size},
                      {"tie_word_embeddings", s.tie_word_embeddings},
                      {"max_context_tokens", s.max_context},
                      {"attention", attention_kind(s)},
                      {"sliding_window_tokens", s.sliding_window > 0 ? nlohmann::json(s.sliding_window) : nlohmann::json(nullptr)},
                      {"sliding_window_layers", s.sliding_layer_count()},
                      {"params_total", counts.total},
                      {"params_active", counts.active},
                      {"params_published", s.published_params > 0 ? nlohmann::json(s.published_params) : nlohmann::json(nullptr)}};
  j["moe"] = s.moe ? nlohmann::json{{"experts", s.moe->num_experts}, {"experts_per_token", s.moe->experts_per_token},
                                    {"shared_experts", s.moe->num_shared_experts},
                                    {"expert_intermediate_size", s.moe->expert_intermediate_size}}
                   : nlohmann::json(nullptr);
  j["mla"] = s.mla ? nlohmann::json{{"kv_lora_rank", s.mla->kv_lora_rank}, {"qk_rope_head_dim", s.mla->qk_rope_head_dim},
                                    {"qk_nope_head_dim", s.mla->qk_nope_head_dim}, {"v_head_dim", s.mla->v_head_dim}}
                   : nlohmann::json(nullptr);
  return j;
}

void write_models_text(std::ostream& out, const ModelCatalog& models) {
  const auto attention = [](const ModelShape& m) {
    return attention_kind(m) + (m.moe ? fmt::format(", MoE {}x{}", m.moe->num_experts, m.moe->experts_per_token) : "");
  };
  // Columns as wide as their longest entry (ids such as deepseek-r1-distill-qwen-32b), at least the headers'.
  std::size_t id_width = 16, attention_width = 24;
  for (const auto& m : models.models()) {
    id_width = std::max(id_width, m.id.size());
    attention_width = std::max(attention_width, attention(m).size());
  }
  out << fmt::format("{:<{}} {:>7} {:>7} {:>6} {:<{}} {:>7} {:>8}\n", "model", id_width, "params", "active", "layers",
                     "attention", attention_width, "context", "KV/token");
  for (const auto& m : models.models()) {
    const ParamCounts counts = count_params(m);
    // KV per token at a context within every window, i.e. what each new token adds.
    const double kv_per_token = kv_cache_bytes_per_sequence(m, 1, 2);
    out << fmt::format("{:<{}} {:>7} {:>7} {:>6} {:<{}} {:>7} {:>4.0f} KiB\n", m.id, id_width, format_params(counts.total),
                       format_params(counts.active), m.num_layers, attention(m), attention_width, m.max_context,
                       kv_per_token / 1024);
  }
  out << "(KV/token: KV-cache bytes each new token adds in 16-bit, all layers; SWA = sliding-window attention)\n";
}

nlohmann::json models_json(const ModelCatalog& models) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : models.models()) list.push_back(model_shape_json(m));
  return {{"schema_version", 1}, {"models", list}};
}

} // namespace gpuadvise
