#include <gpuadvise/error.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace gpuadvise {
namespace {

std::string trimmed(std::string_view text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

/// Splits "6.7B" into the number 6.7 and the suffix "B"; nullopt-like false when the number is malformed.
bool split_number(const std::string& text, double& number, std::string& suffix) {
  if (text.empty()) return false;
  // Only digits, one dot, and an exponent are allowed before the suffix; no sign, no hex, no "inf".
  std::size_t i = 0;
  bool digits = false;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) { ++i; digits = true; }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) { ++i; digits = true; }
  }
  if (!digits) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    std::size_t exp_digits = j;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j > exp_digits) i = j; // a real exponent; otherwise "e" is junk and stays in the suffix
  }
  number = std::strtod(text.substr(0, i).c_str(), nullptr);
  suffix = text.substr(i);
  return std::isfinite(number);
}

} // namespace

double parse_param_count(std::string_view raw, std::string_view what) {
  const std::string text = trimmed(raw);
  double number = 0;
  std::string suffix;
  if (!split_number(text, number, suffix))
    throw InputError(fmt::format("invalid {} '{}': expected a parameter count such as 7B, 350M, 1.5T or 13e9",
                                 what, raw));
  std::string unit;
  for (char c : suffix) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double scale = 0;
  if (unit.empty()) scale = 1;
  else if (unit == "k") scale = 1e3;
  else if (unit == "m") scale = 1e6;
  else if (unit == "b" || unit == "g") scale = 1e9;
  else if (unit == "t") scale = 1e12;
  else
    throw InputError(fmt::format("invalid {} '{}': unknown unit '{}' (use K, M, B or T)", what, raw, suffix));
  const double value = number * scale;
  if (!(value >= 1e6))
    throw InputError(fmt::format("invalid {} '{}': must be at least 1M parameters", what, raw));
  if (value > k_max_param_count)
    throw InputError(fmt::format("invalid {} '{}': {} parameters is absurd (limit is 100T)", what, raw,
                                 format_params(value)));
  return value;
}

std::int64_t parse_token_count(std::string_view raw, std::string_view what, double max_value) {
  const std::string text = trimmed(raw);
  double number = 0;
  std::string suffix;
  if (!split_number(text, number, suffix) || text.find_first_of("eE") != std::string::npos)
    throw InputError(fmt::format("invalid {} '{}': expected a token count such as 4096, 4k or 128k", what, raw));
  double scale = 0;
  if (suffix.empty()) scale = 1;
  else if (suffix == "k" || suffix == "K") scale = 1024;
  else if (suffix == "m" || suffix == "M") scale = 1024.0 * 1024.0;
  else
    throw InputError(fmt::format("invalid {} '{}': unknown unit '{}' (use k or M, e.g. 32k)", what, raw, suffix));
  const double value = number * scale;
  if (value != std::floor(value))
    throw InputError(fmt::format("invalid {} '{}': must be a whole number of tokens", what, raw));
  if (value < 1) throw InputError(fmt::format("invalid {} '{}': must be at least 1", what, raw));
  if (value > max_value)
    throw InputError(fmt::format("invalid {} '{}': {:.0f} tokens is more than the limit of {:.0f}", what, raw,
                                 value, max_value));
  return static_cast<std::int64_t>(value);
}

std::int64_t parse_positive_int(std::string_view raw, std::string_view what, std::int64_t max_value) {
  const std::string text = trimmed(raw);
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    throw InputError(fmt::format("invalid {} '{}': expected a positive whole number", what, raw));
  // Past 18 significant digits stoll would overflow; leading zeros do not count.
  const auto significant = text.find_first_not_of('0');
  if ((significant != std::string::npos && text.size() - significant > 18) || std::stoll(text) > max_value)
    throw InputError(fmt::format("invalid {} '{}': must be at most {}", what, raw, max_value));
  const auto value = std::stoll(text);
  if (value < 1) throw InputError(fmt::format("invalid {} '{}': must be at least 1", what, raw));
  return value;
}

