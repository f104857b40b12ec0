#include "nodes/leader.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/xxh128.h"
#include "nodes/wall_clock.h"

namespace nemesyst::nodes {
namespace {

WireMessage Error(Channel channel, ErrorCode code, std::string detail) {
  WireMessage m;
  m.type = MsgType::kError;
  m.channel = channel;
  m.error = code;
  m.detail = std::move(detail);
  return m;
}

}  // namespace

struct Leader::Pending {
  uint64_t position = 0;
  std::string bytes;
  std::string digest;
  uint64_t offset = 0;
};

Leader::Leader(Store* store, LeaderOptions options, const std::string& snapshot_dir)
    : store_(store), options_(std::move(options)), snapshots_(store, snapshot_dir) {
  if (options_.logger == nullptr) options_.logger = NullLogger();
  // The followers heard of before a restart still hold the journal back.
  auto saved = store_->GetNodeState(StateKey("followers"));
  if (!saved.ok()) return;
  nlohmann::json known = nlohmann::json::parse(*saved, nullptr, false);
  if (!known.is_object()) return;
  for (const auto& [peer, durable] : known.items()) {
    if (!durable.is_number_unsigned()) continue;
    FollowerView& f = followers_[peer];
    f.peer = peer;
    f.durable = f.applied = durable.get<uint64_t>();
  }
}

Leader::~Leader() = default;

std::string Leader::StateKey(const std::string& what) const {
  return "replication." + std::string(ChannelName(options_.channel)) + "." + what;
}

uint64_t Leader::durable(const std::string& peer) const {
  auto it = followers_.find(peer);
  return it == followers_.end() ? 0 : it->second.durable;
}

void Leader::RememberDurable(const FollowerView& f) {
  const int64_t now = NowMicros();
  int64_t& last = remembered_us_[f.peer];
  if (now - last < 1000000) return;  // at most once a second per follower
  last = now;
  nlohmann::json known = nlohmann::json::object();
  for (const auto& [peer, view] : followers_) known[peer] = view.durable;
  Status s = store_->PutNodeState(StateKey("followers"), known.dump());
  if (!s.ok()) {
    options_.logger->Log(LogLevel::kWarn, "nodes.leader", "cannot record follower positions",
                         {{"error", s.ToString()}});
  }
}

void Leader::EndSession(const std::string& peer) {
  auto it = followers_.find(peer);
  if (it != followers_.end()) {
    it->second.in_session = false;
    it->second.bootstrapping = false;
  }
  pending_.erase(peer);
  ahead_.erase(peer);
}

Status Leader::OnMessage(const std::string& peer, const WireMessage& m, const SendFn& send) {
  if (m.type == MsgType::kHello) return OnHello(peer, m, send);
  auto it = followers_.find(peer);
  if (it == followers_.end() || !it->second.in_session) {
    if (m.type != MsgType::kError && m.type != MsgType::kHeartbeat) {
      send(peer, Error(options_.channel, ErrorCode::kNeedHello, "no session: send HELLO"));
    }
    return Status::OK();
  }
  FollowerView& f = it->second;
  f.last_heard_us = NowMicros();
  switch (m.type) {
    case MsgType::kAck:
      // A follower cannot hold more than it was sent: the journal is not trimmed on its word.
      f.applied = std::max(f.applied, std::min(m.applied, f.next_after));
      f.durable = std::max(f.durable, std::min(m.durable, f.next_after));
      f.granted_bytes = std::max(f.granted_bytes, m.granted_bytes);
      f.granted_changes = std::max(f.granted_changes, m.granted_changes);
      RememberDurable(f);
      return Status::OK();
    case MsgType::kBootFetch: {
      const uint32_t n = std::min(m.max_bytes, options_.max_frame_bytes);
      Result<std::string> data = snapshots_.ReadChunk(m.snapshot_id, m.file, m.offset, n);
      if (data.status().IsNotFound()) {
        send(peer, Error(options_.channel, ErrorCode::kUnknownSnapshot, data.status().ToString()));
        return Status::OK();
      }
      if (!data.ok()) {
        send(peer, Error(options_.channel, ErrorCode::kProtocol, data.status().ToString()));
        return Status::OK();
      }
      WireMessage chunk;
      chunk.type = MsgType::kBootChunk;
      chunk.channel = options_.channel;
      chunk.snapshot_id = m.snapshot_id;
      chunk.file = m.file;
      chunk.offset = m.offset;
      chunk.last = false;
      chunk.payloads.push_back(std::move(*data));
      f.last_sent_us = NowMicros();
      send(peer, std::move(chunk));
      return Status::OK();
    }
    case MsgType::kHeartbeat:
      return Status::OK();
    case MsgType::kError:
      options_.logger->Log(LogLevel::kWarn, "nodes.leader", "follower reported an error",
                           {{"peer", peer},
                            {"channel", std::string(ChannelName(options_.channel))},
                            {"code", std::to_string(static_cast<int>(m.error))},
                            {"detail", m.detail}});
      EndSession(peer);
      return Status::OK();
    default:
      send(peer, Error(options_.channel, ErrorCode::kProtocol,
                       std::string(MsgTypeName(m.type)) + " is not a follower's message"));
      return Status::OK();
  }
}

Status Leader::OnHello(const std::string& peer, const WireMessage& hello, const SendFn& send) {
  FollowerView& f = followers_[peer];
  f.peer = peer;
  f.in_session = true;
  f.bootstrapping = false;
  f.sent_bytes = f.sent_changes = 0;
  f.granted_bytes = hello.granted_bytes;
  f.granted_changes = hello.granted_changes;
  f.last_heard_us = NowMicros();
  pending_.erase(peer);
  ahead_.erase(peer);

  const HistoryInfo history = store_->History();
  const uint64_t last = store_->LastChangePosition();
  const bool known_history =
      hello.history_id == history.id ||
      (!history.previous_id.empty() && hello.history_id == history.previous_id &&
       hello.applied <= history.switch_position);
  bool resume = false;
  std::string why;
  if (hello.applied == 0) {
    resume = store_->FirstChangePosition() <= 1;
    why = "the journal no longer starts at position 1";
  } else if (!known_history) {
    why = "its history " + hello.history_id + " is not this store's";
  } else if (hello.applied > last) {
    why = "it is ahead of this store (position " + std::to_string(hello.applied) + " > " +
          std::to_string(last) + "): this store was restored or lost writes";
    NEMESYST_RETURN_IF_ERROR(store_->StartNewHistory());
  } else if (hello.applied + 1 < store_->FirstChangePosition()) {
    why = "the changes after its position " + std::to_string(hello.applied) + " were trimmed";
  } else {
    Result<JournalPoint> point = store_->JournalPointAt(hello.applied);
    if (point.ok() && point->stamp != 0 && hello.applied_stamp != 0 &&
        point->stamp != hello.applied_stamp) {
      why = "its change at position " + std::to_string(hello.applied) +
            " is not this store's (the stores diverged)";
      NEMESYST_RETURN_IF_ERROR(store_->StartNewHistory());
    } else if (!point.ok() && !point.status().IsNotFound()) {
      return point.status();
    } else {
      resume = true;  // NotFound: that entry was just trimmed; the history vouches for it
    }
  }

  WireMessage welcome;
  welcome.type = MsgType::kWelcome;
  welcome.channel = options_.channel;
  welcome.epoch = options_.epoch;
  welcome.leader_last = last;
  // Positions acknowledged in an earlier session vouch only for that history: start from what
  // this HELLO proves (a bootstrap: nothing until the follower acknowledges again).
  f.applied = f.durable = resume ? hello.applied : 0;
  if (resume) {
    const HistoryInfo now = store_->History();
    welcome.history_id = now.id;
    welcome.previous_id = now.previous_id;
    welcome.switch_position = now.switch_position;
    f.next_after = hello.applied;
    if (hello.partial_position > hello.applied && !hello.partial_digest.empty()) {
      auto pending = std::make_unique<Pending>();
      pending->position = hello.partial_position;
      pending->digest = hello.partial_digest;
      pending->offset = hello.partial_offset;
      pending_[peer] = std::move(pending);  // confirmed against the change itself in Pump
    }
    send(peer, std::move(welcome));
    return Status::OK();
  }
  NEMESYST_ASSIGN_OR_RETURN(const SnapshotCache::Snapshot* snapshot, snapshots_.Current());
  const HistoryInfo now = store_->History();
  welcome.bootstrap = true;
  welcome.history_id = now.id;
  welcome.previous_id = now.previous_id;
  welcome.switch_position = now.switch_position;
  welcome.snapshot_id = snapshot->id;
  welcome.files = snapshot->files;
  f.bootstrapping = true;
  ++f.bootstraps;
  options_.logger->Log(LogLevel::kInfo, "nodes.leader", "bootstrapping a follower",
                       {{"peer", peer},
                        {"channel", std::string(ChannelName(options_.channel))},
                        {"why", why},
                        {"snapshot", snapshot->id},
                        {"files", std::to_string(snapshot->files.size())}});
  send(peer, std::move(welcome));
  return Status::OK();
}

Status Leader::Pump(const SendFn& send) {
  for (auto& [peer, f] : followers_) {
    if (!f.in_session || f.bootstrapping) continue;
    NEMESYST_RETURN_IF_ERROR(PumpOne(f, send));
  }
  return Status::OK();
}

Status Leader::SendFragments(FollowerView& f, const SendFn& send) {
  Pending& p = *pending_[f.peer];
  while (p.offset < p.bytes.size()) {
    const uint64_t n = std::min<uint64_t>(options_.max_frame_bytes, p.bytes.size() - p.offset);
    if (f.sent_bytes + n > f.granted_bytes) return Status::OK();  // wait for credit
    WireMessage m;
    m.type = MsgType::kFragment;
    m.channel = options_.channel;
    m.history_id = store_->History().id;
    m.epoch = options_.epoch;
    m.prev_position = f.next_after;
    m.position = p.position;
    m.total = p.bytes.size();
    m.offset = p.offset;
    m.digest = p.digest;
    m.payloads.push_back(p.bytes.substr(p.offset, n));
    p.offset += n;
    f.sent_bytes += n;
    f.last_sent_us = NowMicros();
    send(f.peer, std::move(m));
  }
  f.next_after = p.position;
  ++f.sent_changes;
  pending_.erase(f.peer);
  return Status::OK();
}

Status Leader::PumpOne(FollowerView& f, const SendFn& send) {
  Readahead& ahead = ahead_[f.peer];
  while (true) {
    auto pending = pending_.find(f.peer);
    if (pending != pending_.end() && !pending->second->bytes.empty()) {
      NEMESYST_RETURN_IF_ERROR(SendFragments(f, send));
      if (pending_.count(f.peer) != 0) return Status::OK();  // out of credit mid-change
      pending = pending_.end();                              // sent whole: SendFragments erased it
    }
    if (f.sent_changes >= f.granted_changes || f.sent_bytes >= f.granted_bytes) {
      return Status::OK();
    }
    if (f.next_after + 1 < store_->FirstChangePosition()) {
      // Trimmed under a live session (the caps): reading on would skip those changes. The
      // follower asks again and is bootstrapped.
      send(f.peer, Error(options_.channel, ErrorCode::kHistory,
                         "the changes after position " + std::to_string(f.next_after) +
                             " were trimmed: bootstrap"));
      EndSession(f.peer);
      return Status::OK();
    }
    if (ahead.after != f.next_after) ahead.changes.clear();
    if (ahead.changes.empty()) {
      if (f.next_after >= store_->LastChangePosition()) return Status::OK();  // nothing new
      // Read no more than the credit lets us send (a change read is sent, not read again).
      const size_t want = static_cast<size_t>(
          std::min<uint64_t>(options_.max_changes_per_message, f.granted_changes - f.sent_changes));
      const size_t room = static_cast<size_t>(
          std::min<uint64_t>(f.granted_bytes - f.sent_bytes, options_.max_frame_bytes));
      NEMESYST_ASSIGN_OR_RETURN(std::vector<Store::Change> read,
                                store_->ReadChanges(f.next_after, want, room));
      if (read.empty()) return Status::OK();
      ahead.after = f.next_after;
      ahead.changes.assign(std::make_move_iterator(read.begin()),
                           std::make_move_iterator(read.end()));
    }
    Store::Change& first = ahead.changes.front();
    if (first.bytes.size() > options_.max_frame_bytes) {
      // Too big for one frame (a model version): fragments, resumed where the follower's partial
      // copy of this very change stopped.
      std::string digest = Xxh128Hex(first.bytes);
      uint64_t offset = 0;
      if (pending != pending_.end() && pending->second->position == first.position &&
          pending->second->digest == digest && pending->second->offset < first.bytes.size()) {
        offset = pending->second->offset;
        options_.logger->Log(LogLevel::kInfo, "nodes.leader", "resuming a change sent in fragments",
                             {{"peer", f.peer},
                              {"position", std::to_string(first.position)},
                              {"offset", std::to_string(offset)}});
      }
      auto p = std::make_unique<Pending>();
      p->position = first.position;
      p->bytes = std::move(first.bytes);
      p->digest = std::move(digest);
      p->offset = offset;
      pending_[f.peer] = std::move(p);
      ahead.after = ahead.changes.front().position;
      ahead.changes.pop_front();
      continue;
    }
    pending_.erase(f.peer);  // a stale resume hint: that change is not next (any more)
    WireMessage m;
    m.type = MsgType::kChanges;
    m.channel = options_.channel;
    m.history_id = store_->History().id;
    m.epoch = options_.epoch;
    m.prev_position = f.next_after;
    m.leader_last = store_->LastChangePosition();
    m.sent_us = NowMicros();
    uint64_t bytes = 0;
    const uint64_t changes_left = f.granted_changes - f.sent_changes;
    while (!ahead.changes.empty() && m.payloads.size() < changes_left) {
      Store::Change& c = ahead.changes.front();
      if (c.bytes.size() > options_.max_frame_bytes) break;  // goes as fragments next
      if (bytes + c.bytes.size() > options_.max_frame_bytes ||
          f.sent_bytes + bytes + c.bytes.size() > f.granted_bytes) {
        break;
      }
      bytes += c.bytes.size();
      ahead.after = c.position;
      m.payloads.push_back(std::move(c.bytes));
      ahead.changes.pop_front();
    }
    if (m.payloads.empty()) return Status::OK();  // waiting for byte credit
    f.sent_bytes += bytes;
    f.sent_changes += m.payloads.size();
    f.next_after = ahead.after;
    f.last_sent_us = m.sent_us;
    send(f.peer, std::move(m));
  }
}

Status Leader::RefreshJournalTally() {
  const uint64_t first = store_->FirstChangePosition();
  while (!retained_.empty() && retained_.front().position < first) {
    retained_bytes_ -= retained_.front().bytes;
    retained_.pop_front();
  }
  uint64_t after = retained_.empty() ? first - 1 : retained_.back().position;
  while (true) {
    NEMESYST_ASSIGN_OR_RETURN(std::vector<JournalPoint> page,
                              store_->ReadJournalPoints(after, 4096));
    if (page.empty()) return Status::OK();
    after = page.back().position;
    for (const JournalPoint& p : page) {
      retained_bytes_ += p.bytes;
      retained_.push_back(p);
    }
  }
}

Result<uint64_t> Leader::TrimJournal(uint64_t floor) {
  // No follower heard of yet (and no other sink): only the caps trim.
  uint64_t through = followers_.empty() && floor == UINT64_MAX ? 0 : floor;
  for (const auto& [peer, f] : followers_) through = std::min(through, f.durable);
  // The caps: keep at most journal_cap_bytes behind the newest entry, nothing older than the age.
  NEMESYST_RETURN_IF_ERROR(RefreshJournalTally());
  const int64_t oldest_us = NowMicros() - options_.journal_cap_age_s * 1000000;
  uint64_t cap = 0, total = retained_bytes_;
  for (const JournalPoint& p : retained_) {
    if (total <= options_.journal_cap_bytes && p.written_us >= oldest_us) break;
    cap = p.position;
    total -= p.bytes;
  }
  if (cap > through) {
    for (const auto& [peer, f] : followers_) {
      if (f.durable < cap) {
        options_.logger->Log(LogLevel::kWarn, "nodes.leader",
                             "follower fell behind the journal cap; it will be bootstrapped",
                             {{"peer", peer},
                              {"channel", std::string(ChannelName(options_.channel))},
                              {"durable", std::to_string(f.durable)},
                              {"trimmed_through", std::to_string(cap)}});
      }
    }
    through = cap;
  }
  if (through + 1 <= store_->FirstChangePosition()) return uint64_t{0};
  NEMESYST_RETURN_IF_ERROR(store_->TrimJournal(through));
  return through;
}

}  // namespace nemesyst::nodes
