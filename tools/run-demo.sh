#!/usr/bin/env bash
# Sets up (Debian packages), builds, and runs the main job. Extra arguments go to `nemesyst`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/tools/setup.sh"
bash "$here/tools/build.sh" "$here/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
if "$here/build/bin/nemesyst" demo --help >/dev/null 2>&1; then
  exec "$here/build/bin/nemesyst" demo "$@"
fi
# Until the demo exists (issue: "The main job end to end"), show what the tool can do.
exec "$here/build/bin/nemesyst" --help
