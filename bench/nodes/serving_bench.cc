// Live serving benchmarks (docs/bench/nodes.md, "Serving"), each beside a peer in the same run.
// A hub and a serving store node in one process (each its own ZeroMQ context and threads), on
// loopback TCP; the model is the case study's LSTM regressor (hidden 8) trained on a small fleet,
// served over a 100-device stream (25 stores x 4 cases, one reading a minute) whose first day is
// stored before the node starts and whose second day arrives live.
//
//  BM_PredictLive / BM_RawEcho_Live: one device's live prediction through a kept client
//    connection (p50/p99 over the iterations) against a raw DEALER→ROUTER echo of the same
//    request and reply sizes (no parsing, no lookup).
//  BM_PredictWindowBinary / BM_RawEchoPlusKernel_WindowBinary: a prediction from a given window
//    (60 readings in the binary form: a data frame of rows) against a raw echo of the same sizes
//    whose server runs the model on one window (Model::Predict, the kernel's own time) before
//    answering. BM_PredictWindow / BM_RawEchoPlusKernel_Window: the same window as JSON objects.
//  BM_ReadingToPrediction/rate:R: readings pushed at R readings/s (one message per instant, all
//    devices), from the push to the prediction of each reading arriving at a subscriber, p50/p99
//    (stored with async durability on the way). Peer BM_RawRelay/rate:R: PUSH → PULL → PUB → SUB
//    of the same messages, the relay thread doing nothing.
//  BM_SwapUnderLoad: predict requests paced at 5 000/s; the production alias moves to another
//    version on the hub after 1 s; failed requests (must be 0), the p99 of the requests answered
//    between the alias change and 200 ms after the swap against the p99 of the first second.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "nemesyst/live_model.h"
#include "nemesyst/node.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/refrigeration/demo_specs.h"
#include "nemesyst/refrigeration/fleet.h"
#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/train_job.h"

namespace nemesyst {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double MicrosSince(Clock::time_point t) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t).count();
}

fs::path Scratch(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("nemesyst-serving-bench-" + name);
  fs::remove_all(p);
  return p;
}

