// store_json.h: the public text forms over the formats the store keeps (meta_format.h,
// model_format.h).
#include "nemesyst/store_json.h"

#include "storage/meta_format.h"
#include "storage/model_format.h"

namespace nemesyst {
namespace {

Result<nlohmann::json> ParseJson(std::string_view text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status::InvalidArgument("not valid JSON");
  return json;
}

}  // namespace

std::string SchemaToJson(const StreamSchema& schema) {
  return storage::SchemaToJson(schema).dump();
}

Result<StreamSchema> SchemaFromJson(std::string_view json_text) {
  NEMESYST_ASSIGN_OR_RETURN(nlohmann::json json, ParseJson(json_text));
  return storage::SchemaFromJson(json);
}

std::string ModelMetadataToJson(const ModelMetadata& metadata) {
  return storage::MetadataToJson(metadata).dump();
}

Result<ModelMetadata> ModelMetadataFromJson(std::string_view json_text) {
  NEMESYST_ASSIGN_OR_RETURN(nlohmann::json json, ParseJson(json_text));
  return storage::MetadataFromJson(json);
}

}  // namespace nemesyst
