// Loading catalogs, prices, model presets and calibration: one function for every command.
#include "cli/inputs.hpp"

#include <gpuadvise/error.hpp>
#include <gpuadvise/files.hpp>
#include <gpuadvise/units.hpp>

#include <fmt/format.h>

#include <cstdlib>

namespace gpuadvise::cli {

namespace {

/// Applies `--price GPU=USD` overrides.
void apply_prices(GpuCatalog& catalog, const std::vector<std::string>& prices) {
  for (const auto& text : prices) {
    const auto eq = text.find('=');
    if (eq == std::string::npos)
      throw InputError(fmt::format("invalid --price '{}': expected GPU=USD, e.g. l40=0.90", text));
    if (normalize_name(text.substr(0, eq)).empty())
      throw InputError(fmt::format("invalid --price '{}': the GPU name before '=' is empty (expected GPU=USD, e.g. l40=0.90)", text));
    const std::string value = text.substr(eq + 1);
    char* end = nullptr;
    const double usd = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(usd > 0) || usd > 10000)
      throw InputError(fmt::format("invalid --price '{}': '{}' is not a price in USD per GPU-hour", text, value));
    catalog.override_price(text.substr(0, eq), usd);
  }
}

} // namespace

void add_input_options(CLI::App& app, InputOptions& o, InputKinds what) {
  if (what.catalog)
    app.add_option("--catalog", o.catalogs, "Extra GPU catalog JSON merged over the built-in one (repeatable)");
  if (what.price) app.add_option("--price", o.prices, "Override a price for this run: GPU=USD per GPU-hour (repeatable)");
  if (what.models_catalog) app.add_option("--models-catalog", o.models_catalogs, "Extra model catalog JSON (repeatable)");
  if (what.instances)
    app.add_option("--instances", o.instances,
                   "Extra instance CSV (the columns of data/instances.csv) merged over the built-in one, e.g. negotiated "
                   "prices (repeatable)");
  if (what.calibration)
    app.add_option("--calibration", o.calibration, "JSON with measured efficiency fractions replacing the defaults");
}

void add_pricing_options(CLI::App& app, PricingOptions& o) {
  app.add_option("--provider", o.provider,
                 "Price provider (default: the cheapest on-demand price per GPU); with instance shapes (aws, gcp, azure, "
                 "lambda, runpod, hyperstack, coreweave) GPUs are rented and priced as whole instances");
  app.add_option("--region", o.region, "Only this provider region's instances (e.g. us-east-1; needs --provider)");
  app.add_flag("--spot", o.spot, "Price instances at their spot price (needs --provider)");
}

AdviseOptions pricing_options(const PricingOptions& o, const Inputs& inputs) {
  AdviseOptions options;
  options.provider = o.provider;
  options.region = o.region;
  options.spot = o.spot;
  options.instances = &inputs.instances;
  return options;
}

Inputs load_inputs(const InputOptions& o) {
  auto catalog = GpuCatalog::embedded();
  for (const auto& path : o.catalogs) catalog.merge_json(read_text_file(path, "catalog"), path);
  apply_prices(catalog, o.prices);
  auto models = ModelCatalog::embedded();
  for (const auto& path : o.models_catalogs) models.merge_json(read_text_file(path, "models catalog"), path);
  auto assumptions = Assumptions::embedded();
  if (!o.calibration.empty()) assumptions.merge_json(read_text_file(o.calibration, "calibration file"), o.calibration);
  auto instances = InstanceCatalog::embedded();
  for (const auto& path : o.instances) instances.merge_csv(read_text_file(path, "instance catalog"), path);
  instances.check_gpus(catalog);
  return Inputs{std::move(catalog), std::move(models), std::move(assumptions), std::move(instances)};
}

} // namespace gpuadvise::cli
