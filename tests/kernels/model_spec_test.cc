// Model specs: valid ones parse and print canonically; invalid ones are refused naming the key.
#include <gtest/gtest.h>

#include "kernels/model_spec.h"
#include "nemesyst/model.h"

namespace nemesyst::kernels {
namespace {

TEST(ModelSpecTest, RegressorDefaultsAndCanonicalForm) {
  auto spec = ParseModelSpec(R"({"kind": "regressor", "input": {"features": 4},
                                 "recurrent": {"hidden": [8, 8]}})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->kind, ModelKind::kRegressor);
  EXPECT_EQ(spec->regressor.cell, CellKind::kLstm);
  EXPECT_EQ(spec->regressor.steps, 0);
  EXPECT_EQ(spec->regressor.output_width, 1);
  EXPECT_EQ(spec->regressor.loss, Loss::kMse);
  auto again = ParseModelSpec(spec->ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), spec->ToJson());
}

TEST(ModelSpecTest, PinballQuantileRoundTripsAndOldSpecsKeepTheirBytes) {
  auto spec = ParseModelSpec(R"({"kind": "regressor", "input": {"features": 4},
                                 "recurrent": {"hidden": [8]}, "loss": "pinball",
                                 "quantile": 0.05})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->regressor.loss, Loss::kPinball);
  EXPECT_DOUBLE_EQ(spec->regressor.quantile, 0.05);
  EXPECT_NE(spec->ToJson().find(R"("loss":"pinball")"), std::string::npos);
  EXPECT_NE(spec->ToJson().find(R"("quantile":0.05)"), std::string::npos);
  EXPECT_EQ(ParseModelSpec(spec->ToJson())->ToJson(), spec->ToJson());
  // A model file written before the pinball loss existed stores exactly this canonical form: it
  // must not gain a "quantile" key (the file's spec would no longer compare equal).
  const std::string old_canonical =
      R"({"head":{"activation":"relu","hidden":[],"output_activation":"linear"},)"
      R"("input":{"features":4,"steps":0},"kind":"regressor","loss":"mse",)"
      R"("output":{"per_step":false,"width":1},)"
      R"("recurrent":{"cell":"lstm","dropout":0.0,"hidden":[8]}})";
  EXPECT_EQ(ParseModelSpec(old_canonical)->ToJson(), old_canonical);
  // The built model trains with it.
  EXPECT_TRUE(Model::Create(spec->ToJson(), 1).ok());
}

TEST(ModelSpecTest, GanParsesAndRoundTrips) {
  auto spec = ParseModelSpec(R"({"kind": "gan", "window": {"steps": 8, "features": 2},
      "noise": 5, "condition": 2,
      "generator": {"type": "dense", "hidden": [16], "output_activation": "tanh"},
      "discriminator": {"type": "rnn", "hidden": [4], "head": [3], "dropout": 0.25}})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->gan.generator.type, BlockType::kDense);
  EXPECT_EQ(spec->gan.generator.output_activation, Activation::kTanh);
  EXPECT_EQ(spec->gan.discriminator.activation, Activation::kLeakyRelu);  // default
  EXPECT_DOUBLE_EQ(spec->gan.discriminator.dropout, 0.25);
  EXPECT_EQ(ParseModelSpec(spec->ToJson())->ToJson(), spec->ToJson());
}

TEST(ModelSpecTest, ParameterCountMatchesTheBuiltModel) {
  for (
      const char* json : {
          R"({"kind": "regressor", "input": {"features": 3}, "recurrent": {"hidden": [7, 4]},
               "head": {"hidden": [3]}, "output": {"width": 2}})",
          R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"cell": "rnn", "hidden": [5]}})",
          // kGru carries a fourth bias row (b_hn): the count must include it.
          R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"cell": "gru", "hidden": [5, 3]}})",
          R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"cell": "gru_classic", "hidden": [5]}})",
          R"({"kind": "gan", "window": {"steps": 4, "features": 2}, "noise": 3, "condition": 1,
               "generator": {"type": "rnn", "hidden": [5], "head": [2]},
               "discriminator": {"type": "lstm", "hidden": [6], "head": [4]}})",
          R"({"kind": "gan", "window": {"steps": 4, "features": 2}, "noise": 3,
               "generator": {"type": "dense", "hidden": [5]},
               "discriminator": {"type": "dense", "hidden": [6, 2]}})"}) {
    auto spec = ParseModelSpec(json);
    ASSERT_TRUE(spec.ok());
    auto model = Model::Create(json, 1);
    ASSERT_TRUE(model.ok());
    EXPECT_EQ(ParameterCount(*spec), (*model)->parameter_count()) << json;
  }
  // Too big to build: refused before allocating.
  auto huge = Model::Create(R"({"kind": "regressor", "input": {"features": 1},
      "recurrent": {"hidden": [65536, 65536]}})",
                            1);
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted);
}

