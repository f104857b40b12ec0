// Replication benchmarks (docs/bench/nodes.md), each beside a peer measured in the same run:
//
//  BM_FollowerApply / BM_StoreAppend: the hub's apply rate (Follower applying a store's changes,
//    in process) against the rate at which a store ingests the same rows (Store::Append, same
//    batches): the hub must keep up with a store.
//  BM_CatchUp / BM_RawZmqSameBytes: a store node with N records the hub has not seen; the time
//    until the hub holds them (real nodes, loopback TCP) against raw ZeroMQ DEALER→ROUTER moving
//    the same change bytes in the same messages.
//  BM_SemiSyncAppend / BM_RawRoundTripPlusWrite: commit → durably on the hub, one small append at
//    a time (p50/p99 over the iterations) against a raw request/reply on loopback whose server
//    does one synced RocksDB write.
//  BM_Bootstrap / BM_PlainCopy: a hub bootstrapped from a store of N MB against copying the same
//    files.
//
// Rows are the case study's simulated fleet (the simulator's schema). Durability: the stores
// ingest async (as the demo does); replicas write with group durability (an ACK means on disk).
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "nemesyst/node.h"
#include "nemesyst/refrigeration/fleet.h"
#include "nodes/follower.h"
#include "nodes/leader.h"

