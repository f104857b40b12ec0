#include "nemesyst/store.h"

#include <gtest/gtest.h>

#include "tests/testing/temp_dir.h"

namespace nemesyst {
namespace {

TEST(ModelRefTest, Parses) {
  auto plain = ParseModelRef("lstm");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->name, "lstm");
  EXPECT_EQ(plain->version, 0u);
  auto at = ParseModelRef("lstm@12");
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->version, 12u);
  EXPECT_EQ(at->ToString(), "lstm@12");
  auto alias = ParseModelRef("lstm:production");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->alias, "production");
  for (const char* bad : {"", "@3", "lstm@", "lstm@0", "lstm@3x", "lstm:", ":prod", "a@1:b"}) {
    EXPECT_TRUE(ParseModelRef(bad).status().IsInvalidArgument()) << bad;
  }
}

TEST(ModelRefTest, ResolvesVersionsAliasesAndBareNames) {
  testing::TempDir dir;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(StoreOptions{}, dir.Sub("s"), &store).ok());
  ModelMetadata meta;
  meta.kind = "lstm";
  ASSERT_TRUE(store->PutModel("m", "blob-1", meta).ok());
  ASSERT_TRUE(store->PutModel("m", "blob-2", meta).ok());
  auto bare = store->ResolveModel("m");
  EXPECT_TRUE(bare.status().IsNotFound()) << "no alias: a bare name never means 'newest'";
  ASSERT_TRUE(store->SetAlias("m", "candidate", 1).ok());
  EXPECT_EQ(store->ResolveModel("m")->version, 1u);
  ASSERT_TRUE(store->SetAlias("m", "production", 2).ok());
  auto prod = store->ResolveModel("m");
  ASSERT_TRUE(prod.ok());
  EXPECT_EQ(prod->version, 2u);
  EXPECT_EQ(prod->how, "alias production");
  EXPECT_EQ(store->ResolveModel("m@1")->version, 1u);
  auto missing = store->ResolveModel("m:staging");
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find("candidate, production"), std::string_view::npos)
      << missing.status().ToString();
  EXPECT_TRUE(store->ResolveModel("m@3").status().IsNotFound());
  EXPECT_TRUE(store->ResolveModel("other").status().IsNotFound());
}

}  // namespace
}  // namespace nemesyst
