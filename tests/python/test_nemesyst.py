"""The `nemesyst` Python module (python/, docs/python.md), run by ctest with Debian's Python and
numpy: streams as arrays in and out, atomic appends that write nothing when refused, consumer
groups, the registry, and predictors (windowed and streaming) on a model the CLI trained.

    test_nemesyst.py NEMESYST_CLI   (with PYTHONPATH holding the module)
"""
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

import nemesyst

CLI = sys.argv.pop(1) if len(sys.argv) > 1 else "nemesyst"


class StreamsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.fleet = nemesyst.simulate_fleet(seed=3, stores=1, cases_per_store=2, days=0.2)
        self.store = nemesyst.Store(os.path.join(self.dir.name, "store"))
        self.store.create_stream("fleet", self.fleet["schema"])

    def tearDown(self):
        self.store.close()
        self.dir.cleanup()

    def test_append_and_read_back_as_arrays(self):
        f = self.fleet
        first, last = self.store.append("fleet", f["device"], f["timestamp_us"], f["values"])
        self.assertEqual(last - first + 1, len(f["device"]))
        everything = self.store.read("fleet")
        np.testing.assert_array_equal(everything["timestamp_us"], f["timestamp_us"])
        # float32 fields come back as the float32 value, as the store keeps them.
        np.testing.assert_allclose(everything["values"], f["values"], rtol=1e-6)
        self.assertEqual(everything["fields"], [name for name, _ in f["schema"]])
        one = self.store.read("fleet", device="store-0000/case-01",
                              min_timestamp_us=int(f["timestamp_us"][10]))
        self.assertTrue(all(d == "store-0000/case-01" for d in one["device"]))
        self.assertTrue((one["timestamp_us"] >= f["timestamp_us"][10]).all())
        self.assertEqual(self.store.read("fleet", max_records=3)["seq"].tolist(), [1, 2, 3])

    def test_bad_input_raises_and_a_refused_batch_writes_nothing(self):
        f = self.fleet
        with self.assertRaises(nemesyst.Error) as e:
            self.store.append("fleet", "d", np.array([1]), np.zeros((1, 3)))
        self.assertEqual(e.exception.code, "invalid_argument")
        self.assertIn("columns", str(e.exception))
        with self.assertRaises(nemesyst.Error) as e:
            self.store.read("nope")
        self.assertEqual(e.exception.code, "not_found")
        values = f["values"][:4].copy()
        values[3, 0] = np.nan
        with self.assertRaises(nemesyst.Error):
            self.store.append("fleet", f["device"][:4], f["timestamp_us"][:4], values)
        self.assertEqual(len(self.store.read("fleet")["seq"]), 0)
        with self.assertRaises(nemesyst.Error):
            self.store.append("fleet", ["a", "b"], f["timestamp_us"][:3], f["values"][:3])

    def test_consumer_group_claim_nack_renew_ack(self):
        f = self.fleet
        self.store.append("fleet", f["device"], f["timestamp_us"], f["values"])
        self.store.create_group("g", "fleet")
        claim = self.store.claim("g", "m1", max_records=100)
        self.assertEqual((claim["first_seq"], claim["last_seq"]), (1, 100))
        self.store.nack("g", claim)
        again = self.store.claim("g", "m2", max_records=100)
        self.assertEqual(again["delivery"], 2)
        self.assertGreater(self.store.renew("g", again, 120000), again["lease_expires_ms"])
        self.store.ack("g", again)
        rest = len(f["device"]) - 100
        last = self.store.claim("g", "m1", max_records=rest)
        self.store.ack("g", last)
        self.assertIsNone(self.store.claim("g", "m1"))


class ModelsTest(unittest.TestCase):
    """A tiny single-process demo made by the CLI gives a store with trained models."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        demo = os.path.join(cls.dir.name, "demo")
        subprocess.run([CLI, "demo", "--single-process", "--dir", demo, "--stores", "4",
                        "--cases", "2", "--days", "1", "--epochs", "1", "--gan-epochs", "1",
                        "--hidden", "8", "--test-stores", "1", "--validation-stores", "1"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        cls.store = nemesyst.Store(os.path.join(demo, "store"))

    @classmethod
    def tearDownClass(cls):
        cls.store.close()
        cls.dir.cleanup()

    def test_registry_lists_and_resolves(self):
        names = {m["name"] for m in self.store.models()}
        self.assertTrue({"lstm", "rnn", "gan", "gan_lstm"} <= names, names)
        name, version = self.store.resolve("lstm:candidate")
        self.assertEqual(name, "lstm")
        self.assertGreaterEqual(version, 1)
        with self.assertRaises(nemesyst.Error) as e:
            self.store.resolve("nope:production")
        self.assertEqual(e.exception.code, "not_found")

    def test_streaming_and_windowed_prediction_on_numpy_arrays(self):
        p = self.store.predictor("lstm:candidate")
        self.assertEqual(p.model.split("@")[0], "lstm")
        readings = self.store.read("fleet", device="store-0000/case-00", max_records=200)
        self.assertEqual(readings["fields"], p.fields)
        streamed = p.tick("store-0000/case-00", readings["timestamp_us"], readings["values"])
        ready = np.flatnonzero(~np.isnan(streamed))
        self.assertGreater(len(ready), 0)
        self.assertTrue(np.isnan(streamed[: ready[0]]).all())
        # The first full window: the windowed prediction equals the streaming one.
        window = slice(0, ready[0] + 1)
        windowed = p.predict_window("store-0000/case-00", readings["timestamp_us"][window],
                                    readings["values"][window])
        self.assertAlmostEqual(windowed, streamed[ready[0]], delta=0.5)
        with self.assertRaises(nemesyst.Error):
            p.predict_window("d", readings["timestamp_us"][:2], readings["values"][:2])
        rebuilt = self.store.predictor("lstm:candidate", rebuild_from="fleet")
        self.assertEqual(rebuilt.fields, p.fields)

    def test_calibrated_lower_bounds_beside_the_predictions(self):
        p = self.store.predictor("lstm:candidate")
        readings = self.store.read("fleet", device="store-0000/case-00", max_records=200)
        predicted, lower = p.tick("store-0000/case-00", readings["timestamp_us"],
                                  readings["values"], with_lower=True)
        ready = np.flatnonzero(~np.isnan(predicted))
        self.assertGreater(len(ready), 0)
        # The train job calibrates a bound: known wherever a prediction is, and never above it.
        self.assertFalse(np.isnan(lower[ready]).any())
        self.assertTrue((lower[ready] <= predicted[ready]).all())
        self.assertTrue(np.isnan(lower[: ready[0]]).all())
        window = slice(0, ready[0] + 1)
        w_predicted, w_lower = p.predict_window(
            "store-0000/case-00", readings["timestamp_us"][window], readings["values"][window],
            with_lower=True)
        self.assertAlmostEqual(w_predicted, predicted[ready[0]], delta=0.5)
        self.assertAlmostEqual(w_lower, lower[ready[0]], delta=0.5)
        self.assertLessEqual(w_lower, w_predicted)


if __name__ == "__main__":
    unittest.main(verbosity=2)
