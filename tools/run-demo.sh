#!/usr/bin/env bash
# Sets up (Debian packages), builds, and runs the main job, `nemesyst demo`, in ./nemesyst-demo.
# Extra arguments go to `nemesyst demo` (see `build/bin/nemesyst demo --help`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/tools/setup.sh"
# Only the CLI: the tests and benchmarks are built by tools/run-tests.sh, in the same build
# directory with the same flags (tools/build.sh), so nothing is compiled twice.
bash "$here/tools/build.sh" "$here/build" --target nemesyst_cli
# Re-running the quick start replaces the previous demo's directory, but only the default one and
# only when it holds a previous demo (its specs/ folder): an explicit --dir is never wiped here.
args=("$@")
if [[ " ${args[*]-} " != *" --dir"* && -d ./nemesyst-demo/specs ]]; then
  args+=(--force)
fi
exec "$here/build/bin/nemesyst" demo "${args[@]}"
