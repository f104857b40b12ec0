// Naming a model version: `name` | `name@version` | `name:alias`.
//
// A bare name resolves to its `production` alias when set, else to its `candidate` alias, else
// fails (NotFound naming both) — never silently to the newest version (ARCHITECTURE.md).
// Thread-safety: pure functions (the store is thread-safe).
#ifndef NEMESYST_NODES_MODEL_REF_H_
#define NEMESYST_NODES_MODEL_REF_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "nemesyst/status.h"
#include "nemesyst/store.h"

namespace nemesyst::nodes {

struct ModelRef {
  std::string name;
  uint32_t version = 0;  // > 0 for name@version
  std::string alias;     // non-empty for name:alias
  std::string ToString() const;
};

// InvalidArgument for an empty name, a bad version number ("lstm@x", "lstm@0") or empty alias.
Result<ModelRef> ParseModelRef(std::string_view text);

struct ResolvedModel {
  std::string name;
  uint32_t version = 0;
  std::string how;  // "version 3", "alias production" ...
};

// Looks the reference up in the registry. NotFound errors say what was missing: the model name,
// the version or the alias (listing the aliases that do exist).
Result<ResolvedModel> ResolveModelRef(const Store& store, const ModelRef& ref);
Result<ResolvedModel> ResolveModelRef(const Store& store, std::string_view text);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_MODEL_REF_H_
