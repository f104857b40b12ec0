// The replication wire protocol between a store node and its hub (docs/replication.md has every
// frame with its purpose; this header is the byte layout).
//
// A message is one ZeroMQ multipart message (after the routing-id frame on the hub's ROUTER):
//   frame 0  header: "NRP1" | type:u8 | channel:u8 | body (below; integers little-endian, strings
//            varint-length-prefixed) | crc32c:u32 of everything before it (a plaintext link's
//            flipped bit in a position or a credit is refused, not believed)
//   frame 1… payloads: one per change of a CHANGES message; the data of a FRAGMENT or BOOT_CHUNK
//
// Bodies by type:
//   JOIN       node_id | role:u8 (1 store, 2 hub) | protocol:u16
//   HELLO      history_id | applied:u64 | applied_stamp:u64 | granted_bytes:u64 |
//              granted_changes:u64 | epoch:u64 | partial_position:u64 | partial_offset:u64 |
//              partial_digest
//   WELCOME    bootstrap:u8 | history_id | previous_id | switch_position:u64 | leader_last:u64 |
//              epoch:u64 | snapshot_id | file_count:u32 | file_count × {name | size:u64 | digest}
//   CHANGES    history_id | epoch:u64 | prev_position:u64 | leader_last:u64 | sent_us:i64 |
//              count:u32                                   (+ count payload frames)
//   FRAGMENT   history_id | epoch:u64 | prev_position:u64 | position:u64 | total:u64 |
//              offset:u64 | digest                         (+ 1 payload frame)
//   ACK        applied:u64 | durable:u64 | granted_bytes:u64 | granted_changes:u64 |
//              partial_position:u64 | partial_offset:u64
//   HEARTBEAT  position:u64 | now_us:i64
//   BOOT_FETCH snapshot_id | file:u32 | offset:u64 | max_bytes:u32
//   BOOT_CHUNK snapshot_id | file:u32 | offset:u64 | last:u8 (+ 1 payload frame)
//   ERROR      code:u16 | detail
//   REPORT     detail — a store node's JSON report to its hub, every heartbeat: what it serves
//              ({"reference","model","building","devices","last_error"}; docs/control.md)
//   SHED       (no body) + 1 payload frame: the hub's dispatch request to a store, JSON
//              {"id","ask","shed_kw","duration_s","margin_s"} (docs/control.md, "dispatch")
//   SHED_REPLY (no body) + 1 payload frame: the store's plan for it, JSON
//              {"id","ask","ok","confirmed_kw","available_kw","cases":[...]} or {"id","ask","ok":
//              false,"error"}
//
// Decoding checks every length against the frame and the limits below; anything malformed is an
// InvalidArgument naming the field, never a crash (fuzzed: tests/fuzz/wire_fuzzer.cc).
//
// Thread-safety: pure functions.
#ifndef NEMESYST_NODES_WIRE_H_
#define NEMESYST_NODES_WIRE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::nodes {

inline constexpr std::string_view kWireMagic = "NRP1";
inline constexpr uint16_t kProtocolVersion = 1;
// Limits a decoder enforces (a peer may not make us allocate more).
inline constexpr size_t kMaxWireString = 4096;
inline constexpr uint32_t kMaxSnapshotFiles = 100000;
inline constexpr uint32_t kMaxChangesPerMessage = 65536;
// What a receiver accepts in one payload frame (and the sockets' ZMQ_MAXMSGSIZE, plus the
// header's room): independent of the frame size a sender is configured with, so nodes whose
// node.max_frame_bytes differ still understand each other.
inline constexpr uint32_t kMaxWireFrameBytes = 16u << 20;
// A change sent in fragments is assembled whole (to verify its XXH3-128 digest and apply it).
inline constexpr uint64_t kMaxChangeBytes = uint64_t{2} << 30;

enum class MsgType : uint8_t {
  kJoin = 1,
  kHello = 2,
  kWelcome = 3,
  kChanges = 4,
  kFragment = 5,
  kAck = 6,
  kHeartbeat = 7,
  kBootFetch = 8,
  kBootChunk = 9,
  kError = 10,
  kReport = 11,
  kShed = 12,
  kShedReply = 13,
};
std::string_view MsgTypeName(MsgType type);

// Which namespace a message is about: the store's data (store leads, hub follows) or the hub's
// registry (hub leads, store follows). JOIN, HEARTBEAT and ERROR may use kNode.
enum class Channel : uint8_t { kData = 0, kRegistry = 1, kNode = 2 };
std::string_view ChannelName(Channel channel);

enum class ErrorCode : uint16_t {
  kNeedHello = 1,        // the peer has no session for this channel: say HELLO first
  kHistory = 2,          // history ids differ: the follower must bootstrap
  kStaleEpoch = 3,       // registry changes from an epoch lower than one already accepted
  kNotAuthorized = 4,    // the authenticated key does not name this node (or role)
  kProtocol = 5,         // unsupported version or a message out of place
  kBadChecksum = 6,      // a change or chunk failed its checksum: sent again from the last good
  kStoreError = 7,       // the peer's store failed (it stops this session)
  kUnknownSnapshot = 8,  // the snapshot a BOOT_FETCH names is gone: HELLO again
};

struct SnapshotFile {
  std::string name;
  uint64_t size = 0;
  std::string digest;  // hex
};

// One decoded message: the fields of its type are set, the rest keep their defaults.
struct WireMessage {
  MsgType type = MsgType::kHeartbeat;
  Channel channel = Channel::kNode;
  // JOIN
  std::string node_id;
  uint8_t role = 0;
  uint16_t protocol = kProtocolVersion;
  // HELLO / WELCOME / CHANGES / FRAGMENT
  std::string history_id;
  uint64_t applied = 0;
  uint64_t applied_stamp = 0;
  uint64_t granted_bytes = 0;
  uint64_t granted_changes = 0;
  uint64_t epoch = 0;
  uint64_t partial_position = 0;
  uint64_t partial_offset = 0;
  std::string partial_digest;
  bool bootstrap = false;
  std::string previous_id;
  uint64_t switch_position = 0;
  uint64_t leader_last = 0;
  std::string snapshot_id;
  std::vector<SnapshotFile> files;
  uint64_t prev_position = 0;
  int64_t sent_us = 0;
  uint64_t position = 0;
  uint64_t total = 0;
  uint64_t offset = 0;
  std::string digest;
  // ACK
  uint64_t durable = 0;
  // HEARTBEAT
  int64_t now_us = 0;
  // BOOT_FETCH / BOOT_CHUNK
  uint32_t file = 0;
  uint32_t max_bytes = 0;
  bool last = false;
  // ERROR
  ErrorCode error = ErrorCode::kProtocol;
  std::string detail;  // ERROR, REPORT
  // Frames after the header (changes, fragment or chunk data; SHED / SHED_REPLY JSON).
  std::vector<std::string> payloads;
};

// The header frame of `message` (payloads are sent as frames of their own).
std::string EncodeHeader(const WireMessage& message);
// `frames`: the header frame then the payload frames. `max_payload_bytes` bounds each payload.
Result<WireMessage> DecodeMessage(const std::vector<std::string_view>& frames,
                                  size_t max_payload_bytes);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_WIRE_H_
