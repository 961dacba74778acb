#pragma once
/// Parsing and display of the quantities users type: parameter counts, token counts, byte sizes.
#include <cstdint>
#include <string>
#include <string_view>

namespace gpuadvise {

/// Largest parameter count accepted (100 T); anything above is rejected as absurd.
inline constexpr double k_max_param_count = 1e14;
/// Largest context / token count per sequence accepted (100 M tokens).
inline constexpr double k_max_tokens_per_sequence = 1e8;

/// Parses a parameter count such as "13B", "7b", "350M", "1.5T", "13e9", "6.7B" (K/M/B/T = 1e3/1e6/1e9/1e12).
/// Throws InputError naming `what` on anything else (negative, zero, junk, > k_max_param_count).
double parse_param_count(std::string_view text, std::string_view what = "model size");

/// Parses a token count such as "4096", "4k", "32K", "128k" (k = 1024, m = 1048576), returns >= 1.
/// Throws InputError naming `what` on junk, zero, negatives, fractions and values over `max_value`.
std::int64_t parse_token_count(std::string_view text, std::string_view what,
                               double max_value = k_max_tokens_per_sequence);

/// Parses a positive integer option such as a batch or GPU count; rejects 0, negatives and junk.
std::int64_t parse_positive_int(std::string_view text, std::string_view what, std::int64_t max_value);
/// A number from `min` to `max`; InputError naming `what` (a flag or a file's key) otherwise.
double parse_number(std::string_view text, std::string_view what, double min, double max);
/// A latency: "500ms", "0.5s" or "0.5" (seconds), above 0 and at most an hour; InputError naming `what`.
double parse_latency(std::string_view text, std::string_view what);

/// Parses a byte size such as "200GB", "1.5TB", "512MiB", "80 GiB" (decimal and binary units). Throws InputError.
double parse_byte_size(std::string_view text, std::string_view what);

/// Formats bytes as decimal gigabytes with one decimal, e.g. "26.0 GB".
std::string format_gb(double bytes);
/// Formats a parameter count as e.g. "13.00B", "350M", "1.50T".
std::string format_params(double params);
/// Formats seconds as a short human duration: "850 ms", "42.0 s", "12.5 min", "3.20 h", "4.1 days".
std::string format_duration(double seconds);
/// Formats US dollars: "$0.50", "$1,234", "$0.0012".
std::string format_usd(double usd);

/// Word-wraps `text` at spaces to `width` columns: `first` prefixes the first line, `rest` the others.
std::string wrap_text(const std::string& text, const std::string& first, const std::string& rest, std::size_t width = 80);
/// Rounds to 6 significant digits, so JSON and CSV numbers are stable and readable.
double round_significant(double value);

/// Lower-cases ASCII and drops every character that is not a letter or digit ("RTX-A6000" -> "rtxa6000").
std::string normalize_name(std::string_view text);
/// Text from a file made safe for a terminal, markdown or an error line: control characters (ESC, CR, LF,
/// ...), DEL, C1 controls and bytes that are not UTF-8 are shown as \x1b, \u009b and so on.
std::string printable(std::string_view text);
/// Levenshtein edit distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

} // namespace gpuadvise
