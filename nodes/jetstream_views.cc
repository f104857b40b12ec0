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

// The buckets, and what the watchers have said so far.
struct JetStreamViews::Buckets {
  kvStore* stores = nullptr;   // store id → how it publishes (written by the stores)
  kvStore* owners = nullptr;   // store id → the worker holding its view (no expiry)
  kvStore* workers = nullptr;  // worker id → alive (entries expire after lease_ms)
  kvWatcher* store_watch = nullptr;
  kvWatcher* owner_watch = nullptr;
  std::set<std::string> known_stores;
  struct Owner {
    std::string worker;
    uint64_t revision = 0;
  };
  std::map<std::string, Owner> owner_of;
  ~Buckets() {
    if (store_watch != nullptr) kvWatcher_Destroy(store_watch);
    if (owner_watch != nullptr) kvWatcher_Destroy(owner_watch);
  }
  // Takes in what the watchers have seen since the last call (their first calls deliver every
  // current entry). A watcher that fails is made again and starts over.
  Status Drain() {
    NEMESYST_RETURN_IF_ERROR(DrainOne(stores, &store_watch, [&](kvEntry* e, bool gone) {
      if (gone) {
        known_stores.erase(kvEntry_Key(e));
      } else {
        known_stores.insert(kvEntry_Key(e));
      }
    }));
    // The newest revision wins: this worker records its own compare-and-sets at once, and the
    // watcher may still deliver what came before them.
    return DrainOne(owners, &owner_watch, [&](kvEntry* e, bool gone) {
      auto it = owner_of.find(kvEntry_Key(e));
      if (it != owner_of.end() && it->second.revision > kvEntry_Revision(e)) return;
      if (gone) {
        if (it != owner_of.end()) owner_of.erase(it);
      } else {
        owner_of[kvEntry_Key(e)] = {kvEntry_ValueString(e), kvEntry_Revision(e)};
      }
    });
  }
  template <typename Fn>
  Status DrainOne(kvStore* kv, kvWatcher** watcher, Fn&& take) {
    if (*watcher == nullptr) {
      NEMESYST_RETURN_IF_ERROR(NatsStatus(kvStore_WatchAll(watcher, kv, nullptr), "watching"));
    }
    while (true) {
      kvEntry* e = nullptr;
      natsStatus s = kvWatcher_Next(&e, *watcher, 1);
      if (s == NATS_TIMEOUT) return Status::OK();
      if (s != NATS_OK) {
        kvWatcher_Destroy(*watcher);
        *watcher = nullptr;
        return NatsStatus(s, "watching a bucket");
      }
      if (e == nullptr) continue;  // the end of the initial entries
      const kvOperation op = kvEntry_Operation(e);
      take(e, op == kvOp_Delete || op == kvOp_Purge);
      kvEntry_Destroy(e);
    }
  }
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
  views->heartbeat_ = std::thread([v = views.get()] { v->Heartbeat(); });
  return views;
}

JetStreamViews::~JetStreamViews() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
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
  NEMESYST_ASSIGN_OR_RETURN(b->owners, c->Bucket("owners", 0));
  NEMESYST_ASSIGN_OR_RETURN(b->workers, c->Bucket("workers", options_.jetstream.lease_ms));
  connection_ = std::move(c);
  buckets_ = std::move(b);
  std::lock_guard lock(mu_);
  workers_bucket_ = buckets_->workers;
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
    if (buckets_) kvStore_Delete(buckets_->owners, store.c_str());
  }
  {
    std::lock_guard lock(mu_);
    workers_bucket_ = nullptr;
  }
  if (buckets_) kvStore_Delete(buckets_->workers, options_.worker_id.c_str());
  buckets_.reset();
  connection_.reset();
}

Status JetStreamViews::Announce() {
  kvStore* workers = nullptr;
  {
    std::lock_guard lock(mu_);
    workers = workers_bucket_;
  }
  if (workers == nullptr) return Status::OK();  // not connected yet
  uint64_t revision = 0;
  return NatsStatus(kvStore_PutString(&revision, workers, options_.worker_id.c_str(), "hub worker"),
                    "announcing worker " + options_.worker_id);
}

// On its own thread: a round that opens many views can take longer than lease_ms, and the
// worker must not look dead meanwhile.
void JetStreamViews::Heartbeat() {
  const int64_t period_ms = std::max(50, options_.jetstream.lease_ms / 3);
  while (true) {
    (void)Announce();  // a failure shows in the rounds' errors
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(period_ms), [this] { return stop_; });
    if (stop_) return;
  }
}

