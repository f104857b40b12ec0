// The replication wire format on hand-built messages: every type round-trips, and truncated,
// corrupted, over-long and mis-framed messages are errors naming the field — never a crash.
#include "nodes/wire.h"

#include <gtest/gtest.h>

#include <random>

namespace nemesyst::nodes {
namespace {

Result<WireMessage> RoundTrip(const WireMessage& m) {
  std::vector<std::string> frames = {EncodeHeader(m)};
  frames.insert(frames.end(), m.payloads.begin(), m.payloads.end());
  std::vector<std::string_view> views(frames.begin(), frames.end());
  return DecodeMessage(views, 1 << 20);
}

std::vector<WireMessage> OneOfEach() {
  std::vector<WireMessage> all;
  WireMessage m;
  m.type = MsgType::kJoin;
  m.node_id = "store-0042";
  m.role = 1;
  all.push_back(m);
  m = {};
  m.type = MsgType::kHello;
  m.channel = Channel::kRegistry;
  m.history_id = std::string(32, 'a');
  m.applied = 77;
  m.applied_stamp = 0xfeedbeef;
  m.granted_bytes = 1 << 24;
  m.granted_changes = 4096;
  m.epoch = 3;
  m.partial_position = 78;
  m.partial_offset = 1000;
  m.partial_digest = std::string(32, 'f');
  all.push_back(m);
  m = {};
  m.type = MsgType::kWelcome;
  m.bootstrap = true;
  m.history_id = "h";
  m.previous_id = "p";
  m.switch_position = 5;
  m.leader_last = 99;
  m.epoch = 2;
  m.snapshot_id = "snap-1";
  m.files = {{"000012.sst", 4096, std::string(32, '0')}, {"CURRENT", 16, std::string(32, '1')}};
  all.push_back(m);
  m = {};
  m.type = MsgType::kChanges;
  m.channel = Channel::kData;
  m.history_id = "h";
  m.prev_position = 10;
  m.leader_last = 12;
  m.sent_us = 1767571200000000;
  m.payloads = {"change 11", "change 12"};
  all.push_back(m);
  m = {};
  m.type = MsgType::kFragment;
  m.history_id = "h";
  m.position = 13;
  m.prev_position = 12;
  m.total = 100;
  m.offset = 40;
  m.digest = std::string(32, 'c');
  m.payloads = {std::string(60, 'x')};
  all.push_back(m);
  m = {};
  m.type = MsgType::kAck;
  m.applied = m.durable = 12;
  m.granted_bytes = 5;
  m.granted_changes = 6;
  all.push_back(m);
  m = {};
  m.type = MsgType::kHeartbeat;
  m.position = 4;
  m.now_us = -1;
  all.push_back(m);
  m = {};
  m.type = MsgType::kBootFetch;
  m.snapshot_id = "snap-1";
  m.file = 1;
  m.offset = 8;
  m.max_bytes = 1 << 20;
  all.push_back(m);
  m = {};
  m.type = MsgType::kBootChunk;
  m.snapshot_id = "snap-1";
  m.file = 1;
  m.offset = 8;
  m.last = true;
  m.payloads = {"bytes"};
  all.push_back(m);
  m = {};
  m.type = MsgType::kError;
  m.error = ErrorCode::kStaleEpoch;
  m.detail = "epoch 1 < 2";
  all.push_back(m);
  m = {};
  m.type = MsgType::kReport;
  m.detail = R"({"reference":"lstm:production","model":"lstm@4","devices":12})";
  all.push_back(m);
  return all;
}

TEST(WireTest, EveryTypeRoundTrips) {
  for (const WireMessage& m : OneOfEach()) {
    SCOPED_TRACE(std::string(MsgTypeName(m.type)));
    auto back = RoundTrip(m);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(EncodeHeader(*back), EncodeHeader(m));
    EXPECT_EQ(back->payloads, m.payloads);
    EXPECT_EQ(back->channel, m.channel);
  }
  auto welcome = RoundTrip(OneOfEach()[2]);
  ASSERT_EQ(welcome->files.size(), 2u);
  EXPECT_EQ(welcome->files[1].name, "CURRENT");
  EXPECT_EQ(welcome->files[0].size, 4096u);
}

TEST(WireTest, TruncatedCorruptedAndMisframedMessagesAreErrors) {
  for (const WireMessage& m : OneOfEach()) {
    SCOPED_TRACE(std::string(MsgTypeName(m.type)));
    const std::string header = EncodeHeader(m);
    std::vector<std::string_view> payloads(m.payloads.begin(), m.payloads.end());
    for (size_t cut = 0; cut < header.size(); ++cut) {
      std::vector<std::string_view> frames = {std::string_view(header).substr(0, cut)};
      frames.insert(frames.end(), payloads.begin(), payloads.end());
      EXPECT_FALSE(DecodeMessage(frames, 1 << 20).ok()) << "cut at " << cut;
    }
    for (size_t bit = 0; bit < header.size() * 8; bit += 7) {
      std::string flipped = header;
      flipped[bit / 8] ^= static_cast<char>(1 << (bit % 8));
      std::vector<std::string_view> frames = {flipped};
      frames.insert(frames.end(), payloads.begin(), payloads.end());
      EXPECT_FALSE(DecodeMessage(frames, 1 << 20).ok()) << "bit " << bit;
    }
    std::vector<std::string_view> extra = {header, "surplus"};
    extra.insert(extra.end(), payloads.begin(), payloads.end());
    EXPECT_FALSE(DecodeMessage(extra, 1 << 20).ok()) << "one frame too many";
  }
  const WireMessage changes = OneOfEach()[3];
  const std::string header = EncodeHeader(changes);
  auto limited = DecodeMessage({header, "change 11", "change 12"}, 4);
  EXPECT_FALSE(limited.ok());
  EXPECT_NE(limited.status().message().find("limit"), std::string_view::npos);
  EXPECT_NE(DecodeMessage({}, 10).status().message().find("empty"), std::string_view::npos);
  auto magic = DecodeMessage({"XXXX\x01\x00\x00\x00\x00\x00"}, 10);
  EXPECT_NE(magic.status().message().find("magic"), std::string_view::npos);
}

// A fragment's total is what the follower assembles in memory: bounded, and offsets inside it.
TEST(WireTest, FragmentTotalsAreBounded) {
  WireMessage m = OneOfEach()[4];
  ASSERT_EQ(m.type, MsgType::kFragment);
  m.total = kMaxChangeBytes + 1;
  auto huge = RoundTrip(m);
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("total"), std::string_view::npos)
      << huge.status().ToString();
  m.total = 40;  // the offset (40) must be below it
  auto past = RoundTrip(m);
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.status().message().find("offset"), std::string_view::npos)
      << past.status().ToString();
  m.total = kMaxChangeBytes;
  EXPECT_TRUE(RoundTrip(m).ok());
}

// Random bytes after a valid magic and type: every outcome is a value (run long by the fuzzer).
TEST(WireTest, RandomBodiesNeverCrash) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 20000; ++i) {
    std::string header = "NRP1";
    header.push_back(static_cast<char>(1 + rng() % 10));
    header.push_back(static_cast<char>(rng() % 3));
    const size_t n = rng() % 64;
    for (size_t b = 0; b < n; ++b) header.push_back(static_cast<char>(rng()));
    auto r = DecodeMessage({header}, 1 << 10);
    (void)r;
  }
}

}  // namespace
}  // namespace nemesyst::nodes
