#include "kernels/avx2/thread_pool.h"

#include <immintrin.h>
#include <sched.h>

namespace nemesyst::kernels::avx2 {
namespace {
// About 50-100 µs of spinning before a worker goes to sleep.
constexpr int kSpinIterations = 20000;

// Busy-wait step: pause, and after a while yield, so that on an oversubscribed machine a waiting
// thread gives its core to the (descheduled) thread it waits for instead of burning its slice.
inline void Relax(int spins) {
  if (spins < 2000) {
    _mm_pause();
  } else {
    sched_yield();
  }
}

// Which participant of the running job this thread is (set for the duration of a job), so that
// Barrier() needs no index argument. A thread runs at most one job at a time.
thread_local int tls_participant = 0;
}  // namespace

ThreadPool::ThreadPool(int threads)
    : size_(threads < 1 ? 1 : threads), arrivals_(new ArrivalCount[size_]) {
  workers_.reserve(size_ - 1);
  for (int i = 1; i < size_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::RunErased(void* ctx, Trampoline trampoline) {
  job_ctx_ = ctx;
  job_ = trampoline;
  pending_.store(size_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  tls_participant = 0;
  trampoline(ctx, 0);
  for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) Relax(spins);
}

void ThreadPool::WorkerLoop(int index) {
  // Generation 0 is the one before any Run (workers are started in the constructor); loading
  // generation_ here instead could miss a Run issued before this thread got scheduled.
  uint32_t seen = 0;
  for (;;) {
    int spins = 0;
    uint32_t now;
    while ((now = generation_.load(std::memory_order_acquire)) == seen) {
      if (++spins < kSpinIterations) {
        _mm_pause();
      } else {
        generation_.wait(seen, std::memory_order_acquire);
      }
    }
    seen = now;
    if (stop_.load(std::memory_order_acquire)) return;
    tls_participant = index;
    job_(job_ctx_, index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::Barrier() {
  if (size_ == 1) return;
  const int self = tls_participant;
  // Only this participant writes its count (a plain store, no locked RMW). Release: its writes
  // before the barrier are visible to whoever acquires the count. No one passes barrier k until
  // everyone has entered it, so counts never differ by more than one and "caught up" is >= mine.
  const uint64_t mine = arrivals_[self].value.load(std::memory_order_relaxed) + 1;
  arrivals_[self].value.store(mine, std::memory_order_release);
  for (int other = 0; other < size_; ++other) {
    if (other == self) continue;
    for (int spins = 0; arrivals_[other].value.load(std::memory_order_acquire) < mine; ++spins) {
      Relax(spins);
    }
  }
}

}  // namespace nemesyst::kernels::avx2
