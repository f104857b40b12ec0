#!/usr/bin/env python3
"""Summarises nemesyst_kernels_bench JSON output as Markdown.

  summarize.py bench.json [more.json ...]   the issue-4 targets (as ratios within the run) and a
      table of every case; later files add cases, e.g. a DNNL_MAX_CPU_ISA=AVX2 run whose onednn
      cases are renamed onednn-avx2 with --rename onednn=onednn-avx2 before the file name.
  summarize.py --runs run1.json run2.json ...   one complete run per file (targets.sh): each
      target's median over the runs and its range."""
import json
import re
import sys

NATIVE = ("avx2", "avx512")  # our hand-written backends


def load(paths):
    cases, rename = {}, None
    for arg in paths:
        if arg.startswith("--rename"):
            rename = arg.split("=", 1)[1] if "=" in arg else None
            continue
        with open(arg) as f:
            data = json.load(f)
        for b in data["benchmarks"]:
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            name = re.sub(r"/(min_time|iterations|real_time|repeats)[^/]*", "", b["run_name"])
            if rename:
                old, new = rename.split("=") if "=" in rename else (rename, rename)
                name = name.replace("/" + old + "/", "/" + new + "/")
            cases[name] = b
        rename = None
    return cases


def g(cases, name, key="GFLOPS"):
    b = cases.get(name)
    return None if b is None or key not in b else b[key]


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt(x, pct=False):
    if x is None:
        return "n/a"
    return f"{100 * x:.0f} %" if pct else f"{x:.2f}"


# A target: what, measured value (None when the run lacks a case), unit ("x" ratio, "%" share,
# "us"), goal as (">=" or "<=", threshold), or goal None for a context row.
def fmt_unit(x, unit):
    if x is None:
        return "n/a"
    return {"x": lambda v: f"{v:.2f}", "%": lambda v: f"{100 * v:.0f} %",
            "us": lambda v: f"{v:.0f} us"}[unit](x)


def met(x, goal):
    if goal is None or x is None:
        return False
    op, threshold = goal
    return x >= threshold if op == ">=" else x <= threshold


