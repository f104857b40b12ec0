// LogFeed: a durable pull consumer on one log, applied to a store in order.
#include "nodes/jetstream_feed.h"

#include <algorithm>

#include "common/coding.h"
#include "common/xxh128.h"
#include "nodes/nats_connection.h"
#include "nodes/node_role.h"
#include "nodes/replication_keys.h"

namespace nemesyst::nodes {
namespace {

constexpr const char* kSeqKey = "jetstream.seq";  // the last applied message's sequence
constexpr int kFetchBatch = 256;
constexpr int64_t kFetchWaitMs = 500;

uint64_t StreamSeq(natsMsg* msg) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) return 0;
  const uint64_t seq = meta->Sequence.Stream;
  jsMsgMetaData_Destroy(meta);
  return seq;
}

}  // namespace

LogFeedOptions RegistryFeedOptions(const JetStreamOptions& jetstream, const std::string& node_id,
                                   Logger* logger) {
  LogFeedOptions fo;
  fo.jetstream = jetstream;
  fo.subject = RegistrySubject(jetstream);
  fo.durable = "registry_" + SubjectToken(node_id);
  fo.peer = "jetstream:" + fo.subject;
  fo.channel = "registry";
  fo.check_epoch = true;
  fo.logger = logger;
  return fo;
}

LogFeed::LogFeed(Store* target, LogFeedOptions options, NatsConnection* shared)
    : target_(target), options_(std::move(options)), connection_(shared) {
  if (options_.logger == nullptr) options_.logger = NullLogger();
  applied_ = target_->LastChangePosition();
  if (Result<std::string> seq = target_->GetNodeState(kSeqKey); seq.ok()) {
    seq_ = recorded_seq_ = std::strtoull(seq->c_str(), nullptr, 10);
  }
  if (Result<std::string> e = target_->GetNodeState(kEpochKey); e.ok() && e->size() == 8) {
    epoch_ = DecodeFixed64(e->data());
  }
  thread_ = std::thread([this] { Run(); });
}

LogFeed::~LogFeed() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

PeerStatus LogFeed::status() const {
  PeerStatus p;
  p.peer = options_.peer;
  p.channel = options_.channel;
  p.direction = "follower";
  p.transport = "jetstream";
  p.in_session = subscribed_.load();
  p.applied = p.durable = applied_.load();
  p.duplicates = duplicates_.load();
  p.gaps = gaps_.load();
  p.checksum_failures = checksum_failures_.load();
  p.resyncs = resyncs_.load();
  p.partial_bytes = partial_bytes_.load();
  p.stale_epochs = stale_epochs_.load();
  std::lock_guard lock(mu_);
  p.last_error = last_error_;
  return p;
}

void LogFeed::SetError(const Status& s) {
  std::lock_guard lock(mu_);
  if (last_error_ != s.ToString()) {
    options_.logger->Log(LogLevel::kWarn, "nodes.jetstream", "log feed stopped at an error",
                         {{"log", options_.subject}, {"error", s.ToString()}});
  }
  last_error_ = s.ToString();
}

