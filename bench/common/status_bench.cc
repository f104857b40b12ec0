// "OK costs nothing": returning an OK Status through a call chain against returning a bool.
#include <benchmark/benchmark.h>

#include "nemesyst/status.h"

namespace nemesyst {
namespace {

[[gnu::noinline]] Status CheckStatus(int x) {
  if (x < 0) return Status::InvalidArgument("negative");
  return Status::OK();
}

[[gnu::noinline]] bool CheckBool(int x) { return x >= 0; }

void BM_StatusOk(benchmark::State& state) {
  int x = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    Status s = CheckStatus(x);
    benchmark::DoNotOptimize(s.ok());
  }
}
BENCHMARK(BM_StatusOk)->Name("status/ok/impl:status");

void BM_BoolOk(benchmark::State& state) {
  int x = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    bool ok = CheckBool(x);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_BoolOk)->Name("status/ok/impl:bool");

}  // namespace
}  // namespace nemesyst
