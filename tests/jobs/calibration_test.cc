// Calibrated lower bounds on held-out simulated stores (nemesyst/lower_bound.h): the train job
// fits a conformal margin per case type on the validation stores, predict fills lower_s with it
// everywhere, and on the test stores the truth falls below lower_s in α ± 1 point of windows.
//
// CI runs (a), the default: the conformal margin per case type on an MSE point model.
// NEMESYST_CALIBRATION_COMPARE=1 also trains the pinball (τ = α) model and prints
//   (b) its raw prediction as the bound, and
//   (c) it with the conformal correction (conformalised quantile regression),
// and NEMESYST_CALIBRATION_STORES / _VALIDATION_STORES / _TEST_STORES / _CASES / _DAYS / _EPOCHS
// scale the fleet for the offline runs whose figures docs/calibration.md records.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "nemesyst/lower_bound.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/predict_job.h"
#include "tests/testing/small_fleet.h"

namespace nemesyst {
namespace {

constexpr double kRisk = 0.05;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != 0 ? std::atoi(v) : fallback;
}

// Miss rate and tightness of a lower bound over test windows.
struct Coverage {
  size_t n = 0, misses = 0;
  double truth_sum = 0, lower_sum = 0;
  void Add(double truth, double lower) {
    ++n;
    misses += truth < lower ? 1 : 0;
    truth_sum += truth;
    lower_sum += lower;
  }
  double miss() const { return n ? static_cast<double>(misses) / n : 0; }
  double ratio() const { return truth_sum > 0 ? lower_sum / truth_sum : 0; }  // mean lower/truth
  double gap_s() const { return n ? (truth_sum - lower_sum) / n : 0; }  // mean truth − lower
};

struct Method {
  Coverage all;
  std::map<int, Coverage> by_type;
  void Add(int type, double truth, double lower) {
    all.Add(truth, lower);
    by_type[type].Add(truth, lower);
  }
};

class CalibrationTest : public ::testing::Test {
 protected:
  // Default fleet, and why it is big enough: 36 stores (6 train / 15 validation / 15 test) of 8
  // cases over a day, a window every 10 minutes: ≈ 16 000 validation windows and as many test
  // windows. Windows of one case (and of one store) are correlated: the units that vary are the
  // 120 validation and 120 test cases, not the windows, so the realised test-store miss rate
  // spreads about ±1.3 points (one standard deviation) over store draws at this size, ±3.5 with 3
  // + 3 stores (docs/calibration.md). Training costs only the 6 training stores; held-out stores
  // cost simulation and prediction. Seeds are fixed: the outcome is deterministic.
  static int Stores() { return EnvInt("NEMESYST_CALIBRATION_STORES", 36); }
  static int ValidationStores() { return EnvInt("NEMESYST_CALIBRATION_VALIDATION_STORES", 15); }
  static int TestStores() { return EnvInt("NEMESYST_CALIBRATION_TEST_STORES", 15); }
  CalibrationTest()
      : fleet_(Stores(), EnvInt("NEMESYST_CALIBRATION_CASES", 8),
               EnvInt("NEMESYST_CALIBRATION_DAYS", 1), true, ValidationStores(), TestStores()) {}

  TrainJobOptions Options(const std::string& name, bool pinball) const {
    TrainJobOptions t = fleet_.Options(name, 1);
    t.trainer.epochs = EnvInt("NEMESYST_CALIBRATION_EPOCHS", 3);
    t.records_per_claim = 1 << 20;  // one claim: smaller ones re-read the stream (slow here)
    t.fit_hours = 24.0 * EnvInt("NEMESYST_CALIBRATION_DAYS", 1);  // validation over the whole run
    const auto& sim = fleet_.sim->options();
    t.fit_records = static_cast<size_t>(sim.stores * sim.cases_per_store * (sim.days * 1440 + 1));
    t.lower_risk = kRisk;
    t.lower_group_field = "case_type";
    if (pinball) {
      nlohmann::json spec = nlohmann::json::parse(t.model_spec_json);
      spec["loss"] = "pinball";
      spec["quantile"] = kRisk;
      t.model_spec_json = spec.dump();
    }
    return t;
  }

