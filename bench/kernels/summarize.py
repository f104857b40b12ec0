#!/usr/bin/env python3
"""Summarises a nemesyst_kernels_bench JSON file as Markdown: the issue-4 targets (as ratios
within the run) and a table of every case. Usage: summarize.py bench.json [more.json ...]
(later files add cases, e.g. a DNNL_MAX_CPU_ISA=AVX2 run whose onednn cases are renamed
onednn-avx2 with --rename onednn=onednn-avx2 before the file name)."""
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


def main():
    cases = load(sys.argv[1:])
    shape = "batch:{b}/hidden:{h}/seq:64/input:8/layers:{l}"
    rows = []

    def target(what, value, goal, ok):
        rows.append((what, value, goal, "yes" if ok else "**no**"))

    # Our hand-written backends: avx2 always; avx512 where the run has it (AVX-512 CPUs). Every
    # target is stated for each, so a reader sees both the like-for-like AVX2 figure and the best
    # this CPU allows.
    natives = [n for n in NATIVE if any(f"/{n}/" in name for name in cases)] or ["avx2"]
    for n in natives:
        for h, goal in ((32, 2.5), (64, 1.5), (128, 1.5)):
            s = shape.format(b=1, h=h, l=1)
            r = ratio(g(cases, f"lstm_infer/{n}/{s}"), g(cases, f"lstm_infer/onednn/{s}"))
            target(f"infer b1 h{h}: {n} / onednn", fmt(r), f">= {goal}", r is not None and r >= goal)
            if h >= 64:
                f = g(cases, f"lstm_infer/{n}/{s}", "bw_frac")
                target(f"infer b1 h{h}: {n} share of weight-level bandwidth", fmt(f, True),
                       ">= 70 %", f is not None and f >= 0.7)
    for n in natives:
        for h in (64, 128, 256):
            s = shape.format(b=1, h=h, l=1)
            r = ratio(g(cases, f"lstm_infer/{n}/{s}/fp16/threads:2"),
                      g(cases, f"lstm_infer/onednn/{s}"))
            target(f"infer b1 h{h}: {n} fp16+threads:2 / onednn", fmt(r), ">= 2.5",
                   r is not None and r >= 2.5)
    for n in natives:
        peak = "peak_frac" if n == "avx2" else "peak512_frac"
        peak_name = "peak_fma" if n == "avx2" else "peak_fma_avx512"
        for h in (128, 256):
            s = shape.format(b=64, h=h, l=1)
            r = ratio(g(cases, f"lstm_infer/{n}/{s}"), g(cases, f"lstm_infer/onednn/{s}"))
            target(f"infer b64 h{h}: {n} / onednn", fmt(r), ">= 1.2", r is not None and r >= 1.2)
            r2 = ratio(g(cases, f"lstm_infer/{n}/{s}"), g(cases, f"lstm_infer/onednn-avx2/{s}"))
            if r2 is not None:
                rows.append((f"infer b64 h{h}: {n} / onednn limited to AVX2", fmt(r2), "(context)", ""))
            f = g(cases, f"lstm_infer/{n}/{s}", peak)
            target(f"infer b64 h{h}: {n} share of {peak_name}", fmt(f, True), ">= 70 %",
                   f is not None and f >= 0.7)
        s = shape.format(b=64, h=128, l=1)
        r = ratio(g(cases, f"lstm_train/{n}/{s}"), g(cases, f"lstm_train/onednn/{s}"))
        target(f"train b64 h128: {n} / onednn", fmt(r), ">= 1.2", r is not None and r >= 1.2)
        f = g(cases, f"lstm_train/{n}/{s}", peak)
        target(f"train b64 h128: {n} share of {peak_name}", fmt(f, True), ">= 50 %",
               f is not None and f >= 0.5)
        f = g(cases, f"lstm_stream/{n}/devices:1000/hidden:64/layers:2", peak)
        target(f"stream 1000 devices h64 2 layers: {n} share of {peak_name}", fmt(f, True),
               ">= 50 %", f is not None and f >= 0.5)
    for n in natives:
        for b, h in ((64, 128), (64, 256), (256, 128), (256, 256)):
            s = shape.format(b=b, h=h, l=1)
            r = ratio(g(cases, f"lstm_infer/{n}/{s}/threads:2"), g(cases, f"lstm_infer/{n}/{s}"))
            target(f"infer b{b} h{h}: {n} threads:2 / threads:1", fmt(r), ">= 1.7",
                   r is not None and r >= 1.7)
        s = shape.format(b=64, h=128, l=1)
        r = ratio(g(cases, f"lstm_train/{n}/{s}/threads:2"), g(cases, f"lstm_train/{n}/{s}"))
        target(f"train b64 h128: {n} threads:2 / threads:1", fmt(r), ">= 1.7",
               r is not None and r >= 1.7)
    # The same targets from the paired cases (scaling_bench.cc): threads:1 and threads:2 calls back
    # to back with the machine's own two-core FMA scaling measured right after, so a reader can
    # tell a kernel that does not scale from cores that did not deliver.
    scaling = g(cases, "two_core_fma/threads:2", "scaling")
    if scaling is not None:
        rows.append(("machine: two cores' FMA loop, threads:2 / threads:1", fmt(scaling),
                     "(context: 2.0 on idle dedicated cores)", ""))
    for n in natives:
        paired = [(f"infer b{b} h{h}", f"lstm_infer/{n}/{shape.format(b=b, h=h, l=1)}")
                  for b, h in ((64, 128), (64, 256), (256, 128), (256, 256))]
        paired.append(("train b64 h128", f"lstm_train/{n}/{shape.format(b=64, h=128, l=1)}"))
        for what, name in paired:
            r = g(cases, name + "/threads:2/paired", "speedup")
            m = g(cases, name + "/threads:2/paired", "machine_scaling")
            of = g(cases, name + "/threads:2/paired", "speedup_of_machine")
            if r is None:
                continue
            target(f"{what}: {n} threads:2 / threads:1, paired",
                   f"{fmt(r)} (cores gave {fmt(m)}; {fmt(of, True)} of it)", ">= 1.7", r >= 1.7)
    for n in natives:
        for h in (32, 64, 128, 256):
            s = f"batch:1/hidden:{h}/seq:1/input:8/layers:1"
            us = g(cases, f"cold_start/{n}/{s}", "first_us")
            target(f"cold start h{h}: {n} (first, wall)", f"{us:.0f} us" if us else "n/a",
                   "<= 1000 us", us is not None and us <= 1000)

    print("| target | measured | goal | met |\n| --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()
    print("| case | GFLOP/s | share of peak_fma | share of weight bandwidth | other |")
    print("| --- | --- | --- | --- | --- |")
    for name, b in cases.items():
        extra = []
        for k in ("GBps", "devices_per_s", "first_us", "cpu_us_per_start", "scaling", "speedup",
                  "machine_scaling"):
            if k in b:
                extra.append(f"{k}={b[k]:.4g}")
        if "error_occurred" in b and b["error_occurred"]:
            extra.append("error: " + b.get("error_message", ""))
        print(f"| {name} | {fmt(b.get('GFLOPS'))} | {fmt(b.get('peak_frac'), True)} | "
              f"{fmt(b.get('bw_frac'), True)} | {' '.join(extra)} |")


if __name__ == "__main__":
    main()
