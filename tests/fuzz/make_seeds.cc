// Writes the fuzzers' seed corpora (tests/fuzz/corpus/) from real messages and values: one file
// per message type or value kind, in each harness's input layout (its header comment). The text
// seeds (CSV, JSON lines, TOML, specs) are the documented examples. Crash inputs a harness found
// are added to the corpus by hand, next to these. Usage: make_fuzz_seeds <corpus dir>.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "kernels/model_file.h"
#include "nemesyst/config.h"
#include "nemesyst/ingest.h"
#include "nemesyst/model.h"
#include "nemesyst/store.h"
#include "nodes/jetstream_log.h"
#include "nodes/shed_messages.h"
#include "nodes/wire.h"
#include "storage/change_format.h"
#include "storage/group_format.h"
#include "storage/log_chunk.h"
#include "storage/log_format.h"
#include "storage/meta_format.h"
#include "storage/model_format.h"
#include "stream/pipeline_spec.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/storage_decoders.h"

using namespace nemesyst;

namespace {

void Write(const std::filesystem::path& dir, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string Encoded(const nodes::WireMessage& m) {
  std::vector<std::string> frames = {nodes::EncodeHeader(m)};
  frames.insert(frames.end(), m.payloads.begin(), m.payloads.end());
  return fuzz::JoinFrames(frames);
}

// storage_fuzzer: selector | fields | types | seq | value.
void WriteStorage(const std::filesystem::path& dir, const std::string& name, uint8_t selector,
                  const StreamSchema& schema, uint8_t seq, const std::string& value) {
  uint8_t types = 0;
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const uint8_t t = schema.fields[i].type == FieldType::kFloat64 ? 1
                      : schema.fields[i].type == FieldType::kInt32 ? 2
                                                                   : 0;
    types |= static_cast<uint8_t>(t << (2 * i));
  }
  std::string bytes = {static_cast<char>(selector), static_cast<char>(schema.fields.size()),
                       static_cast<char>(types), static_cast<char>(seq)};
  Write(dir, name, bytes + value);
}

void WriteStorageSeeds(const std::filesystem::path& dir, const std::vector<std::string>& changes) {
  using namespace storage;
  using namespace fuzz;  // the decoder numbers (storage_decoders.h)
  StreamSchema two, three, none;
  two.fields = {{"a", FieldType::kFloat32, "", std::nullopt, std::nullopt},
                {"b", FieldType::kFloat64, "", std::nullopt, std::nullopt}};
  three.fields = {{"a", FieldType::kInt32, "", std::nullopt, std::nullopt},
                  {"b", FieldType::kFloat32, "", std::nullopt, std::nullopt},
                  {"c", FieldType::kFloat64, "", std::nullopt, std::nullopt}};
  {
    ChunkBuilder b(two, 64, 3);
    b.Add({"dev-1", 1767571200000000, {1.5, -2.25}});
    b.Add({"dev-2", 1767571200000001, {0, 1e300}});
    b.Add({"dev-1", 1767571260000000, {-0.5, 3}});
    b.Finish();
    WriteStorage(dir, "chunk-3", kChunk, two, 3, b.out());
  }
  {
    ChunkBuilder b(three, 64, 1);
    b.Add({"store-0001/case-1", -5, {-7, 2.5, 0.125}});
    b.Finish();
    WriteStorage(dir, "chunk-1-int32", kChunk, three, 10, b.out());
  }
  {
    ChunkBuilder b(none, 64, 2);
    b.Add({"d", 1, {}});
    b.Add({"e", 2, {}});
    b.Finish();
    WriteStorage(dir, "chunk-no-fields", kChunk, none, 2, b.out());
  }
  std::string v1;
  EncodeRecord(three, {"dev", 42, {1, 2, 3}}, &v1);
  WriteStorage(dir, "chunk-v1-record", kChunk, three, 5, v1);
  WriteStorage(dir, "record-v1", kRecordV1, three, 5, v1);
  BatchSummary summary;
  summary.last_seq = 9;
  summary.min_timestamp_us = -1;
  summary.max_timestamp_us = 1767571200000000;
  summary.AddDevice("dev-1");
  WriteStorage(dir, "summary", kSummary, none, 0, EncodeSummary(summary));
  int n = 0;
  for (const std::string& change : changes) {
    WriteStorage(dir, "change-" + std::to_string(++n), kChange, none, 0, change);
  }
  JournalEntry e;
  e.written_us = 1767571200000000;
  e.stamp = 77;
  e.bytes = 4096;
  for (JournalKind kind : {JournalKind::kStreamDef, JournalKind::kAppend, JournalKind::kModelPut,
                           JournalKind::kModelMeta, JournalKind::kAlias}) {
    e.kind = kind;
    e.name = "feed";
    e.alias = kind == JournalKind::kAlias ? "production" : "";
    e.stream_id = StreamId("feed");
    e.first_seq = 1;
    e.last_seq = 64;
    e.version = 3;
    WriteStorage(dir, "journal-" + std::to_string(static_cast<int>(kind)), kJournal, none, 0,
                 EncodeJournalEntry(e));
  }
  JournalEntry old;  // written before the trailer existed
  old.kind = JournalKind::kAppend;
  old.first_seq = old.last_seq = 1;
  const std::string with_trailer = EncodeJournalEntry(old);
  WriteStorage(dir, "journal-no-trailer", kJournal, none, 0,
               with_trailer.substr(0, with_trailer.size() - 24));
  GroupRecord g;
  g.stream = "feed";
  g.cursor = 65;
  g.next_batch_id = 4;
  g.acked_total = 64;
  g.created_us = 1767571200000000;
  WriteStorage(dir, "group", kGroup, none, 0, EncodeGroupRecord(g));
  BatchRecord batch;
  batch.range = {1, 64};
  batch.state = BatchState::kPending;
  batch.delivery = 2;
  batch.lease_expires_ms = 1767571200000;
  batch.member = "learner-1";
  WriteStorage(dir, "batch", kBatch, none, 0, EncodeBatchRecord(batch));
  StreamDef def;
  def.schema = two;
  def.schema.fields[0].unit = "degC";
  def.schema.fields[0].min_value = -50;
  def.schema.fields[0].max_value = 50;
  def.retention.max_age_us = 86400000000;
  def.retention.max_records = 1000000;
  def.created_us = 1767571200000000;
  WriteStorage(dir, "stream-def", kStreamDef, none, 0, EncodeStreamDef(def));
  DeadLetterRow row;
  row.stream = "feed";
  row.source = "in.csv:3";
  row.reason = "cannot parse 'x' as a number for field 'a'";
  row.raw = "dev,1767571200,x";
  row.received_us = 1767571200000000;
  WriteStorage(dir, "dead-letter", kDeadLetter, none, 0, EncodeDeadLetterRow(row));
  HistoryInfo history;
  history.id = std::string(32, 'a');
  history.previous_id = std::string(32, 'b');
  history.switch_position = 12;
  WriteStorage(dir, "history", kHistory, none, 0, EncodeHistory(history));
  ModelHeader header;
  header.metadata.kind = "lstm";
  header.metadata.hyper_parameters = {{"epochs", "20"}, {"lr", "0.001"}};
  header.metadata.metrics = {{"val_loss", 0.125}};
  header.metadata.epoch_metrics = {{1, {{"train_loss", 0.5}}}, {2, {{"train_loss", 0.25}}}};
  header.metadata.lineage.stream = "feed";
  header.metadata.lineage.seq_ranges = {{1, 64}, {100, 200}};
  header.metadata.lineage.pipeline_spec = "[window]\nlength = 3\n";
  header.metadata.lineage.parent_version = 1;
  header.metadata.lineage.node_id = "store-1";
  header.metadata.lineage.code_version = "0.1.0";
  header.metadata.lineage.created_us = 1767571200000000;
  header.blob = {2500, 0x12345678, std::string(64, 'f'), 1024, 3};
  WriteStorage(dir, "model-header", kModelHeader, none, 0, EncodeModelHeader(header));
  WriteStorage(dir, "model-chunk", kModelChunk, none, 0, EncodeChunk("weights"));
}

// model_file_fuzzer: flags | file.
void WriteModelSeeds(const std::filesystem::path& dir) {
  const std::pair<const char*, const char*> specs[] = {
      {"regressor-lstm",
       R"({"kind": "regressor", "input": {"features": 2, "steps": 4},
           "recurrent": {"cell": "lstm", "hidden": [3]}, "head": {"hidden": [2]}})"},
      {"regressor-rnn-per-step",
       R"({"kind": "regressor", "input": {"features": 1, "steps": 3},
           "recurrent": {"cell": "rnn", "hidden": [2, 2]},
           "output": {"width": 2, "per_step": true}, "loss": "mae"})"},
      {"gan-lstm",
       R"({"kind": "gan", "window": {"steps": 3, "features": 1}, "noise": 2, "condition": 1,
           "generator": {"type": "lstm", "hidden": [2], "head": [2]},
           "discriminator": {"type": "rnn", "hidden": [2], "dropout": 0.5}})"},
      {"gan-dense",
       R"({"kind": "gan", "window": {"steps": 2, "features": 2}, "noise": 2,
           "generator": {"type": "dense", "hidden": [3], "output_activation": "tanh"},
           "discriminator": {"type": "dense", "hidden": [3]}})"},
  };
  for (const auto& [name, spec] : specs) {
    auto model = Model::Create(spec, 7);
    if (!model.ok()) {
      std::cerr << name << ": " << model.status().ToString() << "\n";
      std::exit(1);
    }
    Write(dir, name, std::string(1, '\0') + (*model)->Serialize({{"pipeline", "x"}}).value());
  }
  const float values[6] = {1, -2, 0.5f, 0, 3, 4};
  Write(dir, "tensors-only",
        std::string(1, '\0') +
            kernels::EncodeModelFile({{"a", "1"}, {"b", ""}},
                                     {{"w", {2, 3}, values}, {"empty", {0, 4}, values}})
                .value());
}

