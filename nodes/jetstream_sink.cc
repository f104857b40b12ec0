// JetStreamSink: the publishing thread, resuming from the log's tail, one message at a time.
#include "nodes/jetstream_sink.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/xxh128.h"
#include "nodes/jetstream_log.h"
#include "nodes/nats_connection.h"
#include "nodes/node_role.h"

namespace nemesyst::nodes {
namespace {

// Room for a message's header fields beside its changes.
constexpr size_t kEnvelopeBytes = 256;

}  // namespace

JetStreamSink::JetStreamSink(Store* store, JetStreamSinkOptions options)
    : store_(store),
      options_(std::move(options)),
      subject_(options_.registry_epoch > 0 ? RegistrySubject(options_.jetstream)
                                           : LogSubject(options_.jetstream, options_.store_id)) {
  if (options_.logger == nullptr) options_.logger = NullLogger();
}

Result<std::unique_ptr<JetStreamSink>> JetStreamSink::Start(Store* store,
                                                            JetStreamSinkOptions options) {
  NEMESYST_RETURN_IF_ERROR(ValidateNodeId(options.store_id));
  std::unique_ptr<JetStreamSink> sink(new JetStreamSink(store, std::move(options)));
  // What the log held at the last run: the journal stays trimmed no further until it is heard.
  if (Result<std::string> saved = store->GetNodeState(kStateKey); saved.ok()) {
    sink->published_ = std::strtoull(saved->c_str(), nullptr, 10);
    sink->acked_ = sink->published_;
  }
  sink->thread_ = std::thread([s = sink.get()] { s->Run(); });
  return sink;
}

JetStreamSink::~JetStreamSink() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JetStreamSink::Notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  cv_.notify_one();
}

void JetStreamSink::WaitFor(int64_t ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stop_ || notified_; });
  notified_ = false;
}

void JetStreamSink::SetError(const Status& status) {
  std::lock_guard lock(mu_);
  if (status.ToString() != last_error_) {
    options_.logger->Log(LogLevel::kWarn, "nodes.jetstream", "publishing the log failed",
                         {{"store", options_.store_id}, {"error", status.ToString()}});
  }
  last_error_ = status.ToString();
}

void JetStreamSink::Run() {
  int64_t backoff_ms = 50;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    Status s = connection_ ? Status::OK() : Connect();
    if (s.ok() && !resumed_) s = Resume();
    Result<bool> sent = false;
    if (s.ok()) {
      sent = PublishNext();
      s = sent.status();
    }
    if (!s.ok()) {
      SetError(s);
      // Anything may have happened to the subject meanwhile: resume from its tail again.
      resumed_ = false;
      if (s.code() == StatusCode::kIOError) connected_ = false;
      WaitFor(backoff_ms);
      backoff_ms = std::min<int64_t>(backoff_ms * 2, 2000);
      continue;
    }
    backoff_ms = 50;
    if (!*sent) WaitFor(100);  // caught up: until Notify(), or a look every 100 ms
  }
  if (acked_ > 0) {
    Status s = store_->PutNodeState(kStateKey, std::to_string(acked_.load()));
    if (!s.ok()) SetError(s.WithContext("recording the published position"));
  }
  connection_.reset();
}

Status JetStreamSink::Connect() {
  NEMESYST_ASSIGN_OR_RETURN(
      connection_, NatsConnection::Connect(options_.jetstream, "nemesyst " + options_.store_id,
                                           options_.jetstream.publish_timeout_ms));
  Status s = connection_->EnsureLogStream();
  // Hub workers find the stores publishing in this bucket (a hub's registry is no store).
  if (s.ok() && options_.registry_epoch == 0) {
    Result<kvStore*> stores = connection_->Bucket("stores", 0);
    s = stores.status();
    if (s.ok()) {
      const std::string value =
          nlohmann::json{{"subject", subject_}, {"history", store_->History().id}}.dump();
      uint64_t revision = 0;
      s = NatsStatus(
          kvStore_PutString(&revision, *stores, options_.store_id.c_str(), value.c_str()),
          "registering store " + options_.store_id);
    }
  }
  if (!s.ok()) {
    connection_.reset();
    return s;
  }
  connected_ = true;
  return Status::OK();
}

