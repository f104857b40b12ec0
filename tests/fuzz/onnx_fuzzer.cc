// libFuzzer harness: ONNX files (kernels/onnx/), what `nemesyst model import-onnx` reads from a
// user or a download — protobuf parsing, the graph walk, every attribute and tensor check.
//
// Input: the file's bytes. Seeds: small torch exports and Nemesyst exports of each cell
// (tests/fuzz/corpus/onnx/).
// Invariants: an import that succeeds gives a model file that deserializes; exporting that model
// and importing the export gives the same spec and bit-identical weights (the import and export
// mappings are exact inverses on everything the import accepts).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "nemesyst/model.h"
#include "nemesyst/onnx.h"
#include "tests/fuzz/fuzz_input.h"

namespace nemesyst::fuzz {
namespace {

void FuzzOnnx(std::string_view bytes) {
  Result<OnnxImportResult> imported = ImportOnnx(bytes, {.source = "fuzz.onnx"});
  if (!imported.ok()) return;
  ModelOptions options;
  options.backend = Backend::kRef;
  Result<std::unique_ptr<Model>> model = Model::Deserialize(imported->model_file, options);
  NEMESYST_FUZZ_CHECK(model.ok());
  NEMESYST_FUZZ_CHECK((*model)->spec_json() == imported->spec_json);
  Result<std::string> exported = ExportOnnx(**model);
  NEMESYST_FUZZ_CHECK(exported.ok());
  Result<OnnxImportResult> again = ImportOnnx(*exported, {.source = "export.onnx"});
  NEMESYST_FUZZ_CHECK(again.ok());
  NEMESYST_FUZZ_CHECK(again->spec_json == imported->spec_json);
  Result<std::unique_ptr<Model>> model2 = Model::Deserialize(again->model_file, options);
  NEMESYST_FUZZ_CHECK(model2.ok());
  const std::vector<float> a = (*model)->Parameters(), b = (*model2)->Parameters();
  NEMESYST_FUZZ_CHECK(a.size() == b.size() &&
                      (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0));
}

}  // namespace
}  // namespace nemesyst::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nemesyst::fuzz::FuzzOnnx(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
