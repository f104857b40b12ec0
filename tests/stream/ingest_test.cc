// Ingest into a real RocksDB store: every bad-input kind under both policies, with the store
// checked afterwards; round trip of the simulator's CSV and JSON lines.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "nemesyst/store.h"
#include "nemesyst/stream.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst {
namespace {

using testing::TempDir;
using testing::WriteFile;

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.reset();
    StoreOptions options;
    options.durability = Durability::kAsync;
    ASSERT_TRUE(Store::Open(options, dir_.Sub("db" + std::to_string(++stores_)), &store_).ok());
    StreamSchema schema;
    FieldSpec temp;
    temp.name = "temp";
    temp.min_value = -50;
    temp.max_value = 50;
    FieldSpec state;
    state.name = "state";
    state.type = FieldType::kInt32;
    state.min_value = 0;
    state.max_value = 1;
    schema.fields = {temp, state};
    ASSERT_TRUE(store_->CreateStream("s", schema).ok());
  }

  IngestReport Run(const std::string& text, OnError policy, const std::string& name = "in.csv",
                   Status* status_out = nullptr) {
    const std::string path = dir_.Sub(name);
    WriteFile(path, text);
    IngestOptions options;
    options.stream = "s";
    options.batch_rows = 3;
    options.on_error = policy;
    IngestReport report;
    Status status = Ingest(*store_, path, options, &report);
    if (status_out)
      *status_out = status;
    else
      EXPECT_TRUE(status.ok()) << status.ToString();
    return report;
  }

  std::vector<Record> Stored() {
    auto records = ReadRecords(*store_, "s");
    EXPECT_TRUE(records.ok());
    return records.ok() ? *records : std::vector<Record>{};
  }

  TempDir dir_;
  int stores_ = 0;
  std::unique_ptr<Store> store_;
};

// Five good rows, then the bad one at line 7, then two good rows.
std::string WithBadRow(const std::string& bad) {
  std::string text = "device,timestamp,temp,state\n";
  for (int i = 0; i < 5; ++i) {
    text += "d" + std::to_string(i % 2) + ",2026-01-05T00:0" + std::to_string(i) + ":00Z,1.5,0\n";
  }
  text += bad + "\n";
  text += "d0,2026-01-05T00:08:00Z,2.5,1\nd1,2026-01-05T00:09:00Z,3.5,1\n";
  return text;
}

struct BadCase {
  std::string row;
  int column;
  std::string reason;
};

const BadCase kBadRows[] = {
    {"d0,2026-01-05T00:07:00Z,1.5", 0, "expected 4 columns, got 3"},
    {"d0,2026-01-05T00:07:00Z,1.5x,0", 3, "cannot parse '1.5x' as a number"},
    {"d0,2026-01-05T00:07:00Z,99,0", 3, "outside the schema range [-50, 50]"},
    {"d0,2026-01-05T00:07:00Z,1,0.5", 4, "not a 32-bit integer"},
    {"d0,2026-01-05T00:01:30Z,1,0", 2, "timestamp does not advance for device 'd0'"},
    // The row before is d0's: d1's last time is looked up, not the run's.
    {"d1,2026-01-05T00:03:00Z,1,0", 2, "timestamp does not advance for device 'd1'"},
    {"d0,2026-01-05T00:07:00Z,1e39,0", 3, "does not fit float32"},
    {"d0,2026-01-05T00:07:00Z,1,3e9", 4, "not a 32-bit integer"},
    {"d0,yesterday,1,0", 2, "cannot parse timestamp 'yesterday'"},
    {"d0,2026-01-05T00:07:00Z,,0", 3, "missing value for field 'temp'"},
    {"d0,2026-01-05T00:07:00Z,\"1\"x,0", 3, "after a closing quote"},
};

