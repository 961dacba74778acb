// `gpuadvise gpus`: the GPU catalog as a table or JSON.
#include "cli/commands.hpp"

#include <gpuadvise/error.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <ctime>

namespace gpuadvise::cli {

void setup_gpus(CLI::App& app, GpusCli& o) {
  app.add_option("--name", o.filter.name, "Only GPUs whose id, name or alias contains this (e.g. a100, ada)");
  app.add_option("--min-memory", o.min_memory, "Only GPUs with at least this many GB of memory (e.g. 48)");
  app.add_option("--provider", o.filter.provider,
                 "Show this provider's price (default: cheapest on-demand); a provider with instance shapes lists its "
                 "instances");
  app.add_option("--region", o.region, "With --provider: only this region's instances (e.g. us-east-1)");
  o.stale_option =
      app.add_option("--stale", o.stale, "List prices older than DAYS (default 90) instead of the catalog")->expected(0, 1);
  app.add_option("--as-of", o.as_of, "With --stale: the date ages are measured from, YYYY-MM-DD (default: today, UTC)");
  add_input_options(app, o.inputs, {.catalog = true, .price = true, .instances = true});
  add_format_options(app, o.format, {"text", "json"}, "text | json", "Print the catalog as JSON");
  app.footer("Examples:\n  gpuadvise gpus --name a100 --min-memory 80 --json\n  gpuadvise gpus --provider aws --name l4\n"
             "  gpuadvise gpus --stale 60");
}

int run_gpus(const GpusCli& o, std::ostream& out) {
  const std::string format = chosen_format(o.format, "text");
  const Inputs inputs = load_inputs(o.inputs);
  if (!inputs.instances.has_provider(o.filter.provider)) inputs.catalog.require_provider(o.filter.provider);
  GpuFilter filter = o.filter;
  if (!o.min_memory.empty()) {
    char* end = nullptr;
    filter.min_memory_gb = std::strtod(o.min_memory.c_str(), &end);
    if (end == o.min_memory.c_str() || *end != '\0' || !(filter.min_memory_gb >= 0) || filter.min_memory_gb > 1e6)
      throw InputError(fmt::format("invalid --min-memory '{}': expected a number of GB such as 48", o.min_memory));
  }
  if ((o.stale_option && o.stale_option->count() > 0) || !o.stale.empty()) {
    if (!o.filter.provider.empty() || !o.region.empty() || !o.filter.name.empty() || !o.min_memory.empty())
      throw InputError("--stale lists every dated price: it takes no --provider, --region, --name or --min-memory");
    const int days = o.stale.empty() ? 90 : static_cast<int>(parse_positive_int(o.stale, "--stale", 36500));
    std::string today = o.as_of;
    if (today.empty()) {
      const std::time_t now = std::time(nullptr);
      char buffer[16];
      std::strftime(buffer, sizeof buffer, "%Y-%m-%d", std::gmtime(&now));
      today = buffer;
    } else {
      days_between(today, today); // throws InputError naming a malformed date
    }
    const auto stale = stale_prices(inputs.catalog, inputs.instances, today, days);
    if (format == "json") out << stale_json(stale, today, days).dump(2) << "\n";
    else write_stale_text(out, stale, today, days);
    return 0;
  }
  if (!o.as_of.empty()) throw InputError("--as-of applies to --stale");
  if (!o.region.empty() && o.filter.provider.empty()) throw InputError("--region needs --provider");
  if (!o.filter.provider.empty() && inputs.instances.has_provider(o.filter.provider)) {
    inputs.instances.require_region(o.filter.provider, o.region);
    const auto rows = select_instances(inputs.instances, inputs.catalog, filter, o.region);
    if (format == "json") out << instances_json(rows).dump(2) << "\n";
    else write_instances_text(out, rows);
    return 0;
  }
  if (!o.region.empty())
    throw InputError(fmt::format("invalid --region '{}': the instance catalog has no rows for provider '{}'", o.region,
                                 o.filter.provider));
  const auto gpus = select_gpus(inputs.catalog, filter);
  if (format == "json") out << gpus_json(gpus, filter, inputs.catalog.catalog_date()).dump(2) << "\n";
  else write_gpus_text(out, gpus, filter);
  return 0;
}

} // namespace gpuadvise::cli
