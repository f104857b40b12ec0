// The ZAP handler of a node's ZeroMQ context (RFC 27): libzmq asks it about every new connection
// to a CURVE server socket of that context, and it admits a key on the list of the socket's ZAP
// domain under the user id that list gives it (ZapReply), refusing everything else. Refusals are
// logged with the reason and the peer's address.
//
// Thread-safety: the network thread's (bind before any CURVE server socket of the context; poll
// socket(), call OnReadable).
#ifndef NEMESYST_NODES_ZAP_HANDLER_H_
#define NEMESYST_NODES_ZAP_HANDLER_H_

#include <zmq.hpp>

#include <map>
#include <string>

#include "nemesyst/logger.h"
#include "nodes/curve.h"

namespace nemesyst::nodes {

class ZapHandler {
 public:
  // `by_domain`: ZAP domain → its allow-list (a domain not listed admits nobody).
  ZapHandler(zmq::context_t& context, std::map<std::string, AllowList> by_domain, Logger* logger,
             std::string component);
  zmq::socket_t& socket() { return socket_; }
  void OnReadable();

 private:
  zmq::socket_t socket_;
  std::map<std::string, AllowList> by_domain_;
  Logger* logger_;
  std::string component_;
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_ZAP_HANDLER_H_
