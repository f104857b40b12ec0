// libFuzzer harness: a message read from a store's JetStream log (nodes/jetstream_log.h) — what a
// hub worker decodes before applying anything — and every change it carries through the change
// decoder (storage/change_format.h). Whatever decodes must encode to bytes that decode the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "nodes/jetstream_log.h"
#include "storage/change_format.h"
#include "storage/meta_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nemesyst;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto message = nodes::DecodeLogMessage(bytes);
  if (!message.ok()) return 0;
  const std::string again = nodes::EncodeLogMessage(*message);
  auto twice = nodes::DecodeLogMessage(again);
  if (!twice.ok() || nodes::MessageId(*twice) != nodes::MessageId(*message) ||
      twice->changes != message->changes || twice->data != message->data) {
    std::abort();  // the encoding does not round-trip
  }
  (void)nodes::MessageId(*message);
  for (std::string_view change : message->changes) {
    storage::DecodedChange decoded;
    if (storage::DecodeChange(change, &decoded).ok()) {
      storage::JournalEntry entry;
      (void)storage::DecodeJournalEntry(decoded.descriptor, &entry);
    }
  }
  return 0;
}
