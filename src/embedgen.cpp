// Build-time generator: reads data/gpus.json, models.json and assumptions.json with the library's own
// loaders (so they are validated at build time) and writes C++ that rebuilds the same structs without
// parsing JSON at run time. Usage: gpuadvise_embedgen GPUS MODELS ASSUMPTIONS OUTPUT.cpp
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/files.hpp>
#include <gpuadvise/model.hpp>

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>

namespace {

using namespace gpuadvise;

/// A C++ string literal; octal escapes (at most 3 digits) keep following characters safe.
std::string lit(const std::string& text) {
  std::string out = "std::string(\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') out += fmt::format("\\{}", static_cast<char>(c));
    else if (c < 0x20 || c >= 0x7f || c == '?') out += fmt::format("\\{:03o}", c);
    else out += static_cast<char>(c);
  }
  return out + "\", " + std::to_string(text.size()) + ")";
}

std::string num(double value) { return fmt::format("{:.17g}", value); }

std::string strings(const std::vector<std::string>& list) {
  std::string out = "{";
  for (const auto& s : list) out += lit(s) + ", ";
  return out + "}";
}

void write_gpus(std::ostream& out, const GpuCatalog& catalog) {
  out << "std::vector<Gpu> generated_gpus() {\n  std::vector<Gpu> gpus;\n";
  for (const auto& g : catalog.gpus()) {
    out << "  {\n    Gpu g;\n";
    out << "    g.id = " << lit(g.id) << ";\n    g.name = " << lit(g.name) << ";\n";
    out << "    g.aliases = " << strings(g.aliases) << ";\n";
    out << "    g.vendor = " << lit(g.vendor) << ";\n";
    out << "    g.architecture = " << lit(g.architecture) << ";\n";
    out << "    g.compute_capability = " << num(g.compute_capability) << ";\n";
    out << "    g.memory_bytes = " << num(g.memory_bytes) << ";\n";
    out << "    g.allocatable_bytes = " << num(g.allocatable_bytes) << ";\n";
    out << "    g.allocatable_measured = " << (g.allocatable_measured ? "true" : "false") << ";\n";
    out << "    g.memory_type = " << lit(g.memory_type) << ";\n";
    out << "    g.bandwidth_bytes_per_s = " << num(g.bandwidth_bytes_per_s) << ";\n";
    for (const auto& [p, v] : g.dense_flops)
      out << "    g.dense_flops[static_cast<Precision>(" << static_cast<int>(p) << ")] = " << num(v) << ";\n";
    out << "    g.fp16_accumulate_flops = " << num(g.fp16_accumulate_flops) << ";\n";
    out << "    g.fp8_support = " << (g.fp8_support ? "true" : "false") << ";\n";
    out << "    g.bf16_support = " << (g.bf16_support ? "true" : "false") << ";\n";
    out << "    g.tdp_watts = " << num(g.tdp_watts) << ";\n";
    out << "    g.form_factor = " << lit(g.form_factor) << ";\n";
    out << "    g.pcie_generation = " << g.pcie_generation << ";\n    g.pcie_lanes = " << g.pcie_lanes << ";\n";
    out << "    g.pcie_bandwidth_bytes_per_s = " << num(g.pcie_bandwidth_bytes_per_s) << ";\n";
    out << "    g.has_nvlink = " << (g.has_nvlink ? "true" : "false") << ";\n";
    out << "    g.nvlink_generation = " << g.nvlink_generation << ";\n";
    out << "    g.nvlink_bandwidth_bytes_per_s = " << num(g.nvlink_bandwidth_bytes_per_s) << ";\n";
    for (const auto& p : g.prices)
      out << "    g.prices.push_back(Price{" << lit(p.provider) << ", " << lit(p.provider_name) << ", " << lit(p.tier)
          << ", " << num(p.usd_per_hour) << ", " << lit(p.date) << ", " << lit(p.source) << "});\n";
    out << "    g.notes = " << strings(g.notes) << ";\n";
    for (const auto& [k, v] : g.sources) out << "    g.sources[" << lit(k) << "] = " << lit(v) << ";\n";
    out << "    gpus.push_back(std::move(g));\n  }\n";
  }
  out << "  return gpus;\n}\n\nstd::string generated_catalog_date() { return " << lit(catalog.catalog_date()) << "; }\n\n";
}

