#!/usr/bin/env bash
# Configures and builds Nemesyst into a build directory (default: build/).
# Usage: tools/build.sh [BUILD_DIR] [--target TARGET]... [extra cmake -D options...]
# Without -D options the normal flag set is used — RelWithDebInfo, warnings as errors — the same
# for the demo and the tests, so the second README command reuses the first one's build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:-$here/build}"
shift || true
targets=()
options=()
while (($#)); do
  if [[ "$1" == "--target" ]]; then
    targets+=(--target "$2")
    shift 2
  else
    options+=("$1")
    shift
  fi
done
if ((${#options[@]} == 0)); then
  options=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DNEMESYST_WERROR=ON)
fi
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S "$here" -B "$build_dir" "${generator[@]}" "${options[@]}"
else
  cmake -S "$here" -B "$build_dir" "${options[@]}" >/dev/null
fi
cmake --build "$build_dir" --parallel "$(nproc)" "${targets[@]}"
