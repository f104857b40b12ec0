// Scale-out benchmarks on a real three-server NATS JetStream cluster on loopback
// (docs/scale-out.md, docs/bench/nodes.md), each beside a peer measured in the same run:
//
//  BM_JetStreamToViews/stores:N/workers:W: N simulated stores (300 000 simulator rows in all,
//    appended in batches of 240), each published by its JetStreamSink, into the views of W hub
//    workers sharing the stores; from the sinks' start until every view holds its store's last
//    position.
//  BM_NatsPublishSameBytes/stores:N: the peer — the NATS client publishing the very messages the
//    sinks published (read back from the log: same bytes, same batching), N publishers in
//    parallel, each waiting for every ack as the sinks do: the engine's own ceiling here.
//  BM_JetStreamAppendToView: one append of 24 rows (one instant of a store's cases) → in the hub
//    worker's view, p50/p99 over the iterations; the peer BM_NatsPublishToConsumer publishes a
//    message of the same size and waits for a pull consumer to receive it.
//
// Every run uses its own stream and buckets (a fresh subject prefix), so runs do not see each
// other's logs. The cluster's servers share the machine's cores with everything else.
#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>

#include "bench_fleet.h"
#include "nodes/jetstream_log.h"
#include "nodes/jetstream_sink.h"
#include "nodes/jetstream_views.h"
#include "nodes/nats_connection.h"
#include "tests/testing/nats_cluster.h"

