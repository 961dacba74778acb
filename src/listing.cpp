#include <gpuadvise/listing.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

namespace gpuadvise {
namespace {

std::string interconnect(const Gpu& gpu) {
  if (gpu.has_nvlink) return fmt::format("NVLink {:.0f} GB/s", gpu.nvlink_bandwidth_bytes_per_s / 1e9);
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
  out << fmt::format("{:<14} {:>4} {:>6} {:>5} {:>5} {:>5} {:<4} {:<17} {:>6} {}\n", "GPU", "GB", "GB/s", "fp16",
                     "fp8", "int8", "bf16", "interconnect", "$/hr", "provider");
  for (const Gpu* gpu : gpus) {
    const Price* price = gpu->price(filter.provider);
    out << fmt::format("{:<14} {:>4.0f} {:>6.0f} {:>5} {:>5} {:>5} {:<4} {:<17} {:>6} {}\n", gpu->id,
                       gpu->memory_bytes / 1e9, gpu->bandwidth_bytes_per_s / 1e9, tflops(*gpu, Precision::fp16),
                       tflops(*gpu, Precision::fp8), tflops(*gpu, Precision::int8), gpu->bf16_support ? "yes" : "no",
                       interconnect(*gpu), price ? fmt::format("{:.2f}", price->usd_per_hour) : "-",
                       price ? price->provider_name : "");
  }
  out << "(dense tensor TFLOPS, no sparsity; fp8 '-' = no FP8 tensor cores; GB = 10^9 bytes; $/hr per GPU, "
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
  out << fmt::format("{:<16} {:>7} {:>7} {:>6} {:<24} {:>7} {:>8}\n", "model", "params", "active", "layers", "attention",
                     "context", "KV/token");
  for (const auto& m : models.models()) {
    const ParamCounts counts = count_params(m);
    // KV per token at a context within every window, i.e. what each new token adds.
    const double kv_per_token = kv_cache_bytes_per_sequence(m, 1, 2);
    out << fmt::format("{:<16} {:>7} {:>7} {:>6} {:<24} {:>7} {:>4.0f} KiB\n", m.id, format_params(counts.total),
                       format_params(counts.active), m.num_layers,
                       attention_kind(m) + (m.moe ? fmt::format(", MoE {}x{}", m.moe->num_experts, m.moe->experts_per_token) : ""),
                       m.max_context, kv_per_token / 1024);
  }
  out << "(KV/token: KV-cache bytes each new token adds in 16-bit, all layers; SWA = sliding-window attention)\n";
}

nlohmann::json models_json(const ModelCatalog& models) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : models.models()) list.push_back(model_shape_json(m));
  return {{"schema_version", 1}, {"models", list}};
}

} // namespace gpuadvise
