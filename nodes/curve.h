// CURVE security for the node's sockets: key pairs, the allow-list file, and the ZAP handler's
// decision (RFC 27: the request libzmq sends for each new connection, and the reply that admits
// it under a user id — the node id the allow-list maps its key to — or refuses it).
//
// Thread-safety: pure functions; an AllowList is read-only after loading.
#ifndef NEMESYST_NODES_CURVE_H_
#define NEMESYST_NODES_CURVE_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::nodes {

// Z85 public key → node id.
using AllowList = std::map<std::string, std::string>;

// Decodes Z85 key text (40 characters) to its 32 bytes; InvalidArgument otherwise.
Result<std::string> DecodeCurveKey(std::string_view z85, std::string_view what);

// The ZAP reply frames for request `frames` (as received on inproc://zeromq.zap.01): 200 with
// the node id as user id for a CURVE client whose key is allowed; 400 otherwise (unknown key,
// another mechanism, a malformed request — never an exception). `*admitted` receives the node id
// or the reason, for the log.
std::vector<std::string> ZapReply(const std::vector<std::string_view>& frames,
                                  const AllowList& allowed, std::string* admitted);

// True for tcp://127.x.y.z:..., tcp://localhost:..., tcp://[::1]:..., ipc:// and inproc://.
bool IsLocalEndpoint(std::string_view endpoint);
// An endpoint this node can use: tcp://host:port, ipc://path or inproc://name ("what" names it
// in the error).
Status ValidateEndpoint(std::string_view endpoint, std::string_view what);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_CURVE_H_
