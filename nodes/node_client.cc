// NodeClient and NodeRequest: the client side of a node's client endpoint (a DEALER socket; the
// node answers each request with one JSON frame, in order).
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "nemesyst/node.h"

namespace nemesyst {

struct NodeClient::Impl {
  std::string endpoint;
  NodeClientOptions options;
  zmq::context_t context{1};
  std::unique_ptr<zmq::socket_t> socket;

  void Open() {
    socket = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
    socket->set(zmq::sockopt::linger, 0);
    if (!options.curve_secret_key.empty()) {
      char public_key[41];
      if (zmq_curve_public(public_key, options.curve_secret_key.c_str()) != 0) {
        throw zmq::error_t();
      }
      socket->set(zmq::sockopt::curve_serverkey, options.curve_server_key);
      socket->set(zmq::sockopt::curve_publickey, std::string(public_key));
      socket->set(zmq::sockopt::curve_secretkey, options.curve_secret_key);
    }
    socket->connect(endpoint);
  }
};

NodeClient::NodeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NodeClient::~NodeClient() = default;

const std::string& NodeClient::endpoint() const { return impl_->endpoint; }

Result<std::unique_ptr<NodeClient>> NodeClient::Connect(const std::string& endpoint,
                                                        const NodeClientOptions& options) {
  if (options.curve_secret_key.empty() != options.curve_server_key.empty() ||
      (!options.curve_secret_key.empty() &&
       (options.curve_secret_key.size() != 40 || options.curve_server_key.size() != 40))) {
    return Status::InvalidArgument(
        "a CURVE client needs both its secret key and the node's public key (40 characters of "
        "Z85 each)");
  }
  auto impl = std::make_unique<Impl>();
  impl->endpoint = endpoint;
  impl->options = options;
  try {
    impl->Open();
  } catch (const zmq::error_t& e) {
    return Status::InvalidArgument("cannot connect to '" + endpoint + "': " + e.what());
  }
  return std::unique_ptr<NodeClient>(new NodeClient(std::move(impl)));
}

Result<std::string> NodeClient::Request(const std::string& request_json, const std::string& data) {
  Impl& c = *impl_;
  if (request_json.size() > kMaxNodeRequestJsonBytes) {
    return Status::InvalidArgument("a node request's JSON is at most 64 KiB");
  }
  if (data.size() > kMaxNodeRequestDataBytes) {
    return Status::InvalidArgument(
        "one request to a node carries at most 256 MiB of data (this one " +
        std::to_string(data.size() >> 20) +
        " MiB): split the input, or ingest it on the node's machine");
  }
  try {
    std::vector<zmq::const_buffer> parts = {zmq::buffer(request_json)};
    if (!data.empty()) parts.push_back(zmq::buffer(data));
    if (!zmq::send_multipart(*c.socket, parts)) {
      return Status::IOError("cannot send to " + c.endpoint);
    }
    zmq::pollitem_t item = {c.socket->handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(c.options.timeout_ms));
    if ((item.revents & ZMQ_POLLIN) == 0) {
      c.Open();  // the late reply goes to the old connection, not to the next request
      return Status::DeadlineExceeded("no reply from " + c.endpoint + " within " +
                                      std::to_string(c.options.timeout_ms) +
                                      " ms (is a node running there?)");
    }
    std::vector<zmq::message_t> reply;
    (void)zmq::recv_multipart(*c.socket, std::back_inserter(reply));
    if (reply.empty()) return Status::Corruption("empty reply from " + c.endpoint);
    return reply.back().to_string();
  } catch (const zmq::error_t& e) {
    return Status::IOError("talking to " + c.endpoint + ": " + e.what());
  }
}

Result<std::string> NodeRequest(const std::string& endpoint, const std::string& request_json,
                                const std::string& data, const NodeClientOptions& options) {
  NEMESYST_ASSIGN_OR_RETURN(std::unique_ptr<NodeClient> client,
                            NodeClient::Connect(endpoint, options));
  return client->Request(request_json, data);
}

}  // namespace nemesyst
