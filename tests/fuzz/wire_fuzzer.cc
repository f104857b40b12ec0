// libFuzzer harness: the replication wire decoder (nodes/wire.h) on arbitrary frames, and every
// change a CHANGES message carries through the change decoder (storage/change_format.h), and the
// JSON of a SHED / SHED_REPLY through the dispatch decoders (nodes/shed_messages.h) — what a node
// does with bytes from the network before trusting any of them.
#include <cstddef>
#include <cstdint>

#include "nodes/shed_messages.h"
#include "nodes/wire.h"
#include "storage/change_format.h"
#include "storage/meta_format.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nemesyst;
  auto message = nodes::DecodeMessage(fuzz::SplitFrames(data, size), 1 << 16);
  if (!message.ok()) return 0;
  (void)nodes::EncodeHeader(*message);  // whatever decodes must encode again
  if (message->type == nodes::MsgType::kShed) {
    (void)nodes::DecodeShedAsk(message->payloads.at(0));
    return 0;
  }
  if (message->type == nodes::MsgType::kShedReply) {
    (void)nodes::DecodeShedAnswer(message->payloads.at(0));
    return 0;
  }
  for (const std::string& payload : message->payloads) {
    storage::DecodedChange change;
    if (storage::DecodeChange(payload, &change).ok()) {
      storage::JournalEntry entry;
      (void)storage::DecodeJournalEntry(change.descriptor, &entry);
    }
  }
  return 0;
}
