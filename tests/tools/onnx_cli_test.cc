// PyTorch → ONNX → Nemesyst, as a user runs it: torch (Debian's python3-torch, through
// tests/tools/onnx_torch.py) exports a seeded nn.LSTM / nn.GRU / nn.RNN stack with an nn.Linear
// head; `nemesyst model import-onnx --pipeline` registers it; `nemesyst predict` runs it over a
// store stream. The same windows (through the same fitted pipeline) go through torch, and the
// predictions must agree within 1e-4 relative (max-norm, as every kernel test states it).
// Skipped, saying why, when /usr/bin/python3 cannot import torch (tools/setup.sh installs it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nemesyst/pipeline.h"
#include "nemesyst/predict_job.h"
#include "tests/testing/onnx_pipeline.h"
#include "tests/testing/run_command.h"
#include "tests/testing/small_fleet.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst {
namespace {

using testing::RunCli;
using testing::RunCommand;

const char* kPython = "/usr/bin/python3";

std::string Script() { return std::string(NEMESYST_SOURCE_DIR) + "/tests/tools/onnx_torch.py"; }

constexpr int kSteps = 8;
constexpr int kFeatures = testing::kOnnxPipelineFeatures;

std::vector<std::string> TorchArgs(const std::string& command, const std::string& cell) {
  return {kPython,
          Script(),
          command,
          "--cell",
          cell,
          "--features",
          std::to_string(kFeatures),
          "--steps",
          std::to_string(kSteps),
          "--seed",
          "7"};
}

bool TorchMissing(std::string* why) {
  auto r = RunCommand({kPython, "-c", "import torch, numpy"});
  if (r.exit_code == 0) return false;
  *why =
      "/usr/bin/python3 cannot import torch and numpy (Debian python3-torch, python3-numpy; "
      "tools/setup.sh installs them): " +
      r.err.substr(0, 200);
  return true;
}

class OnnxTorchTest : public ::testing::TestWithParam<const char*> {};

TEST_P(OnnxTorchTest, ImportedModelPredictsWhatTorchPredicts) {
  std::string why;
  if (TorchMissing(&why)) GTEST_SKIP() << why;
  const std::string cell = GetParam();
  testing::SmallFleet fleet(2, 3, 0.25, /*open_store=*/false);
  const std::string store = fleet.StorePath();
  const std::string onnx = fleet.dir.Sub(cell + ".onnx");
  const std::string pipeline = fleet.dir.Sub("p.toml");
  testing::WriteFile(pipeline, testing::OnnxTestPipeline(kSteps));

  auto args = TorchArgs("export", cell);
  args.insert(args.end(), {"--out", onnx});
  auto exported = RunCommand(args);
  ASSERT_EQ(exported.exit_code, 0) << exported.err;

  auto imported = RunCli({"--store", store, "model", "import-onnx", onnx, "--name", "torch_" + cell,
                          "--pipeline", pipeline, "--json"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  const auto j = nlohmann::json::parse(imported.out);
  EXPECT_EQ(j["spec"]["recurrent"]["cell"], cell == "gru" ? "gru" : cell) << imported.out;
  EXPECT_EQ(j["spec"]["input"]["steps"], kSteps);
  const std::string ref = "torch_" + cell + "@" + std::to_string(j["version"].get<int>());

  const std::string preds = fleet.dir.Sub("preds.jsonl");
  auto predicted = RunCli({"--store", store, "predict", "--model", ref, "--input-stream", "fleet",
                           "--format", "jsonl", "-o", preds});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;

  // The torch side: the same windows through the pipeline stored with the version.
  std::unique_ptr<Store> s;
  ASSERT_TRUE(Store::Open({}, store, &s).ok());
  auto loaded = LoadModelForPrediction(*s, ref);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  std::vector<Record> records;
  {
    auto it = s->Read("fleet").value();
    for (; it->Valid(); it->Next()) records.push_back(it->record().record);
    ASSERT_TRUE(it->status().ok());
  }
  auto data = loaded->pipeline->Apply(records);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  const WindowDataset& d = **data;
  ASSERT_EQ(d.steps, kSteps);
  ASSERT_GT(d.windows.size(), 100u);
  std::vector<float> x(d.windows.size() * kSteps * kFeatures), label(d.label_width);
  for (size_t w = 0; w < d.windows.size(); ++w) {
    d.CopyWindow(d.windows[w], x.data() + w * kSteps * kFeatures, label.data());
  }
  {
    std::ofstream out(fleet.dir.Sub("x.bin"), std::ios::binary);
    out.write(reinterpret_cast<const char*>(x.data()), std::streamsize(x.size() * sizeof(float)));
  }
  args = TorchArgs("predict", cell);
  args.insert(args.end(), {"--x", fleet.dir.Sub("x.bin"), "--y", fleet.dir.Sub("y.bin")});
  auto ran = RunCommand(args);
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  const std::string y_bytes = testing::ReadFile(fleet.dir.Sub("y.bin"));
  ASSERT_EQ(y_bytes.size(), d.windows.size() * sizeof(float));
  std::map<std::pair<std::string, int64_t>, double> torch_s;
  for (size_t w = 0; w < d.windows.size(); ++w) {
    float y;
    std::memcpy(&y, y_bytes.data() + w * sizeof(float), sizeof(float));
    const double seconds =
        std::clamp(loaded->pipeline->LabelToOriginal(0, y), 0.0, kMaxPredictionS);
    torch_s[{d.devices[d.windows[w].device], d.EndUs(d.windows[w])}] = seconds;
  }
  // Before seconds and rounding: the imported model's own output on the same windows.
  {
    Batch batch;
    batch.Resize(static_cast<int>(d.windows.size()), kSteps, kFeatures, 0);
    batch.x = x;
    std::vector<float> ours;
    ASSERT_TRUE(loaded->model->Predict(batch, &ours).ok());
    ASSERT_EQ(ours.size(), d.windows.size());
    double raw_diff = 0, raw_scale = 0;
    for (size_t w = 0; w < ours.size(); ++w) {
      float y;
      std::memcpy(&y, y_bytes.data() + w * sizeof(float), sizeof(float));
      raw_diff = std::max(raw_diff, std::abs(double{ours[w]} - y));
      raw_scale = std::max(raw_scale, std::abs(double{y}));
    }
    std::cout << "[ torch    ] " << cell << ": model output vs torch, max-norm relative "
              << raw_diff / raw_scale << "\n";
    EXPECT_LE(raw_diff / raw_scale, 1e-4);
  }

  // Every prediction `nemesyst predict` wrote, against torch's for the same window.
  std::istringstream lines(testing::ReadFile(preds));
  std::string line;
  size_t compared = 0;
  double diff = 0, scale = 0;
  while (std::getline(lines, line)) {
    const auto p = nlohmann::json::parse(line);
    auto it = torch_s.find({p["device"].get<std::string>(), p["timestamp_us"].get<int64_t>()});
    ASSERT_NE(it, torch_s.end()) << line;
    diff = std::max(diff, std::abs(p["prediction_s"].get<double>() - it->second));
    scale = std::max(scale, std::abs(it->second));
    ++compared;
  }
  EXPECT_EQ(compared, torch_s.size());
  ASSERT_GT(scale, 0.0);
  // predict writes seconds with one decimal: 0.05 s of the bound is that rounding.
  std::cout << "[ torch    ] " << cell << ": " << compared << " windows, max |nemesyst - torch| "
            << diff << " s of " << scale << " s\n";
  EXPECT_LE((diff - 0.05) / scale, 1e-4) << "max |nemesyst - torch| = " << diff << " s of " << scale
                                         << " s over " << compared << " windows";
}

INSTANTIATE_TEST_SUITE_P(Cells, OnnxTorchTest, ::testing::Values("lstm", "gru", "rnn"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace nemesyst
