#include "nodes/control_service.h"

#include <zmq_addon.hpp>

#include <algorithm>
#include <atomic>
#include <map>

#include "common/json_number.h"
#include "nodes/socket_util.h"

namespace nemesyst::nodes {
namespace {

constexpr int64_t kDefaultDeadlineMs = 30000;
constexpr int64_t kMaxDeadlineMs = int64_t{86400} * 1000;

nlohmann::json ErrorJson(const Status& s) {
  return {{"ok", false},
          {"code", std::string(StatusCodeName(s.code()))},
          {"error", std::string(s.message())}};
}

// The reply frame: the op's fields (or the error), "ok", and the request's id.
std::string ReplyText(const nlohmann::json& id, Result<nlohmann::json> r) {
  nlohmann::json reply = r.ok() ? std::move(*r) : ErrorJson(r.status());
  if (!reply.is_object()) reply = nlohmann::json{{"result", reply}};
  if (!reply.contains("ok")) reply["ok"] = true;
  if (!id.is_null()) reply["id"] = id;
  return reply.dump();
}

}  // namespace

std::string ControlUserId(const std::string& z85_key,
                          const std::map<std::string, std::string>& operators,
                          const std::map<std::string, std::string>& stores) {
  if (auto it = operators.find(z85_key); it != operators.end()) return "operator:" + it->second;
  if (auto it = stores.find(z85_key); it != stores.end()) return "store:" + it->second;
  return "";
}

Result<ControlRequest> ParseControlRequest(std::string_view frame, nlohmann::json* id) {
  ControlRequest r;
  nlohmann::json j = nlohmann::json::parse(frame, nullptr, false);
  if (j.is_object() && j.contains("id") && (j["id"].is_string() || j["id"].is_number_integer())) {
    *id = j["id"];
  }
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string()) {
    return Status::InvalidArgument(
        "a control request is one JSON object frame with a string \"op\" (and an \"id\" to "
        "match the reply)");
  }
  r.id = *id;
  r.op = j["op"].get<std::string>();
  r.deadline_ms = kDefaultDeadlineMs;
  if (j.contains("deadline_ms")) {
    try {
      r.deadline_ms = JsonInteger<int64_t>(j["deadline_ms"]);
    } catch (const nlohmann::json::exception&) {
      r.deadline_ms = 0;
    }
    if (r.deadline_ms < 1 || r.deadline_ms > kMaxDeadlineMs) {
      return Status::InvalidArgument("deadline_ms must be an integer in 1..86400000");
    }
  }
  r.body = std::move(j);
  return r;
}

ControlCaller ParseControlUserId(const std::string& user_id) {
  const size_t colon = user_id.find(':');
  if (colon == std::string::npos) return {};
  return {user_id.substr(0, colon), user_id.substr(colon + 1)};
}

ControlService::ControlService(zmq::context_t& context, Logger* logger, std::vector<ControlOp> ops)
    : logger_(logger),
      ops_(std::move(ops)),
      socket_(context, zmq::socket_type::router),
      worker_(context) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::router_mandatory, 1);
  socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxControlRequestBytes));
}

ControlService::~ControlService() { Stop(); }

Status ControlService::Bind(const std::string& endpoint, const std::string& secret_key) {
  try {
    if (!secret_key.empty()) {
      socket_.set(zmq::sockopt::curve_server, 1);
      socket_.set(zmq::sockopt::curve_secretkey, secret_key);
      socket_.set(zmq::sockopt::zap_domain, kControlZapDomain);
      curve_ = true;
    }
    socket_.bind(endpoint);
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::IOError("cannot bind the control endpoint " + endpoint + ": " + e.what());
  }
  return Status::OK();
}

void ControlService::Stop() { worker_.Stop(); }

void ControlService::Reply(const std::string& routing_id, const nlohmann::json& id,
                           Result<nlohmann::json> r) {
  Send(routing_id, ReplyText(id, std::move(r)));
}

void ControlService::Send(const std::string& routing_id, const std::string& text) {
  std::array<zmq::const_buffer, 2> parts = {zmq::buffer(routing_id), zmq::buffer(text)};
  try {
    (void)zmq::send_multipart(socket_, parts, zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // The caller went away.
  }
}

void ControlService::OnRequest() {
  while (true) {
    std::optional<Received> received;
    try {
      received = ReceiveNow(socket_);
    } catch (const zmq::error_t&) {
      return;
    }
    if (!received) return;
    auto& frames = received->frames;
    if (frames.size() < 2) continue;  // no routing id and request: nobody to answer
    const std::string routing_id = frames[0].to_string();
    nlohmann::json id;
    Result<ControlRequest> request = frames.size() == 2
                                         ? ParseControlRequest(frames[1].to_string(), &id)
                                         : Result<ControlRequest>(Status::InvalidArgument(
                                               "a control request is one JSON object frame"));
    if (!request.ok()) {
      Reply(routing_id, id, request.status());
      continue;
    }
    const nlohmann::json& j = request->body;
    ControlCaller caller =
        curve_ ? ParseControlUserId(received->user_id) : ControlCaller{"local", ""};
    if (caller.role.empty()) {
      Reply(routing_id, id, Status::PermissionDenied("this connection is not authenticated"));
      continue;
    }
    const std::string& op_name = request->op;
    auto op = std::find_if(ops_.begin(), ops_.end(),
                           [&](const ControlOp& o) { return o.name == op_name; });
    if (op == ops_.end()) {
      std::string known;
      for (const ControlOp& o : ops_) known += (known.empty() ? "" : ", ") + o.name;
      Reply(
          routing_id, id,
          Status::InvalidArgument("unknown op '" + op_name + "' (this node takes " + known + ")"));
      continue;
    }
    if (caller.role != "local" &&
        std::find(op->roles.begin(), op->roles.end(), caller.role) == op->roles.end()) {
      logger_->Log(LogLevel::kWarn, "nodes.control", "request refused: role not allowed",
                   {{"op", op_name}, {"role", caller.role}, {"caller", caller.name}});
      Reply(routing_id, id,
            Status::PermissionDenied("role '" + caller.role + "' (" + caller.name + ") may not " +
                                     op_name));
      continue;
    }
    const int64_t deadline_ms = request->deadline_ms;
    const auto deadline = ControlOp::Clock::now() + std::chrono::milliseconds(deadline_ms);
    if (op->quick) {
      Result<nlohmann::json> r = Status::Internal("not run");
      try {
        r = op->handler(caller, j, deadline);
      } catch (const std::exception& e) {
        r = Status::Internal(op_name + " failed: " + e.what());
      }
      Reply(routing_id, id, std::move(r));
      continue;
    }
    const ControlOp* queued = &*op;
    worker_.Post(routing_id, [queued, caller = std::move(caller), j = std::move(j), id, deadline] {
      Result<nlohmann::json> r = Status::Internal("not run");
      if (ControlOp::Clock::now() > deadline) {
        r = Status::DeadlineExceeded(queued->name +
                                     ": its deadline passed while it waited; it was not run");
      } else {
        try {
          r = queued->handler(caller, j, deadline);
        } catch (const std::exception& e) {  // a bug must not take the node down
          r = Status::Internal(queued->name + " failed: " + e.what());
        }
      }
      return ReplyText(id, std::move(r));
    });
  }
}

void ControlService::OnWake() {
  for (const auto& [routing_id, text] : worker_.TakeDone()) Send(routing_id, text);
}

}  // namespace nemesyst::nodes
