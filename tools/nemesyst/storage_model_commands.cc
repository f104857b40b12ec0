// `nemesyst model list|show|export|import|import-onnx|export-onnx|alias|retire`: the model registry
// from the command line.
// A model is named NAME@VERSION, NAME:ALIAS, NAME (production, else candidate) or NAME with
// --best METRIC (nodes/model_ref.h).
#include <iostream>

#include "nemesyst/onnx.h"
#include "nemesyst/predict_job.h"
#include "nemesyst/store_json.h"
#include "tools/nemesyst/storage_cli.h"

namespace nemesyst::cli {
namespace {

// Options shared by show and export to pick a version.
struct RefArgs {
  std::string ref;
  std::string best;
  bool higher = false;
};

void AddRefOptions(CLI::App* cmd, RefArgs& args) {
  cmd->add_option(
         "model", args.ref,
         "NAME@VERSION, NAME:ALIAS, NAME (production, else candidate), or NAME with --best")
      ->required();
  cmd->add_option("--best", args.best, "Pick the non-retired version best by this final metric");
  cmd->add_flag("--higher-is-better", args.higher,
                "With --best: higher values are better (default: lower, like a loss)");
}

void AddList(CLI::App& model, CliContext& ctx) {
  CLI::App* cmd = model.add_subcommand("list", "Models and their versions");
  struct Args {
    std::string name;
    bool all = false, json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("name", args->name, "One model (default: every model)");
  cmd->add_flag("--all", args->all, "Include retired versions");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kRead));
      std::vector<std::string> names;
      if (args->name.empty()) {
        NEMESYST_ASSIGN_OR_RETURN(names, store->ListModelNames());
      } else {
        names.push_back(args->name);
      }
      nlohmann::json all = nlohmann::json::array();
      for (const std::string& name : names) {
        NEMESYST_ASSIGN_OR_RETURN(auto versions, store->ListModelVersions(name, args->all));
        for (const ModelInfo& info : versions) {
          if (args->json) {
            nlohmann::json j = ToJson(info);
            j["metrics"] = info.metadata.metrics;
            j["kind"] = info.metadata.kind;
            j.erase("metadata");
            all.push_back(std::move(j));
            continue;
          }
          std::cout << info.name << "@" << info.version << "\t" << info.metadata.kind << "\t"
                    << info.blob_bytes << " bytes";
          for (const auto& [metric, value] : info.metadata.metrics) {
            std::cout << "\t" << metric << "=" << value;
          }
          for (const std::string& alias : info.aliases) std::cout << "\t@" << alias;
          if (info.retired) std::cout << "\t(retired)";
          std::cout << "\n";
        }
      }
      if (args->json) std::cout << all.dump() << "\n";
      return Status::OK();
    };
  });
}

void AddShow(CLI::App& model, CliContext& ctx) {
  CLI::App* cmd = model.add_subcommand("show", "Metadata, metrics and lineage of one version");
  struct Args {
    RefArgs ref;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  AddRefOptions(cmd, args->ref);
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kRead));
      NEMESYST_ASSIGN_OR_RETURN(
          ResolvedModel ref,
          ResolveModelArgument(*store, args->ref.ref, args->ref.best, args->ref.higher));
      NEMESYST_ASSIGN_OR_RETURN(ModelInfo info, store->GetModelInfo(ref.name, ref.version));
      nlohmann::json j = ToJson(info);
      std::cout << (args->json ? j.dump() : j.dump(2)) << "\n";
      return Status::OK();
    };
  });
}

void AddExport(CLI::App& model, CliContext& ctx) {
  CLI::App* cmd = model.add_subcommand(
      "export", "Write a version's blob (checksums verified) and optionally its metadata");
  struct Args {
    RefArgs ref;
    std::string out, metadata;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  AddRefOptions(cmd, args->ref);
  cmd->add_option("-o,--out", args->out, "Blob file (default: stdout)");
  cmd->add_option("--metadata", args->metadata, "Also write the metadata JSON here");
  cmd->add_flag("--json", args->json, "Print what was exported as JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kRead));
      NEMESYST_ASSIGN_OR_RETURN(
          ResolvedModel ref,
          ResolveModelArgument(*store, args->ref.ref, args->ref.best, args->ref.higher));
      NEMESYST_ASSIGN_OR_RETURN(ModelInfo info, store->GetModelInfo(ref.name, ref.version));
      NEMESYST_ASSIGN_OR_RETURN(std::string blob, store->ReadModelBlob(ref.name, ref.version));
      NEMESYST_RETURN_IF_ERROR(WriteOutput(args->out, blob));
      if (!args->metadata.empty()) {
        NEMESYST_RETURN_IF_ERROR(
            WriteOutput(args->metadata,
                        nlohmann::json::parse(ModelMetadataToJson(info.metadata)).dump(2) + "\n"));
      }
      if (!args->out.empty() && args->out != "-") {
        if (args->json) {
          std::cout << nlohmann::json{{"name", ref.name},
                                      {"version", ref.version},
                                      {"bytes", blob.size()},
                                      {"out", args->out}}
                           .dump()
                    << "\n";
        } else {
          std::cout << "exported " << ref.name << "@" << ref.version << " (" << blob.size()
                    << " bytes) to " << args->out << "\n";
        }
      }
      return Status::OK();
    };
  });
}

