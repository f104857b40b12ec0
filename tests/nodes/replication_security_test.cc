// CURVE on every replication socket: the hub admits only the keys on its allow-list, under the
// node id the list gives each key — so a store can write only its own namespace, whatever it
// claims — and a plaintext client cannot talk to it. Without keys, endpoints stay on loopback
// unless plaintext between machines is asked for explicitly.
#include <gtest/gtest.h>

#include <filesystem>

#include "nemesyst/node.h"
#include "tests/nodes/cluster_fixture.h"
#include "tests/testing/run_command.h"

namespace nemesyst::testing {
namespace {

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"hub", "a", "b", "stranger"}) {
      auto r = RunCli({"node", "keygen", "--out", cluster_.Path(std::string("key-") + name)});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      public_[name] = r.out.substr(0, 40);
    }
    WriteFile(cluster_.Path("allow"), "# store nodes of this hub\n" + public_["a"] + " store-a\n" +
                                          public_["b"] + " store-b  # the second\n");
    EXPECT_EQ(std::filesystem::status(cluster_.Path("key-hub.key")).permissions() &
                  (std::filesystem::perms::others_read | std::filesystem::perms::group_read),
              std::filesystem::perms::none)
        << "secret keys are for their owner only";
  }
  std::vector<std::string> HubKeys() {
    return {"--set", "node.secret_key_file=" + cluster_.Path("key-hub.key"), "--set",
            "node.allow_file=" + cluster_.Path("allow")};
  }
  std::vector<std::string> StoreKeys(const std::string& key) {
    return {"--set", "node.secret_key_file=" + cluster_.Path("key-" + key + ".key"), "--set",
            "node.hub_public_key_file=" + cluster_.Path("key-hub.pub")};
  }
  bool Connected(const std::string& id) {
    nlohmann::json s = NodeStatusJson(cluster_.StoreClient(id));
    return s.is_object() && s.value("connected", false);
  }
  Cluster cluster_;
  std::map<std::string, std::string> public_;
};

TEST_F(SecurityTest, AllowedKeysReplicateUnderTheirOwnNamespace) {
  cluster_.StartHub(HubKeys());
  cluster_.StartStore("store-a", StoreKeys("a"));
  cluster_.CreateFeed("store-a");
  ASSERT_TRUE(
      NodeAppend(cluster_.StoreClient("store-a"), "feed", BatchCsv(0, 50)).value("ok", false));
  ASSERT_TRUE(cluster_.WaitCaughtUp("store-a")) << cluster_.hub()->log();
  EXPECT_EQ(Digest(cluster_.HubReplica("store-a")), Digest(cluster_.Path("store-a")));
  EXPECT_NE(cluster_.hub()->log().find("authenticated=yes"), std::string::npos);
}

TEST_F(SecurityTest, UnknownKeysPlaintextClientsAndImpostorsAreRefused) {
  cluster_.StartHub(HubKeys());
  // A key that is not on the allow-list.
  cluster_.StartStore("stranger", StoreKeys("stranger"));
  // A plaintext client.
  cluster_.StartStore("plain");
  // Store A's key claiming to be store B.
  std::vector<std::string> impostor = StoreKeys("a");
  impostor.push_back("--set");
  impostor.push_back("node.id=store-b");
  cluster_.StartStore("store-b", impostor);
  cluster_.CreateFeed("store-b");
  ASSERT_TRUE(
      NodeAppend(cluster_.StoreClient("store-b"), "feed", BatchCsv(0, 50)).value("ok", false));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_FALSE(Connected("stranger"));
  EXPECT_FALSE(Connected("plain"));
  const std::string log = cluster_.hub()->log();
  EXPECT_NE(log.find("unknown key " + public_["stranger"]), std::string::npos) << log;
  EXPECT_NE(log.find("JOIN refused"), std::string::npos) << log;
  EXPECT_NE(log.find("handshake failed"), std::string::npos) << "the plaintext client: " << log;
  // Nothing was written under store-b's namespace (nor under the others').
  EXPECT_FALSE(std::filesystem::exists(cluster_.HubReplica("store-b")));
  EXPECT_FALSE(std::filesystem::exists(cluster_.HubReplica("stranger")));
  EXPECT_FALSE(std::filesystem::exists(cluster_.HubReplica("plain")));
  nlohmann::json s = NodeStatusJson(cluster_.StoreClient("store-b"));
  EXPECT_NE(s.dump().find("allowed as node 'store-a', not 'store-b'"), std::string::npos)
      << s.dump();
}

TEST_F(SecurityTest, PlaintextBeyondLoopbackMustBeAskedFor) {
  auto refused = RunCli({"--store", cluster_.Path("hub"), "--set", "node.http=off", "--set",
                         "node.control=tcp://127.0.0.1:*", "node", "run", "--role", "hub",
                         "--listen", "tcp://0.0.0.0:*", "--client", "tcp://127.0.0.1:*"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("node.plaintext_remote"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(cluster_.Path("hub"))) << "refused before anything";
  NodeProcess allowed(
      {"--store", cluster_.Path("hub"), "--set", "node.plaintext_remote=true", "--set",
       "node.http=off", "--set", "node.control=tcp://127.0.0.1:*", "node", "run", "--role", "hub",
       "--listen", "tcp://0.0.0.0:*", "--client", "tcp://127.0.0.1:*"},
      cluster_.Path("plain.log"));
  ASSERT_TRUE(allowed.WaitReady()) << allowed.log();
  EXPECT_NE(allowed.log().find("PLAINTEXT between machines"), std::string::npos);
  EXPECT_EQ(allowed.Terminate(), 0);
}

TEST(AllowListTest, ErrorsNameTheFileAndLine) {
  TempDir dir;
  WriteFile(dir.Sub("allow"), "# ok\n\nnot-a-key store-1\n");
  auto r = ReadAllowList(dir.Sub("allow"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("allow:3"), std::string::npos) << r.status().ToString();
  auto pair = GenerateCurveKeyPair();
  ASSERT_TRUE(pair.ok());
  WriteFile(dir.Sub("allow"), pair->public_key + "\n");
  EXPECT_NE(ReadAllowList(dir.Sub("allow")).status().message().find("allow:1"), std::string::npos);
  WriteFile(dir.Sub("allow"), pair->public_key + " store-1 extra\n");
  EXPECT_FALSE(ReadAllowList(dir.Sub("allow")).ok());
  WriteFile(dir.Sub("allow"), pair->public_key + " store-1\n");
  auto good = ReadAllowList(dir.Sub("allow"));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ((*good)[0].second, "store-1");
  EXPECT_EQ(CurvePublicKeyOf(pair->secret_key).value(), pair->public_key);
  EXPECT_FALSE(CurvePublicKeyOf("short").ok());
}

}  // namespace
}  // namespace nemesyst::testing