void Percentiles(benchmark::State& state, std::vector<double> us, const std::string& prefix = "") {
  std::sort(us.begin(), us.end());
  if (us.empty()) return;
  state.counters[prefix + "p50_us"] = us[us.size() / 2];
  state.counters[prefix + "p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

const char* kPushOptions = R"({"stream":"fleet","format":"csv","timestamp_format":"us"})";

// A hub with two trained versions of "lstm" (production → 1) and a store node serving it over a
// 100-device stream; built once for the whole run.
struct Deployment {
  std::unique_ptr<Node> hub, store;
  std::vector<std::vector<Record>> live_instants;  // the second day, one entry per minute
  std::vector<Record> window;                      // one device's last 60 stored readings
  std::unique_ptr<LiveModel> reference;            // lstm@1, for the kernel peer
  size_t next_instant = 0;

  static Deployment& Get() {
    static Deployment* d = [] {
      auto* out = new Deployment();
      out->Build();
      return out;
    }();
    return *d;
  }

  void Build() {
    const fs::path train_path = Scratch("train"), hub_path = Scratch("hub"),
                   store_path = Scratch("store");
    Scratch("hub.node");
    Scratch("store.node");
    StoreOptions async;
    async.durability = Durability::kAsync;
    // Two versions trained on a small fleet (the model serves any stream of the same fields).
    {
      std::unique_ptr<Store> train;
      if (!Store::Open(async, train_path.string(), &train).ok()) std::abort();
      refrigeration::SimulatorOptions so;
      so.seed = 11;
      so.stores = 4;
      so.cases_per_store = 3;
      so.days = 0.5;
      auto sim = refrigeration::FleetSimulator::Create(so).value();
      if (!refrigeration::IngestSimulatedFleet(*train, "fleet", *sim).ok()) std::abort();
      refrigeration::DemoPipelineOptions p;
      TrainJobOptions t;
      t.pipeline_text = refrigeration::DemoPipelineToml(p);
      t.model_spec_json = refrigeration::DemoRegressorSpec("lstm", p.window_length, 8);
      t.model_name = "lstm";
      t.trainer.epochs = 1;
      t.trainer.batch_size = 64;
      t.fit_hours = 6;
      if (!RunTrainJob(*train, t).ok()) std::abort();
      t.group = "train.lstm.2";
      t.trainer.seed = 7;
      if (!RunTrainJob(*train, t).ok()) std::abort();
      std::unique_ptr<Store> hub_store;
      if (!Store::Open(async, hub_path.string(), &hub_store).ok()) std::abort();
      for (uint32_t v : {1u, 2u}) {
        auto blob = train->ReadModelBlob("lstm", v).value();
        auto info = train->GetModelInfo("lstm", v).value();
        if (!hub_store->PutModel("lstm", blob, info.metadata).ok()) std::abort();
      }
      if (!hub_store->SetAlias("lstm", "production", 1).ok()) std::abort();
      auto loaded = LoadModelForPrediction(*train, "lstm@1").value();
      reference = LiveModel::Create(std::move(loaded)).value();
    }
    // The served stream: day one stored, day two live.
    refrigeration::SimulatorOptions so;
    so.seed = 5;
    so.stores = 25;
    so.cases_per_store = 4;
    so.days = 2;
    auto sim = refrigeration::FleetSimulator::Create(so).value();
    std::vector<Record> rows;
    (void)sim->GenerateFleet([&](const refrigeration::SimSample* s, size_t n) -> Status {
      for (size_t i = 0; i < n; ++i) {
        Record r;
        refrigeration::SampleToRecord(*sim, s[i], &r);
        rows.push_back(std::move(r));
      }
      return Status::OK();
    });
    std::stable_sort(rows.begin(), rows.end(), [](const Record& a, const Record& b) {
      return a.timestamp_us < b.timestamp_us;
    });
    const int64_t half = rows.front().timestamp_us + int64_t{86400} * 1000000;
    auto split = std::find_if(rows.begin(), rows.end(),
                              [&](const Record& r) { return r.timestamp_us >= half; });
    {
      std::unique_ptr<Store> own;
      if (!Store::Open(async, store_path.string(), &own).ok()) std::abort();
      if (!own->CreateStream("fleet", refrigeration::SimulatorSchema(true)).ok()) std::abort();
      std::vector<Record> stored(rows.begin(), split);
      for (size_t i = 0; i < stored.size(); i += 20000) {
        const size_t n = std::min<size_t>(20000, stored.size() - i);
        if (!own->Append("fleet", std::span<const Record>(stored).subspan(i, n)).ok()) {
          std::abort();
        }
      }
      const std::string device = stored.back().device_id;
      for (auto it = stored.rbegin(); it != stored.rend() && window.size() < 60; ++it) {
        if (it->device_id == device) window.insert(window.begin(), *it);
      }
    }
    for (auto it = split; it != rows.end();) {
      auto end = std::find_if(it, rows.end(),
                              [&](const Record& r) { return r.timestamp_us != it->timestamp_us; });
      live_instants.emplace_back(it, end);
      it = end;
    }
    NodeOptions ho;
    ho.role = NodeRole::kHub;
    ho.node_id = "hub";
    ho.store_path = hub_path.string();
    ho.store.durability = Durability::kAsync;
    ho.listen_endpoint = ho.client_endpoint = ho.control_endpoint = "tcp://127.0.0.1:*";
    ho.heartbeat_ms = 50;
    hub = Node::Start(ho).value();
    NodeOptions s;
    s.node_id = "store-1";
    s.store_path = store_path.string();
    s.store.durability = Durability::kAsync;
    s.hub_endpoint = hub->listen_endpoint();
    s.client_endpoint = s.ingest_endpoint = s.predictions_endpoint = s.predict_endpoint =
        "tcp://127.0.0.1:*";
    s.serve_model = "lstm:production";
    s.heartbeat_ms = 50;
    store = Node::Start(s).value();
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (store->Status().serving.model.empty() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (store->Status().serving.model.empty()) std::abort();
  }

  // The binary form: the JSON names the columns, the data frame holds the rows.
  std::string BinaryWindowRequest() const {
    nlohmann::json columns = {"timestamp_us"};
    for (const std::string& f : refrigeration::SimulatorFields()) columns.push_back(f);
    return nlohmann::json{{"op", "predict"},
                          {"window", {{"device", window.back().device_id}, {"fields", columns}}}}
        .dump();
  }
  std::string BinaryWindowRows() const {
    std::string rows;
    for (const Record& r : window) {
      rows.append(reinterpret_cast<const char*>(&r.timestamp_us), 8);
      for (double v : r.values) rows.append(reinterpret_cast<const char*>(&v), 8);
    }
    return rows;
  }

  std::string LiveRequest() const {
    return R"({"op":"predict","device":")" + window.back().device_id + "\"}";
  }
  std::string WindowRequest() const {
    nlohmann::json readings = nlohmann::json::array();
    const auto& fields = refrigeration::SimulatorFields();
    for (const Record& r : window) {
      nlohmann::json j = {{"timestamp_us", r.timestamp_us}};
      for (size_t i = 0; i < fields.size(); ++i) j[fields[i]] = r.values[i];
      readings.push_back(j);
    }
    return nlohmann::json{{"op", "predict"},
                          {"window", {{"device", window.back().device_id}, {"readings", readings}}}}
        .dump();
  }
};

// ---- Request round trips ----------------------------------------------------------------------

void RoundTrips(benchmark::State& state, const std::string& request, const std::string& data = "") {
  Deployment& d = Deployment::Get();
  auto client = NodeClient::Connect(d.store->Status().serving.predict_endpoint).value();
  std::vector<double> us;
  size_t reply_bytes = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    auto reply = client->Request(request, data);
    us.push_back(MicrosSince(t0));
    if (!reply.ok() || reply->find("\"ok\":true") == std::string::npos) {
      state.SkipWithError("predict failed");
      break;
    }
    reply_bytes = reply->size();
  }
  state.counters["request_bytes"] = static_cast<double>(request.size() + data.size());
  state.counters["reply_bytes"] = static_cast<double>(reply_bytes);
  Percentiles(state, us);
}

// The peer: a raw echo of the same sizes; `work` runs on the server before it answers.
void RawEcho(benchmark::State& state, size_t request_bytes, size_t reply_bytes,
             const std::function<void()>& work) {
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  std::atomic<bool> stop{false};
  const std::string reply(reply_bytes, 'r');
  std::thread server([&] {
    while (!stop) {
      zmq::pollitem_t item = {router.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(50));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> parts;
      (void)zmq::recv_multipart(router, std::back_inserter(parts));
      if (work) work();
      std::array<zmq::const_buffer, 2> out = {zmq::buffer(parts[0].data(), parts[0].size()),
                                              zmq::buffer(reply)};
      (void)zmq::send_multipart(router, out);
    }
  });
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.connect(endpoint);
  const std::string request(request_bytes, 'q');
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    dealer.send(zmq::buffer(request), zmq::send_flags::none);
    zmq::message_t got;
    (void)dealer.recv(got);
    us.push_back(MicrosSince(t0));
  }
  stop = true;
  server.join();
  Percentiles(state, us);
}

