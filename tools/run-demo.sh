#!/usr/bin/env bash
# Sets up (Debian packages), builds, and runs the main job, `nemesyst demo`, in ./nemesyst-demo.
# Extra arguments go to `nemesyst demo` (see `build/bin/nemesyst demo --help`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/tools/setup.sh"
bash "$here/tools/build.sh" "$here/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
# Re-running the quick start replaces the previous demo's directory, but only the default one and
# only when it holds a previous demo (its specs/ folder): an explicit --dir is never wiped here.
args=("$@")
if [[ " ${args[*]-} " != *" --dir"* && -d ./nemesyst-demo/specs ]]; then
  args+=(--force)
fi
exec "$here/build/bin/nemesyst" demo "${args[@]}"