struct BadSpec {
  const char* json;
  const char* expected_in_message;
};

class InvalidSpecTest : public ::testing::TestWithParam<BadSpec> {};

TEST_P(InvalidSpecTest, RefusedWithKeyPath) {
  auto spec = ParseModelSpec(GetParam().json);
  ASSERT_FALSE(spec.ok());
  EXPECT_TRUE(spec.status().IsInvalidArgument());
  EXPECT_NE(spec.status().message().find(GetParam().expected_in_message), std::string_view::npos)
      << spec.status().ToString();
  // The public entry point reports the same error.
  EXPECT_TRUE(Model::Create(GetParam().json, 1).status().IsInvalidArgument());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, InvalidSpecTest,
    ::testing::Values(
        BadSpec{"not json", "not valid JSON"}, BadSpec{"[1, 2]", "spec: must be an object"},
        BadSpec{R"({"input": {}})", "spec.kind: is required"},
        BadSpec{R"({"kind": "cnn"})", "spec.kind: must be"},
        BadSpec{R"({"kind": "regressor", "recurrent": {"hidden": [4]}})",
                "spec.input: is required"},
        BadSpec{R"({"kind": "regressor", "input": {"features": 0}, "recurrent": {"hidden": [4]}})",
                "spec.input.features: must be in [1"},
        BadSpec{
            R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hidden": [4, -3]}})",
            "spec.recurrent.hidden[1]: must be in [1"},
        BadSpec{R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hidden": []}})",
                "spec.recurrent.hidden: needs at least one layer"},
        BadSpec{
            R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hidden": [4], "cell": "tcn"}})",
            "spec.recurrent.cell: unknown cell 'tcn' (expected lstm, rnn, gru or gru_classic)"},
        BadSpec{
            R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hidden": [4], "dropout": 1.0}})",
            "spec.recurrent.dropout: must be in [0"},
        BadSpec{R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hiden": [4]}})",
                "spec.recurrent.hidden: is required"},
        BadSpec{
            R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hidden": [4], "hiden": 1}})",
            "spec.recurrent.hiden: unknown key"},
        BadSpec{
            R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hidden": [4]}, "loss": "huber"})",
            "spec.loss: unknown loss 'huber'"},
        BadSpec{
            R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hidden": [4]}, "loss": "pinball"})",
            "spec.quantile: required with loss pinball"},
        BadSpec{
            R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hidden": [4]}, "loss": "pinball", "quantile": 1.0})",
            "spec.quantile: must be a number in (0, 1)"},
        BadSpec{
            R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hidden": [4]}, "loss": "pinball", "quantile": 0})",
            "spec.quantile: must be a number in (0, 1)"},
        BadSpec{
            R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hidden": [4]}, "loss": "pinball", "quantile": "0.05"})",
            "spec.quantile: must be a number in (0, 1)"},
        BadSpec{
            R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hidden": [4]}, "quantile": 0.05})",
            "spec.quantile: only applies to loss \"pinball\""},
        BadSpec{
            R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hidden": [4]}, "head": {"activation": "swish"}})",
            "spec.head.activation: unknown activation"},
        BadSpec{
            R"({"kind": "regressor", "input": {"features": 2}, "recurrent": {"hidden": [4]}, "output": {"per_step": true}})",
            "spec.output.per_step: needs a fixed input.steps"},
        BadSpec{
            R"({"kind": "gan", "window": {"steps": 4, "features": 1}, "generator": {"type": "lstm"}, "discriminator": {"hidden": [2]}})",
            "spec.generator.hidden: is required"},
        BadSpec{
            R"({"kind": "gan", "window": {"steps": 4, "features": 1}, "generator": {"type": "dense", "hidden": [2], "head": [3]}, "discriminator": {"hidden": [2]}})",
            "spec.generator.head: only for lstm/rnn"},
        BadSpec{
            R"({"kind": "gan", "window": {"steps": 4, "features": 1}, "generator": {"hidden": [2]}, "discriminator": {"type": "dense", "hidden": [2], "dropout": 0.5}})",
            "spec.discriminator.dropout: only for lstm/rnn"},
        BadSpec{
            R"({"kind": "gan", "window": {"steps": 4, "features": 1}, "generator": {"hidden": [2], "dropout": 0.1}, "discriminator": {"hidden": [2]}})",
            "spec.generator.dropout: unknown key"},
        BadSpec{
            R"({"kind": "gan", "window": {"steps": 0, "features": 1}, "generator": {"hidden": [2]}, "discriminator": {"hidden": [2]}})",
            "spec.window.steps: must be in [1"}));

}  // namespace
}  // namespace nemesyst::kernels
