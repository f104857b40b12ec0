// The replication protocol without sockets: a Leader and a Follower exchange real wire messages
// (encoded and decoded) through queues that can drop, duplicate, reorder and corrupt them, with a
// seed. Whatever the faults, the follower ends with exactly the leader's replicated content —
// never a skipped change — and each recovery path is the one the protocol says.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <random>

#include "nodes/follower.h"
#include "nodes/leader.h"
#include "nodes/wire.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst::nodes {
namespace {

StreamSchema Schema() {
  StreamSchema schema;
  schema.fields.push_back({"t", FieldType::kFloat64, "", std::nullopt, std::nullopt});
  return schema;
}

std::vector<Record> Rows(int n, int base) {
  std::vector<Record> rows;
  for (int i = 0; i < n; ++i) rows.push_back({"dev-" + std::to_string(i % 3), base + i, {1.0 * i}});
  return rows;
}

std::unique_ptr<Store> OpenStore(const std::string& path) {
  StoreOptions o;
  o.durability = Durability::kAsync;
  o.model_chunk_bytes = 64 * 1024;
  std::unique_ptr<Store> store;
  EXPECT_TRUE(Store::Open(o, path, &store).ok());
  return store;
}

struct Faults {
  double drop = 0, duplicate = 0, reorder = 0, flip = 0;
};

// Two one-way queues between a leader and a follower; messages travel as encoded frames.
class Link {
 public:
  Link(Leader* leader, Follower* follower, uint64_t seed)
      : leader_(leader), follower_(follower), rng_(seed) {}
  Faults to_follower, to_leader;

  void ToFollower(const WireMessage& m) { Put(&to_follower_, m, to_follower); }
  void ToLeader(const WireMessage& m) { Put(&to_leader_, m, to_leader); }

  // Delivers everything queued (and what that triggers), then pumps and ticks. Returns whether
  // anything moved.
  bool Step(int max_deliveries = 10000) {
    bool moved = false;
    auto send_to_leader = [this](WireMessage m) { ToLeader(m); };
    auto send_to_follower = [this](const std::string&, WireMessage m) { ToFollower(m); };
    for (int n = 0; n < max_deliveries && (!to_follower_.empty() || !to_leader_.empty()); ++n) {
      moved = true;
      if (!to_leader_.empty()) {
        auto frames = std::move(to_leader_.front());
        to_leader_.pop_front();
        auto m = Decode(frames);
        if (m.ok()) {
          EXPECT_TRUE(leader_->OnMessage("f", *m, send_to_follower).ok());
        }
      }
      if (!to_follower_.empty()) {
        auto frames = std::move(to_follower_.front());
        to_follower_.pop_front();
        auto m = Decode(frames);
        if (m.ok()) {
          Status s = follower_->OnMessage(*m, send_to_leader);
          EXPECT_TRUE(s.ok()) << s.ToString();
        }
      }
    }
    EXPECT_TRUE(leader_->Pump(send_to_follower).ok());
    follower_->Tick(send_to_leader);
    return moved;
  }