namespace nemesyst {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path Scratch(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("nemesyst-bench-" + name);
  fs::remove_all(p);
  return p;
}

std::unique_ptr<Store> OpenStore(const fs::path& path, Durability d = Durability::kAsync) {
  StoreOptions o;
  o.durability = d;
  std::unique_ptr<Store> store;
  if (!Store::Open(o, path.string(), &store).ok()) std::abort();
  return store;
}

// The simulated fleet's rows, in append batches of `batch` records.
const std::vector<std::vector<Record>>& FleetBatches(size_t records, size_t batch) {
  static std::map<std::pair<size_t, size_t>, std::vector<std::vector<Record>>> cache;
  auto& out = cache[{records, batch}];
  if (!out.empty()) return out;
  refrigeration::SimulatorOptions so;
  so.stores = 8;
  so.cases_per_store = 24;
  so.days = static_cast<double>(records) / (so.stores * so.cases_per_store * 1440.0) + 0.01;
  auto sim = refrigeration::FleetSimulator::Create(so).value();
  std::vector<Record> rows;
  (void)sim->GenerateFleet([&](const refrigeration::SimSample* s, size_t n) -> Status {
    for (size_t i = 0; i < n && rows.size() < records; ++i) {
      Record r;
      refrigeration::SampleToRecord(*sim, s[i], &r);
      rows.push_back(std::move(r));
    }
    return Status::OK();
  });
  for (size_t i = 0; i < rows.size(); i += batch) {
    out.emplace_back(rows.begin() + i, rows.begin() + std::min(rows.size(), i + batch));
  }
  return out;
}

// A store holding `records` simulator rows in batches of 20 000.
fs::path FilledStore(const std::string& name, size_t records) {
  const fs::path path = Scratch(name);
  auto store = OpenStore(path);
  if (!store->CreateStream("fleet", refrigeration::SimulatorSchema(true)).ok()) std::abort();
  for (const auto& batch : FleetBatches(records, 20000)) {
    if (!store->Append("fleet", batch).ok()) std::abort();
  }
  return path;
}

void BM_StoreAppend(benchmark::State& state) {
  const auto& batches = FleetBatches(static_cast<size_t>(state.range(0)), 20000);
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path path = Scratch("append");
    auto store = OpenStore(path, Durability::kGroup);
    (void)store->CreateStream("fleet", refrigeration::SimulatorSchema(true));
    state.ResumeTiming();
    for (const auto& batch : batches) {
      if (!store->Append("fleet", batch).ok()) state.SkipWithError("append failed");
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_StoreAppend)
    ->ArgName("records")
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();

void BM_FollowerApply(benchmark::State& state) {
  const size_t records = static_cast<size_t>(state.range(0));
  const fs::path source_path = FilledStore("apply-source", records);
  auto source = OpenStore(source_path);
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path replica = Scratch("apply-replica");
    nodes::Leader leader(source.get(), {}, (Scratch("apply-snap")).string());
    nodes::FollowerOptions fo;
    fo.replica_path = replica;
    auto follower = nodes::Follower::Open(fo).value();
    std::deque<nodes::WireMessage> to_follower, to_leader;
    auto to_f = [&](const std::string&, nodes::WireMessage m) {
      to_follower.push_back(std::move(m));
    };
    auto to_l = [&](nodes::WireMessage m) { to_leader.push_back(std::move(m)); };
    state.ResumeTiming();
    to_leader.push_back(follower->Hello());
    while (follower->status().applied < source->LastChangePosition()) {
      while (!to_leader.empty()) {
        (void)leader.OnMessage("hub", to_leader.front(), to_f);
        to_leader.pop_front();
      }
      (void)leader.Pump(to_f);
      while (!to_follower.empty()) {
        if (!follower->OnMessage(to_follower.front(), to_l).ok()) state.SkipWithError("apply");
        to_follower.pop_front();
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(records));
}
BENCHMARK(BM_FollowerApply)
    ->ArgName("records")
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();

NodeOptions Options(NodeRole role, const fs::path& store, const std::string& hub = "") {
  NodeOptions o;
  o.role = role;
  o.node_id = role == NodeRole::kHub ? "hub" : "store-1";
  o.store_path = store.string();
  o.store.durability = Durability::kAsync;
  o.listen_endpoint = "tcp://127.0.0.1:*";
  o.client_endpoint = "tcp://127.0.0.1:*";
  o.hub_endpoint = hub;
  o.heartbeat_ms = 50;
  return o;
}

uint64_t HubDurable(const Node& store) {
  for (const PeerStatus& p : store.Status().peers) {
    if (p.channel == "data") return p.durable;
  }
  return 0;
}

void BM_CatchUp(benchmark::State& state) {
  const size_t records = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    // The outage: the store holds `records` rows the hub has never seen.
    const fs::path store_path = FilledStore("catchup-store", records);
    const fs::path hub_path = Scratch("catchup-hub");
    Scratch("catchup-hub.node");
    Scratch("catchup-store.node");
    uint64_t last = 0;
    {
      auto s = OpenStore(store_path);
      last = s->LastChangePosition();
    }
    state.ResumeTiming();
    auto hub = Node::Start(Options(NodeRole::kHub, hub_path)).value();
    auto store = Node::Start(Options(NodeRole::kStore, store_path, hub->listen_endpoint())).value();
    while (HubDurable(*store) < last) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    state.PauseTiming();
    store->Stop();
    hub->Stop();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(records));
}
BENCHMARK(BM_CatchUp)
    ->ArgName("records")
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();

// The peer: the same change bytes, in messages of at most one frame, DEALER → ROUTER on loopback.
void BM_RawZmqSameBytes(benchmark::State& state) {
  const size_t records = static_cast<size_t>(state.range(0));
  const fs::path path = FilledStore("raw-source", records);
  std::vector<std::vector<std::string>> messages;  // as CHANGES would batch them
  uint64_t bytes = 0;
  {
    auto source = OpenStore(path);
    std::vector<std::string> current;
    size_t current_bytes = 0;
    const std::vector<Store::Change> changes = source->ReadChanges(0, 1 << 20).value();
    for (const auto& c : changes) {
      if (current_bytes + c.bytes.size() > (1u << 20) && !current.empty()) {
        messages.push_back(std::move(current));
        current.clear();
        current_bytes = 0;
      }
      current_bytes += c.bytes.size();
      bytes += c.bytes.size();
      current.push_back(c.bytes);
    }
    if (!current.empty()) messages.push_back(std::move(current));
  }
  zmq::context_t context;
  for (auto _ : state) {
    zmq::socket_t router(context, zmq::socket_type::router);
    router.bind("tcp://127.0.0.1:*");
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.connect(router.get(zmq::sockopt::last_endpoint));
    std::thread sender([&] {
      for (const auto& m : messages) {
        std::vector<zmq::const_buffer> parts = {zmq::str_buffer("header")};
        for (const std::string& p : m) parts.push_back(zmq::buffer(p));
        (void)zmq::send_multipart(dealer, parts);
      }
    });
    for (size_t i = 0; i < messages.size(); ++i) {
      std::vector<zmq::message_t> parts;
      (void)zmq::recv_multipart(router, std::back_inserter(parts));
    }
    sender.join();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(records));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}
BENCHMARK(BM_RawZmqSameBytes)
    ->ArgName("records")
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();

// p50 / p99 of per-iteration latencies, as counters.
void Percentiles(benchmark::State& state, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  if (us.empty()) return;
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

void BM_SemiSyncAppend(benchmark::State& state) {
  const fs::path hub_path = Scratch("latency-hub"), store_path = Scratch("latency-store");
  Scratch("latency-hub.node");
  Scratch("latency-store.node");
  auto hub = Node::Start(Options(NodeRole::kHub, hub_path)).value();
  NodeOptions so = Options(NodeRole::kStore, store_path, hub->listen_endpoint());
  so.ack_mode = AckMode::kSemiSync;
  so.store.durability = Durability::kGroup;
  so.semi_sync_timeout_ms = 5000;
  auto store = Node::Start(so).value();
  const std::string client = store->client_endpoint();
  (void)NodeRequest(
      client,
      R"({"op":"create_stream","stream":"feed","schema":{"fields":[{"name":"v","type":"float64"}]}})",
      "");
  std::vector<double> us;
  int64_t t = 0;
  for (auto _ : state) {
    const std::string row = "device,timestamp,v\nd," + std::to_string(++t) + ",1.5\n";
    const auto t0 = Clock::now();
    auto reply = NodeRequest(client, R"({"op":"append","stream":"feed","format":"csv"})", row);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!reply.ok() || reply->find("\"replicated\":true") == std::string::npos) {
      state.SkipWithError("not replicated");
      break;
    }
  }
  Percentiles(state, us);
  store->Stop();
  hub->Stop();
}
BENCHMARK(BM_SemiSyncAppend)->Iterations(2000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The peer: a request over loopback, one synced RocksDB write on the server, the reply.
void BM_RawRoundTripPlusWrite(benchmark::State& state) {
  const fs::path path = Scratch("raw-rocks");
  rocksdb::Options ro;
  ro.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(ro, path.string(), &raw).ok()) std::abort();
  std::unique_ptr<rocksdb::DB> db(raw);
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  std::atomic<bool> stop{false};
  std::thread server([&] {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    while (!stop) {
      zmq::pollitem_t item = {router.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(50));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> parts;
      (void)zmq::recv_multipart(router, std::back_inserter(parts));
      (void)db->Put(wo, parts.back().to_string(), "v");
      std::array<zmq::const_buffer, 2> reply = {zmq::buffer(parts[0].data(), parts[0].size()),
                                                zmq::str_buffer("ok")};
      (void)zmq::send_multipart(router, reply);
    }
  });
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.connect(endpoint);
  std::vector<double> us;
  int64_t t = 0;
  for (auto _ : state) {
    const std::string key = "k" + std::to_string(++t);
    const auto t0 = Clock::now();
    dealer.send(zmq::buffer(key), zmq::send_flags::none);
    zmq::message_t reply;
    (void)dealer.recv(reply);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  stop = true;
  server.join();
  Percentiles(state, us);
}
BENCHMARK(BM_RawRoundTripPlusWrite)->Iterations(2000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// A store of about `mb` MB whose journal was trimmed: the hub must bootstrap from a checkpoint.
void BM_Bootstrap(benchmark::State& state) {
  const size_t records = static_cast<size_t>(state.range(0)) * 1000000 / 64;  // ~64 B a row
  const fs::path store_path = FilledStore("boot-store", records);
  {
    auto s = OpenStore(store_path);
    (void)s->TrimJournal(s->LastChangePosition());
  }
  uint64_t bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(store_path)) {
    if (e.is_regular_file()) bytes += e.file_size();
  }
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path hub_path = Scratch("boot-hub");
    Scratch("boot-hub.node");
    Scratch("boot-store.node");
    auto hub = Node::Start(Options(NodeRole::kHub, hub_path)).value();
    state.ResumeTiming();
    auto store = Node::Start(Options(NodeRole::kStore, store_path, hub->listen_endpoint())).value();
    const uint64_t last = store->Status().last_position;
    while (HubDurable(*store) < last) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    state.PauseTiming();
    store->Stop();
    hub->Stop();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
  state.counters["store_mb"] = bytes / 1e6;
}
BENCHMARK(BM_Bootstrap)
    ->ArgName("mb")
    ->Arg(256)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

void BM_PlainCopy(benchmark::State& state) {
  const size_t records = static_cast<size_t>(state.range(0)) * 1000000 / 64;
  const fs::path store_path = FilledStore("copy-store", records);
  uint64_t bytes = 0;
  for (auto _ : state) {
    const fs::path copy = Scratch("copy-target");
    fs::copy(store_path, copy, fs::copy_options::recursive);
    state.PauseTiming();
    bytes = 0;
    for (const auto& e : fs::recursive_directory_iterator(copy)) {
      if (e.is_regular_file()) bytes += e.file_size();
    }
    state.ResumeTiming();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
  state.counters["store_mb"] = bytes / 1e6;
}
BENCHMARK(BM_PlainCopy)
    ->ArgName("mb")
    ->Arg(256)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

}  // namespace
}  // namespace nemesyst
