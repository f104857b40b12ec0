// The hub's fleet status page (GET / on its HTTP endpoint, nodes/http_endpoint.h): one row per
// store node — connected, replication lag, the model it serves, readiness — as a small HTML5
// document a person reads in a browser. No JavaScript and no external resources (inline CSS), so
// it works offline and behind any content policy; it reloads itself every 5 s. Every text on it
// is HTML-escaped: store ids and errors come from peers.
//
// The view is a plain struct so the page renders from any source (FleetViewFromHubStatus fills it
// from the hub's status; a caller that knows more — what each store serves — fills the rest).
//
// Thread-safety: pure functions of their arguments.
#ifndef NEMESYST_NODES_STATUS_PAGE_H_
#define NEMESYST_NODES_STATUS_PAGE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/node.h"

namespace nemesyst::nodes {

struct StoreRow {
  std::string id;
  bool connected = false;
  uint64_t lag_changes = 0;
  double lag_seconds = 0;
  std::string model;              // the version served ("lstm@4"); "" = unknown
  std::string serving_reference;  // what it is set to serve ("lstm:production"); "" = unknown
  uint64_t devices = 0;
  std::string readiness;  // StoreReadiness(): "ready", "no model reported", "lagging", ...
  std::string last_error;
};

struct FleetView {
  std::string hub_id;
  uint64_t epoch = 0;
  int64_t generated_us = 0;  // wall clock, µs since the epoch
  std::vector<StoreRow> stores;
};

// Past this replication lag a connected store is "lagging" rather than ready.
inline constexpr double kLaggingSeconds = 60;

// "disconnected" when not in session; "lagging" past kLaggingSeconds; otherwise "ready" when the
// store's model is known, else "no model reported".
std::string StoreReadiness(const StoreRow& row);

// One row per store: each peer of the hub on the "data" channel (the hub follows each store's
// streams), sorted by id, readiness derived. The hub's status does not say what a store serves:
// model, serving_reference and devices stay unknown (so readiness is at best "no model reported")
// until the caller fills them and calls StoreReadiness again. generated_us is now.
FleetView FleetViewFromHubStatus(const NodeStatus& hub);

// The page: a complete HTML5 document. Hooks for tests and scrapers: the summary is
// <p id="summary" data-stores= data-connected= data-ready=>, and each store a
// <tr data-store="<id>" data-readiness="<readiness>"> in <table id="stores">.
std::string FleetStatusPage(const FleetView& fleet);

// Text safe inside HTML elements and double- or single-quoted attributes.
std::string HtmlEscape(std::string_view text);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_STATUS_PAGE_H_
