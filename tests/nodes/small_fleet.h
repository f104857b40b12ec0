// A small simulated fleet in a real store on disk, shared by the job tests.
#ifndef NEMESYST_TESTS_NODES_SMALL_FLEET_H_
#define NEMESYST_TESTS_NODES_SMALL_FLEET_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "nemesyst/simulator.h"
#include "nemesyst/store.h"
#include "nodes/demo_specs.h"
#include "nodes/fleet_ingest.h"
#include "nodes/train_job.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst::testing {

struct SmallFleet {
  TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<FleetSimulator> sim;
  nodes::DemoPipelineOptions pipeline;

  explicit SmallFleet(int stores = 4, int cases = 3, double days = 0.5, bool open_store = true) {
    SimulatorOptions o;
    o.seed = 11;
    o.stores = stores;
    o.cases_per_store = cases;
    o.days = days;
    sim = std::move(FleetSimulator::Create(o)).value();
    pipeline.train = 0.5;
    pipeline.validation = 0.25;
    pipeline.test = 0.25;
    pipeline.split_seed = nodes::ChooseStoreSplitSeed(pipeline, stores, stores - 2, 1, 1).value();
    StoreOptions so;
    so.durability = Durability::kAsync;
    EXPECT_TRUE(Store::Open(so, StorePath(), &store).ok());
    auto ingested = nodes::IngestSimulatedFleet(*store, "fleet", *sim);
    EXPECT_TRUE(ingested.ok()) << ingested.status().ToString();
    if (!open_store) store.reset();
  }

  std::string StorePath() const { return dir.Sub("store"); }

  nodes::TrainJobOptions Options(const std::string& name, int learners) const {
    nodes::TrainJobOptions t;
    t.pipeline_text = nodes::DemoPipelineToml(pipeline);
    t.model_spec_json = nodes::DemoRegressorSpec("lstm", pipeline.window_length, 8);
    t.model_name = name;
    t.learners = learners;
    t.learner.epochs = 2;
    t.learner.batch_size = 32;
    t.records_per_claim = 1000;
    t.fit_hours = 6;
    return t;
  }
};

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_NODES_SMALL_FLEET_H_
