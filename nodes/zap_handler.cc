#include "nodes/zap_handler.h"

#include <zmq_addon.hpp>

#include <optional>
#include <vector>

#include "nodes/socket_util.h"

namespace nemesyst::nodes {

ZapHandler::ZapHandler(zmq::context_t& context, std::map<std::string, AllowList> by_domain,
                       Logger* logger, std::string component)
    : socket_(context, zmq::socket_type::rep),
      by_domain_(std::move(by_domain)),
      logger_(logger),
      component_(std::move(component)) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind("inproc://zeromq.zap.01");
}

void ZapHandler::OnReadable() {
  static const AllowList kNobody;
  while (true) {
    std::vector<zmq::message_t> frames;
    try {
      auto got =
          zmq::recv_multipart(socket_, std::back_inserter(frames), zmq::recv_flags::dontwait);
      if (!got) return;
    } catch (const zmq::error_t&) {
      return;
    }
    std::vector<std::string_view> views;
    for (const auto& f : frames) views.emplace_back(f.data<char>(), f.size());
    // Frame 2 is the socket's ZAP domain: which list decides.
    const auto list = views.size() > 2 ? by_domain_.find(std::string(views[2])) : by_domain_.end();
    std::string who;
    std::vector<std::string> reply =
        ZapReply(views, list != by_domain_.end() ? list->second : kNobody, &who);
    if (reply[2] != "200") {
      logger_->Log(LogLevel::kWarn, component_, "connection refused",
                   {{"why", who}, {"address", views.size() > 3 ? std::string(views[3]) : ""}});
    }
    std::vector<zmq::const_buffer> parts;
    for (const std::string& r : reply) parts.push_back(zmq::buffer(r));
    try {
      (void)zmq::send_multipart(socket_, parts);
    } catch (const zmq::error_t&) {
    }
  }
}

}  // namespace nemesyst::nodes
