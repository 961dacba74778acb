// `gpuadvise models`: the model presets as a table or JSON.
#include "cli/commands.hpp"

namespace gpuadvise::cli {

void setup_models(CLI::App& app, ModelsCli& o) {
  add_input_options(app, o.inputs, {.models_catalog = true});
  add_format_options(app, o.format, {"text", "json"}, "text | json", "Print the presets as JSON");
  app.footer("Example: gpuadvise models --json | jq '.models[] | {id, params_total}'");
}

int run_models(const ModelsCli& o, std::ostream& out) {
  const std::string format = chosen_format(o.format, "text");
  const Inputs inputs = load_inputs(o.inputs);
  if (format == "json") out << models_json(inputs.models).dump(2) << "\n";
  else write_models_text(out, inputs.models);
  return 0;
}

} // namespace gpuadvise::cli