Status JetStreamSink::Resume() {
  natsMsg* last = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  natsStatus ns = js_GetLastMsg(&last, connection_->jetstream(), options_.jetstream.stream.c_str(),
                                subject_.c_str(), nullptr, &error);
  const HistoryInfo history = store_->History();
  if (ns == NATS_NOT_FOUND) {
    // Nothing of this store in the log (new, or retention removed it all): publish from the
    // position JetStream last acknowledged — or the journal's start for a store never published.
    subject_seq_ = 0;
    if (acked_ == 0 && store_->FirstChangePosition() > 1) {
      return Status::FailedPrecondition(
          "the journal was trimmed through position " +
          std::to_string(store_->FirstChangePosition() - 1) +
          " before JetStream held any of it: a log starting there would leave every view a "
          "gap; the views need a bootstrap, which JetStream does not carry (docs/scale-out.md)");
    }
    published_ = std::max(acked_.load(), store_->FirstChangePosition() - 1);
    if (published_ > 0) {
      options_.logger->Log(LogLevel::kWarn, "nodes.jetstream",
                           "the log holds nothing of this store: publishing from its journal",
                           {{"store", options_.store_id}, {"after", std::to_string(published_)}});
    }
    resumed_ = true;
    return Status::OK();
  }
  NEMESYST_RETURN_IF_ERROR(NatsStatus(ns, "reading the tail of " + subject_, error));
  std::unique_ptr<natsMsg, void (*)(natsMsg*)> owned(last, natsMsg_Destroy);
  Result<LogMessage> tail = DecodeLogMessage(
      std::string_view(natsMsg_GetData(last), static_cast<size_t>(natsMsg_GetDataLength(last))));
  NEMESYST_RETURN_IF_ERROR(tail.status().WithContext("the tail of " + subject_));
  const bool own_history = tail->history == history.id;
  const bool previous_history =
      tail->history == history.previous_id && tail->last <= history.switch_position;
  auto refuse = [&](const std::string& why) {
    return Status::FailedPrecondition(
        "the log " + subject_ + " ends at position " + std::to_string(tail->last) + " of history " +
        tail->history + ", which is not this store's past (history " + history.id + ", position " +
        std::to_string(store_->LastChangePosition()) + "): " + why +
        "; a store restored from a backup needs its log and views rebuilt (docs/scale-out.md)");
  };
  if (options_.registry_epoch > 0 && tail->epoch >= options_.registry_epoch &&
      tail->store != options_.store_id) {
    return Status::FailedPrecondition(
        "hub '" + tail->store + "' publishes the registry with epoch " +
        std::to_string(tail->epoch) + ", not below this hub's " +
        std::to_string(options_.registry_epoch) + ": this hub is fenced off");
  }
  if (options_.registry_epoch > 0 && tail->epoch > options_.registry_epoch) {
    return Status::FailedPrecondition("the registry log carries epoch " +
                                      std::to_string(tail->epoch) + ", above this hub's " +
                                      std::to_string(options_.registry_epoch));
  }
  if (options_.registry_epoch == 0 && tail->store != options_.store_id) {
    return refuse("it is store '" + tail->store + "''s log");
  }
  if (!own_history && !previous_history) return refuse("another history");
  if (tail->last > store_->LastChangePosition()) return refuse("the log is ahead of the store");
  if (Result<JournalPoint> point = store_->JournalPointAt(tail->last);
      point.ok() && point->stamp != tail->last_stamp) {
    return refuse("another change at that position");
  }
  // A fragment run that stopped half-way resumes with its change from the first fragment (the
  // consumer drops the partial copy it holds when fragment 0 comes again).
  published_ =
      tail->kind == LogMessageKind::kFragment && tail->offset + tail->data.size() < tail->total
          ? tail->after
          : tail->last;
  subject_seq_ = natsMsg_GetSequence(last);
  if (published_ > acked_) Acknowledged(published_);
  resumed_ = true;
  std::lock_guard lock(mu_);
  if (!last_error_.empty()) {
    options_.logger->Log(LogLevel::kInfo, "nodes.jetstream", "publishing resumed",
                         {{"store", options_.store_id}, {"after", std::to_string(published_)}});
    last_error_.clear();
  }
  return Status::OK();
}

