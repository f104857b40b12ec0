// JSON text forms of the store's value types: what `nemesyst log stat --json` and `model show`
// print, what `log create --schema` and `model import --metadata` read, and the forms the store
// keeps in its own metadata (docs/storage.md).
//
// Thread-safety: pure functions.
#ifndef NEMESYST_STORE_JSON_H_
#define NEMESYST_STORE_JSON_H_

#include <string>
#include <string_view>

#include "nemesyst/export.h"
#include "nemesyst/status.h"
#include "nemesyst/store_types.h"

namespace nemesyst {

// {"fields": [{"name", "type", "unit", "min", "max"}, ...]}.
NEMESYST_EXPORT std::string SchemaToJson(const StreamSchema& schema);
// Errors (InvalidArgument) name the key path ("fields[2].type") and the reason.
NEMESYST_EXPORT Result<StreamSchema> SchemaFromJson(std::string_view json_text);

// {"kind", "hyper_parameters", "metrics", "epoch_metrics", "lineage"}.
NEMESYST_EXPORT std::string ModelMetadataToJson(const ModelMetadata& metadata);
// Errors name the key path ("lineage.seq_ranges[1]").
NEMESYST_EXPORT Result<ModelMetadata> ModelMetadataFromJson(std::string_view json_text);

}  // namespace nemesyst

#endif  // NEMESYST_STORE_JSON_H_