// ingest_fuzzer: options | batch | input (options: bits 0-1 format auto/csv/jsonl/auto-by-.csv,
// bit 2 dead-letter, bit 3 dry run, bits 4-6 timestamp format, bit 7 ignore_unknown).
void WriteIngestSeeds(const std::filesystem::path& dir) {
  const std::string header = "device,timestamp,temp,power,door,count\n";
  const std::tuple<const char*, uint8_t, uint8_t, std::string> seeds[] = {
      {"csv-iso", 0x00, 1,
       header + "d1,2026-01-05T00:00:00Z,4.5,1.25,0,7\nd1,2026-01-05T00:01:00.5Z,4.6,1.5,1,8\n"
                "d2,2026-01-05 00:00:00+01:00,-3,0.5,0,9\n"},
      {"csv-quoted-dead-letter", 0x05, 2,
       "\"device\",timestamp,temperature,power,door,count\n\"d,1\",1767571200.5,4.5,1e3,1,-2\n"
       "d2,bad,4.5,1,0,0\nd3,1767571260,99,1,0,0\n\"multi\nline\",1767571261,1,1,1,1\n"
       "d1,1767571100,1,1,1,1\nd4,1767571300,1,1,0\nd5,1767571400,1,1,0,1"},
      {"csv-ms-crlf", 0x31, 0,
       "device,timestamp,temp,power,door,count\r\nd1,1767571200000,1,2,0,3\r\n"
       "d1,1767571200001.5,1,2,1,3\r\n"},
      {"csv-ns-dry-run", 0x59, 3,
       header + "d1,1767571200000000000,1,2,0,3\nd1,1767571200000001000,1,2,1,3\n"},
      {"csv-us-by-name", 0x43, 250, header + "d1,1767571200000000,1,2,0,3\n\n"},
      {"csv-bom", 0x01, 0, "\xEF\xBB\xBF" + header + "d1,1767571200,1,2,0,3\n"},
      {"csv-reject", 0x01, 0, header + "d1,1767571200,1,2,0,3\nd1,1767571200,1,2,0,3\n"},
      {"jsonl", 0x00, 1,
       R"({"device":"d1","timestamp":"2026-01-05T00:00:00Z","temp":4.5,"power":1.0,"door":0,"count":1})"
       "\n"
       R"({"device":"d1","timestamp":1767571260,"temp":5,"power":2,"door":1,"count":2})"
       "\n"},
      {"jsonl-dead-letter-unknown", 0x86, 4,
       R"({"device":"d1","timestamp":1767571200,"temp":1,"power":1,"door":0,"count":1,"x":[1]})"
       "\n"
       R"({"device":"d2","timestamp":1767571200,"temp":1,"power":1,"door":0})"
       "\n[1,2]\n{\"device\":\"\",\"timestamp\":1}\nnot json\n"
       R"({"device":"d3","timestamp":1767571200,"temp":1,"power":1,"door":0,"count":1})"},
      {"jsonl-iso-tf", 0x12, 1,
       R"({"device":"d1","timestamp":"2026-01-05T00:00:00.123456-02:30","temp":-50,"power":-1e300,"door":1,"count":-2147483648})"
       "\n"},
  };
  for (const auto& [name, options, batch, input] : seeds) {
    Write(dir, name, std::string{static_cast<char>(options), static_cast<char>(batch)} + input);
  }
}

