// The simulated fleet's feed as data (nemesyst/refrigeration/fleet.h): written as CSV and JSON
// lines and ingested back, it gives the same records as appending it straight to a stream.
#include "nemesyst/refrigeration/fleet.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "nemesyst/store.h"
#include "nemesyst/stream.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst::refrigeration {
namespace {

using testing::TempDir;

TEST(FleetIoTest, SimulatorCsvAndJsonRoundTripThroughIngest) {
  TempDir dir;
  SimulatorOptions sim_options;
  sim_options.stores = 2;
  sim_options.cases_per_store = 3;
  sim_options.days = 0.25;
  auto sim = FleetSimulator::Create(sim_options);
  ASSERT_TRUE(sim.ok());
  std::unique_ptr<Store> store;
  StoreOptions store_options;
  store_options.durability = Durability::kAsync;
  ASSERT_TRUE(Store::Open(store_options, dir.Sub("db"), &store).ok());
  auto ingested = IngestSimulatedFleet(*store, "direct", **sim, {.batch_records = 500});
  ASSERT_TRUE(ingested.ok()) << ingested.status().ToString();
  const uint64_t direct = ingested->records;
  for (SimOutputFormat format : {SimOutputFormat::kCsv, SimOutputFormat::kJsonLines}) {
    const bool csv = format == SimOutputFormat::kCsv;
    const std::string path = dir.Sub(csv ? "fleet.csv" : "fleet.jsonl");
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    uint64_t written = 0;
    ASSERT_TRUE(WriteFleet(**sim, fd, {.format = format}, &written).ok());
    ::close(fd);
    EXPECT_EQ(written, direct);
    const std::string stream = csv ? "from_csv" : "from_jsonl";
    ASSERT_TRUE(store->CreateStream(stream, SimulatorSchema(true)).ok());
    IngestOptions options;
    options.stream = stream;
    IngestReport report;
    Status status = Ingest(*store, path, options, &report);
    ASSERT_TRUE(status.ok()) << status.ToString();
    ASSERT_FALSE(report.rejected) << report.error_details[0].ToString();
    EXPECT_EQ(report.rows_committed, direct);
    auto a = ReadRecords(*store, "direct");
    auto b = ReadRecords(*store, stream);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), b->size());
    for (size_t i = 0; i < a->size(); ++i) {
      ASSERT_EQ((*a)[i].device_id, (*b)[i].device_id);
      ASSERT_EQ((*a)[i].timestamp_us, (*b)[i].timestamp_us);
      ASSERT_EQ((*a)[i].values, (*b)[i].values) << i;
    }
  }
}

}  // namespace
}  // namespace nemesyst::refrigeration
