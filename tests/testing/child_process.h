// (Header-only: the test suite globs only *_test.cc.)
// A real child process whose stderr the test can watch while it runs, and kill (SIGKILL) at a
// chosen moment — for crash-safety tests of `nemesyst train`.
#ifndef NEMESYST_TESTS_NODES_CHILD_PROCESS_H_
#define NEMESYST_TESTS_NODES_CHILD_PROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include <string>
#include <vector>

namespace nemesyst::testing {

class ChildProcess {
 public:
  // fork + execv of argv (argv[0] is the program path); stdout is discarded, stderr captured.
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();  // kills and reaps a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads stderr until it contains `text` (true) or the child closes it / `timeout_ms` passes.
  bool WaitForStderr(const std::string& text, int timeout_ms);
  // SIGKILL and reap. Returns true when the child died of the signal (it was still running).
  bool Kill();
  // Waits for exit; returns the exit code (-1 when killed by a signal).
  int Wait();
  const std::string& err() const { return err_; }

 private:
  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::string err_;
};

inline ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return;
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    const int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(err_pipe[1]);
  err_fd_ = err_pipe[0];
}

inline ChildProcess::~ChildProcess() {
  if (pid_ > 0) Kill();
  if (err_fd_ >= 0) close(err_fd_);
}

inline bool ChildProcess::WaitForStderr(const std::string& text, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buffer[4096];
  while (err_.find(text) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0 || err_fd_ < 0) return false;
    pollfd fd = {err_fd_, POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = read(err_fd_, buffer, sizeof(buffer));
    if (n <= 0) {
      close(err_fd_);
      err_fd_ = -1;
      return err_.find(text) != std::string::npos;
    }
    err_.append(buffer, static_cast<size_t>(n));
  }
  return true;
}

inline bool ChildProcess::Kill() {
  if (pid_ <= 0) return false;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

inline int ChildProcess::Wait() {
  if (pid_ <= 0) return -1;
  WaitForStderr("\x01never\x01", 600000);  // drain stderr until the child closes it
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_NODES_CHILD_PROCESS_H_
