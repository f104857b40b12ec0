// libFuzzer harness: model files (kernels/model_file.h) and the model rebuilt from one
// (Model::Deserialize, which parses the embedded spec and checks every tensor against it) — what
// `model import`, Model::Load and a replicated model version hand the library.
//
// Input: flags:u8 | file bytes. Unless bit 0 of flags is set, the harness first makes the
// envelope consistent (size field, end marker, CRC-32C), since mutated bytes almost never pass
// the checksum and the parsing behind it is what needs fuzzing.
// Invariants: the metadata-only read agrees with the full read; decoded contents re-encode to a
// file that decodes to the same metadata and bit-identical tensors (and re-encodes to itself); a
// model that deserializes serializes to a file that deserializes to the same spec, weights and
// caller metadata, byte for byte the second time.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "kernels/model_file.h"
#include "nemesyst/model.h"
#include "tests/fuzz/fuzz_input.h"

namespace nemesyst::fuzz {
namespace {

using namespace kernels;

void FixEnvelope(std::string* b) {
  if (b->size() < kModelFileHeaderBytes + kModelFileTrailerBytes) return;
  const uint64_t size = b->size();
  std::memcpy(b->data() + 16, &size, 8);
  std::memcpy(b->data() + b->size() - 4, kModelFileEndMagic, 4);
  const uint32_t crc = Crc32cExtend(0, b->data(), b->size() - kModelFileTrailerBytes);
  std::memcpy(b->data() + b->size() - kModelFileTrailerBytes, &crc, 4);
}

bool SameContents(const ModelFileContents& a, const ModelFileContents& b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const StoredTensor &x = a.tensors[i], &y = b.tensors[i];
    if (x.name != y.name || x.shape != y.shape || x.values.size() != y.values.size()) return false;
    if (!x.values.empty() &&
        std::memcmp(x.values.data(), y.values.data(), x.values.size() * sizeof(float)) != 0) {
      return false;
    }
  }
  return true;
}

void FuzzContainer(std::string_view bytes) {
  Result<ModelFileContents> contents = DecodeModelFile(bytes);
  Result<std::map<std::string, std::string>> metadata = DecodeModelFileMetadata(bytes);
  if (!contents.ok()) return;
  NEMESYST_FUZZ_CHECK(metadata.ok() && *metadata == contents->metadata);
  std::vector<TensorView> views;
  for (const StoredTensor& t : contents->tensors)
    views.push_back({t.name, t.shape, t.values.data()});
  Result<std::string> again = EncodeModelFile(contents->metadata, views);
  NEMESYST_FUZZ_CHECK(again.ok());  // everything the reader accepts, the writer can write
  Result<ModelFileContents> reread = DecodeModelFile(*again);
  NEMESYST_FUZZ_CHECK(reread.ok() && SameContents(*contents, *reread));
  std::vector<TensorView> views2;
  for (const StoredTensor& t : reread->tensors)
    views2.push_back({t.name, t.shape, t.values.data()});
  Result<std::string> twice = EncodeModelFile(reread->metadata, views2);
  NEMESYST_FUZZ_CHECK(twice.ok() && *twice == *again);
}

bool SameWeights(const Model& a, const Model& b) {
  const std::vector<float> x = a.Parameters(), y = b.Parameters();
  return x.size() == y.size() &&
         (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
}

void FuzzModel(std::string_view bytes) {
  ModelOptions options;
  options.backend = Backend::kRef;  // the portable kernels: the same on every CI machine
  ModelFileMetadata metadata;
  Result<std::unique_ptr<Model>> model = Model::Deserialize(bytes, options, &metadata);
  if (!model.ok()) return;
  for (const auto& [key, value] : metadata) NEMESYST_FUZZ_CHECK(key.rfind("nemesyst.", 0) != 0);
  Result<std::string> saved = (*model)->Serialize(metadata);
  NEMESYST_FUZZ_CHECK(saved.ok());
  ModelFileMetadata metadata2;
  Result<std::unique_ptr<Model>> again = Model::Deserialize(*saved, options, &metadata2);
  NEMESYST_FUZZ_CHECK(again.ok());
  NEMESYST_FUZZ_CHECK(metadata2 == metadata);
  NEMESYST_FUZZ_CHECK((*again)->spec_json() == (*model)->spec_json());
  NEMESYST_FUZZ_CHECK((*again)->parameter_count() == (*model)->parameter_count());
  NEMESYST_FUZZ_CHECK(SameWeights(**model, **again));
  Result<std::string> saved2 = (*again)->Serialize(metadata2);
  NEMESYST_FUZZ_CHECK(saved2.ok() && *saved2 == *saved);
}

}  // namespace
}  // namespace nemesyst::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((data[0] & 1) == 0) nemesyst::fuzz::FixEnvelope(&bytes);
  nemesyst::fuzz::FuzzContainer(bytes);
  nemesyst::fuzz::FuzzModel(bytes);
  return 0;
}
