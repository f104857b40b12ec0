// The JetStream options' checks (nodes/nats_connection.h): what a node refuses before it connects.
#include "nodes/nats_connection.h"

#include <gtest/gtest.h>

namespace nemesyst::nodes {
namespace {

JetStreamOptions Loopback() {
  JetStreamOptions o;
  o.servers = "nats://127.0.0.1:4222, nats://localhost:4223";
  return o;
}

TEST(NatsConnectionTest, LoopbackServersAreAcceptedAsTheyAre) {
  EXPECT_TRUE(ValidateJetStreamOptions(Loopback(), false).ok());
}

TEST(NatsConnectionTest, ServersBeyondLoopbackNeedTlsOrAnExplicitChoice) {
  JetStreamOptions o = Loopback();
  o.servers = "nats://127.0.0.1:4222,nats://10.0.0.7:4222";
  Status refused = ValidateJetStreamOptions(o, false);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("10.0.0.7"), std::string::npos) << refused.ToString();
  EXPECT_NE(refused.message().find("tls_ca_file"), std::string::npos) << refused.ToString();
  EXPECT_TRUE(ValidateJetStreamOptions(o, true).ok());  // node.plaintext_remote
  o.tls_ca_file = "/etc/nats/ca.pem";
  EXPECT_TRUE(ValidateJetStreamOptions(o, false).ok());
  o.tls_cert_file = "/etc/nats/client.pem";  // without its key
  EXPECT_FALSE(ValidateJetStreamOptions(o, false).ok());
  o.tls_key_file = "/etc/nats/client.key";
  EXPECT_TRUE(ValidateJetStreamOptions(o, false).ok());
}

TEST(NatsConnectionTest, BadOptionsNameTheKey) {
  auto refused_naming = [](JetStreamOptions o, const std::string& key) {
    Status s = ValidateJetStreamOptions(o, false);
    return !s.ok() && s.message().find(key) != std::string::npos;
  };
  JetStreamOptions o = Loopback();
  o.servers = " , ";
  EXPECT_TRUE(refused_naming(o, "jetstream.servers"));
  o = Loopback();
  o.replicas = 0;
  EXPECT_TRUE(refused_naming(o, "jetstream.replicas"));
  o = Loopback();
  o.stream = "a.b";
  EXPECT_TRUE(refused_naming(o, "jetstream.stream"));
  o = Loopback();
  o.subject_prefix = "a.>";
  EXPECT_TRUE(refused_naming(o, "jetstream.subject_prefix"));
  o = Loopback();
  o.max_message_bytes = 100;
  EXPECT_TRUE(refused_naming(o, "jetstream.max_message_bytes"));
  o = Loopback();
  o.lease_ms = 10;
  EXPECT_TRUE(refused_naming(o, "lease_ms"));
}

TEST(NatsConnectionTest, StoreIdsBecomeSubjectTokensWithoutDots) {
  JetStreamOptions o;
  EXPECT_EQ(LogSubject(o, "store-7.a"), "nemesyst.log.store-7%a");
  EXPECT_EQ(SubjectToken("a.b.c"), "a%b%c");
  EXPECT_EQ(RegistrySubject(o), "nemesyst.registry");
}

}  // namespace
}  // namespace nemesyst::nodes