void BM_PredictLive(benchmark::State& state) { RoundTrips(state, Deployment::Get().LiveRequest()); }
void BM_RawEcho_Live(benchmark::State& state) {
  Deployment& d = Deployment::Get();
  auto client = NodeClient::Connect(d.store->Status().serving.predict_endpoint).value();
  const size_t reply = client->Request(d.LiveRequest()).value().size();
  RawEcho(state, d.LiveRequest().size(), reply, nullptr);
}
void BM_PredictWindow(benchmark::State& state) {
  RoundTrips(state, Deployment::Get().WindowRequest());
}
void RawEchoPlusKernel(benchmark::State& state, size_t request_bytes, size_t reply) {
  Deployment& d = Deployment::Get();
  // The kernel's own time: the model on one window of the same shape (already featurised).
  const LoadedModel& m = d.reference->loaded();
  Batch batch;
  batch.batch = 1;
  batch.steps = m.pipeline->steps();
  batch.features = m.pipeline->features();
  batch.x.assign(static_cast<size_t>(batch.steps) * batch.features, 0.25f);
  batch.device = {"d"};
  batch.end_us = {0};
  std::vector<float> y;
  RawEcho(state, request_bytes, reply, [&] { (void)m.model->Predict(batch, &y); });
}
void BM_RawEchoPlusKernel_Window(benchmark::State& state) {
  Deployment& d = Deployment::Get();
  auto client = NodeClient::Connect(d.store->Status().serving.predict_endpoint).value();
  RawEchoPlusKernel(state, d.WindowRequest().size(),
                    client->Request(d.WindowRequest()).value().size());
}
void BM_PredictWindowBinary(benchmark::State& state) {
  Deployment& d = Deployment::Get();
  RoundTrips(state, d.BinaryWindowRequest(), d.BinaryWindowRows());
}
void BM_RawEchoPlusKernel_WindowBinary(benchmark::State& state) {
  Deployment& d = Deployment::Get();
  auto client = NodeClient::Connect(d.store->Status().serving.predict_endpoint).value();
  RawEchoPlusKernel(state, d.BinaryWindowRequest().size() + d.BinaryWindowRows().size(),
                    client->Request(d.BinaryWindowRequest(), d.BinaryWindowRows()).value().size());
}
BENCHMARK(BM_PredictLive)->Iterations(5000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_RawEcho_Live)->Iterations(5000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_PredictWindow)->Iterations(2000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_RawEchoPlusKernel_Window)
    ->Iterations(2000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_PredictWindowBinary)->Iterations(5000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_RawEchoPlusKernel_WindowBinary)
    ->Iterations(5000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// ---- Reading → prediction published -----------------------------------------------------------

// What a subscriber's message answers: a reading's (device, timestamp_us).
using ReadingKey = std::pair<std::string, int64_t>;
using KeyFn = std::function<ReadingKey(const std::vector<zmq::message_t>&)>;

ReadingKey PredictionKey(const std::vector<zmq::message_t>& frames) {
  nlohmann::json p = nlohmann::json::parse(frames.back().to_string(), nullptr, false);
  return {p.value("device", ""), p.value("timestamp_us", int64_t{0})};
}

// Pushes `instants` (one message each) paced at `rate` readings/s; a subscriber times each
// reading from its message's send to the arrival of the message answering it (`key_of`).
// Returns the latencies.
template <typename SendFn>
std::vector<double> PacedPushes(zmq::socket_t& sub,
                                const std::vector<std::vector<Record>>& instants, double rate,
                                const SendFn& send, size_t expected, const KeyFn& key_of) {
  std::map<std::pair<std::string, int64_t>, Clock::time_point> sent;
  std::mutex mu;
  std::vector<double> us;
  std::atomic<bool> sending_done{false};
  std::thread receiver([&] {
    size_t got = 0;
    // A reading after a gap or a faulty one restarts its device and is not predicted, so the
    // receiver stops once the sender is done and nothing has come for 500 ms.
    auto last = Clock::now();
    while (got < expected &&
           !(sending_done && Clock::now() - last > std::chrono::milliseconds(500))) {
      zmq::pollitem_t item = {sub.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(50));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      last = Clock::now();
      std::vector<zmq::message_t> frames;
      (void)zmq::recv_multipart(sub, std::back_inserter(frames));
      const auto now = Clock::now();
      const ReadingKey key = key_of(frames);
      std::lock_guard lock(mu);
      auto it = sent.find(key);
      if (it == sent.end()) continue;
      us.push_back(std::chrono::duration<double, std::micro>(now - it->second).count());
      ++got;
    }
  });
  const auto start = Clock::now();
  size_t readings = 0;
  for (const auto& instant : instants) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(readings / rate));
    std::this_thread::sleep_until(due);
    {
      std::lock_guard lock(mu);
      const auto now = Clock::now();
      for (const Record& r : instant) sent[{r.device_id, r.timestamp_us}] = now;
    }
    send(instant);
    readings += instant.size();
  }
  sending_done = true;
  receiver.join();
  return us;
}

