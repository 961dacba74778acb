// `gpuadvise sweep`: range parsing, the grid of points, the bisected fit limits, and every writer (table, CSV, JSON, SVG).
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/estimate.hpp>
#include <gpuadvise/model.hpp>
#include <gpuadvise/svg.hpp>
#include <gpuadvise/sweep.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

using namespace gpuadvise;

namespace {

using Values = std::vector<std::int64_t>;

/// The catalogs live as long as the test program: GPU pointers and points refer into them.
const GpuCatalog& gpus() {
  static const GpuCatalog catalog = GpuCatalog::embedded();
  return catalog;
}
const ModelCatalog& models() {
  static const ModelCatalog catalog = ModelCatalog::embedded();
  return catalog;
}
const Assumptions& assumptions() {
  static const Assumptions a = Assumptions::embedded();
  return a;
}

Workload llama3_8b() {
  WorkloadRequest request;
  request.model = "llama-3.1-8b"; // the shape of Llama-3-8B with a 128k context, so the sweep may reach 128k
  return build_workload(request, models());
}

const std::vector<std::string> k_gpu_ids = {"l40", "rtx-a6000", "h100-sxm"};

std::vector<const Gpu*> sweep_gpus() {
  std::vector<const Gpu*> out;
  for (const auto& id : k_gpu_ids) out.push_back(&gpus().find(id));
  return out;
}

/// 3 GPUs x 2 precisions x 3 batches x 7 contexts; large contexts at batch 4 do not fit on 48 GB cards.
SweepGrid small_grid() {
  SweepGrid grid;
  grid.batches = parse_count_range("1..4");
  grid.contexts = parse_token_range("2k..128k");
  grid.precisions = parse_precision_list("fp16,fp8");
  return grid;
}

const SweepResult& small_sweep() {
  static const SweepResult result = run_sweep(llama3_8b(), gpus(), sweep_gpus(), 1, assumptions(), small_grid(), "");
  return result;
}

/// Whether the memory estimate of `base` at (precision, batch, context) fits on `gpu`, computed directly.
bool fits_directly(const Gpu& gpu, Precision precision, std::int64_t batch, std::int64_t context) {
  Workload w = llama3_8b();
  w.precision = precision;
  w.batch = batch;
  w.context = context;
  w.input_tokens = context > w.output_tokens ? context - w.output_tokens : context / 2;
  return estimate_memory(w, decide_precision(w, gpu), gpu, 1, assumptions()).fits();
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

bool valid_entity_at(const std::string& text, std::size_t i) {
  for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
    if (text.compare(i, std::char_traits<char>::length(e), e) == 0) return true;
  return false;
}

/// A small XML well-formedness check: one root, balanced and nested tags, every attribute name="value"
/// with no raw '<' or stray '&' in values or text, only the five predefined entities.
bool well_formed_xml(const std::string& text, std::string& problem) {
  std::vector<std::string> stack;
  std::size_t roots = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '&') {
      if (!valid_entity_at(text, i)) return problem = "bad entity at " + std::to_string(i), false;
      ++i;
      continue;
    }
    if (text[i] != '<') {
      ++i;
      continue;
    }
    if (text.compare(i, 5, "<?xml") == 0) {
      const auto end = text.find("?>", i);
      if (end == std::string::npos) return problem = "unterminated declaration", false;
      i = end + 2;
      continue;
    }
    const bool closing = i + 1 < text.size() && text[i + 1] == '/';
    std::size_t j = i + (closing ? 2 : 1);
    const std::size_t name_start = j;
    while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '-' || text[j] == ':')) ++j;
    const std::string name = text.substr(name_start, j - name_start);
    if (name.empty()) return problem = "tag without a name at " + std::to_string(i), false;
    if (closing) {
      if (j >= text.size() || text[j] != '>') return problem = "junk in </" + name + ">", false;
      if (stack.empty() || stack.back() != name) return problem = "mismatched </" + name + ">", false;
      stack.pop_back();
      i = j + 1;
      continue;
    }
    // Attributes: name="value" pairs separated by spaces.
    bool self_closing = false;
    for (;;) {
      while (j < text.size() && text[j] == ' ') ++j;
      if (j >= text.size()) return problem = "unterminated <" + name + ">", false;
      if (text[j] == '>') break;
      if (text.compare(j, 2, "/>") == 0) {
        self_closing = true;
        ++j;
        break;
      }
      const std::size_t attr_start = j;
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '-' || text[j] == ':')) ++j;
      if (j == attr_start || j + 1 >= text.size() || text[j] != '=' || text[j + 1] != '"')
        return problem = "unquoted attribute in <" + name + ">", false;
      const auto close = text.find('"', j + 2);
      if (close == std::string::npos) return problem = "unterminated attribute in <" + name + ">", false;
      for (std::size_t k = j + 2; k < close; ++k) {
        if (text[k] == '<') return problem = "raw < in an attribute of <" + name + ">", false;
        if (text[k] == '&' && !valid_entity_at(text, k)) return problem = "bad entity in <" + name + ">", false;
      }
      j = close + 1;
      if (j < text.size() && text[j] != ' ' && text[j] != '>' && text[j] != '/')
        return problem = "attributes run together in <" + name + ">", false;
    }
    if (stack.empty()) ++roots;
    if (!self_closing) stack.push_back(name);
    i = j + 1;
  }
  if (!stack.empty()) return problem = "unclosed <" + stack.back() + ">", false;
  if (roots != 1) return problem = "expected one root element, found " + std::to_string(roots), false;
  return true;
}

