// Registration of each area's subcommands on the root CLI11 app. One function per area, each
// defined in its own <area>_commands.cc.
#ifndef NEMESYST_TOOLS_COMMANDS_H_
#define NEMESYST_TOOLS_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "tools/nemesyst/cli_context.h"

namespace nemesyst::cli {

void AddConfigCommands(CLI::App& app, CliContext& ctx);   // config show
void AddStorageCommands(CLI::App& app, CliContext& ctx);  // log, group, model
void AddStreamCommands(CLI::App& app, CliContext& ctx);   // simulate, ingest
void AddKernelCommands(CLI::App& app, CliContext& ctx);   // kernels (info, ...)
void AddJobCommands(CLI::App& app, CliContext& ctx);      // train, predict, dispatch, demo
void AddNodeCommands(CLI::App& app, CliContext& ctx);     // node ...

}  // namespace nemesyst::cli

#endif  // NEMESYST_TOOLS_COMMANDS_H_