namespace nemesyst {
namespace {

constexpr size_t kTotalRecords = 300000;
constexpr size_t kAppendBatch = 240;

testing::NatsCluster& Cluster() {
  static testing::NatsCluster* cluster = [] {
    auto* c = new testing::NatsCluster(Scratch("nats").string(), 3);
    if (!c->Start()) {
      std::fprintf(stderr, "nats cluster: %s\n", c->error().c_str());
      std::abort();
    }
    return c;
  }();
  return *cluster;
}

// Options for one run: its own stream and buckets.
JetStreamOptions RunOptions(const std::string& run) {
  static int counter = 0;
  JetStreamOptions o;
  o.servers = Cluster().urls();
  o.subject_prefix = "b" + std::to_string(++counter) + run;
  o.stream = "BENCH_" + o.subject_prefix;
  o.lease_ms = 1000;
  o.publish_timeout_ms = 5000;
  return o;
}

std::string StoreId(int i) {
  char id[32];
  std::snprintf(id, sizeof(id), "store-%04d", i);
  return id;
}

// N stores with kTotalRecords / N rows between them, every store's journal untouched.
std::vector<std::unique_ptr<Store>> FilledStores(int n, const std::string& run) {
  std::vector<std::unique_ptr<Store>> stores;
  const auto& batches = FleetBatches(kTotalRecords, kAppendBatch);
  for (int i = 0; i < n; ++i) {
    stores.push_back(OpenStore(Scratch(run + "-" + StoreId(i))));
    if (!stores.back()->CreateStream("fleet", refrigeration::SimulatorSchema(true)).ok()) {
      std::abort();
    }
  }
  for (size_t b = 0; b < batches.size(); ++b) {
    if (!stores[b % n]->Append("fleet", batches[b]).ok()) std::abort();
  }
  return stores;
}

uint64_t MinApplied(const nodes::JetStreamViews& views, size_t expected) {
  std::vector<PeerStatus> status = views.Views();
  if (status.size() < expected) return 0;
  uint64_t least = UINT64_MAX;
  for (const PeerStatus& p : status) least = std::min(least, p.applied);
  return least;
}

// What the sinks published, per store, in order (read back from the log).
std::vector<std::vector<std::string>> PublishedPayloads(const JetStreamOptions& o, int n) {
  std::map<std::string, std::vector<std::string>> by_subject = Cluster().Messages(o.stream);
  std::vector<std::vector<std::string>> out(n);
  for (int i = 0; i < n; ++i) out[i] = std::move(by_subject[nodes::LogSubject(o, StoreId(i))]);
  return out;
}

// The payloads of the last BM_JetStreamToViews run per store count, for the peer.
std::map<int, std::vector<std::vector<std::string>>>& Captured() {
  static std::map<int, std::vector<std::vector<std::string>>> captured;
  return captured;
}

void BM_JetStreamToViews(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int worker_count = static_cast<int>(state.range(1));
  for (auto _ : state) {
    const std::string run = "views" + std::to_string(n) + "w" + std::to_string(worker_count);
    const JetStreamOptions o = RunOptions(run);
    std::vector<std::unique_ptr<Store>> stores = FilledStores(n, run);
    std::vector<uint64_t> last;
    for (auto& s : stores) last.push_back(s->LastChangePosition());
    // The hub worker holds every store's lease before the stores start publishing (registered
    // as a sink would register them), so the time measured is the data's, not the lease pickup.
    auto admin = nodes::NatsConnection::Connect(o, "bench admin", 5000).value();
    if (!admin->EnsureLogStream().ok()) std::abort();
    kvStore* registry = admin->Bucket("stores", 0).value();
    for (int i = 0; i < n; ++i) {
      uint64_t rev = 0;
      if (kvStore_PutString(&rev, registry, StoreId(i).c_str(), "{}") != NATS_OK) std::abort();
    }
    std::vector<std::unique_ptr<nodes::JetStreamViews>> workers;
    for (int w = 0; w < worker_count; ++w) {
      nodes::JetStreamViewsOptions vo;
      vo.jetstream = o;
      vo.worker_id = "worker-" + std::to_string(w);
      vo.views_dir = Scratch(run + "-views-" + std::to_string(w));
      workers.push_back(nodes::JetStreamViews::Start(vo).value());
    }
    auto all_views = [&] {
      std::vector<PeerStatus> status;
      for (auto& w : workers) {
        for (PeerStatus& p : w->Views()) status.push_back(std::move(p));
      }
      return status;
    };
    const auto lease_start = Clock::now();
    for (bool ready = false; !ready;) {
      std::vector<PeerStatus> status = all_views();
      // Every store held once, the workers at their fair shares, every consumer made.
      ready = status.size() == static_cast<size_t>(n) &&
              std::all_of(status.begin(), status.end(),
                          [](const PeerStatus& p) { return p.in_session; });
      for (auto& w : workers) {
        ready = ready &&
                w->Views().size() == static_cast<size_t>((n + worker_count - 1) / worker_count);
      }
      if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    state.counters["takeover_s"] =
        std::chrono::duration<double>(Clock::now() - lease_start).count();
    const auto t0 = Clock::now();
    std::vector<std::unique_ptr<nodes::JetStreamSink>> sinks;
    for (int i = 0; i < n; ++i) {
      nodes::JetStreamSinkOptions so;
      so.jetstream = o;
      so.store_id = StoreId(i);
      sinks.push_back(nodes::JetStreamSink::Start(stores[i].get(), so).value());
    }
    // Every view at its store's last position (they differ by at most one batch).
    for (bool done = false; !done;) {
      std::vector<PeerStatus> status = all_views();
      done = status.size() == static_cast<size_t>(n);
      for (const PeerStatus& p : status) {
        const int i = std::atoi(p.peer.c_str() + 6);
        done = done && p.applied >= last[i];
      }
      if (!done) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
    sinks.clear();
    workers.clear();
    Captured()[n] = PublishedPayloads(o, n);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kTotalRecords));
  size_t messages = 0;
  for (const auto& per_store : Captured()[n]) messages += per_store.size();
  state.counters["messages"] = static_cast<double>(messages);
}
BENCHMARK(BM_JetStreamToViews)
    ->ArgNames({"stores", "workers"})
    ->Args({1, 1})
    ->Args({10, 1})
    ->Args({100, 1})
    ->Args({100, 2})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_NatsPublishSameBytes(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto& payloads = Captured()[n];
  if (payloads.empty()) {
    state.SkipWithError("run BM_JetStreamToViews first (same filter)");
    return;
  }
  for (auto _ : state) {
    const JetStreamOptions o = RunOptions("peer" + std::to_string(n));
    std::vector<std::unique_ptr<nodes::NatsConnection>> connections;
    for (int i = 0; i < n; ++i) {
      connections.push_back(nodes::NatsConnection::Connect(o, "bench peer", 5000).value());
    }
    if (!connections[0]->EnsureLogStream().ok()) std::abort();
    std::atomic<bool> failed{false};
    const auto t0 = Clock::now();
    std::vector<std::thread> publishers;
    for (int i = 0; i < n; ++i) {
      publishers.emplace_back([&, i] {
        const std::string subject = nodes::LogSubject(o, StoreId(i));
        int k = 0;
        for (const std::string& payload : payloads[i]) {
          const std::string id = StoreId(i) + ":" + std::to_string(++k);
          jsPubOptions po;
          jsPubOptions_Init(&po);
          po.MsgId = id.c_str();
          jsPubAck* ack = nullptr;
          jsErrCode error = static_cast<jsErrCode>(0);
          if (js_Publish(&ack, connections[i]->jetstream(), subject.c_str(), payload.data(),
                         static_cast<int>(payload.size()), &po, &error) != NATS_OK) {
            failed = true;
            return;
          }
          jsPubAck_Destroy(ack);
        }
      });
    }
    for (std::thread& t : publishers) t.join();
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
    if (failed) state.SkipWithError("publish failed");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kTotalRecords));
}
BENCHMARK(BM_NatsPublishSameBytes)
    ->ArgName("stores")
    ->Arg(1)
    ->Arg(10)
    ->Arg(100)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_JetStreamAppendToView(benchmark::State& state) {
  const JetStreamOptions o = RunOptions("latency");
  auto store = OpenStore(Scratch("latency-store"), Durability::kGroup);
  (void)store->CreateStream("fleet", refrigeration::SimulatorSchema(true));
  nodes::JetStreamSinkOptions so;
  so.jetstream = o;
  so.store_id = StoreId(0);
  auto sink = nodes::JetStreamSink::Start(store.get(), so).value();
  nodes::JetStreamViewsOptions vo;
  vo.jetstream = o;
  vo.worker_id = "worker-1";
  vo.views_dir = Scratch("latency-views");
  auto views = nodes::JetStreamViews::Start(vo).value();
  while (MinApplied(*views, 1) < store->LastChangePosition()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto& batches = FleetBatches(kTotalRecords, 24);
  std::vector<double> us;
  size_t b = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    if (!store->Append("fleet", batches[b++ % batches.size()]).ok()) std::abort();
    sink->Notify();
    const uint64_t position = store->LastChangePosition();
    while (MinApplied(*views, 1) < position)
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  Percentiles(state, us);
}
BENCHMARK(BM_JetStreamAppendToView)->Iterations(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_NatsPublishToConsumer(benchmark::State& state) {
  const JetStreamOptions o = RunOptions("peerlatency");
  auto connection = nodes::NatsConnection::Connect(o, "bench peer", 5000).value();
  if (!connection->EnsureLogStream().ok()) std::abort();
  const std::string subject = nodes::LogSubject(o, StoreId(0));
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = o.stream.c_str();
  so.Config.AckPolicy = js_AckExplicit;
  natsSubscription* sub = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  if (js_PullSubscribe(&sub, connection->jetstream(), subject.c_str(), "peer", nullptr, &so,
                       &error) != NATS_OK) {
    std::abort();
  }
  // The log message one 24-row append makes.
  std::string payload;
  {
    auto scratch = OpenStore(Scratch("peer-latency-store"));
    (void)scratch->CreateStream("fleet", refrigeration::SimulatorSchema(true));
    (void)scratch->Append("fleet", FleetBatches(kTotalRecords, 24).front());
    auto changes = scratch->ReadChanges(scratch->LastChangePosition() - 1, 1).value();
    nodes::LogMessage m;
    m.store = StoreId(0);
    m.history = scratch->History().id;
    m.after = changes[0].position - 1;
    m.last = changes[0].position;
    m.changes = {changes[0].bytes};
    payload = nodes::EncodeLogMessage(m);
  }
  std::vector<double> us;
  int k = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    const std::string id = std::to_string(++k);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    jsPubAck* ack = nullptr;
    if (js_Publish(&ack, connection->jetstream(), subject.c_str(), payload.data(),
                   static_cast<int>(payload.size()), &po, &error) != NATS_OK) {
      std::abort();
    }
    jsPubAck_Destroy(ack);
    natsMsgList list{};
    if (natsSubscription_Fetch(&list, sub, 1, 5000, &error) != NATS_OK || list.Count != 1) {
      std::abort();
    }
    natsMsg_Ack(list.Msgs[0], nullptr);
    natsMsgList_Destroy(&list);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  natsSubscription_Destroy(sub);
  Percentiles(state, us);
}
BENCHMARK(BM_NatsPublishToConsumer)->Iterations(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace nemesyst
