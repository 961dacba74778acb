// `gpuadvise validate`: the estimator against published measurements.
#include "cli/commands.hpp"

#include <gpuadvise/embedded.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/engine_memory.hpp>
#include <gpuadvise/files.hpp>
#include <gpuadvise/serving.hpp>
#include <gpuadvise/training_validation.hpp>
#include <gpuadvise/validation.hpp>

namespace gpuadvise::cli {

void setup_validate(CLI::App& app, ValidateCli& o) {
  app.add_option("--data", o.data, "Measurements file (default: data/validation.json as built in)");
  app.add_flag("--serving", o.serving, "Validate the serving simulator against data/serving_validation.json instead");
  app.add_flag("--training-memory", o.training_memory,
               "Validate training peak memory per GPU against data/training_memory_validation.json instead");
  app.add_flag("--engine-memory", o.engine_memory,
               "Validate the engines' KV budget and maximum concurrency against data/engine_memory_validation.json instead");
  // No --price: validation compares speeds, not costs.
  add_input_options(app, o.inputs, {.catalog = true, .models_catalog = true, .calibration = true});
  add_format_options(app, o.format, {"text", "json"}, "text | json", "Print rows and summary as JSON");
  app.footer("Example: gpuadvise validate --json | jq '.summary'");
}

int run_validate(const ValidateCli& o, std::ostream& out) {
  const std::string format = chosen_format(o.format, "text");
  const Inputs inputs = load_inputs(o.inputs);
  const auto& [catalog, models, assumptions, instances] = inputs;
  (void)instances;
  if (o.serving + o.training_memory + o.engine_memory > 1)
    throw InputError("--serving, --training-memory and --engine-memory are separate suites: give one");
  if (o.training_memory) {
    const auto rows = o.data.empty() ? run_training_memory_validation(embedded_training_memory_validation_json(),
                                                                      "data/training_memory_validation.json (embedded)", catalog,
                                                                      models, assumptions)
                                     : run_training_memory_validation(read_text_file(o.data, "measurements file"), o.data,
                                                                      catalog, models, assumptions);
    if (format == "json") out << training_memory_json(rows).dump(2) << "\n";
    else write_training_memory_text(out, rows);
    return 0;
  }
  if (o.engine_memory) {
    const auto rows = o.data.empty() ? run_engine_memory_validation(embedded_engine_memory_validation_json(),
                                                                    "data/engine_memory_validation.json (embedded)", catalog, models)
                                     : run_engine_memory_validation(read_text_file(o.data, "measurements file"), o.data, catalog, models);
    if (format == "json") out << engine_memory_validation_json(rows).dump(2) << "\n";
    else write_engine_memory_validation_text(out, rows);
    return 0;
  }
  if (o.serving) {
    const auto rows = o.data.empty() ? run_serving_validation(embedded_serving_validation_json(),
                                                              "data/serving_validation.json (embedded)", catalog, models, assumptions)
                                     : run_serving_validation(read_text_file(o.data, "measurements file"), o.data, catalog,
                                                              models, assumptions);
    if (format == "json") out << serving_validation_json(rows).dump(2) << "\n";
    else write_serving_validation_text(out, rows);
    return 0;
  }
  auto results = o.data.empty()
                     ? run_validation(embedded_validation_json(), "data/validation.json (embedded)", catalog, models, assumptions)
                     : run_validation(read_text_file(o.data, "measurements file"), o.data, catalog, models, assumptions);
  if (o.data.empty())
    for (auto& r : run_validation(embedded_generative_json(), "data/generative.json (embedded)", catalog, models, assumptions))
      results.push_back(std::move(r));
  if (format == "json") out << validation_json(results).dump(2) << "\n";
  else write_validation_text(out, results);
  return 0;
}

} // namespace gpuadvise::cli
