#include "nodes/status_json.h"

#include <nlohmann/json.hpp>

#include "nodes/node_role.h"

namespace nemesyst {

namespace nodes {

nlohmann::json ServingStatusJson(const ServingStatus& s) {
  return {{"reference", s.reference},
          {"model", s.model},
          {"building", s.building},
          {"stream", s.stream},
          {"ingest_endpoint", s.ingest_endpoint},
          {"predictions_endpoint", s.predictions_endpoint},
          {"predict_endpoint", s.predict_endpoint},
          {"devices", s.devices},
          {"readings", s.readings},
          {"predictions", s.predictions},
          {"requests", s.requests},
          {"request_errors", s.request_errors},
          {"pushes", s.pushes},
          {"push_errors", s.push_errors},
          {"swaps", s.swaps},
          {"last_build_ms", s.last_build_ms},
          {"last_swap_pause_us", s.last_swap_pause_us},
          {"request_p50_us", s.request_p50_us},
          {"request_p99_us", s.request_p99_us},
          {"publish_p50_us", s.publish_p50_us},
          {"publish_p99_us", s.publish_p99_us},
          {"last_error", s.last_error}};
}

std::string ServingStatusToJson(const ServingStatus& s) {
  nlohmann::json j = {{"ok", true}, {"serving", ServingStatusJson(s)}};
  return j.dump();
}

}  // namespace nodes

std::string NodeStatusToJson(const NodeStatus& s) {
  nlohmann::json peers = nlohmann::json::array();
  for (const PeerStatus& p : s.peers) {
    peers.push_back({{"peer", p.peer},
                     {"channel", p.channel},
                     {"transport", p.transport},
                     {"direction", p.direction},
                     {"in_session", p.in_session},
                     {"bootstrapping", p.bootstrapping},
                     {"applied", p.applied},
                     {"durable", p.durable},
                     {"leader_last", p.leader_last},
                     {"lag_changes", p.lag_changes},
                     {"lag_bytes", p.lag_bytes},
                     {"lag_seconds", p.lag_seconds},
                     {"bootstraps", p.bootstraps},
                     {"bootstrap_received", p.bootstrap_received},
                     {"bootstrap_total", p.bootstrap_total},
                     {"partial_bytes", p.partial_bytes},
                     {"duplicates", p.duplicates},
                     {"gaps", p.gaps},
                     {"checksum_failures", p.checksum_failures},
                     {"resyncs", p.resyncs},
                     {"stale_epochs", p.stale_epochs},
                     {"last_error", p.last_error},
                     {"serving_reference", p.serving_reference},
                     {"serving_model", p.serving_model},
                     {"serving_devices", p.serving_devices},
                     {"serving_error", p.serving_error}});
  }
  return nlohmann::json{{"ok", true},
                        {"node_id", s.node_id},
                        {"role", std::string(NodeRoleName(s.role))},
                        {"history_id", s.history_id},
                        {"last_position", s.last_position},
                        {"first_position", s.first_position},
                        {"epoch", s.epoch},
                        {"ack_mode", s.ack_mode},
                        {"listen_endpoint", s.listen_endpoint},
                        {"client_endpoint", s.client_endpoint},
                        {"control_endpoint", s.control_endpoint},
                        {"connected", s.connected},
                        {"appended_records", s.appended_records},
                        {"malformed_messages", s.malformed_messages},
                        {"peers", peers},
                        {"serving", nodes::ServingStatusJson(s.serving)}}
      .dump();
}

namespace nodes {

PeerStatus LeaderPeerStatus(const Leader& leader, const std::string& peer,
                            const std::string& channel, const Store& store) {
  PeerStatus p;
  p.peer = peer;
  p.channel = channel;
  p.direction = "leader";
  p.leader_last = store.LastChangePosition();
  auto it = leader.followers().find(peer);
  if (it != leader.followers().end()) {
    const FollowerView& f = it->second;
    p.in_session = f.in_session;
    p.bootstrapping = f.bootstrapping;
    p.applied = f.applied;
    p.durable = f.durable;
    p.bootstraps = f.bootstraps;
  }
  p.lag_changes = p.leader_last > p.applied ? p.leader_last - p.applied : 0;
  if (p.applied + 1 < store.FirstChangePosition() && !p.bootstrapping) {
    p.last_error = "behind the retained journal (trimmed through " +
                   std::to_string(store.FirstChangePosition() - 1) +
                   "): it will be bootstrapped when it returns";
  }
  if (p.lag_changes > 0) {
    // The journal entries the follower lacks (bounded, as status is built several times a
    // second: a far-behind follower reports what the first 10 000 of them hold, at least).
    auto points = store.ReadJournalPoints(p.applied, 10000);
    if (points.ok() && !points->empty()) {
      for (const JournalPoint& point : *points) p.lag_bytes += point.bytes;
      if (points->front().written_us > 0) {
        p.lag_seconds = std::max<double>(0, (NowMicros() - points->front().written_us) / 1e6);
      }
    }
  }
  return p;
}

PeerStatus FollowerPeerStatus(const Follower& follower, const std::string& peer,
                              const std::string& channel) {
  const FollowerStatus& f = follower.status();
  PeerStatus p;
  p.peer = peer;
  p.channel = channel;
  p.direction = "follower";
  p.in_session = f.in_session;
  p.bootstrapping = f.bootstrapping;
  p.applied = p.durable = f.applied;
  p.leader_last = std::max(f.leader_last, f.applied);
  p.lag_changes = p.leader_last - f.applied;
  if (p.lag_changes > 0 && f.applied_written_us > 0) {
    p.lag_seconds = std::max<double>(0, (NowMicros() - f.applied_written_us) / 1e6);
  }
  p.bootstraps = f.bootstraps;
  p.bootstrap_received = f.bootstrap_received;
  p.bootstrap_total = f.bootstrap_total;
  p.partial_bytes = f.partial_bytes;
  p.duplicates = f.duplicates;
  p.gaps = f.gaps;
  p.checksum_failures = f.checksum_failures;
  p.resyncs = f.resyncs;
  p.stale_epochs = f.stale_epochs;
  p.last_error = f.last_error;
  return p;
}

}  // namespace nodes
}  // namespace nemesyst
