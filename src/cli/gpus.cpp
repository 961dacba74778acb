// `gpuadvise gpus`: the GPU catalog as a table or JSON.
#include "cli/commands.hpp"

#include <gpuadvise/error.hpp>

#include <fmt/format.h>

#include <cstdlib>

namespace gpuadvise::cli {

void setup_gpus(CLI::App& app, GpusCli& o) {
  app.add_option("--name", o.filter.name, "Only GPUs whose id, name or alias contains this (e.g. a100, ada)");
  app.add_option("--min-memory", o.min_memory, "Only GPUs with at least this many GB of memory (e.g. 48)");
  app.add_option("--provider", o.filter.provider, "Show this provider's price (default: cheapest on-demand)");
  add_input_options(app, o.inputs, {.catalog = true, .price = true});
  add_format_options(app, o.format, {"text", "json"}, "text | json", "Print the catalog as JSON");
  app.footer("Example: gpuadvise gpus --name a100 --min-memory 80 --json");
}

int run_gpus(const GpusCli& o, std::ostream& out) {
  const std::string format = chosen_format(o.format, "text");
  const Inputs inputs = load_inputs(o.inputs);
  inputs.catalog.require_provider(o.filter.provider);
  GpuFilter filter = o.filter;
  if (!o.min_memory.empty()) {
    char* end = nullptr;
    filter.min_memory_gb = std::strtod(o.min_memory.c_str(), &end);
    if (end == o.min_memory.c_str() || *end != '\0' || !(filter.min_memory_gb >= 0) || filter.min_memory_gb > 1e6)
      throw InputError(fmt::format("invalid --min-memory '{}': expected a number of GB such as 48", o.min_memory));
  }
  const auto gpus = select_gpus(inputs.catalog, filter);
  if (format == "json") out << gpus_json(gpus, filter, inputs.catalog.catalog_date()).dump(2) << "\n";
  else write_gpus_text(out, gpus, filter);
  return 0;
}

} // namespace gpuadvise::cli
