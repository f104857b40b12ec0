#include "nodes/hub_control.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "nemesyst/pipeline.h"
#include "nemesyst/store_json.h"
#include "nemesyst/train_job.h"
#include "nodes/request_fields.h"

namespace nemesyst::nodes {
namespace {

namespace fs = std::filesystem;

Result<nlohmann::json> Promote(Store& registry, const nlohmann::json& j) {
  NEMESYST_ASSIGN_OR_RETURN(std::string model, StringField(j, "model", nullptr));
  NEMESYST_ASSIGN_OR_RETURN(std::string alias, StringField(j, "alias", "production"));
  NEMESYST_ASSIGN_OR_RETURN(uint32_t version, IntField<uint32_t>(j, "version", 0, 1, UINT32_MAX));
  if (version == 0) return Status::InvalidArgument("promote: needs \"version\"");
  NEMESYST_RETURN_IF_ERROR(registry.GetModelInfo(model, version).status());
  NEMESYST_RETURN_IF_ERROR(registry.SetAlias(model, alias, version));
  return nlohmann::json{{"model", model},
                        {"alias", alias},
                        {"version", version},
                        {"position", registry.LastChangePosition()}};
}

Result<nlohmann::json> Deploy(const HubControlContext& c, const nlohmann::json& j,
                              ControlOp::Clock::time_point deadline) {
  NEMESYST_ASSIGN_OR_RETURN(std::string model, StringField(j, "model", nullptr));
  NEMESYST_ASSIGN_OR_RETURN(uint32_t version,
                            IntField<uint32_t>(j, "version", UINT32_MAX, 0, UINT32_MAX - 1));
  if (version == UINT32_MAX) return Status::InvalidArgument("needs \"version\" (0 = undeploy)");
  if (version > 0) NEMESYST_RETURN_IF_ERROR(c.registry->GetModelInfo(model, version).status());
  NEMESYST_ASSIGN_OR_RETURN(std::vector<std::string> stores, StoreListField(j));
  if (stores.empty()) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(c.state_dir / "replicas", ec)) {
      if (e.is_directory() && e.path().extension().empty()) {
        stores.push_back(e.path().filename().string());
      }
    }
    std::sort(stores.begin(), stores.end());
    if (stores.empty()) return Status::FailedPrecondition("no store has ever joined this hub");
  }
  for (const std::string& id : stores) {
    const std::string alias = "deploy." + id;
    Status s = version > 0 ? c.registry->SetAlias(model, alias, version)
                           : c.registry->RemoveAlias(model, alias);
    if (!s.ok() && !(version == 0 && s.code() == StatusCode::kNotFound)) {
      return s.WithContext("store '" + id + "'");
    }
  }
  if (version == 0) return nlohmann::json{{"model", model}, {"undeployed", stores}};
  // Each store reports what it serves every heartbeat: wait for them all, or the deadline.
  const std::string want = model + "@" + std::to_string(version);
  std::vector<std::string> pending = stores;
  while (true) {
    const std::map<std::string, std::string> served = c.served();
    std::erase_if(pending, [&](const std::string& id) {
      auto it = served.find(id);
      return it != served.end() && it->second == want;
    });
    if (pending.empty() || ControlOp::Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  nlohmann::json confirmed = nlohmann::json::array();
  for (const std::string& id : stores) {
    if (std::find(pending.begin(), pending.end(), id) == pending.end()) confirmed.push_back(id);
  }
  nlohmann::json reply = {{"model", want}, {"serving", confirmed}, {"pending", pending}};
  if (!pending.empty()) {
    reply["ok"] = false;
    reply["code"] = "deadline_exceeded";
    reply["error"] = std::to_string(pending.size()) + " of " + std::to_string(stores.size()) +
                     " stores did not report serving " + want +
                     " before the deadline; each takes it when it returns (the deployment is "
                     "in the registry)";
  }
  return reply;
}

Result<nlohmann::json> Train(const HubControlContext& c, const nlohmann::json& j,
                             ControlOp::Clock::time_point deadline) {
  TrainJobOptions t;
  NEMESYST_ASSIGN_OR_RETURN(t.model_name, StringField(j, "name", nullptr));
  NEMESYST_ASSIGN_OR_RETURN(t.pipeline_text, StringField(j, "pipeline", nullptr));
  NEMESYST_ASSIGN_OR_RETURN(t.model_spec_json, StringField(j, "spec", nullptr));
  NEMESYST_ASSIGN_OR_RETURN(t.stream, StringField(j, "stream", ""));
  NEMESYST_ASSIGN_OR_RETURN(t.group, StringField(j, "group", ""));
  NEMESYST_ASSIGN_OR_RETURN(t.learners, IntField<int>(j, "learners", 1, 1, 64));
  NEMESYST_ASSIGN_OR_RETURN(t.trainer.epochs,
                            IntField<int>(j, "epochs", t.trainer.epochs, 1, 10000));
  NEMESYST_ASSIGN_OR_RETURN(t.trainer.batch_size,
                            IntField<int>(j, "batch_size", t.trainer.batch_size, 1, 1 << 20));
  NEMESYST_ASSIGN_OR_RETURN(t.trainer.seed,
                            IntField<uint64_t>(j, "seed", t.trainer.seed, 0, UINT64_MAX));
  NEMESYST_ASSIGN_OR_RETURN(
      t.records_per_claim,
      IntField<uint32_t>(j, "records_per_claim", t.records_per_claim, 1, 1u << 24));
  NEMESYST_ASSIGN_OR_RETURN(t.augment_gan, StringField(j, "augment_gan", ""));
  NEMESYST_ASSIGN_OR_RETURN(t.code_version, StringField(j, "code_version", ""));
  NEMESYST_ASSIGN_OR_RETURN(t.trainer.learning_rate,
                            NumberField(j, "learning_rate", t.trainer.learning_rate, 1e-9, 10.0));
  NEMESYST_ASSIGN_OR_RETURN(t.fit_hours, NumberField(j, "fit_hours", t.fit_hours, 1e-3, 1e6));
  NEMESYST_ASSIGN_OR_RETURN(t.augment_fraction,
                            NumberField(j, "augment_fraction", t.augment_fraction, 0.0, 100.0));
  // The calibrated lower bound (nemesyst/lower_bound.h): risk 0 = none.
  NEMESYST_ASSIGN_OR_RETURN(t.lower_risk, NumberField(j, "lower_risk", t.lower_risk, 0.0, 0.5));
  NEMESYST_ASSIGN_OR_RETURN(t.lower_group_field, StringField(j, "lower_group", ""));
  if (t.stream.empty()) {
    NEMESYST_ASSIGN_OR_RETURN(t.stream, Pipeline::StreamNamedBy(t.pipeline_text));
    if (t.stream.empty()) {
      return Status::InvalidArgument("train: the pipeline names no stream; give \"stream\"");
    }
  }
  t.node_id = c.node_id;
  t.model = c.model_options;
  t.logger = c.logger;
  // The deadline stops the learners between steps: nothing is registered and their batches go
  // back to the group for the next train.
  t.should_stop = [deadline] { return ControlOp::Clock::now() >= deadline; };
  std::unique_ptr<Store> training;
  StoreOptions so;
  so.durability = Durability::kGroup;
  so.logger = c.logger;
  NEMESYST_RETURN_IF_ERROR(Store::Open(so, (c.state_dir / "training").string(), &training));
  NEMESYST_ASSIGN_OR_RETURN(uint64_t gathered,
                            GatherReplicatedStream(c.state_dir / "replicas", t.stream, *training));
  const auto started = ControlOp::Clock::now();
  Result<TrainJobResult> trained = RunTrainJob(*training, t);
  if (!trained.ok() && ControlOp::Clock::now() >= deadline) {
    return Status::DeadlineExceeded(
        "the deadline passed after " +
        std::to_string(std::chrono::duration<double>(ControlOp::Clock::now() - started).count()) +
        " s of training: the learners stopped, nothing was registered (" +
        std::string(trained.status().message()) + ")");
  }
  NEMESYST_ASSIGN_OR_RETURN(TrainJobResult result, std::move(trained));
  // The candidate goes into the hub's registry (replicated to every store), its lineage with it.
  NEMESYST_ASSIGN_OR_RETURN(std::string blob,
                            training->ReadModelBlob(t.model_name, result.candidate));
  NEMESYST_ASSIGN_OR_RETURN(ModelInfo info, training->GetModelInfo(t.model_name, result.candidate));
  info.metadata.hyper_parameters["trained_on"] = "hub training store (replicated streams)";
  NEMESYST_ASSIGN_OR_RETURN(uint32_t version,
                            c.registry->PutModel(t.model_name, blob, info.metadata));
  NEMESYST_RETURN_IF_ERROR(c.registry->SetAlias(t.model_name, "candidate", version));
  nlohmann::json learners = nlohmann::json::array();
  for (const LearnerVersion& l : result.learners) {
    nlohmann::json epochs = nlohmann::json::array();  // validation loss per epoch (-1: none)
    for (const TrainEpochMetrics& e : l.epochs) {
      epochs.push_back(std::isfinite(e.validation_loss) ? e.validation_loss : -1.0);
    }
    learners.push_back({{"learner", l.learner},
                        {"version", l.version},
                        {"candidate", l.version == result.candidate},
                        {"windows", l.windows},
                        {"val_mae_s", std::isfinite(l.val_mae_s) ? l.val_mae_s : -1.0},
                        {"validation_loss", epochs},
                        {"seconds", l.train_seconds}});
  }
  return nlohmann::json{{"model", t.model_name + "@" + std::to_string(version)},
                        {"alias", "candidate"},
                        {"gathered_records", gathered},
                        {"learners", learners},
                        {"seconds", result.seconds}};
}

}  // namespace

Result<uint64_t> GatherReplicatedStream(const fs::path& replicas_dir, const std::string& stream,
                                        Store& training) {
  std::error_code ec;
  std::vector<fs::path> replicas;
  for (const auto& entry : fs::directory_iterator(replicas_dir, ec)) {
    // <id>.partial / <id>.incoming are transfers under way, not replicas.
    if (entry.is_directory() && entry.path().extension().empty()) replicas.push_back(entry.path());
  }
  std::sort(replicas.begin(), replicas.end());
  uint64_t gathered = 0;
  for (const fs::path& path : replicas) {
    const std::string id = path.filename().string();
    StoreOptions ro;
    ro.read_only = true;
    std::unique_ptr<Store> replica;
    NEMESYST_RETURN_IF_ERROR(Store::Open(ro, path.string(), &replica).WithContext("replica " + id));
    Result<StreamSchema> schema = replica->GetSchema(stream);
    if (schema.status().code() == StatusCode::kNotFound) continue;  // that store has no such stream
    NEMESYST_RETURN_IF_ERROR(schema.status());
    Result<StreamSchema> mine = training.GetSchema(stream);
    if (mine.status().code() == StatusCode::kNotFound) {
      NEMESYST_RETURN_IF_ERROR(training.CreateStream(stream, *schema));
    } else if (!mine.ok()) {
      return mine.status();
    } else if (SchemaToJson(*mine) != SchemaToJson(*schema)) {
      return Status::FailedPrecondition("store '" + id + "' has stream '" + stream +
                                        "' with another schema than the others");
    }
    const std::string key = "gathered/" + id + "/" + stream;
    uint64_t through = 0;
    if (Result<std::string> s = training.GetNodeState(key); s.ok()) {
      through = std::strtoull(s->c_str(), nullptr, 10);
    }
    RecordQuery q;
    q.first_seq = through + 1;
    NEMESYST_ASSIGN_OR_RETURN(std::unique_ptr<RecordIterator> it, replica->Read(stream, q));
    std::vector<Record> batch;
    uint64_t last = through;
    auto flush = [&]() -> Status {
      if (batch.empty()) return Status::OK();
      NEMESYST_RETURN_IF_ERROR(training.Append(stream, batch).status());
      // Records and the position are two writes: a crash between them gathers the batch again
      // at the next train (duplicates in the training stream, never a loss).
      NEMESYST_RETURN_IF_ERROR(training.PutNodeState(key, std::to_string(last)));
      gathered += batch.size();
      batch.clear();
      return Status::OK();
    };
    for (; it->Valid(); it->Next()) {
      batch.push_back(it->record().record);
      last = it->record().seq;
      if (batch.size() == 20000) NEMESYST_RETURN_IF_ERROR(flush());
    }
    NEMESYST_RETURN_IF_ERROR(it->status());
    NEMESYST_RETURN_IF_ERROR(flush());
  }
  return gathered;
}

std::vector<ControlOp> HubControlOps(HubControlContext context) {
  auto c = std::make_shared<HubControlContext>(std::move(context));
  std::vector<ControlOp> ops;
  ops.push_back({"status",
                 {"operator", "store"},
                 /*quick=*/true,
                 [c](const ControlCaller&, const nlohmann::json&, ControlOp::Clock::time_point)
                     -> Result<nlohmann::json> { return nlohmann::json::parse(c->status()); }});
  ops.push_back({"promote",
                 {"operator"},
                 false,
                 [c](const ControlCaller& caller, const nlohmann::json& j,
                     ControlOp::Clock::time_point) -> Result<nlohmann::json> {
                   Result<nlohmann::json> r = Promote(*c->registry, j);
                   if (r.ok()) {
                     c->logger->Log(LogLevel::kInfo, "nodes.control", "promoted",
                                    {{"by", caller.role + ":" + caller.name}, {"what", r->dump()}});
                   }
                   return r.ok() ? r : Result<nlohmann::json>(r.status().WithContext("promote"));
                 }});
  ops.push_back({"deploy",
                 {"operator"},
                 false,
                 [c](const ControlCaller& caller, const nlohmann::json& j,
                     ControlOp::Clock::time_point deadline) -> Result<nlohmann::json> {
                   c->logger->Log(LogLevel::kInfo, "nodes.control", "deploying",
                                  {{"by", caller.role + ":" + caller.name}, {"what", j.dump()}});
                   Result<nlohmann::json> r = Deploy(*c, j, deadline);
                   return r.ok() ? r : Result<nlohmann::json>(r.status().WithContext("deploy"));
                 }});
  ops.push_back({"dispatch",
                 {"operator"},
                 false,
                 [c](const ControlCaller& caller, const nlohmann::json& j,
                     ControlOp::Clock::time_point deadline) -> Result<nlohmann::json> {
                   c->logger->Log(LogLevel::kInfo, "nodes.control", "dispatching",
                                  {{"by", caller.role + ":" + caller.name}, {"what", j.dump()}});
                   DispatchContext d{c->dispatch, c->wake_network, c->served(), c->node_id};
                   Result<nlohmann::json> r = RunDispatch(d, j, deadline);
                   return r.ok() ? r : Result<nlohmann::json>(r.status().WithContext("dispatch"));
                 }});
  ops.push_back({"train",
                 {"operator"},
                 false,
                 [c](const ControlCaller& caller, const nlohmann::json& j,
                     ControlOp::Clock::time_point deadline) -> Result<nlohmann::json> {
                   c->logger->Log(LogLevel::kInfo, "nodes.control", "training",
                                  {{"by", caller.role + ":" + caller.name}});
                   Result<nlohmann::json> r = Train(*c, j, deadline);
                   return r.ok() ? r : Result<nlohmann::json>(r.status().WithContext("train"));
                 }});
  return ops;
}

}  // namespace nemesyst::nodes
