// The hub's client requests that change its model registry while it runs (its store is the
// node's, so `nemesyst model import|alias --connect` go through the hub): each is one atomic
// registry write, replicated to every store node like any other.
//
//   {"op":"import_model","name":N[,"metadata":{...}]} + the model file as the data frame:
//       checked like `nemesyst model import` (nothing written when it fails) → {"version":V}
//   {"op":"alias","name":N,"alias":A,"version":V}  or  {... ,"remove":true}
//
// Thread-safety: called on the client worker thread; the store is thread-safe.
#ifndef NEMESYST_NODES_REGISTRY_REQUESTS_H_
#define NEMESYST_NODES_REGISTRY_REQUESTS_H_

#include <string>

#include "nemesyst/store.h"

namespace nemesyst::nodes {

// The reply JSON ({"ok":true,...} or an error reply).
std::string RegistryRequest(Store& store, const std::string& node_id, const std::string& op,
                            const std::string& request, const std::string& data);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_REGISTRY_REQUESTS_H_
