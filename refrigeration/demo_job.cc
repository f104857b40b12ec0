#include "nemesyst/refrigeration/demo.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "nemesyst/predict_job.h"
#include "nemesyst/refrigeration/demo_specs.h"
#include "nemesyst/refrigeration/dispatch.h"
#include "nemesyst/refrigeration/dispatch_replay.h"
#include "nemesyst/refrigeration/dispatch_selection.h"
#include "nemesyst/refrigeration/fleet.h"
#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/store.h"
#include "nemesyst/train_job.h"
#include "nemesyst/version.h"
#include "refrigeration/demo_grid.h"
#include "refrigeration/elapsed.h"
#include "refrigeration/evaluation.h"
#include "refrigeration/fleet_deployment.h"
#include "refrigeration/live_feed.h"
#include "refrigeration/report_writer.h"

namespace nemesyst::refrigeration {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

Status PrepareDirectory(const DemoOptions& o) {
  std::error_code ec;
  if (fs::exists(o.dir, ec) && !fs::is_empty(o.dir, ec)) {
    if (!o.force) {
      return Status::FailedPrecondition("demo directory " + o.dir +
                                        " exists and is not empty: remove it, choose another "
                                        "(--dir / demo.dir) or pass --force");
    }
    fs::remove_all(o.dir, ec);
    if (ec) return Status::IOError("demo: cannot remove " + o.dir + ": " + ec.message());
  }
  fs::create_directories(fs::path(o.dir) / "specs", ec);
  if (ec) return Status::IOError("demo: cannot create " + o.dir + ": " + ec.message());
  return Status::OK();
}

// Runs one named step, timing it and tagging its errors with its name.
class Steps {
 public:
  Steps(const DemoOptions& o, DemoReport* report) : o_(o), report_(report) {}
  Status Run(const std::string& name, const std::function<Status()>& body) {
    if (o_.on_step) o_.on_step(name);
    const auto t0 = Clock::now();
    Status s = body();
    report_->step_seconds.emplace_back(name, SecondsSince(t0));
    return s.WithContext("demo step '" + name + "'");
  }

