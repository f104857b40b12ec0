// The C API's node: a store or hub node inside the host process, its log through a callback
// (include/nemesyst/c.h).
#include <nlohmann/json.hpp>

#include "capi/c_handles.h"
#include "nemesyst/node.h"

using nemesyst::Status;
using nemesyst::capi::CopyString;
using nemesyst::capi::Guard;
using nemesyst::capi::NullArgument;

// Named, not anonymous: nemesyst_node_t (external linkage) holds one.
namespace nemesyst::capi {

// The node's Logger, forwarding each line to the host's callback (called from node threads).
class CallbackLogger final : public nemesyst::Logger {
 public:
  CallbackLogger(nemesyst_log_fn fn, void* context, int min_level)
      : fn_(fn), context_(context), min_level_(static_cast<nemesyst::LogLevel>(min_level)) {}
  void Log(nemesyst::LogLevel level, std::string_view component, std::string_view message,
           std::initializer_list<nemesyst::LogField> fields) override {
    if (fn_ == nullptr || level < min_level_) return;
    try {
      nlohmann::json j = nlohmann::json::object();
      for (const nemesyst::LogField& f : fields) j[std::string(f.key)] = f.value;
      const std::string c(component), m(message), text = j.dump();
      fn_(context_, static_cast<int>(level), c.c_str(), m.c_str(), text.c_str());
    } catch (...) {  // a log line is not worth an exception in a node thread
    }
  }
  nemesyst::LogLevel min_level() const override { return min_level_; }

 private:
  nemesyst_log_fn fn_;
  void* context_;
  nemesyst::LogLevel min_level_;
};

}  // namespace nemesyst::capi

using nemesyst::capi::CallbackLogger;

namespace {

std::string Or(const char* value, std::string fallback) {
  return value != nullptr ? std::string(value) : std::move(fallback);
}

}  // namespace

struct nemesyst_node_t {
  std::unique_ptr<CallbackLogger> logger;  // outlives the node (declared first)
  std::unique_ptr<nemesyst::Node> node;
};

extern "C" {

void nemesyst_node_options_init(nemesyst_node_options_t* options) {
  if (options == nullptr) return;
  *options = nemesyst_node_options_t{};
  options->role = NEMESYST_ROLE_STORE;
  options->log_level = NEMESYST_LOG_INFO;
}

int nemesyst_node_start(const nemesyst_node_options_t* options, nemesyst_node_t** node,
                        char** errptr) {
  return Guard(errptr, "nemesyst_node_start", [&]() -> Status {
    if (options == nullptr) return NullArgument("options");
    if (node == nullptr) return NullArgument("node");
    if (options->store_path == nullptr) return NullArgument("options->store_path");
    if (options->role != NEMESYST_ROLE_STORE && options->role != NEMESYST_ROLE_HUB) {
      return Status::InvalidArgument("options->role " + std::to_string(options->role) +
                                     " is not NEMESYST_ROLE_STORE or NEMESYST_ROLE_HUB");
    }
    if (options->log_level < NEMESYST_LOG_DEBUG || options->log_level > NEMESYST_LOG_ERROR) {
      return Status::InvalidArgument("options->log_level is not a NEMESYST_LOG_* value");
    }
    auto handle = std::make_unique<nemesyst_node_t>();
    handle->logger =
        std::make_unique<CallbackLogger>(options->log, options->log_context, options->log_level);
    nemesyst::NodeOptions o;
    o.role =
        options->role == NEMESYST_ROLE_HUB ? nemesyst::NodeRole::kHub : nemesyst::NodeRole::kStore;
    o.node_id = Or(options->node_id, o.node_id);
    o.store_path = options->store_path;
    o.hub_endpoint = Or(options->hub_endpoint, o.hub_endpoint);
    o.listen_endpoint = Or(options->listen_endpoint, o.listen_endpoint);
    o.client_endpoint = Or(options->client_endpoint, "");
    o.control_endpoint = Or(options->control_endpoint, "");
    o.serve_model = Or(options->serve_model, "");
    o.ingest_endpoint = Or(options->ingest_endpoint, "");
    o.predictions_endpoint = Or(options->predictions_endpoint, "");
    o.predict_endpoint = Or(options->predict_endpoint, "");
    o.http_endpoint = Or(options->http_endpoint, "");
    o.logger = handle->logger.get();
    o.store.logger = handle->logger.get();
    NEMESYST_ASSIGN_OR_RETURN(handle->node, nemesyst::Node::Start(std::move(o)));
    *node = handle.release();
    return Status::OK();
  });
}

int nemesyst_node_endpoint(const nemesyst_node_t* node, const char* which, char** endpoint,
                           char** errptr) {
  return Guard(errptr, "nemesyst_node_endpoint", [&]() -> Status {
    if (node == nullptr || !node->node) return NullArgument("node");
    if (which == nullptr) return NullArgument("which");
    if (endpoint == nullptr) return NullArgument("endpoint");
    const std::string w = which;
    std::string e;
    if (w == "listen") {
      e = node->node->listen_endpoint();
    } else if (w == "client") {
      e = node->node->client_endpoint();
    } else if (w == "control") {
      e = node->node->control_endpoint();
    } else if (w == "http") {
      e = node->node->http_endpoint();
    } else {
      return Status::InvalidArgument("which is \"" + w + "\": listen, client, control or http");
    }
    if (e.empty()) return Status::NotFound("this node has no " + w + " endpoint");
    *endpoint = CopyString(e);
    return Status::OK();
  });
}

int nemesyst_node_status(nemesyst_node_t* node, char** json, char** errptr) {
  return Guard(errptr, "nemesyst_node_status", [&]() -> Status {
    if (node == nullptr || !node->node) return NullArgument("node");
    if (json == nullptr) return NullArgument("json");
    // What `node status --json` prints: the node's own answer on its client endpoint.
    NEMESYST_ASSIGN_OR_RETURN(
        std::string reply,
        nemesyst::NodeRequest(node->node->client_endpoint(), R"({"op":"status"})", ""));
    *json = CopyString(reply);
    return Status::OK();
  });
}

void nemesyst_node_stop(nemesyst_node_t** node) {
  if (node == nullptr || *node == nullptr) return;
  try {
    if ((*node)->node) (*node)->node->Stop();
  } catch (...) {  // stopping must not throw into C; the handle is freed regardless
  }
  delete *node;
  *node = nullptr;
}

}  // extern "C"
