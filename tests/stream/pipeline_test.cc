// Pipelines on hand-made data with known answers: each stage, windows never crossing gaps or
// devices, determinism, the resolved spec round trip, streaming == batch.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "nemesyst/pipeline.h"

namespace nemesyst {
namespace {

constexpr int64_t kMin = 60LL * 1000000;
constexpr int64_t kT0 = 1767571200LL * 1000000;  // 2026-01-05T00:00:00Z

Record R(const std::string& device, int64_t minute, std::vector<double> values) {
  return Record{device, kT0 + minute * kMin, std::move(values)};
}

// All windows of a split, in dataset order.
std::vector<Batch> Drain(std::shared_ptr<const WindowDataset> data,
                         DataSplit split = DataSplit::kAll) {
  auto provider = MakeDatasetProvider(data, {.split = split, .shuffle = false});
  EXPECT_TRUE(provider.ok());
  std::vector<Batch> out;
  for (;;) {
    Batch b;
    auto more = (*provider)->Next(1, &b);
    EXPECT_TRUE(more.ok());
    if (!*more) break;
    out.push_back(b);
  }
  return out;
}

std::unique_ptr<Pipeline> Make(const std::string& spec,
                               std::vector<std::string> fields = {"v", "d"}) {
  auto p = Pipeline::Create(spec, fields);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : nullptr;
}

TEST(PipelineSpecTest, RefusesBadSpecsWithKeyPathAndReason) {
  struct Case {
    std::string spec, expect;
  } cases[] = {
      {"[window]\nlength = 3\nbogus = 1\n", "window.bogus: unknown key"},
      {"[window]\nlength = 0\n", "window.length: must be in [1, 100000]"},
      {"[[steps]]\nop = \"derive\"\nname = \"x\"\nkind = \"rolling_mean\"\nfield = "
       "\"v\"\n[window]\nlength = 1\n",
       "steps[0].k: is required"},
      {"[[steps]]\nop = \"derive\"\nname = \"x\"\nkind = \"difference\"\nfield = "
       "\"nope\"\n[window]\nlength = 1\n",
       "steps[0].field: unknown field 'nope'"},
      {"[[steps]]\nop = \"frobnicate\"\n[window]\nlength = 1\n", "steps[0].op: must be one of"},
      {"[window]\nlength = 2\n[label]\nfield = \"missing\"\n", "label.fields[0]: unknown field"},
      {"[window]\nlength = 2\n[split]\nby = \"store\"\ntrain = 0.5\nvalidation = 0.1\ntest = 0.1\n",
       "train + validation + test must be 1"},
      {"[window]\nlength = 2\n[[steps]]\nop = \"filter\"\nwhere = [{field = \"v\", cmp = \"~\", "
       "value = 1}]\n",
       "steps[0].where[0].cmp"},
      {"[window\nlength = 2\n", "TOML line 1"},
      {"{\"window\": {\"length\": 2}, \"steps\": [{\"op\": \"fill\"}]}",
       "steps[0].max_gap_s: is required"},
      {"[[steps]]\nop = \"select\"\nfields = [\"v\", \"zz\"]\n[window]\nlength = 1\n",
       "steps[0].fields[1]"},
      // Beyond int64 µs: an error, not a silent wrap to -1.
      {"{\"window\": {\"length\": 2}, \"steps\": [{\"op\": \"filter\", \"from\": "
       "18446744073709551615}]}",
       "steps[0].from: is out of range"},
  };
  for (const Case& c : cases) {
    auto p = Pipeline::Create(c.spec, {"v", "d"});
    ASSERT_FALSE(p.ok()) << c.spec;
    EXPECT_TRUE(p.status().IsInvalidArgument());
    EXPECT_NE(p.status().message().find(c.expect), std::string::npos)
        << "spec:\n"
        << c.spec << "\nmessage: " << p.status().message();
  }
}

TEST(PipelineTest, DeriveStagesGiveKnownAnswers) {
  auto p = Make(R"(
[[steps]]
op = "derive"
name = "diff"
kind = "difference"
field = "v"
[[steps]]
op = "derive"
name = "rate"
kind = "rate"
field = "v"
[[steps]]
op = "derive"
name = "mean2"
kind = "rolling_mean"
field = "v"
k = 2
[[steps]]
op = "derive"
name = "min3"
kind = "rolling_min"
field = "v"
k = 3
[[steps]]
op = "derive"
name = "max3"
kind = "rolling_max"
field = "v"
k = 3
[[steps]]
op = "derive"
name = "hour"
kind = "time_of_day"
[[steps]]
op = "derive"
name = "since"
kind = "since_defrost"
field = "d"
max_s = 600
[[steps]]
op = "select"
fields = ["diff", "rate", "mean2", "min3", "max3", "hour", "since"]
[window]
length = 1
)");
  ASSERT_TRUE(p);
  const double v[] = {1, 2, 4, 7, 3, 5};
  const double d[] = {0, 1, 0, 0, 0, 0};
  std::vector<Record> records;
  for (int i = 0; i < 6; ++i) records.push_back(R("s/c", 600 + i, {v[i], d[i]}));
  auto data = p->Apply(records);
  ASSERT_TRUE(data.ok());
  const auto batches = Drain(*data);
  ASSERT_EQ(batches.size(), 4u);  // rows 0-1 lack a full rolling window of 3
  for (size_t w = 0; w < 4; ++w) {
    const size_t i = w + 2;
    const float* x = batches[w].x.data();
    EXPECT_FLOAT_EQ(x[0], v[i] - v[i - 1]);
    EXPECT_FLOAT_EQ(x[1], (v[i] - v[i - 1]) / 60.0);
    EXPECT_FLOAT_EQ(x[2], (v[i] + v[i - 1]) / 2);
    EXPECT_FLOAT_EQ(x[3], std::min({v[i], v[i - 1], v[i - 2]}));
    EXPECT_FLOAT_EQ(x[4], std::max({v[i], v[i - 1], v[i - 2]}));
    EXPECT_FLOAT_EQ(x[5], 10.0 + i / 60.0);                  // minute 600 = 10:00
    EXPECT_FLOAT_EQ(x[6], std::min(600.0, (i - 1) * 60.0));  // defrost at row 1, capped
    EXPECT_EQ(batches[w].end_us[0], kT0 + (600 + i) * kMin);
  }
  EXPECT_EQ(p->feature_names()[6], "since");
}

TEST(PipelineTest, WindowsNeverCrossGapsOrDevices) {
  auto p = Make(
      "[[steps]]\nop = \"select\"\nfields = [\"v\"]\n[window]\nlength = 3\nstride = 2\n"
      "[label]\nfield = \"d\"\n");
  ASSERT_TRUE(p);
  std::vector<Record> records;
  // Device a: minutes 0..6 (7 rows), gap, 10..13 (4 rows). Device b interleaved: 0..4.
  for (int m : {0, 1, 2, 3, 4, 5, 6, 10, 11, 12, 13})
    records.push_back(R("a", m, {100.0 + m, m * 1.0}));
  for (int m = 0; m < 5; ++m) records.push_back(R("b", m, {200.0 + m, -m * 1.0}));
  std::rotate(records.begin(), records.begin() + 5, records.end());  // order must not matter
  auto data = p->Apply(records);
  ASSERT_TRUE(data.ok());
  const auto batches = Drain(*data);
  // a: segment of 7 -> windows ending at rows 2, 4, 6; segment of 4 -> ending at 12. b: 2, 4.
  ASSERT_EQ(batches.size(), 6u);
  std::vector<std::pair<std::string, double>> ends;
  for (const Batch& b : batches) {
    ASSERT_EQ(b.steps, 3);
    // Contiguous values inside a window, one device: v rises by exactly 1 per step.
    EXPECT_FLOAT_EQ(b.x[1] - b.x[0], 1.0f);
    EXPECT_FLOAT_EQ(b.x[2] - b.x[1], 1.0f);
    const double last_minute = b.x[2] - (b.device[0] == "a" ? 100 : 200);
    EXPECT_FLOAT_EQ(b.y[0], b.device[0] == "a" ? last_minute : -last_minute);  // label at end
    ends.emplace_back(b.device[0], last_minute);
  }
  const std::vector<std::pair<std::string, double>> expected = {{"a", 2},  {"a", 4}, {"a", 6},
                                                                {"a", 12}, {"b", 2}, {"b", 4}};
  EXPECT_EQ(ends, expected);
}

TEST(PipelineTest, LabelHorizonLooksAhead) {
  auto p = Make(
      "[[steps]]\nop = \"select\"\nfields = [\"v\"]\n[window]\nlength = 2\nhorizon = 3\n"
      "[label]\nfield = \"d\"\n");
  ASSERT_TRUE(p);
  std::vector<Record> records;
  for (int m = 0; m < 8; ++m) records.push_back(R("a", m, {m * 1.0, 10.0 * m}));
  auto data = p->Apply(records);
  ASSERT_TRUE(data.ok());
  const auto batches = Drain(*data);
  ASSERT_EQ(batches.size(), 4u);  // windows end at rows 1..4, labels at rows 4..7
  for (size_t i = 0; i < batches.size(); ++i) {
    EXPECT_FLOAT_EQ(batches[i].x[1], i + 1.0f);
    EXPECT_FLOAT_EQ(batches[i].y[0], 10.0f * (i + 4));
    EXPECT_EQ(batches[i].end_us[0], kT0 + static_cast<int64_t>(i + 1) * kMin);
  }
}

TEST(PipelineTest, FillForwardFillsShortGapsAndBreaksLongOnes) {
  auto p = Make(
      "[[steps]]\nop = \"fill\"\nmax_gap_s = 120\n[[steps]]\nop = \"select\"\n"
      "fields = [\"v\"]\n[window]\nlength = 4\n");
  ASSERT_TRUE(p);
  std::vector<Record> records;
  // minutes 0,1, (2,3 missing: 120 s -> filled), 4, 5, (6,7,8 missing: 180 s -> break), 9..12
  for (int m : {0, 1, 4, 5, 9, 10, 11, 12}) records.push_back(R("a", m, {m * 1.0, 0}));
  // A missing value (NaN) inside the limit is forward-filled too.
  records[5].values[0] = std::nan("");
  auto data = p->Apply(records);
  ASSERT_TRUE(data.ok());
  const auto batches = Drain(*data);
  // Segment 1: 0,1,1,1,4,5 (6 rows) -> 3 windows. Segment 2: 9,9(filled NaN),11,12 -> 1 window.
  ASSERT_EQ(batches.size(), 4u);
  const std::vector<float> first(batches[0].x.begin(), batches[0].x.end());
  EXPECT_EQ(first, (std::vector<float>{0, 1, 1, 1}));
  const std::vector<float> last(batches[3].x.begin(), batches[3].x.end());
  EXPECT_EQ(last, (std::vector<float>{9, 9, 11, 12}));
  // Without fill, the short gap breaks the window too.
  auto strict = Make("[[steps]]\nop = \"select\"\nfields = [\"v\"]\n[window]\nlength = 4\n");
  records[5].values[0] = 10;
  auto strict_data = strict->Apply(records);
  ASSERT_TRUE(strict_data.ok());
  EXPECT_EQ(Drain(*strict_data).size(), 1u);  // only 9..12
}

TEST(PipelineTest, FilterByFieldDeviceAndTime) {
  auto p = Make(R"({"steps": [{"op": "filter", "where": [{"field": "d", "cmp": "==", "value": 0}],
                 "devices": ["store-1/"], "from": "2026-01-05T00:02:00Z", "to": 1767571560000000},
                {"op": "select", "fields": ["v"]}], "window": {"length": 1}})");
  ASSERT_TRUE(p);
  std::vector<Record> records;
  for (int m = 0; m < 10; ++m) {
    records.push_back(R("store-1/case-1", m, {m * 1.0, m == 4 ? 1.0 : 0.0}));
    records.push_back(R("store-2/case-1", m, {m * 1.0, 0}));
  }
  auto data = p->Apply(records);
  ASSERT_TRUE(data.ok());
  std::vector<float> kept;
  for (const Batch& b : Drain(*data)) {
    EXPECT_EQ(b.device[0], "store-1/case-1");
    kept.push_back(b.x[0]);
  }
  EXPECT_EQ(kept, (std::vector<float>{2, 3, 5}));  // minutes [2, 6), not the defrost at 4
}

