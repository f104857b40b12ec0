// `nemesyst kernels info [--json]`: this CPU's features and, per operation, which backend the
// dispatcher picks (with the configured kernels.backend / kernels.threads) and why the others
// are unavailable.
#include <iostream>
#include <nlohmann/json.hpp>

#include "kernels/cpu_features.h"
#include "kernels/dispatch.h"
#include "tools/nemesyst/commands.h"

namespace nemesyst::cli {
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
      {"lstm_fp16_weights", recurrent(CellKind::kLstm, true)},
      {"dense",
       [](Backend b, const KernelOptions& o) -> Result<Backend> {
         NEMESYST_ASSIGN_OR_RETURN(auto k, CreateDenseKernel({64, 64}, b, o));
         return k->backend();
       }},
  };
}

Status RunInfo(CliContext& ctx, bool json) {
  NEMESYST_ASSIGN_OR_RETURN(Backend configured,
                            ParseBackend(ctx.config.GetString("kernels.backend")));
  KernelOptions options;
  options.threads = static_cast<int>(ctx.config.GetInt("kernels.threads"));
  const kernels::CpuFeatures& cpu = kernels::GetCpuFeatures();
  nlohmann::json doc;
  doc["cpu"] = {{"vendor", cpu.vendor},     {"avx2", cpu.avx2},         {"fma", cpu.fma},
                {"f16c", cpu.f16c},         {"avx512f", cpu.avx512f},   {"avx512bw", cpu.avx512bw},
                {"avx512dq", cpu.avx512dq}, {"avx512vl", cpu.avx512vl}, {"os_zmm", cpu.os_zmm}};
  doc["configured_backend"] = std::string(BackendName(configured));
  doc["threads"] = options.threads;
  doc["operations"] = nlohmann::json::array();
  for (const Probe& op : Operations()) {
    nlohmann::json entry = {{"operation", op.name}};
    auto chosen = op.create(configured, options);
    entry["chosen"] =
        chosen.ok() ? nlohmann::json(std::string(BackendName(*chosen))) : nlohmann::json(nullptr);
    if (!chosen.ok()) entry["error"] = chosen.status().ToString();
    nlohmann::json backends = nlohmann::json::object();
    for (Backend b : {Backend::kAvx512, Backend::kAvx2, Backend::kOnednn, Backend::kRef}) {
      auto r = op.create(b, options);
      backends[std::string(BackendName(b))] =
          r.ok() ? std::string("available") : std::string(r.status().message());
    }
    entry["backends"] = backends;
    doc["operations"].push_back(entry);
  }
  if (json) {
    std::cout << doc.dump(2) << "\n";
    return Status::OK();
  }
  std::cout << "cpu: " << (cpu.vendor.empty() ? "unknown" : cpu.vendor)
            << "  avx2=" << (cpu.avx2 ? "yes" : "no") << " fma=" << (cpu.fma ? "yes" : "no")
            << " f16c=" << (cpu.f16c ? "yes" : "no") << " avx512f=" << (cpu.avx512f ? "yes" : "no")
            << "\n";
  std::cout << "kernels.backend=" << BackendName(configured)
            << "  kernels.threads=" << options.threads << "\n";
  for (const auto& entry : doc["operations"]) {
    std::cout << "  " << entry["operation"].get<std::string>() << ": "
              << (entry["chosen"].is_null()
                      ? "unavailable (" + entry["error"].get<std::string>() + ")"
                      : entry["chosen"].get<std::string>())
              << "\n";
    for (const auto& [name, state] : entry["backends"].items()) {
      std::cout << "      " << name << ": " << state.get<std::string>() << "\n";
    }
  }
  return Status::OK();
}

}  // namespace

void AddKernelCommands(CLI::App& app, CliContext& ctx) {
  CLI::App* kernels = app.add_subcommand("kernels", "Inspect the numerical kernel backends");
  kernels->require_subcommand(1);
  CLI::App* info = kernels->add_subcommand(
      "info", "CPU features and the backend chosen per operation (avx512 > avx2 > onednn > ref)");
  auto json = std::make_shared<bool>(false);
  info->add_flag("--json", *json, "Print JSON");
  info->callback([&ctx, json] { ctx.action = [&ctx, json] { return RunInfo(ctx, *json); }; });
}

}  // namespace nemesyst::cli
