// JetStreamViews: leases over the stores, and a feeder thread per owned store's view.
#include "nodes/jetstream_views.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <set>

#include "common/xxh128.h"
#include "nemesyst/store.h"
#include "nodes/jetstream_log.h"
#include "nodes/nats_connection.h"
#include "nodes/node_role.h"

namespace nemesyst::nodes {
namespace {

constexpr const char* kSeqKey = "jetstream.seq";  // view node state: last applied message's seq
constexpr int kFetchBatch = 256;
constexpr int64_t kFetchWaitMs = 500;

// The keys of a bucket (none: empty).
Result<std::vector<std::string>> BucketKeys(kvStore* kv, const std::string& what) {
  kvKeysList list{};
  natsStatus s = kvStore_Keys(&list, kv, nullptr);
  if (s == NATS_NOT_FOUND) return std::vector<std::string>{};
  NEMESYST_RETURN_IF_ERROR(NatsStatus(s, "listing " + what));
  std::vector<std::string> keys(list.Keys, list.Keys + list.Count);
  kvKeysList_Destroy(&list);
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

struct JetStreamViews::Buckets {
  kvStore* stores = nullptr;
  kvStore* leases = nullptr;
  kvStore* workers = nullptr;
};

// ---- One store's view ------------------------------------------------------------------------

class JetStreamViews::Feeder {
 public:
  Feeder(NatsConnection* connection, const JetStreamViewsOptions& options, std::string store)
      : connection_(connection),
        options_(options),
        store_(std::move(store)),
        subject_(LogSubject(options.jetstream, store_)),
        durable_("view_" + SubjectToken(options.worker_id) + "_" + SubjectToken(store_)) {
    thread_ = std::thread([this] { Run(); });
  }

  ~Feeder() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  PeerStatus status() const {
    PeerStatus p;
    p.peer = store_;
    p.channel = "data";
    p.direction = "follower";
    p.transport = "jetstream";
    p.in_session = subscribed_.load();
    p.applied = p.durable = applied_.load();
    p.duplicates = duplicates_.load();
    p.gaps = gaps_.load();
    p.checksum_failures = checksum_failures_.load();
    p.resyncs = resyncs_.load();
    p.partial_bytes = partial_bytes_.load();
    std::lock_guard lock(mu_);
    p.last_error = last_error_;
    return p;
  }

 private:
  void Run() {
    while (!stop_) {
      Status s = view_ ? Status::OK() : OpenView();
      if (s.ok() && sub_ == nullptr) s = Subscribe();
      if (s.ok()) s = FetchOnce();
      if (!s.ok()) {
        SetError(s);
        Unsubscribe();
        ++resyncs_;
        for (int i = 0; i < 10 && !stop_; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    Unsubscribe();
    ReleaseHeld(false);
    RecordSeq(true);
  }

  void SetError(const Status& s) {
    std::lock_guard lock(mu_);
    if (last_error_ != s.ToString()) {
      options_.logger->Log(LogLevel::kWarn, "nodes.jetstream", "view stopped at an error",
                           {{"store", store_}, {"error", s.ToString()}});
    }
    last_error_ = s.ToString();
  }

  Status OpenView() {
    StoreOptions so;
    so.durability = Durability::kGroup;  // on disk before the ack
    so.logger = options_.logger;
    NEMESYST_RETURN_IF_ERROR(Store::Open(so, (options_.views_dir / store_).string(), &view_)
                                 .WithContext("view " + store_));
    applied_ = view_->LastChangePosition();
    if (Result<std::string> seq = view_->GetNodeState(kSeqKey); seq.ok()) {
      seq_ = recorded_seq_ = std::strtoull(seq->c_str(), nullptr, 10);
    }
    return Status::OK();
  }

  // A durable pull consumer for this worker and store, made afresh from the view's position
  // (the view, not the consumer, is the truth about what was applied).
  Status Subscribe() {
    jsCtx* js = connection_->jetstream();
    const std::string& stream = options_.jetstream.stream;
    jsErrCode error = static_cast<jsErrCode>(0);
    natsStatus s = js_DeleteConsumer(js, stream.c_str(), durable_.c_str(), nullptr, &error);
    if (s != NATS_OK && s != NATS_NOT_FOUND && error != JSConsumerNotFoundErr) {
      return NatsStatus(s, "removing consumer " + durable_, error);
    }
    jsConsumerConfig config;
    jsConsumerConfig_Init(&config);
    config.Durable = durable_.c_str();
    config.FilterSubject = subject_.c_str();
    config.AckPolicy = js_AckExplicit;
    config.AckWait = int64_t{30} * 1000000000;  // ns: a held fragment run is acked well before
    config.MaxAckPending = 4 * kFetchBatch;
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
    s = js_PullSubscribe(&sub_, js, subject_.c_str(), durable_.c_str(), nullptr, &so, &error);
    NEMESYST_RETURN_IF_ERROR(NatsStatus(s, "consumer " + durable_ + " on " + subject_, error));
    subscribed_ = true;
    ReleaseHeld(false);  // a run of fragments starts again from its first
    return Status::OK();
  }

  void Unsubscribe() {
    if (sub_ != nullptr) natsSubscription_Destroy(sub_);
    sub_ = nullptr;
    subscribed_ = false;
  }

  Status FetchOnce() {
    natsMsgList list{};
    jsErrCode error = static_cast<jsErrCode>(0);
    natsStatus s = natsSubscription_Fetch(&list, sub_, kFetchBatch, kFetchWaitMs, &error);
    if (s == NATS_TIMEOUT) {
      RecordSeq(false);
      return Status::OK();
    }
    NEMESYST_RETURN_IF_ERROR(NatsStatus(s, "fetching from " + durable_, error));
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

  Status Handle(natsMsg* msg, bool* held) {
    Result<LogMessage> decoded = DecodeLogMessage(
        std::string_view(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))));
    if (!decoded.ok()) {
      natsMsg_Term(msg, nullptr);  // never deliverable: what follows it will show as a gap
      return decoded.status().WithContext(subject_ + " seq " + std::to_string(StreamSeq(msg)));
    }
    const LogMessage& m = *decoded;
    if (m.store != store_) {
      natsMsg_Term(msg, nullptr);
      return Status::Corruption("message of store '" + m.store + "' on " + subject_);
    }
    HistoryInfo history = view_->History();
    if (view_->LastChangePosition() == 0 && history.id != m.history) {
      NEMESYST_RETURN_IF_ERROR(view_->AdoptHistory({m.history, "", 0}));
      history.id = m.history;
    }
    if (m.history != history.id) {
      return Status::FailedPrecondition("store '" + store_ + "' publishes history " + m.history +
                                        " but this view holds " + history.id +
                                        " through position " + std::to_string(applied_.load()) +
                                        ": the view must be rebuilt (docs/scale-out.md)");
    }
    if (m.last <= applied_) {
      ++duplicates_;
      natsMsg_Ack(msg, nullptr);
      return Status::OK();
    }
    if (m.after > applied_) {
      ++gaps_;
      return Status::Aborted("gap in " + subject_ + ": the view holds position " +
                             std::to_string(applied_.load()) + ", the next message follows " +
                             std::to_string(m.after) + "; asking again from the view's position");
    }
    if (m.kind == LogMessageKind::kFragment) return HandleFragment(m, msg, held);
    std::vector<std::string_view> fresh;
    for (std::string_view change : m.changes) {
      NEMESYST_ASSIGN_OR_RETURN(JournalPoint point, Store::DescribeChange(change));
      if (point.position > applied_) fresh.push_back(change);
    }
    NEMESYST_RETURN_IF_ERROR(view_->ApplyChanges(fresh).WithContext("applying to view " + store_));
    Applied(msg);
    natsMsg_Ack(msg, nullptr);
    return Status::OK();
  }

  Status HandleFragment(const LogMessage& m, natsMsg* msg, bool* held) {
    if (m.offset == 0) {
      ReleaseHeld(true);  // an earlier run of this change, superseded
      partial_ = {m.last, m.total, m.digest, {}};
    } else if (m.last != partial_.position || m.total != partial_.total ||
               m.digest != partial_.digest || m.offset > partial_.data.size()) {
      ++gaps_;
      return Status::Aborted("fragment at offset " + std::to_string(m.offset) + " of position " +
                             std::to_string(m.last) + " does not follow what the view holds");
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
      return Status::Corruption("change " + std::to_string(m.last) + " of " + subject_ +
                                " fails its digest after reassembly");
    }
    NEMESYST_RETURN_IF_ERROR(
        view_->ApplyChange(partial_.data).WithContext("applying to view " + store_));
    Applied(msg);
    ReleaseHeld(true);
    return Status::OK();
  }

  // Fragments held for a change: acked (the change is applied or superseded), or just dropped.
  void ReleaseHeld(bool ack) {
    for (natsMsg* held : held_) {
      if (ack) natsMsg_Ack(held, nullptr);
      natsMsg_Destroy(held);
    }
    held_.clear();
    partial_ = {};
    partial_bytes_ = 0;
  }

  static uint64_t StreamSeq(natsMsg* msg) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) return 0;
    const uint64_t seq = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
    return seq;
  }

  void Applied(natsMsg* msg) {
    applied_ = view_->LastChangePosition();
    seq_ = std::max(seq_, StreamSeq(msg));
    RecordSeq(false);
  }

  // The view's last applied message sequence, where a new consumer starts (at most once a second).
  void RecordSeq(bool now) {
    if (!view_ || seq_ == recorded_seq_) return;
    const int64_t t = NowMicros();
    if (!now && t - recorded_us_ < 1000000) return;
    recorded_us_ = t;
    if (view_->PutNodeState(kSeqKey, std::to_string(seq_)).ok()) recorded_seq_ = seq_;
  }

  NatsConnection* connection_;
  const JetStreamViewsOptions& options_;
  const std::string store_, subject_, durable_;
  std::unique_ptr<Store> view_;
  natsSubscription* sub_ = nullptr;
  uint64_t seq_ = 0, recorded_seq_ = 0;
  int64_t recorded_us_ = 0;
  struct Partial {
    uint64_t position = 0, total = 0;
    std::string digest, data;
  } partial_;
  std::vector<natsMsg*> held_;
  std::atomic<bool> stop_{false}, subscribed_{false};
  std::atomic<uint64_t> applied_{0}, duplicates_{0}, gaps_{0}, checksum_failures_{0}, resyncs_{0},
      partial_bytes_{0};
  mutable std::mutex mu_;
  std::string last_error_;
  std::thread thread_;
};

// ---- Leases ------------------------------------------------------------------------------------

JetStreamViews::JetStreamViews(JetStreamViewsOptions options) : options_(std::move(options)) {
  if (options_.logger == nullptr) options_.logger = NullLogger();
}

Result<std::unique_ptr<JetStreamViews>> JetStreamViews::Start(JetStreamViewsOptions options) {
  NEMESYST_RETURN_IF_ERROR(ValidateNodeId(options.worker_id));
  std::unique_ptr<JetStreamViews> views(new JetStreamViews(std::move(options)));
  views->thread_ = std::thread([v = views.get()] { v->Run(); });
  return views;
}

JetStreamViews::~JetStreamViews() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<PeerStatus> JetStreamViews::Views() const {
  std::vector<PeerStatus> out;
  std::lock_guard lock(mu_);
  for (const auto& [store, lease] : owned_) out.push_back(lease.feeder->status());
  return out;
}

std::vector<std::string> JetStreamViews::Owned() const {
  std::vector<std::string> out;
  std::lock_guard lock(mu_);
  for (const auto& [store, lease] : owned_) out.push_back(store);
  return out;
}

Status JetStreamViews::Connect() {
  NEMESYST_ASSIGN_OR_RETURN(
      std::unique_ptr<NatsConnection> c,
      NatsConnection::Connect(options_.jetstream, "nemesyst hub " + options_.worker_id,
                              options_.jetstream.publish_timeout_ms));
  NEMESYST_RETURN_IF_ERROR(c->EnsureLogStream());
  auto b = std::make_unique<Buckets>();
  NEMESYST_ASSIGN_OR_RETURN(b->stores, c->Bucket("stores", 0));
  NEMESYST_ASSIGN_OR_RETURN(b->leases, c->Bucket("leases", options_.jetstream.lease_ms));
  NEMESYST_ASSIGN_OR_RETURN(b->workers, c->Bucket("workers", options_.jetstream.lease_ms));
  connection_ = std::move(c);
  buckets_ = std::move(b);
  return Status::OK();
}

void JetStreamViews::Run() {
  const int64_t period_ms = std::max(50, options_.jetstream.lease_ms / 3);
  while (true) {
    Status s = connection_ ? Status::OK() : Connect();
    if (s.ok()) s = Round();
    {
      std::unique_lock lock(mu_);
      if (!s.ok() && s.ToString() != last_error_) {
        options_.logger->Log(LogLevel::kWarn, "nodes.jetstream", "hub worker round failed",
                             {{"worker", options_.worker_id}, {"error", s.ToString()}});
      }
      last_error_ = s.ok() ? "" : s.ToString();
      cv_.wait_for(lock, std::chrono::milliseconds(period_ms), [this] { return stop_; });
      if (stop_) break;
    }
  }
  // Hand the stores over at once rather than after lease_ms: stop applying, then free the keys.
  std::map<std::string, Lease> owned;
  {
    std::lock_guard lock(mu_);
    owned.swap(owned_);
  }
  for (auto& [store, lease] : owned) {
    lease.feeder.reset();
    if (buckets_) kvStore_Delete(buckets_->leases, store.c_str());
  }
  if (buckets_) kvStore_Delete(buckets_->workers, options_.worker_id.c_str());
  buckets_.reset();
  connection_.reset();
}

Status JetStreamViews::Round() {
  const std::string& me = options_.worker_id;
  uint64_t revision = 0;
  NEMESYST_RETURN_IF_ERROR(
      NatsStatus(kvStore_PutString(&revision, buckets_->workers, me.c_str(), "hub worker"),
                 "announcing worker " + me));
  // Renew what this worker holds; a lease that cannot be renewed is another worker's now.
  std::vector<std::string> lost;
  {
    std::lock_guard lock(mu_);
    for (auto& [store, lease] : owned_) {
      uint64_t renewed = 0;
      natsStatus ns = kvStore_UpdateString(&renewed, buckets_->leases, store.c_str(), me.c_str(),
                                           lease.revision);
      if (ns == NATS_OK) {
        lease.revision = renewed;
      } else {
        lost.push_back(store);
      }
    }
  }
  for (const std::string& store : lost) {
    options_.logger->Log(LogLevel::kWarn, "nodes.jetstream", "lease lost: view dropped",
                         {{"worker", me}, {"store", store}});
    std::unique_ptr<Feeder> feeder;
    {
      std::lock_guard lock(mu_);
      feeder = std::move(owned_[store].feeder);
      owned_.erase(store);
    }
    feeder.reset();  // joins outside the lock (Views() keeps answering)
  }
  NEMESYST_ASSIGN_OR_RETURN(std::vector<std::string> stores,
                            BucketKeys(buckets_->stores, "stores"));
  NEMESYST_ASSIGN_OR_RETURN(std::vector<std::string> workers,
                            BucketKeys(buckets_->workers, "workers"));
  const size_t live = std::max<size_t>(1, workers.size());
  const size_t share = (stores.size() + live - 1) / live;
  if (stores.empty()) return Status::OK();
  // More than a fair share (workers joined since): hand the excess over — its views stay here,
  // and resume from their positions should the stores come back.
  std::vector<std::unique_ptr<Feeder>> released;
  {
    std::lock_guard lock(mu_);
    while (owned_.size() > share) {
      auto last = std::prev(owned_.end());
      options_.logger->Log(LogLevel::kInfo, "nodes.jetstream", "lease released: rebalancing",
                           {{"worker", me}, {"store", last->first}});
      released.push_back(std::move(last->second.feeder));
      kvStore_Delete(buckets_->leases, last->first.c_str());
      owned_.erase(last);
    }
  }
  released.clear();  // the feeders stop (joined outside the lock)
  // Each worker starts looking at its own place in the list, so they do not all race for the
  // same stores.
  const size_t start = std::hash<std::string>{}(me) % stores.size();
  for (size_t i = 0; i < stores.size(); ++i) {
    const std::string& store = stores[(start + i) % stores.size()];
    {
      std::lock_guard lock(mu_);
      if (stop_ || owned_.size() >= share) break;
      if (owned_.count(store) != 0) continue;
    }
    if (!ValidateNodeId(store).ok()) continue;
    uint64_t taken = 0;
    if (kvStore_CreateString(&taken, buckets_->leases, store.c_str(), me.c_str()) != NATS_OK) {
      continue;  // another worker's (or the cluster is busy: next round)
    }
    options_.logger->Log(LogLevel::kInfo, "nodes.jetstream", "lease taken: building view",
                         {{"worker", me}, {"store", store}});
    Lease lease;
    lease.revision = taken;
    lease.feeder = std::make_unique<Feeder>(connection_.get(), options_, store);
    std::lock_guard lock(mu_);
    owned_[store] = std::move(lease);
  }
  return Status::OK();
}

}  // namespace nemesyst::nodes