// How many instants make `seconds` of pushing at `rate` readings/s (100 devices an instant).
std::vector<std::vector<Record>> TakeInstants(Deployment& d, double rate, double seconds) {
  const size_t want = static_cast<size_t>(rate * seconds / 100);
  std::vector<std::vector<Record>> out;
  while (out.size() < want && d.next_instant < d.live_instants.size()) {
    out.push_back(d.live_instants[d.next_instant++]);
  }
  return out;
}

void BM_ReadingToPrediction(benchmark::State& state) {
  Deployment& d = Deployment::Get();
  const double rate = static_cast<double>(state.range(0));
  const ServingStatus serving = d.store->Status().serving;
  zmq::context_t context;
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "");
  sub.set(zmq::sockopt::rcvhwm, 0);
  sub.connect(serving.predictions_endpoint);
  zmq::socket_t push(context, zmq::socket_type::push);
  push.connect(serving.ingest_endpoint);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the subscription reaches PUB
  std::vector<double> us;
  size_t readings = 0;
  for (auto _ : state) {
    auto instants = TakeInstants(d, rate, rate >= 10000 ? 1.0 : 3.0);
    if (instants.empty()) {
      state.SkipWithError("the live feed is used up");
      break;
    }
    size_t n = 0;
    for (const auto& i : instants) n += i.size();
    readings += n;
    auto got = PacedPushes(
        sub, instants, rate,
        [&](const std::vector<Record>& instant) {
          const std::string csv = refrigeration::RecordsToCsv(instant);
          std::array<zmq::const_buffer, 2> parts = {zmq::buffer(std::string_view(kPushOptions)),
                                                    zmq::buffer(csv)};
          (void)zmq::send_multipart(push, parts);
        },
        n, PredictionKey);
    if (got.size() < n * 8 / 10) {
      state.SkipWithError("predictions missing");
      break;
    }
    us.insert(us.end(), got.begin(), got.end());
  }
  state.SetItemsProcessed(static_cast<int64_t>(readings));
  state.counters["predicted"] = static_cast<double>(us.size()) / std::max<size_t>(readings, 1);
  // The node's own view (append received by its worker → published), over its recent samples.
  const ServingStatus after = d.store->Status().serving;
  state.counters["node_p50_us"] = after.publish_p50_us;
  state.counters["node_p99_us"] = after.publish_p99_us;
  Percentiles(state, us);
}

