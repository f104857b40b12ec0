// Writes the fuzzers' seed corpora (tests/fuzz/corpus/) from real messages: one file per message
// type, in the fuzzers' framing (fuzz_input.h). Usage: make_fuzz_seeds <corpus dir>.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "nemesyst/ingest.h"
#include "nemesyst/store.h"
#include "nodes/wire.h"
#include "tests/fuzz/fuzz_input.h"

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
                       MsgType::kBootChunk, MsgType::kError}) {
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
  // ZAP requests (CURVE and NULL) and client ingest options.
  Write(root / "control", "zap-curve",
        fuzz::JoinFrames({"1.0", "1", "nemesyst", "127.0.0.1", "", "CURVE", std::string(32, 'k')}));
  Write(root / "control", "zap-null",
        fuzz::JoinFrames({"1.0", "1", "nemesyst", "127.0.0.1", "", "NULL"}));
  IngestOptions io;
  io.stream = "feed";
  io.rename["a"] = "b";
  Write(root / "control", "ingest-options", IngestOptionsToJson(io));
  std::cout << "wrote seeds under " << root << "\n";
  return 0;
}
