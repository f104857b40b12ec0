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
#include <fcntl.h>
#include <rocksdb/db.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "bench_fleet.h"
#include "nemesyst/node.h"
#include "nemesyst/refrigeration/fleet.h"
#include "nodes/follower.h"
#include "nodes/leader.h"

namespace nemesyst {
namespace {

// Compacts every column family of the store at `path` (closed), so no background compaction
// left over from filling it runs during a timed region.
void CompactFully(const fs::path& path) {
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path.string(), &names).ok()) {
    std::abort();
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::Open(rocksdb::DBOptions(), path.string(), families, &handles, &db).ok()) {
    std::abort();
  }
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    (void)db->CompactRange(rocksdb::CompactRangeOptions(), h, nullptr, nullptr);
  }
  // And what RocksDB schedules by itself after that (bottommost files whose sequence numbers
  // can be zeroed): otherwise the next open runs it.
  for (int i = 0; i < 600; ++i) {
    uint64_t pending = 0, running = 0;
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      uint64_t v = 0;
      if (db->GetIntProperty(h, "rocksdb.compaction-pending", &v)) pending += v;
    }
    (void)db->GetIntProperty("rocksdb.num-running-compactions", &running);
    if (pending == 0 && running == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (rocksdb::ColumnFamilyHandle* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  delete db;
}

// A store holding `records` simulator rows in batches of 20 000, compacted.
fs::path FilledStore(const std::string& name, size_t records, uint64_t* last = nullptr) {
  const fs::path path = Scratch(name);
  auto store = OpenStore(path);
  if (!store->CreateStream("fleet", refrigeration::SimulatorSchema(true)).ok()) std::abort();
  for (const auto& batch : FleetBatches(records, 20000)) {
    if (!store->Append("fleet", batch).ok()) std::abort();
  }
  if (last != nullptr) *last = store->LastChangePosition();
  store.reset();
  CompactFully(path);
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
    // What the leader sends (untimed): every message of one session, with credit for everything.
    std::deque<nodes::WireMessage> messages;
    {
      nodes::Leader leader(source.get(), {}, (Scratch("apply-snap")).string());
      nodes::WireMessage hello;
      hello.type = nodes::MsgType::kHello;
      hello.granted_bytes = hello.granted_changes = UINT64_MAX / 2;
      auto keep = [&](const std::string&, nodes::WireMessage m) {
        messages.push_back(std::move(m));
      };
      (void)leader.OnMessage("hub", hello, keep);
      (void)leader.Pump(keep);
    }
    const fs::path replica = Scratch("apply-replica");
    nodes::FollowerOptions fo;
    fo.replica_path = replica;
    fo.window_bytes = uint64_t{1} << 40;
    fo.window_changes = uint64_t{1} << 40;
    auto follower = nodes::Follower::Open(fo).value();
    auto ignore = [](nodes::WireMessage) {};
    state.ResumeTiming();
    for (const nodes::WireMessage& m : messages) {
      if (!follower->OnMessage(m, ignore).ok()) state.SkipWithError("apply");
    }
    state.PauseTiming();
    if (follower->status().applied != source->LastChangePosition()) state.SkipWithError("short");
    follower.reset();
    state.ResumeTiming();
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
  o.ingest_endpoint = "tcp://127.0.0.1:*";
  o.control_endpoint = "tcp://127.0.0.1:*";
  o.hub_endpoint = hub;
  o.heartbeat_ms = 50;
  return o;
}

void BM_CatchUp(benchmark::State& state) {
  const size_t records = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    // The outage: the store holds `records` rows the hub has never seen.
    uint64_t last = 0;
    const fs::path store_path = FilledStore("catchup-store", records, &last);
    const fs::path hub_path = Scratch("catchup-hub");
    Scratch("catchup-hub.node");
    Scratch("catchup-store.node");
    auto hub = Node::Start(Options(NodeRole::kHub, hub_path)).value();  // up through the outage
    state.ResumeTiming();
    auto store = Node::Start(Options(NodeRole::kStore, store_path, hub->listen_endpoint())).value();
    if (!store->WaitReplicated(last, 600000).ok()) state.SkipWithError("no catch-up");
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

// The peers: the same change bytes, batched as CHANGES batches them (up to one 4 MiB frame),
// DEALER → ROUTER on loopback, with no protocol. Transport: read once beforehand, only moved.
// Replicator: read from the source store's journal by the sender (Store::ReadChanges) and
// applied by the receiver (Store::ApplyChanges, group durability) — the same storage work as
// replication, none of its framing, flow control or checks.
constexpr size_t kPeerFrameBytes = size_t{4} << 20;

void ForEachMessage(Store& source, const std::function<void(std::vector<std::string>&)>& emit,
                    uint64_t* bytes) {
  std::vector<std::string> current;
  size_t current_bytes = 0;
  uint64_t after = 0;
  while (true) {
    std::vector<Store::Change> page = source.ReadChanges(after, 256, kPeerFrameBytes).value();
    if (page.empty()) break;
    for (Store::Change& c : page) {
      if (current_bytes + c.bytes.size() > kPeerFrameBytes && !current.empty()) {
        emit(current);
        current.clear();
        current_bytes = 0;
      }
      current_bytes += c.bytes.size();
      *bytes += c.bytes.size();
      after = c.position;
      current.push_back(std::move(c.bytes));
    }
  }
  if (!current.empty()) emit(current);
}

void RawZmqSameBytes(benchmark::State& state, bool replicate) {
  const size_t records = static_cast<size_t>(state.range(0));
  uint64_t bytes = 0;
  std::vector<std::vector<std::string>> prepared;
  {
    auto source = OpenStore(FilledStore("raw-source", records));
    ForEachMessage(
        *source, [&](std::vector<std::string>& m) { prepared.push_back(m); }, &bytes);
  }
  const size_t message_count = prepared.size();
  if (replicate) prepared.clear();
  zmq::context_t context;
  for (auto _ : state) {
    state.PauseTiming();
    // As in BM_CatchUp: a freshly filled source, opened (as a restarting node opens it) and read
    // inside the timed region; and the target created and opened inside it too, as the hub
    // creates and opens the replica of a store it has never seen when that store joins.
    std::unique_ptr<Store> target;
    fs::path source_path, target_path;
    if (replicate) {
      source_path = FilledStore("raw-source", records);
      target_path = Scratch("raw-target");
    }
    state.ResumeTiming();
    if (replicate) target = OpenStore(target_path, Durability::kGroup);
    zmq::socket_t router(context, zmq::socket_type::router);
    router.bind("tcp://127.0.0.1:*");
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.connect(router.get(zmq::sockopt::last_endpoint));
    auto send = [&](const std::vector<std::string>& m) {
      std::vector<zmq::const_buffer> parts = {zmq::str_buffer("header")};
      for (const std::string& p : m) parts.push_back(zmq::buffer(p));
      (void)zmq::send_multipart(dealer, parts);
    };
    std::thread sender([&] {
      if (!replicate) {
        for (const auto& m : prepared) send(m);
        return;
      }
      auto source = OpenStore(source_path);
      uint64_t ignored = 0;
      ForEachMessage(
          *source, [&](std::vector<std::string>& m) { send(m); }, &ignored);
    });
    for (size_t i = 0; i < message_count; ++i) {
      std::vector<zmq::message_t> parts;
      (void)zmq::recv_multipart(router, std::back_inserter(parts));
      if (!replicate) continue;
      std::vector<std::string_view> changes;
      for (size_t p = 2; p < parts.size(); ++p) {
        changes.emplace_back(parts[p].data<char>(), parts[p].size());
      }
      if (!target->ApplyChanges(changes).ok()) state.SkipWithError("apply");
    }
    sender.join();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(records));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}
void BM_RawZmqSameBytes(benchmark::State& state) { RawZmqSameBytes(state, false); }
void BM_RawReplicator(benchmark::State& state) { RawZmqSameBytes(state, true); }
BENCHMARK(BM_RawReplicator)
    ->ArgName("records")
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();
BENCHMARK(BM_RawZmqSameBytes)
    ->ArgName("records")
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();

// One small append at a time through a kept client connection; both stores sync every write.
// Semi-sync: the reply waits for the hub to have it durably. Async: the same path without that
// wait (the local part of the cost).
void AppendLatency(benchmark::State& state, AckMode mode) {
  const fs::path hub_path = Scratch("latency-hub"), store_path = Scratch("latency-store");
  Scratch("latency-hub.node");
  Scratch("latency-store.node");
  NodeOptions ho = Options(NodeRole::kHub, hub_path);
  ho.store.durability = Durability::kGroup;
  auto hub = Node::Start(ho).value();
  NodeOptions so = Options(NodeRole::kStore, store_path, hub->listen_endpoint());
  so.ack_mode = mode;
  so.store.durability = Durability::kGroup;
  so.semi_sync_timeout_ms = 5000;
  auto store = Node::Start(so).value();
  // One kept connection, as a program appending every few seconds would hold.
  auto client = NodeClient::Connect(store->client_endpoint()).value();
  (void)client->Request(
      R"({"op":"create_stream","stream":"feed","schema":{"fields":[{"name":"v","type":"float64"}]}})");
  std::vector<double> us;
  int64_t t = 0;
  for (auto _ : state) {
    const std::string row = "device,timestamp,v\nd," + std::to_string(++t) + ",1.5\n";
    const auto t0 = Clock::now();
    auto reply = client->Request(R"({"op":"append","stream":"feed","format":"csv"})", row);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!reply.ok() ||
        (mode == AckMode::kSemiSync && reply->find("\"replicated\":true") == std::string::npos)) {
      state.SkipWithError("not replicated");
      break;
    }
  }
  Percentiles(state, us);
  store->Stop();
  hub->Stop();
}
void BM_SemiSyncAppend(benchmark::State& state) { AppendLatency(state, AckMode::kSemiSync); }
void BM_AsyncAppend(benchmark::State& state) { AppendLatency(state, AckMode::kAsync); }
BENCHMARK(BM_SemiSyncAppend)->Iterations(2000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_AsyncAppend)->Iterations(2000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The peer: a request over loopback, one synced RocksDB write on the server, the reply.
std::unique_ptr<rocksdb::DB> OpenRawDb(const fs::path& path) {
  rocksdb::Options ro;
  ro.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(ro, path.string(), &raw).ok()) std::abort();
  return std::unique_ptr<rocksdb::DB>(raw);
}

void BM_RawRoundTripPlusWrite(benchmark::State& state) {
  std::unique_ptr<rocksdb::DB> db = OpenRawDb(Scratch("raw-rocks"));
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

// The floor of what a semi-sync append does, with no protocol: client → A (a synced write) → B
// (a synced write) → A → client, over kept DEALER/ROUTER connections on loopback.
void BM_RawTwoHopsTwoWrites(benchmark::State& state) {
  std::unique_ptr<rocksdb::DB> a_db = OpenRawDb(Scratch("hop-a")),
                               b_db = OpenRawDb(Scratch("hop-b"));
  rocksdb::WriteOptions synced;
  synced.sync = true;
  zmq::context_t context;
  zmq::socket_t a_front(context, zmq::socket_type::router), b(context, zmq::socket_type::router);
  a_front.bind("tcp://127.0.0.1:*");
  b.bind("tcp://127.0.0.1:*");
  zmq::socket_t a_back(context, zmq::socket_type::dealer);
  a_back.connect(b.get(zmq::sockopt::last_endpoint));
  std::atomic<bool> stop{false};
  uint64_t a_writes = 0, b_writes = 0;
  // A and B each run on their own thread, as two nodes would.
  std::thread node_b([&] {
    while (!stop) {
      zmq::pollitem_t item = {b.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(50));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> parts;
      (void)zmq::recv_multipart(b, std::back_inserter(parts));
      (void)b_db->Put(synced, "k" + std::to_string(++b_writes), "v");
      std::array<zmq::const_buffer, 2> ack = {zmq::buffer(parts[0].data(), parts[0].size()),
                                              zmq::str_buffer("ack")};
      (void)zmq::send_multipart(b, ack);
    }
  });
  std::thread node_a([&] {
    while (!stop) {
      zmq::pollitem_t item = {a_front.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(50));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> parts;
      (void)zmq::recv_multipart(a_front, std::back_inserter(parts));
      (void)a_db->Put(synced, "k" + std::to_string(++a_writes), "v");
      a_back.send(zmq::str_buffer("change"), zmq::send_flags::none);
      zmq::message_t ack;
      (void)a_back.recv(ack);
      std::array<zmq::const_buffer, 2> reply = {zmq::buffer(parts[0].data(), parts[0].size()),
                                                zmq::str_buffer("ok")};
      (void)zmq::send_multipart(a_front, reply);
    }
  });
  zmq::socket_t client(context, zmq::socket_type::dealer);
  client.connect(a_front.get(zmq::sockopt::last_endpoint));
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    client.send(zmq::str_buffer("append"), zmq::send_flags::none);
    zmq::message_t reply;
    (void)client.recv(reply);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  stop = true;
  node_a.join();
  node_b.join();
  Percentiles(state, us);
}
BENCHMARK(BM_RawTwoHopsTwoWrites)->Iterations(2000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// A store of at least `mb` MB on disk whose journal was trimmed (the hub must bootstrap from a
// checkpoint), made once and shared by BM_Bootstrap and BM_PlainCopy. Rows are generated and
// appended in a stream (a gigabyte of rows does not fit the FleetBatches cache).
const fs::path& BootstrapStore(size_t mb, uint64_t* bytes) {
  static std::map<size_t, std::pair<fs::path, uint64_t>> made;
  auto it = made.find(mb);
  if (it != made.end()) {
    *bytes = it->second.second;
    return it->second.first;
  }
  const fs::path path = Scratch("boot-store-" + std::to_string(mb));
  auto on_disk = [&] {
    uint64_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(path)) {
      if (e.is_regular_file()) n += e.file_size();
    }
    return n;
  };
  for (int week = 0; week == 0 || on_disk() < uint64_t{mb} << 20; ++week) {
    auto store = OpenStore(path);
    if (week == 0 && !store->CreateStream("fleet", refrigeration::SimulatorSchema(true)).ok()) {
      std::abort();
    }
    {
      refrigeration::SimulatorOptions so;
      so.stores = 8;
      so.cases_per_store = 24;
      so.days = 7;
      so.start_us += int64_t{week} * 7 * 86400 * 1000000;
      auto sim = refrigeration::FleetSimulator::Create(so).value();
      std::vector<Record> batch;
      (void)sim->GenerateFleet([&](const refrigeration::SimSample* samples, size_t n) -> Status {
        for (size_t i = 0; i < n; ++i) {
          batch.emplace_back();
          refrigeration::SampleToRecord(*sim, samples[i], &batch.back());
          if (batch.size() == 20000) {
            if (!store->Append("fleet", batch).ok()) std::abort();
            batch.clear();
          }
        }
        return Status::OK();
      });
      if (!batch.empty() && !store->Append("fleet", batch).ok()) std::abort();
    }
    (void)store->TrimJournal(store->LastChangePosition());
    store.reset();
    CompactFully(path);  // the size that counts is the compacted one
  }
  auto& entry = made[mb];
  entry = {path, on_disk()};
  *bytes = entry.second;
  return entry.first;
}

void BM_Bootstrap(benchmark::State& state) {
  uint64_t bytes = 0;
  const fs::path& store_path = BootstrapStore(static_cast<size_t>(state.range(0)), &bytes);
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path hub_path = Scratch("boot-hub");
    Scratch("boot-hub.node");
    Scratch(store_path.filename().string() + ".node");
    auto hub = Node::Start(Options(NodeRole::kHub, hub_path)).value();
    state.ResumeTiming();
    auto store = Node::Start(Options(NodeRole::kStore, store_path, hub->listen_endpoint())).value();
    if (!store->WaitReplicated(store->Status().last_position, 600000).ok()) {
      state.SkipWithError("no bootstrap");
    }
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
    ->Arg(1024)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

// The peer: copying the same store's files and syncing them (a bootstrap is only done once the
// copy is durable: it fsyncs every file before installing the replica).
void BM_PlainCopy(benchmark::State& state) {
  uint64_t bytes = 0;
  const fs::path& store_path = BootstrapStore(static_cast<size_t>(state.range(0)), &bytes);
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path copy = Scratch("copy-target");
    state.ResumeTiming();
    fs::copy(store_path, copy, fs::copy_options::recursive);
    for (const auto& e : fs::directory_iterator(copy)) {
      const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        (void)::fsync(fd);
        ::close(fd);
      }
    }
    const int dir = ::open(copy.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    (void)::fsync(dir);
    ::close(dir);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
  state.counters["store_mb"] = bytes / 1e6;
}
BENCHMARK(BM_PlainCopy)
    ->ArgName("mb")
    ->Arg(1024)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

}  // namespace
}  // namespace nemesyst