  // Steps until the follower has applied `position` (bounded).
  bool RunUntilApplied(uint64_t position, int max_steps = 20000) {
    for (int i = 0; i < max_steps; ++i) {
      Step();
      if (follower_->status().applied >= position && !follower_->status().bootstrapping &&
          to_follower_.empty()) {
        return true;
      }
      if (i % 50 == 49) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

  void Clear() {
    to_follower_.clear();
    to_leader_.clear();
  }

 private:
  using Frames = std::vector<std::string>;
  static Result<WireMessage> Decode(const Frames& frames) {
    std::vector<std::string_view> views(frames.begin(), frames.end());
    return DecodeMessage(views, 1 << 22);
  }
  void Put(std::deque<Frames>* q, const WireMessage& m, const Faults& f) {
    Frames frames = {EncodeHeader(m)};
    frames.insert(frames.end(), m.payloads.begin(), m.payloads.end());
    std::uniform_real_distribution<double> u(0, 1);
    if (u(rng_) < f.drop) return;
    if (u(rng_) < f.flip) {
      for (std::string& p : frames) {
        if (&p != &frames[0] && !p.empty()) {
          p[rng_() % p.size()] ^= static_cast<char>(1 << (rng_() % 8));
          break;
        }
      }
    }
    const bool dup = u(rng_) < f.duplicate;
    if (u(rng_) < f.reorder && !q->empty()) {
      q->insert(q->end() - 1, frames);
    } else {
      q->push_back(frames);
    }
    if (dup) q->push_back(frames);
  }
  Leader* leader_;
  Follower* follower_;
  std::mt19937_64 rng_;
  std::deque<Frames> to_follower_, to_leader_;
};

class ReplicationProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = OpenStore(dir_.Sub("source"));
    ASSERT_TRUE(source_->CreateStream("fleet", Schema()).ok());
  }
  std::unique_ptr<Leader> MakeLeader(uint64_t epoch = 0, Channel channel = Channel::kData) {
    LeaderOptions o;
    o.channel = channel;
    o.epoch = epoch;
    o.max_frame_bytes = 32 * 1024;
    o.max_changes_per_message = 16;
    return std::make_unique<Leader>(source_.get(), o, dir_.Sub("snapshots"));
  }
  std::unique_ptr<Follower> MakeFollower(bool check_epoch = false, Channel channel = Channel::kData,
                                         uint32_t fetch_bytes = 32 * 1024) {
    FollowerOptions o;
    o.bootstrap_chunks_in_flight = chunks_in_flight_;
    o.channel = channel;
    o.replica_path = dir_.Sub(replica_name_);
    o.window_bytes = 256 * 1024;
    o.window_changes = 64;
    o.max_frame_bytes = fetch_bytes;
    o.stall_timeout_ms = 20;
    o.check_epoch = check_epoch;
    auto f = Follower::Open(o);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return std::move(*f);
  }
  void Write(int appends) {
    for (int i = 0; i < appends; ++i) {
      ASSERT_TRUE(source_->Append("fleet", Rows(20, written_ += 20)).ok());
    }
  }
  void ExpectSameContent(Follower& f) {
    EXPECT_EQ(f.replica().ReplicatedDigest().value(), source_->ReplicatedDigest().value());
    EXPECT_EQ(f.replica().History().id, source_->History().id);
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> source_;
  int written_ = 0;
  uint32_t chunks_in_flight_ = 1;
  std::string replica_name_ = "replica";
};

TEST_F(ReplicationProtocolTest, CatchesUpFromNothingAndResumesWhereItStopped) {
  Write(30);
  auto leader = MakeLeader();
  auto follower = MakeFollower();
  Link link(leader.get(), follower.get(), 1);
  link.ToLeader(follower->Hello());
  ASSERT_TRUE(link.RunUntilApplied(source_->LastChangePosition()));
  ExpectSameContent(*follower);
  EXPECT_EQ(follower->status().bootstraps, 0u);

  // The follower restarts: it resumes after its applied position, receiving only what is new.
  const uint64_t applied = follower->status().applied;
  follower.reset();
  Write(5);
  follower = MakeFollower();
  EXPECT_EQ(follower->status().applied, applied);
  leader->EndSession("f");
  Link again(leader.get(), follower.get(), 2);
  again.ToLeader(follower->Hello());
  ASSERT_TRUE(again.RunUntilApplied(source_->LastChangePosition()));
  EXPECT_EQ(leader->followers().at("f").sent_changes, 5u);
  ExpectSameContent(*follower);
}

// Drops, duplicates, reordering and flipped bits: positions, checksums and credit recover every
// one of them, and the copy is exact.
TEST_F(ReplicationProtocolTest, SurvivesALossyCorruptingLinkWithoutSkippingAnything) {
  for (uint64_t seed : {11u, 12u, 13u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Write(60);
    auto leader = MakeLeader();
    auto follower = MakeFollower();
    Link link(leader.get(), follower.get(), seed);
    link.to_follower = {0.15, 0.15, 0.15, 0.15};
    link.to_leader = {0.1, 0.1, 0.1, 0.0};
    link.ToLeader(follower->Hello());
    ASSERT_TRUE(link.RunUntilApplied(source_->LastChangePosition()));
    ExpectSameContent(*follower);
    const FollowerStatus& s = follower->status();
    EXPECT_GT(s.duplicates + s.gaps + s.checksum_failures + s.resyncs, 0u);
    follower.reset();
    std::filesystem::remove_all(dir_.Sub("replica"));
  }
}

TEST_F(ReplicationProtocolTest, BigChangesGoInFragmentsAndResumeWhereTheyStopped) {
  Write(2);
  std::string blob(300 * 1024, '\0');
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>((i * 131) >> 3);
  ASSERT_TRUE(source_->PutModel("m", blob, {}).ok());
  auto leader = MakeLeader();
  auto follower = MakeFollower();
  {
    Link link(leader.get(), follower.get(), 3);
    link.ToLeader(follower->Hello());
    // Stop half-way through the model's fragments (what is still queued is lost).
    for (int i = 0; i < 200 && follower->status().partial_bytes < 100 * 1024; ++i) link.Step();
    ASSERT_GE(follower->status().partial_bytes, 100 * 1024u);
    ASSERT_LT(follower->status().applied, source_->LastChangePosition());
  }
  leader->EndSession("f");
  const uint64_t have = follower->status().partial_bytes;
  follower.reset();  // the process restarts too: the partial change is on disk
  follower = MakeFollower();
  Link link(leader.get(), follower.get(), 4);
  link.ToLeader(follower->Hello());
  ASSERT_TRUE(link.RunUntilApplied(source_->LastChangePosition()));
  EXPECT_LE(leader->followers().at("f").sent_bytes, blob.size() + 4096 - have)
      << "resumed where the partial copy stopped, not sent again";
  EXPECT_EQ(follower->replica().ReadModelBlob("m", 1).value(), blob);
  ExpectSameContent(*follower);
}

// A follower that fell behind what the journal still holds is bootstrapped from a checkpoint; an
// interrupted bootstrap resumes with the same snapshot.
TEST_F(ReplicationProtocolTest, BootstrapsPastTheJournalAndResumesAnInterruptedBootstrap) {
  Write(40);
  ASSERT_TRUE(source_->TrimJournal(20).ok());
  auto leader = MakeLeader();
  auto follower = MakeFollower(false, Channel::kData, /*fetch_bytes=*/1024);
  {
    Link link(leader.get(), follower.get(), 5);
    link.ToLeader(follower->Hello());
    for (int i = 0; i < 100 && follower->status().bootstrap_received < 4096; ++i) link.Step(1);
    ASSERT_TRUE(follower->status().bootstrapping);
  }
  const uint64_t received = follower->status().bootstrap_received;
  EXPECT_GT(received, 0u);
  leader->EndSession("f");
  follower.reset();  // even across a restart
  follower = MakeFollower(false, Channel::kData, 1024);
  Link link(leader.get(), follower.get(), 6);
  link.ToLeader(follower->Hello());
  link.Step();
  EXPECT_GE(follower->status().bootstrap_received, received) << "resumed, not restarted";
  ASSERT_TRUE(link.RunUntilApplied(source_->LastChangePosition()));
  EXPECT_EQ(follower->status().bootstraps, 1u);
  EXPECT_EQ(leader->followers().at("f").bootstraps, 2u) << "one WELCOME per session";
  ExpectSameContent(*follower);
  // And it streams normally afterwards.
  Write(3);
  ASSERT_TRUE(link.RunUntilApplied(source_->LastChangePosition()));
  ExpectSameContent(*follower);
}

// Big changes back to back, each fitting the credit: each goes whole in fragments in one pump,
// then the next (the leader's bookkeeping of the finished one must be gone, not reused).
TEST_F(ReplicationProtocolTest, BackToBackBigChangesAreEachSentWhole) {
  std::vector<std::string> blobs;
  for (int m = 0; m < 3; ++m) {
    blobs.emplace_back(80 * 1024, static_cast<char>('a' + m));
    ASSERT_TRUE(source_->PutModel("m" + std::to_string(m), blobs.back(), {}).ok());
  }
  Write(1);
  auto leader = MakeLeader();
  auto follower = MakeFollower();
  Link link(leader.get(), follower.get(), 10);
  link.ToLeader(follower->Hello());
  ASSERT_TRUE(link.RunUntilApplied(source_->LastChangePosition()));
  for (int m = 0; m < 3; ++m) {
    EXPECT_EQ(follower->replica().ReadModelBlob("m" + std::to_string(m), 1).value(), blobs[m]);
  }
  ExpectSameContent(*follower);
}

// Several fetches in flight never ask past a file's end (a small file is one fetch), and a
// snapshot the journal has moved past is not handed out again: a second follower bootstrapped
// after a trim gets a new one and streams on from it, bootstrapped once.
TEST_F(ReplicationProtocolTest, BootstrapFetchesStayInsideFilesAndStaleSnapshotsAreRemade) {
  chunks_in_flight_ = 4;
  Write(30);
  ASSERT_TRUE(source_->TrimJournal(10).ok());
  auto leader = MakeLeader();
  auto first = MakeFollower(false, Channel::kData, /*fetch_bytes=*/4096);
  {
    Link link(leader.get(), first.get(), 7);
    link.ToLeader(first->Hello());
    ASSERT_TRUE(link.RunUntilApplied(source_->LastChangePosition()));
  }
  EXPECT_EQ(first->status().bootstraps, 1u);
  EXPECT_EQ(first->status().last_error, "") << "no fetch was refused";
  ExpectSameContent(*first);

  Write(10);
  ASSERT_TRUE(source_->TrimJournal(source_->LastChangePosition() - 2).ok());
  replica_name_ = "second";
  leader->EndSession("f");
  auto second = MakeFollower(false, Channel::kData, 4096);
  Link link(leader.get(), second.get(), 8);
  link.ToLeader(second->Hello());
  ASSERT_TRUE(link.RunUntilApplied(source_->LastChangePosition()));
  EXPECT_EQ(second->status().bootstraps, 1u) << "the first snapshot was behind the journal";
  EXPECT_EQ(second->status().last_error, "");
  ExpectSameContent(*second);
}

// An ACK claiming more than the follower was sent moves nothing past what was sent (the journal
// is trimmed on those positions).
TEST_F(ReplicationProtocolTest, AcksCannotClaimMoreThanWasSent) {
  Write(5);
  auto leader = MakeLeader();
  auto follower = MakeFollower();
  Link link(leader.get(), follower.get(), 9);
  link.ToLeader(follower->Hello());
  ASSERT_TRUE(link.RunUntilApplied(source_->LastChangePosition()));
  const uint64_t sent = source_->LastChangePosition();
  Write(5);  // not pumped yet
  WireMessage ack;
  ack.type = MsgType::kAck;
  ack.applied = ack.durable = sent + 5;
  ack.granted_bytes = 1 << 20;
  ack.granted_changes = 1000;
  ASSERT_TRUE(leader->OnMessage("f", ack, [](const std::string&, WireMessage) {}).ok());
  EXPECT_EQ(leader->durable("f"), sent);
  EXPECT_EQ(leader->followers().at("f").applied, sent);
}

// A leader restored from an older copy (then written to) is not "ahead" of its follower: the
// stamp of the follower's last change differs, so the leader starts a new history and the
// follower is bootstrapped — never merged.
TEST_F(ReplicationProtocolTest, ARestoredLeaderStartsANewHistoryAndTheFollowerIsBootstrapped) {
  Write(10);
  ASSERT_TRUE(source_->CreateCheckpoint(dir_.Sub("backup")).ok());
  Write(10);
  {
    auto leader = MakeLeader();
    auto follower = MakeFollower();
    Link link(leader.get(), follower.get(), 7);
    link.ToLeader(follower->Hello());
    ASSERT_TRUE(link.RunUntilApplied(source_->LastChangePosition()));
  }
  const std::string old_history = source_->History().id;
  source_.reset();
  std::filesystem::remove_all(dir_.Sub("source"));
  std::filesystem::rename(dir_.Sub("backup"), dir_.Sub("source"));
  source_ = OpenStore(dir_.Sub("source"));
  Write(15);  // past where the follower is, with other contents
  auto leader = MakeLeader();
  auto follower = MakeFollower();
  Link link(leader.get(), follower.get(), 8);
  link.ToLeader(follower->Hello());
  ASSERT_TRUE(link.RunUntilApplied(source_->LastChangePosition()));
  EXPECT_NE(source_->History().id, old_history);
  EXPECT_EQ(follower->status().bootstraps, 1u);
  ExpectSameContent(*follower);
}

TEST_F(ReplicationProtocolTest, RegistryChangesFromALowerEpochAreRefused) {
  ASSERT_TRUE(source_->PutModel("m", "weights", {}).ok());
  {
    auto leader = MakeLeader(/*epoch=*/2, Channel::kRegistry);
    auto follower = MakeFollower(/*check_epoch=*/true, Channel::kRegistry);
    Link link(leader.get(), follower.get(), 9);
    link.ToLeader(follower->Hello());
    ASSERT_TRUE(link.RunUntilApplied(source_->LastChangePosition()));
    EXPECT_EQ(follower->status().epoch, 2u);
  }
  ASSERT_TRUE(source_->PutModel("m", "weights 2", {}).ok());
  auto demoted = MakeLeader(/*epoch=*/1, Channel::kRegistry);
  auto follower = MakeFollower(true, Channel::kRegistry);
  EXPECT_EQ(follower->status().epoch, 2u) << "kept with the replica";
  Link link(demoted.get(), follower.get(), 10);
  link.ToLeader(follower->Hello());
  for (int i = 0; i < 50; ++i) link.Step();
  EXPECT_GT(follower->status().stale_epochs, 0u);
  EXPECT_TRUE(follower->replica().GetModelInfo("m", 2).status().IsNotFound());
}

}  // namespace
}  // namespace nemesyst::nodes
