#include "nodes/follower.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/coding.h"
#include "common/xxh128.h"
#include "nodes/replication_keys.h"
#include "nodes/wall_clock.h"

namespace nemesyst::nodes {
namespace fs = std::filesystem;

namespace {

fs::path PartialData(const fs::path& replica) { return replica.string() + ".partial"; }
fs::path PartialMeta(const fs::path& replica) { return replica.string() + ".partial.json"; }
fs::path Incoming(const fs::path& replica) { return replica.string() + ".incoming"; }

}  // namespace

Follower::Follower(FollowerOptions options)
    : options_(std::move(options)), receiver_(Incoming(options_.replica_path)) {
  if (options_.logger == nullptr) options_.logger = NullLogger();
  options_.store.durability = Durability::kGroup;  // an ACKed position is on disk
  options_.store.read_only = false;
}

Follower::~Follower() = default;

Result<std::unique_ptr<Follower>> Follower::Open(FollowerOptions options) {
  std::unique_ptr<Follower> f(new Follower(std::move(options)));
  // A crash between the two renames of a bootstrap's install leaves only "<replica>.old".
  const fs::path old = f->options_.replica_path.string() + ".old";
  std::error_code ec;
  if (!fs::exists(f->options_.replica_path, ec) && fs::exists(old, ec)) {
    fs::rename(old, f->options_.replica_path, ec);
  }
  NEMESYST_RETURN_IF_ERROR(f->OpenReplica());
  // A change that was arriving in fragments when the process stopped.
  std::ifstream meta(PartialMeta(f->options_.replica_path));
  nlohmann::json j = nlohmann::json::parse(meta, nullptr, false);
  if (j.is_object() && j["position"].is_number_unsigned() && j["total"].is_number_unsigned() &&
      j["digest"].is_string()) {
    f->partial_.position = j["position"].get<uint64_t>();
    f->partial_.total = j["total"].get<uint64_t>();
    f->partial_.digest = j["digest"].get<std::string>();
    f->partial_.have = fs::exists(PartialData(f->options_.replica_path), ec)
                           ? fs::file_size(PartialData(f->options_.replica_path), ec)
                           : 0;
    if (f->partial_.have > f->partial_.total || f->partial_.position <= f->status_.applied) {
      f->ResetPartial();
    }
    f->status_.partial_bytes = f->partial_.have;
  }
  return f;
}

Status Follower::OpenReplica() {
  replica_.reset();
  NEMESYST_RETURN_IF_ERROR(Store::Open(options_.store, options_.replica_path.string(), &replica_));
  status_.applied = replica_->LastChangePosition();
  auto point = replica_->JournalPointAt(status_.applied);
  status_.applied_written_us = point.ok() ? point->written_us : 0;
  auto epoch = replica_->GetNodeState(kEpochKey);
  if (epoch.ok() && epoch->size() == 8) status_.epoch = DecodeFixed64(epoch->data());
  return Status::OK();
}

WireMessage Follower::Hello() {
  WireMessage m;
  m.type = MsgType::kHello;
  m.channel = options_.channel;
  m.history_id = replica_->History().id;
  m.applied = status_.applied;
  auto point = replica_->JournalPointAt(status_.applied);
  m.applied_stamp = point.ok() ? point->stamp : 0;
  received_bytes_ = received_changes_ = 0;
  m.granted_bytes = options_.window_bytes;
  m.granted_changes = options_.window_changes;
  m.epoch = status_.epoch;
  if (partial_.position > status_.applied && partial_.have > 0) {
    m.partial_position = partial_.position;
    m.partial_offset = partial_.have;
    m.partial_digest = partial_.digest;
  }
  status_.in_session = false;
  status_.bootstrapping = false;
  ResetFetches();
  hello_sent_us_ = last_progress_us_ = NowMicros();
  return m;
}

WireMessage Follower::Ack() const {
  WireMessage m;
  m.type = MsgType::kAck;
  m.channel = options_.channel;
  m.applied = status_.applied;
  m.durable = status_.applied;  // group durability: applied means on disk
  m.granted_bytes = received_bytes_ + options_.window_bytes;
  m.granted_changes = received_changes_ + options_.window_changes;
  m.partial_position = partial_.position;
  m.partial_offset = partial_.have;
  return m;
}

void Follower::EndSession() {
  status_.in_session = false;
  status_.bootstrapping = false;
  ResetFetches();
}

void Follower::Progress() { last_progress_us_ = NowMicros(); }

void Follower::Resync(const SendFn& send, const std::string& why) {
  ++status_.resyncs;
  options_.logger->Log(LogLevel::kInfo, "nodes.follower", "asking the leader again",
                       {{"channel", std::string(ChannelName(options_.channel))},
                        {"applied", std::to_string(status_.applied)},
                        {"why", why}});
  send(Hello());
}

bool Follower::AcceptEpoch(uint64_t epoch, const SendFn& send) {
  if (!options_.check_epoch) return true;
  if (epoch < status_.epoch) {
    ++status_.stale_epochs;
    status_.last_error = "refused registry changes of epoch " + std::to_string(epoch) + " (epoch " +
                         std::to_string(status_.epoch) + " already accepted)";
    WireMessage e;
    e.type = MsgType::kError;
    e.channel = options_.channel;
    e.error = ErrorCode::kStaleEpoch;
    e.detail = status_.last_error;
    send(std::move(e));
    EndSession();
    return false;
  }
  if (epoch > status_.epoch) {
    std::string value;
    PutFixed64(&value, epoch);
    if (replica_->PutNodeState(kEpochKey, value).ok()) status_.epoch = epoch;
  }
  return true;
}

Status Follower::OnMessage(const WireMessage& m, const SendFn& send) {
  switch (m.type) {
    case MsgType::kWelcome:
      return OnWelcome(m, send);
    case MsgType::kChanges:
      return OnChanges(m, send);
    case MsgType::kFragment:
      return OnFragment(m, send);
    case MsgType::kBootChunk:
      return OnBootChunk(m, send);
    case MsgType::kHeartbeat:
      status_.leader_last = std::max(status_.leader_last, m.position);
      return Status::OK();
    case MsgType::kError:
      status_.last_error = "leader: " + m.detail;
      if (m.error == ErrorCode::kNeedHello || m.error == ErrorCode::kUnknownSnapshot ||
          m.error == ErrorCode::kHistory) {
        Resync(send, m.detail);
      } else {
        EndSession();
      }
      return Status::OK();
    default:
      return Status::OK();  // not a leader's message: ignored (and counted by the node)
  }
}

Status Follower::OnWelcome(const WireMessage& m, const SendFn& send) {
  if (!AcceptEpoch(m.epoch, send)) return Status::OK();
  status_.leader_last = m.leader_last;
  Progress();
  if (m.bootstrap) {
    bootstrap_history_ = {m.history_id, m.previous_id, m.switch_position};
    NEMESYST_RETURN_IF_ERROR(receiver_.Begin(m.snapshot_id, m.files));
    status_.in_session = true;
    status_.bootstrapping = true;
    status_.bootstrap_total = receiver_.total_bytes();
    status_.bootstrap_received = receiver_.received_bytes();
    if (status_.bootstrap_received > 0) {
      options_.logger->Log(LogLevel::kInfo, "nodes.follower", "resuming a bootstrap",
                           {{"channel", std::string(ChannelName(options_.channel))},
                            {"snapshot", m.snapshot_id},
                            {"received_bytes", std::to_string(status_.bootstrap_received)},
                            {"total_bytes", std::to_string(status_.bootstrap_total)}});
    }
    ResetFetches();
    if (receiver_.complete()) return OnBootChunk(WireMessage{}, send);  // resumed at the end
    RequestChunks(send);
    return Status::OK();
  }
  const HistoryInfo mine = replica_->History();
  if (mine.id != m.history_id) {
    const bool continues =
        !m.previous_id.empty() && mine.id == m.previous_id && status_.applied <= m.switch_position;
    if (status_.applied != 0 && !continues) {
      return Status::FailedPrecondition("leader continued a session on another history");
    }
    NEMESYST_RETURN_IF_ERROR(
        replica_->AdoptHistory({m.history_id, m.previous_id, m.switch_position}));
  }
  status_.in_session = true;
  return Status::OK();
}

void Follower::RequestChunks(const SendFn& send) {
  // A sliding window: up to bootstrap_chunks_in_flight fetches out, one more as each chunk
  // arrives, file after file. Chunks arrive in order on the connection; one that does not fit
  // (a lost message before it) is ignored, and the stall timer asks again from what is on disk.
  if (!fetch_cursor_valid_) {
    if (!receiver_.NextFetch(&fetch_file_, &fetch_offset_)) return;
    fetch_cursor_valid_ = true;
  }
  while (chunks_in_flight_ < options_.bootstrap_chunks_in_flight) {
    // Never past a file's end (the leader refuses such a fetch); an empty file is one fetch.
    while (fetch_file_ < receiver_.file_count() &&
           (receiver_.verified(fetch_file_) ||
            (fetch_offset_ > 0 && fetch_offset_ >= receiver_.file_size(fetch_file_)))) {
      ++fetch_file_;
      fetch_offset_ = receiver_.have(fetch_file_);
    }
    if (fetch_file_ >= receiver_.file_count()) return;
    WireMessage f;
    f.type = MsgType::kBootFetch;
    f.channel = options_.channel;
    f.snapshot_id = receiver_.snapshot_id();
    f.file = fetch_file_;
    f.offset = fetch_offset_;
    f.max_bytes = options_.max_frame_bytes;
    send(std::move(f));
    fetch_offset_ += std::max<uint64_t>(1, options_.max_frame_bytes);
    ++chunks_in_flight_;
  }
}

Status Follower::OnBootChunk(const WireMessage& m, const SendFn& send) {
  if (!status_.bootstrapping) return Status::OK();
  if (!m.payloads.empty()) {
    if (m.snapshot_id != receiver_.snapshot_id()) return Status::OK();
    if (chunks_in_flight_ > 0) --chunks_in_flight_;
    const bool fits = !receiver_.verified(m.file) && m.offset == receiver_.have(m.file);
    Status s = receiver_.OnChunk(m.file, m.offset, m.payloads[0]);
    if (s.IsCorruption()) {
      ++status_.checksum_failures;
      status_.last_error = s.ToString();
      ResetFetches();  // that file again from 0
    } else if (!s.ok()) {
      return s;
    }
    status_.bootstrap_received = receiver_.received_bytes();
    if (fits) Progress();  // an ignored chunk is no progress: a gap ends in the stall timer
  }
  if (!receiver_.complete()) {
    RequestChunks(send);
    return Status::OK();
  }
  // Every file arrived and matched its digest: swap the replica.
  if (options_.before_replica_swap) options_.before_replica_swap();
  replica_.reset();
  NEMESYST_RETURN_IF_ERROR(receiver_.Install(options_.replica_path));
  NEMESYST_RETURN_IF_ERROR(OpenReplica());
  NEMESYST_RETURN_IF_ERROR(replica_->AdoptHistory(bootstrap_history_));
  if (options_.check_epoch && status_.epoch > 0) {
    std::string value;
    PutFixed64(&value, status_.epoch);
    NEMESYST_RETURN_IF_ERROR(replica_->PutNodeState(kEpochKey, value));
  }
  ResetPartial();
  ++status_.bootstraps;
  options_.logger->Log(LogLevel::kInfo, "nodes.follower", "bootstrap installed",
                       {{"channel", std::string(ChannelName(options_.channel))},
                        {"applied", std::to_string(status_.applied)},
                        {"bytes", std::to_string(status_.bootstrap_total)}});
  send(Hello());
  return Status::OK();
}

Status Follower::OnChanges(const WireMessage& m, const SendFn& send) {
  if (!status_.in_session || status_.bootstrapping) return Status::OK();  // a stale session's
  if (m.history_id != replica_->History().id) {
    Resync(send, "changes of another history");
    return Status::OK();
  }
  if (!AcceptEpoch(m.epoch, send)) return Status::OK();
  status_.leader_last = std::max(status_.leader_last, m.leader_last);
  for (const std::string& p : m.payloads) received_bytes_ += p.size();
  received_changes_ += m.payloads.size();
  // The changes that follow what the replica holds are applied together (consecutive appends
  // share one fsync); a bad one ends the run: what came before it is applied, then a resync.
  std::vector<std::string_view> run;
  JournalPoint run_last;
  uint64_t follows = m.prev_position, expect = status_.applied;
  std::string resync_why;
  for (const std::string& bytes : m.payloads) {
    Result<JournalPoint> point = Store::DescribeChange(bytes);
    if (!point.ok()) {
      ++status_.checksum_failures;
      status_.last_error = point.status().ToString();
      resync_why = "a change failed its checksum";
      break;
    }
    if (point->position <= expect) {
      ++status_.duplicates;
    } else if (follows != expect) {
      ++status_.gaps;
      resync_why = "a gap after position " + std::to_string(expect);
      break;
    } else {
      run.push_back(bytes);
      run_last = *point;
      expect = point->position;
    }
    follows = point->position;
  }
  if (!run.empty()) {
    size_t applied = 0;
    Status s = replica_->ApplyChanges(run, &applied);
    if (applied > 0) Progress();
    if (!s.ok()) {
      status_.applied = replica_->LastChangePosition();
      return s.WithContext("applying the changes after " + std::to_string(status_.applied));
    }
    status_.applied = run_last.position;
    status_.applied_written_us = run_last.written_us;
  }
  if (!resync_why.empty()) {
    Resync(send, resync_why);
    return Status::OK();
  }
  send(Ack());
  return Status::OK();
}

Status Follower::SavePartial() const {
  std::ofstream meta(PartialMeta(options_.replica_path), std::ios::trunc);
  meta << nlohmann::json{{"position", partial_.position},
                         {"total", partial_.total},
                         {"digest", partial_.digest}}
              .dump();
  return meta ? Status::OK() : Status::IOError("cannot record the partial change");
}

void Follower::ResetPartial() {
  partial_ = Partial{};
  status_.partial_bytes = 0;
  std::error_code ec;
  fs::remove(PartialData(options_.replica_path), ec);
  fs::remove(PartialMeta(options_.replica_path), ec);
}

Status Follower::OnFragment(const WireMessage& m, const SendFn& send) {
  if (!status_.in_session || status_.bootstrapping) return Status::OK();
  if (m.history_id != replica_->History().id) {
    Resync(send, "a fragment of another history");
    return Status::OK();
  }
  if (!AcceptEpoch(m.epoch, send)) return Status::OK();
  const std::string& data = m.payloads[0];
  received_bytes_ += data.size();
  if (m.position <= status_.applied) {
    ++status_.duplicates;
    send(Ack());
    return Status::OK();
  }
  if (m.prev_position != status_.applied) {
    ++status_.gaps;
    Resync(send, "a fragment that does not follow position " + std::to_string(status_.applied));
    return Status::OK();
  }
  if (partial_.position != m.position || partial_.digest != m.digest || partial_.total != m.total) {
    ResetPartial();
    partial_.position = m.position;
    partial_.total = m.total;
    partial_.digest = m.digest;
    NEMESYST_RETURN_IF_ERROR(SavePartial());
  }
  if (m.offset != partial_.have) {
    if (m.offset > partial_.have) {
      ++status_.gaps;
      Resync(send, "a missing fragment");
    } else {
      ++status_.duplicates;
    }
    return Status::OK();
  }
  if (m.offset + data.size() > m.total) {
    Resync(send, "a fragment past the change's end");
    return Status::OK();
  }
  {
    std::ofstream out(PartialData(options_.replica_path), std::ios::binary | std::ios::app);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return Status::IOError("cannot write the partial change");
  }
  partial_.have += data.size();
  status_.partial_bytes = partial_.have;
  Progress();
  if (partial_.have == partial_.total) {
    std::string bytes(partial_.total, '\0');
    {
      std::ifstream in(PartialData(options_.replica_path), std::ios::binary);
      in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (static_cast<uint64_t>(in.gcount()) != partial_.total) bytes.clear();  // fails the digest
    }
    Result<JournalPoint> point = Store::DescribeChange(bytes);
    if (Xxh128Hex(bytes) != partial_.digest || !point.ok() || point->position != m.position) {
      ++status_.checksum_failures;
      status_.last_error = "a change sent in fragments failed its XXH3-128 digest";
      ResetPartial();
      Resync(send, status_.last_error);
      return Status::OK();
    }
    NEMESYST_RETURN_IF_ERROR(
        replica_->ApplyChange(bytes).WithContext("applying change " + std::to_string(m.position)));
    status_.applied = m.position;
    status_.applied_written_us = point->written_us;
    ++received_changes_;
    ResetPartial();
  }
  send(Ack());
  return Status::OK();
}

void Follower::Tick(const SendFn& send) {
  const int64_t now = NowMicros();
  const bool stalled = now - last_progress_us_ > options_.stall_timeout_ms * 1000;
  if (status_.bootstrapping) {
    if (stalled) {
      ResetFetches();  // lost fetches or chunks: ask again from what is on disk
      RequestChunks(send);
      Progress();
    }
    return;
  }
  if (!status_.in_session) {
    if (now - hello_sent_us_ > options_.stall_timeout_ms * 1000) send(Hello());
    return;
  }
  if (stalled && status_.leader_last > status_.applied) {
    Resync(send, "no progress while behind the leader");
    return;
  }
  send(Ack());  // a heartbeat that also renews the credit
}

}  // namespace nemesyst::nodes
