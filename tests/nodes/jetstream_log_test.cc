// The JetStream log's message format (nodes/jetstream_log.h): round trips, message ids, and every
// malformed field refused with its name.
#include "nodes/jetstream_log.h"

#include <gtest/gtest.h>

namespace nemesyst::nodes {
namespace {

LogMessage Changes() {
  LogMessage m;
  m.store = "store-7.a";
  m.history = std::string(32, 'a');
  m.after = 10;
  m.last = 12;
  m.last_stamp = 99;
  m.changes = {"change eleven", "change twelve"};
  return m;
}

TEST(JetStreamLogTest, ChangesRoundTrip) {
  const LogMessage m = Changes();
  const std::string bytes = EncodeLogMessage(m);
  Result<LogMessage> back = DecodeLogMessage(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->store, m.store);
  EXPECT_EQ(back->history, m.history);
  EXPECT_EQ(back->after, 10u);
  EXPECT_EQ(back->last, 12u);
  EXPECT_EQ(back->last_stamp, 99u);
  ASSERT_EQ(back->changes.size(), 2u);
  EXPECT_EQ(back->changes[1], "change twelve");
  EXPECT_EQ(MessageId(*back), "store-7.a:" + std::string(32, 'a') + ":10:12");
}

TEST(JetStreamLogTest, FragmentRoundTripAndIds) {
  LogMessage m = Changes();
  m.kind = LogMessageKind::kFragment;
  m.after = 11;
  m.changes.clear();
  const std::string whole = "0123456789";
  m.total = whole.size();
  m.digest = std::string(32, 'c');  // the reader checks the form; the consumer the value
  m.offset = 4;
  m.data = std::string_view(whole).substr(4, 3);
  const std::string bytes = EncodeLogMessage(m);  // the decoded message views these bytes
  Result<LogMessage> back = DecodeLogMessage(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->data, "456");
  EXPECT_EQ(back->total, 10u);
  EXPECT_EQ(back->digest, m.digest);
  // Each fragment has its own id; the same run always the same one.
  EXPECT_EQ(MessageId(*back), MessageId(m));
  LogMessage other = m;
  other.offset = 7;
  EXPECT_NE(MessageId(other), MessageId(m));
}

TEST(JetStreamLogTest, MalformedMessagesNameTheField) {
  const std::string good = EncodeLogMessage(Changes());
  auto refused = [](const std::string& bytes, const std::string& field) {
    Result<LogMessage> r = DecodeLogMessage(bytes);
    if (r.ok()) return ::testing::AssertionFailure() << "accepted";
    if (r.status().code() != StatusCode::kCorruption ||
        r.status().message().find(field) == std::string::npos) {
      return ::testing::AssertionFailure() << r.status().ToString();
    }
    return ::testing::AssertionSuccess();
  };
  EXPECT_TRUE(refused("", "magic"));
  EXPECT_TRUE(refused("NJL2" + good.substr(4), "magic"));
  std::string kind = good;
  kind[4] = 9;
  EXPECT_TRUE(refused(kind, "kind"));
  // Every truncation is refused, never read past the end.
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeLogMessage(good.substr(0, n)).ok()) << n;
  }
  EXPECT_TRUE(refused(good + "x", "after the last change"));
  LogMessage backwards = Changes();
  backwards.last = backwards.after;
  EXPECT_TRUE(refused(EncodeLogMessage(backwards), "does not follow"));
  LogMessage history = Changes();
  history.history = "not hex at all, not hex at all!!";
  EXPECT_TRUE(refused(EncodeLogMessage(history), "history"));
  LogMessage too_many = Changes();
  too_many.last = too_many.after + 1;  // two changes cannot fit in one position
  EXPECT_TRUE(refused(EncodeLogMessage(too_many), "change count"));

  LogMessage fragment = Changes();
  fragment.kind = LogMessageKind::kFragment;
  fragment.changes.clear();
  fragment.total = 4;
  fragment.offset = 2;
  fragment.digest = std::string(32, 'd');
  fragment.data = "cde";  // past the total
  EXPECT_TRUE(refused(EncodeLogMessage(fragment), "past its total"));
  fragment.data = "cd";
  fragment.digest = "xyz";
  EXPECT_TRUE(refused(EncodeLogMessage(fragment), "digest"));
}

}  // namespace
}  // namespace nemesyst::nodes
