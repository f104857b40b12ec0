#!/usr/bin/env bash
# Runs every libFuzzer harness of a build (built with -DNEMESYST_FUZZ=ON, clang) for a fixed time
# each, from its seed corpus in tests/fuzz/corpus/<name>/ (read, never written: new inputs go to
# a scratch directory). The harnesses and what they check: docs/architecture.md, "Fuzzing".
# CI runs NEMESYST_FUZZ_SECONDS=20 per harness (the default): 10 harnesses (wire, jetstream_log,
# control, ingest, config, spec, model_file, onnx, storage, predict), one per core side by side:
# about 1.7 minutes on 2 cores. An offline campaign sets hours:
#   NEMESYST_FUZZ_SECONDS=3600 bash tools/run-fuzzers.sh build-sanitize
# A crash leaves its input (crash-*) in the scratch directory, whose path is printed, and fails
# the script: add the input to the harness's corpus and make it a regression test. Harnesses that
# need files (ingest_fuzzer's store) make them under TMPDIR, set to a scratch directory here.
# Usage: tools/run-fuzzers.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:?usage: run-fuzzers.sh BUILD_DIR}" && pwd)"
seconds="${NEMESYST_FUZZ_SECONDS:-20}"
scratch="$(mktemp -d /tmp/nemesyst-fuzz-XXXXXX)"
# The harnesses run side by side, one per core (each still for `seconds`), so the wall time is
# seconds × harnesses / cores. Each one's verdict is printed in harness order once all are done.
run_one() {
  local fuzzer="$1" name
  name="$(basename "$fuzzer" _fuzzer)"
  mkdir -p "$scratch/$name" "$scratch/$name.tmp"
  local start=$SECONDS
  if (cd "$scratch/$name" &&
      TMPDIR="$scratch/$name.tmp" ASAN_OPTIONS=detect_leaks=1 "$fuzzer" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
        "$scratch/$name" "$here/tests/fuzz/corpus/$name" \
        > "$scratch/$name.log" 2>&1); then
    local runs
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$scratch/$name.log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz: $name ok — $runs inputs in $((SECONDS - start)) s" > "$scratch/$name.verdict"
  else
    {
      echo "fuzz: $name FAILED — inputs and log in $scratch/$name ($scratch/$name.log)"
      tail -40 "$scratch/$name.log"
    } > "$scratch/$name.verdict"
  fi
}
fuzzers=("$build"/fuzz/*_fuzzer)
parallel="$(nproc)"
for fuzzer in "${fuzzers[@]}"; do
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
  run_one "$fuzzer" &
done
wait
status=0
for fuzzer in "${fuzzers[@]}"; do
  name="$(basename "$fuzzer" _fuzzer)"
  if grep -q "^fuzz: $name FAILED" "$scratch/$name.verdict"; then
    cat "$scratch/$name.verdict" >&2
    status=1
  else
    cat "$scratch/$name.verdict"
  fi
done
if [[ $status -eq 0 ]]; then rm -rf "$scratch"; fi
exit $status
