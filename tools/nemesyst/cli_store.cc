#include "tools/nemesyst/cli_store.h"

#include <string>

namespace nemesyst::cli {

Result<std::unique_ptr<Store>> OpenConfiguredStore(const CliContext& ctx, StoreAccess access,
                                                   std::string_view durability_override) {
  StoreOptions options;
  NEMESYST_ASSIGN_OR_RETURN(
      options.durability,
      ParseDurability(durability_override.empty()
                          ? std::string_view(ctx.config.GetString("store.durability"))
                          : durability_override));
  const int64_t per_chunk = ctx.config.GetInt("store.records_per_chunk");
  if (per_chunk < 1 || per_chunk > 4096) {
    return Status::InvalidArgument("store.records_per_chunk: " + std::to_string(per_chunk) +
                                   " is outside 1..4096");
  }
  options.max_records_per_chunk = static_cast<uint32_t>(per_chunk);
  options.logger = ctx.logger.get();
  options.read_only = access == StoreAccess::kRead;
  std::unique_ptr<Store> store;
  Status opened = Store::Open(options, ctx.config.GetString("store.path"), &store);
  if (opened.code() == StatusCode::kFailedPrecondition && access == StoreAccess::kWrite) {
    return opened.WithContext(
        "this command writes the store; stop the node that owns it, or send it the data over "
        "its connection (`nemesyst ingest --connect`, docs/replication.md)");
  }
  NEMESYST_RETURN_IF_ERROR(opened);
  return store;
}

}  // namespace nemesyst::cli
