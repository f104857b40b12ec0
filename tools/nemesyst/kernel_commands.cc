#include "tools/nemesyst/commands.h"

namespace nemesyst::cli {

void AddKernelCommands(CLI::App& /*app*/, CliContext& /*ctx*/) {}

}  // namespace nemesyst::cli
