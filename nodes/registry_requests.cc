#include "nodes/registry_requests.h"

#include <nlohmann/json.hpp>

#include "common/json_number.h"
#include "nemesyst/predict_job.h"
#include "nemesyst/store_json.h"
#include "nodes/client_service.h"

namespace nemesyst::nodes {
namespace {

std::string ImportModelRequest(Store& store, const std::string& node_id, const nlohmann::json& j,
                               const std::string& blob) {
  const std::string name = j.value("name", "");
  if (name.empty()) return ErrorReply(Status::InvalidArgument("import_model: needs \"name\""));
  if (blob.empty()) {
    return ErrorReply(Status::InvalidArgument("import_model: the model file is the data frame"));
  }
  ModelMetadata metadata;
  if (j.contains("metadata")) {
    Result<ModelMetadata> parsed = ModelMetadataFromJson(j["metadata"].dump());
    if (!parsed.ok()) return ErrorReply(parsed.status().WithContext("import_model metadata"));
    metadata = std::move(*parsed);
  }
  if (metadata.lineage.node_id.empty()) metadata.lineage.node_id = node_id;
  Result<uint32_t> version = ImportModel(store, name, blob, std::move(metadata));
  if (!version.ok()) return ErrorReply(version.status());
  return nlohmann::json{{"ok", true}, {"name", name}, {"version", *version}, {"bytes", blob.size()}}
      .dump();
}

std::string AliasRequest(Store& store, const nlohmann::json& j) {
  const std::string name = j.value("name", ""), alias = j.value("alias", "");
  const bool remove = j.value("remove", false);
  if (name.empty() || alias.empty() || (!remove && !j.contains("version"))) {
    return ErrorReply(Status::InvalidArgument(
        "alias: needs \"name\", \"alias\" and \"version\" (or \"remove\": true)"));
  }
  uint32_t version = 0;
  if (!remove) version = JsonInteger<uint32_t>(j["version"]);
  Status s = remove ? store.RemoveAlias(name, alias) : store.SetAlias(name, alias, version);
  if (!s.ok()) return ErrorReply(s);
  return nlohmann::json{{"ok", true},
                        {"name", name},
                        {"alias", alias},
                        {"version", remove ? nlohmann::json() : nlohmann::json(version)},
                        {"position", store.LastChangePosition()}}
      .dump();
}

}  // namespace

std::string RegistryRequest(Store& store, const std::string& node_id, const std::string& op,
                            const std::string& request, const std::string& data) {
  const nlohmann::json j = nlohmann::json::parse(request, nullptr, false);
  if (!j.is_object()) return ErrorReply(Status::InvalidArgument(op + ": not a JSON object"));
  try {
    if (op == "import_model") return ImportModelRequest(store, node_id, j, data);
    if (op == "alias") return AliasRequest(store, j);
  } catch (const nlohmann::json::exception& e) {  // a field of the wrong type
    return ErrorReply(Status::InvalidArgument(op + ": " + e.what()));
  }
  return ErrorReply(
      Status::InvalidArgument("unknown op '" + op + "' for a hub (status, import_model, alias)"));
}

}  // namespace nemesyst::nodes
