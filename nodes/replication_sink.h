// Where a store node's change journal goes, as the store role sees it: the ZeroMQ link to its hub
// (HubLinkSink, nodes/store_role.cc) and the JetStream log (nodes/jetstream_sink.h) are both
// sinks. A store node runs either or both.
//
// The role asks each sink what it holds durably: semi-sync appends wait until every sink holds
// them, and the journal is trimmed only through what every sink holds (within the caps).
//
// Thread-safety: every method may be called from any thread.
#ifndef NEMESYST_NODES_REPLICATION_SINK_H_
#define NEMESYST_NODES_REPLICATION_SINK_H_

#include <cstdint>

#include "nemesyst/node.h"

namespace nemesyst::nodes {

class ReplicationSink {
 public:
  virtual ~ReplicationSink() = default;
  // The newest position the sink's receiver has acknowledged durably (0: nothing yet).
  virtual uint64_t durable_position() const = 0;
  // The sink as one peer of the node's status (transport, positions, errors).
  virtual PeerStatus status() const = 0;
  // The store has new changes: publish soon. Cheap; never blocks on the network.
  virtual void Notify() {}
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_REPLICATION_SINK_H_
