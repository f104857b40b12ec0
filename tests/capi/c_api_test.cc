// The C API (include/nemesyst/c.h): used from C (c_roundtrip.c), misused (null handles, double
// close, wrong array sizes, a predictor used after its store closed — each a clear status, never
// a crash; the sanitizer build runs these too), and its predictor against the C++ one.
#include "nemesyst/c.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "nemesyst/live_model.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/predict_job.h"
#include "nemesyst/store_json.h"
#include "tests/testing/small_fleet.h"
#include "tests/testing/temp_dir.h"

extern "C" int nemesyst_test_c_roundtrip(const char* dir);

namespace nemesyst {
namespace {

// The message of a failed call, freed.
std::string Take(char*& err) {
  std::string s = err == nullptr ? "" : err;
  nemesyst_free(err);
  err = nullptr;
  return s;
}

TEST(CApiTest, FromCStoreStreamsAppendsReadsAndGroups) {
  testing::TempDir dir;
  EXPECT_EQ(nemesyst_test_c_roundtrip(dir.Sub("store").c_str()), 0) << "the line that failed";
}

TEST(CApiTest, MisuseGetsAClearStatusNeverACrash) {
  testing::TempDir dir;
  char* err = nullptr;
  nemesyst_store_t* store = nullptr;
  EXPECT_EQ(nemesyst_store_open(nullptr, &store, &err), NEMESYST_INVALID_ARGUMENT);
  EXPECT_NE(Take(err).find("path is NULL"), std::string::npos);
  EXPECT_EQ(nemesyst_store_open(dir.Sub("s").c_str(), nullptr, &err), NEMESYST_INVALID_ARGUMENT);
  Take(err);
  // A null store handle: every call says so (and a NULL errptr is allowed).
  size_t n = 0;
  EXPECT_EQ(nemesyst_stream_field_count(nullptr, "x", &n, &err), NEMESYST_INVALID_ARGUMENT);
  EXPECT_NE(Take(err).find("store is NULL"), std::string::npos);
  EXPECT_EQ(
      nemesyst_append(nullptr, "x", 0, nullptr, nullptr, nullptr, 0, nullptr, nullptr, nullptr),
      NEMESYST_INVALID_ARGUMENT);
  nemesyst_records_t* records = nullptr;
  EXPECT_EQ(nemesyst_read(nullptr, "x", nullptr, &records, nullptr), NEMESYST_INVALID_ARGUMENT);
  EXPECT_EQ(nemesyst_records_count(nullptr), 0u);
  EXPECT_EQ(nemesyst_records_device(nullptr, 0), nullptr);
  nemesyst_predictor_t* predictor = nullptr;
  EXPECT_EQ(nemesyst_predictor_open(nullptr, "m", &predictor, nullptr), NEMESYST_INVALID_ARGUMENT);
  double prediction = 0;
  int ready = 0;
  EXPECT_EQ(nemesyst_predictor_tick(nullptr, "d", 0, nullptr, 0, &prediction, &ready, &err),
            NEMESYST_INVALID_ARGUMENT);
  EXPECT_NE(Take(err).find("predictor is NULL"), std::string::npos);
  nemesyst_store_close(nullptr);
  nemesyst_predictor_close(nullptr);
  nemesyst_records_free(nullptr);

  ASSERT_EQ(nemesyst_store_open(dir.Sub("s").c_str(), &store, &err), NEMESYST_OK) << Take(err);
  const char* names[] = {"air_c"};
  const int bad_types[] = {42};
  EXPECT_EQ(nemesyst_stream_create(store, "f", 1, names, bad_types, &err),
            NEMESYST_INVALID_ARGUMENT);
  EXPECT_NE(Take(err).find("type 42"), std::string::npos);
  const int types[] = {NEMESYST_FIELD_FLOAT32};
  ASSERT_EQ(nemesyst_stream_create(store, "f", 1, names, types, &err), NEMESYST_OK);
  EXPECT_EQ(nemesyst_stream_create(store, "f", 1, names, types, &err), NEMESYST_ALREADY_EXISTS);
  Take(err);
  // Wrong array sizes, null arrays, a null device: refused before anything is written.
  const char* devices[] = {"a", nullptr};
  const int64_t times[] = {1, 2};
  const double values[] = {1.0, 2.0, 3.0};
  EXPECT_EQ(nemesyst_append(store, "f", 2, devices, times, values, 3, nullptr, nullptr, &err),
            NEMESYST_INVALID_ARGUMENT);
  EXPECT_NE(Take(err).find("values_len is 3, but 2 readings"), std::string::npos);
  EXPECT_EQ(nemesyst_append(store, "f", 2, devices, times, values, 2, nullptr, nullptr, &err),
            NEMESYST_INVALID_ARGUMENT);
  EXPECT_NE(Take(err).find("devices[1] is NULL"), std::string::npos);
  EXPECT_EQ(nemesyst_append(store, "f", 2, nullptr, times, values, 2, nullptr, nullptr, &err),
            NEMESYST_INVALID_ARGUMENT);
  Take(err);
  EXPECT_EQ(nemesyst_append(store, "nope", 0, nullptr, nullptr, nullptr, 0, nullptr, nullptr, &err),
            NEMESYST_NOT_FOUND);
  Take(err);
  // A value the schema refuses (NaN) fails the whole batch: nothing is written.
  const char* ok_devices[] = {"a", "b"};
  const double with_nan[] = {1.0, NAN};
  EXPECT_EQ(nemesyst_append(store, "f", 2, ok_devices, times, with_nan, 2, nullptr, nullptr, &err),
            NEMESYST_INVALID_ARGUMENT);
  Take(err);
  nemesyst_query_t q;
  nemesyst_query_init(&q);
  ASSERT_EQ(nemesyst_read(store, "f", &q, &records, &err), NEMESYST_OK);
  EXPECT_EQ(nemesyst_records_count(records), 0u) << "a failed batch leaves the store as it was";
  nemesyst_records_free(&records);
  EXPECT_NE(nemesyst_model_import(store, "m", "not a model", 11, nullptr, nullptr, &err),
            NEMESYST_OK);
  EXPECT_FALSE(Take(err).empty());
  EXPECT_EQ(nemesyst_model_resolve(store, "m", nullptr, nullptr, &err), NEMESYST_NOT_FOUND);
  Take(err);
  // Double close through the same variable: the second is a no-op.
  nemesyst_store_close(&store);
  EXPECT_EQ(store, nullptr);
  nemesyst_store_close(&store);
}

// A model trained through the C++ API, then run through the C API: the registry lists and
// resolves it, the predictor streams readings and matches the windowed prediction a full window
// after its start, and outlives the store it came from.
TEST(CApiTest, PredictorStreamsAndWindowsAStoredModelAndOutlivesItsStore) {
  testing::SmallFleet fleet(4, 3, 0.5);
  ASSERT_TRUE(RunTrainJob(*fleet.store, fleet.Options("lstm", 1)).ok());
  auto info = fleet.store->ResolveModel("lstm:candidate");
  ASSERT_TRUE(info.ok());
  const std::string blob = fleet.store->ReadModelBlob("lstm", info->version).value();
  const std::string metadata =
      ModelMetadataToJson(fleet.store->GetModelInfo("lstm", info->version).value().metadata);
  // The C++ predictor's first prediction for one device, to compare with.
  LoadedModel cxx = LoadModelForPrediction(*fleet.store, "lstm:candidate").value();
  const std::vector<std::string> fields = cxx.input_fields;
  RecordQuery one;
  one.device_id = "store-0000/case-00";
  const std::vector<Record> readings = ReadRecords(*fleet.store, "fleet", one).value();
  auto cxx_live = LiveModel::Create(std::move(cxx)).value();
  std::vector<PredictionRow> cxx_out;
  ASSERT_TRUE(cxx_live->Observe(readings, &cxx_out).ok());
  ASSERT_FALSE(cxx_out.empty());
  fleet.store.reset();  // the C API opens the store now

  char* err = nullptr;
  nemesyst_store_t* store = nullptr;
  ASSERT_EQ(nemesyst_store_open(fleet.StorePath().c_str(), &store, &err), NEMESYST_OK) << Take(err);
  char* json = nullptr;
  ASSERT_EQ(nemesyst_model_list(store, &json, &err), NEMESYST_OK);
  const nlohmann::json listed = nlohmann::json::parse(json);
  nemesyst_free(json);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["name"], "lstm");
  char* name = nullptr;
  uint32_t version = 0;
  ASSERT_EQ(nemesyst_model_resolve(store, "lstm:candidate", &name, &version, &err), NEMESYST_OK);
  EXPECT_STREQ(name, "lstm");
  EXPECT_EQ(version, info->version);
  nemesyst_free(name);
  uint32_t imported = 0;
  ASSERT_EQ(nemesyst_model_import(store, "copy", blob.data(), blob.size(), metadata.c_str(),
                                  &imported, &err),
            NEMESYST_OK)
      << Take(err);
  EXPECT_EQ(imported, 1u);
  ASSERT_EQ(nemesyst_model_set_alias(store, "copy", "production", 1, &err), NEMESYST_OK);