TEST_F(IngestTest, RejectStopsAtTheFailingBatchAndReportsWhere) {
  for (const BadCase& c : kBadRows) {
    SetUp();  // a fresh store per case
    const IngestReport report = Run(WithBadRow(c.row), OnError::kReject);
    EXPECT_TRUE(report.rejected) << c.row;
    ASSERT_EQ(report.error_details.size(), 1u) << c.row;
    const IngestError& e = report.error_details[0];
    EXPECT_EQ(e.line, 7u) << c.row;
    EXPECT_EQ(e.column, c.column) << c.row;
    EXPECT_NE(e.reason.find(c.reason), std::string::npos) << e.ToString();
    EXPECT_NE(e.ToString().find("in.csv:7:"), std::string::npos);
    // Batches of 3: rows 1-3 committed; the batch with the bad row (rows 4-6) is not written.
    EXPECT_EQ(report.rows_committed, 3u) << c.row;
    EXPECT_EQ(Stored().size(), 3u) << c.row;
    store_.reset();
  }
}

TEST_F(IngestTest, DeadLetterKeepsGoodRowsAndRecordsBadOnes) {
  for (const BadCase& c : kBadRows) {
    SetUp();
    const IngestReport report = Run(WithBadRow(c.row), OnError::kDeadLetter);
    EXPECT_FALSE(report.rejected);
    EXPECT_EQ(report.rows_read, 8u);
    EXPECT_EQ(report.rows_committed, 7u) << c.row;
    EXPECT_EQ(report.rows_dead_lettered, 1u);
    const std::vector<Record> stored = Stored();
    ASSERT_EQ(stored.size(), 7u);
    EXPECT_EQ(stored.back().values[0], 3.5);
    auto dead = store_->ListDeadLetterRows("s", 0, 10);
    ASSERT_TRUE(dead.ok());
    ASSERT_EQ(dead->size(), 1u);
    EXPECT_EQ((*dead)[0].raw, c.row);
    EXPECT_NE((*dead)[0].reason.find(c.reason), std::string::npos) << (*dead)[0].reason;
    EXPECT_NE((*dead)[0].source.find("in.csv:7"), std::string::npos);
    store_.reset();
  }
}

TEST_F(IngestTest, TruncatedLastLine) {
  const std::string text =
      "device,timestamp,temp,state\nd0,2026-01-05T00:00:00Z,1,0\nd0,2026-01-05T00:01:00Z,1";
  IngestReport report = Run(text, OnError::kReject);
  EXPECT_TRUE(report.rejected);
  ASSERT_EQ(report.error_details.size(), 1u);
  EXPECT_EQ(report.error_details[0].line, 3u);
  EXPECT_NE(report.error_details[0].reason.find("truncated last line"), std::string::npos);
  EXPECT_EQ(Stored().size(), 0u);  // the only batch held the truncated row
  report = Run(text, OnError::kDeadLetter);
  EXPECT_EQ(report.rows_committed, 1u);
  EXPECT_EQ(report.rows_dead_lettered, 1u);
  EXPECT_EQ(Stored().size(), 1u);
}

TEST_F(IngestTest, UnknownOrMissingColumnsRefuseTheWholeInput) {
  Status status;
  Run("device,timestamp,temp,state,humidity\nd0,2026-01-05T00:00:00Z,1,0,3\n", OnError::kDeadLetter,
      "in.csv", &status);
  EXPECT_TRUE(status.IsInvalidArgument());
  EXPECT_NE(status.message().find("in.csv:1:5: unknown field 'humidity'"), std::string::npos)
      << status.ToString();
  Run("device,timestamp,temp\nd0,2026-01-05T00:00:00Z,1\n", OnError::kReject, "in.csv", &status);
  EXPECT_TRUE(status.IsInvalidArgument());
  EXPECT_EQ(Stored().size(), 0u);
  IngestReport report;
  IngestOptions options;
  options.stream = "nope";
  EXPECT_TRUE(Ingest(*store_, dir_.Sub("in.csv"), options, &report).IsNotFound());
}

