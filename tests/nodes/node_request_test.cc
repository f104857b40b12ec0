// The client call's own limits: an oversized request is refused at once, naming the limit,
// instead of being sent (the node would drop the connection and the caller would wait out its
// timeout).
#include <gtest/gtest.h>

#include <chrono>

#include <csignal>

#include "nemesyst/node.h"
#include "tests/nodes/cluster_fixture.h"
#include "tests/testing/node_process.h"

namespace nemesyst {
namespace {

TEST(NodeRequestTest, OversizedRequestsAreRefusedBeforeSending) {
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::FreePort());
  NodeClientOptions wait_long;
  wait_long.timeout_ms = 60000;
  const auto start = std::chrono::steady_clock::now();
  auto json = NodeRequest(endpoint, std::string(kMaxNodeRequestJsonBytes + 1, ' '), "", wait_long);
  ASSERT_FALSE(json.ok());
  EXPECT_TRUE(json.status().IsInvalidArgument()) << json.status().ToString();
  auto data = NodeRequest(endpoint, R"({"op":"append"})",
                          std::string(kMaxNodeRequestDataBytes + 1, 'x'), wait_long);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.status().message().find("256 MiB"), std::string_view::npos)
      << data.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20)) << "not sent";
  // Within the limits, nobody there: the timeout, named.
  NodeClientOptions quick;
  quick.timeout_ms = 100;
  auto none = NodeRequest(endpoint, R"({"op":"status"})", "", quick);
  EXPECT_EQ(none.status().code(), StatusCode::kDeadlineExceeded) << none.status().ToString();
}

// A kept connection: many requests; after a timeout (the node stopped with SIGSTOP) the reply that
// arrives late is not taken for the next request's.
TEST(NodeClientTest, AfterATimeoutTheLateReplyIsNotTheNextOnes) {
  testing::Cluster cluster;
  testing::NodeProcess* hub = cluster.StartHub();
  NodeClientOptions o;
  o.timeout_ms = 300;
  auto client = NodeClient::Connect(hub->client(), o).value();
  for (int i = 0; i < 3; ++i) {
    auto status = client->Request(R"({"op":"status"})");
    ASSERT_TRUE(status.ok()) << status.status().ToString();
    EXPECT_NE(status->find("\"role\""), std::string::npos) << *status;
  }
  hub->Signal(SIGSTOP);
  auto late = client->Request(R"({"op":"status"})");
  EXPECT_EQ(late.status().code(), StatusCode::kDeadlineExceeded);
  hub->Signal(SIGCONT);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the late reply is sent now
  auto next = client->Request(R"({"op":"no-such-op"})");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_NE(next->find("unknown op"), std::string::npos) << "got the stale reply: " << *next;
}

}  // namespace
}  // namespace nemesyst
