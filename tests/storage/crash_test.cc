// Crash safety with real processes: a child appends batches (several threads, under kSync and
// kGroup) and reports every acknowledged sequence range through a pipe; the parent SIGKILLs it at a
// random moment, reopens the store and checks that every acknowledged record is there, in order,
// intact (checksums), and that no record was duplicated or a sequence number reused.
//
// The child is this test binary re-executed with a filter selecting CrashChild.AppendUntilKilled
// (a plain fork of a process that has run RocksDB would inherit its thread pools without threads).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "tests/storage/store_fixture.h"

namespace nemesyst::testing {
namespace {

constexpr char kChildEnv[] = "NEMESYST_CRASH_CHILD";
constexpr char kCommitChildEnv[] = "NEMESYST_CRASH_COMMIT_CHILD";
constexpr int kChildThreads = 3;

// Rounds per campaign: 24 in CI (alternating sync and group); NEMESYST_CRASH_ROUNDS for longer
// offline campaigns.
int Rounds() {
  const char* v = std::getenv("NEMESYST_CRASH_ROUNDS");
  const int n = v != nullptr ? std::atoi(v) : 0;
  return n > 0 ? n : 24;
}

struct AckMessage {  // one per acknowledged Append; 40 bytes < PIPE_BUF, so writes are atomic
  uint64_t first_seq;
  uint64_t last_seq;
  uint64_t counter_start;
  uint32_t round;
  uint32_t thread;
  uint64_t reserved;
};

StreamSchema CrashSchema() {
  StreamSchema schema;
  for (const char* name : {"round", "thread", "counter"}) {
    schema.fields.push_back({name, FieldType::kFloat64, "", std::nullopt, std::nullopt});
  }
  return schema;
}

// What the parent tells a child through its environment: "path|durability|pipe fd|round".
struct ChildSpec {
  std::string path;
  Durability durability = Durability::kGroup;
  int fd = -1;
  unsigned round = 0;
};

// In the child: the spec from `env`, or nullopt when this process is not a crash child.
std::optional<ChildSpec> ReadChildSpec(const char* env) {
  const char* text = std::getenv(env);
  if (text == nullptr) return std::nullopt;
  char path[4096];
  char mode[16];
  ChildSpec spec;
  if (std::sscanf(text, "%4095[^|]|%15[^|]|%d|%u", path, mode, &spec.fd, &spec.round) != 4) {
    std::abort();
  }
  auto durability = ParseDurability(mode);
  if (!durability.ok()) std::abort();
  spec.path = path;
  spec.durability = *durability;
  return spec;
}

// In the child: the store, with small chunks so most appends span several keys of one batch.
std::unique_ptr<Store> OpenChildStore(const ChildSpec& spec) {
  StoreOptions options;
  options.durability = spec.durability;
  options.max_records_per_chunk = 4;
  std::unique_ptr<Store> store;
  if (!Store::Open(options, spec.path, &store).ok()) std::abort();
  return store;
}

bool ReadMessage(int fd, AckMessage* msg);

// In the parent: runs this test binary again as the child test `child_test` (a plain fork of a
// process that has run RocksDB would inherit its thread pools without their threads), passes it
// `path`, `mode` and `round` through `env`, hands every message it reports to `keep`, and kills it
// with SIGKILL after a random number of messages in [min_messages, max_messages] plus a random
// 0..2 ms, so the kill lands in the middle of writes, fsyncs and group commits.
void RunChildUntilKilled(const char* env, const char* child_test, const std::string& path,
                         const char* mode, int round, std::mt19937& rng, int min_messages,
                         int max_messages, const std::function<void(const AckMessage&)>& keep) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::string spec =
      path + "|" + mode + "|" + std::to_string(fds[1]) + "|" + std::to_string(round);
  const std::string filter = std::string("--gtest_filter=") + child_test;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    setenv(env, spec.c_str(), 1);
    const char* argv[] = {"nemesyst_storage_tests", filter.c_str(), nullptr};
    execv("/proc/self/exe", const_cast<char* const*>(argv));
    _exit(127);
  }
  close(fds[1]);
  const int wait_for = std::uniform_int_distribution<int>(min_messages, max_messages)(rng);
  AckMessage msg;
  for (int i = 0; i < wait_for && ReadMessage(fds[0], &msg); ++i) keep(msg);
  std::this_thread::sleep_for(
      std::chrono::microseconds(std::uniform_int_distribution<int>(0, 2000)(rng)));
  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status))
      << "round " << round << ": child exited with " << WEXITSTATUS(status) << " before the kill";
  while (ReadMessage(fds[0], &msg)) keep(msg);  // acks still in the pipe
  close(fds[0]);
}