/// The text between `<tag ...>` opening at `from` and its `</tag>` (no nesting of the same tag assumed).
std::string element_at(const std::string& text, std::size_t from, const std::string& tag) {
  const auto end = text.find("</" + tag + ">", from);
  return end == std::string::npos ? std::string() : text.substr(from, end - from);
}

} // namespace

TEST_CASE("sweep: token ranges double from the first value to the last, lists are sorted and distinct", "[sweep]") {
  CHECK(parse_token_range("2k..128k") == Values{2048, 4096, 8192, 16384, 32768, 65536, 131072});
  CHECK(parse_token_range("512,1k,4k") == Values{512, 1024, 4096});
  CHECK(parse_token_range("4k, 512 ,1024,1k") == Values{512, 1024, 4096});
  CHECK(parse_token_range("512,2k..8k") == Values{512, 2048, 4096, 8192});
  CHECK(parse_token_range(" 1k .. 4k ") == Values{1024, 2048, 4096});
  CHECK(parse_token_range("4096..4096") == Values{4096});
  CHECK(parse_token_range("3k..10k") == Values{3072, 6144, 10240}); // the last value is always included
  CHECK(parse_token_range("1M") == Values{1048576});
}

TEST_CASE("sweep: count ranges", "[sweep]") {
  CHECK(parse_count_range("1..64") == Values{1, 2, 4, 8, 16, 32, 64});
  CHECK(parse_count_range("1..100") == Values{1, 2, 4, 8, 16, 32, 64, 100});
  CHECK(parse_count_range("1,3,8") == Values{1, 3, 8});
  CHECK(parse_count_range("7") == Values{7});
  std::string sixty_four;
  for (int i = 1; i <= 64; ++i) sixty_four += (i > 1 ? "," : "") + std::to_string(i);
  CHECK(parse_count_range(sixty_four).size() == 64);
  CHECK_THROWS_AS(parse_count_range(sixty_four + ",65"), InputError);
}

