// Unit tests for include/gpuadvise/units.hpp: parsing of sizes and counts, name matching, formatting.
#include <gpuadvise/error.hpp>
#include <gpuadvise/units.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

using namespace gpuadvise;

namespace {

/// Checks that `call` throws InputError and that the message quotes the bad text as the user typed it.
template <typename Call>
void require_input_error_naming(const std::string& text, Call&& call) {
  INFO("input: '" << text << "'");
  try {
    call();
    FAIL("expected gpuadvise::InputError for '" << text << "'");
  } catch (const InputError& e) {
    const std::string message = e.what();
    INFO("message: " << message);
    CHECK(message.find("'" + text + "'") != std::string::npos);
  }
}

} // namespace

TEST_CASE("parse_param_count accepts sizes with K/M/B/T suffixes", "[units]") {
  CHECK(parse_param_count("13B") == Approx(13 * 1e9));
  CHECK(parse_param_count("7b") == Approx(7 * 1e9));
  CHECK(parse_param_count("350M") == Approx(350 * 1e6));
  CHECK(parse_param_count("350m") == Approx(350 * 1e6));
  CHECK(parse_param_count("1.5T") == Approx(1.5 * 1e12));
  CHECK(parse_param_count("6.7B") == Approx(6.7 * 1e9));
  CHECK(parse_param_count("2000K") == Approx(2000 * 1e3));
}

TEST_CASE("parse_param_count accepts plain and exponent numbers", "[units]") {
  CHECK(parse_param_count("13e9") == Approx(13e9));
  CHECK(parse_param_count("13E9") == Approx(13e9));
  CHECK(parse_param_count("7000000000") == Approx(7e9));
  CHECK(parse_param_count("1.5e12") == Approx(1.5e12));
  // An exponent and a unit together: 1.3e1 x 1e9.
  CHECK(parse_param_count("1.3e1B") == Approx(1.3e1 * 1e9));
}

TEST_CASE("parse_param_count trims surrounding whitespace", "[units]") {
  CHECK(parse_param_count(" 13B ") == Approx(13 * 1e9));
  CHECK(parse_param_count("\t7b\n") == Approx(7 * 1e9));
}

TEST_CASE("parse_param_count accepts the boundaries 1M and 100T", "[units]") {
  CHECK(parse_param_count("1M") == Approx(1e6));
  CHECK(parse_param_count("100T") == Approx(k_max_param_count));
}

TEST_CASE("parse_param_count rejects junk, signs, zero, out-of-range and unknown units", "[units]") {
  for (const std::string bad : {"", "   ", "abc", "-7B", "+7B", "0", "0B", "13X", "1e400", "nan", "NaN", "inf",
                                "infinity", "7BB", "500K", "999999", "200T", "101T", "1e15", "0x10", "B", ".",
                                "1.2.3B", "7 B B", "13e", "13eB"}) {
    require_input_error_naming(bad, [&] { parse_param_count(bad); });
  }
}