void BM_RawRelay(benchmark::State& state) {
  Deployment& d = Deployment::Get();
  const double rate = static_cast<double>(state.range(0));
  zmq::context_t context;
  zmq::socket_t pull(context, zmq::socket_type::pull), pub(context, zmq::socket_type::pub);
  pull.bind("tcp://127.0.0.1:*");
  pub.bind("tcp://127.0.0.1:*");
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "");
  sub.set(zmq::sockopt::rcvhwm, 0);
  sub.connect(pub.get(zmq::sockopt::last_endpoint));
  zmq::socket_t push(context, zmq::socket_type::push);
  push.connect(pull.get(zmq::sockopt::last_endpoint));
  std::atomic<bool> stop{false};
  // The relay: each message's readings out as one message each, as the node publishes them.
  std::thread relay([&] {
    while (!stop) {
      zmq::pollitem_t item = {pull.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(50));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> parts;
      (void)zmq::recv_multipart(pull, std::back_inserter(parts));
      const std::string text = parts.back().to_string();
      size_t pos = 0;
      while ((pos = text.find('\n', pos)) != std::string::npos && pos + 1 < text.size()) {
        const size_t end = text.find('\n', pos + 1);
        const std::string key = text.substr(pos + 1, end - pos - 1);
        std::array<zmq::const_buffer, 2> out = {zmq::str_buffer("d"), zmq::buffer(key)};
        (void)zmq::send_multipart(pub, out);
        pos = end;
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // The same messages as the node gets; the subscriber matches "device,timestamp" lines.
  const KeyFn line_key = [](const std::vector<zmq::message_t>& frames) -> ReadingKey {
    const std::string line = frames.back().to_string();
    const size_t c1 = line.find(','), c2 = line.find(',', c1 + 1);
    return {line.substr(0, c1), std::stoll(line.substr(c1 + 1, c2 - c1 - 1))};
  };
  std::vector<double> us;
  for (auto _ : state) {
    const size_t take = static_cast<size_t>(rate * (rate >= 10000 ? 1.0 : 3.0) / 100);
    const std::vector<std::vector<Record>> instants(
        d.live_instants.begin(), d.live_instants.begin() + std::min(d.live_instants.size(), take));
    size_t n = 0;
    for (const auto& i : instants) n += i.size();
    auto got = PacedPushes(
        sub, instants, rate,
        [&](const std::vector<Record>& instant) {
          const std::string csv = refrigeration::RecordsToCsv(instant);
          std::array<zmq::const_buffer, 2> parts = {zmq::buffer(std::string_view(kPushOptions)),
                                                    zmq::buffer(csv)};
          (void)zmq::send_multipart(push, parts);
        },
        n, line_key);
    us.insert(us.end(), got.begin(), got.end());
  }
  stop = true;
  relay.join();
  Percentiles(state, us);
}
BENCHMARK(BM_ReadingToPrediction)
    ->ArgName("rate")
    ->Arg(1000)
    ->Arg(100000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_RawRelay)
    ->ArgName("rate")
    ->Arg(1000)
    ->Arg(100000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// ---- Hot swap under load ----------------------------------------------------------------------

void BM_SwapUnderLoad(benchmark::State& state) {
  Deployment& d = Deployment::Get();
  const std::string request = d.LiveRequest();
  for (auto _ : state) {
    const uint64_t swaps_before = d.store->Status().serving.swaps;
    const std::string before = d.store->Status().serving.model;
    const int target = before == "lstm@1" ? 2 : 1;
    auto client = NodeClient::Connect(d.store->Status().serving.predict_endpoint).value();
    std::vector<std::pair<Clock::time_point, double>> answered;  // send time, latency
    int failed = 0;
    Clock::time_point promoted, swapped;
    bool promote_sent = false, swap_seen = false;
    const auto start = Clock::now();
    constexpr double kRate = 5000;
    for (int i = 0;; ++i) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(i / kRate));
      if (due - start > std::chrono::seconds(3)) break;
      std::this_thread::sleep_until(due);
      if (!promote_sent && Clock::now() - start > std::chrono::seconds(1)) {
        promote_sent = true;
        promoted = Clock::now();
        // The promotion goes from another thread, as an operator's command would.
        std::thread([&d, target] {
          (void)NodeRequest(d.hub->client_endpoint(),
                            R"({"op":"alias","name":"lstm","alias":"production","version":)" +
                                std::to_string(target) + "}",
                            "");
        }).detach();
      }
      const auto t0 = Clock::now();
      auto reply = client->Request(request);
      const double us = MicrosSince(t0);
      if (!reply.ok() || reply->find("\"ok\":true") == std::string::npos) {
        ++failed;
        continue;
      }
      answered.push_back({t0, us});
      if (!swap_seen && reply->find("lstm@" + std::to_string(target)) != std::string::npos) {
        swap_seen = true;
        swapped = Clock::now();
      }
    }
    if (!swap_seen || d.store->Status().serving.swaps != swaps_before + 1) {
      state.SkipWithError("the version did not swap within 2 s");
      break;
    }
    std::vector<double> steady, during;
    for (const auto& [t, us] : answered) {
      if (t < promoted) steady.push_back(us);
      if (t >= promoted && t <= swapped + std::chrono::milliseconds(200)) during.push_back(us);
    }
    Percentiles(state, steady, "steady_");
    Percentiles(state, during, "swap_");
    state.counters["failed"] = failed;
    state.counters["requests"] = static_cast<double>(answered.size() + failed);
    state.counters["swap_after_ms"] =
        std::chrono::duration<double, std::milli>(swapped - promoted).count();
    state.counters["build_ms"] = d.store->Status().serving.last_build_ms;
    state.counters["pause_us"] = d.store->Status().serving.last_swap_pause_us;
  }
}
BENCHMARK(BM_SwapUnderLoad)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace nemesyst
