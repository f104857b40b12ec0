// Model references (store_types.h) and Store::ResolveModel: built on the registry's public calls.
#include "nemesyst/store.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace nemesyst {

std::string ModelRef::ToString() const {
  if (version > 0) return name + "@" + std::to_string(version);
  if (!alias.empty()) return name + ":" + alias;
  return name;
}

Result<ModelRef> ParseModelRef(std::string_view text) {
  ModelRef ref;
  const size_t at = text.find('@');
  const size_t colon = text.find(':');
  if (at != std::string_view::npos && colon != std::string_view::npos) {
    return Status::InvalidArgument("model reference '" + std::string(text) +
                                   "': use name@version or name:alias, not both");
  }
  if (at != std::string_view::npos) {
    ref.name = std::string(text.substr(0, at));
    const std::string_view v = text.substr(at + 1);
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), ref.version);
    if (ec != std::errc() || p != v.data() + v.size() || ref.version == 0) {
      return Status::InvalidArgument("model reference '" + std::string(text) +
                                     "': version must be a number ≥ 1");
    }
  } else if (colon != std::string_view::npos) {
    ref.name = std::string(text.substr(0, colon));
    ref.alias = std::string(text.substr(colon + 1));
    if (ref.alias.empty()) {
      return Status::InvalidArgument("model reference '" + std::string(text) + "': empty alias");
    }
  } else {
    ref.name = std::string(text);
  }
  if (ref.name.empty()) {
    return Status::InvalidArgument("model reference '" + std::string(text) + "': empty model name");
  }
  return ref;
}

namespace {

std::string KnownAliases(const Store& store, const std::string& name) {
  auto versions = store.ListModelVersions(name);
  std::set<std::string> aliases;
  if (versions.ok()) {
    for (const ModelInfo& v : *versions) aliases.insert(v.aliases.begin(), v.aliases.end());
  }
  if (aliases.empty()) return "it has no aliases";
  std::string list;
  for (const auto& a : aliases) list += (list.empty() ? "" : ", ") + a;
  return "its aliases are: " + list;
}

}  // namespace

Result<ResolvedModel> Store::ResolveModel(const ModelRef& ref) const {
  const Store& store = *this;
  auto versions = store.ListModelVersions(ref.name, /*include_retired=*/true);
  if (!versions.ok() || versions->empty()) {
    return Status::NotFound("no model named '" + ref.name + "' in the registry");
  }
  ResolvedModel out{ref.name, 0, ""};
  if (ref.version > 0) {
    auto info = store.GetModelInfo(ref.name, ref.version);
    if (!info.ok()) {
      return Status::NotFound("model '" + ref.name + "' has no version " +
                              std::to_string(ref.version) + " (versions 1.." +
                              std::to_string(versions->back().version) + ")");
    }
    out.version = ref.version;
    out.how = "version " + std::to_string(ref.version);
    return out;
  }
  std::vector<std::string> tries;
  if (!ref.alias.empty()) {
    tries = {ref.alias};
  } else {
    tries = {"production", "candidate"};
  }
  for (const std::string& alias : tries) {
    auto v = store.ResolveAlias(ref.name, alias);
    if (v.ok()) {
      out.version = *v;
      out.how = "alias " + alias;
      return out;
    }
    if (!v.status().IsNotFound()) return v.status();
  }
  if (!ref.alias.empty()) {
    return Status::NotFound("model '" + ref.name + "' has no alias '" + ref.alias + "' (" +
                            KnownAliases(store, ref.name) + ")");
  }
  return Status::NotFound("model '" + ref.name +
                          "' has neither a 'production' nor a 'candidate' alias; name a version "
                          "(" +
                          ref.name + "@N) or an alias (" + ref.name + ":ALIAS)");
}

Result<ResolvedModel> Store::ResolveModel(std::string_view text) const {
  NEMESYST_ASSIGN_OR_RETURN(ModelRef ref, ParseModelRef(text));
  return ResolveModel(ref);
}

}  // namespace nemesyst
