#pragma once
/// Formatters: they only read an Advice and write to a stream.
#include <gpuadvise/advisor.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <ostream>

namespace gpuadvise {

/// Version of the program and of the JSON document layout (docs/json.md).
#ifndef GPUADVISE_VERSION
#define GPUADVISE_VERSION "0.0.0-dev"
#endif
inline constexpr const char* k_version = GPUADVISE_VERSION; ///< from CMake's project(VERSION)
inline constexpr int k_schema_version = 2;

/// The advice as the documented JSON document (schema_version 2, data/advice.schema.json).
nlohmann::json to_json(const Advice& advice);

/// How the text report looks.
struct TextOptions {
  bool color = false;   ///< ANSI colours (only on a terminal, never with NO_COLOR)
  /// How a remedy reads to this reader (the CLI: "--precision int8"); empty: "precision int8".
  std::function<std::string(const Remedy&)> remedy;
};

/// "hint (try: A, or B)": a finding's hint with its remedies as `render` writes them.
std::string hint_with_remedies(const Finding& f, const std::function<std::string(const Remedy&)>& render);

/// The human report: workload line, candidate table, the pick's breakdown, findings, recommendation.
void write_text(std::ostream& out, const Advice& advice, const TextOptions& options);

} // namespace gpuadvise
