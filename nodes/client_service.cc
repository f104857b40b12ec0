#include "nodes/client_service.h"

#include <zmq_addon.hpp>

#include <atomic>
#include <nlohmann/json.hpp>

namespace nemesyst::nodes {
std::string ErrorReply(const Status& status) {
  return nlohmann::json{{"ok", false},
                        {"code", std::string(StatusCodeName(status.code()))},
                        {"error", std::string(status.message())}}
      .dump();
}

ClientService::ClientService(zmq::context_t& context, Logger* logger, StatusFn status, WorkFn work)
    : context_(context),
      logger_(logger),
      status_(std::move(status)),
      work_(std::move(work)),
      socket_(context, zmq::socket_type::router),
      worker_(context) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::router_mandatory, 1);
  socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxClientDataBytes + 4096));
}

ClientService::~ClientService() { Stop(); }

Status ClientService::Bind(const std::string& endpoint) {
  try {
    socket_.bind(endpoint);
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::IOError("cannot bind the client endpoint " + endpoint + ": " + e.what());
  }
  return Status::OK();
}

Status ClientService::BindPull(const std::string& endpoint) {
  try {
    pull_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::pull);
    pull_->set(zmq::sockopt::linger, 0);
    pull_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxClientDataBytes + 4096));
    pull_->bind(endpoint);
    pull_endpoint_ = pull_->get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::IOError("cannot bind the ingest endpoint " + endpoint + ": " + e.what());
  }
  return Status::OK();
}

zmq::socket_t* ClientService::pull_when_ready() {
  if (!pull_ || !work_) return nullptr;
  return queued_pushes_.load() < kMaxQueuedPushes ? pull_.get() : nullptr;
}

void ClientService::PostWork(std::string routing_id, std::string op, std::string request,
                             std::string data) {
  const bool push = routing_id.empty();
  if (push) ++queued_pushes_;
  worker_.Post(std::move(routing_id), [this, push, op = std::move(op), request = std::move(request),
                                       data = std::move(data)] {
    if (push) --queued_pushes_;
    try {
      return work_(op, request, data);
    } catch (const std::exception& e) {  // a bug must not take the node down
      return ErrorReply(Status::Internal(op + " failed: " + e.what()));
    }
  });
}

void ClientService::OnPush() {
  if (!pull_) return;
  while (true) {
    if (queued_pushes_.load() >= kMaxQueuedPushes) return;  // the rest waits in the socket
    std::vector<zmq::message_t> frames;
    try {
      auto got = zmq::recv_multipart(*pull_, std::back_inserter(frames), zmq::recv_flags::dontwait);
      if (!got) return;
    } catch (const zmq::error_t&) {
      return;
    }
    // The worker validates it like any append; a malformed push is counted there.
    std::string request = frames.empty() ? "" : frames[0].to_string();
    std::string data = frames.size() >= 2 ? frames[1].to_string() : "";
    if (frames.size() > 2 || request.size() > kMaxClientRequestBytes) {
      request = "";  // refused by the worker with the reason
      data = frames.size() > 2 ? "3+ frames" : "JSON over 64 KiB";
    }
    PostWork("", "push", std::move(request), std::move(data));
  }
}

void ClientService::Stop() { worker_.Stop(); }

void ClientService::Reply(const std::string& routing_id, const std::string& json) {
  std::array<zmq::const_buffer, 2> parts = {zmq::buffer(routing_id), zmq::buffer(json)};
  try {
    (void)zmq::send_multipart(socket_, parts, zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // The client went away: nothing to answer.
  }
}

void ClientService::OnRequest() {
  while (true) {
    std::vector<zmq::message_t> frames;
    try {
      auto got =
          zmq::recv_multipart(socket_, std::back_inserter(frames), zmq::recv_flags::dontwait);
      if (!got) return;
    } catch (const zmq::error_t&) {
      return;
    }
    if (frames.size() < 2) continue;  // no routing id and request: nobody to answer
    const std::string routing_id = frames[0].to_string();
    if (frames.size() > 3 || frames[1].size() > kMaxClientRequestBytes) {
      Reply(routing_id, ErrorReply(Status::InvalidArgument(
                            "a request is one JSON frame (at most 64 KiB) and an optional data "
                            "frame")));
      continue;
    }
    const std::string request = frames[1].to_string();
    nlohmann::json j = nlohmann::json::parse(request, nullptr, false);
    if (!j.is_object() || !j.contains("op") || !j["op"].is_string()) {
      Reply(routing_id, ErrorReply(Status::InvalidArgument(
                            "the request must be a JSON object with a string \"op\"")));
      continue;
    }
    const std::string op = j["op"].get<std::string>();
    if (op == "status") {
      Reply(routing_id, status_());
    } else if (!work_) {
      Reply(routing_id, ErrorReply(Status::InvalidArgument("unknown op '" + op + "' (status)")));
    } else {
      // Every other op is the role's (it answers an op it does not know with an error).
      PostWork(routing_id, op, request, frames.size() == 3 ? frames[2].to_string() : "");
    }
  }
}

void ClientService::OnWake() {
  for (const auto& [routing_id, json] : worker_.TakeDone()) Reply(routing_id, json);
}

void ClientService::Kick() { worker_.Kick(); }

void ClientService::Post(std::function<void()> job) {
  worker_.Post("", [job = std::move(job)] {
    job();
    return std::string();
  });
}

}  // namespace nemesyst::nodes