void AddImport(CLI::App& model, CliContext& ctx) {
  CLI::App* cmd = model.add_subcommand(
      "import",
      "Register a model file as a new version, after checking the whole file and the metadata "
      "predict needs (nothing is written when it fails)");
  struct Args {
    std::string name, blob, metadata, connect;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("name", args->name, "Model name")->required();
  cmd->add_option("--blob", args->blob, "The model file")->required();
  cmd->add_option("--metadata", args->metadata,
                  "Metadata JSON: {kind, hyper_parameters, metrics, epoch_metrics, lineage}");
  cmd->add_option("--connect", args->connect,
                  "A running hub's client endpoint: import through it (it owns the registry)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      if (args->blob == "-") return Status::InvalidArgument("--blob must be a file");
      NEMESYST_ASSIGN_OR_RETURN(std::string blob, ReadInput(args->blob));
      ModelMetadata metadata;
      if (!args->metadata.empty()) {
        NEMESYST_ASSIGN_OR_RETURN(std::string text, ReadInput(args->metadata));
        Result<ModelMetadata> parsed = ModelMetadataFromJson(text);
        if (!parsed.ok()) return parsed.status().WithContext(args->metadata);
        metadata = std::move(*parsed);
      }
      uint32_t version = 0;
      if (!args->connect.empty()) {
        nlohmann::json request = {{"op", "import_model"}, {"name", args->name}};
        if (!args->metadata.empty()) {
          request["metadata"] = nlohmann::json::parse(ModelMetadataToJson(metadata));
        }
        NEMESYST_ASSIGN_OR_RETURN(nlohmann::json reply,
                                  NodeJsonRequest(args->connect, request.dump(), blob));
        version = reply.value("version", 0u);
      } else {
        if (metadata.lineage.node_id.empty())
          metadata.lineage.node_id = ctx.config.GetString("node.id");
        NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kWrite));
        NEMESYST_ASSIGN_OR_RETURN(version,
                                  ImportModel(*store, args->name, blob, std::move(metadata)));
      }
      if (args->json) {
        std::cout << nlohmann::json{{"name", args->name},
                                    {"version", version},
                                    {"bytes", blob.size()}}
                         .dump()
                  << "\n";
      } else {
        std::cout << "imported " << args->name << "@" << version << " (" << blob.size()
                  << " bytes)\n";
      }
      return Status::OK();
    };
  });
}

void AddImportOnnx(CLI::App& model, CliContext& ctx) {
  CLI::App* cmd = model.add_subcommand(
      "import-onnx",
      "Register an ONNX model (LSTM/GRU/RNN layers + dense head, docs/onnx.md) as a new version, "
      "with the pipeline predict applies (nothing is written when anything is refused)");
  struct Args {
    std::string file, name, pipeline, from_model, stream;
    int steps = 0;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("file", args->file, "The .onnx file")->required();
  cmd->add_option("--name", args->name, "Model name")->required();
  cmd->add_option("--pipeline", args->pipeline,
                  "Pipeline spec (TOML/JSON) fitted on the stream as `train` fits it");
  cmd->add_option("--from-model", args->from_model,
                  "Reuse this version's resolved pipeline (NAME@VERSION, NAME:ALIAS, NAME)");
  cmd->add_option("--stream", args->stream, "With --pipeline: the stream (default: the spec's)");
  cmd->add_option("--steps", args->steps,
                  "Window length to record when the graph's time dimension is symbolic");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(std::string bytes, ReadInput(args->file));
      OnnxRegisterOptions o;
      o.name = args->name;
      o.source_path = args->file;
      o.from_model = args->from_model;
      o.stream = args->stream;
      o.steps = args->steps;
      o.node_id = ctx.config.GetString("node.id");
      if (!args->pipeline.empty()) {
        NEMESYST_ASSIGN_OR_RETURN(o.pipeline_text, ReadInput(args->pipeline));
      }
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kWrite));
      NEMESYST_ASSIGN_OR_RETURN(OnnxRegisterResult r, ImportOnnxModel(*store, bytes, o));
      if (args->json) {
        std::cout << nlohmann::json{{"name", args->name},
                                    {"version", r.version},
                                    {"spec", nlohmann::json::parse(r.imported.spec_json)},
                                    {"opset", r.imported.opset},
                                    {"producer", r.imported.producer},
                                    {"graph", r.imported.graph_summary},
                                    {"pipeline_from", r.pipeline_from}}
                         .dump()
                  << "\n";
      } else {
        std::cout << "imported " << args->file << " as " << args->name << "@" << r.version
                  << " (opset " << r.imported.opset << ", " << r.imported.graph_summary
                  << "; pipeline from " << r.pipeline_from << ")\n";
      }
      return Status::OK();
    };
  });
}