  nemesyst_predictor_t* p = nullptr;
  ASSERT_EQ(nemesyst_predictor_open(store, "copy:production", &p, &err), NEMESYST_OK) << Take(err);
  EXPECT_STREQ(nemesyst_predictor_model(p), "copy@1");
  ASSERT_EQ(nemesyst_predictor_field_count(p), fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    EXPECT_EQ(nemesyst_predictor_field_name(p, i), fields[i]);
  }
  EXPECT_EQ(nemesyst_predictor_field_name(p, fields.size()), nullptr);
  // Streaming: the device's readings one by one; every prediction the C++ LiveModel made, the
  // C API makes too, at the same readings.
  std::vector<double> streamed;
  for (const Record& r : readings) {
    double prediction = 0;
    int ready = 0;
    ASSERT_EQ(nemesyst_predictor_tick(p, r.device_id.c_str(), r.timestamp_us, r.values.data(),
                                      r.values.size(), &prediction, &ready, &err),
              NEMESYST_OK)
        << Take(err);
    if (ready) streamed.push_back(prediction);
  }
  ASSERT_EQ(streamed.size(), cxx_out.size());
  for (size_t i = 0; i < streamed.size(); ++i) {
    EXPECT_NEAR(streamed[i], cxx_out[i].prediction_s, 1e-9 * std::max(1.0, std::fabs(streamed[i])));
  }
  // Windowed: the same first full window the streaming state just passed through.
  const size_t steps = readings.size() - cxx_out.size() + 1;
  std::vector<int64_t> times;
  std::vector<double> values;
  for (size_t i = 0; i < steps; ++i) {
    times.push_back(readings[i].timestamp_us);
    values.insert(values.end(), readings[i].values.begin(), readings[i].values.end());
  }
  double windowed = 0;
  ASSERT_EQ(nemesyst_predictor_window(p, "store-0000/case-00", steps, times.data(), values.data(),
                                      values.size(), &windowed, &err),
            NEMESYST_OK)
      << Take(err);
  EXPECT_NEAR(windowed, streamed.front(), 0.5) << "a full window after a restart: the same";
  // The calibrated lower bound, streamed and windowed: what the C++ LiveModel gave.
  ASSERT_TRUE(cxx_out.front().lower_s.has_value()) << "the train job calibrates a lower bound";
  nemesyst_predictor_t* bounded = nullptr;
  ASSERT_EQ(nemesyst_predictor_open(store, "copy:production", &bounded, &err), NEMESYST_OK)
      << Take(err);
  size_t k = 0;
  for (const Record& r : readings) {
    double prediction = 0, lower = -1;
    int ready = 0;
    ASSERT_EQ(nemesyst_predictor_tick_bounded(bounded, r.device_id.c_str(), r.timestamp_us,
                                              r.values.data(), r.values.size(), &prediction, &lower,
                                              &ready, &err),
              NEMESYST_OK)
        << Take(err);
    if (!ready) continue;
    ASSERT_LT(k, cxx_out.size());
    EXPECT_NEAR(lower, *cxx_out[k].lower_s, 1e-9 * std::max(1.0, std::fabs(lower)));
    EXPECT_LE(lower, prediction);
    ++k;
  }
  EXPECT_EQ(k, cxx_out.size());
  double window_prediction = 0, window_lower = -1;
  ASSERT_EQ(nemesyst_predictor_window_bounded(bounded, "store-0000/case-00", steps, times.data(),
                                              values.data(), values.size(), &window_prediction,
                                              &window_lower, &err),
            NEMESYST_OK)
      << Take(err);
  EXPECT_EQ(window_prediction, windowed);
  EXPECT_NEAR(window_lower, *cxx_out.front().lower_s, 0.5);
  nemesyst_predictor_close(&bounded);
  // Wrong sizes are refused with the numbers.
  double prediction = 0;
  int ready = 0;
  EXPECT_EQ(nemesyst_predictor_tick(p, "d", 0, values.data(), fields.size() + 1, &prediction,
                                    &ready, &err),
            NEMESYST_INVALID_ARGUMENT);
  EXPECT_NE(Take(err).find("values_len is"), std::string::npos);
  EXPECT_EQ(nemesyst_predictor_window(p, "d", 2, times.data(), values.data(), 1, &prediction, &err),
            NEMESYST_INVALID_ARGUMENT);
  Take(err);

