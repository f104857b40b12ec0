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
NATIVE = ("avx2", "avx512")  # our hand-written kernels; avx512 rows appear when the run has them
OURS = NATIVE + ("onednn",)


def targets(cases):
    rows = []
    natives = [n for n in NATIVE if any(f"/{n}/" in name for name in cases)] or ["avx2"]

    def row(what, ours, peer, goal):
        r = ratio(g(cases, ours), g(cases, peer))
        met = "n/a" if r is None else ("yes" if r >= goal else "**no**")
        rows.append((what, fmt(r), f">= {goal}", met))

    for n in natives:
        for h in (128, 256):
            s = SHAPE.format(b=64, h=h, l=1)
            row(f"infer b64 h{h}: {n} / onnxruntime", f"lstm_infer/{n}/{s}",
                f"lstm_infer/onnxruntime/{s}", 1.0)
    for n in natives:
        s = SHAPE.format(b=64, h=128, l=1)
        row(f"train b64 h128: {n} / pytorch (OpenBLAS)", f"lstm_train/{n}/{s}",
            f"lstm_train/pytorch/{s}", 1.4)
    for n in natives:
        for b in (8, 64):
            for h in (32, 64):
                s = GAN.format(b=b, h=h)
                row(f"gan step b{b} h{h}: {n} / pytorch (OpenBLAS)", f"gan_step/{n}/{s}",
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
    cols = [c for c in OURS if c == "avx2" or any(f"/{c}/" in n for n in cases)] + list(PEERS)
    natives = [c for c in NATIVE if c in cols]
    print("| case | " + " | ".join(f"{c} GFLOP/s" for c in cols) + " | " +
          " | ".join(f"{n} / {p}" for n in natives for p in PEERS) + " |")
    print("| --- |" + " --- |" * (len(cols) + len(natives) * len(PEERS)))

    def order(item):  # kind, then the shape's numbers in order (batch, hidden, ..., layers)
        (kind, shape), _ = item
        return kind, [int(n) for n in re.findall(r":(\d+)", shape)]

    for (kind, shape), names in sorted(shapes(cases).items(), key=order):
        val = {c: g(cases, names[c]) if c in names else None for c in cols}
        ratios = [fmt(ratio(val[n], val[p])) for n in natives for p in PEERS]
        print(f"| {kind}/{shape} | " + " | ".join(fmt(val[c]) for c in cols) + " | " +
              " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