TEST_CASE("sweep: junk, empty, reversed and oversized ranges are input errors", "[sweep]") {
  for (const char* bad : {"", " ", ",", "1,,2", "1,", "abc", "4q", "1..", "..4", "..", "4k..1k", "1...4", "1..2..4",
                          "0..4k", "-1..4k", "1.5..4k", "2k..128q", "1e3..4k", "200M"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_token_range(bad), InputError);
  }
  for (const char* bad : {"", "0", "0..4", "64..1", "1..2000000", "x", "1;2", "1 2", "2.5"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_count_range(bad), InputError);
  }
  // The message names the option and what was typed.
  try {
    parse_token_range("4k..1k", "--context");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("--context") != std::string::npos);
    CHECK(std::string(e.what()).find("4k..1k") != std::string::npos);
  }
  CHECK(parse_precision_list("fp16, fp8,fp16") == std::vector<Precision>{Precision::fp16, Precision::fp8});
  CHECK_THROWS_AS(parse_precision_list("fp16,fp7"), InputError);
  CHECK_THROWS_AS(parse_precision_list(""), InputError);
  CHECK_THROWS_AS(parse_precision_list("fp16,"), InputError);
}

TEST_CASE("sweep: one point per GPU, precision, batch and context, in that order", "[sweep]") {
  const auto& r = small_sweep();
  const auto grid = small_grid();
  REQUIRE(r.points.size() == k_gpu_ids.size() * grid.precisions.size() * grid.batches.size() * grid.contexts.size());
  REQUIRE(r.points.size() == 3 * 2 * 3 * 7);
  std::size_t i = 0;
  for (const auto& gpu : k_gpu_ids)
    for (Precision p : grid.precisions)
      for (auto b : grid.batches)
        for (auto c : grid.contexts) {
          const auto& point = r.points[i++];
          INFO(gpu << " " << to_string(p) << " " << b << " " << c);
          CHECK(point.gpu == gpu);
          CHECK(point.precision == p);
          CHECK(point.batch == b);
          CHECK(point.context == c);
          // The prompt fills the context beside the 256 output tokens.
          CHECK(point.output_tokens == 256);
          CHECK(point.input_tokens == c - 256);
        }
  // fp8 is not native on the Ampere RTX A6000; it is on the L40 (Ada) and H100 (Hopper).
  for (const auto& point : r.points) CHECK(point.native == (point.gpu != "rtx-a6000" || point.precision != Precision::fp8));
  // Both fitting and non-fitting points: 128k tokens x 4 sequences of a 128 KiB/token KV cache is 64 GiB.
  CHECK(std::any_of(r.points.begin(), r.points.end(), [](const SweepPoint& p) { return p.fits; }));
  CHECK(std::any_of(r.points.begin(), r.points.end(), [](const SweepPoint& p) { return !p.fits; }));
}

TEST_CASE("sweep: points agree with the advisor's evaluate() of the same workload", "[sweep]") {
  const auto& r = small_sweep();
  WorkloadRequest request;
  request.model = "llama-3.1-8b"; // the shape of Llama-3-8B with a 128k context, so the sweep may reach 128k
  request.precision = "fp8";
  request.batch = "2";
  request.context = "8k";
  const Workload w = build_workload(request, models());
  const Gpu& h100 = gpus().find("h100-sxm");
  const Candidate c = evaluate(w, h100, 1, assumptions(), "");
  const auto it = std::find_if(r.points.begin(), r.points.end(), [](const SweepPoint& p) {
    return p.gpu == "h100-sxm" && p.precision == Precision::fp8 && p.batch == 2 && p.context == 8192;
  });
  REQUIRE(it != r.points.end());
  CHECK(it->fits == c.memory.fits());
  CHECK(it->memory_total_bytes == Approx(c.memory.total_bytes));
  CHECK(it->decode_tokens_per_s == Approx(c.performance.decode_tokens_per_s.expected));
  REQUIRE(it->priced);
  CHECK(it->usd_per_hour == Approx(c.cost.usd_per_hour));
  CHECK(it->usd_per_million_tokens == Approx(c.cost.usd_per_million_tokens.expected));
  CHECK(it->tokens_per_s_per_usd_hour == Approx(it->decode_tokens_per_s / it->usd_per_hour));
}

