// `gpuadvise catalog validate|show`: check a catalog file, or print the merged catalog.
#include "cli/commands.hpp"

#include <gpuadvise/files.hpp>

#include <fmt/format.h>

namespace gpuadvise::cli {

void setup_catalog(CLI::App& app, CatalogCli& o) {
  app.require_subcommand(1);
  auto* validate = app.add_subcommand("validate", "Check a GPU catalog (JSON) or instance price (CSV) file and say what is wrong");
  validate->add_option("file", o.file, "Catalog JSON, or a CSV with the columns of data/instances.csv")->required();
  auto* show = app.add_subcommand("show", "Print the merged catalog (built-in + --catalog files) as JSON");
  add_input_options(*show, o.inputs, {.catalog = true});
  // Only records which subcommand was given; run_catalog does the work.
  validate->parse_complete_callback([&o] { o.action = CatalogCli::Action::validate; });
  show->parse_complete_callback([&o] { o.action = CatalogCli::Action::show; });
}

int run_catalog(const CatalogCli& o, std::ostream& out) {
  if (o.action == CatalogCli::Action::validate && o.file.size() > 4 && o.file.substr(o.file.size() - 4) == ".csv") {
    // An instance price file: strict CSV, every GPU named must be in the (built-in) GPU catalog.
    InputOptions file_only;
    file_only.instances = {o.file};
    const Inputs inputs = load_inputs(file_only);
    const auto own = InstanceCatalog::from_csv(read_text_file(o.file, "instance catalog"), o.file);
    out << fmt::format("{}: valid; {} instance rows; merged instance catalog has {} rows\n", o.file, own.instances().size(),
                       inputs.instances.instances().size());
    return 0;
  }
  if (o.action == CatalogCli::Action::validate) {
    // A file on its own must be a complete catalog; it is merged over the built-in one, as --catalog would.
    InputOptions file_only;
    file_only.catalogs = {o.file};
    const Inputs inputs = load_inputs(file_only);
    out << fmt::format("{}: valid; merged catalog has {} GPUs\n", o.file, inputs.catalog.gpus().size());
    return 0;
  }
  out << load_inputs(o.inputs).catalog.to_json().dump(2) << "\n";
  return 0;
}

} // namespace gpuadvise::cli
