// libFuzzer harness: the replication wire decoder (nodes/wire.h) on arbitrary frames, and every
// change a CHANGES message carries through the change decoder (storage/change_format.h) — what a
// node does with bytes from the network before trusting any of them.
#include <cstddef>
#include <cstdint>

#include "nodes/wire.h"
#include "storage/change_format.h"
#include "storage/meta_format.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nemesyst;
  auto message = nodes::DecodeMessage(fuzz::SplitFrames(data, size), 1 << 16);
  if (!message.ok()) return 0;
  (void)nodes::EncodeHeader(*message);  // whatever decodes must encode again
  for (const std::string& payload : message->payloads) {
    storage::DecodedChange change;
    if (storage::DecodeChange(payload, &change).ok()) {
      storage::JournalEntry entry;
      (void)storage::DecodeJournalEntry(change.descriptor, &entry);
    }
  }
  return 0;
}
