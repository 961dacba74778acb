#pragma once
/// The default data files, compiled into the library by src/embed.cmake.
#include <string>
#include <string_view>

namespace gpuadvise {

/// data/gpus.json as it was at build time.
std::string_view embedded_gpus_json();
/// data/models.json as it was at build time.
std::string_view embedded_models_json();
/// data/assumptions.json as it was at build time.
std::string_view embedded_assumptions_json();
/// The built-in GPU catalog's date (catalog_date in data/gpus.json).
std::string embedded_catalog_date();
/// data/generative.json as it was at build time.
std::string_view embedded_generative_json();
/// data/embedding.json as it was at build time.
std::string_view embedded_embedding_json();
/// data/serving_validation.json as it was at build time.
std::string_view embedded_serving_validation_json();
/// data/training_memory_validation.json as it was at build time.
std::string_view embedded_training_memory_validation_json();
/// data/instances.csv as it was at build time.
std::string_view embedded_instances_csv();
/// data/engine_memory_validation.json as it was at build time.
std::string_view embedded_engine_memory_validation_json();
/// data/validation.json as it was at build time.
std::string_view embedded_validation_json();

} // namespace gpuadvise
