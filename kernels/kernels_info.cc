// DetectCpu and DescribeKernelChoices (kernels.h): the dispatcher's choices, asked the way every
// layer asks them (by creating a small kernel of each operation through kernels/dispatch).
#include <functional>

#include "kernels/cpu_features.h"
#include "kernels/dispatch.h"
#include "nemesyst/kernels.h"

namespace nemesyst {
namespace {

struct Probe {
  std::string name;
  std::function<Result<Backend>(Backend, const KernelOptions&)> create;
};

std::vector<Probe> Operations() {
  using namespace kernels;
  auto recurrent = [](CellKind cell, bool fp16) {
    return [cell, fp16](Backend b, const KernelOptions& o) -> Result<Backend> {
      KernelOptions options = o;
      options.fp16_weights = fp16;
      NEMESYST_ASSIGN_OR_RETURN(auto k, CreateRecurrentKernel({cell, 8, 64}, b, options));
      return k->backend();
    };
  };
  return {
      {"lstm", recurrent(CellKind::kLstm, false)},
      {"rnn", recurrent(CellKind::kRnnTanh, false)},
      {"gru", recurrent(CellKind::kGru, false)},
      {"gru_classic", recurrent(CellKind::kGruClassic, false)},
      {"lstm_fp16_weights", recurrent(CellKind::kLstm, true)},
      {"dense",
       [](Backend b, const KernelOptions& o) -> Result<Backend> {
         NEMESYST_ASSIGN_OR_RETURN(auto k, CreateDenseKernel({64, 64}, b, o));
         return k->backend();
       }},
  };
}

}  // namespace

CpuInfo DetectCpu() {
  const kernels::CpuFeatures& f = kernels::GetCpuFeatures();
  CpuInfo info;
  info.vendor = f.vendor;
  info.avx2 = f.avx2;
  info.fma = f.fma;
  info.f16c = f.f16c;
  info.avx512f = f.avx512f;
  info.avx512bw = f.avx512bw;
  info.avx512dq = f.avx512dq;
  info.avx512vl = f.avx512vl;
  info.os_zmm = f.os_zmm;
  return info;
}

std::vector<KernelChoice> DescribeKernelChoices(Backend configured, const KernelOptions& options) {
  std::vector<KernelChoice> out;
  for (const Probe& op : Operations()) {
    KernelChoice choice;
    choice.operation = op.name;
    Result<Backend> chosen = op.create(configured, options);
    if (chosen.ok()) {
      choice.chosen = *chosen;
    } else {
      choice.chosen_status = chosen.status();
    }
    for (Backend b : {Backend::kAvx512, Backend::kAvx2, Backend::kOnednn, Backend::kRef}) {
      choice.backends.emplace_back(b, op.create(b, options).status());
    }
    out.push_back(std::move(choice));
  }
  return out;
}

}  // namespace nemesyst