Result<bool> JetStreamSink::PublishNext() {
  const size_t budget = options_.jetstream.max_message_bytes - kEnvelopeBytes;
  NEMESYST_ASSIGN_OR_RETURN(std::vector<Store::Change> changes,
                            store_->ReadChanges(published_, 4096, budget));
  if (changes.empty()) return false;
  // The journal was trimmed past what the log holds (a store that ran without JetStream, a
  // forwarded replica that was bootstrapped): publishing on would leave a gap in every view.
  if (changes.front().position > published_ + 1 && store_->FirstChangePosition() > published_ + 1) {
    return Status::FailedPrecondition(
        "the journal starts at position " + std::to_string(store_->FirstChangePosition()) +
        " but the log holds only through " + std::to_string(published_) +
        ": the views need a bootstrap, which JetStream does not carry (docs/scale-out.md)");
  }
  if (changes.front().bytes.size() > budget) {
    NEMESYST_RETURN_IF_ERROR(PublishFragments(changes.front()));
    return true;
  }
  // ReadChanges stops once `budget` is read, the last change included: keep what fits.
  size_t bytes = 0, fit = 0;
  while (fit < changes.size() && bytes + changes[fit].bytes.size() + 8 <= budget) {
    bytes += changes[fit].bytes.size() + 8;
    ++fit;
  }
  changes.resize(fit);
  NEMESYST_RETURN_IF_ERROR(PublishChanges(std::move(changes)));
  return true;
}

Result<LogMessage> JetStreamSink::Header(LogMessageKind kind, const Store::Change& last) const {
  LogMessage m;
  m.kind = kind;
  m.store = options_.store_id;
  m.epoch = options_.registry_epoch;
  m.history = store_->History().id;
  m.after = published_;
  m.last = last.position;
  NEMESYST_ASSIGN_OR_RETURN(JournalPoint point, Store::DescribeChange(last.bytes));
  m.last_stamp = point.stamp;
  return m;
}

Status JetStreamSink::PublishChanges(std::vector<Store::Change> changes) {
  NEMESYST_ASSIGN_OR_RETURN(LogMessage m, Header(LogMessageKind::kChanges, changes.back()));
  for (const Store::Change& c : changes) m.changes.push_back(c.bytes);
  NEMESYST_RETURN_IF_ERROR(Publish(MessageId(m), EncodeLogMessage(m)));
  Acknowledged(m.last);
  return Status::OK();
}

Status JetStreamSink::PublishFragments(const Store::Change& change) {
  NEMESYST_ASSIGN_OR_RETURN(LogMessage m, Header(LogMessageKind::kFragment, change));
  m.total = change.bytes.size();
  m.digest = Xxh128Hex(change.bytes);
  const size_t piece = options_.jetstream.max_message_bytes - kEnvelopeBytes;
  for (m.offset = 0; m.offset < m.total; m.offset += piece) {
    m.data = std::string_view(change.bytes).substr(m.offset, piece);
    NEMESYST_RETURN_IF_ERROR(Publish(MessageId(m), EncodeLogMessage(m)));
  }
  Acknowledged(m.last);
  return Status::OK();
}

Status JetStreamSink::Publish(const std::string& id, const std::string& payload) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = id.c_str();
  po.ExpectStream = options_.jetstream.stream.c_str();
  po.MaxWait = options_.jetstream.publish_timeout_ms;
  if (subject_seq_ == 0) {
    po.ExpectNoMessage = true;
  } else {
    po.ExpectLastSubjectSeq = subject_seq_;
  }
  jsPubAck* ack = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  natsStatus s = js_Publish(&ack, connection_->jetstream(), subject_.c_str(), payload.data(),
                            static_cast<int>(payload.size()), &po, &error);
  if (s != NATS_OK) {
    if (error == JSStreamWrongLastSequenceErr) ++refusals_;
    return NatsStatus(s, "publishing " + id + " on " + subject_, error);
  }
  subject_seq_ = ack->Sequence;
  if (ack->Duplicate) ++duplicates_;
  jsPubAck_Destroy(ack);
  ++messages_;
  return Status::OK();
}

void JetStreamSink::Acknowledged(uint64_t position) {
  published_ = position;
  acked_ = position;
  const int64_t now = NowMicros();
  if (now - persisted_us_ < 1000000) return;  // at most once a second
  persisted_us_ = now;
  Status s = store_->PutNodeState(kStateKey, std::to_string(position));
  if (!s.ok()) SetError(s.WithContext("recording the published position"));
}

PeerStatus JetStreamSink::status() const {
  PeerStatus p;
  p.peer = "jetstream:" + subject_;
  p.channel = options_.registry_epoch > 0 ? "registry" : "data";
  p.direction = "leader";
  p.transport = "jetstream";
  p.in_session = connected_.load();
  p.applied = p.durable = acked_.load();
  p.leader_last = store_->LastChangePosition();
  p.lag_changes = p.leader_last > p.durable ? p.leader_last - p.durable : 0;
  p.duplicates = duplicates_.load();
  p.resyncs = refusals_.load();
  std::lock_guard lock(mu_);
  p.last_error = last_error_;
  return p;
}

}  // namespace nemesyst::nodes
