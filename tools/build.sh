#!/usr/bin/env bash
# Configures and builds Nemesyst into a build directory (default: build/).
# Usage: tools/build.sh [BUILD_DIR] [extra cmake -D options...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:-$here/build}"
shift || true
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S "$here" -B "$build_dir" "${generator[@]}" "$@"
else
  cmake -S "$here" -B "$build_dir" "$@" >/dev/null
fi
cmake --build "$build_dir" --parallel "$(nproc)"
