#include <gpuadvise/svg.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <set>

namespace gpuadvise {
namespace {

// Canvas and plot area, in SVG user units (px). The legend sits right of the plot.
constexpr double k_width = 800;
constexpr double k_height = 500;
constexpr double k_left = 80;
constexpr double k_top = 50;
constexpr double k_right = k_width - 190;
constexpr double k_bottom = k_height - 60;
constexpr std::size_t k_max_ticks = 12;

/// Tableau 10: distinguishable colours, also in grey-scale print.
constexpr const char* k_colors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

/// A step of 1, 2 or 5 x 10^k near `raw`, for round tick values.
double nice_step(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / magnitude;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
}

/// A linear tick label with as many decimals as the step needs.
std::string linear_label(double value, double step) {
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  if (std::abs(value) < step * 1e-6) value = 0; // no "-0"
  return fmt::format("{:.{}f}", value, decimals);
}

/// Ticks for a linear axis over [lo, hi], widened to round values; returns the widened range too.
std::vector<double> linear_ticks(double& lo, double& hi) {
  const double step = nice_step((hi - lo) / 5);
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  if (hi <= lo) hi = lo + step;
  std::vector<double> ticks;
  for (double v = lo; v <= hi + step * 1e-6 && ticks.size() < 50; v += step) ticks.push_back(v);
  return ticks;
}

bool usable(const PlotPoint& p, bool log_x) {
  return std::isfinite(p.x) && std::isfinite(p.y) && (!log_x || p.x > 0);
}

/// An id made of XML name characters, prefixed so it never starts with a digit.
std::string series_id(std::string_view name) {
  std::string id = "series-";
  for (char c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.';
    id += keep ? c : '_';
  }
  return id;
}

} // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&apos;"; break;
    default:
      if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') out += c;
      break;
    }
  }
  return out;
}

std::string format_token_count(std::int64_t tokens) {
  constexpr std::int64_t k = 1024;
  if (tokens != 0 && tokens % (k * k) == 0) return fmt::format("{}M", tokens / (k * k));
  if (tokens != 0 && tokens % k == 0) return fmt::format("{}k", tokens / k);
  return std::to_string(tokens);
}