TEST_CASE("sweep: fitting is monotone in context and in batch", "[sweep]") {
  const auto& r = small_sweep();
  const std::size_t contexts = small_grid().contexts.size();
  const std::size_t batches = small_grid().batches.size();
  // Within each (GPU, precision, batch) run of contexts, a fitting context means every smaller one fits.
  for (std::size_t run = 0; run < r.points.size(); run += contexts)
    for (std::size_t k = run + 1; k < run + contexts; ++k) {
      INFO(r.points[k].gpu << " batch " << r.points[k].batch << " context " << r.points[k].context);
      if (r.points[k].fits) CHECK(r.points[k - 1].fits);
    }
  // Across batches at one context: a fitting batch means every smaller batch fits.
  for (std::size_t block = 0; block < r.points.size(); block += contexts * batches)
    for (std::size_t b = 1; b < batches; ++b)
      for (std::size_t c = 0; c < contexts; ++c)
        if (r.points[block + b * contexts + c].fits) CHECK(r.points[block + (b - 1) * contexts + c].fits);
}

TEST_CASE("sweep: the bisected limits fit and one more does not", "[sweep]") {
  const auto& r = small_sweep();
  REQUIRE(r.summaries.size() == k_gpu_ids.size() * 2);
  for (const auto& s : r.summaries) {
    INFO(s.gpu << " " << to_string(s.precision));
    const Gpu& gpu = gpus().find(s.gpu);
    CHECK(s.batch == 1);
    CHECK(s.context == 2048);
    REQUIRE(s.largest_context > 0);
    REQUIRE_FALSE(s.context_at_limit);
    CHECK(fits_directly(gpu, s.precision, s.batch, s.largest_context));
    CHECK_FALSE(fits_directly(gpu, s.precision, s.batch, s.largest_context + 1));
    REQUIRE(s.largest_batch > 0);
    REQUIRE_FALSE(s.batch_at_limit);
    CHECK(fits_directly(gpu, s.precision, s.largest_batch, s.context));
    CHECK_FALSE(fits_directly(gpu, s.precision, s.largest_batch + 1, s.context));
    // And they agree with the grid points.
    for (const auto& p : r.points) {
      if (p.gpu != s.gpu || p.precision != s.precision) continue;
      if (p.batch == s.batch) CHECK(p.fits == (p.context <= s.largest_context));
      if (p.context == s.context) CHECK(p.fits == (p.batch <= s.largest_batch));
    }
  }
  // Worked out: a 16-bit KV cache of Llama-3-8B holds 32 layers x 2 x 8 KV heads x 128 x 2 bytes = 128 KiB
  // per token, so an H100 (about 72 GB usable) holds a few hundred thousand tokens beside 16 GB of weights.
  const auto& h100 = *std::find_if(r.summaries.begin(), r.summaries.end(),
                                   [](const SweepSummary& s) { return s.gpu == "h100-sxm" && s.precision == Precision::fp16; });
  CHECK(h100.largest_context > 300'000);
  CHECK(h100.largest_context < (80e9 - 16e9) / 131072.0);
}

TEST_CASE("sweep: short contexts split between prompt and output; bad sweeps are input errors", "[sweep]") {
  SweepGrid grid;
  grid.contexts = {200, 257};
  const auto r = run_sweep(llama3_8b(), gpus(), {&gpus().find("l40")}, 1, assumptions(), grid, "");
  REQUIRE(r.points.size() == 2);
  CHECK(r.points[0].input_tokens == 100);
  CHECK(r.points[0].output_tokens == 100);
  CHECK(r.points[1].input_tokens == 1);
  CHECK(r.points[1].output_tokens == 256);
  CHECK(r.grid.batches == Values{1}); // empty lists take the workload's value
  CHECK(r.grid.precisions == std::vector<Precision>{Precision::fp16});

  grid.contexts = {1};
  CHECK_THROWS_AS(run_sweep(llama3_8b(), gpus(), {}, 1, assumptions(), grid, ""), InputError);
  CHECK_THROWS_AS(run_sweep(llama3_8b(), gpus(), {}, 0, assumptions(), small_grid(), ""), InputError);
  CHECK_THROWS_AS(run_sweep(llama3_8b(), gpus(), {}, 1, assumptions(), small_grid(), "nosuchcloud"), InputError);
}

TEST_CASE("sweep: the table is aligned, labelled with units, and summarises each GPU", "[sweep]") {
  std::ostringstream out;
  write_sweep_table(out, small_sweep());
  const std::string text = out.str();
  std::istringstream lines(text);
  std::size_t rows = 0;
  std::size_t header_width = 0;
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK(line.size() <= 80);
    if (line.rfind("GPU ", 0) == 0) header_width = line.size();
    for (const auto& id : k_gpu_ids)
      if (line.rfind(id + " ", 0) == 0 && line.find("largest") == std::string::npos) {
        ++rows;
        CHECK(line.size() == header_width); // right-aligned last column ends under its header
      }
  }
  CHECK(rows == small_sweep().points.size());
  for (const char* column : {"prec", "batch", "context", "fits", "mem GB", "tok/s", "$/M tok", "128k"})
    CHECK(text.find(column) != std::string::npos);
  CHECK(count_of(text, "largest context that fits at batch 1: ") == small_sweep().summaries.size());
  CHECK(count_of(text, "largest batch at context 2048: ") == small_sweep().summaries.size());
  CHECK(text.find("rtx-a6000 fp8 (estimated as int8)") != std::string::npos);
}

