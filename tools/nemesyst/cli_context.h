// What every `nemesyst` subcommand shares: the merged configuration, the logger adapted to
// spdlog, and the action the parsed command line selected.
//
// Subcommands are registered before parsing (Add*Commands in commands.h). A subcommand's CLI11
// callback must not do work: it stores a closure in `action`, which main() runs after the global
// flags and the configuration (file < environment < flags) have been merged.
#ifndef NEMESYST_TOOLS_CLI_CONTEXT_H_
#define NEMESYST_TOOLS_CLI_CONTEXT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nemesyst/config.h"
#include "nemesyst/logger.h"
#include "nemesyst/status.h"

namespace nemesyst::cli {

struct CliContext {
  Config config;
  std::unique_ptr<Logger> logger;  // set before `action` runs; never null then
  bool stdout_is_terminal = false;
  bool stderr_is_terminal = false;

  // The selected command's work. Its Status decides the exit code: OK -> 0, otherwise 1 and the
  // message on stderr. (Usage errors are CLI11's and exit 2 before any action runs.)
  std::function<Status()> action;
};

}  // namespace nemesyst::cli

#endif  // NEMESYST_TOOLS_CLI_CONTEXT_H_
