// Fuzz target: shape_from_hf_config (a Hugging Face config.json given as --model-config). An accepted
// shape is evaluated as build_workload would use it, on one GPU at one and two GPUs.
#include "fuzz_common.hpp"

#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/hf_config.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/workload.hpp>

using namespace gpuadvise;

namespace {

struct Fixture {
  GpuCatalog gpus = GpuCatalog::embedded();
  Assumptions assumptions = Assumptions::embedded();
  const Gpu* gpu = &gpus.find("h100-sxm");
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& f = fixture();
  try {
    HfConfigInfo info;
    const ModelShape shape = shape_from_hf_config(fuzz::text_of(data, size), "fuzz/config.json", &info);
    if (shape.num_layers < 1 || shape.hidden_size < 1 || shape.num_attention_heads < 1 || shape.num_kv_heads < 1 ||
        shape.head_dim < 1 || shape.vocab_size < 1 || shape.intermediate_size < 1)
      __builtin_trap(); // every dimension the estimators divide by or multiply with is positive
    const ParamCounts counts = count_params(shape);
    fuzz::must_be_quantity(counts.total);
    fuzz::must_be_quantity(counts.active);
    fuzz::must_be_quantity(counts.embedding);
    fuzz::must_be_quantity(kv_cache_bytes_per_sequence(shape, 4096, 2));
    fuzz::must_be_quantity(attention_flops_per_context_token(shape));
    if (!info.quant_precision.empty()) (void)parse_precision(info.quant_precision);
    Workload w;
    w.shape = shape;
    w.origin = ModelOrigin::config_file;
    w.params_total = counts.total;
    w.params_active = counts.active;
    w.params_embedding = counts.embedding;
    w.group_size = info.quant_group_size;
    w.batch = 2;
    w.context = 1024;
    w.input_tokens = 768;
    w.requests = 4;
    for (Precision p : {Precision::fp16, Precision::int4}) {
      w.precision = p;
      for (int count : {1, 2}) fuzz::must_be_candidate(evaluate(w, *f.gpu, count, f.assumptions, ""));
    }
  } catch (const Error&) {
  }
  return 0;
}