 private:
  const DemoOptions& o_;
  DemoReport* report_;
};

TrainJobOptions TrainOptions(const DemoOptions& o, const std::string& pipeline,
                             const std::string& name, const std::string& spec, int epochs) {
  TrainJobOptions t;
  t.stream = "fleet";
  t.pipeline_text = pipeline;
  t.model_spec_json = spec;
  t.model_name = name;
  t.learners = o.learners;
  t.trainer.epochs = epochs;
  t.trainer.batch_size = o.batch_size;
  t.trainer.learning_rate = o.learning_rate;
  t.trainer.seed = o.seed * 1000 + std::hash<std::string>{}(name) % 1000;
  t.model = o.model_options;
  t.node_id = o.node_id;
  t.records_per_claim = o.records_per_claim;
  t.fit_hours = o.fit_hours;
  // The dispatch plans with each case's calibrated lower bound, its margin per case type.
  t.lower_risk = o.lower_risk;
  t.lower_group_field = "case_type";
  t.code_version = NEMESYST_VERSION_STRING;
  t.logger = o.logger;
  if (o.on_progress) {
    auto sink = o.on_progress;
    t.on_progress = [sink, name, epochs](int learner, const TrainProgress& p) {
      sink(name, learner, epochs, p);
    };
  }
  return t;
}

// "lstm@4" → 4 (0 when it is not a reference).
uint32_t VersionOf(const std::string& ref) {
  const size_t at = ref.rfind('@');
  return at == std::string::npos
             ? 0
             : static_cast<uint32_t>(std::strtoul(ref.c_str() + at + 1, nullptr, 10));
}

// The fleet form's training: the hub trains on the replicated streams (control `train`), and the
// candidate is copied into the demo's own store, where evaluation reads it.
Result<TrainJobResult> TrainOnHub(FleetDeployment& fleet, Store& local, const TrainJobOptions& t,
                                  uint32_t* hub_version) {
  nlohmann::json request = {{"op", "train"},
                            {"name", t.model_name},
                            {"pipeline", t.pipeline_text},
                            {"spec", t.model_spec_json},
                            {"stream", t.stream},
                            {"learners", t.learners},
                            {"epochs", t.trainer.epochs},
                            {"batch_size", t.trainer.batch_size},
                            {"learning_rate", t.trainer.learning_rate},
                            {"seed", t.trainer.seed},
                            {"records_per_claim", t.records_per_claim},
                            {"fit_hours", t.fit_hours},
                            {"lower_risk", t.lower_risk},
                            {"lower_group", t.lower_group_field},
                            {"code_version", t.code_version}};
  if (!t.augment_gan.empty()) {
    request["augment_gan"] = t.augment_gan;
    request["augment_fraction"] = t.augment_fraction;
  }
  NEMESYST_ASSIGN_OR_RETURN(nlohmann::json r, fleet.Control(request, 3600 * 1000));
  *hub_version = VersionOf(r.value("model", std::string()));
  if (*hub_version == 0) return Status::Corruption("hub train: no model version in " + r.dump());
  NEMESYST_ASSIGN_OR_RETURN(uint32_t version,
                            fleet.CopyModelFromHub(t.model_name, *hub_version, local));
  NEMESYST_RETURN_IF_ERROR(local.SetAlias(t.model_name, "candidate", version));
  TrainJobResult result;
  result.candidate = version;
  result.seconds = r.value("seconds", 0.0);
  for (const nlohmann::json& l : r["learners"]) {
    if (!l.value("candidate", false)) continue;
    LearnerVersion v;
    v.learner = l.value("learner", 0);
    v.version = version;
    for (const nlohmann::json& loss : l["validation_loss"]) {
      TrainEpochMetrics e;
      e.validation_loss = loss.get<double>() < 0 ? NAN : loss.get<double>();
      v.epochs.push_back(e);
    }
    result.learners.push_back(std::move(v));
  }
  return result;
}

// A dispatch through the hub (control `dispatch` to `stores`): the plan is what the stores
// confirmed, case by case.
Result<DispatchPlan> DispatchThroughHub(FleetDeployment& fleet, const DispatchRequest& request,
                                        const std::vector<std::string>& stores,
                                        DemoReport* report) {
  const auto t0 = Clock::now();
  NEMESYST_ASSIGN_OR_RETURN(nlohmann::json r, fleet.Control({{"op", "dispatch"},
                                                             {"shed_kw", request.shed_kw},
                                                             {"duration_s", request.duration_s},
                                                             {"margin_s", request.margin_s},
                                                             {"stores", stores}},
                                                            10000));
  const double round_trip_ms = SecondsSince(t0) * 1000;
  DispatchPlan plan;
  plan.request = request;
  plan.requested_kw = request.shed_kw;
  for (const nlohmann::json& store : r["stores"]) {
    for (const nlohmann::json& c : store["cases"]) {
      plan.chosen.push_back({c.value("device", ""), c.value("predicted_s", 0.0), c.value("kw", 0.0),
                             c.value("slack_s", 0.0)});
      plan.selected_kw += plan.chosen.back().power_kw;
    }
    plan.eligible += store.value("eligible", size_t{0});
  }
  plan.met = r.value("met", false);
  report->deployment.emplace_back(
      "dispatch through the hub's control plane",
      Fixed(request.shed_kw, 2) + " kW asked of " + std::to_string(stores.size()) +
          " held-out stores; " + Fixed(r.value("confirmed_kw", 0.0), 2) + " kW confirmed from " +
          std::to_string(plan.chosen.size()) + " cases in " + std::to_string(r.value("rounds", 0)) +
          " round(s); first store answered after " + Fixed(r.value("first_answer_ms", 0.0), 1) +
          " ms, all after " + Fixed(r.value("all_answered_ms", 0.0), 1) + " ms; round trip " +
          Fixed(round_trip_ms, 1) + " ms");
  return plan;
}

// The records of one simulated store in the demo's own store, before (history) or from
// (live) `split_us`.
Result<std::vector<Record>> StoreRecords(const Store& store, const FleetSimulator& sim,
                                         const std::string& id, int64_t split_us, bool history) {
  std::vector<Record> out;
  for (const CaseInfo& c : sim.cases()) {
    if (c.device.rfind(id + "/", 0) != 0) continue;
    RecordQuery q;
    q.device_id = c.device;
    if (history) {
      q.max_timestamp_us = split_us - 1;
    } else {
      q.min_timestamp_us = split_us;
    }
    NEMESYST_ASSIGN_OR_RETURN(std::vector<Record> records, ReadRecords(store, "fleet", q));
    std::move(records.begin(), records.end(), std::back_inserter(out));
  }
  return out;
}

// How often the truth fell below the model's calibrated lower bound on the held-out windows.
LowerBoundCoverage CoverageOf(const LoadedModel& m, const std::vector<double>& lower,
                              const std::vector<double>& truth,
                              const std::vector<std::string>& type) {
  LowerBoundCoverage c;
  if (!m.lower) return c;
  c.risk = m.lower->risk;
  c.windows = lower.size();
  std::map<std::string, std::pair<size_t, size_t>> by_type;  // misses, windows
  size_t misses = 0;
  for (size_t i = 0; i < lower.size(); ++i) {
    const bool miss = truth[i] < lower[i];
    misses += miss ? 1 : 0;
    by_type[type[i]].first += miss ? 1 : 0;
    ++by_type[type[i]].second;
    c.mean_lower_s += lower[i];
    c.mean_truth_s += truth[i];
  }
  if (c.windows == 0) return c;
  c.miss_rate = static_cast<double>(misses) / c.windows;
  c.mean_lower_s /= c.windows;
  c.mean_truth_s /= c.windows;
  for (const auto& [t, mw] : by_type) {
    c.miss_rate_by_case_type[t] = static_cast<double>(mw.first) / mw.second;
  }
  return c;
}

// The grid-service targets: no violation anywhere; on the unseen fleet (the last section; none
// when grid_stores is 0), delivery within tolerance at target_within_fraction of the offered
// minutes and no rebound past its limit.
void AddGridTargets(const DemoOptions& o, DemoReport* report) {
  int events = 0, violations = 0;
  for (const GridServiceSection& g : report->grid) {
    events += g.events;
    violations += g.violations;
  }
  report->targets.push_back({"grid services: zero temperature-limit violations",
                             events > 0 && violations == 0,
                             std::to_string(violations) + " violation(s) in " +
                                 std::to_string(events) + " replayed events"});
  if (o.grid_stores == 0 || report->grid.empty()) return;
  const GridServiceSection& g = report->grid.back();
  int minutes = 0, within = 0, offered = 0, rebound_over = 0;
  double worst_rebound = 0;
  for (const GridServiceRow& r : g.rows) {
    minutes += r.window_minutes;
    within += r.minutes_within;
    offered += r.offered;
    rebound_over += r.rebound_over;
    worst_rebound = std::max(worst_rebound, r.worst_rebound);
  }
  const double share = minutes > 0 ? static_cast<double>(within) / minutes : 0;
  report->targets.push_back(
      {"grid services: delivered within ±5 % of the contracted kW at ≥ " +
           Fixed(100 * o.target_within_fraction, 0) + " % of offered minutes (" + g.where + ")",
       minutes > 0 && share >= o.target_within_fraction,
       std::to_string(within) + " of " + std::to_string(minutes) + " minutes (" +
           Fixed(100 * share, 1) + " %) over " + std::to_string(offered) + " offered events"});
  report->targets.push_back({"grid services: rebound ≤ baseline + 10 % after every offered event",
                             offered > 0 && rebound_over == 0,
                             "worst " + Fixed(100 * worst_rebound, 1) + " % above baseline"});
}

}  // namespace

