#include "refrigeration/live_feed.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "nemesyst/predictions.h"
#include "nemesyst/refrigeration/fleet.h"

namespace nemesyst::refrigeration {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string StoreOf(const std::string& device) { return device.substr(0, device.find('/')); }

}  // namespace

Result<std::unique_ptr<LiveFeed>> LiveFeed::Start(
    FleetDeployment& fleet, const std::map<std::string, std::vector<Record>>& by_store,
    const LiveFeedOptions& options) {
  std::unique_ptr<LiveFeed> f(new LiveFeed());
  f->fleet_ = &fleet;
  f->options_ = options;
  std::set<int64_t> instants;
  for (const auto& [store, records] : by_store) {
    for (const Record& r : records) {
      f->by_store_[store][r.timestamp_us].push_back(r);
      instants.insert(r.timestamp_us);
      ++f->readings_;
    }
  }
  f->instants_.assign(instants.begin(), instants.end());
  NEMESYST_ASSIGN_OR_RETURN(f->subscriber_,
                            PredictionSubscriber::Connect(fleet.predictions_endpoints()));
  // A subscription reaches a PUB socket a moment after connecting (ZeroMQ's slow joiner): the
  // first predictions would be dropped without this pause.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  f->started_ = Clock::now();
  f->subscribe_thread_ = std::thread([p = f.get()] { p->Subscribe(); });
  f->feed_thread_ = std::thread([p = f.get()] { p->Feed(); });
  return f;
}

LiveFeed::~LiveFeed() {
  {
    std::lock_guard lock(mu_);
    released_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  if (feed_thread_.joinable()) feed_thread_.join();
  if (subscribe_thread_.joinable()) subscribe_thread_.join();
}

void LiveFeed::Release() {
  {
    std::lock_guard lock(mu_);
    released_ = true;
  }
  cv_.notify_all();
}

void LiveFeed::Feed() {
  std::map<std::string, std::unique_ptr<NodeClient>> clients;
  Status status;
  for (const auto& [store, by_time] : by_store_) {
    Result<std::unique_ptr<NodeClient>> c = NodeClient::Connect(fleet_->client_endpoint(store));
    if (!c.ok()) status = c.status();
    if (c.ok()) clients[store] = std::move(*c);
  }
  const size_t held = std::min<size_t>(instants_.size(), static_cast<size_t>(options_.hold_back));
  for (size_t i = 0; status.ok() && i < instants_.size() && !stop_; ++i) {
    if (i == instants_.size() - held) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return released_; });
    }
    const int64_t t = instants_[i];
    for (auto& [store, client] : clients) {
      const auto it = by_store_[store].find(t);
      if (it == by_store_[store].end()) continue;
      const nlohmann::json request = {
          {"op", "append"}, {"stream", "fleet"}, {"format", "csv"}, {"timestamp_format", "us"}};
      {
        std::lock_guard lock(mu_);
        sent_[{store, t}] = Clock::now();
      }
      Result<std::string> reply = client->Request(request.dump(), RecordsToCsv(it->second));
      if (!reply.ok()) {
        status = reply.status().WithContext("live feed of " + store);
        break;
      }
      const nlohmann::json j = nlohmann::json::parse(*reply, nullptr, false);
      if (!j.is_object() || !j.value("ok", false)) {
        status = Status::FailedPrecondition("live feed of " + store + ": " + *reply);
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.pace_ms));
  }
  std::lock_guard lock(mu_);
  feed_status_ = status;
  fed_ = true;
}

void LiveFeed::Subscribe() {
  while (!stop_) {
    Result<std::optional<PredictionSubscriber::Message>> m = subscriber_->Next(50);
    if (!m.ok() || !m->has_value()) continue;
    const Clock::time_point now = Clock::now();
    const nlohmann::json j = nlohmann::json::parse((*m)->json, nullptr, false);
    if (!j.is_object()) continue;
    const int64_t t = j.value("timestamp_us", int64_t{0});
    std::lock_guard lock(mu_);
    ++predictions_;
    ++by_model_[j.value("model", std::string("?"))];
    const auto it = sent_.find({StoreOf((*m)->device), t});
    if (it != sent_.end()) latency_ms_.push_back(Ms(now - it->second));
  }
}

Result<LiveFeedReport> LiveFeed::Finish(int timeout_ms) {
  Release();
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!fed_ && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Every reading of a device with a full window gets a prediction: wait until they stop coming.
  uint64_t seen = 0;
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::lock_guard lock(mu_);
    if (fed_ && predictions_ == seen) break;
    seen = predictions_;
  }
  stop_ = true;
  if (feed_thread_.joinable()) feed_thread_.join();
  if (subscribe_thread_.joinable()) subscribe_thread_.join();
  std::lock_guard lock(mu_);
  NEMESYST_RETURN_IF_ERROR(feed_status_);
  if (!fed_) return Status::DeadlineExceeded("live feed: not every instant was pushed in time");
  LiveFeedReport r;
  r.readings = readings_;
  r.instants = instants_.size();
  r.predictions = predictions_;
  r.predictions_by_model = by_model_;
  r.p50_ms = Percentile(latency_ms_, 0.5);
  r.p99_ms = Percentile(latency_ms_, 0.99);
  r.max_ms = latency_ms_.empty() ? 0 : *std::max_element(latency_ms_.begin(), latency_ms_.end());
  r.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  return r;
}

SwapProbe::SwapProbe(std::string predict_endpoint, std::string device)
    : endpoint_(std::move(predict_endpoint)),
      device_(std::move(device)),
      thread_([this] { Run(); }) {}

SwapProbe::~SwapProbe() { Stop(); }

void SwapProbe::Run() {
  NodeClientOptions co;
  co.timeout_ms = 2000;
  Result<std::unique_ptr<NodeClient>> client = NodeClient::Connect(endpoint_, co);
  const std::string request = nlohmann::json{{"op", "predict"}, {"device", device_}}.dump();
  while (!stop_ && client.ok()) {
    const Clock::time_point t0 = Clock::now();
    Result<std::string> reply = (*client)->Request(request);
    ++report_.requests;
    const nlohmann::json j =
        reply.ok() ? nlohmann::json::parse(*reply, nullptr, false) : nlohmann::json();
    if (!j.is_object() || !j.value("ok", false) || j["predictions"].empty()) {
      ++report_.failed;
    } else {
      ++report_.answered_by_model[j.value("model", std::string("?"))];
      latency_ms_.push_back(Ms(Clock::now() - t0));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!client.ok()) ++report_.failed;
}

SwapProbeReport SwapProbe::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  report_.p50_ms = Percentile(latency_ms_, 0.5);
  report_.p99_ms = Percentile(latency_ms_, 0.99);
  return report_;
}

}  // namespace nemesyst::refrigeration
