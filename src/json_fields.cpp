#include "json_fields.hpp"

namespace gpuadvise::detail {

nlohmann::json parse_json(std::string_view text, std::string_view origin) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
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
  return value.get<std::string>();
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
