// The avx2 kernels' thread pool: every participant runs each job once, Barrier() orders the
// phases of a job (what one participant wrote before a barrier is what the others read after
// it), and the pool stays correct over many back-to-back Runs, as a batch-1 split GEMV uses it.
#include "kernels/avx2/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace nemesyst::kernels::avx2 {
namespace {

TEST(ThreadPoolTest, EveryParticipantRunsEachJobOnce) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    ASSERT_EQ(pool.size(), threads);
    std::vector<std::atomic<int>> calls(threads);
    for (int run = 0; run < 50; ++run) {
      pool.Run([&](int index) { calls[index].fetch_add(1, std::memory_order_relaxed); });
    }
    for (int i = 0; i < threads; ++i) EXPECT_EQ(calls[i].load(), 50) << "participant " << i;
  }
}

TEST(ThreadPoolTest, NonPositiveThreadCountMeansOne) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), 1);
  int calls = 0;
  pool.Run([&](int index) {
    EXPECT_EQ(index, 0);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
}

// Each phase, every participant writes its slot with (phase, index); after the barrier each one
// checks every other slot holds this phase's value, then a second barrier keeps the next phase's
// writes from racing those reads. A barrier that let anyone through early fails the check (and
// is a data race ThreadSanitizer would name).
TEST(ThreadPoolTest, BarrierOrdersPhasesAcrossManyRuns) {
  for (int threads : {2, 3}) {
    ThreadPool pool(threads);
    std::vector<std::atomic<long>> slots(threads);
    std::atomic<int> mismatches{0};
    constexpr int kRuns = 20;
    constexpr int kPhases = 100;
    for (int run = 0; run < kRuns; ++run) {
      pool.Run([&](int index) {
        for (int phase = 0; phase < kPhases; ++phase) {
          const long value = (long(run) * kPhases + phase) * 16 + index;
          slots[index].store(value, std::memory_order_relaxed);
          pool.Barrier();
          for (int other = 0; other < threads; ++other) {
            const long expected = (long(run) * kPhases + phase) * 16 + other;
            if (slots[other].load(std::memory_order_relaxed) != expected) {
              mismatches.fetch_add(1, std::memory_order_relaxed);
            }
          }
          pool.Barrier();
        }
      });
    }
    EXPECT_EQ(mismatches.load(), 0) << threads << " threads";
  }
}

TEST(ThreadPoolTest, BarrierIsANoOpForOneThread) {
  ThreadPool pool(1);
  int phases = 0;
  pool.Run([&](int) {
    for (int i = 0; i < 10; ++i) {
      pool.Barrier();
      ++phases;
    }
  });
  EXPECT_EQ(phases, 10);
}

}  // namespace
}  // namespace nemesyst::kernels::avx2
