// Runs a program as a real child process (fork + execv), feeding it stdin and capturing its
// stdout, stderr and exit code. Used to test the `nemesyst` CLI the way a user runs it.
#ifndef NEMESYST_TESTS_TESTING_RUN_COMMAND_H_
#define NEMESYST_TESTS_TESTING_RUN_COMMAND_H_

#include <string>
#include <vector>

namespace nemesyst::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// `env` entries ("K=V") are added to (or override) the current environment.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                         const std::vector<std::string>& env = {});

// Runs the built `nemesyst` binary with `args`.
CommandResult RunCli(const std::vector<std::string>& args, const std::string& stdin_data = "",
                     const std::vector<std::string>& env = {});

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_TESTING_RUN_COMMAND_H_