void write_svg_line_plot(std::ostream& out, const PlotSpec& spec) {
  // x spans every point, missing ones included (so plots of one sweep share an axis and show where
  // lines end); y spans the points that can be drawn.
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  bool empty = true;
  for (const auto& s : spec.series)
    for (const auto& p : s.points) {
      if (std::isfinite(p.x) && (!spec.log_x || p.x > 0)) {
        x_lo = std::min(x_lo, p.x);
        x_hi = std::max(x_hi, p.x);
      }
      if (usable(p, spec.log_x)) {
        empty = false;
        y_lo = std::min(y_lo, p.y);
        y_hi = std::max(y_hi, p.y);
      }
    }
  if (!std::isfinite(x_lo)) {
    x_lo = spec.log_x ? 1 : 0;
    x_hi = spec.log_x ? 2 : 1;
  }
  if (empty) {
    y_lo = 0;
    y_hi = 1;
  }
  y_lo = std::min(y_lo, 0.0); // throughput and memory read best from zero
  if (y_hi <= y_lo) y_hi = y_lo + 1;

  // x axis: log2 positions between whole powers of two, or linear with round ticks.
  std::vector<double> x_ticks;
  std::vector<std::string> x_labels;
  double x_min = 0, x_max = 0;
  if (spec.log_x) {
    int lo = static_cast<int>(std::floor(std::log2(x_lo) + 1e-9));
    int hi = static_cast<int>(std::ceil(std::log2(x_hi) - 1e-9));
    if (hi <= lo) --lo, ++hi;
    x_min = lo;
    x_max = hi;
    const int stride = static_cast<int>((static_cast<std::size_t>(hi - lo) + k_max_ticks) / k_max_ticks);
    for (int e = lo; e <= hi; e += stride) {
      const double v = std::ldexp(1.0, e);
      x_ticks.push_back(e);
      x_labels.push_back(v >= 1 && v < 9e18 ? format_token_count(static_cast<std::int64_t>(v)) : fmt::format("{:g}", v));
    }
  } else {
    if (x_hi <= x_lo) x_lo -= 1, x_hi += 1;
    const double step = nice_step((x_hi - x_lo) / 5);
    for (double v : linear_ticks(x_lo, x_hi)) {
      x_ticks.push_back(v);
      x_labels.push_back(linear_label(v, step));
    }
    x_min = x_lo;
    x_max = x_hi;
  }
  const double y_step = nice_step((y_hi - y_lo) / 5);
  const std::vector<double> y_ticks = linear_ticks(y_lo, y_hi);

  auto px = [&](double x) {
    const double v = spec.log_x ? std::log2(x) : x;
    return k_left + (v - x_min) / (x_max - x_min) * (k_right - k_left);
  };
  auto tick_px = [&](double t) { return k_left + (t - x_min) / (x_max - x_min) * (k_right - k_left); };
  auto py = [&](double y) { return k_bottom - (y - y_lo) / (y_hi - y_lo) * (k_bottom - k_top); };

  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0:.0f}\" height=\"{1:.0f}\" "
                     "viewBox=\"0 0 {0:.0f} {1:.0f}\" font-family=\"sans-serif\" font-size=\"12\">\n",
                     k_width, k_height);
  out << "<title>" << xml_escape(spec.title) << "</title>\n";
  out << fmt::format("<rect x=\"0\" y=\"0\" width=\"{:.0f}\" height=\"{:.0f}\" fill=\"white\"/>\n", k_width, k_height);
  out << fmt::format("<text class=\"title\" x=\"{:.1f}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">{}</text>\n",
                     (k_left + k_right) / 2, xml_escape(spec.title));

  // Grid, ticks and tick labels, then the axes over them.
  out << "<g class=\"ticks\" font-size=\"11\">\n";
  for (std::size_t i = 0; i < x_ticks.size(); ++i) {
    const double x = tick_px(x_ticks[i]);
    out << fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#ddd\"/>\n", x, k_top, k_bottom);
    out << fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#444\"/>\n", x, k_bottom,
                       k_bottom + 5);
    out << fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x, k_bottom + 18,
                       xml_escape(x_labels[i]));
  }
  for (double t : y_ticks) {
    const double y = py(t);
    out << fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>\n", k_left, y, k_right);
    out << fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#444\"/>\n", k_left - 5, y,
                       k_left);
    out << fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", k_left - 8, y + 4,
                       xml_escape(linear_label(t, y_step)));
  }
  out << "</g>\n<g class=\"axes\" stroke=\"#444\" stroke-width=\"1\">\n";
  out << fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\"/>\n", k_left, k_bottom, k_right);
  out << fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>\n", k_left, k_bottom, k_top);
  out << "</g>\n";

  // Axis labels.
  out << fmt::format("<text class=\"x-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                     (k_left + k_right) / 2, k_height - 18, xml_escape(spec.x_label));
  out << fmt::format("<text class=\"y-label\" x=\"0\" y=\"0\" text-anchor=\"middle\" "
                     "transform=\"translate(20 {:.1f}) rotate(-90)\">{}</text>\n",
                     (k_top + k_bottom) / 2, xml_escape(spec.y_label));
  if (empty)
    out << fmt::format("<text class=\"no-data\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#888\">no points "
                       "to plot</text>\n",
                       (k_left + k_right) / 2, (k_top + k_bottom) / 2);

  // Series: one group each; a missing point ends one polyline and the next point starts another.
  std::set<std::string> ids;
  for (std::size_t i = 0; i < spec.series.size(); ++i) {
    const auto& s = spec.series[i];
    const char* color = k_colors[i % std::size(k_colors)];
    std::string id = series_id(s.name);
    for (int n = 2; !ids.insert(id).second; ++n) id = fmt::format("{}-{}", series_id(s.name), n);
    out << fmt::format("<g class=\"series\" id=\"{}\" stroke=\"{}\" fill=\"{}\">\n<title>{}</title>\n", id, color, color,
                       xml_escape(s.name));
    std::string run;
    auto flush = [&] {
      if (!run.empty())
        out << fmt::format("<polyline class=\"line\" fill=\"none\" stroke-width=\"2\" points=\"{}\"/>\n", run);
      run.clear();
    };
    for (const auto& p : s.points) {
      if (!usable(p, spec.log_x)) {
        flush();
        continue;
      }
      run += fmt::format("{}{:.1f},{:.1f}", run.empty() ? "" : " ", px(p.x), py(p.y));
    }
    flush();
    for (const auto& p : s.points)
      if (usable(p, spec.log_x))
        out << fmt::format("<circle class=\"marker\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" stroke=\"none\"/>\n", px(p.x), py(p.y));
    out << "</g>\n";
  }

  // Legend: one swatch and name per series, in series order.
  out << "<g class=\"legend\">\n";
  for (std::size_t i = 0; i < spec.series.size(); ++i) {
    const double y = k_top + 10 + 20 * static_cast<double>(i);
    const char* color = k_colors[i % std::size(k_colors)];
    out << fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"{3}\" stroke-width=\"3\"/>\n",
                       k_right + 20, y, k_right + 44, color);
    out << fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", k_right + 50, y + 4, xml_escape(spec.series[i].name));
  }
  out << "</g>\n</svg>\n";
}

} // namespace gpuadvise
