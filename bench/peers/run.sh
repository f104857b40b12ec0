#!/usr/bin/env bash
# One command for the peer comparison of issue 4: installs the peers if needed
# (tools/peers-setup.sh), writes the ONNX models, runs the C++ kernel bench on the cases the
# peers also run (plus the peak_fma / read_bw probes), then the PyTorch (OpenBLAS) and
# ONNX Runtime peers, and prints the peer targets (bench/peers/compare.py) and the full
# summary (bench/kernels/summarize.py over all three JSON files).
#
# Usage: bench/peers/run.sh [--quick] [--rounds N] [--repetitions N] [--filter REGEX]
#                           [--out-dir DIR] [--bench PATH] [--skip-cpp]
#   --quick        target shapes only (batch 64, hidden 128/256; every GAN case), short runs
#   --rounds       run C++, PyTorch, ONNX Runtime in turn N times and report each case's median
#                  over the rounds (default 3; 1 with --quick): on a shared machine every side
#                  then sees the same load, so the ratios are fairer than one long run each
#   --repetitions  per case within a round, medians reported (default 1)
#   --filter       regex over the case names, for the peers and the C++ bench alike
#   --out-dir      where the JSON files go (default build/peers/results)
#   --bench        the C++ benchmark binary (default build/bin/nemesyst_kernels_bench)
#   --skip-cpp     reuse DIR/round*/kernels.json from an earlier run
# Environment: BUILD_DIR (default <repo>/build) holds bin/, peers/openblas, peers/node, peers/models.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${BUILD_DIR:-$repo/build}"
quick=0
reps=1
rounds=""
filter=""
out_dir=""
bench=""
skip_cpp=0
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --rounds) rounds="$2"; shift ;;
    --repetitions) reps="$2"; shift ;;
    --filter) filter="$2"; shift ;;
    --out-dir) out_dir="$2"; shift ;;
    --bench) bench="$2"; shift ;;
    --skip-cpp) skip_cpp=1 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
out_dir="${out_dir:-$build/peers/results}"
bench="${bench:-$build/bin/nemesyst_kernels_bench}"
if [[ -z "$rounds" ]]; then rounds=$((quick ? 1 : 3)); fi
min_time=$([[ $quick == 1 ]] && echo 0.05 || echo 0.2)
py=/usr/bin/python3  # Debian's: torch, numpy, onnx (the python3 first on PATH may lack them)

"$repo/tools/peers-setup.sh" "$build"
"$py" "$repo/bench/peers/make_onnx.py" --out "$build/peers/models"
mkdir -p "$out_dir"

peer_args=(--repetitions "$reps" --min-time "$min_time")
if [[ $quick == 1 ]]; then peer_args+=(--quick); fi
if [[ -n "$filter" ]]; then peer_args+=(--filter "$filter"); fi

run_round() {
  local round="$1" dir="$2" cases cpp_filter flag value
  mkdir -p "$dir"
  if [[ $skip_cpp == 0 ]]; then
    if [[ ! -x "$bench" ]]; then
      echo "run.sh: $bench not found; build it: cmake --build $build --target nemesyst_kernels_bench" >&2
      exit 2
    fi
    # The C++ cases that have a peer: lstm_infer / lstm_train / gan_step of avx2, avx512 (where
    # the bench has it) and onednn at one thread (the registered names end in /min_time:…, so layers:N/min_time leaves out the
    # /fp16 and /threads:2 variants).
    if [[ $quick == 1 ]]; then
      cases='(lstm_infer|lstm_train)/(avx2|avx512|onednn)/batch:64/hidden:(128|256)/seq:64/input:8/layers:[12]/min_time|gan_step/(avx2|avx512|onednn)/'
    else
      cases='(lstm_infer|lstm_train)/(avx2|avx512|onednn)/.*/layers:[12]/min_time|gan_step/(avx2|avx512|onednn)/'
    fi
    cpp_filter="peak_fma|read_bw|$cases"
    if [[ -n "$filter" ]]; then
      # Google Benchmark takes one regex; intersect with the peers' filter by listing the cases.
      cpp_filter=$("$bench" --benchmark_list_tests --benchmark_filter="$cases" |
        "$py" -c 'import re, sys
rx = re.compile(sys.argv[1])
def case(n):  # the name the peers use: without /min_time:…/real_time
    return re.sub(r"/(min_time|iterations|real_time|repeats)[^/]*", "", n)
names = [n.strip() for n in sys.stdin if rx.search(case(n.strip()))]
print("|".join(["peak_fma", "read_bw"] + ["^" + re.escape(n) + "$" for n in names]))' "$filter")
    fi
    echo "run.sh: round $round/$rounds: C++ bench ($bench)" >&2
    cpp_args=(--benchmark_filter="$cpp_filter" --benchmark_out="$dir/kernels.json"
      --benchmark_out_format=json --benchmark_format=console)
    if ((reps > 1)); then
      cpp_args+=(--benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true)
    fi
    if ! "$bench" "${cpp_args[@]}" > "$dir/kernels.txt" 2>&1; then
      cat "$dir/kernels.txt" >&2
      exit 1
    fi
  fi

  # This round's FMA peaks (AVX2, and AVX-512 where probed; medians when repeated), so the
  # peers report peak_frac / peak512_frac against the same limits as the C++ cases.
  peak_args=()
  while read -r flag value; do
    peak_args+=("$flag" "$value")
  done < <("$py" - "$dir/kernels.json" <<'EOF'
import json, re, sys
flags = {"peak_fma": "--peak-gflops", "peak_fma_avx512": "--peak512-gflops"}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    probe = re.sub(r"/.*", "", b["run_name"])
    if probe in flags and b.get("aggregate_name", "median") == "median" and "GFLOPS" in b:
        print(flags.pop(probe), b["GFLOPS"])
EOF
  )

  echo "run.sh: round $round/$rounds: PyTorch peer" >&2
  "$py" "$repo/bench/peers/torch_lstm.py" "${peer_args[@]}" "${peak_args[@]}" --build-dir "$build" \
    --out "$dir/pytorch.json"
  echo "run.sh: round $round/$rounds: ONNX Runtime peer" >&2
  node "$repo/bench/peers/ort_lstm.mjs" "${peer_args[@]}" "${peak_args[@]}" --build-dir "$build" \
    --out "$dir/onnxruntime.json"
}

for ((round = 1; round <= rounds; ++round)); do
  run_round "$round" "$out_dir/round$round"
done
for side in kernels pytorch onnxruntime; do
  files=()
  for ((round = 1; round <= rounds; ++round)); do files+=("$out_dir/round$round/$side.json"); done
  "$py" "$repo/bench/peers/merge_rounds.py" "$out_dir/$side.json" "${files[@]}"
done

echo "## Peer targets ($out_dir, median of $rounds round(s))"
echo
"$py" "$repo/bench/peers/compare.py" "$out_dir/kernels.json" "$out_dir/pytorch.json" \
  "$out_dir/onnxruntime.json"
echo
echo "## bench/kernels/summarize.py"
echo
"$py" "$repo/bench/kernels/summarize.py" "$out_dir/kernels.json" "$out_dir/pytorch.json" \
  "$out_dir/onnxruntime.json"
