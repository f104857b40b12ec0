#!/usr/bin/env python3
"""The issue-4 targets that name a peer, as ratios of GFLOP/s (same work, so the inverse ratio
of times), from the C++ run's JSON and the peers' (read with bench/kernels/summarize.py's
loader, so names match the same way), printed as Markdown, then every shape that appears on
both sides with each side's GFLOP/s.
Usage: compare.py kernels.json pytorch.json onnxruntime.json [more.json ...]"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernels"))
from summarize import fmt, g, load, ratio  # noqa: E402

SHAPE = "batch:{b}/hidden:{h}/seq:64/input:8/layers:{l}"
GAN = "batch:{b}/hidden:{h}/seq:32/features:8/noise:8"
PEERS = ("pytorch", "onnxruntime")
OURS = ("avx2", "onednn")


def targets(cases):
    rows = []

    def row(what, ours, peer, goal):
        r = ratio(g(cases, ours), g(cases, peer))
        met = "n/a" if r is None else ("yes" if r >= goal else "**no**")
        rows.append((what, fmt(r), f">= {goal}", met))

    for h in (128, 256):
        s = SHAPE.format(b=64, h=h, l=1)
        row(f"infer b64 h{h}: avx2 / onnxruntime", f"lstm_infer/avx2/{s}",
            f"lstm_infer/onnxruntime/{s}", 1.0)
    s = SHAPE.format(b=64, h=128, l=1)
    row("train b64 h128: avx2 / pytorch (OpenBLAS)", f"lstm_train/avx2/{s}",
        f"lstm_train/pytorch/{s}", 1.4)
    for b in (8, 64):
        for h in (32, 64):
            s = GAN.format(b=b, h=h)
            row(f"gan step b{b} h{h}: avx2 / pytorch (OpenBLAS)", f"gan_step/avx2/{s}",
                f"gan_step/pytorch/{s}", 2.0)
    return rows


def shapes(cases):
    """Every case name with the backend taken out, for the shapes some peer ran."""
    out = {}
    for name in cases:
        m = re.match(r"([a-z_]+)/([a-z0-9-]+)/(.*)", name)
        if m and m.group(1) in ("lstm_infer", "lstm_train", "gan_step"):
            out.setdefault((m.group(1), m.group(3)), {})[m.group(2)] = name
    return {k: v for k, v in out.items() if any(p in v for p in PEERS)}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cases = load(sys.argv[1:])
    print("| target | measured | goal | met |\n| --- | --- | --- | --- |")
    for r in targets(cases):
        print("| " + " | ".join(r) + " |")
    print()
    cols = OURS + PEERS
    print("| case | " + " | ".join(f"{c} GFLOP/s" for c in cols) +
          " | avx2 / pytorch | avx2 / onnxruntime |")
    print("| --- |" + " --- |" * (len(cols) + 2))
    for (kind, shape), names in sorted(shapes(cases).items()):
        vals = [g(cases, names[c]) if c in names else None for c in cols]
        avx2, pt, ort = vals[0], vals[2], vals[3]
        print(f"| {kind}/{shape} | " + " | ".join(fmt(v) for v in vals) +
              f" | {fmt(ratio(avx2, pt))} | {fmt(ratio(avx2, ort))} |")


if __name__ == "__main__":
    main()
