#include "tests/testing/node_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "nemesyst/node.h"

namespace nemesyst::testing {

nlohmann::json NodeStatusJson(const std::string& client_endpoint, int timeout_ms) {
  NodeClientOptions o;
  o.timeout_ms = timeout_ms;
  auto reply = NodeRequest(client_endpoint, R"({"op":"status"})", "", o);
  if (!reply.ok()) return nullptr;
  return nlohmann::json::parse(*reply, nullptr, false);
}

nlohmann::json NodeAppend(const std::string& client_endpoint, const std::string& stream,
                          const std::string& rows, int timeout_ms) {
  NodeClientOptions o;
  o.timeout_ms = timeout_ms;
  nlohmann::json request = {{"op", "append"}, {"stream", stream}, {"format", "csv"}};
  auto reply = NodeRequest(client_endpoint, request.dump(), rows, o);
  if (!reply.ok()) return nullptr;
  return nlohmann::json::parse(*reply, nullptr, false);
}

bool WaitFor(const std::function<bool()>& condition, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace nemesyst::testing
