#include "nodes/serving.h"

#include <zmq_addon.hpp>

#include <atomic>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "nemesyst/pipeline.h"
#include "nodes/client_service.h"
#include "nodes/status_json.h"
#include "nodes/window_request.h"

namespace nemesyst::nodes {
namespace {

std::atomic<uint64_t> g_serving_counter{0};

double MicrosSince(Serving::Clock::time_point t) {
  return std::chrono::duration<double, std::micro>(Serving::Clock::now() - t).count();
}

nlohmann::json PredictionJson(const PredictionRow& row) {
  return {{"device", row.device},
          {"timestamp_us", row.timestamp_us},
          {"prediction_s", row.prediction_s}};
}

// The committed records of `stream` with seq in [first, last], in seq order.
Result<std::vector<StoredRecord>> ReadSeqs(const Store& store, const std::string& stream,
                                           uint64_t first, uint64_t last) {
  RecordQuery q;
  q.first_seq = first;
  q.last_seq = last;
  NEMESYST_ASSIGN_OR_RETURN(std::unique_ptr<RecordIterator> it, store.Read(stream, q));
  std::vector<StoredRecord> out;
  for (; it->Valid(); it->Next()) out.push_back(it->record());
  NEMESYST_RETURN_IF_ERROR(it->status());
  return out;
}

}  // namespace

Serving::Reply Serving::Fail(const Status& status) { return {false, ErrorReply(status)}; }

Serving::Serving(zmq::context_t& context, Store* store, const NodeOptions& options, Logger* logger)
    : context_(context), store_(store), options_(options), log_(logger) {}

Serving::~Serving() { Stop(); }

Status Serving::Start() {
  try {
    pub_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::pub);
    pub_->set(zmq::sockopt::linger, 0);
    pub_->bind(options_.predictions_endpoint);
    predictions_endpoint_ = pub_->get(zmq::sockopt::last_endpoint);
    router_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
    router_->set(zmq::sockopt::linger, 0);
    router_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxPredictRequestBytes + 4096));
    router_->bind(options_.predict_endpoint);
    predict_endpoint_ = router_->get(zmq::sockopt::last_endpoint);
    const std::string wake = "inproc://nemesyst-serving-" + std::to_string(++g_serving_counter);
    wake_in_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::pair);
    wake_in_->set(zmq::sockopt::linger, 0);
    wake_in_->bind(wake);
    wake_out_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::pair);
    wake_out_->set(zmq::sockopt::linger, 0);
    wake_out_->connect(wake);
  } catch (const zmq::error_t& e) {
    return Status::IOError("cannot bind the serving endpoints (" + options_.predictions_endpoint +
                           ", " + options_.predict_endpoint + "): " + e.what());
  }
  serve_thread_ = std::thread([this] { ServeLoop(); });
  build_thread_ = std::thread([this] { BuildLoop(); });
  return Status::OK();
}

void Serving::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !serve_thread_.joinable()) return;
    stopping_ = true;
  }
  build_cv_.notify_all();
  Wake();
  if (serve_thread_.joinable()) serve_thread_.join();
  if (build_thread_.joinable()) build_thread_.join();
  live_.reset();
  pub_.reset();
  router_.reset();
  wake_in_.reset();
  wake_out_.reset();
}

