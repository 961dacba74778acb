#include "json_fields.hpp"

#include <gpuadvise/units.hpp>

#include <algorithm>
#include <functional>
#include <set>

namespace gpuadvise::detail {

namespace {

/// Tracks the keys of every open object while nlohmann parses, and refuses a key given twice
/// (nlohmann itself keeps the last one silently).
class DuplicateKeys {
public:
  explicit DuplicateKeys(std::string_view origin) : m_origin(origin) {}

  bool operator()(int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    switch (event) {
    case Event::object_start:
    case Event::array_start:
      count_element();
      m_open.push_back({event == Event::object_start, {}, {}, -1});
      break;
    case Event::object_end:
    case Event::array_end:
      if (!m_open.empty()) m_open.pop_back();
      break;
    case Event::key:
      if (!m_open.empty() && parsed.is_string()) {
        Open& top = m_open.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second) {
          const std::string path = path_to_top();
          throw CatalogError(fmt::format("{}: duplicate key '{}' {}", m_origin, top.key,
                                         path.empty() ? std::string("at the top level") : "in " + path));
        }
      }
      break;
    case Event::value: count_element(); break;
    }
    return true;
  }

private:
  struct Open {
    bool object;
    std::set<std::string> keys;
    std::string key; ///< the key being read (objects)
    long index;      ///< the element being read (arrays)
  };

  void count_element() {
    if (!m_open.empty() && !m_open.back().object) ++m_open.back().index;
  }

  /// "gpus[0].pcie": where the innermost open object sits.
  std::string path_to_top() const {
    std::string path;
    for (std::size_t i = 0; i + 1 < m_open.size(); ++i) {
      if (m_open[i].object) path += (path.empty() ? "" : ".") + m_open[i].key;
      else path += fmt::format("[{}]", m_open[i].index);
    }
    return path;
  }

  std::string m_origin;
  std::vector<Open> m_open;
};

} // namespace

bool has_control_characters(std::string_view text) {
  return printable(text) != text;
}

std::string did_you_mean(std::string_view key, const std::vector<std::string>& known) {
  // Close: one edit in a key of up to 3 letters, else two (a swap: "lanse" -> "lanes"), or a third of the letters, at most 3.
  const std::size_t limit = key.size() <= 3 ? 1 : std::min<std::size_t>(3, std::max<std::size_t>(2, key.size() / 3));
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const auto& k : known)
    if (const auto d = edit_distance(key, k); d < best_distance) {
      best_distance = d;
      best = k;
    }
  return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", printable(best));
}

std::string unknown_key_message(std::string_view key, const std::vector<std::string>& known) {
  return fmt::format("unknown key '{}'{}", printable(key), did_you_mean(key, known));
}

nlohmann::json parse_json(std::string_view text, std::string_view origin) {
  try {
    DuplicateKeys duplicates(origin);
    return nlohmann::json::parse(text.begin(), text.end(), std::ref(duplicates));
  } catch (const nlohmann::json::parse_error& e) {
    throw CatalogError(fmt::format("{}: malformed JSON at byte {}: {}", origin, e.byte,
                                   std::string(e.what()).substr(std::string(e.what()).find(':') + 2)));
  } catch (const nlohmann::json::exception& e) {
    // out_of_range 406: a number such as 1e400 that overflows a double ("[json.exception...] number overflow ...").
    const std::string what = e.what();
    const auto text = what.find("] ");
    throw CatalogError(fmt::format("{}: invalid JSON: {}", origin, text == std::string::npos ? what : what.substr(text + 2)));
  }
}

Fields::Fields(const nlohmann::json& object, std::string where) : m_object(object), m_where(std::move(where)) {
  if (!m_object.is_object()) throw CatalogError(fmt::format("{}: expected a JSON object", m_where));
}

void Fields::only(const std::vector<std::string_view>& known) const {
  for (auto it = m_object.begin(); it != m_object.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) != known.end()) continue;
    throw CatalogError(fmt::format("{}: {}", m_where,
                                   unknown_key_message(it.key(), std::vector<std::string>(known.begin(), known.end()))));
  }
}

bool Fields::has(std::string_view key) const {
  auto it = m_object.find(key);
  return it != m_object.end() && !it->is_null();
}

void Fields::fail(std::string_view key, std::string_view problem) const {
  throw CatalogError(fmt::format("{}: field '{}': {}", m_where, key, problem));
}