std::vector<Record> TwoStoreData() {
  std::vector<Record> records;
  for (int s = 0; s < 6; ++s) {
    for (int c = 0; c < 2; ++c) {
      const std::string device = "store-" + std::to_string(s) + "/case-" + std::to_string(c);
      for (int m = 0; m < 30; ++m) {
        records.push_back(R(device, m, {s * 10.0 + c + std::sin(m * 0.3), s * 100.0 + m}));
      }
    }
  }
  return records;
}

TEST(PipelineTest, NormaliseUsesTrainingStatisticsOnly) {
  const std::string spec = R"(
[[steps]]
op = "normalise"
method = "zscore"
fields = ["v"]
[window]
length = 2
[label]
field = "d"
[split]
by = "store"
train = 0.5
validation = 0.25
test = 0.25
seed = 3
)";
  auto p = Make(spec);
  ASSERT_TRUE(p);
  const std::vector<Record> records = TwoStoreData();
  EXPECT_FALSE(p->Apply(records).ok());  // not fitted yet
  ASSERT_TRUE(p->Fit(records).ok());
  double sum = 0, sum2 = 0, n = 0;
  for (const Record& r : records) {
    if (p->SplitOf(r.device_id, r.timestamp_us) != DataSplit::kTrain) continue;
    sum += r.values[0];
    sum2 += r.values[0] * r.values[0];
    ++n;
  }
  ASSERT_GT(n, 0);
  const double mean = sum / n, sd = std::sqrt((sum2 - n * mean * mean) / (n - 1));
  auto data = p->Apply(records);
  ASSERT_TRUE(data.ok());
  for (const Batch& b : Drain(*data)) {
    const Record& source = records[0];
    (void)source;
    // Undo the normalisation with the training statistics: v is recovered.
    const int store = b.device[0][6] - '0';
    const double raw = b.x[1] * sd + mean;
    EXPECT_NEAR(std::floor(raw / 10.0 + 0.5), store, 0.51);
  }
  const std::string resolved = p->Serialize();
  EXPECT_NE(resolved.find("\"mean\""), std::string::npos);
  EXPECT_NE(resolved.find(std::to_string(mean).substr(0, 6)), std::string::npos) << resolved;
}