TEST_CASE("sweep: CSV has a header and one row per point with the same fields", "[sweep]") {
  std::ostringstream out;
  write_sweep_csv(out, small_sweep());
  std::istringstream lines(out.str());
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(line);
  REQUIRE(rows.size() == small_sweep().points.size() + 1);
  CHECK(rows[0].rfind("gpu,count,precision,", 0) == 0);
  const auto fields = [](const std::string& row) { return std::count(row.begin(), row.end(), ',') + 1; };
  for (const auto& row : rows) CHECK(fields(row) == fields(rows[0]));
  // Plain numbers: no units or currency signs in cells.
  for (std::size_t i = 1; i < rows.size(); ++i) {
    CHECK(rows[i].find('$') == std::string::npos);
    CHECK(rows[i].find("GB") == std::string::npos);
  }
  CHECK(rows[1].rfind("l40,1,fp16,fp16,true,1,2048,1792,256,true,", 0) == 0);
}

TEST_CASE("sweep: JSON holds the grid, every point and the summaries", "[sweep]") {
  const auto& r = small_sweep();
  const auto doc = nlohmann::json::parse(sweep_json(r).dump());
  CHECK(doc.at("schema_version") == 1);
  CHECK(doc.at("grid").at("contexts").size() == 7);
  CHECK(doc.at("grid").at("precisions") == nlohmann::json::array({"fp16", "fp8"}));
  REQUIRE(doc.at("points").size() == r.points.size());
  const auto& first = doc.at("points").at(0);
  CHECK(first.at("gpu") == "l40");
  CHECK(first.at("context") == 2048);
  CHECK(first.at("fits") == true);
  CHECK(first.at("memory_total_bytes").is_number_integer());
  REQUIRE(doc.at("summary").size() == r.summaries.size());
  CHECK(doc.at("summary").at(0).at("largest_context") == r.summaries[0].largest_context);
}

