#include "tools/nemesyst/commands.h"

namespace nemesyst::cli {

void AddNodeCommands(CLI::App& /*app*/, CliContext& /*ctx*/) {}

}  // namespace nemesyst::cli
