#!/usr/bin/env bash
# Measures issue 4's kernel targets RUNS times (default 5) and prints each target's median over
# the runs and its range (summarize.py --runs). One run of this KVM guest is one sample: its
# speed moves ±20 % between runs, so a target is judged by the median, never by one run.
#   bench/kernels/targets.sh [RUNS] [OUT_DIR]      (from the repository root, after a build)
# About 3–4 minutes per run; run it with nothing else on the machine.
set -euo pipefail
runs="${1:-5}"
out="${2:-build/bench/targets}"
bench=build/bin/nemesyst_kernels_bench
[[ -x "$bench" ]] || { echo "targets.sh: $bench not built (tools/build.sh)" >&2; exit 2; }
filter='peak_fma|two_core_fma|read_bw|cold_start'
filter+='|lstm_infer/.*/batch:1/hidden:.*/seq:64/input:8/layers:1/'
filter+='|lstm_infer/.*/batch:(64|256)/hidden:(128|256)/seq:64/input:8/layers:1/'
filter+='|lstm_train/.*/batch:64/hidden:128/seq:64/input:8/layers:1/'
filter+='|lstm_stream/.*/devices:1000/hidden:64/layers:2/'
filter+='|/peak/paired'
mkdir -p "$out"
files=()
for i in $(seq 1 "$runs"); do
  echo "targets.sh: run $i of $runs" >&2
  "$bench" --benchmark_filter="$filter" --benchmark_repetitions=3 \
    --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
    --benchmark_out="$out/run$i.json" --benchmark_out_format=json >/dev/null 2>&1
  files+=("$out/run$i.json")
done
python3 "$(dirname "$0")/summarize.py" --runs "${files[@]}"
