// A small simulated fleet in a real store on disk, shared by the job tests.
#ifndef NEMESYST_TESTS_TESTING_SMALL_FLEET_H_
#define NEMESYST_TESTS_TESTING_SMALL_FLEET_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "nemesyst/refrigeration/demo_specs.h"
#include "nemesyst/refrigeration/fleet.h"
#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/store.h"
#include "nemesyst/train_job.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst::testing {

struct SmallFleet {
  TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<refrigeration::FleetSimulator> sim;
  refrigeration::DemoPipelineOptions pipeline;

  // `validation_stores` and `test_stores` of the `stores` are held out (the rest train).
  explicit SmallFleet(int stores = 4, int cases = 3, double days = 0.5, bool open_store = true,
                      int validation_stores = 1, int test_stores = 1) {
    refrigeration::SimulatorOptions o;
    o.seed = 11;
    o.stores = stores;
    o.cases_per_store = cases;
    o.days = days;
    sim = std::move(refrigeration::FleetSimulator::Create(o)).value();
    pipeline.train = 0.5;
    pipeline.validation = 0.25;
    pipeline.test = 0.25;
    const int train_stores = stores - validation_stores - test_stores;
    auto seed = refrigeration::ChooseStoreSplitSeed(pipeline, stores, train_stores,
                                                    validation_stores, test_stores);
    if (!seed.ok()) {
      // Counts far from 1/2, 1/4, 1/4 (e.g. 6 / 15 / 15): fractions in proportion to them.
      pipeline.train = static_cast<double>(train_stores) / stores;
      pipeline.validation = static_cast<double>(validation_stores) / stores;
      pipeline.test = static_cast<double>(test_stores) / stores;
      seed = refrigeration::ChooseStoreSplitSeed(pipeline, stores, train_stores, validation_stores,
                                                 test_stores);
    }
    pipeline.split_seed = seed.value();
    StoreOptions so;
    so.durability = Durability::kAsync;
    EXPECT_TRUE(Store::Open(so, StorePath(), &store).ok());
    auto ingested = refrigeration::IngestSimulatedFleet(*store, "fleet", *sim);
    EXPECT_TRUE(ingested.ok()) << ingested.status().ToString();
    if (!open_store) store.reset();
  }

  std::string StorePath() const { return dir.Sub("store"); }

  TrainJobOptions Options(const std::string& name, int learners) const {
    TrainJobOptions t;
    t.pipeline_text = refrigeration::DemoPipelineToml(pipeline);
    t.model_spec_json = refrigeration::DemoRegressorSpec("lstm", pipeline.window_length, 8);
    t.model_name = name;
    t.learners = learners;
    t.trainer.epochs = 2;
    t.trainer.batch_size = 32;
    t.records_per_claim = 1000;
    t.fit_hours = 6;
    return t;
  }
};

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_TESTING_SMALL_FLEET_H_
