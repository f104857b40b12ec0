// Opening the node's store the way every subcommand does: the directory and durability the merged
// configuration names (store.path, store.durability), logging through the CLI's logger.
#ifndef NEMESYST_TOOLS_CLI_STORE_H_
#define NEMESYST_TOOLS_CLI_STORE_H_

#include <memory>
#include <string_view>

#include "nemesyst/store.h"
#include "tools/nemesyst/cli_context.h"

namespace nemesyst::cli {

// What a command does with the store. kRead opens it read-only: it never creates a store (a
// mistyped path is NotFound), and it works while a running node owns the store. kWrite opens it
// for writing: refused, naming the owner, while a node runs on it.
enum class StoreAccess { kRead, kWrite };

// `durability_override` (a subcommand's own --durability flag) wins over store.durability when
// non-empty. The returned store logs to ctx.logger, which must outlive it.
Result<std::unique_ptr<Store>> OpenConfiguredStore(const CliContext& ctx, StoreAccess access,
                                                   std::string_view durability_override = "");

}  // namespace nemesyst::cli

#endif  // NEMESYST_TOOLS_CLI_STORE_H_
