// Status of replication channels, as NodeStatus reports it (include/nemesyst/node.h), and its
// JSON form (`nemesyst node status --json`).
//
// Thread-safety: call on the thread that owns the leader / follower (the network thread).
#ifndef NEMESYST_NODES_STATUS_JSON_H_
#define NEMESYST_NODES_STATUS_JSON_H_

#include <string>

#include "nemesyst/node.h"
#include "nodes/follower.h"
#include "nodes/leader.h"

namespace nemesyst::nodes {

// The leader's view of follower `peer` on `channel`: what it acknowledged, and how far behind it
// is in changes, bytes and seconds (from the journal entries it has not applied).
PeerStatus LeaderPeerStatus(const Leader& leader, const std::string& peer,
                            const std::string& channel, const Store& store);
// {"ok":true,"serving":{...}}: a predict endpoint's answer to {"op":"status"}.
std::string ServingStatusToJson(const ServingStatus& status);

PeerStatus FollowerPeerStatus(const Follower& follower, const std::string& peer,
                              const std::string& channel);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_STATUS_JSON_H_
