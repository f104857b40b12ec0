#include "tools/nemesyst/commands.h"

namespace nemesyst::cli {

void AddJobCommands(CLI::App& /*app*/, CliContext& /*ctx*/) {}

}  // namespace nemesyst::cli
