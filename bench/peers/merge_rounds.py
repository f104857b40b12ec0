#!/usr/bin/env python3
"""Merges the JSON files of several rounds of one benchmark (bench/peers/run.sh --rounds N runs
the C++ bench and both peers in turn, N times, so that every side sees the same shared-machine
load) into one file holding, per case, the median over the rounds as a Google Benchmark
`median` aggregate (what bench/kernels/summarize.py and compare.py read). Within a round a case
may already be an aggregate (--repetitions): its median is the round's value.
Usage: merge_rounds.py OUT.json ROUND1.json ROUND2.json ..."""
import json
import statistics
import sys

NUMERIC_SKIP = {"repetitions", "repetition_index", "threads", "family_index",
                "per_family_instance_index"}


def per_round(path):
    with open(path) as f:
        doc = json.load(f)
    cases = {}
    for b in doc["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        cases[b["run_name"]] = b
    return doc, cases


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, paths = sys.argv[1], sys.argv[2:]
    rounds = [per_round(p) for p in paths]
    context = dict(rounds[0][0]["context"])
    context["rounds"] = len(rounds)
    context["merged_from"] = paths
    names = []
    for _, cases in rounds:
        names += [n for n in cases if n not in names]
    merged = []
    for name in names:
        seen = [cases[name] for _, cases in rounds if name in cases]
        e = dict(seen[0])
        for key, value in seen[0].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                    key not in NUMERIC_SKIP:
                vals = [s[key] for s in seen if isinstance(s.get(key), (int, float))]
                e[key] = statistics.median(vals)
        e.update({"name": name + "_median", "run_name": name, "run_type": "aggregate",
                  "aggregate_name": "median", "repetitions": len(seen)})
        e.pop("repetition_index", None)
        merged.append(e)
    with open(out, "w") as f:
        json.dump({"context": context, "benchmarks": merged}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
