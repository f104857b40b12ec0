#include "nemesyst/refrigeration/demo_specs.h"

#include <cstdio>

#include "nemesyst/pipeline.h"

namespace nemesyst::refrigeration {
namespace {

std::string StoreName(int store) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "store-%04d", store);
  return buf;
}

}  // namespace

std::string DemoPipelineToml(const DemoPipelineOptions& o) {
  char split[256];
  std::snprintf(
      split, sizeof(split),
      "[split]\nby = \"store\"\ntrain = %.17g\nvalidation = %.17g\ntest = %.17g\nseed = %llu\n",
      o.train, o.validation, o.test, static_cast<unsigned long long>(o.split_seed));
  return "# The demo's pipeline: the simulator's sensor feed -> windows labelled with safe_off_s.\n"
         "stream = \"" +
         o.stream +
         "\"\n"
         "interval_s = 60\n\n"
         "# Forward-fill feed gaps of up to 3 minutes; longer gaps break windows.\n"
         "[[steps]]\nop = \"fill\"\nmax_gap_s = 180\n\n"
         "# How fast the return air warms, and how long since the last defrost.\n"
         "[[steps]]\nop = \"derive\"\nname = \"air_on_rate\"\nkind = \"rate\"\nfield = "
         "\"air_on_c\"\n\n"
         "[[steps]]\nop = \"derive\"\nname = \"since_defrost_s\"\nkind = \"since_defrost\"\n"
         "field = \"defrost\"\nmax_s = 43200\n\n"
         "# z-score every feature and the label (statistics from the training stores only).\n"
         "[[steps]]\nop = \"normalise\"\nmethod = \"zscore\"\n"
         "fields = [\"air_on_c\", \"air_off_c\", \"product_c\", \"ambient_c\", \"cooling\", "
         "\"defrost\", \"power_kw\", \"case_type\", \"air_on_rate\", \"since_defrost_s\", "
         "\"safe_off_s\"]\n\n"
         "[window]\nlength = " +
         std::to_string(o.window_length) + "\nstride = " + std::to_string(o.window_stride) +
         "\n\n"
         "[label]\nfield = \"safe_off_s\"\n\n" +
         split;
}

std::string DemoRegressorSpec(const std::string& cell, int steps, int hidden) {
  return "{\"kind\": \"regressor\", \"input\": {\"features\": " + std::to_string(kDemoFeatures) +
         ", \"steps\": " + std::to_string(steps) + "}, \"recurrent\": {\"cell\": \"" + cell +
         "\", \"hidden\": [" + std::to_string(hidden) +
         "]}, \"head\": {\"hidden\": [16], \"activation\": \"relu\"}, \"output\": {\"width\": 1}, "
         "\"loss\": \"mse\"}\n";
}

std::string DemoGanSpec(int steps, int hidden, int noise) {
  return "{\"kind\": \"gan\", \"window\": {\"steps\": " + std::to_string(steps) +
         ", \"features\": " + std::to_string(kDemoFeatures) +
         "}, \"noise\": " + std::to_string(noise) +
         ", \"condition\": 1, \"generator\": {\"type\": \"lstm\", \"hidden\": [" +
         std::to_string(hidden) + "]}, \"discriminator\": {\"type\": \"lstm\", \"hidden\": [" +
         std::to_string(hidden) + "]}}\n";
}

std::vector<std::string> StoresInSplit(const DemoPipelineOptions& o, int stores, int bucket) {
  std::vector<std::string> out;
  for (int i = 0; i < stores; ++i) {
    const DataSplit split = HashSplitOf(StoreName(i), o.train, o.validation, o.test, o.split_seed);
    if (static_cast<int>(split) == bucket) out.push_back(StoreName(i));
  }
  return out;
}

Result<uint64_t> ChooseStoreSplitSeed(const DemoPipelineOptions& options, int stores,
                                      int want_train, int want_validation, int want_test) {
  DemoPipelineOptions o = options;
  for (uint64_t seed = 0; seed < 100000; ++seed) {
    o.split_seed = seed;
    if (static_cast<int>(StoresInSplit(o, stores, 0).size()) == want_train &&
        static_cast<int>(StoresInSplit(o, stores, 1).size()) == want_validation &&
        static_cast<int>(StoresInSplit(o, stores, 2).size()) == want_test) {
      return seed;
    }
  }
  return Status::NotFound("no split seed gives " + std::to_string(want_train) + "/" +
                          std::to_string(want_validation) + "/" + std::to_string(want_test) +
                          " stores");
}

}  // namespace nemesyst::refrigeration
