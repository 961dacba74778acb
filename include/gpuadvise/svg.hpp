#pragma once
/// A small self-contained SVG 1.1 line-plot writer (no dependencies), for `gpuadvise sweep --svg`.
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// One point of a series; a non-finite y (NaN) is a missing point and breaks the line there.
struct PlotPoint {
  double x = 0;
  double y = 0;
};

/// One line of the plot, drawn in its own colour and named in the legend.
struct PlotSeries {
  std::string name;
  std::vector<PlotPoint> points;   ///< in x order
};

/// What to draw. All text is XML-escaped by the writer.
struct PlotSpec {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_x = false;   ///< log2 x axis with ticks at powers of two labelled 512, 1k, 2k, ... 128k, 1M
  std::vector<PlotSeries> series;
};

/// Writes `spec` as a standalone SVG 1.1 document (XML declaration, xmlns, width/height/viewBox):
/// axes with tick labels, axis labels, a legend with one coloured entry per series, and per series a
/// `<g class="series" id="series-NAME">` holding a `<title>` with the name and one `<polyline>` per
/// unbroken run of points (plus a marker per point). On a log axis points with x <= 0 are missing.
void write_svg_line_plot(std::ostream& out, const PlotSpec& spec);

/// Escapes text for XML content and attribute values (& < > " '); drops control characters XML 1.0 forbids.
std::string xml_escape(std::string_view text);

/// A token or sequence count as people write it: 1048576 -> "1M", 131072 -> "128k", 1536 -> "1536".
std::string format_token_count(std::int64_t tokens);

} // namespace gpuadvise
