// Every public header together in one translation unit: an integrator includes them side by side,
// so two of them declaring the same name differently (an ODR trap that only sanitizer builds
// caught before) must fail to compile here. Also checks that the public surface names no RocksDB,
// ZeroMQ or oneDNN type, by reading the headers.
#include "nemesyst/batch.h"
#include "nemesyst/export.h"
#include "nemesyst/ingest.h"
#include "nemesyst/kernels.h"
#include "nemesyst/logger.h"
#include "nemesyst/model.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/status.h"
#include "nemesyst/store.h"
#include "nemesyst/store_types.h"
#include "nemesyst/stream.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/testing/temp_dir.h"

namespace nemesyst {
namespace {

TEST(PublicHeadersTest, StoreAndModelMetadataAreDistinctTypes) {
  ModelMetadata registry_metadata;  // the registry's (store_types.h)
  ModelFileMetadata file_metadata;  // key/values inside a model file (model.h)
  file_metadata["pipeline"] = "{}";
  registry_metadata.kind = "lstm";
  EXPECT_EQ(file_metadata.size(), 1u);
}

TEST(PublicHeadersTest, NoThirdPartyTypesInPublicHeaders) {
  const std::filesystem::path dir = std::filesystem::path(NEMESYST_SOURCE_DIR) / "include/nemesyst";
  int headers = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string text = testing::ReadFile(entry.path().string());
    ++headers;
    for (const char* banned : {"rocksdb", "zmq", "dnnl", "Eigen", "nlohmann", "toml"}) {
      EXPECT_EQ(text.find(std::string("#include <") + banned), std::string::npos)
          << entry.path() << " includes " << banned;
      EXPECT_EQ(text.find(std::string(banned) + "::"), std::string::npos)
          << entry.path() << " names a " << banned << " type";
    }
  }
  EXPECT_GE(headers, 10);
}

}  // namespace
}  // namespace nemesyst
