// Which endpoints count as this machine (plaintext is allowed only there) and which are usable.
#include <gtest/gtest.h>

#include "nodes/curve.h"

namespace nemesyst::nodes {
namespace {

TEST(EndpointTest, OnlyLoopbackAddressesAreLocal) {
  for (const char* local : {"tcp://127.0.0.1:7750", "tcp://127.1.2.3:*", "tcp://localhost:1",
                            "tcp://[::1]:7750", "ipc:///tmp/n.sock", "inproc://x"}) {
    EXPECT_TRUE(IsLocalEndpoint(local)) << local;
  }
  for (const char* remote :
       {"tcp://127.example.com:7750", "tcp://127.0.0.1.evil.net:7750", "tcp://10.0.0.1:7750",
        "tcp://128.0.0.1:7750", "tcp://127.0.0.256:1", "tcp://127.0.0:1", "tcp://127.0.0.1",
        "tcp://eth0;127.0.0.1:7750", "tcp://0.0.0.0:7750", "tcp://*:7750", "udp://127.0.0.1:1",
        "tcp://localhost.evil:1", ""}) {
    EXPECT_FALSE(IsLocalEndpoint(remote)) << remote;
  }
}

TEST(EndpointTest, MalformedEndpointsAreRefusedByName) {
  EXPECT_TRUE(ValidateEndpoint("tcp://hub.example:7750", "hub endpoint").ok());
  EXPECT_TRUE(ValidateEndpoint("tcp://127.0.0.1:*", "listen endpoint").ok());
  EXPECT_TRUE(ValidateEndpoint("ipc:///run/nemesyst.sock", "client endpoint").ok());
  for (const char* bad : {"", "127.0.0.1:7750", "tcp://hub", "tcp://:7750", "tcp://hub:", "ipc://",
                          "http://hub:80"}) {
    Status s = ValidateEndpoint(bad, "hub endpoint");
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("hub endpoint"), std::string_view::npos) << s.ToString();
  }
  EXPECT_FALSE(ValidateEndpoint("tcp://" + std::string(2000, 'h') + ":1", "x").ok());
}

}  // namespace
}  // namespace nemesyst::nodes