Result<DemoResult> RunDemo(const DemoOptions& o) {
  const auto t_start = Clock::now();
  Logger* log = o.logger != nullptr ? o.logger : NullLogger();
  if (o.train_stores < 1 || o.validation_stores < 1 || o.test_stores < 1 ||
      o.train_stores + o.validation_stores + o.test_stores != o.stores) {
    return Status::InvalidArgument(
        "demo: train + validation + test stores must equal stores, "
        "each ≥ 1");
  }
  if (o.grid_stores < 0) {
    return Status::InvalidArgument("demo: 'grid_stores' must be ≥ 0 (0: no unseen fleet)");
  }
  NEMESYST_RETURN_IF_ERROR(PrepareDirectory(o));
  DemoResult result;
  DemoReport& report = result.report;
  report.seed = static_cast<int64_t>(o.seed);
  Steps steps(o, &report);

  // Specs (written out so each step can be rerun by hand).
  DemoPipelineOptions po;
  po.window_length = o.window_length;
  po.window_stride = o.window_stride;
  po.train = static_cast<double>(o.train_stores) / o.stores;
  po.validation = static_cast<double>(o.validation_stores) / o.stores;
  po.test = 1.0 - po.train - po.validation;
  NEMESYST_ASSIGN_OR_RETURN(
      po.split_seed,
      ChooseStoreSplitSeed(po, o.stores, o.train_stores, o.validation_stores, o.test_stores));
  const std::string pipeline = DemoPipelineToml(po);
  // The GAN learns the shape of windows, not every window: a longer stride keeps it quick.
  DemoPipelineOptions gan_po = po;
  gan_po.window_stride = o.gan_window_stride;
  const std::string gan_pipeline = DemoPipelineToml(gan_po);
  const std::string lstm_spec = DemoRegressorSpec("lstm", o.window_length, o.hidden);
  const std::string rnn_spec = DemoRegressorSpec("rnn", o.window_length, o.hidden);
  const std::string gan_spec = DemoGanSpec(o.window_length, o.gan_hidden, 8);
  const fs::path specs = fs::path(o.dir) / "specs";
  NEMESYST_RETURN_IF_ERROR(WriteText(specs / "pipeline.toml", pipeline));
  NEMESYST_RETURN_IF_ERROR(WriteText(specs / "gan_pipeline.toml", gan_pipeline));
  NEMESYST_RETURN_IF_ERROR(WriteText(specs / "lstm.json", lstm_spec));
  NEMESYST_RETURN_IF_ERROR(WriteText(specs / "rnn.json", rnn_spec));
  NEMESYST_RETURN_IF_ERROR(WriteText(specs / "gan.json", gan_spec));
  SimulatorOptions so;
  so.seed = o.seed;
  so.stores = o.stores;
  so.cases_per_store = o.cases_per_store;
  so.days = o.days;
  nlohmann::json fleet_json = {
      {"seed", so.seed}, {"stores", so.stores},     {"cases_per_store", so.cases_per_store},
      {"days", so.days}, {"start_us", so.start_us}, {"interval_s", so.interval_s}};
  NEMESYST_RETURN_IF_ERROR(WriteText(specs / "fleet.json", fleet_json.dump(2) + "\n"));
  const std::vector<std::string> test_stores = StoresInSplit(po, o.stores, 2);
  const std::vector<std::string> train_stores = StoresInSplit(po, o.stores, 0);
  std::string test_list;
  for (const auto& s : test_stores) test_list += (test_list.empty() ? "" : " ") + s;
  report.fleet = {
      {"stores", std::to_string(o.stores)}, {"cases_per_store", std::to_string(o.cases_per_store)},
      {"days", Fixed(o.days, 1)},           {"interval_s", "60"},
      {"held_out_stores", test_list},       {"learners", std::to_string(o.learners)},
      {"epochs", std::to_string(o.epochs)}};

  // 1. Simulate and ingest.
  std::unique_ptr<Store> store;
  std::unique_ptr<FleetSimulator> sim;
  NEMESYST_RETURN_IF_ERROR(steps.Run("simulate + ingest", [&]() -> Status {
    StoreOptions store_options;
    store_options.durability = Durability::kAsync;  // reproducible from the seed: no fsyncs
    store_options.logger = log;
    NEMESYST_RETURN_IF_ERROR(
        Store::Open(store_options, (fs::path(o.dir) / "store").string(), &store));
    NEMESYST_ASSIGN_OR_RETURN(sim, FleetSimulator::Create(so));
    NEMESYST_ASSIGN_OR_RETURN(
        FleetIngestResult ingested,
        IngestSimulatedFleet(*store, "fleet", *sim, {IngestOrder::kCaseDays, 20000, log}));
    report.fleet["records"] = std::to_string(ingested.records);
    return Status::OK();
  }));

  // 1b. The fleet form: the deployment as processes, each store node fed its own history.
  const bool as_fleet = !o.node_binary.empty();
  const int64_t live_start_us = so.end_us() - static_cast<int64_t>(o.live_hours * 3600e6);
  std::unique_ptr<FleetDeployment> fleet;
  std::unique_ptr<LiveFeed> live;
  std::map<std::string, uint32_t> hub_version;  // model name → its version in the hub's registry
  std::vector<std::string> store_ids;
  for (const CaseInfo& c : sim->cases()) {
    const std::string id = c.device.substr(0, c.device.find('/'));
    if (store_ids.empty() || store_ids.back() != id) store_ids.push_back(id);
  }
  if (as_fleet) {
    if (!(o.live_hours > 0) || live_start_us <= so.start_us) {
      return Status::InvalidArgument("demo: live_hours must be > 0 and shorter than the data");
    }
    NEMESYST_RETURN_IF_ERROR(steps.Run("fleet: start nodes, feed, replicate", [&]() -> Status {
      FleetDeploymentOptions fo;
      fo.binary = o.node_binary;
      fo.dir = (fs::path(o.dir) / "fleet").string();
      fo.stores = store_ids;
      fo.schema = SimulatorSchema(true);
      fo.hub_id = o.node_id == "local" ? "hub" : o.node_id;  // "local": the default
      fo.settings = o.node_settings;
      fo.logger = log;
      NEMESYST_ASSIGN_OR_RETURN(fleet, FleetDeployment::Start(fo));
      NEMESYST_ASSIGN_OR_RETURN(FleetDeployment::FeedReport fed,
                                fleet->FeedAndReplicate(
                                    [&](const std::string& id) {
                                      return StoreRecords(*store, *sim, id, live_start_us,
                                                          /*history=*/true);
                                    },
                                    2, 600000));
      report.deployment.emplace_back(
          "node processes", "1 hub + " + std::to_string(store_ids.size()) +
                                " store nodes (one per store), every endpoint on loopback");
      report.deployment.emplace_back("history fed and replicated",
                                     std::to_string(fed.records) +
                                         " readings through the stores' append requests into the "
                                         "hub in " +
                                         Fixed(fed.seconds, 1) + " s (" +
                                         Fixed(fed.records / std::max(fed.seconds, 1e-9), 0) +
                                         " readings/s)");
      report.deployment.emplace_back(
          "replication lag while feeding",
          "at most " + Fixed(fed.max_lag_seconds, 2) + " s / " +
              std::to_string(fed.max_lag_changes) +
              " changes not yet acknowledged by the hub (each store's view, sampled every "
              "100 ms); the hub held everything " +
              Fixed(fed.catch_up_seconds * 1000, 0) + " ms after the last append");
      return Status::OK();
    }));
  }

  // 2. Train.
  std::map<std::string, TrainJobResult> trained;
  auto train = [&](const std::string& name, const std::string& spec, int epochs,
                   const std::string& augment, const std::string& pipeline_text) {
    return steps.Run("train " + name, [&]() -> Status {
      TrainJobOptions t = TrainOptions(o, pipeline_text, name, spec, epochs);
      t.augment_gan = augment;
      t.augment_fraction = o.augment_fraction;
      if (as_fleet) {
        NEMESYST_ASSIGN_OR_RETURN(trained[name], TrainOnHub(*fleet, *store, t, &hub_version[name]));
      } else {
        NEMESYST_ASSIGN_OR_RETURN(trained[name], RunTrainJob(*store, t));
      }
      return Status::OK();
    });
  };
  NEMESYST_RETURN_IF_ERROR(train("lstm", lstm_spec, o.epochs, "", pipeline));
  // The fleet form: the first model goes live at once (as the served model's version 1).
  uint32_t first_served = 0;
  if (as_fleet) {
    NEMESYST_RETURN_IF_ERROR(steps.Run("fleet: serve the first model", [&]() -> Status {
      const auto t0 = Clock::now();
      NEMESYST_ASSIGN_OR_RETURN(std::string blob,
                                store->ReadModelBlob("lstm", trained["lstm"].candidate));
      NEMESYST_ASSIGN_OR_RETURN(ModelInfo info,
                                store->GetModelInfo("lstm", trained["lstm"].candidate));
      NEMESYST_ASSIGN_OR_RETURN(first_served, fleet->PublishServed(blob, info.metadata));
      NEMESYST_RETURN_IF_ERROR(fleet
                                   ->Control({{"op", "promote"},
                                              {"model", fleet->served_model()},
                                              {"alias", "production"},
                                              {"version", first_served}},
                                             30000)
                                   .status());
      NEMESYST_RETURN_IF_ERROR(fleet->WaitServing(first_served, 120000));
      report.deployment.emplace_back(
          "first model served", "lstm@" + std::to_string(hub_version["lstm"]) + " as " +
                                    fleet->served_model() + "@" + std::to_string(first_served) +
                                    ", promoted; every store built, warmed and served it " +
                                    Fixed(SecondsSince(t0), 2) + " s after it was trained");
      return Status::OK();
    }));
  }
  NEMESYST_RETURN_IF_ERROR(train("rnn", rnn_spec, o.epochs, "", pipeline));
  NEMESYST_RETURN_IF_ERROR(train("gan", gan_spec, o.gan_epochs, "", gan_pipeline));
  NEMESYST_RETURN_IF_ERROR(train("gan_lstm", lstm_spec, o.epochs, "gan:candidate", pipeline));
  // The fleet form: the last hours of the data arrive live from here on (training is over: the
  // models never see them, and the same seed trains the same models).
  if (as_fleet) {
    NEMESYST_RETURN_IF_ERROR(steps.Run("fleet: live feeds start", [&]() -> Status {
      std::map<std::string, std::vector<Record>> live_records;
      for (const std::string& id : store_ids) {
        NEMESYST_ASSIGN_OR_RETURN(live_records[id],
                                  StoreRecords(*store, *sim, id, live_start_us, /*history=*/false));
      }
      NEMESYST_ASSIGN_OR_RETURN(
          live, LiveFeed::Start(*fleet, live_records, {o.live_pace_ms, o.live_hold_back}));
      return Status::OK();
    }));
  }

  // 3. Evaluate on held-out stores.
  HeldOutData held_out;
  WindowPredictions rows;
  NEMESYST_RETURN_IF_ERROR(steps.Run("evaluate on held-out stores", [&]() -> Status {
    NEMESYST_ASSIGN_OR_RETURN(held_out, LoadHeldOut(*store, "fleet", test_stores));
    for (const std::string name : {"lstm", "rnn", "gan_lstm"}) {
      WindowPredictions raw;
      NEMESYST_ASSIGN_OR_RETURN(
          EvaluatedPredictor e,
          EvaluateModel(*store, name + ":candidate", held_out, true, &raw, o.model_options));
      const TrainJobResult& tr = trained[name];
      for (const LearnerVersion& v : tr.learners) {
        if (v.version == tr.candidate) {
          e.val_mae_s.clear();
          for (const TrainEpochMetrics& ep : v.epochs) e.val_mae_s.push_back(ep.validation_loss);
        }
      }
      e.train_seconds = tr.seconds;  // wall time of the whole parallel run
      report.models.push_back(std::move(e));
      if (rows.device.empty()) rows = std::move(raw);
    }
    // Baselines: fitted on the training stores' first days (three parameters do not need
    // more), evaluated on exactly the rows the models were.
    RecordQuery first_days;
    first_days.max_timestamp_us = so.start_us + static_cast<int64_t>(3 * 86400e6);
    auto keep = [&train_stores](const std::string& device) {
      for (const auto& s : train_stores) {
        if (device.rfind(s + "/", 0) == 0) return true;
      }
      return false;
    };
    NEMESYST_ASSIGN_OR_RETURN(DeviceReadings train_readings,
                              LoadDeviceReadings(*store, "fleet", first_days, keep));
    const std::vector<CaseSample> train_rows = BaselineTrainingRows(train_readings, 5);
    NEMESYST_ASSIGN_OR_RETURN(report.baselines, EvaluateBaselines(train_rows, held_out, rows));
    return Status::OK();
  }));

  // 4. Promote the model with the best validation MAE (selection never looks at the test set).
  std::string production;
  NEMESYST_RETURN_IF_ERROR(steps.Run("promote to production", [&]() -> Status {
    double best = std::numeric_limits<double>::infinity();
    uint32_t version = 0;
    for (const std::string name : {"lstm", "rnn", "gan_lstm"}) {
      NEMESYST_ASSIGN_OR_RETURN(ModelInfo info, store->GetModelInfo(name, trained[name].candidate));
      auto it = info.metadata.metrics.find("val_mae_s");
      if (it != info.metadata.metrics.end() && it->second < best) {
        best = it->second;
        production = name;
        version = info.version;
      }
    }
    if (production.empty()) return Status::Internal("no model has a validation MAE");
    report.fleet["production"] = production + "@" + std::to_string(version);
    return store->SetAlias(production, "production", version);
  }));

  // 4b. The fleet form: the production model deployed to every store while their feeds run — a
  // hot swap under live readings, with predict requests sent throughout.
  bool swap_lost_nothing = true;
  if (as_fleet) {
    NEMESYST_RETURN_IF_ERROR(
        steps.Run("fleet: deploy production (hot swap under the feed)", [&]() -> Status {
          NEMESYST_ASSIGN_OR_RETURN(ResolvedModel m,
                                    store->ResolveModel(production + ":production"));
          NEMESYST_ASSIGN_OR_RETURN(std::string blob, store->ReadModelBlob(m.name, m.version));
          NEMESYST_ASSIGN_OR_RETURN(ModelInfo info, store->GetModelInfo(m.name, m.version));
          NEMESYST_ASSIGN_OR_RETURN(uint32_t served, fleet->PublishServed(blob, info.metadata));
          const std::string& probed = test_stores.front();
          std::string device;
          for (const CaseInfo& c : sim->cases()) {
            if (device.empty() && c.device.rfind(probed + "/", 0) == 0) device = c.device;
          }
          SwapProbe probe(fleet->predict_endpoint(probed), device);
          std::this_thread::sleep_for(std::chrono::milliseconds(200));  // steady requests first
          const auto t0 = Clock::now();
          NEMESYST_ASSIGN_OR_RETURN(
              nlohmann::json deployed,
              fleet->Control(
                  {{"op", "deploy"}, {"model", fleet->served_model()}, {"version", served}},
                  120000));
          const double swap_s = SecondsSince(t0);
          std::this_thread::sleep_for(std::chrono::milliseconds(200));  // and after
          const SwapProbeReport probed_report = probe.Stop();
          NEMESYST_RETURN_IF_ERROR(fleet
                                       ->Control({{"op", "promote"},
                                                  {"model", fleet->served_model()},
                                                  {"alias", "production"},
                                                  {"version", served}},
                                                 30000)
                                       .status());
          NEMESYST_ASSIGN_OR_RETURN(LiveFeedReport fed, live->Finish(120000));
          live.reset();
          swap_lost_nothing = probed_report.failed == 0 && probed_report.requests > 0;
          std::string by_model;
          for (const auto& [model, n] : probed_report.answered_by_model) {
            by_model += (by_model.empty() ? "" : ", ") + std::to_string(n) + " by " + model;
          }
          std::string published;
          for (const auto& [model, n] : fed.predictions_by_model) {
            published += (published.empty() ? "" : ", ") + std::to_string(n) + " by " + model;
          }
          report.deployment.emplace_back(
              "hot swap", m.name + "@" + std::to_string(m.version) + " deployed as " +
                              fleet->served_model() + "@" + std::to_string(served) + " to " +
                              std::to_string(deployed["serving"].size()) +
                              " stores, each verifying, building, warming and swapping it: " +
                              Fixed(swap_s, 2) + " s until all reported it");
          report.deployment.emplace_back("predict requests during the swap (" + probed + ")",
                                         std::to_string(probed_report.requests) + " sent, " +
                                             std::to_string(probed_report.failed) +
                                             " failed; answered " + by_model + "; p50 " +
                                             Fixed(probed_report.p50_ms, 2) + " ms, p99 " +
                                             Fixed(probed_report.p99_ms, 2) + " ms");
          report.deployment.emplace_back(
              "live feed",
              std::to_string(fed.readings) + " readings in " + std::to_string(fed.instants) +
                  " instants (the last " + Fixed(o.live_hours, 1) +
                  " h of data), appended instant by instant to "
                  "every store; " +
                  std::to_string(fed.predictions) + " predictions published (" + published + ")");
          report.deployment.emplace_back(
              "reading appended → prediction received (every store, subscriber on loopback)",
              "p50 " + Fixed(fed.p50_ms, 2) + " ms, p99 " + Fixed(fed.p99_ms, 2) + " ms, max " +
                  Fixed(fed.max_ms, 2) + " ms");
          return Status::OK();
        }));
  }

  // 5. Streaming prediction over the held-out stores.
  double streaming_max_diff_s = 0;
  size_t streaming_compared = 0;
  NEMESYST_RETURN_IF_ERROR(steps.Run("streaming prediction", [&]() -> Status {
    NEMESYST_ASSIGN_OR_RETURN(LoadedModel m, LoadModelForPrediction(*store, production));
    std::vector<double> truth, predicted;
    std::vector<std::string> device;
    std::vector<PredictionRow> first;
    std::vector<double> lower, lower_truth;
    std::vector<std::string> lower_type;
    PredictJobResult pr;
    NEMESYST_RETURN_IF_ERROR(PredictRecords(
        m, held_out.records, true,
        [&](const PredictionRow& r) {
          if (r.label_s) {
            truth.push_back(*r.label_s);
            predicted.push_back(r.prediction_s);
            device.push_back(r.device);
            if (r.lower_s) {
              lower.push_back(*r.lower_s);
              lower_truth.push_back(*r.label_s);
              lower_type.push_back(held_out.case_types.at(r.device));
            }
          }
          return Status::OK();
        },
        &pr, &first));
    // Where a streaming prediction and a windowed one cover the same window they must agree.
    std::map<std::pair<std::string, int64_t>, double> windowed;
    PredictJobResult wr;
    NEMESYST_RETURN_IF_ERROR(PredictRecords(
        m, held_out.records, false,
        [&](const PredictionRow& r) {
          windowed[{r.device, r.timestamp_us}] = r.prediction_s;
          return Status::OK();
        },
        &wr));
    for (const PredictionRow& r : first) {
      auto it = windowed.find({r.device, r.timestamp_us});
      if (it == windowed.end()) continue;
      streaming_max_diff_s = std::max(streaming_max_diff_s, std::fabs(it->second - r.prediction_s));
      ++streaming_compared;
    }
    EvaluatedPredictor s;
    s.name = production + " (streaming)";
    s.version = m.ref;
    NEMESYST_RETURN_IF_ERROR(FillErrors(device, truth, predicted, held_out.case_types, &s));
    s.infer_us_per_case_step = pr.case_steps > 0 ? pr.model_seconds * 1e6 / pr.case_steps : 0;
    s.truth_s.clear();
    s.predicted_s.clear();
    report.streaming.push_back(std::move(s));
    report.lower_coverage = CoverageOf(m, lower, lower_truth, lower_type);
    report.lower_coverage.calibration_stores = o.validation_stores;
    report.lower_coverage.test_stores = o.test_stores;
    report.fleet["streaming_predictions"] = std::to_string(truth.size());
    return Status::OK();
  }));

  // 6. Dispatch replay at the last instant of the data.
  NEMESYST_RETURN_IF_ERROR(steps.Run("dispatch replay", [&]() -> Status {
    int64_t event_us = 0;
    for (const auto& [d, s] : held_out.readings.devices) {
      event_us = std::max(event_us, s.times_us.back());
    }
    NEMESYST_ASSIGN_OR_RETURN(LoadedModel m, LoadModelForPrediction(*store, production));
    // The margin covers the model's own validation over-prediction (p99), never less than asked.
    NEMESYST_ASSIGN_OR_RETURN(double margin_s,
                              DispatchMarginFor(*store, production, o.dispatch_margin_s));
    NEMESYST_ASSIGN_OR_RETURN(std::vector<PredictionRow> latest,
                              PredictAt(m, held_out.records, event_us));
    // What a dispatcher knows of each case's load: its readings of the last two hours.
    std::vector<DispatchCandidate> candidates;
    for (const PredictionRow& p : latest) {
      const DeviceSeries& s = held_out.readings.devices.at(p.device);
      candidates.push_back(
          {p.device, p.prediction_s,
           SheddableKw(held_out.readings, s, event_us - 7200LL * 1000000, event_us)});
    }
    // A request the held-out stores can meet: a fraction of what the cases that truly can stay
    // off for the event (the simulator's oracle) would shed.
    std::vector<int> indices;
    for (const auto& c : candidates) {
      NEMESYST_ASSIGN_OR_RETURN(int index, CaseIndexOf(*sim, c.device));
      indices.push_back(index);
    }
    NEMESYST_ASSIGN_OR_RETURN(auto truth,
                              sim->ReplayShedding(indices, event_us, o.dispatch_duration_s));
    double meetable_kw = 0;
    for (const SheddingOutcome& t : truth) {
      if (t.safe_off_s >= o.dispatch_duration_s + margin_s && !t.crossed_limit) {
        meetable_kw += std::max(0.0, t.shed_kw);
      }
    }
    if (!(meetable_kw > 0)) {
      return Status::FailedPrecondition("no held-out case could shed power for the event");
    }
    DispatchRequest request{o.request_fraction * meetable_kw, o.dispatch_duration_s, margin_s};
    DispatchPlan plan;
    if (as_fleet) {
      // Through the hub's control plane: each held-out store plans from its own live predictions.
      NEMESYST_ASSIGN_OR_RETURN(plan, DispatchThroughHub(*fleet, request, test_stores, &report));
    } else {
      NEMESYST_ASSIGN_OR_RETURN(plan, SelectCasesToShed(request, candidates));
    }
    NEMESYST_ASSIGN_OR_RETURN(DispatchReplay replay, ReplayDispatch(*sim, plan, event_us, {10}));
    report.dispatch = replay.summary;
    report.fleet["dispatch_meetable_kw"] = Fixed(meetable_kw, 2);
    return Status::OK();
  }));
  NEMESYST_RETURN_IF_ERROR(steps.Run("grid services (rotating dispatch)", [&]() -> Status {
    NEMESYST_ASSIGN_OR_RETURN(LoadedModel m, LoadModelForPrediction(*store, production));
    std::vector<int> held_out_cases;
    for (const auto& [device, series] : held_out.readings.devices) {
      NEMESYST_ASSIGN_OR_RETURN(int index, CaseIndexOf(*sim, device));
      held_out_cases.push_back(index);
    }
    return RunDemoGridServices(m, *sim, held_out_cases, o, &report);
  }));
  if (as_fleet) {
    NEMESYST_RETURN_IF_ERROR(steps.Run("fleet: stop nodes", [&]() -> Status {
      fleet.reset();  // SIGTERM: each node stops cleanly
      return Status::OK();
    }));
  }

  // 7. Targets and report.
  const EvaluatedPredictor* best_model = BestByMae(report.models);
  const EvaluatedPredictor* best_baseline = BestByMae(report.baselines);
  const double reduction = (best_model && best_baseline && best_baseline->overall.mae_s > 0)
                               ? 1.0 - best_model->overall.mae_s / best_baseline->overall.mae_s
                               : 0.0;
  report.targets.push_back(
      {"best model MAE ≥ " + Fixed(100 * o.target_mae_reduction, 0) +
           " % below the best baseline (held-out stores)",
       reduction >= o.target_mae_reduction,
       (best_model ? best_model->name + " " + Fixed(best_model->overall.mae_s, 1) + " s" : "") +
           " vs " +
           (best_baseline
                ? best_baseline->name + " " + Fixed(best_baseline->overall.mae_s, 1) + " s"
                : "") +
           ": " + Fixed(100 * reduction, 1) + " % lower"});
  const DispatchReplaySummary& d = report.dispatch;
  report.targets.push_back({"dispatch replay: zero temperature-limit violations", d.violations == 0,
                            std::to_string(d.violations) + " violation(s)"});
  AddGridTargets(o, &report);
  report.targets.push_back({"streaming prediction equals windowed (full window after a restart)",
                            streaming_compared > 0 && streaming_max_diff_s <= 0.5,
                            "max abs difference " + Fixed(streaming_max_diff_s, 4) + " s over " +
                                std::to_string(streaming_compared) + " windows"});
  if (as_fleet) {
    report.targets.push_back({"fleet: hot swap under live feeds, no predict request failed",
                              swap_lost_nothing, "see \"predict requests during the swap\""});
  }
  report.elapsed_seconds = SecondsSince(t_start);
  report.targets.push_back({"finished in under " + Fixed(o.target_seconds / 60, 0) + " minutes",
                            report.elapsed_seconds < o.target_seconds,
                            Fixed(report.elapsed_seconds, 1) + " s"});
  result.report_dir = (fs::path(o.dir) / "report").string();
  NEMESYST_RETURN_IF_ERROR(WriteReport(report, result.report_dir));
  result.passed = true;
  for (const TargetCheck& t : report.targets) result.passed = result.passed && t.passed;
  log->Log(result.passed ? LogLevel::kInfo : LogLevel::kError, "refrigeration.demo",
           result.passed ? "demo passed every target" : "demo missed a target",
           {{"report", result.report_dir}});
  return result;
}

}  // namespace nemesyst::refrigeration