TEST(PipelineTest, SplitByStoreIsDeterministicAndKeepsStoresWhole) {
  auto p = Make(
      "[window]\nlength = 3\n[label]\nfield = \"d\"\n[split]\nby = \"store\"\n"
      "train = 0.5\nvalidation = 0.25\ntest = 0.25\n");
  ASSERT_TRUE(p);
  auto data = p->Apply(TwoStoreData());
  ASSERT_TRUE(data.ok());
  std::map<std::string, std::set<int>> splits_of_store;
  size_t total = 0;
  for (DataSplit split : {DataSplit::kTrain, DataSplit::kValidation, DataSplit::kTest}) {
    for (const Batch& b : Drain(*data, split)) {
      splits_of_store[b.device[0].substr(0, 7)].insert(static_cast<int>(split));
      ++total;
    }
  }
  EXPECT_EQ(total, (*data)->windows.size());
  std::set<int> used;
  for (const auto& [store, splits] : splits_of_store) {
    EXPECT_EQ(splits.size(), 1u) << store;  // a store never spans two splits
    used.insert(*splits.begin());
  }
  EXPECT_GE(used.size(), 2u);
  auto again = Make(
      "[window]\nlength = 3\n[label]\nfield = \"d\"\n[split]\nby = \"store\"\n"
      "train = 0.5\nvalidation = 0.25\ntest = 0.25\n");
  auto data2 = again->Apply(TwoStoreData());
  ASSERT_TRUE(data2.ok());
  for (size_t i = 0; i < (*data)->windows.size(); ++i) {
    EXPECT_EQ((*data)->windows[i].split, (*data2)->windows[i].split);
  }
}

