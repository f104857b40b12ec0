#include "nemesyst/node_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace nemesyst {

NodeProcess::NodeProcess(std::string binary, std::vector<std::string> args, std::string log_path)
    : log_path_(std::move(log_path)) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return;
  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  std::vector<std::string> argv = {std::move(binary)};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (std::string& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    if (log_fd >= 0) dup2(log_fd, STDERR_FILENO);
    execv(raw[0], raw.data());
    _exit(127);
  }
  close(out[1]);
  if (log_fd >= 0) close(log_fd);
  out_fd_ = out[0];
}

NodeProcess::~NodeProcess() {
  Kill();
  if (out_fd_ >= 0) close(out_fd_);
}

bool NodeProcess::WaitReady(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (out_.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0 || out_fd_ < 0) {
      Kill();
      return false;
    }
    pollfd fd{out_fd_, POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left)) <= 0) continue;
    char buffer[4096];
    const ssize_t n = read(out_fd_, buffer, sizeof(buffer));
    if (n <= 0) {
      Kill();
      return false;
    }
    out_.append(buffer, static_cast<size_t>(n));
  }
  ready_line_ = out_.substr(0, out_.find('\n'));
  const nlohmann::json ready = nlohmann::json::parse(ready_line_, nullptr, false);
  if (!ready.is_object() || !ready.value("ready", false)) return false;
  for (const auto& [key, value] : ready.items()) {
    if (value.is_string()) fields_[key] = value.get<std::string>();
  }
  listen_ = endpoint("listen");
  client_ = endpoint("client");
  return true;
}

void NodeProcess::Signal(int signal) {
  if (pid_ <= 0) return;
  ::kill(pid_, signal);
  if (signal != SIGSTOP) return;
  // kill() returns before every thread of the child has stopped: wait until the kernel reports
  // it stopped, so nothing it does after this call returns (a reply racing the signal on a
  // loaded machine) can be taken for something it did while stopped.
  int status = 0;
  if (waitpid(pid_, &status, WUNTRACED) == pid_ && !WIFSTOPPED(status)) pid_ = -1;  // it died
}

void NodeProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);  // a stopped process must be able to die
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int NodeProcess::Terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string NodeProcess::endpoint(const std::string& key) const {
  const auto it = fields_.find(key);
  return it == fields_.end() ? "" : it->second;
}

std::string NodeProcess::log() const {
  std::ifstream in(log_path_);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace nemesyst
