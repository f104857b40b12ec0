// A `nemesyst node run` child process: started from the CLI binary with its arguments, its ready
// line (one JSON line on stdout: the endpoints it bound) parsed, its stderr appended to a log
// file, and stopped with real signals (SIGTERM, SIGKILL, SIGSTOP/SIGCONT). For whatever runs a
// fleet of node processes on one machine: the demo, the multi-process tests, scripts.
//
// Thread-safety: one owning thread per NodeProcess.
#ifndef NEMESYST_NODE_PROCESS_H_
#define NEMESYST_NODE_PROCESS_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "nemesyst/export.h"

namespace nemesyst {

class NEMESYST_EXPORT NodeProcess {
 public:
  // Runs `binary` with `args` (e.g. {"--store", dir, "node", "run", "--role", "hub"}); `log_path`
  // receives stderr (appended: a restarted node keeps one log). The binary is execv'd: nothing
  // goes through a shell.
  NodeProcess(std::string binary, std::vector<std::string> args, std::string log_path);
  ~NodeProcess();  // SIGKILL if still running
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Waits for the ready line; false (and the process is killed) after timeout_ms or when the
  // process ends first (its log says why).
  bool WaitReady(int timeout_ms = 10000);
  const std::string& listen() const { return listen_; }
  const std::string& client() const { return client_; }
  // The ready line (one JSON object: a store node's ingest endpoint, a serving node's
  // predictions and predict endpoints, a hub's control endpoint ...), and its string fields by
  // key ("" when absent).
  const std::string& ready_line() const { return ready_line_; }
  std::string endpoint(const std::string& key) const;
  pid_t pid() const { return pid_; }

  // Sends `signal`; for SIGSTOP, returns once the child has stopped.
  void Signal(int signal);
  void Kill();      // SIGKILL and reap
  int Terminate();  // SIGTERM and reap: the exit code (-1 when killed)
  bool running() const { return pid_ > 0; }
  std::string log() const;

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string out_, listen_, client_, ready_line_;
  std::map<std::string, std::string> fields_;
};

}  // namespace nemesyst

#endif  // NEMESYST_NODE_PROCESS_H_
