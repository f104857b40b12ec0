// The multi-process tests' `nemesyst node run` child (nemesyst::NodeProcess on the CLI of this
// build), plus the client calls the tests make.
//
// Thread-safety: one test thread per NodeProcess; the client helpers may be called from any.
#ifndef NEMESYST_TESTS_TESTING_NODE_PROCESS_H_
#define NEMESYST_TESTS_TESTING_NODE_PROCESS_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemesyst/node_process.h"

namespace nemesyst::testing {

// The node process of the CLI this build made (NEMESYST_CLI_PATH).
class NodeProcess : public nemesyst::NodeProcess {
 public:
  NodeProcess(std::vector<std::string> args, std::string log_path)
      : nemesyst::NodeProcess(NEMESYST_CLI_PATH, std::move(args), std::move(log_path)) {}
  // The ready line as JSON.
  nlohmann::json ready() const { return nlohmann::json::parse(ready_line(), nullptr, false); }
};

// The node's {"op":"status"} reply (null JSON on failure).
nlohmann::json NodeStatusJson(const std::string& client_endpoint, int timeout_ms = 2000);
// An append of `rows` (CSV with a header) to `stream`; the reply, or null on failure/timeout.
nlohmann::json NodeAppend(const std::string& client_endpoint, const std::string& stream,
                          const std::string& rows, int timeout_ms = 5000);
// Polls `condition` every 20 ms until it holds or `timeout_ms` passes.
bool WaitFor(const std::function<bool()>& condition, int timeout_ms);
// A loopback port free now (bound and released); for endpoints that must survive restarts.
int FreePort();

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_TESTING_NODE_PROCESS_H_
