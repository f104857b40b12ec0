#include "nodes/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nemesyst::nodes {
namespace {

std::string Number(uint64_t v) { return std::to_string(v); }
std::string Number(bool v) { return v ? "1" : "0"; }

// The shortest text that reads back as the same double (exact, and "0.1" rather than the
// "0.10000000000000001" of %.17g); non-finite values as Prometheus spells them.
std::string Number(double v, std::chars_format format = std::chars_format::general) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];  // fixed notation of the largest double is ~310 characters
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, format);
  if (ec != std::errc()) return Number(v);  // fixed too long: general always fits
  return std::string(buf, end);
}

// A bucket bound: plain decimals (le="0.00001", not "1e-05"), the form client libraries print,
// so a series keeps its name whichever library or version wrote it.
std::string BoundText(double seconds) { return Number(seconds, std::chars_format::fixed); }

// HELP text: backslash and newline escaped (double quotes are not, unlike in label values).
std::string EscapeHelp(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// The length of the valid UTF-8 sequence at s[i], or 0 when it is not one (overlong forms,
// surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp, min;
  if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

using Labels = std::vector<std::pair<std::string_view, std::string>>;

std::string LabelText(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) out += ',';
    out += name;
    out += "=\"";
    out += EscapeLabelValue(value);
    out += '"';
  }
  out += '}';
  return out;
}

// Writes metric families: HELP and TYPE once, then the family's samples, all together (the format
// wants a family's lines contiguous).
class Writer {
 public:
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += EscapeHelp(help);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void Sample(std::string_view name, const Labels& labels, const std::string& value) {
    out_ += name;
    out_ += LabelText(labels);
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void One(std::string_view name, std::string_view type, std::string_view help,
           const Labels& labels, const std::string& value) {
    Family(name, type, help);
    Sample(name, labels, value);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

void Histogram(Writer& w, const std::string& name, std::string_view help, const Labels& labels,
               const LatencyHistogram& h) {
  w.Family(name, "histogram", help);
  const std::string bucket = name + "_bucket";
  Labels with_le = labels;
  with_le.emplace_back("le", "");
  const size_t n = std::min(h.bounds_us.size(), h.counts.size());
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(h.bounds_us[i])) continue;  // +Inf is written below, from the count
    with_le.back().second = BoundText(h.bounds_us[i] / 1e6);
    w.Sample(bucket, with_le, Number(h.counts[i]));
  }
  with_le.back().second = "+Inf";
  w.Sample(bucket, with_le, Number(h.count));
  w.Sample(name + "_sum", labels, Number(h.sum_us / 1e6));
  w.Sample(name + "_count", labels, Number(h.count));
}

struct PeerMetric {
  const char* name;
  const char* type;
  const char* help;
  std::string (*value)(const PeerStatus&);
};

const PeerMetric kPeerMetrics[] = {
    {"nemesyst_replication_applied_position", "gauge",
     "Journal position the follower has applied (leader side: as last acknowledged).",
     [](const PeerStatus& p) { return Number(p.applied); }},
    {"nemesyst_replication_durable_position", "gauge",
     "Journal position the follower holds durably.",
     [](const PeerStatus& p) { return Number(p.durable); }},
    {"nemesyst_replication_leader_last_position", "gauge", "The leader's newest journal position.",
     [](const PeerStatus& p) { return Number(p.leader_last); }},
    {"nemesyst_replication_lag_changes", "gauge", "Changes the follower has not applied yet.",
     [](const PeerStatus& p) { return Number(p.lag_changes); }},
    {"nemesyst_replication_lag_bytes", "gauge",
     "Bytes of the changes the follower has not applied yet (leader side).",
     [](const PeerStatus& p) { return Number(p.lag_bytes); }},
    {"nemesyst_replication_lag_seconds", "gauge",
     "Age of the oldest change the follower has not applied.",
     [](const PeerStatus& p) { return Number(p.lag_seconds); }},
    {"nemesyst_replication_in_session", "gauge",
     "1 while a replication session with the peer runs.",
     [](const PeerStatus& p) { return Number(p.in_session); }},
    {"nemesyst_replication_bootstrapping", "gauge", "1 while a bootstrap (snapshot) is under way.",
     [](const PeerStatus& p) { return Number(p.bootstrapping); }},
    {"nemesyst_replication_bootstraps_total", "counter", "Bootstraps (snapshots) sent or received.",
     [](const PeerStatus& p) { return Number(p.bootstraps); }},
    {"nemesyst_replication_duplicates_total", "counter",
     "Changes the follower skipped as duplicates.",
     [](const PeerStatus& p) { return Number(p.duplicates); }},
    {"nemesyst_replication_gaps_total", "counter", "Gaps that made the follower ask again.",
     [](const PeerStatus& p) { return Number(p.gaps); }},
    {"nemesyst_replication_checksum_failures_total", "counter",
     "Changes that failed their checksum and were asked for again.",
     [](const PeerStatus& p) { return Number(p.checksum_failures); }},
    {"nemesyst_replication_resyncs_total", "counter", "Sessions restarted by the follower.",
     [](const PeerStatus& p) { return Number(p.resyncs); }},
    {"nemesyst_replication_stale_epochs_total", "counter",
     "Registry changes refused for an epoch below the highest accepted.",
     [](const PeerStatus& p) { return Number(p.stale_epochs); }},
};

struct ServingMetric {
  const char* name;
  const char* type;
  const char* help;
  std::string (*value)(const ServingStatus&);
};

const ServingMetric kServingMetrics[] = {
    {"nemesyst_serving_devices", "gauge", "Devices with live state in the served model.",
     [](const ServingStatus& s) { return Number(s.devices); }},
    {"nemesyst_serving_readings_total", "counter", "Readings that advanced the served model.",
     [](const ServingStatus& s) { return Number(s.readings); }},
    {"nemesyst_serving_predictions_total", "counter", "Predictions published.",
     [](const ServingStatus& s) { return Number(s.predictions); }},
    {"nemesyst_serving_requests_total", "counter", "Predict requests answered (errors included).",
     [](const ServingStatus& s) { return Number(s.requests); }},
    {"nemesyst_serving_request_errors_total", "counter", "Predict requests answered with an error.",
     [](const ServingStatus& s) { return Number(s.request_errors); }},
    {"nemesyst_serving_pushes_total", "counter", "Messages taken on the ingest endpoint.",
     [](const ServingStatus& s) { return Number(s.pushes); }},
    {"nemesyst_serving_push_errors_total", "counter",
     "Pushed messages refused (malformed, or rows rejected).",
     [](const ServingStatus& s) { return Number(s.push_errors); }},
    {"nemesyst_serving_swaps_total", "counter", "Model versions swapped in (the first included).",
     [](const ServingStatus& s) { return Number(s.swaps); }},
    {"nemesyst_serving_last_build_seconds", "gauge",
     "Time to load, check, rebuild the state of and warm the last version built.",
     [](const ServingStatus& s) { return Number(s.last_build_ms / 1e3); }},
    {"nemesyst_serving_last_swap_pause_seconds", "gauge",
     "The serving thread's time to catch up and swap at the last swap.",
     [](const ServingStatus& s) { return Number(s.last_swap_pause_us / 1e6); }},
};

Labels PeerLabels(const PeerStatus& p) {
  return {{"peer", p.peer},
          {"channel", p.channel},
          {"direction", p.direction},
          {"transport", p.transport}};
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size();) {
    const char c = value[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      const size_t n = Utf8SequenceLength(value, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD for the one bad byte; resynchronise at the next
        ++i;
        continue;
      }
      out.append(value, i, n);
      i += n;
      continue;
    }
    ++i;
  }
  return out;
}

