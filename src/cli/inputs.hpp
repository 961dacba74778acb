#pragma once
/// The input files and overrides every command loads the same way: --catalog, --price, --models-catalog, --calibration.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/assumptions.hpp>
#include <gpuadvise/catalog.hpp>
#include <gpuadvise/instances.hpp>
#include <gpuadvise/model.hpp>

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace gpuadvise::cli {

/// The input options as given on the command line.
struct InputOptions {
  std::vector<std::string> catalogs;        ///< --catalog files merged over the built-in GPU catalog, in order
  std::vector<std::string> prices;          ///< --price GPU=USD overrides
  std::vector<std::string> models_catalogs; ///< --models-catalog files merged over the built-in presets
  std::string calibration;                  ///< --calibration file replacing efficiency fractions; empty: none
  std::vector<std::string> instances;       ///< --instances CSV files merged over the built-in instance shapes
};

/// Which of the input options a command registers.
struct InputKinds {
  bool catalog = false;
  bool price = false;
  bool models_catalog = false;
  bool calibration = false;
  bool instances = false;
};

/// Every input option.
inline constexpr InputKinds k_all_inputs{.catalog = true, .price = true, .models_catalog = true, .calibration = true};

/// What a command works from: the merged GPU catalog with prices applied, the model presets, the assumptions.
struct Inputs {
  GpuCatalog catalog;
  ModelCatalog models;
  Assumptions assumptions;
  InstanceCatalog instances;  ///< instance shapes and prices (data/instances.csv + --instances files)
};

/// How a command prices GPUs, as given: --provider, --region and --spot. Every command that prices registers them
/// with add_pricing_options and checks them with require_pricing (src/advisor.cpp), so they mean the same everywhere.
struct PricingOptions {
  std::string provider; ///< empty: the cheapest on-demand price per GPU
  std::string region;   ///< only this region's instance rows (needs provider)
  bool spot = false;    ///< instances at their spot price (needs provider)
};

/// Registers --provider, --region and --spot into `o` (the command also registers --instances via InputKinds).
void add_pricing_options(CLI::App& app, PricingOptions& o);
/// The library's pricing choice for `o` with the loaded instance shapes (the other AdviseOptions fields default).
AdviseOptions pricing_options(const PricingOptions& o, const Inputs& inputs);

/// Registers the input options `what` names into `o`.
void add_input_options(CLI::App& app, InputOptions& o, InputKinds what);
/// Loads the built-in data and merges the given files and overrides over it; throws gpuadvise::Error on bad input.
Inputs load_inputs(const InputOptions& o);

} // namespace gpuadvise::cli