def targets(cases):
    """The issue-4 targets of one run, as (what, value, unit, goal) tuples."""
    shape = "batch:{b}/hidden:{h}/seq:64/input:8/layers:{l}"
    rows = []

    def target(what, value, unit, goal):
        rows.append((what, value, unit, goal))

    # Our hand-written backends: avx2 always; avx512 where the run has it (AVX-512 CPUs). Every
    # target is stated for each, so a reader sees both the like-for-like AVX2 figure and the best
    # this CPU allows.
    natives = [n for n in NATIVE if any(f"/{n}/" in name for name in cases)] or ["avx2"]
    for n in natives:
        for h, goal in ((32, 2.5), (64, 1.5), (128, 1.5)):
            s = shape.format(b=1, h=h, l=1)
            r = ratio(g(cases, f"lstm_infer/{n}/{s}"), g(cases, f"lstm_infer/onednn/{s}"))
            target(f"infer b1 h{h}: {n} / onednn", r, "x", (">=", goal))
            if h >= 64:
                f = g(cases, f"lstm_infer/{n}/{s}", "bw_frac")
                target(f"infer b1 h{h}: {n} share of weight-level bandwidth", f, "%", (">=", 0.7))
    for n in natives:
        for h in (64, 128, 256):
            s = shape.format(b=1, h=h, l=1)
            r = ratio(g(cases, f"lstm_infer/{n}/{s}/fp16/threads:2"),
                      g(cases, f"lstm_infer/onednn/{s}"))
            target(f"infer b1 h{h}: {n} fp16+threads:2 / onednn", r, "x", (">=", 2.5))
    for n in natives:
        peak = "peak_frac" if n == "avx2" else "peak512_frac"
        peak_name = "peak_fma" if n == "avx2" else "peak_fma_avx512"
        for h in (128, 256):
            s = shape.format(b=64, h=h, l=1)
            r = ratio(g(cases, f"lstm_infer/{n}/{s}"), g(cases, f"lstm_infer/onednn/{s}"))
            target(f"infer b64 h{h}: {n} / onednn", r, "x", (">=", 1.2))
            r2 = ratio(g(cases, f"lstm_infer/{n}/{s}"), g(cases, f"lstm_infer/onednn-avx2/{s}"))
            if r2 is not None:
                target(f"infer b64 h{h}: {n} / onednn limited to AVX2", r2, "x", None)
            f = g(cases, f"lstm_infer/{n}/{s}", peak)
            target(f"infer b64 h{h}: {n} share of {peak_name}", f, "%", (">=", 0.7))
        s = shape.format(b=64, h=128, l=1)
        r = ratio(g(cases, f"lstm_train/{n}/{s}"), g(cases, f"lstm_train/onednn/{s}"))
        target(f"train b64 h128: {n} / onednn", r, "x", (">=", 1.2))
        f = g(cases, f"lstm_train/{n}/{s}", peak)
        target(f"train b64 h128: {n} share of {peak_name}", f, "%", (">=", 0.5))
        f = g(cases, f"lstm_stream/{n}/devices:1000/hidden:64/layers:2", peak)
        target(f"stream 1000 devices h64 2 layers: {n} share of {peak_name}", f, "%", (">=", 0.5))
    for n in natives:
        for b, h in ((64, 128), (64, 256), (256, 128), (256, 256)):
            s = shape.format(b=b, h=h, l=1)
            r = ratio(g(cases, f"lstm_infer/{n}/{s}/threads:2"), g(cases, f"lstm_infer/{n}/{s}"))
            target(f"infer b{b} h{h}: {n} threads:2 / threads:1", r, "x", (">=", 1.7))
        s = shape.format(b=64, h=128, l=1)
        r = ratio(g(cases, f"lstm_train/{n}/{s}/threads:2"), g(cases, f"lstm_train/{n}/{s}"))
        target(f"train b64 h128: {n} threads:2 / threads:1", r, "x", (">=", 1.7))
    # The oneDNN ratios from the paired cases (paired_bench.cc): our call and oneDNN's back to back.
    for n in natives:
        paired = [(f"infer b1 h{h}: {n} / onednn", f"lstm_infer/{n}/{shape.format(b=1, h=h, l=1)}",
                   goal) for h, goal in ((32, 2.5), (64, 1.5), (128, 1.5))]
        paired += [(f"infer b1 h{h}: {n} fp16+threads:2 / onednn",
                    f"lstm_infer/{n}/{shape.format(b=1, h=h, l=1)}/fp16/threads:2", 2.5)
                   for h in (64, 128, 256)]
        paired += [(f"infer b64 h{h}: {n} / onednn", f"lstm_infer/{n}/{shape.format(b=64, h=h, l=1)}",
                    1.2) for h in (128, 256)]
        paired.append((f"train b64 h128: {n} / onednn",
                       f"lstm_train/{n}/{shape.format(b=64, h=128, l=1)}", 1.2))
        for what, name, goal in paired:
            r = g(cases, name + "/vs:onednn/paired", "speedup_vs_onednn")
            if r is not None:
                target(what + ", paired", r, "x", (">=", goal))
    # The shares of peak from the paired cases: each call next to a peak measurement.
    for n in natives:
        peak_name = "peak_fma" if n == "avx2" else "peak_fma_avx512"
        for what, name, goal in (
                ("infer b64 h128", f"lstm_infer/{n}/{shape.format(b=64, h=128, l=1)}", 0.7),
                ("infer b64 h256", f"lstm_infer/{n}/{shape.format(b=64, h=256, l=1)}", 0.7),
                ("train b64 h128", f"lstm_train/{n}/{shape.format(b=64, h=128, l=1)}", 0.5),
                ("stream 1000 devices h64 2 layers",
                 f"lstm_stream/{n}/devices:1000/hidden:64/layers:2", 0.5)):
            f = g(cases, name + "/peak/paired", "peak_share")
            if f is not None:
                target(f"{what}: {n} share of {peak_name}, paired", f, "%", (">=", goal))
    # The two-thread targets from the paired cases: threads:1 and threads:2 calls back to back with
    # the machine's own two-core FMA scaling measured right after, so a reader can tell a kernel
    # that does not scale from cores that did not deliver.
    scaling = g(cases, "two_core_fma/threads:2", "scaling")
    if scaling is not None:
        target("machine: two cores' FMA loop, threads:2 / threads:1 (2.0 on idle cores)", scaling,
               "x", None)
    for n in natives:
        paired = [(f"infer b{b} h{h}", f"lstm_infer/{n}/{shape.format(b=b, h=h, l=1)}")
                  for b, h in ((64, 128), (64, 256), (256, 128), (256, 256))]
        paired.append(("train b64 h128", f"lstm_train/{n}/{shape.format(b=64, h=128, l=1)}"))
        for what, name in paired:
            case = name + "/threads:2/paired"
            if g(cases, case, "speedup") is None:
                continue
            target(f"{what}: {n} threads:2 / threads:1, paired", g(cases, case, "speedup"), "x",
                   (">=", 1.7))
            target(f"{what}: {n} paired, what the cores gave (FMA loop, same moments)",
                   g(cases, case, "machine_scaling"), "x", None)
    for n in natives:
        for h in (32, 64, 128, 256):
            s = f"batch:1/hidden:{h}/seq:1/input:8/layers:1"
            us = g(cases, f"cold_start/{n}/{s}", "first_us")
            target(f"cold start h{h}: {n} (first, wall)", us, "us", ("<=", 1000))
    return rows