void Serving::Wake() {
  std::lock_guard lock(mu_);
  if (!wake_out_) return;
  try {
    wake_out_->send(zmq::str_buffer("w"), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
  }
}

void Serving::SetError(const std::string& error) {
  std::lock_guard lock(mu_);
  last_error_ = error;
}

// ---- Which version to serve (network thread) and building it (builder thread) ----------------

Result<ResolvedModel> Serving::Resolve(const Store& registry) const {
  // A deployment to this store (the hub's `deploy`: alias deploy.<node id>) takes precedence
  // over the configured reference.
  Result<ModelRef> ref = ParseModelRef(options_.serve_model);
  if (ref.ok()) {
    Result<ResolvedModel> deployed =
        registry.ResolveModel(ref->name + ":deploy." + options_.node_id);
    if (deployed.ok()) {
      deployed->how = "deployment to " + options_.node_id;
      return deployed;
    }
  }
  return registry.ResolveModel(options_.serve_model);
}

void Serving::Track(const Store& registry) {
  if (options_.serve_model.empty()) return;
  Result<ResolvedModel> resolved = Resolve(registry);
  if (!resolved.ok()) {
    if (tracked_.empty())
      SetError("waiting for " + options_.serve_model + ": " + resolved.status().ToString());
    return;
  }
  if (resolved->ToString() == tracked_) return;
  tracked_ = resolved->ToString();  // a version that fails its checks is not read again
  Result<std::string> blob = registry.ReadModelBlob(resolved->name, resolved->version);
  Result<ModelInfo> info = registry.GetModelInfo(resolved->name, resolved->version);
  if (!blob.ok() || !info.ok()) {
    SetError("reading " + tracked_ + ": " + (blob.ok() ? info.status() : blob.status()).ToString());
    return;
  }
  // The content must be what the hub registered (replication checked it on the way in; this
  // checks what is read back, end to end, before anything is built from it).
  if (!info->blob_sha256.empty() && Sha256Hex(*blob) != info->blob_sha256) {
    SetError(tracked_ + ": its content does not match the registry's SHA-256; not served");
    log_->Log(LogLevel::kError, "nodes.serving", "model digest mismatch: not served",
              {{"model", tracked_}});
    return;
  }
  {
    std::lock_guard lock(mu_);
    wanted_ = std::make_unique<Wanted>(Wanted{*resolved, std::move(*blob)});
    building_ = tracked_;
  }
  build_cv_.notify_all();
}

Result<Serving::Built> Serving::Build(const ResolvedModel& version, const std::string& blob) const {
  const Clock::time_point t0 = Clock::now();
  NEMESYST_ASSIGN_OR_RETURN(LoadedModel loaded,
                            LoadModelFromBlob(blob, version, options_.serve_model_options));
  Built built;
  built.stream = options_.serve_stream.empty() ? loaded.trained_stream : options_.serve_stream;
  if (built.stream.empty()) {
    return Status::InvalidArgument("model " + version.ToString() +
                                   " names no stream it was trained on: set serving.stream");
  }
  NEMESYST_ASSIGN_OR_RETURN(built.live, LiveModel::Create(std::move(loaded)));
  // The state from the stream's last window: this also warms the kernels (packed weights,
  // pages touched) before the version takes its first request.
  Result<uint64_t> through = built.live->Rebuild(*store_, built.stream);
  if (through.ok()) {
    built.through = *through;
  } else if (through.status().code() != StatusCode::kNotFound) {
    return through.status();  // a stream that does not exist yet is served from its first reading
  }
  built.build_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  return built;
}

void Serving::BuildLoop() {
  while (true) {
    std::unique_ptr<Wanted> wanted;
    std::vector<std::unique_ptr<LiveModel>> retired;
    {
      std::unique_lock lock(mu_);
      build_cv_.wait(lock, [&] { return stopping_ || wanted_ || !retired_.empty(); });
      if (stopping_) return;
      wanted = std::move(wanted_);
      retired.swap(retired_);
    }
    retired.clear();  // the versions swapped out are freed here, off the serving path
    if (!wanted) continue;
    const std::string name = wanted->version.ToString();
    Result<Built> built = Build(wanted->version, wanted->blob);
    if (!built.ok()) {
      log_->Log(LogLevel::kError, "nodes.serving", "cannot serve this version",
                {{"model", name}, {"error", built.status().ToString()}});
      std::lock_guard lock(mu_);
      last_error_ = "building " + name + ": " + built.status().ToString();
      if (building_ == name) building_.clear();
      continue;
    }
    {
      std::lock_guard lock(mu_);
      // A newer version asked for meanwhile replaces this one before it is served.
      if (wanted_) continue;
      ready_ = std::make_unique<Built>(std::move(*built));
    }
    Wake();
  }
}

// ---- The serving thread ---------------------------------------------------------------------

void Serving::ServeLoop() {
  while (true) {
    zmq::pollitem_t items[] = {{router_->handle(), 0, ZMQ_POLLIN, 0},
                               {wake_in_->handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(100));
      if (items[1].revents & ZMQ_POLLIN) OnWake();
      if (items[0].revents & ZMQ_POLLIN) OnRequest();
    } catch (const std::exception& e) {  // a bug must not take the node down
      log_->Log(LogLevel::kError, "nodes.serving", "serving loop error", {{"error", e.what()}});
      SetError(std::string("serving loop: ") + e.what());
    }
    std::lock_guard lock(mu_);
    if (stopping_) return;
  }
}

void Serving::OnWake() {
  zmq::message_t ignored;
  while (wake_in_->recv(ignored, zmq::recv_flags::dontwait)) {
  }
  std::deque<Appended> appended;
  std::unique_ptr<Built> ready;
  {
    std::lock_guard lock(mu_);
    appended.swap(appended_);
    ready = std::move(ready_);
  }
  if (ready) SwapIn(std::move(*ready));
  for (const Appended& a : appended) Apply(a);
}

void Serving::Apply(const Appended& a) {
  if (!live_ || a.stream != stream_) return;
  const uint64_t first = std::max(a.range.first, applied_through_ + 1);
  if (first > a.range.last) return;  // the rebuild already read these
  Result<std::vector<StoredRecord>> stored = ReadSeqs(*store_, a.stream, first, a.range.last);
  if (!stored.ok()) {
    SetError("reading " + a.stream + " for serving: " + stored.status().ToString());
    return;
  }
  applied_through_ = a.range.last;
  std::vector<Record> records;
  std::vector<uint64_t> seqs;
  records.reserve(stored->size());
  for (StoredRecord& s : *stored) {
    seqs.push_back(s.seq);
    records.push_back(std::move(s.record));
  }
  std::vector<PredictionRow> out;
  Status s = live_->Observe(records, &out);
  if (!s.ok()) SetError("serving " + live_->ref() + ": " + s.ToString());
  // Each prediction carries the seq of the reading it answers, looked up by device and time
  // (an append of a whole fleet's instant has one reading per device: no scan per prediction).
  std::map<std::pair<std::string_view, int64_t>, uint64_t> seq_of;
  for (size_t i = 0; i < records.size(); ++i) {
    seq_of[{records[i].device_id, records[i].timestamp_us}] = seqs[i];
  }
  for (const PredictionRow& row : out) {
    const auto it = seq_of.find({row.device, row.timestamp_us});
    Publish(row, it == seq_of.end() ? 0 : it->second);
    publish_latency_.Record(MicrosSince(a.arrived));
  }
  std::lock_guard lock(mu_);
  counters_.readings += records.size();
  counters_.predictions += out.size();
  devices_ = live_->device_count();
  for (PredictionRow& row : out) latest_[row.device] = std::move(row);
}

void Serving::Publish(const PredictionRow& row, uint64_t seq) {
  nlohmann::json j = PredictionJson(row);
  j["model"] = live_->ref();
  j["seq"] = seq;
  const std::string text = j.dump();
  std::array<zmq::const_buffer, 2> parts = {zmq::buffer(row.device), zmq::buffer(text)};
  try {
    (void)zmq::send_multipart(*pub_, parts, zmq::send_flags::dontwait);  // PUB drops past HWM
  } catch (const zmq::error_t&) {
  }
}

void Serving::SwapIn(Built built) {
  const Clock::time_point t0 = Clock::now();
  // Readings committed after the rebuild read the stream (and already served by the old
  // version) advance the new state before it answers anything; they are not published again.
  if (built.stream == stream_ && applied_through_ > built.through) {
    Result<std::vector<StoredRecord>> stored =
        ReadSeqs(*store_, built.stream, built.through + 1, applied_through_);
    if (stored.ok()) {
      std::vector<Record> records;
      for (StoredRecord& s : *stored) records.push_back(std::move(s.record));
      Status s = built.live->Observe(records, nullptr);
      if (!s.ok()) SetError("catching up " + built.live->ref() + ": " + s.ToString());
    } else {
      SetError("catching up " + built.live->ref() + ": " + stored.status().ToString());
    }
  } else {
    applied_through_ = built.through;
  }
  const std::string was = live_ ? live_->ref() : "";
  std::unique_ptr<LiveModel> old = std::move(live_);
  live_ = std::move(built.live);
  stream_ = built.stream;
  const double pause_us = MicrosSince(t0);
  std::vector<PredictionRow> latest = live_->LatestAll();
  {
    std::lock_guard lock(mu_);
    latest_.clear();
    for (PredictionRow& row : latest) latest_[row.device] = std::move(row);
    if (old) retired_.push_back(std::move(old));
    model_ = live_->ref();
    served_stream_ = stream_;
    if (building_ == model_) building_.clear();
    last_error_.clear();
    ++counters_.swaps;
    counters_.last_build_ms = built.build_ms;
    counters_.last_swap_pause_us = pause_us;
    devices_ = live_->device_count();
  }
  build_cv_.notify_all();
  log_->Log(LogLevel::kInfo, "nodes.serving", was.empty() ? "serving" : "swapped",
            {{"model", model_},
             {"was", was},
             {"stream", stream_},
             {"build_ms", std::to_string(built.build_ms)},
             {"pause_us", std::to_string(pause_us)}});
}

// ---- Predict requests -----------------------------------------------------------------------

void Serving::OnRequest() {
  while (true) {
    std::vector<zmq::message_t> frames;
    auto got = zmq::recv_multipart(*router_, std::back_inserter(frames), zmq::recv_flags::dontwait);
    if (!got) return;
    const Clock::time_point t0 = Clock::now();
    if (frames.size() < 2) continue;  // no routing id and request: nobody to answer
    Reply reply;
    if (frames.size() > 3) {
      reply = Fail(Status::InvalidArgument(
          "a predict request is one JSON frame and, for a binary window, one data frame"));
    } else {
      try {
        reply =
            Answer(frames[1].to_string(),
                   frames.size() == 3 ? std::string_view(frames[2].data<char>(), frames[2].size())
                                      : std::string_view());
      } catch (const std::exception& e) {
        reply = Fail(Status::Internal(std::string("predict: ") + e.what()));
      }
    }
    std::array<zmq::const_buffer, 2> parts = {zmq::buffer(frames[0].data(), frames[0].size()),
                                              zmq::buffer(reply.json)};
    try {
      (void)zmq::send_multipart(*router_, parts, zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
      // The client went away.
    }
    request_latency_.Record(MicrosSince(t0));
    std::lock_guard lock(mu_);
    ++counters_.requests;
    if (!reply.ok) ++counters_.request_errors;
  }
}

Serving::Reply Serving::Answer(const std::string& request, std::string_view data) {
  nlohmann::json j = nlohmann::json::parse(request, nullptr, false);
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string()) {
    return Fail(Status::InvalidArgument("the request must be a JSON object with a string \"op\""));
  }
  const std::string op = j["op"].get<std::string>();
  Reply reply;
  if (!data.empty() && !j.contains("window")) {
    reply = Fail(Status::InvalidArgument("a data frame comes only with a binary \"window\""));
  } else if (op == "status") {
    reply.json = ServingStatusToJson(Snapshot());
  } else if (op != "predict") {
    reply = Fail(Status::InvalidArgument("unknown op '" + op + "' (predict, status)"));
  } else if (!live_) {
    std::lock_guard lock(mu_);
    reply = Fail(Status::FailedPrecondition(
        options_.serve_model.empty() ? "this node serves no model (set serving.model)"
                                     : "no version of " + options_.serve_model + " is served yet" +
                                           (last_error_.empty() ? "" : " (" + last_error_ + ")")));
  } else if (j.contains("window")) {
    reply = PredictWindow(j["window"], data);
  } else {
    std::vector<std::string> devices;
    bool valid = true;
    if (j.contains("device") && j["device"].is_string()) {
      devices.push_back(j["device"].get<std::string>());
    } else if (j.contains("devices") && j["devices"].is_array() && j["devices"].size() <= 100000) {
      for (const auto& d : j["devices"]) {
        if (d.is_string()) devices.push_back(d.get<std::string>());
        valid = valid && d.is_string();
      }
    } else {
      valid = false;
    }
    reply = valid ? PredictLive(devices)
                  : Fail(Status::InvalidArgument("predict: give \"device\", \"devices\" (at most "
                                                 "100000 strings) or \"window\""));
  }
  // A request id comes back with its answer (a client matching replies to requests).
  if (j.contains("id")) {
    nlohmann::json with_id = nlohmann::json::parse(reply.json);
    with_id["id"] = j["id"];
    reply.json = with_id.dump();
  }
  return reply;
}

Serving::Reply Serving::PredictLive(const std::vector<std::string>& devices) const {
  nlohmann::json predictions = nlohmann::json::array();
  nlohmann::json unknown = nlohmann::json::array();
  for (const std::string& d : devices) {
    const PredictionRow* row = live_->Latest(d);
    if (row == nullptr) {
      unknown.push_back(d);
    } else {
      predictions.push_back(PredictionJson(*row));
    }
  }
  return {
      true,
      nlohmann::json{
          {"ok", true}, {"model", live_->ref()}, {"predictions", predictions}, {"unknown", unknown}}
          .dump()};
}

Serving::Reply Serving::PredictWindow(const nlohmann::json& window, std::string_view data) {
  Result<std::vector<Record>> readings = DecodeWindow(window, data, live_->loaded().input_fields);
  if (!readings.ok()) return Fail(readings.status().WithContext("predict"));
  Result<PredictionRow> row = live_->PredictWindow(std::move(*readings));
  if (!row.ok()) return Fail(row.status());
  return {true, nlohmann::json{{"ok", true},
                               {"model", live_->ref()},
                               {"predictions", nlohmann::json::array({PredictionJson(*row)})},
                               {"unknown", nlohmann::json::array()}}
                    .dump()};
}

// ---- Callers --------------------------------------------------------------------------------

void Serving::OnAppended(const std::string& stream, const std::vector<SeqRange>& ranges,
                         Clock::time_point arrived) {
  if (ranges.empty() || options_.serve_model.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (const SeqRange& r : ranges) appended_.push_back({stream, r, arrived});
  }
  Wake();
}

Serving::LiveView Serving::Latest() const {
  std::lock_guard lock(mu_);
  LiveView view{model_, served_stream_, {}};
  view.latest.reserve(latest_.size());
  for (const auto& [device, row] : latest_) view.latest.push_back(row);
  return view;
}

ServingStatus Serving::Snapshot() const {
  ServingStatus s;
  {
    std::lock_guard lock(mu_);
    s = counters_;
    s.model = model_;
    s.building = building_;
    s.last_error = last_error_;
    s.devices = devices_;
    s.stream = served_stream_;
  }
  s.reference = options_.serve_model;
  s.predictions_endpoint = predictions_endpoint_;
  s.predict_endpoint = predict_endpoint_;
  const LatencySummary req = request_latency_.Summarise();
  const LatencySummary pub = publish_latency_.Summarise();
  s.request_p50_us = req.p50_us;
  s.request_p99_us = req.p99_us;
  s.publish_p50_us = pub.p50_us;
  s.publish_p99_us = pub.p99_us;
  s.request_latency = request_latency_.Histogram();
  s.publish_latency = publish_latency_.Histogram();
  return s;
}

}  // namespace nemesyst::nodes
