// The default catalogs: built from the code that src/embedgen.cpp generates from data/*.json, so a run
// needs no JSON parsing unless a user file is merged in (see GpuCatalog::merge_json).
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/embedded.hpp>
#include <gpuadvise/instances.hpp>
#include <gpuadvise/model.hpp>

namespace gpuadvise {

std::vector<Gpu> generated_gpus();
std::string generated_catalog_date();
std::vector<ModelShape> generated_models();
std::vector<std::string> generated_reference_shapes();
Assumptions generated_assumptions();

GpuCatalog GpuCatalog::embedded() {
  return from_parts(generated_gpus(), generated_catalog_date(), embedded_gpus_json(), "data/gpus.json (embedded)");
}

ModelCatalog ModelCatalog::embedded() { return from_parts(generated_models(), generated_reference_shapes()); }

Assumptions Assumptions::embedded() { return generated_assumptions(); }

InstanceCatalog InstanceCatalog::embedded() {
  // Parsed once per process: 60-odd CSV rows.
  static const InstanceCatalog catalog = from_csv(embedded_instances_csv(), "data/instances.csv");
  return catalog;
}

std::string embedded_catalog_date() { return generated_catalog_date(); }

} // namespace gpuadvise
