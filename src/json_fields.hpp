#pragma once
// Internal: strict, path-aware reading of catalog JSON. Every failure names file, entry and field.
#include <gpuadvise/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <string_view>

namespace gpuadvise::detail {

/// Parses JSON text; a syntax error becomes a CatalogError naming the file and byte offset.
nlohmann::json parse_json(std::string_view text, std::string_view origin);

/// A JSON object being read, with a description of where it is ("gpus.json: gpus[3] (id 'l40')").
class Fields {
public:
  Fields(const nlohmann::json& object, std::string where);

  const nlohmann::json& json() const { return m_object; }
  const std::string& where() const { return m_where; }
  bool has(std::string_view key) const;

  /// [[noreturn]] error about one field.
  [[noreturn]] void fail(std::string_view key, std::string_view problem) const;

  std::string string(std::string_view key) const;
  std::string string_or(std::string_view key, std::string_view fallback) const;
  bool boolean(std::string_view key) const;
  bool boolean_or(std::string_view key, bool fallback) const;
  /// A plain number in [min, max].
  double number(std::string_view key, double min = 0, double max = std::numeric_limits<double>::max()) const;
  double number_or(std::string_view key, double fallback, double min = 0,
                   double max = std::numeric_limits<double>::max()) const;
  /// An integer in [min, max].
  long long integer(std::string_view key, long long min, long long max) const;
  long long integer_or(std::string_view key, long long fallback, long long min, long long max) const;
  /// A number given plainly or as {"value": n, "source": "..."}; `source` receives the source text.
  double sourced(std::string_view key, std::string* source, double min = 0,
                 double max = std::numeric_limits<double>::max()) const;
  /// A nested object (null or absent -> nullptr).
  const nlohmann::json* object(std::string_view key) const;
  /// A nested array (absent -> nullptr).
  const nlohmann::json* array(std::string_view key) const;

private:
  double check_range(std::string_view key, const nlohmann::json& value, double min, double max) const;
  const nlohmann::json& m_object;
  std::string m_where;
};

/// Deep-merges `patch` into `target`: objects merge key by key, everything else replaces.
void merge_objects(nlohmann::json& target, const nlohmann::json& patch);

} // namespace gpuadvise::detail