  // Rebuild from the stream while the store is open; after it closed: a clear status, and the
  // loaded model still predicts.
  ASSERT_EQ(nemesyst_predictor_rebuild(p, "fleet", &err), NEMESYST_OK) << Take(err);
  nemesyst_store_close(&store);
  EXPECT_EQ(nemesyst_predictor_rebuild(p, "fleet", &err), NEMESYST_FAILED_PRECONDITION);
  EXPECT_NE(Take(err).find("is closed"), std::string::npos);
  const Record& last = readings.back();
  EXPECT_EQ(nemesyst_predictor_tick(p, "another", last.timestamp_us, last.values.data(),
                                    last.values.size(), &prediction, &ready, &err),
            NEMESYST_OK)
      << Take(err);
  nemesyst_predictor_close(&p);
  EXPECT_EQ(p, nullptr);
  nemesyst_predictor_close(&p);
}

}  // namespace
}  // namespace nemesyst

namespace nemesyst {
namespace {

// The host's log callback: lines counted (called from node threads).
struct LogSink {
  std::mutex mu;
  std::vector<std::string> lines;
};
extern "C" void CollectLog(void* context, int level, const char* component, const char* message,
                           const char* fields_json) {
  auto* sink = static_cast<LogSink*>(context);
  std::lock_guard lock(sink->mu);
  sink->lines.push_back(std::to_string(level) + " " + component + " " + message + " " +
                        fields_json);
}

// A hub and a store node started inside this process through the C API, on free loopback ports:
// the store joins the hub, its status says so, the nodes' log reaches the host's callback, and
// stopping (twice) is clean. Bad options are refused.
TEST(CApiTest, NodesRunInsideTheHostWithTheirLogThroughACallback) {
  testing::TempDir dir;
  LogSink sink;
  char* err = nullptr;
  nemesyst_node_options_t o;
  nemesyst_node_options_init(&o);
  o.role = NEMESYST_ROLE_HUB;
  o.node_id = "hub";
  const std::string hub_path = dir.Sub("hub"), store_path = dir.Sub("store");
  o.store_path = hub_path.c_str();
  o.listen_endpoint = o.client_endpoint = o.control_endpoint = "tcp://127.0.0.1:*";
  o.log = CollectLog;
  o.log_context = &sink;
  nemesyst_node_t* hub = nullptr;
  ASSERT_EQ(nemesyst_node_start(&o, &hub, &err), NEMESYST_OK) << Take(err);
  char* listen = nullptr;
  ASSERT_EQ(nemesyst_node_endpoint(hub, "listen", &listen, &err), NEMESYST_OK);
  const std::string hub_endpoint = listen;
  nemesyst_free(listen);
  EXPECT_EQ(nemesyst_node_endpoint(hub, "http", &listen, &err), NEMESYST_NOT_FOUND);
  Take(err);
  EXPECT_EQ(nemesyst_node_endpoint(hub, "nowhere", &listen, &err), NEMESYST_INVALID_ARGUMENT);
  Take(err);

  nemesyst_node_options_init(&o);
  o.node_id = "store-1";
  o.store_path = store_path.c_str();
  o.hub_endpoint = hub_endpoint.c_str();
  o.client_endpoint = o.ingest_endpoint = "tcp://127.0.0.1:*";
  nemesyst_node_t* store = nullptr;
  ASSERT_EQ(nemesyst_node_start(&o, &store, &err), NEMESYST_OK) << Take(err);
  bool connected = false;
  for (int i = 0; i < 250 && !connected; ++i) {
    char* json = nullptr;
    ASSERT_EQ(nemesyst_node_status(store, &json, &err), NEMESYST_OK) << Take(err);
    const nlohmann::json s = nlohmann::json::parse(json);
    nemesyst_free(json);
    EXPECT_EQ(s["role"], "store");
    connected = s.value("connected", false);
    if (!connected) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(connected) << "the store joined its hub";
  nemesyst_node_stop(&store);
  nemesyst_node_stop(&store);
  nemesyst_node_stop(&hub);
  EXPECT_EQ(hub, nullptr);
  {
    std::lock_guard lock(sink.mu);
    bool started = false;
    for (const std::string& line : sink.lines) {
      started = started || line.find("node started") != std::string::npos;
    }
    EXPECT_TRUE(started) << "the hub's log reached the callback (" << sink.lines.size()
                         << " lines)";
  }

  nemesyst_node_options_init(&o);
  EXPECT_EQ(nemesyst_node_start(&o, &store, &err), NEMESYST_INVALID_ARGUMENT);
  EXPECT_NE(Take(err).find("store_path is NULL"), std::string::npos);
  o.store_path = store_path.c_str();
  o.role = 7;
  EXPECT_EQ(nemesyst_node_start(&o, &store, &err), NEMESYST_INVALID_ARGUMENT);
  EXPECT_NE(Take(err).find("role 7"), std::string::npos);
  EXPECT_EQ(nemesyst_node_status(nullptr, nullptr, nullptr), NEMESYST_INVALID_ARGUMENT);
  nemesyst_node_stop(nullptr);
}

}  // namespace
}  // namespace nemesyst
