// Keys of the node-state values the replication roles keep in a replica (Store::PutNodeState).
#ifndef NEMESYST_NODES_REPLICATION_KEYS_H_
#define NEMESYST_NODES_REPLICATION_KEYS_H_

namespace nemesyst::nodes {

// The hub's epoch the replica follows (PutFixed64): the ZeroMQ follower and the JetStream feed
// keep it under this one key, in the same encoding.
inline constexpr const char* kEpochKey = "replication.epoch";

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_REPLICATION_KEYS_H_
