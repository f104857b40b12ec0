// The job subcommands: train, predict, dispatch, demo, grid-replay (one file each:
// job_*_command.cc).
#include "tools/nemesyst/commands.h"
#include "tools/nemesyst/job_cli.h"

namespace nemesyst::cli {

void AddJobCommands(CLI::App& app, CliContext& ctx) {
  AddTrainCommand(app, ctx);
  AddPredictCommand(app, ctx);
  AddDispatchCommand(app, ctx);
  AddDemoCommand(app, ctx);
  AddGridReplayCommand(app, ctx);
}

}  // namespace nemesyst::cli
