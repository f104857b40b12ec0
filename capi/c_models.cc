// The C API's model registry: import, resolve, alias, list (include/nemesyst/c.h).
#include <nlohmann/json.hpp>

#include "capi/c_handles.h"
#include "nemesyst/predict_job.h"
#include "nemesyst/store_json.h"

using nemesyst::Status;
using nemesyst::capi::CopyString;
using nemesyst::capi::Guard;
using nemesyst::capi::NullArgument;
using nemesyst::capi::WithStore;

extern "C" {

int nemesyst_model_import(nemesyst_store_t* store, const char* name, const void* blob,
                          size_t blob_len, const char* metadata_json, uint32_t* version,
                          char** errptr) {
  return Guard(errptr, "nemesyst_model_import", [&]() -> Status {
    if (name == nullptr) return NullArgument("name");
    if (blob == nullptr && blob_len > 0) return NullArgument("blob");
    nemesyst::ModelMetadata metadata;
    if (metadata_json != nullptr) {
      NEMESYST_ASSIGN_OR_RETURN(metadata, nemesyst::ModelMetadataFromJson(metadata_json));
    }
    return WithStore(store, [&](nemesyst::Store& s) -> Status {
      NEMESYST_ASSIGN_OR_RETURN(
          uint32_t v,
          nemesyst::ImportModel(s, name, std::string_view(static_cast<const char*>(blob), blob_len),
                                std::move(metadata)));
      if (version != nullptr) *version = v;
      return Status::OK();
    });
  });
}

int nemesyst_model_resolve(nemesyst_store_t* store, const char* reference, char** name,
                           uint32_t* version, char** errptr) {
  return Guard(errptr, "nemesyst_model_resolve", [&]() -> Status {
    if (reference == nullptr) return NullArgument("reference");
    return WithStore(store, [&](nemesyst::Store& s) -> Status {
      NEMESYST_ASSIGN_OR_RETURN(nemesyst::ResolvedModel m, s.ResolveModel(reference));
      if (name != nullptr) *name = CopyString(m.name);
      if (version != nullptr) *version = m.version;
      return Status::OK();
    });
  });
}

int nemesyst_model_set_alias(nemesyst_store_t* store, const char* name, const char* alias,
                             uint32_t version, char** errptr) {
  return Guard(errptr, "nemesyst_model_set_alias", [&]() -> Status {
    if (name == nullptr || alias == nullptr) return NullArgument(name ? "alias" : "name");
    return WithStore(store, [&](nemesyst::Store& s) { return s.SetAlias(name, alias, version); });
  });
}

int nemesyst_model_list(nemesyst_store_t* store, char** json, char** errptr) {
  return Guard(errptr, "nemesyst_model_list", [&]() -> Status {
    if (json == nullptr) return NullArgument("json");
    return WithStore(store, [&](nemesyst::Store& s) -> Status {
      nlohmann::json models = nlohmann::json::array();
      NEMESYST_ASSIGN_OR_RETURN(std::vector<std::string> names, s.ListModelNames());
      for (const std::string& n : names) {
        NEMESYST_ASSIGN_OR_RETURN(std::vector<nemesyst::ModelInfo> versions,
                                  s.ListModelVersions(n));
        nlohmann::json vs = nlohmann::json::array();
        for (const nemesyst::ModelInfo& v : versions) {
          vs.push_back({{"version", v.version},
                        {"aliases", v.aliases},
                        {"kind", v.metadata.kind},
                        {"blob_bytes", v.blob_bytes},
                        {"sha256", v.blob_sha256}});
        }
        models.push_back({{"name", n}, {"versions", vs}});
      }
      *json = CopyString(models.dump());
      return Status::OK();
    });
  });
}

}  // extern "C"
