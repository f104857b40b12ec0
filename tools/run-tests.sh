#!/usr/bin/env bash
# Sets up (Debian packages), builds and runs every test: the normal build (g++) with warnings as
# errors, then the ASan + UBSan build with clang, so every run also proves both compilers build it.
# Exits non-zero when any build or test fails.
# NEMESYST_SKIP_SANITIZE=1 skips the sanitizer pass (for a quick local loop; CI never sets it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/tools/setup.sh"
# onnxruntime-node (npm, pinned): the ONNX export tests run exported models on ONNX Runtime. If the
# npm registry cannot be reached, those tests skip and say so; everything else still runs.
if ! bash "$here/tools/peers-setup.sh" "$here/build"; then
  echo "run-tests: tools/peers-setup.sh failed: the ONNX Runtime tests will skip" >&2
fi
jobs="$(nproc)"
# Each phase prints how long it took, so growth is seen.
phase_start=$SECONDS
phase() {
  echo "   (previous phase: $((SECONDS - phase_start)) s)"
  phase_start=$SECONDS
  echo "== $* =="
}

phase "format (.clang-format)"
if ! (cd "$here" && git ls-files '*.h' '*.cc' | xargs clang-format --dry-run --Werror); then
  echo "run-tests: sources are not formatted; run: git ls-files '*.h' '*.cc' | xargs clang-format -i" >&2
  exit 1
fi

phase "build (RelWithDebInfo, -Werror; reuses the demo's build/)"
bash "$here/tools/build.sh" "$here/build"
phase "tests"
ctest --test-dir "$here/build" --output-on-failure --parallel "$jobs" --timeout 900

if [[ "${NEMESYST_SKIP_SANITIZE:-0}" != "1" ]]; then
  phase "build (clang, ASan + UBSan, libFuzzer harnesses)"
  # Debug keeps assertions on; NEMESYST_SANITIZE compiles at -O1 with line tables whatever the
  # build type (CMakeLists.txt says why).
  CC=clang CXX=clang++ bash "$here/tools/build.sh" "$here/build-sanitize" -DNEMESYST_WERROR=ON -DNEMESYST_SANITIZE=ON \
    -DCMAKE_BUILD_TYPE=Debug -DNEMESYST_BUILD_BENCHMARKS=OFF -DNEMESYST_FUZZ=ON
  phase "tests under ASan + UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$here/build-sanitize" --output-on-failure --parallel "$jobs" --timeout 1800
  phase "fuzzing (libFuzzer, ${NEMESYST_FUZZ_SECONDS:-20} s per harness)"
  bash "$here/tools/run-fuzzers.sh" "$here/build-sanitize"
fi
phase "done"