void write_models(std::ostream& out, const ModelCatalog& catalog) {
  out << "std::vector<ModelShape> generated_models() {\n  std::vector<ModelShape> models;\n";
  for (const auto& m : catalog.models()) {
    out << "  {\n    ModelShape m;\n";
    out << "    m.id = " << lit(m.id) << ";\n    m.name = " << lit(m.name) << ";\n";
    out << "    m.aliases = " << strings(m.aliases) << ";\n";
    out << "    m.source = " << lit(m.source) << ";\n    m.architecture = " << lit(m.architecture) << ";\n";
    out << fmt::format("    m.num_layers = {}; m.hidden_size = {}; m.num_attention_heads = {}; m.num_kv_heads = {};\n",
                       m.num_layers, m.hidden_size, m.num_attention_heads, m.num_kv_heads);
    out << fmt::format("    m.head_dim = {}; m.intermediate_size = {}; m.vocab_size = {}; m.max_context = {};\n", m.head_dim,
                       m.intermediate_size, m.vocab_size, m.max_context);
    out << fmt::format("    m.tie_word_embeddings = {}; m.gated_mlp = {}; m.qkv_bias = {}; m.layernorm = {};\n",
                       m.tie_word_embeddings, m.gated_mlp, m.qkv_bias, m.layernorm);
    out << fmt::format("    m.norms_per_layer = {}; m.parallel_attention = {}; m.sliding_window = {};\n", m.norms_per_layer,
                       m.parallel_attention, m.sliding_window);
    out << fmt::format("    m.sliding_layers = static_cast<SlidingLayers>({}); m.counted_sliding_layers = {};\n",
                       static_cast<int>(m.sliding_layers), m.counted_sliding_layers);
    out << fmt::format("    m.o_bias = {}; m.qk_norm_width = {}; m.vision_params = {}; m.other_params = {};\n", m.o_bias,
                       m.qk_norm_width, num(m.vision_params), num(m.other_params));
    if (m.moe)
      out << fmt::format("    m.moe = MoeShape{{{}, {}, {}, {}, {}, {}, {}, {}, {}}};\n", m.moe->num_experts,
                         m.moe->experts_per_token, m.moe->num_shared_experts, m.moe->expert_intermediate_size,
                         m.moe->first_dense_layers, m.moe->dense_intermediate_size, m.moe->layer_step,
                         m.moe->shared_expert_intermediate_size, m.moe->expert_bias);
    if (m.mla)
      out << fmt::format("    m.mla = MlaShape{{{}, {}, {}, {}, {}}};\n", m.mla->kv_lora_rank, m.mla->q_lora_rank,
                         m.mla->qk_nope_head_dim, m.mla->qk_rope_head_dim, m.mla->v_head_dim);
    out << "    m.published_params = " << num(m.published_params) << ";\n";
    out << "    m.published_params_source = " << lit(m.published_params_source) << ";\n";
    out << "    models.push_back(std::move(m));\n  }\n";
  }
  out << "  return models;\n}\n\nstd::vector<std::string> generated_reference_shapes() { return "
      << strings(catalog.reference_ids()) << "; }\n\n";
}

void write_assumptions(std::ostream& out, const Assumptions& a) {
  out << "Assumptions generated_assumptions() {\n  Assumptions a;\n";
  out << "  a.runtime_overhead_bytes = " << num(a.runtime_overhead_bytes) << ";\n";
  out << "  a.runtime_overhead_source = " << lit(a.runtime_overhead_source) << ";\n";
  out << "  a.max_batched_tokens = " << num(a.max_batched_tokens) << ";\n";
  out << "  a.max_batched_tokens_source = " << lit(a.max_batched_tokens_source) << ";\n";
  out << "  a.gemm_half_tokens = " << num(a.gemm_half_tokens) << ";\n";
  out << "  a.gemm_half_tokens_source = " << lit(a.gemm_half_tokens_source) << ";\n";
  out << "  a.moe_compute_efficiency = " << num(a.moe_compute_efficiency) << ";\n";
  out << "  a.moe_compute_efficiency_source = " << lit(a.moe_compute_efficiency_source) << ";\n";
  out << "  a.int4_group_size = " << a.int4_group_size << ";\n";
  out << "  a.int4_group_size_source = " << lit(a.int4_group_size_source) << ";\n";
  for (const auto& [id, r] : a.runtimes)
    out << "  a.runtimes[" << lit(id) << "] = Runtime{" << lit(r.id) << ", " << lit(r.name) << ", " << num(r.step_overhead_s)
        << ", " << num(r.layer_overhead_s) << ", " << (r.fp16_accumulate ? "true" : "false") << ", " << num(r.compute_scale)
        << ", " << num(r.bandwidth_scale) << ", " << lit(r.source) << "};\n";
  out << "  a.default_runtime = " << lit(a.default_runtime) << ";\n";
  for (const auto& [key, r] : a.constants)
    out << "  a.constants[" << lit(key) << "] = Range{" << num(r.low) << ", " << num(r.expected) << ", " << num(r.high) << ", "
        << lit(r.source) << "};\n";
  for (const auto& [key, r] : a.efficiency)
    out << "  a.efficiency[" << lit(key) << "] = Range{" << num(r.low) << ", " << num(r.expected) << ", " << num(r.high)
        << ", " << lit(r.source) << "};\n";
  out << "  return a;\n}\n\n";
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: gpuadvise_embedgen GPUS.json MODELS.json ASSUMPTIONS.json OUTPUT.cpp\n";
    return 2;
  }
  try {
    const auto gpus = GpuCatalog::from_json(read_text_file(argv[1], "GPU catalog"), argv[1]);
    const auto models = ModelCatalog::from_json(read_text_file(argv[2], "models catalog"), argv[2]);
    const auto assumptions = Assumptions::from_json(read_text_file(argv[3], "assumptions"), argv[3]);
    std::ostringstream out;
    out << "// Generated by src/embedgen.cpp from data/*.json at build time. Do not edit.\n"
        << "#include <gpuadvise/assumptions.hpp>\n#include <gpuadvise/catalog.hpp>\n#include <gpuadvise/model.hpp>\n\n"
        << "namespace gpuadvise {\n\n";
    write_gpus(out, gpus);
    write_models(out, models);
    write_assumptions(out, assumptions);
    out << "} // namespace gpuadvise\n";
    std::ofstream file(argv[4], std::ios::binary);
    file << out.str();
    if (!file) throw Error(std::string("cannot write ") + argv[4]);
  } catch (const std::exception& e) {
    std::cerr << "gpuadvise_embedgen: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
