#pragma once
/// Formatters: they only read an Advice and write to a stream.
#include <gpuadvise/advisor.hpp>

#include <nlohmann/json.hpp>

#include <ostream>

namespace gpuadvise {

/// Version of the program and of the JSON document layout (docs/json.md).
#ifndef GPUADVISE_VERSION
#define GPUADVISE_VERSION "0.0.0-dev"
#endif
inline constexpr const char* k_version = GPUADVISE_VERSION; ///< from CMake's project(VERSION)
inline constexpr int k_schema_version = 2;

/// The advice as the documented JSON document (schema_version 1).
nlohmann::json to_json(const Advice& advice);

/// How the text report looks.
struct TextOptions {
  bool color = false;   ///< ANSI colours (only on a terminal, never with NO_COLOR)
};

/// The human report: workload line, candidate table, the pick's breakdown, findings, recommendation.
void write_text(std::ostream& out, const Advice& advice, const TextOptions& options);

} // namespace gpuadvise
