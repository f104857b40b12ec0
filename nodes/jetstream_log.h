// The messages of a store's log on JetStream (docs/scale-out.md, "The log"): what a store node
// publishes on <prefix>.log.<store> and a hub worker applies to its view of that store.
//
// A message carries a run of the store's change journal: the changes after position `after`
// through `last`, each the self-describing, checksummed bytes Store::ReadChanges returns. A change
// bigger than a message goes as FRAGMENTs of one position, each saying its offset, the whole
// change's size and its XXH3-128 digest; the consumer applies the change once every fragment has
// arrived and the digest matches.
//
// Every message names the store, its history id and `after`, so a consumer detects a gap (a
// message that does not follow what it applied) rather than skipping it, and a change of history
// (a store restored from a backup) rather than mixing two pasts. `last_stamp` is the journal stamp
// of the change at `last`: a store resuming proves with it that the log's tail is its own past.
//
// Encoding (little-endian; every length is checked on decode):
//   "NJL1"  kind:u8 (1 changes, 2 fragment)  store:len-prefixed  history:len-prefixed
//   after:u64  last:u64  last_stamp:u64  epoch:u64
//   kind 1: count:varint, then count × change:len-prefixed
//   kind 2: total:u64  offset:u64  digest:len-prefixed (32 hex)  data:rest
// The JetStream message id (de-duplication) is MessageId(): store, history and the run it carries.
#ifndef NEMESYST_NODES_JETSTREAM_LOG_H_
#define NEMESYST_NODES_JETSTREAM_LOG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::nodes {

enum class LogMessageKind : uint8_t { kChanges = 1, kFragment = 2 };

struct LogMessage {
  LogMessageKind kind = LogMessageKind::kChanges;
  std::string store;
  std::string history;
  uint64_t after = 0;       // the position this message follows
  uint64_t last = 0;        // the last position it carries (a fragment: its change's position)
  uint64_t last_stamp = 0;  // the journal stamp of the change at `last`
  uint64_t epoch = 0;       // registry logs: the publishing hub's epoch; 0 for data
  // kChanges: the changes, in order (views into the decoded bytes).
  std::vector<std::string_view> changes;
  // kFragment.
  uint64_t total = 0, offset = 0;
  std::string digest;
  std::string_view data;
};

std::string EncodeLogMessage(const LogMessage& message);
// Corruption naming the field for anything malformed: a wrong magic or kind, a truncated field,
// last <= after, a bad digest text, a fragment past its total, an empty run.
Result<LogMessage> DecodeLogMessage(std::string_view bytes);
// "<store>:<history>:<after>:<last>" (a fragment adds ":f<offset>"): the same run of the same
// past always gets the same id, so a resend is de-duplicated by JetStream, and any other run
// (a store that resumed and batched differently) gets another id.
std::string MessageId(const LogMessage& message);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_JETSTREAM_LOG_H_