void AddExportOnnx(CLI::App& model, CliContext& ctx) {
  CLI::App* cmd = model.add_subcommand(
      "export-onnx",
      "Write a version as standard ONNX (opset 14; docs/onnx.md) that ONNX Runtime "
      "runs unchanged, carrying its pipeline as metadata");
  struct Args {
    RefArgs ref;
    std::string out;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  AddRefOptions(cmd, args->ref);
  cmd->add_option("-o,--out", args->out, "The .onnx file to write")->required();
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kRead));
      NEMESYST_ASSIGN_OR_RETURN(
          ResolvedModel ref,
          ResolveModelArgument(*store, args->ref.ref, args->ref.best, args->ref.higher));
      NEMESYST_ASSIGN_OR_RETURN(std::string onnx, ExportOnnxModel(*store, ref.ToString()));
      NEMESYST_RETURN_IF_ERROR(WriteOutput(args->out, onnx));
      if (args->json) {
        std::cout << nlohmann::json{{"name", ref.name},
                                    {"version", ref.version},
                                    {"bytes", onnx.size()},
                                    {"opset", kOnnxExportOpset},
                                    {"out", args->out}}
                         .dump()
                  << "\n";
      } else {
        std::cout << "exported " << ref.ToString() << " as ONNX opset " << kOnnxExportOpset << " ("
                  << onnx.size() << " bytes) to " << args->out << "\n";
      }
      return Status::OK();
    };
  });
}

void AddAlias(CLI::App& model, CliContext& ctx) {
  CLI::App* cmd = model.add_subcommand("alias", "Point an alias at a version (or --remove it)");
  struct Args {
    std::string name, alias, connect;
    uint32_t version = 0;
    bool remove = false, json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("name", args->name, "Model name")->required();
  cmd->add_option("alias", args->alias, "Alias (production, candidate, ...)")->required();
  cmd->add_option("version", args->version, "Version to point at");
  cmd->add_flag("--remove", args->remove, "Remove the alias");
  cmd->add_option("--connect", args->connect,
                  "A running hub's client endpoint: change the alias through it (it is "
                  "replicated to every store, whose serving swaps to the version)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      if (!args->remove && args->version == 0) {
        return Status::InvalidArgument("give a VERSION, or --remove");
      }
      if (!args->connect.empty()) {
        nlohmann::json request = {{"op", "alias"}, {"name", args->name}, {"alias", args->alias}};
        if (args->remove) {
          request["remove"] = true;
        } else {
          request["version"] = args->version;
        }
        NEMESYST_RETURN_IF_ERROR(NodeJsonRequest(args->connect, request.dump(), "").status());
      } else {
        NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kWrite));
        NEMESYST_RETURN_IF_ERROR(args->remove
                                     ? store->RemoveAlias(args->name, args->alias)
                                     : store->SetAlias(args->name, args->alias, args->version));
      }
      if (args->json) {
        std::cout << nlohmann::json{{"name", args->name},
                                    {"alias", args->alias},
                                    {"version", args->remove ? nlohmann::json()
                                                             : nlohmann::json(args->version)}}
                         .dump()
                  << "\n";
      } else if (args->remove) {
        std::cout << "removed alias " << args->name << "@" << args->alias << "\n";
      } else {
        std::cout << args->name << "@" << args->alias << " -> " << args->version << "\n";
      }
      return Status::OK();
    };
  });
}

void AddRetire(CLI::App& model, CliContext& ctx) {
  CLI::App* cmd = model.add_subcommand("retire", "Retire a version (kept for lineage)");
  struct Args {
    std::string ref;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("model", args->ref, "NAME@VERSION")->required();
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kWrite));
      NEMESYST_ASSIGN_OR_RETURN(ResolvedModel ref,
                                ResolveModelArgument(*store, args->ref, "", false));
      NEMESYST_RETURN_IF_ERROR(store->RetireModel(ref.name, ref.version));
      if (args->json) {
        std::cout << nlohmann::json{{"name", ref.name}, {"version", ref.version}, {"retired", true}}
                         .dump()
                  << "\n";
      } else {
        std::cout << "retired " << ref.name << "@" << ref.version << "\n";
      }
      return Status::OK();
    };
  });
}

}  // namespace

void AddModelCommands(CLI::App& app, CliContext& ctx) {
  CLI::App* model = app.add_subcommand("model", "The model registry: versions, aliases, lineage");
  model->require_subcommand(1);
  AddList(*model, ctx);
  AddShow(*model, ctx);
  AddExport(*model, ctx);
  AddImport(*model, ctx);
  AddImportOnnx(*model, ctx);
  AddExportOnnx(*model, ctx);
  AddAlias(*model, ctx);
  AddRetire(*model, ctx);
}

}  // namespace nemesyst::cli