TEST(PipelineTest, TimeSplitResolvesCutTimes) {
  auto p = Make(
      "[window]\nlength = 1\n[split]\nby = \"time\"\ntrain = 0.6\nvalidation = 0.2\n"
      "test = 0.2\n");
  ASSERT_TRUE(p);
  const auto records = TwoStoreData();
  ASSERT_TRUE(p->Fit(records).ok());
  auto data = p->Apply(records);
  ASSERT_TRUE(data.ok());
  for (const auto& w : (*data)->windows) {
    const int64_t minute = ((*data)->EndUs(w) - kT0) / kMin;
    const int expected = minute < 18 ? 0 : (minute < 24 ? 1 : 2);  // 30 minutes * 0.6, 0.8
    EXPECT_EQ(w.split, expected) << minute;
  }
}

TEST(PipelineTest, ResolvedSpecRoundTripsAndReproducesTensors) {
  const std::string spec = R"(
stream = "fleet"
[[steps]]
op = "derive"
name = "mean3"
kind = "rolling_mean"
field = "v"
k = 3
[[steps]]
op = "normalise"
method = "minmax"
[window]
length = 4
stride = 2
[label]
field = "d"
[split]
by = "device"
train = 0.6
validation = 0.2
test = 0.2
seed = 9
)";
  auto p = Make(spec);
  ASSERT_TRUE(p);
  const auto records = TwoStoreData();
  ASSERT_TRUE(p->Fit(records).ok());
  const std::string resolved = p->Serialize();
  auto q = Pipeline::Create(resolved, {"v", "d"});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_TRUE((*q)->fitted());
  EXPECT_EQ((*q)->Serialize(), resolved);
  auto a = p->Apply(records);
  auto b = (*q)->Apply(records);
  ASSERT_TRUE(a.ok() && b.ok());
  const auto ba = Drain(*a), bb = Drain(*b);
  ASSERT_EQ(ba.size(), bb.size());
  ASSERT_GT(ba.size(), 0u);
  for (size_t i = 0; i < ba.size(); ++i) {
    EXPECT_EQ(ba[i].x, bb[i].x);
    EXPECT_EQ(ba[i].y, bb[i].y);
    EXPECT_EQ(ba[i].device, bb[i].device);
  }
  // Shuffled providers with the same seed give the same batches.
  auto pa = MakeDatasetProvider(*a, {.split = DataSplit::kTrain, .shuffle = true, .seed = 5});
  auto pb = MakeDatasetProvider(*b, {.split = DataSplit::kTrain, .shuffle = true, .seed = 5});
  Batch x, y;
  ASSERT_TRUE(*(*pa)->Next(7, &x) && *(*pb)->Next(7, &y));
  EXPECT_EQ(x.x, y.x);
  EXPECT_EQ(x.end_us, y.end_us);
}

