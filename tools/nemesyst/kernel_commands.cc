// `nemesyst kernels info [--json]`: this CPU's features and, per operation, which backend the
// dispatcher picks (with the configured kernels.backend / kernels.threads) and why the others
// are unavailable.
#include <iostream>
#include <nlohmann/json.hpp>

#include "nemesyst/kernels.h"
#include "tools/nemesyst/commands.h"

namespace nemesyst::cli {
namespace {

Status RunInfo(CliContext& ctx, bool json) {
  NEMESYST_ASSIGN_OR_RETURN(Backend configured,
                            ParseBackend(ctx.config.GetString("kernels.backend")));
  KernelOptions options;
  options.threads = static_cast<int>(ctx.config.GetInt("kernels.threads"));
  const CpuInfo cpu = DetectCpu();
  nlohmann::json doc;
  doc["cpu"] = {{"vendor", cpu.vendor},     {"avx2", cpu.avx2},         {"fma", cpu.fma},
                {"f16c", cpu.f16c},         {"avx512f", cpu.avx512f},   {"avx512bw", cpu.avx512bw},
                {"avx512dq", cpu.avx512dq}, {"avx512vl", cpu.avx512vl}, {"os_zmm", cpu.os_zmm}};
  doc["configured_backend"] = std::string(BackendName(configured));
  doc["threads"] = options.threads;
  doc["max_isa"] = ctx.config.GetString("kernels.max_isa");
  doc["operations"] = nlohmann::json::array();
  for (const KernelChoice& op : DescribeKernelChoices(configured, options)) {
    nlohmann::json entry = {{"operation", op.operation}};
    entry["chosen"] = op.chosen_status.ok() ? nlohmann::json(std::string(BackendName(op.chosen)))
                                            : nlohmann::json(nullptr);
    if (!op.chosen_status.ok()) entry["error"] = op.chosen_status.ToString();
    nlohmann::json backends = nlohmann::json::object();
    for (const auto& [backend, status] : op.backends) {
      backends[std::string(BackendName(backend))] =
          status.ok() ? std::string("available") : std::string(status.message());
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
