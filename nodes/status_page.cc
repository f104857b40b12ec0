#include "nodes/status_page.h"

#include <algorithm>

#include "common/number_format.h"
#include "nemesyst/timestamp.h"
#include "nodes/wall_clock.h"

namespace nemesyst::nodes {
namespace {

// The CSS class of a readiness: a fixed token, never the text itself (which a caller may set).
const char* ReadinessClass(std::string_view readiness) {
  if (readiness == "ready") return "ready";
  if (readiness == "lagging") return "lagging";
  if (readiness == "disconnected") return "down";
  return "waiting";
}

std::string Seconds(double s) { return Fixed(s, 1); }

// "—" (muted) for an unknown value.
std::string OrUnknown(const std::string& text) {
  return text.empty() ? "<span class=\"unknown\">&mdash;</span>" : HtmlEscape(text);
}

constexpr const char* kStyle = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.3em; margin: 0 0 .3em; }
.summary { font-size: 1.1em; margin: .3em 0; }
.meta, .unknown { color: #6e6e73; }
table { border-collapse: collapse; margin-top: 1em; }
th, td { padding: .35em .8em; border-bottom: 1px solid #e5e5ea; text-align: left; }
th { background: #f5f5f7; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.error { color: #b3261e; max-width: 30em; overflow-wrap: anywhere; }
.badge { padding: .1em .5em; border-radius: .8em; font-size: .9em; white-space: nowrap; }
.ready .badge { background: #d8f5dd; color: #14532d; }
.lagging .badge { background: #fff1c2; color: #713f12; }
.waiting .badge { background: #e5e7eb; color: #374151; }
.down .badge { background: #fde2e1; color: #7f1d1d; }
)";

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string StoreReadiness(const StoreRow& row) {
  if (!row.connected) return "disconnected";
  if (row.lag_seconds > kLaggingSeconds) return "lagging";
  return row.model.empty() ? "no model reported" : "ready";
}

FleetView FleetViewFromHubStatus(const NodeStatus& hub) {
  FleetView fleet;
  fleet.hub_id = hub.node_id;
  fleet.epoch = hub.epoch;
  fleet.generated_us = NowMicros();
  for (const PeerStatus& p : hub.peers) {
    if (p.channel != "data") continue;
    StoreRow row;
    row.id = p.peer;
    row.connected = p.in_session;
    row.lag_changes = p.lag_changes;
    row.lag_seconds = p.lag_seconds;
    row.last_error = !p.serving_error.empty() ? p.serving_error : p.last_error;
    row.model = p.serving_model;
    row.serving_reference = p.serving_reference;
    row.devices = p.serving_devices;
    row.readiness = StoreReadiness(row);
    fleet.stores.push_back(std::move(row));
  }
  std::sort(fleet.stores.begin(), fleet.stores.end(),
            [](const StoreRow& a, const StoreRow& b) { return a.id < b.id; });
  return fleet;
}

std::string FleetStatusPage(const FleetView& fleet) {
  size_t connected = 0, ready = 0;
  for (const StoreRow& s : fleet.stores) {
    connected += s.connected ? 1 : 0;
    ready += s.readiness == "ready" ? 1 : 0;
  }
  char when[40];
  when[FormatIso8601(fleet.generated_us, when)] = '\0';
  const std::string hub = HtmlEscape(fleet.hub_id);

  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta http-equiv=\"refresh\" content=\"5\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>Nemesyst fleet &middot; " + hub + "</title>\n<style>" + kStyle + "</style>\n";
  h += "</head>\n<body>\n";
  h += "<h1>Nemesyst fleet of hub <span id=\"hub\">" + hub + "</span></h1>\n";
  h += "<p id=\"summary\" class=\"summary\" data-stores=\"" + std::to_string(fleet.stores.size()) +
       "\" data-connected=\"" + std::to_string(connected) + "\" data-ready=\"" +
       std::to_string(ready) + "\">" + std::to_string(fleet.stores.size()) + " stores, " +
       std::to_string(connected) + " connected, " + std::to_string(ready) + " ready</p>\n";
  h += "<p class=\"meta\">epoch " + std::to_string(fleet.epoch) + " &middot; generated " + when +
       " &middot; reloads every 5 s</p>\n";

  h += "<table id=\"stores\">\n<thead><tr><th>store</th><th>readiness</th><th>connected</th>"
       "<th>lag (changes)</th><th>lag (s)</th><th>model</th><th>serves</th><th>devices</th>"
       "<th>last error</th></tr></thead>\n<tbody>\n";
  for (const StoreRow& s : fleet.stores) {
    const std::string id = HtmlEscape(s.id);
    h += "<tr data-store=\"" + id + "\" data-readiness=\"" + HtmlEscape(s.readiness) +
         "\" class=\"" + ReadinessClass(s.readiness) + "\">";
    h += "<td class=\"id\">" + id + "</td>";
    h += "<td><span class=\"badge\">" + HtmlEscape(s.readiness) + "</span></td>";
    h += std::string("<td>") + (s.connected ? "yes" : "no") + "</td>";
    h += "<td class=\"num\">" + std::to_string(s.lag_changes) + "</td>";
    h += "<td class=\"num\">" + Seconds(s.lag_seconds) + "</td>";
    h += "<td>" + OrUnknown(s.model) + "</td>";
    h += "<td>" + OrUnknown(s.serving_reference) + "</td>";
    // No model known and no devices: the store did not say, rather than "0 devices".
    h += "<td class=\"num\">" +
         (s.model.empty() && s.devices == 0 ? OrUnknown("") : std::to_string(s.devices)) + "</td>";
    h += "<td class=\"error\">" + HtmlEscape(s.last_error) + "</td></tr>\n";
  }
  if (fleet.stores.empty()) {
    h += "<tr><td colspan=\"9\" class=\"unknown\">no store has connected yet</td></tr>\n";
  }
  h += "</tbody>\n</table>\n</body>\n</html>\n";
  return h;
}

}  // namespace nemesyst::nodes
