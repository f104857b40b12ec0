// PredictionSubscriber (nemesyst/node.h): a SUB socket connected to serving nodes' PUB endpoints.
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <iterator>

#include "nemesyst/node.h"

namespace nemesyst {

struct PredictionSubscriber::Impl {
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::sub};
};

PredictionSubscriber::PredictionSubscriber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PredictionSubscriber::~PredictionSubscriber() = default;

Result<std::unique_ptr<PredictionSubscriber>> PredictionSubscriber::Connect(
    const std::vector<std::string>& endpoints, const std::string& device_prefix) {
  auto impl = std::make_unique<Impl>();
  try {
    impl->socket.set(zmq::sockopt::linger, 0);
    impl->socket.set(zmq::sockopt::rcvhwm, 1000000);  // a burst of a whole fleet's readings
    impl->socket.set(zmq::sockopt::subscribe, device_prefix);
    for (const std::string& e : endpoints) impl->socket.connect(e);
  } catch (const zmq::error_t& e) {
    return Status::InvalidArgument("cannot subscribe to predictions: " + std::string(e.what()));
  }
  return std::unique_ptr<PredictionSubscriber>(new PredictionSubscriber(std::move(impl)));
}

Result<std::optional<PredictionSubscriber::Message>> PredictionSubscriber::Next(int timeout_ms) {
  try {
    zmq::pollitem_t item{static_cast<void*>(impl_->socket), 0, ZMQ_POLLIN, 0};
    using Next = std::optional<Message>;
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) <= 0) return Next();
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(impl_->socket, std::back_inserter(frames),
                             zmq::recv_flags::dontwait)) {
      return Next();
    }
    if (frames.size() != 2) {
      return Status::Corruption("a prediction message has " + std::to_string(frames.size()) +
                                " frames, expected 2 (device, JSON)");
    }
    return Next(Message{frames[0].to_string(), frames[1].to_string()});
  } catch (const zmq::error_t& e) {
    return Status::IOError("receiving predictions: " + std::string(e.what()));
  }
}

}  // namespace nemesyst
