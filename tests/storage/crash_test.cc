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
#include <map>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "tests/storage/store_fixture.h"

namespace nemesyst::testing {
namespace {

constexpr char kChildEnv[] = "NEMESYST_CRASH_CHILD";
constexpr int kRounds = 24;  // alternating sync and group
constexpr int kChildThreads = 3;

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

// Runs in the child process: appends until killed.
TEST(CrashChild, AppendUntilKilled) {
  const char* spec = std::getenv(kChildEnv);
  if (spec == nullptr) GTEST_SKIP() << "only runs as the crash test's child process";
  char path[4096];
  char mode[16];
  int fd = -1;
  unsigned round = 0;
  ASSERT_EQ(std::sscanf(spec, "%4095[^|]|%15[^|]|%d|%u", path, mode, &fd, &round), 4);
  auto durability = ParseDurability(mode);
  ASSERT_TRUE(durability.ok());
  StoreOptions options;
  options.durability = *durability;
  // Small chunks, so most appends (1..23 records) span several chunks (keys) of one WriteBatch.
  options.max_records_per_chunk = 4;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(options, path, &store).ok());
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
  for (int round = 0; round < kRounds; ++round) {
    const char* mode = round % 2 == 0 ? "sync" : "group";
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::string spec =
        path + "|" + mode + "|" + std::to_string(fds[1]) + "|" + std::to_string(round);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      setenv(kChildEnv, spec.c_str(), 1);
      const char* argv[] = {"nemesyst_storage_tests", "--gtest_filter=CrashChild.AppendUntilKilled",
                            nullptr};
      execv("/proc/self/exe", const_cast<char* const*>(argv));
      _exit(127);
    }
    close(fds[1]);
    // Kill after a random number of acknowledgements plus a random few hundred microseconds, so
    // the kill lands in the middle of appends, fsyncs and group commits.
    int wait_for = std::uniform_int_distribution<int>(1, 60)(rng);
    AckMessage msg;
    for (int i = 0; i < wait_for && ReadMessage(fds[0], &msg); ++i) acked.push_back(msg);
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, 2000)(rng)));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "round " << round << ": child exited with " << WEXITSTATUS(status) << " before the kill";
    while (ReadMessage(fds[0], &msg)) acked.push_back(msg);  // acks still in the pipe
    close(fds[0]);

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
  EXPECT_GT(acked.size(), size_t{kRounds});
}

}  // namespace
}  // namespace nemesyst::testing
