// A small persistent thread pool for the avx2 kernels: `threads - 1` workers created once with
// the kernel, woken per call, so a short kernel call (a few microseconds at batch 1) does not pay
// for thread creation. Workers spin briefly before sleeping on a futex (std::atomic::wait), which
// keeps the wake-up latency low between back-to-back calls without burning a core when idle.
//
// Thread-safety: Run is called by one thread at a time (the kernel's owner); the job runs on
// every participant (caller = index 0) and Run returns when all have finished. Barrier() may be
// called from inside a job by all participants, e.g. between time steps of a split GEMV; every
// participant of a Run must call it the same number of times.
//
// The barrier is on the critical path of a two-thread batch-1 step (~1 µs), so it is built for
// latency: each participant publishes how many barriers it has reached in its own cache line and
// waits for the others' counts to catch up. With two threads that is one cache-line transfer
// each way, in parallel, instead of a shared counter and a phase flag bouncing between cores.
#ifndef NEMESYST_KERNELS_AVX2_THREAD_POOL_H_
#define NEMESYST_KERNELS_AVX2_THREAD_POOL_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace nemesyst::kernels::avx2 {

// A contiguous share [begin, end) of some index range, as handed to one pool thread.
struct Range {
  int begin;
  int end;
};

// Splits [0, n) into `parts` contiguous, nearly equal ranges and returns the `index`-th.
inline Range Split(int n, int parts, int index) {
  const int base = n / parts;
  const int extra = n % parts;
  const int begin = index * base + std::min(index, extra);
  return {begin, begin + base + (index < extra ? 1 : 0)};
}

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return size_; }

  // Calls fn(index) for index in [0, size()) concurrently; index 0 runs on the caller.
  template <typename Fn>
  void Run(Fn&& fn) {
    if (size_ == 1) {
      fn(0);
      return;
    }
    RunErased(&fn, [](void* ctx, int index) { (*static_cast<Fn*>(ctx))(index); });
  }

  // Spin barrier across all participants of the current Run (callable only from inside a job).
  void Barrier();

 private:
  using Trampoline = void (*)(void*, int);
  void RunErased(void* ctx, Trampoline trampoline);
  void WorkerLoop(int index);

  int size_;
  std::vector<std::thread> workers_;
  void* job_ctx_ = nullptr;
  Trampoline job_ = nullptr;
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  // One per participant, each in its own cache line: barriers that participant has entered.
  struct alignas(64) ArrivalCount {
    std::atomic<uint64_t> value{0};
  };
  std::unique_ptr<ArrivalCount[]> arrivals_;
};

}  // namespace nemesyst::kernels::avx2

#endif  // NEMESYST_KERNELS_AVX2_THREAD_POOL_H_
