#include "tools/nemesyst/commands.h"

namespace nemesyst::cli {

void AddStorageCommands(CLI::App& /*app*/, CliContext& /*ctx*/) {}

}  // namespace nemesyst::cli
