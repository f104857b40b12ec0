#include "nodes/http_endpoint.h"

#include <netdb.h>
#include <sys/socket.h>

#include <httplib.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <exception>
#include <system_error>
#include <utility>

#include "nodes/metrics.h"

namespace nemesyst::nodes {
namespace {

constexpr const char* kComponent = "nodes.http";
constexpr const char* kTextType = "text/plain; charset=utf-8";
constexpr const char* kHtmlType = "text/html; charset=utf-8";

struct HostPort {
  std::string host;  // IPv6 without its brackets, as getaddrinfo wants it
  int port = 0;
};

Status BadAddress(const std::string& address, std::string_view why) {
  return Status::InvalidArgument("http endpoint address '" + address + "': " + std::string(why));
}

// "host:port" or "[v6]:port". The host is required: listening on every interface is a choice to
// spell out ("0.0.0.0:7756"), not what an empty host quietly means.
Result<HostPort> ParseAddress(const std::string& address) {
  HostPort hp;
  std::string port;
  if (!address.empty() && address.front() == '[') {
    const size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return BadAddress(address, "expected [ipv6]:port");
    }
    hp.host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos) return BadAddress(address, "expected host:port (no port)");
    hp.host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (hp.host.find(':') != std::string::npos) {
      return BadAddress(address, "an IPv6 host goes in brackets: [::1]:7756");
    }
  }
  if (hp.host.empty()) return BadAddress(address, "no host (0.0.0.0 listens on every interface)");
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    return BadAddress(address, "the port '" + port + "' is not a number from 0 to 65535");
  }
  hp.port = std::stoi(port);  // digits only, at most 5: cannot throw
  return hp;
}

// httplib would resolve the host too, but only says "failed"; resolving first says why.
Status Resolve(const std::string& address, const HostPort& hp) {
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(hp.host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    return BadAddress(address, "host '" + hp.host + "' does not resolve: " + gai_strerror(rc));
  }
  freeaddrinfo(found);
  return Status::OK();
}

std::string ShortText(int status) {
  switch (status) {
    case 400:
      return "bad request\n";
    case 404:
      return "not found (try /metrics)\n";
    case 405:
      return "method not allowed (GET or HEAD)\n";
    case 413:
      return "request too large\n";
    default:
      return "error " + std::to_string(status) + "\n";
  }
}

// Runs a callback for a response. Nothing may escape to httplib: an exception on a worker thread
// of its pool would end the process.
void Answer(httplib::Response& res, const HttpEndpoint::TextFn& fn, std::string_view content_type,
            const char* path, Logger* logger) {
  try {
    res.set_content(fn(), std::string(content_type));
    res.set_header("Cache-Control", "no-store");  // always the state of now
    return;
  } catch (const std::exception& e) {
    logger->Log(LogLevel::kError, kComponent, "an HTTP callback failed",
                {{"path", path}, {"error", e.what()}});
  } catch (...) {
    logger->Log(LogLevel::kError, kComponent, "an HTTP callback failed",
                {{"path", path}, {"error", "unknown exception"}});
  }
  res.status = 500;
  res.set_content("internal error\n", kTextType);
}