TEST_CASE("parse_param_count names `what` in its error", "[units]") {
  try {
    parse_param_count("13X", "draft model size");
    FAIL("expected InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("draft model size") != std::string::npos);
  }
}

TEST_CASE("parse_token_count accepts plain counts and binary k/M suffixes", "[units]") {
  CHECK(parse_token_count("4096", "--context") == 4096);
  CHECK(parse_token_count("4k", "--context") == 4 * 1024);
  CHECK(parse_token_count("32K", "--context") == 32 * 1024);
  CHECK(parse_token_count("128k", "--context") == 128 * 1024);
  CHECK(parse_token_count("1M", "--context") == 1024 * 1024);
  CHECK(parse_token_count("1", "--context") == 1);
  CHECK(parse_token_count(" 8k ", "--context") == 8 * 1024);
  // A fraction with a suffix is fine when the product is whole: 0.5 x 1024.
  CHECK(parse_token_count("0.5k", "--context") == 512);
}

TEST_CASE("parse_token_count honours its limit", "[units]") {
  const auto limit = static_cast<std::int64_t>(k_max_tokens_per_sequence);
  CHECK(parse_token_count(std::to_string(limit), "--context") == limit);
  CHECK(parse_token_count("2048", "--tokens", 2048) == 2048);
  require_input_error_naming(std::to_string(limit + 1), [&] { parse_token_count(std::to_string(limit + 1), "--context"); });
  // 200M = 200 x 1048576 tokens, above the 1e8 default limit.
  require_input_error_naming("200M", [] { parse_token_count("200M", "--context"); });
  require_input_error_naming("2049", [] { parse_token_count("2049", "--tokens", 2048); });
  require_input_error_naming("3k", [] { parse_token_count("3k", "--tokens", 2048); });
}

TEST_CASE("parse_token_count rejects zero, negatives, fractions, exponents and junk", "[units]") {
  for (const std::string bad : {"0", "0k", "-1", "-4k", "+5", "4.5", "0.3k", "4q", "4kk", "1e3", "1E3", "4e", "", " ",
                                "abc", "k", "nan", "inf", "4 k"}) {
    require_input_error_naming(bad, [&] { parse_token_count(bad, "--context"); });
  }
}

TEST_CASE("parse_token_count names `what` in its error", "[units]") {
  try {
    parse_token_count("4q", "--output-tokens");
    FAIL("expected InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("--output-tokens") != std::string::npos);
  }
}

TEST_CASE("parse_positive_int accepts positive whole numbers up to the maximum", "[units]") {
  CHECK(parse_positive_int("1", "--batch", 100) == 1);
  CHECK(parse_positive_int("42", "--batch", 100) == 42);
  CHECK(parse_positive_int(" 8 ", "--count", 100) == 8);
  CHECK(parse_positive_int("100", "--batch", 100) == 100);
  CHECK(parse_positive_int("007", "--batch", 100) == 7);
}

TEST_CASE("parse_positive_int rejects zero, negatives, fractions, junk and values over the maximum", "[units]") {
  for (const std::string bad : {"0", "-1", "+1", "1.5", "1e2", "abc", "", " ", "4k", "101", "9999999999999",
                                "99999999999999999999999"}) {
    require_input_error_naming(bad, [&] { parse_positive_int(bad, "--batch", 100); });
  }
  try {
    parse_positive_int("0", "--count", 100);
    FAIL("expected InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("--count") != std::string::npos);
  }
}

TEST_CASE("normalize_name lower-cases and drops punctuation", "[units]") {
  CHECK(normalize_name("RTX-A6000") == "rtxa6000");
  CHECK(normalize_name("H100 SXM") == "h100sxm");
  CHECK(normalize_name("h100_sxm5") == "h100sxm5");
  CHECK(normalize_name("NVIDIA L40") == "nvidial40");
  CHECK(normalize_name("") == "");
  CHECK(normalize_name("-_ .") == "");
  CHECK(normalize_name("llama-3.1-8b") == "llama318b");
}

TEST_CASE("edit_distance is the Levenshtein distance", "[units]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "abc") == 0);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3); // k->s, e->i, +g
  CHECK(edit_distance("flaw", "lawn") == 2);      // -f, +n
  CHECK(edit_distance("h900", "h100") == 1);
  CHECK(edit_distance("l40", "l40s") == 1);
  CHECK(edit_distance("a6000", "rtxa6000") == 3);
  CHECK(edit_distance("abcdef", "azced") == edit_distance("azced", "abcdef"));
}

TEST_CASE("format_gb prints decimal gigabytes with one decimal", "[units]") {
  CHECK(format_gb(26e9) == "26.0 GB");
  CHECK(format_gb(48e9) == "48.0 GB");
  CHECK(format_gb(1.25e9 + 0.01e9) == "1.3 GB");
  CHECK(format_gb(0) == "0.0 GB");
}

TEST_CASE("format_params prints a short parameter count", "[units]") {
  const std::string b13 = format_params(13e9);
  CHECK(b13.rfind("13.0", 0) == 0);
  CHECK(b13.back() == 'B');
  CHECK(format_params(350e6) == "350M");
  const std::string t15 = format_params(1.5e12);
  CHECK(t15.rfind("1.5", 0) == 0);
  CHECK(t15.back() == 'T');
}

TEST_CASE("format_duration picks a readable unit", "[units]") {
  CHECK(format_duration(0.85) == "850 ms");
  const std::string s42 = format_duration(42);
  CHECK(s42.rfind("42", 0) == 0);
  CHECK(s42.substr(s42.size() - 2) == " s");
  const std::string h = format_duration(3.2 * 3600);
  CHECK(h.rfind("3.2", 0) == 0);
  CHECK(h.substr(h.size() - 2) == " h");
  const std::string min = format_duration(10 * 60);
  CHECK(min.rfind("10", 0) == 0);
  CHECK(min.find("min") != std::string::npos);
  CHECK(format_duration(10 * 86400).find("days") != std::string::npos);
}

TEST_CASE("format_usd prints dollars with sensible precision and thousands separators", "[units]") {
  CHECK(format_usd(0.5) == "$0.50");
  CHECK(format_usd(1234) == "$1,234");
  CHECK(format_usd(1234567) == "$1,234,567");
  CHECK(format_usd(0.0012) == "$0.0012");
  CHECK(format_usd(12.5) == "$12.50");
  CHECK(format_usd(100) == "$100");
  CHECK(format_usd(999) == "$999");
}

TEST_CASE("round_significant: six significant digits with no float noise", "[units]") {
  // Large values are divided by an exact power of ten, so whole numbers stay whole in the JSON.
  CHECK(round_significant(27245599999.999996) == 27245600000.0);
  CHECK(round_significant(13015899999.999998) == 13015900000.0);
  CHECK(round_significant(12999999999.999998) == 13000000000.0);
  CHECK(round_significant(0.020396543) == 0.0203965);
  CHECK(round_significant(-1234567.0) == -1234570.0);
  CHECK(round_significant(0.0) == 0.0);
}
