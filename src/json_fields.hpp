#pragma once
// Internal: the strict reading layer for every input file. JSON is parsed with duplicate keys refused,
// every object is read through Fields (types, ranges, and only the keys its reader knows), and every
// "unknown key" message offers the closest known key. check.cpp uses closest_key for YAML as well.
#include <gpuadvise/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise::detail {

/// Parses JSON text; a syntax error or a key given twice in one object becomes a CatalogError naming the file
/// (and the byte offset, or the key's path).
nlohmann::json parse_json(std::string_view text, std::string_view origin);

/// Whether text holds a control character (C0, DEL or C1): such a name could drive the terminal it is printed on.
bool has_control_characters(std::string_view text);

/// " (did you mean 'memory_gb'?)" for the known key closest to `key`, or "" when none is close.
std::string did_you_mean(std::string_view key, const std::vector<std::string>& known);

/// "unknown key 'memory_gbb' (did you mean 'memory_gb'?)": the one wording of an unknown key in any file.
std::string unknown_key_message(std::string_view key, const std::vector<std::string>& known);

/// A JSON object being read, with a description of where it is ("gpus.json: gpus[3] (id 'l40')").
class Fields {
public:
  Fields(const nlohmann::json& object, std::string where);

  const nlohmann::json& json() const { return m_object; }
  const std::string& where() const { return m_where; }
  bool has(std::string_view key) const;

  /// Refuses any key of the object that is not in `known`, naming the closest known key.
  void only(const std::vector<std::string_view>& known) const;

  /// [[noreturn]] error about one field.
  [[noreturn]] void fail(std::string_view key, std::string_view problem) const;

  /// A string without control characters (names and notes are printed on terminals).
  std::string string(std::string_view key) const;
  /// An array of such strings (absent -> empty).
  std::vector<std::string> strings(std::string_view key) const;
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
