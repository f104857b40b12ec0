#include "tools/nemesyst/commands.h"

namespace nemesyst::cli {

void AddStreamCommands(CLI::App& /*app*/, CliContext& /*ctx*/) {}

}  // namespace nemesyst::cli