void WriteTextSeeds(const std::filesystem::path& root) {
  Write(root / "config", "defaults.toml", Config().ToToml());
  Write(root / "config", "store.toml",
        "[store]\npath = \"/var/lib/nemesyst\"\ndurability = \"sync\"\nrecords_per_chunk = 128\n"
        "\n[log]\nlevel = \"debug\"\nformat = 'json'\n");
  Write(root / "config", "node.toml",
        "[node]\nid = \"store-1\"\nrole = \"hub\"\nplaintext_remote = true\n"
        "heartbeat_ms = 500\nlisten = \"tcp://0.0.0.0:7100\"\n[kernels]\nthreads = 4\n");
  Write(root / "spec", "pipeline.toml",
        "stream = \"fleet\"\ninterval_s = 60\n\n[[steps]]\nop = \"filter\"\n"
        "where = [{ field = \"defrost\", cmp = \"==\", value = 0 }]\n"
        "devices = [\"store-0001/\", \"store-0002/\"]\nfrom = \"2026-01-05T00:00:00Z\"\n"
        "to = 1767830400000000\n\n[[steps]]\nop = \"derive\"\nname = \"air_mean5\"\n"
        "kind = \"rolling_mean\"\nfield = \"air_off_c\"\nk = 5\n\n[[steps]]\nop = \"derive\"\n"
        "name = \"hour\"\nkind = \"time_of_day\"\nencoding = \"sin\"\n\n[[steps]]\n"
        "op = \"derive\"\nname = \"since\"\nkind = \"since_defrost\"\nmax_s = 3600\n\n"
        "[[steps]]\nop = \"fill\"\nmax_gap_s = 180\n\n[[steps]]\nop = \"select\"\n"
        "fields = [\"air_off_c\", \"product_c\", \"air_mean5\"]\n\n[[steps]]\n"
        "op = \"normalise\"\nmethod = \"zscore\"\n\n[window]\nlength = 30\nstride = 1\n"
        "horizon = 0\n\n[label]\nfield = \"safe_off_s\"\n\n[split]\nby = \"store\"\n"
        "train = 0.7\nvalidation = 0.15\ntest = 0.15\nseed = 0\n");
  Write(root / "spec", "pipeline-minimal.toml", "[window]\nlength = 3\n");
  Write(root / "spec", "pipeline-fitted.json",
        R"({"format": 1, "interval_s": 30, "steps": [{"op": "normalise", "method": "minmax",
            "fields": ["a"], "stats": [{"field": "a", "min": -1.5, "max": 2}]}],
            "window": {"length": 4, "stride": 2, "horizon": 1}, "label": {"fields": ["a", "b"]},
            "split": {"by": "time", "train": 0.8, "validation": 0.1, "test": 0.1, "seed": 3,
            "train_until": "2026-01-05T00:00:00Z", "validation_until": 1767657600000000},
            "fitted": true})");
  Write(root / "spec", "model-regressor.json",
        R"({"kind": "regressor", "input": {"features": 4, "steps": 24},
            "recurrent": {"cell": "lstm", "hidden": [32, 32], "dropout": 0.1},
            "head": {"hidden": [16], "activation": "relu", "output_activation": "linear"},
            "output": {"width": 1, "per_step": false}, "loss": "mse"})");
  Write(root / "spec", "model-gan.json",
        R"({"kind": "gan", "window": {"steps": 32, "features": 1}, "noise": 8, "condition": 0,
            "generator": {"type": "dense", "hidden": [64, 64], "activation": "relu",
                          "output_activation": "linear"},
            "discriminator": {"type": "lstm", "hidden": [32], "head": [16],
                              "activation": "leaky_relu", "dropout": 0}})");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_fuzz_seeds <corpus dir>\n";
    return 2;
  }
  const std::filesystem::path root = argv[1];
  // Real changes, from a scratch store.
  const std::filesystem::path scratch = std::filesystem::temp_directory_path() / "nemesyst-seeds";
  std::filesystem::remove_all(scratch);
  std::vector<std::string> changes;
  {
    std::unique_ptr<Store> store;
    StoreOptions o;
    o.durability = Durability::kAsync;
    if (!Store::Open(o, scratch.string(), &store).ok()) return 1;
    StreamSchema schema;
    schema.fields.push_back({"v", FieldType::kFloat64, "", std::nullopt, std::nullopt});
    (void)store->CreateStream("feed", schema);
    (void)store->Append("feed", std::vector<Record>{{"d", 1, {1.5}}, {"d", 2, {2.5}}});
    (void)store->PutModel("m", "weights", {});
    (void)store->SetAlias("m", "production", 1);
    const std::vector<Store::Change> read = store->ReadChanges(0, 10).value();
    for (const auto& c : read) changes.push_back(c.bytes);
  }
  std::filesystem::remove_all(scratch);
  using nodes::MsgType;
  int n = 0;
  for (MsgType type : {MsgType::kJoin, MsgType::kHello, MsgType::kWelcome, MsgType::kChanges,
                       MsgType::kFragment, MsgType::kAck, MsgType::kHeartbeat, MsgType::kBootFetch,
                       MsgType::kBootChunk, MsgType::kError, MsgType::kReport}) {
    nodes::WireMessage m;
    m.type = type;
    m.node_id = "store-1";
    m.history_id = std::string(32, 'a');
    m.snapshot_id = "snap";
    m.files = {{"000009.sst", 100, std::string(32, 'b')}};
    m.digest = std::string(32, 'c');
    m.total = 10;
    m.detail = "why";
    if (type == MsgType::kChanges) m.payloads = changes;
    if (type == MsgType::kFragment || type == MsgType::kBootChunk) m.payloads = {"data"};
    Write(root / "wire", "seed-" + std::to_string(++n), Encoded(m));
  }
  // Dispatch: a SHED and the store's answer.
  nodes::WireMessage shed;
  shed.type = MsgType::kShed;
  shed.payloads = {nodes::EncodeShedAsk({"hub-1", 2, {3.5, 1200, 300}})};
  Write(root / "wire", "seed-shed", Encoded(shed));
  nodes::ShedAnswer answer;
  answer.id = "hub-1";
  answer.ask = 2;
  answer.ok = true;
  answer.model = "lstm@1";
  answer.confirmed_kw = answer.available_kw = 0.75;
  answer.cases = {{"store-0001/case-02", 2400, 0.75, 900}};
  shed.type = MsgType::kShedReply;
  shed.payloads = {nodes::EncodeShedAnswer(answer)};
  Write(root / "wire", "seed-shed-reply", Encoded(shed));
  // The JetStream log: a run of real changes, and one fragment of a change.
  {
    nodes::LogMessage run;
    run.store = "store-1";
    run.history = std::string(32, 'a');
    run.after = 0;
    run.last = changes.size();
    for (const std::string& c : changes) run.changes.push_back(c);
    Write(root / "jetstream_log", "seed-changes", nodes::EncodeLogMessage(run));
    nodes::LogMessage fragment = run;
    fragment.kind = nodes::LogMessageKind::kFragment;
    fragment.changes.clear();
    fragment.last = 1;
    fragment.total = changes.at(0).size();
    fragment.digest = std::string(32, 'c');
    fragment.offset = 0;
    fragment.data = std::string_view(changes.at(0)).substr(0, fragment.total / 2 + 1);
    Write(root / "jetstream_log", "seed-fragment", nodes::EncodeLogMessage(fragment));
  }
  // ZAP requests (CURVE and NULL) and client ingest options.
  Write(root / "control", "zap-curve",
        fuzz::JoinFrames({"1.0", "1", "nemesyst", "127.0.0.1", "", "CURVE", std::string(32, 'k')}));
  Write(root / "control", "zap-null",
        fuzz::JoinFrames({"1.0", "1", "nemesyst", "127.0.0.1", "", "NULL"}));
  IngestOptions io;
  io.stream = "feed";
  io.rename["a"] = "b";
  Write(root / "control", "ingest-options", IngestOptionsToJson(io));
  Write(root / "control", "control-request",
        R"({"id":"r-1","op":"dispatch","deadline_ms":5000,"shed_kw":40,"duration_s":1200})");
  // Predict requests: live, a JSON window, a binary window (timestamp + 3 fields a row).
  Write(root / "predict", "live", fuzz::JoinFrames({R"({"op":"predict","devices":["d1","d2"]})"}));
  Write(
      root / "predict", "json-window",
      fuzz::JoinFrames({R"({"op":"predict","window":{"device":"d","readings":[)"
                        R"({"timestamp_us":60000000,"air_c":3.5,"setpoint_c":3,"door":null}]}})"}));
  std::string rows;
  for (int64_t t : {int64_t{60000000}, int64_t{120000000}}) {
    rows.append(reinterpret_cast<const char*>(&t), 8);
    for (double v : {3.5, 3.0, 0.0}) rows.append(reinterpret_cast<const char*>(&v), 8);
  }
  Write(root / "predict", "binary-window",
        fuzz::JoinFrames({R"({"op":"predict","window":{"device":"d","fields":)"
                          R"(["door","timestamp_us","air_c","setpoint_c"]}})",
                          rows}));
  WriteStorageSeeds(root / "storage", changes);
  WriteModelSeeds(root / "model_file");
  WriteIngestSeeds(root / "ingest");
  WriteTextSeeds(root);
  std::cout << "wrote seeds under " << root << "\n";
  return 0;
}