  testing::SmallFleet fleet_;
};

// The mechanics on a small fleet: the train job stores the calibration in both forms, and every
// prediction path fills lower_s from it with the window's case type.
TEST(CalibrationMechanicsTest, TrainStoresTheMarginsAndEveryPredictPathFillsLowerS) {
  testing::SmallFleet fleet(6, 6, 0.5, true, 1, 1);
  TrainJobOptions t = fleet.Options("lstm", 1);
  t.fit_hours = 12;
  t.lower_group_field = "case_type";
  auto trained = RunTrainJob(*fleet.store, t);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  const LearnerVersion& v = trained->learners.at(0);
  ASSERT_TRUE(v.lower.has_value());
  EXPECT_EQ(v.lower->group_field, "case_type");
  EXPECT_FALSE(v.lower->groups.empty());
  auto info = fleet.store->GetModelInfo("lstm", v.version);
  ASSERT_TRUE(info.ok());
  auto registered = LowerBoundFromMetadata(info->metadata);
  ASSERT_TRUE(registered.ok() && registered->has_value());
  EXPECT_DOUBLE_EQ((*registered)->pooled.margin_s, v.lower->pooled.margin_s);
  EXPECT_EQ((*registered)->groups.size(), v.lower->groups.size());

  auto m = LoadModelForPrediction(*fleet.store, "lstm@" + std::to_string(v.version));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_TRUE(m->lower.has_value());
  EXPECT_DOUBLE_EQ(m->lower->pooled.margin_s, v.lower->pooled.margin_s);
  const size_t type_index = static_cast<size_t>(m->lower_group_index);
  ASSERT_EQ(m->input_fields.at(type_index), "case_type");

  auto records = ReadRecords(*fleet.store, "fleet");
  ASSERT_TRUE(records.ok());
  std::map<std::string, std::string> type_of;
  for (const Record& r : *records)
    type_of[r.device_id] = LowerBoundGroupValue(r.values[type_index]);
  auto check = [&](const PredictionRow& row) {
    ASSERT_TRUE(row.lower_s.has_value()) << row.device;
    EXPECT_DOUBLE_EQ(*row.lower_s, LowerBound(*m->lower, row.prediction_s, type_of[row.device]));
  };
  for (bool streaming : {false, true}) {
    PredictJobResult result;
    size_t rows = 0;
    ASSERT_TRUE(PredictRecords(
                    *m, *records, streaming,
                    [&](const PredictionRow& row) {
                      check(row);
                      ++rows;
                      return Status::OK();
                    },
                    &result)
                    .ok());
    EXPECT_GT(rows, 10u);
  }
  auto at = PredictAt(*m, *records, records->back().timestamp_us);
  ASSERT_TRUE(at.ok());
  ASSERT_FALSE(at->empty());
  for (const PredictionRow& row : *at) check(row);

  // Risk 0: no calibration anywhere, lower_s empty.
  t.lower_risk = 0;
  t.model_name = "plain";
  auto plain = RunTrainJob(*fleet.store, t);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->learners.at(0).lower.has_value());
  auto p = LoadModelForPrediction(*fleet.store, "plain");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->lower.has_value());
  auto plain_at = PredictAt(*p, *records, records->back().timestamp_us);
  ASSERT_TRUE(plain_at.ok() && !plain_at->empty());
  EXPECT_FALSE(plain_at->front().lower_s.has_value());
  // A group field the stream does not have is refused before anything is created.
  t.lower_risk = 0.05;
  t.lower_group_field = "no_such_field";
  t.model_name = "bad";
  auto bad = RunTrainJob(*fleet.store, t);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'no_such_field'"), std::string_view::npos);
}