def goal_cells(x, unit, goal):
    """The goal column and the met column for value x."""
    if goal is None:
        return "(context)", ""
    return f"{goal[0]} {fmt_unit(goal[1], unit)}", "yes" if met(x, goal) else "**no**"


def print_targets(rows):
    print("| target | measured | goal | met |\n| --- | --- | --- | --- |")
    for what, x, unit, goal in rows:
        goal_text, ok = goal_cells(x, unit, goal)
        print(f"| {what} | {fmt_unit(x, unit)} | {goal_text} | {ok} |")


def print_runs(runs):
    """Several complete runs: each target's median over the runs, its range, and whether the
    median meets the goal (a KVM guest's speed moves between runs; one run is one sample)."""
    per_run = [targets(cases) for cases in runs]
    print(f"| target | median of {len(runs)} runs | range | goal | met (median) |")
    print("| --- | --- | --- | --- | --- |")
    for i, (what, _, unit, goal) in enumerate(per_run[0]):
        xs = sorted(r[i][1] for r in per_run
                    if i < len(r) and r[i][0] == what and r[i][1] is not None)
        median = None
        if xs:
            mid = len(xs) // 2
            median = xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2
        span = f"{fmt_unit(xs[0], unit)}–{fmt_unit(xs[-1], unit)}" if xs else "n/a"
        goal_text, ok = goal_cells(median, unit, goal)
        print(f"| {what} | {fmt_unit(median, unit)} | {span} | {goal_text} | {ok} |")


def print_cases(cases):
    print("| case | GFLOP/s | share of peak_fma | share of weight bandwidth | other |")
    print("| --- | --- | --- | --- | --- |")
    for name, b in cases.items():
        extra = []
        for k in ("GBps", "devices_per_s", "first_us", "cpu_us_per_start", "scaling", "speedup",
                  "machine_scaling", "speedup_vs_onednn", "us_per_call", "onednn_us_per_call",
                  "peak_share"):
            if k in b:
                extra.append(f"{k}={b[k]:.4g}")
        if "error_occurred" in b and b["error_occurred"]:
            extra.append("error: " + b.get("error_message", ""))
        print(f"| {name} | {fmt(b.get('GFLOPS'))} | {fmt(b.get('peak_frac'), True)} | "
              f"{fmt(b.get('bw_frac'), True)} | {' '.join(extra)} |")


def main():
    args = sys.argv[1:]
    if args and args[0] == "--runs":
        # summarize.py --runs run1.json run2.json ...: one complete run per file.
        print_runs([load([path]) for path in args[1:]])
        return
    cases = load(args)
    print_targets(targets(cases))
    print()
    print_cases(cases)


if __name__ == "__main__":
    main()