std::string PrometheusText(const NodeStatus& s) {
  Writer w;
  w.One("nemesyst_node_info", "gauge", "The node: its id and role.",
        {{"node", s.node_id}, {"role", std::string(NodeRoleName(s.role))}}, "1");
  w.One("nemesyst_journal_last_position", "gauge", "The own store's newest journal position.", {},
        Number(s.last_position));
  w.One("nemesyst_journal_first_position", "gauge",
        "The oldest position still in the own store's journal.", {}, Number(s.first_position));
  w.One("nemesyst_epoch", "gauge",
        "Registry epoch: the hub's own, or the highest a store accepted.", {}, Number(s.epoch));
  w.One("nemesyst_connected", "gauge", "Store node: 1 while connected to the hub.", {},
        Number(s.connected));
  w.One("nemesyst_appended_records_total", "counter", "Records appended through the node.", {},
        Number(s.appended_records));
  w.One("nemesyst_malformed_messages_total", "counter", "Malformed messages dropped.", {},
        Number(s.malformed_messages));
  if (s.role == NodeRole::kStore) {
    Histogram(w, "nemesyst_append_seconds",
              "An append's or push's time on the node's worker: validated, committed (and, in "
              "semi-sync, held by the hub).",
              {}, s.append_latency);
  }

  if (!s.peers.empty()) {
    for (const PeerMetric& m : kPeerMetrics) {
      w.Family(m.name, m.type, m.help);
      for (const PeerStatus& p : s.peers) w.Sample(m.name, PeerLabels(p), m.value(p));
    }
  }

  const ServingStatus& serving = s.serving;
  if (!serving.reference.empty()) {
    // What is served is an info gauge; the counters run since the node started, whatever version
    // served them, so they carry no model label (a label would start new series at every swap).
    w.One("nemesyst_serving_info", "gauge",
          "The reference served and the version serving it (1 while it holds).",
          {{"reference", serving.reference}, {"model", serving.model}}, "1");
    const Labels labels;
    for (const ServingMetric& m : kServingMetrics) {
      w.One(m.name, m.type, m.help, labels, m.value(serving));
    }
    Histogram(w, "nemesyst_serving_request_seconds",
              "A predict request's time in the node, received to answered.", labels,
              serving.request_latency);
    Histogram(w, "nemesyst_serving_publish_seconds",
              "A reading's time in the node, its append received to its prediction published.",
              labels, serving.publish_latency);
  }
  return w.Take();
}

}  // namespace nemesyst::nodes
