#include <iostream>

#include "tools/nemesyst/commands.h"

namespace nemesyst::cli {

void AddConfigCommands(CLI::App& app, CliContext& ctx) {
  CLI::App* config = app.add_subcommand("config", "Inspect the effective configuration");
  config->require_subcommand(1);

  CLI::App* show = config->add_subcommand(
      "show", "Print the merged configuration (defaults < file < NEMESYST_* environment < flags)");
  auto json = std::make_shared<bool>(false);
  show->add_flag("--json", *json, "Print JSON: {key: {value, source, origin}}");
  show->callback([&ctx, json] {
    ctx.action = [&ctx, json]() -> Status {
      std::cout << (*json ? ctx.config.ToJson() + "\n" : ctx.config.ToToml());
      return Status::OK();
    };
  });
}

}  // namespace nemesyst::cli