Status JetStreamViews::Round() {
  const std::string& me = options_.worker_id;
  NEMESYST_RETURN_IF_ERROR(Announce());
  NEMESYST_ASSIGN_OR_RETURN(std::vector<std::string> live_list,
                            BucketKeys(buckets_->workers, "workers"));
  const std::set<std::string> live(live_list.begin(), live_list.end());
  NEMESYST_RETURN_IF_ERROR(buckets_->Drain());
  const auto& owner_of = buckets_->owner_of;

  // Views whose store another worker took (this one was away past lease_ms) stop here.
  std::vector<std::unique_ptr<Feeder>> stopped;
  {
    std::lock_guard lock(mu_);
    for (auto it = owned_.begin(); it != owned_.end();) {
      // Only a newer owner key naming another worker ends a view (a key missing from what the
      // watchers said so far is not proof of anything).
      auto owner = owner_of.find(it->first);
      if (owner == owner_of.end() || owner->second.worker == me ||
          owner->second.revision <= it->second.revision) {
        ++it;
        continue;
      }
      options_.logger->Log(LogLevel::kWarn, "nodes.jetstream", "store taken over: view stopped",
                           {{"worker", me},
                            {"store", it->first},
                            {"by", owner->second.worker},
                            {"revision", std::to_string(owner->second.revision)},
                            {"ours", std::to_string(it->second.revision)}});
      stopped.push_back(std::move(it->second.feeder));
      it = owned_.erase(it);
    }
  }
  stopped.clear();  // joined outside the lock (Views() keeps answering)

  const std::vector<std::string> stores(buckets_->known_stores.begin(),
                                        buckets_->known_stores.end());
  if (stores.empty()) return Status::OK();
  const size_t share = (stores.size() + live.size() - 1) / std::max<size_t>(1, live.size());
  // More than a fair share (workers joined since): hand the excess over — its views stay here,
  // and resume from their positions should the stores come back.
  {
    std::lock_guard lock(mu_);
    while (owned_.size() > share) {
      auto last = std::prev(owned_.end());
      options_.logger->Log(LogLevel::kInfo, "nodes.jetstream", "store released: rebalancing",
                           {{"worker", me},
                            {"store", last->first},
                            {"live_workers", std::to_string(live.size())},
                            {"stores", std::to_string(stores.size())}});
      stopped.push_back(std::move(last->second.feeder));
      kvStore_Delete(buckets_->owners, last->first.c_str());
      owned_.erase(last);
    }
  }
  stopped.clear();

  // Take stores nobody holds, or whose worker is gone, up to the share. Each worker starts at
  // its own place in the list, so they do not all race for the same stores; the compare-and-set
  // on the owner key decides any race.
  const size_t start = std::hash<std::string>{}(me) % stores.size();
  for (size_t i = 0; i < stores.size(); ++i) {
    const std::string& store = stores[(start + i) % stores.size()];
    {
      std::lock_guard lock(mu_);
      if (stop_ || owned_.size() >= share) break;
      if (owned_.count(store) != 0) continue;
    }
    // Free: nobody's, a worker's that is gone, or this worker's from before it restarted.
    auto owner = owner_of.find(store);
    const bool free = owner == owner_of.end() || owner->second.worker == me ||
                      live.count(owner->second.worker) == 0;
    if (!free || !ValidateNodeId(store).ok()) continue;
    uint64_t taken = 0;
    const natsStatus ns =
        owner == owner_of.end()
            ? kvStore_CreateString(&taken, buckets_->owners, store.c_str(), me.c_str())
            : kvStore_UpdateString(&taken, buckets_->owners, store.c_str(), me.c_str(),
                                   owner->second.revision);
    if (ns != NATS_OK) continue;  // another worker was quicker
    options_.logger->Log(LogLevel::kInfo, "nodes.jetstream", "store taken: building its view",
                         {{"worker", me},
                          {"store", store},
                          {"from", owner == owner_of.end() ? "" : owner->second.worker}});
    buckets_->owner_of[store] = {me, taken};
    Result<std::unique_ptr<Feeder>> feeder = Feeder::Open(connection_.get(), options_, store);
    if (!feeder.ok()) {
      kvStore_Delete(buckets_->owners, store.c_str());  // let another worker try
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
