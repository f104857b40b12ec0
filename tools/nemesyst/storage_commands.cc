// `nemesyst log|group|model ...`: the storage area's subcommands (see storage_cli.h).
#include "tools/nemesyst/commands.h"
#include "tools/nemesyst/storage_cli.h"

namespace nemesyst::cli {

void AddStorageCommands(CLI::App& app, CliContext& ctx) {
  AddLogCommands(app, ctx);
  AddGroupCommands(app, ctx);
  AddModelCommands(app, ctx);
}

}  // namespace nemesyst::cli