TEST_CASE("sweep: SVG plot of a sweep is well-formed, with one named series per GPU, axes and legend", "[sweep]") {
  const auto spec = sweep_plot(small_sweep(), SweepMetric::tokens_per_s_per_usd_hour, SweepAxis::context);
  std::ostringstream out;
  write_svg_line_plot(out, spec);
  const std::string svg = out.str();
  std::string problem;
  CHECK(well_formed_xml(svg, problem));
  INFO(problem);
  CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(svg.find("viewBox=\"0 0 ") != std::string::npos);
  // Two precisions in the grid: one series per GPU and precision, each group named after its GPU.
  REQUIRE(spec.series.size() == 6);
  for (const auto& id : k_gpu_ids)
    for (const char* p : {"fp16", "fp8"}) {
      const std::string name = id + " " + p;
      INFO(name);
      const std::string group = "<g class=\"series\" id=\"series-" + id + "_" + p + "\"";
      REQUIRE(count_of(svg, group) == 1);
      const std::string body = element_at(svg, svg.find(group), "g");
      CHECK(body.find("<title>" + name + "</title>") != std::string::npos);
      CHECK(count_of(body, "<polyline") >= 1);
      CHECK(count_of(svg, ">" + name + "</text>") == 1); // the legend entry
    }
  CHECK(svg.find(">" + spec.x_label + "</text>") != std::string::npos);
  CHECK(svg.find(">decode tokens/s per $/hr</text>") != std::string::npos);
  for (const char* tick : {">2k</text>", ">8k</text>", ">128k</text>"}) CHECK(svg.find(tick) != std::string::npos);

  // With one precision the series are the bare GPU ids.
  SweepGrid grid = small_grid();
  grid.precisions = {Precision::fp16};
  const auto single = run_sweep(llama3_8b(), gpus(), sweep_gpus(), 1, assumptions(), grid, "");
  const auto memory = sweep_plot(single, SweepMetric::memory_gb, SweepAxis::batch, 2048);
  REQUIRE(memory.series.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(memory.series[i].name == k_gpu_ids[i]);
  CHECK(memory.series[0].points.size() == 3);
  CHECK_THROWS_AS(sweep_plot(single, SweepMetric::memory_gb, SweepAxis::batch, 3000), InputError);
}

TEST_CASE("sweep: missing points break the line, and names are escaped", "[sweep]") {
  const double gap = std::numeric_limits<double>::quiet_NaN();
  PlotSpec spec;
  spec.title = "R&D <plot> \"quoted\" 'single'";
  spec.x_label = "context & more";
  spec.y_label = "y < 1";
  spec.log_x = true;
  spec.series.push_back({"a<b & \"c\"", {{1024, 1}, {2048, 2}, {4096, gap}, {8192, 3}, {16384, 4}}});
  spec.series.push_back({"plain", {{1024, gap}, {2048, 5}}});
  spec.series.push_back({"nothing", {{1024, gap}}});
  std::ostringstream out;
  write_svg_line_plot(out, spec);
  const std::string svg = out.str();
  std::string problem;
  CHECK(well_formed_xml(svg, problem));
  INFO(problem);
  CHECK(svg.find("a&lt;b &amp; &quot;c&quot;") != std::string::npos);
  CHECK(svg.find("R&amp;D &lt;plot&gt;") != std::string::npos);
  CHECK(svg.find("a<b") == std::string::npos);
  const auto first = svg.find("<g class=\"series\" id=\"series-a_b____c_\"");
  REQUIRE(first != std::string::npos);
  CHECK(count_of(element_at(svg, first, "g"), "<polyline") == 2); // 1k-2k, then 8k-16k
  const auto second = svg.find("<g class=\"series\" id=\"series-plain\"");
  REQUIRE(second != std::string::npos);
  CHECK(count_of(element_at(svg, second, "g"), "<polyline") == 1);
  const auto third = svg.find("<g class=\"series\" id=\"series-nothing\"");
  REQUIRE(third != std::string::npos);
  CHECK(count_of(element_at(svg, third, "g"), "<polyline") == 0);

  // Nothing drawable at all still gives a valid document.
  PlotSpec empty;
  empty.series.push_back({"x", {{1, gap}}});
  std::ostringstream none;
  write_svg_line_plot(none, empty);
  CHECK(well_formed_xml(none.str(), problem));
  CHECK(format_token_count(131072) == "128k");
  CHECK(format_token_count(1048576) == "1M");
  CHECK(format_token_count(1536) == "1536");
  CHECK(xml_escape(std::string("a\x01z")) == "az");
}
