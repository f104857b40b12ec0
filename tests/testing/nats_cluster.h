// A real NATS JetStream cluster for tests and benchmarks: `servers` nats-server processes on
// loopback, each with its own JetStream directory under `dir`, clustered by routes, on ports
// chosen at run time (so suites run in parallel). Servers can be SIGKILLed and restarted on the
// same ports and directories. The destructor kills every server still running.
//
// Thread-safety: one thread.
#ifndef NEMESYST_TESTS_TESTING_NATS_CLUSTER_H_
#define NEMESYST_TESTS_TESTING_NATS_CLUSTER_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace nemesyst::testing {

// The nats-server binary (Debian installs it in /usr/sbin); empty when there is none.
std::string NatsServerPath();

class NatsCluster {
 public:
  NatsCluster(std::string dir, int servers);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // Starts every server and waits until each says it is ready and the cluster has a JetStream
  // metadata leader. False (with error()) when that does not happen within timeout_ms.
  bool Start(int timeout_ms = 20000);
  // "nats://127.0.0.1:p1,nats://127.0.0.1:p2,...".
  std::string urls() const;
  std::string url(int i) const;
  void Kill(int i);  // SIGKILL and reap
  // Starts server i again (same ports, same directory) and waits until it is ready.
  bool Restart(int i, int timeout_ms = 20000);
  const std::string& error() const { return error_; }
  std::string log(int i) const;  // what server i wrote

  // Every message of JetStream stream `stream`, payloads by subject in stream order (empty when
  // there is no such stream or no server answers).
  std::map<std::string, std::vector<std::string>> Messages(const std::string& stream) const;
  // The index of the server leading `stream` (its name is "n<i>"); -1 when unknown.
  int StreamLeader(const std::string& stream) const;

 private:
  struct Server {
    int client_port = 0, cluster_port = 0;
    pid_t pid = -1;
    std::string config, log;
  };
  bool Launch(int i);
  bool WaitReady(int i, int timeout_ms);
  std::string dir_;
  std::vector<Server> servers_;
  std::string error_;
};

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_TESTING_NATS_CLUSTER_H_
