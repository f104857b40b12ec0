// A `nemesyst node run` child process for multi-process tests: started with its arguments, its
// ready line (stdout) parsed for the endpoints it bound, its stderr kept in a file, and stopped
// with real signals (SIGKILL, SIGSTOP/SIGCONT, SIGTERM). Plus the client calls the tests make.
//
// Thread-safety: one test thread per NodeProcess; the client helpers may be called from any.
#ifndef NEMESYST_TESTS_TESTING_NODE_PROCESS_H_
#define NEMESYST_TESTS_TESTING_NODE_PROCESS_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nemesyst::testing {

class NodeProcess {
 public:
  // `args` follow the binary (e.g. {"--store", dir, "node", "run", "--role", "hub"});
  // `log_path` receives stderr (appended: a restarted node keeps one log).
  NodeProcess(std::vector<std::string> args, std::string log_path);
  ~NodeProcess();  // SIGKILL if still running
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Waits for the ready line; false (and the process is killed) after timeout_ms.
  bool WaitReady(int timeout_ms = 10000);
  const std::string& listen() const { return listen_; }
  const std::string& client() const { return client_; }
  // The ready line as JSON (a store node's ingest endpoint, a serving node's predictions and
  // predict endpoints ...).
  const nlohmann::json& ready() const { return ready_; }
  pid_t pid() const { return pid_; }

  // Sends `signal`; for SIGSTOP, returns once the child has stopped.
  void Signal(int signal);
  void Kill();      // SIGKILL and reap
  int Terminate();  // SIGTERM and reap: the exit code (-1 when killed)
  bool running() const { return pid_ > 0; }
  std::string log() const;

 private:
  std::vector<std::string> args_;
  std::string log_path_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string out_, listen_, client_;
  nlohmann::json ready_;
};

// The node's {"op":"status"} reply (null JSON on failure).
nlohmann::json NodeStatusJson(const std::string& client_endpoint, int timeout_ms = 2000);
// An append of `rows` (CSV with a header) to `stream`; the reply, or null on failure/timeout.
nlohmann::json NodeAppend(const std::string& client_endpoint, const std::string& stream,
                          const std::string& rows, int timeout_ms = 5000);
// Polls `condition` every 20 ms until it holds or `timeout_ms` passes.
bool WaitFor(const std::function<bool()>& condition, int timeout_ms);
// A loopback port free now (bound and released); for endpoints that must survive restarts.
int FreePort();

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_TESTING_NODE_PROCESS_H_
