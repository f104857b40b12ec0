// A node's small HTTP server: GET /metrics (Prometheus text, nodes/metrics.h) and, on the hub,
// GET / (the fleet status page, nodes/status_page.h). Read-only: GET and HEAD only, every other
// method 405, every other path 404. Plaintext HTTP: where it may listen (loopback, or beyond it)
// is the caller's policy, as for the node's other plaintext endpoints.
//
//   auto http = HttpEndpoint::Start("127.0.0.1:7756", [&] { return PrometheusText(Status()); },
//                                   /*page=*/nullptr, logger);
//   http.value()->address();  // "127.0.0.1:7756" (port 0 asks for any free port: this says which)
//
// Threads: an accept thread and a fixed pool of kWorkerThreads that answer requests. The
// `metrics` and `page` callbacks run on the pool's threads, possibly concurrently with each other
// and with the caller's threads: they must be thread-safe (Node::Status is), and quick — a slow
// callback holds a worker, and with every worker busy requests wait.
//
// Thread-safety: address() and Stop() may be called from any thread; Stop() is idempotent.
// Requests are bounded (kMaxPayloadBytes, idle and read/write timeouts, one request per
// connection): an idle connection (a browser's preconnect) holds a worker, and Stop(), for at most
// kIdleSeconds. (A client trickling a request byte by byte can hold one longer: httplib's timeouts
// are per read. The endpoint is meant for loopback or a trusted network.)
#ifndef NEMESYST_NODES_HTTP_ENDPOINT_H_
#define NEMESYST_NODES_HTTP_ENDPOINT_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "nemesyst/logger.h"
#include "nemesyst/status.h"

namespace httplib {
class Server;
}

namespace nemesyst::nodes {

class HttpEndpoint {
 public:
  using TextFn = std::function<std::string()>;

  static constexpr int kWorkerThreads = 2;
  static constexpr size_t kMaxPayloadBytes = 8 << 10;  // no route takes a body
  static constexpr int kTimeoutSeconds = 5;            // reading a request, writing a response
  static constexpr int kIdleSeconds = 1;               // a connection's time to start its request

  // Binds `address` ("host:port", IPv6 as "[::1]:7756"; port 0 = any free port) and starts
  // serving. `metrics` answers GET /metrics; `page`, when set, answers GET / (unset: / is 404).
  // InvalidArgument for an address that does not parse or whose host does not resolve; IOError
  // when it cannot be bound (in use, not a local address). Both name the address.
  static Result<std::unique_ptr<HttpEndpoint>> Start(const std::string& address, TextFn metrics,
                                                     TextFn page, Logger* logger);
  ~HttpEndpoint();  // Stop()
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // "host:port" with the bound port.
  const std::string& address() const { return address_; }
  // Stops accepting, finishes the requests under way (bounded by the timeouts) and joins the
  // threads. Idempotent.
  void Stop();

 private:
  HttpEndpoint(std::unique_ptr<httplib::Server> server, std::string address, Logger* logger);

  std::unique_ptr<httplib::Server> server_;
  const std::string address_;
  Logger* const logger_;
  std::mutex stop_mu_;  // Stop() from two threads at once: one stops, the other waits for it
  std::thread thread_;  // the accept loop (httplib's listen_after_bind)
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_HTTP_ENDPOINT_H_
