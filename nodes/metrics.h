// A node's status as Prometheus text (exposition format 0.0.4): what a node's HTTP /metrics
// serves (nodes/http_endpoint.h). Every metric is named nemesyst_*; counters end in _total;
// durations are in seconds (the latency histograms' microsecond bounds are converted).
//
//   nemesyst_node_info{node="store-0042",role="store"} 1
//   nemesyst_replication_lag_changes{peer="hub",channel="registry",direction="follower"} 0
//   nemesyst_serving_request_seconds_bucket{model="lstm@4",le="0.0001"} 1234
//
// Serving metrics are labelled with the version served, so a swap starts new series; the
// counters under them count since the node started, not per version.
//
// Thread-safety: a pure function of its argument.
#ifndef NEMESYST_NODES_METRICS_H_
#define NEMESYST_NODES_METRICS_H_

#include <string>
#include <string_view>

#include "nemesyst/node.h"

namespace nemesyst::nodes {

// The Content-Type of PrometheusText's output.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

std::string PrometheusText(const NodeStatus& status);

// A label value as the format wants it inside double quotes: backslash, double quote and newline
// escaped, and bytes that are not UTF-8 replaced by U+FFFD (Prometheus refuses a whole scrape
// over one bad label, and peer ids come from configuration the node does not control).
std::string EscapeLabelValue(std::string_view value);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_METRICS_H_
