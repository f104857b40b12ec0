// Shared pieces of the storage subcommands (`log`, `group`, `model`): opening the store named by
// the configuration (store.path, store.durability), JSON renderings of store values, and input
// helpers. Each noun registers its verbs from its own storage_<noun>_commands.cc.
#ifndef NEMESYST_TOOLS_STORAGE_CLI_H_
#define NEMESYST_TOOLS_STORAGE_CLI_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "nemesyst/store.h"
#include "tools/nemesyst/cli_context.h"
#include "tools/nemesyst/cli_store.h"

namespace nemesyst::cli {

void AddLogCommands(CLI::App& app, CliContext& ctx);
void AddGroupCommands(CLI::App& app, CliContext& ctx);
void AddModelCommands(CLI::App& app, CliContext& ctx);

// The whole of `path`, or of stdin when `path` is empty or "-". Errors name the file.
Result<std::string> ReadInput(const std::string& path);
Status WriteOutput(const std::string& path, std::string_view bytes);

// One request to a running node (`--connect`): its reply when it says "ok":true, otherwise an
// error naming the endpoint with the node's code and message (a reply is a peer's: read without
// converting anything).
Result<nlohmann::json> NodeJsonRequest(const std::string& endpoint, const std::string& request,
                                       const std::string& data, int64_t timeout_ms = 60000);

nlohmann::json ToJson(const StreamInfo& info);
nlohmann::json ToJson(const StoredRecord& record, const StreamSchema& schema);
nlohmann::json ToJson(const GroupStats& stats);
nlohmann::json ToJson(const ClaimedBatch& batch);
nlohmann::json ToJson(const ModelInfo& info);
nlohmann::json ToJson(const RetentionReport& report);

// NAME@VERSION | NAME:ALIAS | NAME (its production alias, else candidate), as Store::ResolveModel,
// or NAME with --best METRIC: the non-retired version with the best final METRIC.
Result<ResolvedModel> ResolveModelArgument(const Store& store, const std::string& ref,
                                           const std::string& best_metric, bool higher_is_better);

}  // namespace nemesyst::cli

#endif  // NEMESYST_TOOLS_STORAGE_CLI_H_
