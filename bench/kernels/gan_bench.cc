// gan_step/<backend>/batch:B/hidden:H/seq:T/features:F/noise:N — one adversarial training step of
// kcore's GanNet (kernels/gan_net.h) on the given backend: a discriminator step on B real and B
// generated windows + Adam, then a generator step (non-saturating loss through the frozen
// discriminator) + Adam, weights synced to the kernels after each update; one LSTM layer each.
// GFLOPS counts the recurrent layers only (dense heads are < 2 % here):
//   D step: G forward on B + D forward/backward on 2B; G step: G and D forward/backward on B.
#include <benchmark/benchmark.h>
#include <time.h>

#include <random>
#include <string>
#include <vector>

#include "bench/kernels/lstm_stack.h"
#include "kernels/gan_net.h"
#include "kernels/optimizer.h"

namespace nemesyst::bench {
namespace {

double ThreadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void GanStep(benchmark::State& state, Backend backend, int batch, int hidden, int seq,
             int features) {
  kernels::GanSpec spec;
  spec.steps = seq;
  spec.features = features;
  spec.noise = 8;
  spec.generator.type = kernels::BlockType::kLstm;
  spec.generator.hidden = {hidden};
  spec.discriminator.type = kernels::BlockType::kLstm;
  spec.discriminator.hidden = {hidden};
  auto net = kernels::GanNet::Create(spec, backend, KernelOptions{});
  if (!net.ok()) return state.SkipWithError(net.status().ToString().c_str());
  kernels::GanNet& gan = **net;
  if (Status st = gan.Initialize(7); !st.ok()) return state.SkipWithError(st.ToString().c_str());
  kernels::Optimizer d_opt({}, gan.discriminator_params().size());
  kernels::Optimizer g_opt({}, gan.generator_params().size());
  std::vector<float> real(size_t(batch) * seq * features);
  std::mt19937 gen(3);
  std::normal_distribution<float> normal;
  for (float& v : real) v = normal(gen);
  kernels::Rng rng(11);
  auto step = [&]() -> Status {
    auto& d = gan.discriminator_params();
    auto& g = gan.generator_params();
    d.ZeroGrads();
    NEMESYST_ASSIGN_OR_RETURN(auto d_result,
                              gan.DiscriminatorStep(batch, real.data(), nullptr, rng));
    benchmark::DoNotOptimize(d_result);
    d_opt.Step(d.values().data(), d.grads().data());
    NEMESYST_RETURN_IF_ERROR(gan.SyncWeights());
    g.ZeroGrads();
    d.ZeroGrads();
    NEMESYST_ASSIGN_OR_RETURN(double g_loss, gan.GeneratorStep(batch, nullptr, rng));
    benchmark::DoNotOptimize(g_loss);
    g_opt.Step(g.values().data(), g.grads().data());
    return gan.SyncWeights();
  };
  for (int i = 0; i < 2; ++i) {
    if (Status st = step(); !st.ok()) return state.SkipWithError(st.ToString().c_str());
  }
  const double t0 = ThreadSeconds();
  for (auto _ : state) benchmark::DoNotOptimize(step());
  const double secs = ThreadSeconds() - t0;
  const LstmShape gs{batch, hidden, seq, spec.noise, 1};
  const LstmShape ds{batch, hidden, seq, features, 1};
  const double flops = 4 * ForwardFlops(gs) + 9 * ForwardFlops(ds);
  const double weight_bytes = double(WeightBytes(gs, false) + WeightBytes(ds, false));
  ReportFractions(state, secs, flops, weight_bytes, 6.0 * seq, 1);
}

const bool kRegistered = [] {
  for (Backend b : {Backend::kAvx2, Backend::kAvx512, Backend::kOnednn}) {
    for (int batch : {8, 64}) {
      for (int hidden : {32, 64}) {
        const std::string name = "gan_step/" + BackendLabel(b) + "/batch:" + std::to_string(batch) +
                                 "/hidden:" + std::to_string(hidden) + "/seq:32/features:8/noise:8";
        benchmark::RegisterBenchmark(name.c_str(), GanStep, b, batch, hidden, 32, 8)
            ->MinTime(0.05)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
    }
  }
  return true;
}();

}  // namespace
}  // namespace nemesyst::bench