TEST_F(IngestTest, QuotedFieldsRenamesAndEpochTimestamps) {
  const std::string path = dir_.Sub("q.csv");
  WriteFile(
      path,
      "\"dev\",ts,t,state\r\n\"a,1\",1767571200,1.25,1\r\n\"b \"\"x\"\"\",1767571260.5,-2,0\r\n");
  IngestOptions options;
  options.stream = "s";
  options.rename = {{"dev", "device"}, {"ts", "timestamp"}, {"t", "temp"}};
  options.timestamp_format = TimestampFormat::kEpochSeconds;
  IngestReport report;
  ASSERT_TRUE(Ingest(*store_, path, options, &report).ok());
  EXPECT_EQ(report.rows_committed, 2u);
  const auto stored = Stored();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].device_id, "a,1");
  EXPECT_EQ(stored[1].device_id, "b \"x\"");
  EXPECT_EQ(stored[1].timestamp_us, 1767571260500000);
  EXPECT_EQ(stored[1].values[0], -2.0);
}

TEST_F(IngestTest, JsonLinesGoodAndBad) {
  const std::string text =
      "{\"device\":\"d0\",\"timestamp\":\"2026-01-05T00:00:00Z\",\"temp\":1.5,\"state\":1}\n"
      "{\"device\":\"d0\",\"timestamp\":\"2026-01-05T00:01:00Z\",\"temp\":1.5,\"state\":1,\"hum\":"
      "2}\n"
      "{\"device\":\"d0\",\"timestamp\":\"2026-01-05T00:02:00Z\",\"temp\":\"x\",\"state\":1}\n"
      "{\"device\":\"d0\",\"timestamp\":\"2026-01-05T00:03:00Z\",\"temp\":1.5}\n"
      "{\"device\":\"d0\",\"timestamp\":\"2026-01-05T00:04:00Z\",\"temp\":1.5,\n"
      "{\"device\":\"d1\",\"timestamp\":1767571200,\"temp\":-1,\"state\":0}\n";
  const IngestReport report = Run(text, OnError::kDeadLetter, "in.jsonl");
  EXPECT_EQ(report.rows_committed, 2u);
  EXPECT_EQ(report.rows_dead_lettered, 4u);
  ASSERT_EQ(report.error_details.size(), 4u);
  EXPECT_NE(report.error_details[0].reason.find("unknown field 'hum'"), std::string::npos);
  EXPECT_EQ(report.error_details[0].column, 5);
  EXPECT_NE(report.error_details[1].reason.find("must be a number"), std::string::npos);
  EXPECT_NE(report.error_details[2].reason.find("missing field 'state'"), std::string::npos);
  EXPECT_NE(report.error_details[3].reason.find("invalid JSON"), std::string::npos);
  EXPECT_EQ(report.error_details[3].line, 5u);
  EXPECT_EQ(Stored().size(), 2u);
}

TEST_F(IngestTest, DeviceIdLimitsAreCheckedPerRowWithTheLine) {
  const std::string long_id(300, 'd');
  const std::string csv =
      "device,timestamp,temp,state\n"
      "ok1,1767571200,1,0\n" +
      long_id + ",1767571200,1,0\n" + "ok2,1767571200,1,0\n";
  // Reject: the error names line 3, column 1, and the batch of good rows before it is not what
  // fails (batch_rows 3 holds all three rows: nothing of that batch is written).
  Status status;
  IngestReport report = Run(csv, OnError::kReject, "in.csv", &status);
  ASSERT_TRUE(report.rejected);
  ASSERT_FALSE(report.error_details.empty());
  EXPECT_EQ(report.error_details[0].line, 3u);
  EXPECT_EQ(report.error_details[0].column, 1);
  EXPECT_NE(report.error_details[0].reason.find("over the 256-byte limit"), std::string::npos)
      << report.error_details[0].reason;
  EXPECT_EQ(Stored().size(), 0u);
  // Dead-letter: the good rows go in, the long one is kept as a dead-letter row.
  report = Run(csv, OnError::kDeadLetter);
  EXPECT_EQ(report.rows_committed, 2u);
  EXPECT_EQ(report.rows_dead_lettered, 1u);
  auto dead = store_->ListDeadLetterRows("s", 0, 10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].source, dir_.Sub("in.csv") + ":3:1");
  // JSON lines: the same check; a NUL in a device id too.
  SetUp();
  report =
      Run("{\"device\":\"" + long_id + "\",\"timestamp\":1767571200,\"temp\":1,\"state\":0}\n" +
              "{\"device\":\"a\\u0000b\",\"timestamp\":1767571200,\"temp\":1,\"state\":0}\n" +
              "{\"device\":\"c\",\"timestamp\":1767571200,\"temp\":1,\"state\":0}\n",
          OnError::kDeadLetter, "in.jsonl");
  EXPECT_EQ(report.rows_committed, 1u);
  EXPECT_EQ(report.rows_dead_lettered, 2u);
  ASSERT_EQ(report.error_details.size(), 2u);
  EXPECT_NE(report.error_details[1].reason.find("NUL"), std::string::npos);
}