TEST(PipelineTest, ShardsAreDisjointAndCoverTheSplit) {
  auto p = Make("[window]\nlength = 3\n[label]\nfield = \"d\"\n");
  auto data = p->Apply(TwoStoreData());
  ASSERT_TRUE(data.ok());
  std::set<std::pair<std::string, int64_t>> seen;
  size_t count = 0;
  for (int shard = 0; shard < 3; ++shard) {
    auto provider =
        MakeDatasetProvider(*data, {.shuffle = true, .seed = 2, .shard = shard, .shard_count = 3});
    ASSERT_TRUE(provider.ok());
    Batch b;
    while (*(*provider)->Next(16, &b)) {
      for (int i = 0; i < b.batch; ++i) {
        seen.emplace(b.device[i], b.end_us[i]);
        ++count;
      }
    }
  }
  EXPECT_EQ(count, (*data)->windows.size());
  EXPECT_EQ(seen.size(), count);
}

TEST(PipelineTest, StreamingMatchesTheDatasetPath) {
  auto p = Make(R"(
[[steps]]
op = "fill"
max_gap_s = 60
[[steps]]
op = "derive"
name = "slope"
kind = "rate"
field = "v"
[[steps]]
op = "normalise"
[window]
length = 3
)");
  ASSERT_TRUE(p);
  std::vector<Record> records;
  for (int m : {0, 1, 2, 4, 5, 6, 7, 12, 13, 14, 15}) {
    records.push_back(R("a", m, {std::cos(m * 0.5) * 3, m % 5 == 0 ? 1.0 : 0.0}));
  }
  ASSERT_TRUE(p->Fit(records).ok());
  auto data = p->Apply(records);
  ASSERT_TRUE(data.ok());
  const WindowDataset::DeviceRows& rows = (*data)->rows[0];
  auto streaming = p->MakeStreaming();
  std::vector<float> streamed;
  int resets = 0;
  for (const Record& r : records) {
    auto update = streaming->Push(r);
    ASSERT_TRUE(update.ok());
    resets += update->reset;
    for (const auto& row : update->rows) streamed.insert(streamed.end(), row.begin(), row.end());
  }
  EXPECT_EQ(streamed, rows.x);
  EXPECT_GE(resets, 2);  // the start and the long gap
  std::vector<float> window(3 * p->features());
  ASSERT_TRUE(streaming->LatestWindow("a", window.data()));
  const auto batches = Drain(*data);
  EXPECT_EQ(window, batches.back().x);
  EXPECT_FALSE(streaming->LatestWindow("zz", window.data()));
  EXPECT_FALSE(streaming->Push(Record{"a", kT0 + 99 * kMin, {1.0}}).ok());
}

}  // namespace
}  // namespace nemesyst
