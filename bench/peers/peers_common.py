"""What the peer benchmarks share with bench/kernels/ (issue 4): the shape grid, the case names,
the FLOP counts (the same formulas as bench/kernels/lstm_stack.h and gan_bench.cc) and the
Google-Benchmark-compatible JSON that bench/kernels/summarize.py reads.

Timing protocol (the C++ side's, as far as a Python/JS peer can follow it): warm-up calls, then
`repetitions` timed runs, each of as many calls as fill `min_time` seconds; the figure of a run
is the calling thread's CPU time per call (the C++ cases use CLOCK_THREAD_CPUTIME_ID on a shared
machine), wall time is reported beside it as real_time. With several repetitions the output
holds mean/median/stddev aggregates (as --benchmark_report_aggregates_only does), else one
iteration entry per case."""
import datetime
import json
import os
import platform
import re
import statistics

BATCHES = (1, 8, 64, 256)
HIDDENS = (32, 64, 128, 256)
SEQ = 64
INPUT = 8
GAN_SEQ = 32
GAN_FEATURES = 8
GAN_NOISE = 8
GAN_BATCHES = (8, 64)
GAN_HIDDENS = (32, 64)


def lstm_name(kind, backend, batch, hidden, layers, seq=SEQ, inp=INPUT):
    return f"{kind}/{backend}/batch:{batch}/hidden:{hidden}/seq:{seq}/input:{inp}/layers:{layers}"


def gan_name(backend, batch, hidden):
    return (f"gan_step/{backend}/batch:{batch}/hidden:{hidden}/seq:{GAN_SEQ}"
            f"/features:{GAN_FEATURES}/noise:{GAN_NOISE}")


def forward_flops(batch, hidden, layers, seq=SEQ, inp=INPUT):
    """2 × multiply-adds of the recurrent products of one forward pass, all layers."""
    f = 0.0
    for layer in range(layers):
        layer_in = inp if layer == 0 else hidden
        f += 2.0 * seq * batch * 4.0 * hidden * (layer_in + hidden)
    return f


def gan_flops(batch, hidden):
    """gan_bench.cc: D step = G forward on B + D forward/backward on 2B; G step = G and D
    forward/backward on B; forward/backward counts 3 forwards. Recurrent layers only."""
    g = forward_flops(batch, hidden, 1, GAN_SEQ, GAN_NOISE)
    d = forward_flops(batch, hidden, 1, GAN_SEQ, GAN_FEATURES)
    return 4 * g + 9 * d


def lstm_cases(kinds, backend):
    """(name, kind, batch, hidden, layers) over the C++ grid: lstm_infer for every batch ×
    hidden × layers {1, 2}; lstm_train for every batch × hidden at 1 layer plus batch 64 hidden
    128 at 2 layers (bench/kernels/lstm_bench.cc registers the same)."""
    cases = []
    if "lstm_infer" in kinds:
        for layers in (1, 2):
            for b in BATCHES:
                for h in HIDDENS:
                    cases.append((lstm_name("lstm_infer", backend, b, h, layers), "lstm_infer", b, h,
                                  layers))
    if "lstm_train" in kinds:
        for b in BATCHES:
            for h in HIDDENS:
                cases.append((lstm_name("lstm_train", backend, b, h, 1), "lstm_train", b, h, 1))
        cases.append((lstm_name("lstm_train", backend, 64, 128, 2), "lstm_train", 64, 128, 2))
    return cases


def select(cases, pattern, quick):
    """--filter is a regex searched in the name (like --benchmark_filter); --quick keeps the
    target shapes only: batch 64 at hidden 128 and 256 (both layer counts) and every GAN
    case (they are small)."""
    rx = re.compile(pattern) if pattern else None
    out = []
    for c in cases:
        name = c[0]
        if rx and not rx.search(name):
            continue
        if quick and not re.search(r"batch:64/hidden:(128|256)/|gan_step/", name):
            continue
        out.append(c)
    return out


def calls_for(min_time, seconds_per_call):
    return max(1, int(min_time / max(seconds_per_call, 1e-9)) + 1)


class Report:
    """Collects cases and writes the Google Benchmark JSON layout (times in microseconds)."""

    def __init__(self, executable, extra_context=None, peak_gflops=None, peak512_gflops=None):
        self.benchmarks = []
        self.peak = peak_gflops
        self.peak512 = peak512_gflops
        self.context = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "host_name": platform.node(),
            "executable": executable,
            "num_cpus": os.cpu_count(),
            "load_avg": list(os.getloadavg()),
            "library_build_type": "release",
        }
        if extra_context:
            self.context.update(extra_context)

    def add(self, name, runs, flops, counters=None):
        """runs: [(iterations, cpu_seconds_per_call, wall_seconds_per_call)], one per
        repetition; GFLOPS from the CPU time (the C++ cases' clock)."""
        def entry(run_name, run_type, cpu, wall, iters, rep_index=None, aggregate=None):
            e = {"name": run_name if aggregate is None else f"{run_name}_{aggregate}",
                 "run_name": run_name, "run_type": run_type, "repetitions": len(runs),
                 "threads": 1, "iterations": iters, "real_time": wall * 1e6,
                 "cpu_time": cpu * 1e6, "time_unit": "us"}
            if rep_index is not None:
                e["repetition_index"] = rep_index
            if aggregate is not None:
                e["aggregate_name"] = aggregate
            if aggregate != "stddev":
                e["GFLOPS"] = flops / cpu * 1e-9 if cpu > 0 else 0.0
                if self.peak:
                    e["peak_frac"] = e["GFLOPS"] / self.peak
                    e["limit_frac"] = e["peak_frac"]
                if self.peak512:
                    e["peak512_frac"] = e["GFLOPS"] / self.peak512
            e.update(counters or {})
            return e

        if len(runs) == 1:
            iters, cpu, wall = runs[0]
            self.benchmarks.append(entry(name, "iteration", cpu, wall, iters, 0))
            return
        cpus = [r[1] for r in runs]
        walls = [r[2] for r in runs]
        n = len(runs)
        for agg, fn in (("mean", statistics.mean), ("median", statistics.median),
                        ("stddev", statistics.stdev)):
            self.benchmarks.append(entry(name, "aggregate", fn(cpus), fn(walls), n, None, agg))

    def write(self, path):
        doc = {"context": self.context, "benchmarks": self.benchmarks}
        text = json.dumps(doc, indent=2)
        if path in (None, "-"):
            print(text)
        else:
            with open(path, "w") as f:
                f.write(text + "\n")
