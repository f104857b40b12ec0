#include "tools/nemesyst/cli_store.h"

namespace nemesyst::cli {

Result<std::unique_ptr<Store>> OpenConfiguredStore(const CliContext& ctx,
                                                   std::string_view durability_override) {
  StoreOptions options;
  NEMESYST_ASSIGN_OR_RETURN(
      options.durability,
      ParseDurability(durability_override.empty()
                          ? std::string_view(ctx.config.GetString("store.durability"))
                          : durability_override));
  options.logger = ctx.logger.get();
  std::unique_ptr<Store> store;
  NEMESYST_RETURN_IF_ERROR(Store::Open(options, ctx.config.GetString("store.path"), &store));
  return store;
}

}  // namespace nemesyst::cli
