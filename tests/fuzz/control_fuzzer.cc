// libFuzzer harness: what a node parses from a peer before it is authenticated or trusted — the
// ZAP request libzmq hands the hub for each connection (nodes/curve.h), and a client request's
// ingest options (IngestOptionsFromJson).
#include <cstddef>
#include <cstdint>
#include <string>

#include "nemesyst/ingest.h"
#include "nodes/curve.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nemesyst;
  static const nodes::AllowList allowed = {{std::string(40, '0'), "store-1"}};
  std::string who;
  auto reply = nodes::ZapReply(fuzz::SplitFrames(data, size), allowed, &who);
  if (reply.size() != 6) __builtin_trap();  // a ZAP reply always has its six frames
  (void)IngestOptionsFromJson(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