// The server's sockets: SO_REUSEADDR only. httplib's default also sets SO_REUSEPORT, which lets
// a second server bind a port already in use and silently share (or steal) its connections; a
// busy port must be an error.
void ReuseAddressOnly(int sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

}  // namespace

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const std::string& address,
                                                          TextFn metrics, TextFn page,
                                                          Logger* logger) {
  if (logger == nullptr) logger = NullLogger();
  if (!metrics) return Status::InvalidArgument("http endpoint: no metrics callback");
  NEMESYST_ASSIGN_OR_RETURN(HostPort hp, ParseAddress(address));
  NEMESYST_RETURN_IF_ERROR(Resolve(address, hp));

  // httplib reports some failures by throwing (std::regex, std::thread, allocation): caught here,
  // so none leaves the library.
  try {
    auto server = std::make_unique<httplib::Server>();
    server->new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
    server->set_socket_options(ReuseAddressOnly);
    server->set_payload_max_length(kMaxPayloadBytes);
    server->set_read_timeout(kTimeoutSeconds, 0);
    server->set_write_timeout(kTimeoutSeconds, 0);
    // One request per connection, to start within kIdleSeconds: an idle connection holds one of
    // the workers (and Stop, which joins them) while httplib waits for its request — a browser
    // opens such connections speculatively. A scrape every few seconds needs no connection reuse.
    server->set_keep_alive_max_count(1);
    server->set_keep_alive_timeout(kIdleSeconds);

    server->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      if (req.method == "GET" || req.method == "HEAD") {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      return httplib::Server::HandlerResponse::Handled;
    });
    server->Get("/metrics", [metrics = std::move(metrics), logger](const httplib::Request&,
                                                                   httplib::Response& res) {
      Answer(res, metrics, kPrometheusContentType, "/metrics", logger);
    });
    const bool has_page = static_cast<bool>(page);
    if (has_page) {
      server->Get(
          "/", [page = std::move(page), logger](const httplib::Request&, httplib::Response& res) {
            Answer(res, page, kHtmlType, "/", logger);
          });
    }
    // Every status >= 400 without a body of its own (404, 405, 413, httplib's 400s) gets a line
    // saying what it is rather than an empty answer.
    server->set_error_handler(
        httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          res.set_content(ShortText(res.status), kTextType);
          return httplib::Server::HandlerResponse::Handled;
        }));

    errno = 0;
    int port = hp.port;
    const bool bound = hp.port == 0 ? (port = server->bind_to_any_port(hp.host)) > 0
                                    : server->bind_to_port(hp.host, hp.port);
    if (!bound) {
      // httplib closes the failed socket and frees the lookup after bind fails; neither touches
      // errno when it succeeds, so errno is still bind's reason.
      const int error = errno;
      std::string why = "cannot listen";
      why += error != 0 ? ": " + std::generic_category().message(error)
                        : " (in use, or not an address of this machine)";
      return Status::IOError("http endpoint address '" + address + "': " + why);
    }
    const std::string bound_address =
        (hp.host.find(':') != std::string::npos ? "[" + hp.host + "]" : hp.host) + ":" +
        std::to_string(port);

    auto endpoint =
        std::unique_ptr<HttpEndpoint>(new HttpEndpoint(std::move(server), bound_address, logger));
    auto exited = std::make_shared<std::atomic<bool>>(false);
    httplib::Server* s = endpoint->server_.get();
    endpoint->thread_ = std::thread([s, exited, logger, bound_address] {
      bool ok = false;
      try {
        ok = s->listen_after_bind();  // returns when Stop() closes the socket
      } catch (...) {
      }
      if (!ok) {
        logger->Log(LogLevel::kError, kComponent, "the HTTP endpoint stopped accepting",
                    {{"address", bound_address}});
      }
      exited->store(true);
    });
    // Server::stop() acts only once the accept loop runs: wait for it, so that Stop() right after
    // Start() cannot miss it and wait forever. It starts at once; there is no timeout to pick.
    while (!s->is_running() && !exited->load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!s->is_running()) {
      endpoint->thread_.join();
      return Status::IOError("http endpoint address '" + address + "': the server did not start");
    }
    logger->Log(LogLevel::kInfo, kComponent, "serving HTTP",
                {{"address", bound_address}, {"status_page", has_page ? "yes" : "no"}});
    return endpoint;
  } catch (const std::exception& e) {
    return Status::Internal("http endpoint address '" + address + "': " + e.what());
  }
}

HttpEndpoint::HttpEndpoint(std::unique_ptr<httplib::Server> server, std::string address,
                           Logger* logger)
    : server_(std::move(server)), address_(std::move(address)), logger_(logger) {}

HttpEndpoint::~HttpEndpoint() { Stop(); }

void HttpEndpoint::Stop() {
  std::lock_guard lock(stop_mu_);
  if (!thread_.joinable()) return;
  server_->stop();  // closes the listening socket; the accept loop ends, the pool drains
  thread_.join();
  logger_->Log(LogLevel::kDebug, kComponent, "stopped serving HTTP", {{"address", address_}});
}

}  // namespace nemesyst::nodes
