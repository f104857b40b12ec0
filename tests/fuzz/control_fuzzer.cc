// libFuzzer harness: what a node parses from a peer before it is authenticated or trusted — the
// ZAP request libzmq hands the hub for each connection (nodes/curve.h), a client request's
// ingest options (IngestOptionsFromJson), and a control request's envelope (ParseControlRequest).
#include <cstddef>
#include <cstdint>
#include <string>

#include "nemesyst/ingest.h"
#include "nodes/control_service.h"
#include "nodes/curve.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nemesyst;
  static const nodes::AllowList allowed = {{std::string(40, '0'), "store-1"}};
  std::string who;
  auto reply = nodes::ZapReply(fuzz::SplitFrames(data, size), allowed, &who);
  if (reply.size() != 6) __builtin_trap();  // a ZAP reply always has its six frames
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)IngestOptionsFromJson(text);
  nlohmann::json id;
  auto request = nodes::ParseControlRequest(text, &id);
  if (request.ok() && (request->op.empty() && !request->body.contains("op"))) __builtin_trap();
  if (!id.is_null() && !id.is_string() && !id.is_number_integer()) __builtin_trap();
  return 0;
}
