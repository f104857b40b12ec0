// `nemesyst`: the command-line front end. Exit codes: 0 success, 1 runtime error, 2 usage error.
#include <unistd.h>

#include <iostream>

#include "nemesyst/kernels.h"
#include "nemesyst/version.h"
#include "tools/nemesyst/commands.h"
#include "tools/nemesyst/spdlog_logger.h"

extern char** environ;

namespace nemesyst::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntimeError = 1;
constexpr int kExitUsageError = 2;

struct GlobalFlags {
  std::string config_file;
  std::string store_path;
  std::string log_level;
  std::string log_format;
  std::vector<std::string> set;  // key=value
};

// Merges defaults < file < environment < flags into ctx.config.
Status ResolveConfig(const GlobalFlags& flags, CliContext& ctx) {
  std::string file = flags.config_file;
  if (file.empty()) {
    if (const char* env = std::getenv("NEMESYST_CONFIG")) file = env;
  }
  if (!file.empty()) NEMESYST_RETURN_IF_ERROR(ctx.config.ApplyFile(file));
  NEMESYST_RETURN_IF_ERROR(ctx.config.ApplyEnvironment(environ));
  if (!flags.store_path.empty()) {
    NEMESYST_RETURN_IF_ERROR(ctx.config.ApplyFlag("store.path", flags.store_path, "--store"));
  }
  if (!flags.log_level.empty()) {
    NEMESYST_RETURN_IF_ERROR(ctx.config.ApplyFlag("log.level", flags.log_level, "--log-level"));
  }
  if (!flags.log_format.empty()) {
    NEMESYST_RETURN_IF_ERROR(ctx.config.ApplyFlag("log.format", flags.log_format, "--log-format"));
  }
  for (const std::string& kv : flags.set) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--set expects key=value, got '" + kv + "'");
    }
    NEMESYST_RETURN_IF_ERROR(ctx.config.ApplyFlag(kv.substr(0, eq), kv.substr(eq + 1), "--set"));
  }
  return Status::OK();
}

int Run(int argc, char** argv) {
  CLI::App app{
      "Nemesyst: a database between every stage of deep learning on fleets of IoT devices.\n"
      "Every subcommand has --help.",
      "nemesyst"};
  app.set_version_flag("--version", std::string("nemesyst ") + NEMESYST_VERSION_STRING);
  // No require_subcommand(): CLI11 would report a missing subcommand before an unknown flag, and
  // the unknown flag is the more useful message. A missing subcommand is caught below instead.
  app.fallthrough();  // global flags are accepted after the subcommand too

  GlobalFlags flags;
  app.add_option("-c,--config", flags.config_file,
                 "TOML configuration file (default: $NEMESYST_CONFIG, else none)");
  app.add_option("--store", flags.store_path, "Store directory (config key store.path)");
  app.add_option("--log-level", flags.log_level, "debug|info|warn|error (config key log.level)");
  app.add_option("--log-format", flags.log_format, "human|json (config key log.format)");
  app.add_option("--set", flags.set, "Override any configuration key: --set key=value")->take_all();

  CliContext ctx;
  ctx.stdout_is_terminal = isatty(STDOUT_FILENO) == 1;
  ctx.stderr_is_terminal = isatty(STDERR_FILENO) == 1;
  AddConfigCommands(app, ctx);
  AddStorageCommands(app, ctx);
  AddStreamCommands(app, ctx);
  AddKernelCommands(app, ctx);
  AddJobCommands(app, ctx);
  AddNodeCommands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help/version on stdout, errors on stderr
    return code == 0 ? kExitOk : kExitUsageError;
  }

  if (Status s = ResolveConfig(flags, ctx); !s.ok()) {
    std::cerr << "nemesyst: configuration error: " << s.message() << "\n";
    return kExitRuntimeError;
  }
  if (Status s = SetKernelIsaLimit(ctx.config.GetString("kernels.max_isa")); !s.ok()) {
    std::cerr << "nemesyst: configuration error: " << s.message() << "\n";
    return kExitRuntimeError;
  }
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(ctx.config.GetString("log.level"), &level);
  ctx.logger = MakeStderrLogger(
      level, ctx.config.GetString("log.format") == "json" ? LogFormat::kJson : LogFormat::kHuman);

  if (!ctx.action) {
    std::cerr << "nemesyst: a subcommand is required\n\n" << app.help();
    return kExitUsageError;
  }
  Status status;
  try {
    status = ctx.action();
  } catch (const std::exception& e) {  // a bug in a command: report it instead of aborting
    status = Status::Internal(std::string("uncaught exception: ") + e.what());
  }
  if (!status.ok()) {
    std::cerr << "nemesyst: error: " << status.message() << " (" << StatusCodeName(status.code())
              << ")\n";
    return kExitRuntimeError;
  }
  return kExitOk;
}

}  // namespace
}  // namespace nemesyst::cli

int main(int argc, char** argv) { return nemesyst::cli::Run(argc, argv); }
