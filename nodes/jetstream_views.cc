// JetStreamViews: leases over the stores, and a feeder thread per owned store's view.
#include "nodes/jetstream_views.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <set>

#include "nemesyst/store.h"
#include "nodes/jetstream_feed.h"
#include "nodes/nats_connection.h"
#include "nodes/node_role.h"

namespace nemesyst::nodes {
namespace {

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

// The view's store and the feed applying the store's log to it.
class JetStreamViews::Feeder {
 public:
  static Result<std::unique_ptr<Feeder>> Open(NatsConnection* connection,
                                              const JetStreamViewsOptions& o,
                                              const std::string& store) {
    std::unique_ptr<Feeder> f(new Feeder);
    StoreOptions so;
    so.durability = Durability::kGroup;  // on disk before the ack
    so.logger = o.logger;
    NEMESYST_RETURN_IF_ERROR(
        Store::Open(so, (o.views_dir / store).string(), &f->view_).WithContext("view " + store));
    LogFeedOptions fo;
    fo.jetstream = o.jetstream;
    fo.subject = LogSubject(o.jetstream, store);
    fo.durable = "view_" + SubjectToken(o.worker_id) + "_" + SubjectToken(store);
    fo.peer = store;
    fo.expected_source = store;
    fo.logger = o.logger;
    f->feed_ = std::make_unique<LogFeed>(f->view_.get(), fo, connection);
    return f;
  }
  ~Feeder() { feed_.reset(); }  // the feed stops before its view closes
  PeerStatus status() const { return feed_->status(); }

 private:
  Feeder() = default;
  std::unique_ptr<Store> view_;
  std::unique_ptr<LogFeed> feed_;
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
    Result<std::unique_ptr<Feeder>> feeder = Feeder::Open(connection_.get(), options_, store);
    if (!feeder.ok()) {
      kvStore_Delete(buckets_->leases, store.c_str());  // let another worker try
      return feeder.status();
    }
    Lease lease;
    lease.revision = taken;
    lease.feeder = std::move(*feeder);
    std::lock_guard lock(mu_);
    owned_[store] = std::move(lease);
  }
  return Status::OK();
}

}  // namespace nemesyst::nodes