static std::string type_of(const nlohmann::json& value) { return value.type_name(); }

std::string Fields::string(std::string_view key) const {
  if (!has(key)) fail(key, "missing (expected a string)");
  const auto& value = m_object.at(std::string(key));
  if (!value.is_string()) fail(key, fmt::format("expected a string, got {}", type_of(value)));
  const auto& text = value.get_ref<const std::string&>();
  if (has_control_characters(text)) fail(key, fmt::format("'{}' contains control characters", printable(text)));
  return text;
}

std::vector<std::string> Fields::strings(std::string_view key) const {
  std::vector<std::string> out;
  const auto* list = array(key);
  if (!list) return out;
  for (const auto& item : *list) {
    if (!item.is_string()) fail(key, fmt::format("every entry must be a string, got {}", type_of(item)));
    const auto& text = item.get_ref<const std::string&>();
    if (has_control_characters(text)) fail(key, fmt::format("'{}' contains control characters", printable(text)));
    out.push_back(text);
  }
  return out;
}

std::string Fields::string_or(std::string_view key, std::string_view fallback) const {
  return has(key) ? string(key) : std::string(fallback);
}

bool Fields::boolean(std::string_view key) const {
  if (!has(key)) fail(key, "missing (expected true or false)");
  const auto& value = m_object.at(std::string(key));
  if (!value.is_boolean()) fail(key, fmt::format("expected true or false, got {}", type_of(value)));
  return value.get<bool>();
}

bool Fields::boolean_or(std::string_view key, bool fallback) const { return has(key) ? boolean(key) : fallback; }

double Fields::check_range(std::string_view key, const nlohmann::json& value, double min, double max) const {
  if (!value.is_number()) fail(key, fmt::format("expected a number, got {}", type_of(value)));
  const double number = value.get<double>();
  if (!std::isfinite(number)) fail(key, "must be a finite number");
  if (number < min) fail(key, fmt::format("{} is below the minimum {}", number, min));
  if (number > max) fail(key, fmt::format("{} is above the maximum {}", number, max));
  return number;
}

double Fields::number(std::string_view key, double min, double max) const {
  if (!has(key)) fail(key, "missing (expected a number)");
  return check_range(key, m_object.at(std::string(key)), min, max);
}

double Fields::number_or(std::string_view key, double fallback, double min, double max) const {
  return has(key) ? number(key, min, max) : fallback;
}

long long Fields::integer(std::string_view key, long long min, long long max) const {
  const double value = number(key, static_cast<double>(min), static_cast<double>(max));
  if (value != std::floor(value)) fail(key, fmt::format("expected a whole number, got {}", value));
  return static_cast<long long>(value);
}

long long Fields::integer_or(std::string_view key, long long fallback, long long min, long long max) const {
  return has(key) ? integer(key, min, max) : fallback;
}

double Fields::sourced(std::string_view key, std::string* source, double min, double max) const {
  if (!has(key)) fail(key, "missing (expected a number or {\"value\": n, \"source\": \"...\"})");
  const auto& value = m_object.at(std::string(key));
  if (value.is_object()) {
    Fields inner(value, fmt::format("{}: field '{}'", m_where, key));
    inner.only({"value", "source", "note"});
    if (source) *source = inner.string_or("source", "");
    return inner.number("value", min, max);
  }
  if (source) source->clear();
  return check_range(key, value, min, max);
}

const nlohmann::json* Fields::object(std::string_view key) const {
  if (!has(key)) return nullptr;
  const auto& value = m_object.at(std::string(key));
  if (!value.is_object()) fail(key, fmt::format("expected an object, got {}", type_of(value)));
  return &value;
}

const nlohmann::json* Fields::array(std::string_view key) const {
  if (!has(key)) return nullptr;
  const auto& value = m_object.at(std::string(key));
  if (!value.is_array()) fail(key, fmt::format("expected an array, got {}", type_of(value)));
  return &value;
}

void merge_objects(nlohmann::json& target, const nlohmann::json& patch) {
  if (!target.is_object() || !patch.is_object()) {
    target = patch;
    return;
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    auto existing = target.find(it.key());
    if (existing != target.end() && existing->is_object() && it->is_object()) merge_objects(*existing, *it);
    else target[it.key()] = *it;
  }
}

} // namespace gpuadvise::detail