TEST_F(IngestTest, AHugeBadRowIsDeadLetteredAsAPrefixAndQuotedBriefly) {
  const std::string huge(2 << 20, 'x');
  const std::string csv = "device,timestamp,temp,state\nok1,1767571200,1,0\nbig,1767571200," +
                          huge + ",0\nok2,1767571200,1,0\n";
  IngestReport report = Run(csv, OnError::kDeadLetter);
  EXPECT_EQ(report.rows_committed, 2u);
  EXPECT_EQ(report.rows_dead_lettered, 1u);
  ASSERT_EQ(report.error_details.size(), 1u);
  EXPECT_LT(report.error_details[0].reason.size(), 200u) << "the offending value is quoted briefly";
  EXPECT_NE(report.error_details[0].reason.find("(2097152 bytes)"), std::string::npos);
  auto dead = store_->ListDeadLetterRows("s", 0, 10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].raw.size(), kMaxDeadLetterRawBytes);
  EXPECT_EQ((*dead)[0].raw_bytes, std::string("big,1767571200,").size() + huge.size() + 2);
  EXPECT_EQ((*dead)[0].raw.rfind("big,1767571200,xxx", 0), 0u);
}

TEST_F(IngestTest, ByteOrderMarkDuplicateKeysUnterminatedQuotesAndMissingColumns) {
  // A UTF-8 BOM before the header is skipped.
  IngestReport report =
      Run("\xEF\xBB\xBF"
          "device,timestamp,temp,state\na,1767571200,1,0\n",
          OnError::kReject);
  EXPECT_EQ(report.rows_committed, 1u);
  // JSON lines: a key given twice refuses the row.
  SetUp();
  report =
      Run("{\"device\":\"a\",\"timestamp\":1767571200,\"temp\":1,\"temp\":2,\"state\":0}\n"
          "{\"device\":\"b\",\"timestamp\":1767571200,\"temp\":1,\"state\":0}\n",
          OnError::kDeadLetter, "in.jsonl");
  EXPECT_EQ(report.rows_committed, 1u);
  ASSERT_EQ(report.error_details.size(), 1u);
  EXPECT_EQ(report.error_details[0].reason, "duplicate key 'temp'");
  // A quote that never closes is reported as such, on the line where it opens.
  SetUp();
  Status status;
  report =
      Run("device,timestamp,temp,state\na,1767571200,1,0\n\"b,1767571260,1,0\nc,1767571320,1,0\n",
          OnError::kReject, "in.csv", &status);
  ASSERT_FALSE(report.error_details.empty());
  EXPECT_EQ(report.error_details[0].line, 3u);
  EXPECT_NE(report.error_details[0].reason.find("unterminated quoted field"), std::string::npos)
      << report.error_details[0].reason;
  // The header names every schema field it lacks.
  SetUp();
  Run("device,timestamp\na,1767571200\n", OnError::kReject, "in.csv", &status);
  EXPECT_TRUE(status.IsInvalidArgument());
  EXPECT_NE(status.message().find("no column for schema fields 'temp', 'state'"),
            std::string_view::npos)
      << status.ToString();
  // A directory is refused by name.
  IngestOptions options;
  options.stream = "s";
  Status dir_status = Ingest(*store_, dir_.path().string(), options, &report);
  EXPECT_TRUE(dir_status.IsInvalidArgument()) << dir_status.ToString();
  EXPECT_NE(dir_status.message().find("is a directory"), std::string_view::npos);
}

}  // namespace
}  // namespace nemesyst