void LogFeed::Run() {
  while (!stop_) {
    Status s = connection_ != nullptr ? Status::OK() : Connect();
    if (s.ok() && sub_ == nullptr) s = Subscribe();
    if (s.ok()) s = FetchOnce();
    if (!s.ok()) {
      SetError(s);
      Unsubscribe();
      ++resyncs_;
      for (int i = 0; i < 10 && !stop_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
  Unsubscribe();
  ReleaseHeld(false);
  RecordSeq(true);
  // The consumer is made afresh at every subscribe: one left behind would only cost the servers.
  if (connection_ != nullptr) {
    jsErrCode error = static_cast<jsErrCode>(0);
    js_DeleteConsumer(connection_->jetstream(), options_.jetstream.stream.c_str(),
                      options_.durable.c_str(), nullptr, &error);
  }
  own_connection_.reset();
}

Status LogFeed::Connect() {
  NEMESYST_ASSIGN_OR_RETURN(own_connection_,
                            NatsConnection::Connect(options_.jetstream, "nemesyst " + options_.peer,
                                                    options_.jetstream.publish_timeout_ms));
  Status s = own_connection_->EnsureLogStream();
  if (!s.ok()) {
    own_connection_.reset();
    return s;
  }
  connection_ = own_connection_.get();
  return Status::OK();
}

Status LogFeed::Subscribe() {
  jsCtx* js = connection_->jetstream();
  const std::string& stream = options_.jetstream.stream;
  jsErrCode error = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteConsumer(js, stream.c_str(), options_.durable.c_str(), nullptr, &error);
  if (s != NATS_OK && s != NATS_NOT_FOUND && error != JSConsumerNotFoundErr) {
    return NatsStatus(s, "removing consumer " + options_.durable, error);
  }
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.Durable = options_.durable.c_str();
  config.FilterSubject = options_.subject.c_str();
  config.AckPolicy = js_AckExplicit;
  config.AckWait = int64_t{30} * 1000000000;  // ns: a held fragment run is acked well before
  config.MaxAckPending = 4 * kFetchBatch;
  // One replica in memory: the consumer is made afresh from the target's position at every
  // subscribe, so replicating its state buys nothing — while an R3 consumer is a Raft group of
  // its own, and a hub worker taking over a hundred stores would wait for a hundred elections.
  // If its server goes, the fetch fails and the feed makes another one elsewhere.
  config.Replicas = 1;
  config.MemoryStorage = true;
  if (seq_ > 0) {
    config.DeliverPolicy = js_DeliverByStartSequence;
    config.OptStartSeq = seq_ + 1;
  } else {
    config.DeliverPolicy = js_DeliverAll;
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Config = config;
  error = static_cast<jsErrCode>(0);
  s = js_PullSubscribe(&sub_, js, options_.subject.c_str(), options_.durable.c_str(), nullptr, &so,
                       &error);
  NEMESYST_RETURN_IF_ERROR(
      NatsStatus(s, "consumer " + options_.durable + " on " + options_.subject, error));
  subscribed_ = true;
  ReleaseHeld(false);  // a run of fragments starts again from its first
  return Status::OK();
}

void LogFeed::Unsubscribe() {
  if (sub_ != nullptr) natsSubscription_Destroy(sub_);
  sub_ = nullptr;
  subscribed_ = false;
}

Status LogFeed::FetchOnce() {
  // A pull request for many messages is answered only once it has them all or expires, so
  // waiting is done for one message; once messages flow, what is there is taken without waiting.
  natsMsgList list{};
  jsErrCode error = static_cast<jsErrCode>(0);
  natsStatus s;
  if (draining_) {
    jsFetchRequest request;
    jsFetchRequest_Init(&request);
    request.Batch = kFetchBatch;
    request.NoWait = true;
    request.Expires = 0;  // NoWait with an expiry makes the server wait for the whole batch
    s = natsSubscription_FetchRequest(&list, sub_, &request);
  } else {
    s = natsSubscription_Fetch(&list, sub_, 1, kFetchWaitMs, &error);
  }
  if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND || (s == NATS_OK && list.Count == 0)) {
    draining_ = false;
    natsMsgList_Destroy(&list);
    RecordSeq(false);
    return Status::OK();
  }
  draining_ = true;
  NEMESYST_RETURN_IF_ERROR(NatsStatus(s, "fetching from " + options_.durable, error));
  Status result;
  for (int i = 0; i < list.Count && result.ok(); ++i) {
    bool held = false;
    result = Handle(list.Msgs[i], &held);
    if (held) list.Msgs[i] = nullptr;  // the fragment run owns it until it is applied
  }
  natsMsgList_Destroy(&list);
  if (result.ok()) {
    std::lock_guard lock(mu_);
    last_error_.clear();
  }
  return result;
}

bool LogFeed::AcceptEpoch(uint64_t epoch, natsMsg* msg) {
  if (!options_.check_epoch) return true;
  if (epoch < epoch_) {
    ++stale_epochs_;
    natsMsg_Ack(msg, nullptr);  // never applied: a newer hub leads
    std::lock_guard lock(mu_);
    last_error_ = "refused registry changes of epoch " + std::to_string(epoch) + " (epoch " +
                  std::to_string(epoch_.load()) + " already accepted)";
    return false;
  }
  if (epoch > epoch_) {
    std::string value;
    PutFixed64(&value, epoch);
    if (target_->PutNodeState(kEpochKey, value).ok()) epoch_ = epoch;
  }
  return true;
}

Status LogFeed::Handle(natsMsg* msg, bool* held) {
  Result<LogMessage> decoded = DecodeLogMessage(
      std::string_view(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))));
  if (!decoded.ok()) {
    natsMsg_Term(msg, nullptr);  // never deliverable: what follows it will show as a gap
    return decoded.status().WithContext(options_.subject + " seq " +
                                        std::to_string(StreamSeq(msg)));
  }
  const LogMessage& m = *decoded;
  if (!options_.expected_source.empty() && m.store != options_.expected_source) {
    natsMsg_Term(msg, nullptr);
    return Status::Corruption("message of store '" + m.store + "' on " + options_.subject);
  }
  if (!AcceptEpoch(m.epoch, msg)) return Status::OK();
  // What the copy holds now: another writer (a standby hub registering a model) may have moved it.
  applied_ = target_->LastChangePosition();
  HistoryInfo history = target_->History();
  if (target_->LastChangePosition() == 0 && history.id != m.history) {
    NEMESYST_RETURN_IF_ERROR(target_->AdoptHistory({m.history, "", 0}));
    history.id = m.history;
  }
  if (m.history != history.id) {
    return Status::FailedPrecondition("'" + m.store + "' publishes history " + m.history + " on " +
                                      options_.subject + " but this copy holds " + history.id +
                                      " through position " + std::to_string(applied_.load()) +
                                      ": it must be rebuilt (docs/scale-out.md)");
  }
  if (m.last <= applied_) {
    // Positions alone do not name data: the copy's own entry there must be the log's.
    if (Result<JournalPoint> own = target_->JournalPointAt(m.last);
        own.ok() && own->stamp != m.last_stamp) {
      return Status::FailedPrecondition(
          "position " + std::to_string(m.last) + " of this copy is not the one on " +
          options_.subject +
          " (another write took it here — a standby hub that registered "
          "models?): this copy must be rebuilt (docs/scale-out.md)");
    }
    ++duplicates_;
    natsMsg_Ack(msg, nullptr);
    return Status::OK();
  }
  if (m.after > applied_) {
    ++gaps_;
    return Status::Aborted("gap in " + options_.subject + ": this copy holds position " +
                           std::to_string(applied_.load()) + ", the next message follows " +
                           std::to_string(m.after) + "; asking again from there");
  }
  if (m.kind == LogMessageKind::kFragment) return HandleFragment(m, msg, held);
  std::vector<std::string_view> fresh;
  for (std::string_view change : m.changes) {
    NEMESYST_ASSIGN_OR_RETURN(JournalPoint point, Store::DescribeChange(change));
    if (point.position > applied_) fresh.push_back(change);
  }
  NEMESYST_RETURN_IF_ERROR(
      target_->ApplyChanges(fresh).WithContext("applying " + options_.subject));
  Applied(msg);
  natsMsg_Ack(msg, nullptr);
  return Status::OK();
}

Status LogFeed::HandleFragment(const LogMessage& m, natsMsg* msg, bool* held) {
  if (m.offset == 0) {
    ReleaseHeld(true);  // an earlier run of this change, superseded
    partial_ = {m.last, m.total, m.digest, {}};
  } else if (m.last != partial_.position || m.total != partial_.total ||
             m.digest != partial_.digest || m.offset > partial_.data.size()) {
    ++gaps_;
    return Status::Aborted("fragment at offset " + std::to_string(m.offset) + " of position " +
                           std::to_string(m.last) + " does not follow what this copy holds");
  } else if (m.offset < partial_.data.size()) {
    ++duplicates_;
    natsMsg_Ack(msg, nullptr);
    return Status::OK();
  }
  partial_.data.append(m.data);
  partial_bytes_ = partial_.data.size();
  held_.push_back(msg);
  *held = true;
  if (partial_.data.size() < partial_.total) return Status::OK();
  if (Xxh128Hex(partial_.data) != partial_.digest) {
    ++checksum_failures_;
    ReleaseHeld(false);  // redelivered after the consumer is made again
    return Status::Corruption("change " + std::to_string(m.last) + " of " + options_.subject +
                              " fails its digest after reassembly");
  }
  NEMESYST_RETURN_IF_ERROR(
      target_->ApplyChange(partial_.data).WithContext("applying " + options_.subject));
  Applied(msg);
  ReleaseHeld(true);
  return Status::OK();
}

void LogFeed::ReleaseHeld(bool ack) {
  for (natsMsg* msg : held_) {
    if (ack) natsMsg_Ack(msg, nullptr);
    natsMsg_Destroy(msg);
  }
  held_.clear();
  partial_ = {};
  partial_bytes_ = 0;
}

void LogFeed::Applied(natsMsg* msg) {
  applied_ = target_->LastChangePosition();
  seq_ = std::max(seq_, StreamSeq(msg));
  RecordSeq(false);
}

void LogFeed::RecordSeq(bool now) {
  if (seq_ == recorded_seq_) return;
  const int64_t t = NowMicros();
  if (!now && t - recorded_us_ < 1000000) return;
  recorded_us_ = t;
  if (target_->PutNodeState(kSeqKey, std::to_string(seq_)).ok()) recorded_seq_ = seq_;
}

}  // namespace nemesyst::nodes