// Runs in the child process: appends until killed.
TEST(CrashChild, AppendUntilKilled) {
  const auto spec = ReadChildSpec(kChildEnv);
  if (!spec) GTEST_SKIP() << "only runs as the crash test's child process";
  const int fd = spec->fd;
  const unsigned round = spec->round;
  auto store = OpenChildStore(*spec);
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < kChildThreads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t counter = 0;
      for (uint64_t n = 0;; ++n) {
        size_t size = 1 + (n * 7 + t) % 23;
        std::vector<Record> batch;
        for (size_t i = 0; i < size; ++i) {
          batch.push_back(Record{"r" + std::to_string(round) + "t" + std::to_string(t),
                                 static_cast<int64_t>(counter + i),
                                 {double(round), double(t), double(counter + i)}});
        }
        auto seqs = store->Append("crash", batch);
        if (!seqs.ok()) std::abort();
        AckMessage msg{seqs->first, seqs->last, counter, round, t, 0};
        if (write(fd, &msg, sizeof msg) != sizeof msg) std::abort();
        counter += size;
      }
    });
  }
  for (auto& t : threads) t.join();
}

bool ReadMessage(int fd, AckMessage* msg) {
  size_t got = 0;
  char* p = reinterpret_cast<char*>(msg);
  while (got < sizeof *msg) {
    ssize_t n = read(fd, p + got, sizeof *msg - got);
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

TEST(CrashTest, AcknowledgedAppendsSurviveSigkill) {
  TempDir dir;
  std::string path = dir.Sub("store");
  {
    auto store = OpenStore(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->CreateStream("crash", CrashSchema()).ok());
  }
  std::mt19937 rng(20260601);
  std::vector<AckMessage> acked;
  const int rounds = Rounds();
  for (int round = 0; round < rounds; ++round) {
    const char* mode = round % 2 == 0 ? "sync" : "group";
    RunChildUntilKilled(kChildEnv, "CrashChild.AppendUntilKilled", path, mode, round, rng, 1, 60,
                        [&](const AckMessage& m) { acked.push_back(m); });
    if (HasFatalFailure()) return;

    // Reopen and check everything acknowledged so far (this and every earlier round).
    auto store = OpenStore(path);
    ASSERT_TRUE(store) << "round " << round;
    for (const AckMessage& a : acked) {
      auto rows = ReadAll(*store, "crash", {a.first_seq, a.last_seq});
      ASSERT_EQ(rows.size(), a.last_seq - a.first_seq + 1)
          << "round " << round << ": acknowledged seqs " << a.first_seq << ".." << a.last_seq
          << " (round " << a.round << ") missing";
      for (size_t i = 0; i < rows.size(); ++i) {
        ASSERT_EQ(rows[i].seq, a.first_seq + i);
        ASSERT_EQ(rows[i].record.values, (std::vector<double>{double(a.round), double(a.thread),
                                                              double(a.counter_start + i)}))
            << "seq " << rows[i].seq << " holds another record than was acknowledged";
      }
    }
    // The whole stream: strictly increasing seqs (no reuse), every record intact, none twice.
    std::set<std::tuple<double, double, double>> seen;
    uint64_t previous = 0;
    auto it = store->Read("crash");
    ASSERT_TRUE(it.ok());
    for (; (*it)->Valid(); (*it)->Next()) {
      const StoredRecord& r = (*it)->record();
      ASSERT_GT(r.seq, previous);
      previous = r.seq;
      ASSERT_TRUE(seen.insert({r.record.values[0], r.record.values[1], r.record.values[2]}).second)
          << "record duplicated at seq " << r.seq;
    }
    ASSERT_TRUE((*it)->status().ok()) << (*it)->status().ToString();
  }
  EXPECT_GT(acked.size(), size_t(rounds));
}

// ---- Model commits and retention under SIGKILL ----------------------------------------------
// The child appends (one thread), runs retention on the same stream (one thread) and commits a
// "model" per claimed batch with the batch's ack in the same write (one thread), reporting each
// acknowledged append and each registered version. After every kill: every reported version is
// there with its exact bytes and lineage; no registered version's range can be claimed again (the
// model and its ack were one write); retention never deleted a record a group still needed;
// acknowledged appends past the retention point are all there.

std::string ModelBlobFor(uint64_t first, uint64_t last) {
  std::string blob = "model-for-" + std::to_string(first) + "-" + std::to_string(last) + ":";
  while (blob.size() < 3000) blob += std::to_string(blob.size() * 7919 % 1000003);
  return blob;
}

constexpr uint32_t kModelMessage = 99;  // AckMessage::thread of a registered version

TEST(CrashChild, CommitUntilKilled) {
  const auto spec = ReadChildSpec(kCommitChildEnv);
  if (!spec) GTEST_SKIP() << "only runs as the crash test's child process";
  const int fd = spec->fd;
  const unsigned round = spec->round;
  auto store = OpenChildStore(*spec);
  std::mutex pipe_mu;
  auto report = [&](const AckMessage& msg) {
    std::lock_guard lock(pipe_mu);
    if (write(fd, &msg, sizeof msg) != sizeof msg) std::abort();
  };
  std::thread appender([&] {
    uint64_t counter = 0;
    for (uint64_t n = 0;; ++n) {
      const size_t size = 1 + n % 17;
      std::vector<Record> batch;
      for (size_t i = 0; i < size; ++i) {
        batch.push_back(Record{"r" + std::to_string(round),
                               static_cast<int64_t>(counter + i),
                               {double(round), 0.0, double(counter + i)}});
      }
      auto seqs = store->Append("crash", batch);
      if (!seqs.ok()) std::abort();
      report(AckMessage{seqs->first, seqs->last, counter, round, 0, 0});
      counter += size;
    }
  });
  std::thread retention([&] {
    for (;;) {
      if (!store->ApplyRetention("crash").ok()) std::abort();
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  std::thread committer([&] {
    for (;;) {
      // A 1 ms lease: after the kill, what this child held is claimable again at once.
      auto claim = store->Claim("learners", "m" + std::to_string(round), 40, 1);
      if (!claim.ok()) {
        if (!claim.status().IsWouldBlock()) std::abort();
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        continue;
      }
      ModelMetadata meta;
      meta.kind = "test";
      meta.lineage.seq_ranges = {claim->range};
      const GroupAck ack{"learners", claim->lease};
      auto version = store->CommitModel("m", ModelBlobFor(claim->range.first, claim->range.last),
                                        meta, std::span<const GroupAck>(&ack, 1));
      if (!version.ok()) {
        if (version.status().code() == StatusCode::kFailedPrecondition) continue;  // lease ran out
        std::abort();
      }
      report(AckMessage{claim->range.first, claim->range.last, *version, round, kModelMessage, 0});
    }
  });
  appender.join();
  retention.join();
  committer.join();
}

TEST(CrashTest, ModelCommitsAndRetentionSurviveSigkill) {
  TempDir dir;
  const std::string path = dir.Sub("store");
  {
    auto store = OpenStore(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->CreateStream("crash", CrashSchema()).ok());
    ASSERT_TRUE(store->SetRetention("crash", {0, 300}).ok());  // keep at most 300 records
    ASSERT_TRUE(store->CreateGroup("learners", "crash").ok());
  }
  std::mt19937 rng(20261205);
  std::vector<AckMessage> appends, models;
  const int rounds = Rounds();
  for (int round = 0; round < rounds; ++round) {
    const char* mode = round % 2 == 0 ? "group" : "sync";
    RunChildUntilKilled(
        kCommitChildEnv, "CrashChild.CommitUntilKilled", path, mode, round, rng, 5, 80,
        [&](const AckMessage& m) { (m.thread == kModelMessage ? models : appends).push_back(m); });
    if (HasFatalFailure()) return;

    auto store = OpenStore(path);
    ASSERT_TRUE(store) << "round " << round;
    // Every reported version: present, its exact bytes, its lineage.
    for (const AckMessage& m : models) {
      const uint32_t version = static_cast<uint32_t>(m.counter_start);
      auto blob = store->ReadModelBlob("m", version);
      ASSERT_TRUE(blob.ok()) << "round " << round << ": m@" << version
                             << " lost: " << blob.status().ToString();
      ASSERT_EQ(*blob, ModelBlobFor(m.first_seq, m.last_seq)) << "m@" << version;
    }
    // Registered versions and claimable ranges never overlap: a version and its ack were one
    // write. Claim everything claimable now (the child's 1 ms leases have run out), check, and
    // give it all back for the next round.
    auto versions = store->ListModelVersions("m");
    ASSERT_TRUE(versions.ok() || versions.status().IsNotFound());
    std::vector<SeqRange> registered;
    if (versions.ok()) {
      for (const ModelInfo& v : *versions) {
        ASSERT_EQ(v.metadata.lineage.seq_ranges.size(), 1u) << "m@" << v.version;
        registered.push_back(v.metadata.lineage.seq_ranges[0]);
      }
    }
    const auto info = store->GetStreamInfo("crash");
    ASSERT_TRUE(info.ok());
    std::vector<LeaseId> taken;
    for (int i = 0; i < 100000; ++i) {
      auto claim = store->Claim("learners", "checker", 40, 60'000);
      if (!claim.ok()) {
        ASSERT_TRUE(claim.status().IsWouldBlock()) << claim.status().ToString();
        break;
      }
      taken.push_back(claim->lease);
      for (const SeqRange& r : registered) {
        ASSERT_TRUE(claim->range.last < r.first || claim->range.first > r.last)
            << "round " << round << ": seqs " << claim->range.first << ".." << claim->range.last
            << " are claimable although a registered version acknowledged " << r.first << ".."
            << r.last;
      }
      // Retention never deletes what a group still needs: an unacknowledged range is readable.
      ASSERT_GE(claim->range.first, info->first_seq)
          << "round " << round << ": retention deleted unacknowledged seqs";
    }
    for (const LeaseId& lease : taken) ASSERT_TRUE(store->Nack("learners", lease).ok());
    // Acknowledged appends past what retention deleted are all there.
    for (const AckMessage& a : appends) {
      if (a.last_seq < info->first_seq) continue;
      const uint64_t from = std::max(a.first_seq, info->first_seq);
      auto rows = ReadAll(*store, "crash", {from, a.last_seq});
      ASSERT_EQ(rows.size(), a.last_seq - from + 1) << "round " << round << ": acknowledged seqs "
                                                    << from << ".." << a.last_seq << " missing";
    }
  }
  RecordProperty("registered_versions", static_cast<int>(models.size()));
  EXPECT_GE(models.size(), size_t(rounds)) << "the kills should land among commits";
}

}  // namespace
}  // namespace nemesyst::testing