double parse_byte_size(std::string_view raw, std::string_view what) {
  const std::string text = trimmed(raw);
  double number = 0;
  std::string suffix;
  if (!split_number(text, number, suffix))
    throw InputError(fmt::format("invalid {} '{}': expected a size such as 200GB, 1.5TB or 512MiB", what, raw));
  std::string unit;
  for (char c : suffix)
    if (c != ' ') unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::pair<const char*, double> units[] = {
      {"b", 1}, {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12}, {"pb", 1e15},
      {"kib", 1024.0}, {"mib", 1048576.0}, {"gib", 1073741824.0}, {"tib", 1099511627776.0}};
  for (const auto& [name, scale] : units)
    if (unit == name) {
      const double value = number * scale;
      if (!(value >= 1) || !std::isfinite(value))
        throw InputError(fmt::format("invalid {} '{}': must be at least 1 byte", what, raw));
      return value;
    }
  throw InputError(fmt::format("invalid {} '{}': unknown unit '{}' (use B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB)", what,
                               raw, suffix));
}

std::string format_gb(double bytes) { return fmt::format("{:.1f} GB", bytes / 1e9); }

std::string format_params(double params) {
  if (params >= 1e12) return fmt::format("{:.2f}T", params / 1e12);
  if (params >= 1e9) return fmt::format("{:.2f}B", params / 1e9);
  if (params >= 1e6) return fmt::format("{:.0f}M", params / 1e6);
  return fmt::format("{:.0f}", params);
}

std::string format_duration(double seconds) {
  if (seconds < 1) return fmt::format("{:.0f} ms", seconds * 1e3);
  if (seconds < 120) return fmt::format("{:.1f} s", seconds);
  if (seconds < 3600) return fmt::format("{:.1f} min", seconds / 60);
  if (seconds < 3 * 86400) return fmt::format("{:.2f} h", seconds / 3600);
  return fmt::format("{:.1f} days", seconds / 86400);
}

std::string format_usd(double usd) {
  if (usd < 0.01) return fmt::format("${:.4f}", usd);
  if (usd < 100) return fmt::format("${:.2f}", usd);
  // Thousands separators for large amounts.
  std::string digits = fmt::format("{:.0f}", usd);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return "$" + out;
}

std::string wrap_text(const std::string& text, const std::string& first, const std::string& rest, std::size_t width) {
  std::string out;
  std::string line = first;
  bool line_has_words = false;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (line_has_words && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line = rest;
      line_has_words = false;
    }
    line += (line_has_words ? " " : "") + word;
    line_has_words = true;
    start = end + 1;
  }
  return out + line + "\n";
}

double round_significant(double value) {
  if (value == 0 || !std::isfinite(value)) return value;
  // Scale by an exact power of ten in the direction that keeps it exact: 27245599999.999996 must come out
  // as 27245600000, not as a product with the inexact 1e-5.
  const int exponent = 5 - static_cast<int>(std::floor(std::log10(std::abs(value))));
  if (exponent >= 0) {
    const double scale = std::pow(10.0, exponent);
    return std::round(value * scale) / scale;
  }
  const double scale = std::pow(10.0, -exponent);
  return std::round(value / scale) * scale;
}

std::string normalize_name(std::string_view text) {
  std::string out;
  for (char c : text)
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length from the lead byte, then continuation bytes 10xxxxxx.
    const std::size_t length = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    if (!valid) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    // C1 controls U+0080..U+009F (CSI is U+009B) are as dangerous as ESC on some terminals.
    if (c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(text[i + 1]));
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

double parse_number(std::string_view text, std::string_view what, double min, double max) {
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || *end != '\0' || !(value >= min) || value > max)
    throw InputError(fmt::format("invalid {} '{}': expected a number from {:g} to {:g}", what, printable(text), min, max));
  return value;
}

double parse_latency(std::string_view text, std::string_view what) {
  std::string number(text);
  double scale = 1;
  if (number.size() > 2 && number.substr(number.size() - 2) == "ms") number.resize(number.size() - 2), scale = 1e-3;
  else if (number.size() > 1 && number.back() == 's') number.pop_back();
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (number.empty() || *end != '\0' || !(value > 0) || value * scale > 3600)
    throw InputError(fmt::format("invalid {} '{}': expected a time such as 500ms or 2s", what, printable(text)));
  return value * scale;
}

} // namespace gpuadvise
