// libFuzzer harness: the two declarative specs a user (or a peer, or a stored model's lineage)
// hands the library as text — pipeline specs, TOML or JSON (stream/pipeline_spec.h), and model
// specs, JSON (kernels/model_spec.h). Both parsers get every input.
// Invariants: a spec that parses serialises to text that parses, and serialises again to the
// same text; a model spec's parameter count survives the round trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kernels/model_spec.h"
#include "stream/pipeline_spec.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nemesyst;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (Result<stream::PipelineSpec> spec = stream::ParsePipelineSpec(text); spec.ok()) {
    const std::string once = stream::SerializePipelineSpec(*spec);
    Result<stream::PipelineSpec> again = stream::ParsePipelineSpec(once);
    NEMESYST_FUZZ_CHECK(again.ok());
    NEMESYST_FUZZ_CHECK(stream::SerializePipelineSpec(*again) == once);
  }

  if (Result<kernels::ModelSpec> spec = kernels::ParseModelSpec(text); spec.ok()) {
    const std::string once = spec->ToJson();
    Result<kernels::ModelSpec> again = kernels::ParseModelSpec(once);
    NEMESYST_FUZZ_CHECK(again.ok());
    NEMESYST_FUZZ_CHECK(again->ToJson() == once);
    NEMESYST_FUZZ_CHECK(kernels::ParameterCount(*again) == kernels::ParameterCount(*spec));
  }
  return 0;
}