// The guarantee of split conformal prediction is in expectation over exchangeable units; here
// the units are stores (and their cases), so the test checks three things: the in-sample miss
// rate on the validation windows is the conformal quantile's own (≤ α, within 1/(n+1) of it: a
// margin fitted on other predictions than predict makes, or truths measured differently, breaks
// this — it was 0.093 before the label round trip's −0 s truths were clamped); the realised miss
// rate on the test stores is α ± 1 point; and its mean over 200 random re-draws of which held-out
// stores calibrate and which test is α ± 1 point (the expectation the guarantee is about).
TEST_F(CalibrationTest, ConformalLowerBoundCoversHeldOutStores) {
  const bool compare = EnvInt("NEMESYST_CALIBRATION_COMPARE", 0) != 0;
  auto mse = RunTrainJob(*fleet_.store, Options("mse", false));
  ASSERT_TRUE(mse.ok()) << mse.status().ToString();

  // Stored with the version: registry metadata and the model file agree.
  auto info = fleet_.store->GetModelInfo("mse", mse->candidate);
  ASSERT_TRUE(info.ok());
  auto registered = LowerBoundFromMetadata(info->metadata);
  ASSERT_TRUE(registered.ok() && registered->has_value()) << registered.status().ToString();
  EXPECT_EQ((*registered)->group_field, "case_type");
  EXPECT_DOUBLE_EQ((*registered)->risk, kRisk);
  auto m = LoadModelForPrediction(*fleet_.store, "mse@" + std::to_string(mse->candidate));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_TRUE(m->lower.has_value());
  EXPECT_DOUBLE_EQ(m->lower->pooled.margin_s, (*registered)->pooled.margin_s);
  EXPECT_EQ(m->lower->groups.size(), (*registered)->groups.size());
  EXPECT_GE(m->lower->groups.size(), 2u);

  const int stores = fleet_.sim->options().stores;
  const auto val_stores = refrigeration::StoresInSplit(fleet_.pipeline, stores, 1);
  const auto test_stores = refrigeration::StoresInSplit(fleet_.pipeline, stores, 2);
  ASSERT_FALSE(val_stores.empty());
  ASSERT_FALSE(test_stores.empty());
  auto all = ReadRecords(*fleet_.store, "fleet");
  ASSERT_TRUE(all.ok());
  const auto& fields = m->input_fields;
  const size_t type_index = std::find(fields.begin(), fields.end(), "case_type") - fields.begin();
  auto store_of = [](const std::string& device) { return device.substr(0, device.find('/')); };
  auto in = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  // The held-out stores' records (validation and test), and each case's type.
  std::vector<Record> held;
  std::map<std::string, int> type_of;
  int64_t t0 = all->front().timestamp_us;
  for (const Record& r : *all) {
    t0 = std::min(t0, r.timestamp_us);
    const std::string store = store_of(r.device_id);
    if (!in(val_stores, store) && !in(test_stores, store)) continue;
    type_of[r.device_id] = static_cast<int>(std::lround(r.values[type_index]));
    held.push_back(r);
  }
  struct Row {
    std::string store;
    int64_t t;
    int type;
    double pred, truth, lower;
  };
  auto predict = [&](LoadedModel& model) {
    std::vector<Row> rows;
    PredictJobResult result;
    EXPECT_TRUE(PredictRecords(
                    model, held, false,
                    [&](const PredictionRow& row) {
                      EXPECT_TRUE(row.label_s && row.lower_s);
                      rows.push_back({store_of(row.device), row.timestamp_us, type_of[row.device],
                                      row.prediction_s, row.label_s.value_or(0),
                                      row.lower_s.value_or(0)});
                      return Status::OK();
                    },
                    &result)
                    .ok());
    return rows;
  };

  // The job's calibration on the validation stores (in-sample) and the test stores.
  struct Outcome {
    Method val, test;
  };
  auto report = [&](const char* name, const std::vector<Row>& rows, bool raw) {
    Outcome o;
    for (const Row& r : rows) {
      (in(val_stores, r.store) ? o.val : o.test).Add(r.type, r.truth, raw ? r.pred : r.lower);
    }
    std::string types;
    for (const auto& [type, c] : o.test.by_type) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), " %d:%.3f(%zu)", type, c.miss(), c.n);
      types += buf;
    }
    std::printf("%-24s val %.3f  test %.3f  lower/y %.3f  y-lower %.1f s  by type%s\n", name,
                o.val.all.miss(), o.test.all.miss(), o.test.all.ratio(), o.test.all.gap_s(),
                types.c_str());
    return o;
  };
  // The spread over store draws: refit on a random |validation| of the held-out stores (only
  // their windows in the first `cal_hours`), test on the others' windows; mean and spread.
  auto resample = [&](const char* name, const std::vector<Row>& rows, double cal_hours) {
    std::vector<std::string> pool = val_stores;
    pool.insert(pool.end(), test_stores.begin(), test_stores.end());
    std::mt19937_64 rng(7);
    std::vector<double> misses;
    for (int draw = 0; draw < 200; ++draw) {
      std::shuffle(pool.begin(), pool.end(), rng);
      const std::vector<std::string> cal(pool.begin(), pool.begin() + val_stores.size());
      std::vector<double> pr, tr;
      std::vector<std::string> g;
      for (const Row& r : rows) {
        if (!in(cal, r.store) || r.t - t0 >= static_cast<int64_t>(cal_hours * 3.6e9)) continue;
        pr.push_back(r.pred);
        tr.push_back(r.truth);
        g.push_back(std::to_string(r.type));
      }
      auto fit = FitLowerBound(pr, tr, g, kRisk, "case_type");
      EXPECT_TRUE(fit.ok()) << fit.status().ToString();
      if (!fit.ok()) return 0.0;
      Coverage c;
      for (const Row& r : rows) {
        if (!in(cal, r.store)) c.Add(r.truth, LowerBound(*fit, r.pred, std::to_string(r.type)));
      }
      misses.push_back(c.miss());
    }
    double mean = 0, sq = 0;
    for (double x : misses) mean += x;
    mean /= static_cast<double>(misses.size());
    for (double x : misses) sq += (x - mean) * (x - mean);
    std::sort(misses.begin(), misses.end());
    std::printf(
        "%-24s calibrated on %s: re-drawn test miss mean %.3f sd %.3f p5 %.3f p95 %.3f\n", name,
        cal_hours > 1e8 ? "all hours"
                        : (std::to_string(static_cast<int>(cal_hours)) + " h").c_str(),
        mean, std::sqrt(sq / static_cast<double>(misses.size() - 1)), misses[10], misses[189]);
    return mean;
  };

  std::printf("risk %.2f: %zu validation / %zu test stores\n", kRisk, val_stores.size(),
              test_stores.size());
  const std::vector<Row> mrows = predict(*m);
  const Outcome a = report("(a) mse + conformal", mrows, false);
  const double a_mean = resample("(a) mse + conformal", mrows, 1e9);
  if (EnvInt("NEMESYST_CALIBRATION_DAYS", 1) > 1) resample("(a) mse + conformal", mrows, 24);
  if (compare) {
    auto pin = RunTrainJob(*fleet_.store, Options("pinball", true));
    ASSERT_TRUE(pin.ok()) << pin.status().ToString();
    auto p = LoadModelForPrediction(*fleet_.store, "pinball@" + std::to_string(pin->candidate));
    ASSERT_TRUE(p.ok() && p->lower.has_value());
    const std::vector<Row> prows = predict(*p);
    report("(b) pinball raw", prows, true);
    report("(c) pinball + conformal", prows, false);
    resample("(c) pinball + conformal", prows, 1e9);
    if (EnvInt("NEMESYST_CALIBRATION_DAYS", 1) > 1) resample("(c) pinball + conformal", prows, 24);
  }

  // In-sample: the conformal quantile's own guarantee, α − 1/(n + 1) ≤ miss ≤ α per group, less a
  // few ties.
  EXPECT_LE(a.val.all.miss(), kRisk);
  EXPECT_GE(a.val.all.miss(), kRisk - 0.005);
  // Held out: α ± 1 point, realised and in expectation over store draws.
  EXPECT_NEAR(a.test.all.miss(), kRisk, 0.01);
  EXPECT_NEAR(a_mean, kRisk, 0.01);
  EXPECT_GT(a.test.all.ratio(), 0.3);  // a useful bound, not 0 everywhere
}

}  // namespace
}  // namespace nemesyst
