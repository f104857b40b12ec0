#include "tests/testing/nats_cluster.h"

#include <fcntl.h>
#include <nats/nats.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/testing/node_process.h"

namespace nemesyst::testing {
namespace fs = std::filesystem;

std::string NatsServerPath() {
  for (const char* p : {"/usr/sbin/nats-server", "/usr/bin/nats-server"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

NatsCluster::NatsCluster(std::string dir, int servers) : dir_(std::move(dir)) {
  servers_.resize(servers);
  for (Server& s : servers_) {
    s.client_port = FreePort();
    s.cluster_port = FreePort();
  }
  std::string routes;
  for (const Server& s : servers_) {
    routes += (routes.empty() ? "" : ", ") + std::string("nats-route://127.0.0.1:") +
              std::to_string(s.cluster_port);
  }
  for (size_t i = 0; i < servers_.size(); ++i) {
    Server& s = servers_[i];
    const std::string name = "n" + std::to_string(i);
    fs::create_directories(dir_ + "/" + name);
    s.config = dir_ + "/" + name + ".conf";
    s.log = dir_ + "/" + name + ".log";
    std::ofstream conf(s.config);
    conf << "server_name: " << name << "\n"
         << "listen: 127.0.0.1:" << s.client_port << "\n"
         << "jetstream { store_dir: \"" << dir_ << "/" << name << "\" }\n";
    if (servers_.size() > 1) {
      conf << "cluster { name: nemesyst_test, listen: 127.0.0.1:" << s.cluster_port << ", routes: ["
           << routes << "] }\n";
    }
  }
}

NatsCluster::~NatsCluster() {
  for (size_t i = 0; i < servers_.size(); ++i) Kill(static_cast<int>(i));
}

bool NatsCluster::Launch(int i) {
  Server& s = servers_[i];
  const std::string binary = NatsServerPath();
  if (binary.empty()) {
    error_ = "nats-server is not installed (tools/setup.sh installs it)";
    return false;
  }
  // Each start appends to the log, so what a server said before a kill stays readable.
  const int log_fd = open(s.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  s.pid = fork();
  if (s.pid == 0) {
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execl(binary.c_str(), binary.c_str(), "-c", s.config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(log_fd);
  return s.pid > 0;
}

std::string NatsCluster::log(int i) const {
  std::ifstream in(servers_[i].log);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool NatsCluster::WaitReady(int i, int timeout_ms) {
  const bool ok =
      WaitFor([&] { return log(i).find("Server is ready") != std::string::npos; }, timeout_ms);
  if (!ok) error_ = "server " + std::to_string(i) + " not ready: " + log(i);
  return ok;
}

bool NatsCluster::Start(int timeout_ms) {
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (!Launch(static_cast<int>(i))) return false;
  }
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (!WaitReady(static_cast<int>(i), timeout_ms)) return false;
  }
  // JetStream is usable once the servers have elected a metadata leader.
  const bool leader = WaitFor(
      [&] {
        for (size_t i = 0; i < servers_.size(); ++i) {
          const std::string l = log(static_cast<int>(i));
          if (l.find("new metadata leader") != std::string::npos ||
              (servers_.size() == 1 && l.find("Server is ready") != std::string::npos)) {
            return true;
          }
        }
        return false;
      },
      timeout_ms);
  if (!leader) error_ = "no JetStream metadata leader: " + log(0);
  return leader;
}

std::string NatsCluster::url(int i) const {
  return "nats://127.0.0.1:" + std::to_string(servers_[i].client_port);
}

std::string NatsCluster::urls() const {
  std::string out;
  for (size_t i = 0; i < servers_.size(); ++i) {
    out += (out.empty() ? "" : ",") + url(static_cast<int>(i));
  }
  return out;
}

void NatsCluster::Kill(int i) {
  Server& s = servers_[i];
  if (s.pid <= 0) return;
  ::kill(s.pid, SIGKILL);
  int status = 0;
  waitpid(s.pid, &status, 0);
  s.pid = -1;
}

bool NatsCluster::Restart(int i, int timeout_ms) {
  Kill(i);
  const std::string earlier = log(i);
  if (!Launch(i)) return false;
  const bool ok = WaitFor(
      [&] {
        const std::string l = log(i);
        return l.size() > earlier.size() &&
               l.find("Server is ready", earlier.size()) != std::string::npos;
      },
      timeout_ms);
  if (!ok) error_ = "server " + std::to_string(i) + " not ready after restart: " + log(i);
  return ok;
}

namespace {

// A JetStream context on the cluster for the duration of `use`, and `stream`'s info; false when
// either cannot be had.
template <typename Use>
bool WithStreamInfo(const std::string& urls, const std::string& stream, Use&& use) {
  natsConnection* connection = nullptr;
  if (natsConnection_ConnectTo(&connection, urls.c_str()) != NATS_OK) return false;
  jsCtx* js = nullptr;
  jsStreamInfo* info = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const bool ok = natsConnection_JetStream(&js, connection, nullptr) == NATS_OK &&
                  js_GetStreamInfo(&info, js, stream.c_str(), nullptr, &error) == NATS_OK;
  if (ok) use(js, info);
  if (info != nullptr) jsStreamInfo_Destroy(info);
  if (js != nullptr) jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
  return ok;
}

}  // namespace

std::map<std::string, std::vector<std::string>> NatsCluster::Messages(
    const std::string& stream) const {
  std::map<std::string, std::vector<std::string>> out;
  WithStreamInfo(urls(), stream, [&](jsCtx* js, jsStreamInfo* info) {
    for (uint64_t seq = 1; seq <= info->State.LastSeq; ++seq) {
      natsMsg* msg = nullptr;
      jsErrCode error = static_cast<jsErrCode>(0);
      if (js_GetMsg(&msg, js, stream.c_str(), seq, nullptr, &error) != NATS_OK) continue;
      out[natsMsg_GetSubject(msg)].emplace_back(natsMsg_GetData(msg),
                                                static_cast<size_t>(natsMsg_GetDataLength(msg)));
      natsMsg_Destroy(msg);
    }
  });
  return out;
}

int NatsCluster::StreamLeader(const std::string& stream) const {
  int leader = -1;
  WithStreamInfo(urls(), stream, [&](jsCtx*, jsStreamInfo* info) {
    if (info->Cluster != nullptr && info->Cluster->Leader != nullptr) {
      leader = std::atoi(info->Cluster->Leader + 1);
    }
  });
  return leader;
}

}  // namespace nemesyst::testing
