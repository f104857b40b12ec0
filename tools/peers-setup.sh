#!/usr/bin/env bash
# Installs the benchmark peers of bench/peers/ (issue 4) on Debian 12, idempotently:
#   - Debian's python3-torch, python3-numpy, python3-onnx (via tools/setup.sh --peers);
#   - OpenBLAS (libopenblas0-pthread), unpacked with `apt-get download` + `dpkg -x` into
#     build/peers/openblas, NOT installed: Debian's torch links the reference BLAS (libblas.so.3),
#     and pointing LD_LIBRARY_PATH at the unpacked openblas-pthread/ directory swaps in OpenBLAS
#     for the peer's process only, leaving the system's BLAS alternative alone;
#   - onnxruntime-node, at the version pinned in bench/peers/package-lock.json, into
#     build/peers/node (`npm ci`; its postinstall, which only fetches CUDA binaries, is skipped:
#     the CPU library ships inside the npm package).
# Usage: tools/peers-setup.sh [build-dir]     (default: <repo>/build)
# Prints nothing when everything is already in place.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build}"
peers="$build/peers"

"$repo/tools/setup.sh" --peers

openblas_dir="$peers/openblas"
openblas_lib="$openblas_dir/usr/lib/x86_64-linux-gnu/openblas-pthread"
if [[ ! -e "$openblas_lib/libblas.so.3" ]]; then
  echo "peers-setup: unpacking libopenblas0-pthread into $openblas_dir" >&2
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  chmod 755 "$work"  # apt's _apt user downloads into it
  (cd "$work" && apt-get download -qq -o APT::Sandbox::User=root libopenblas0-pthread)
  rm -rf "$openblas_dir"
  mkdir -p "$openblas_dir"
  dpkg -x "$work"/libopenblas0-pthread_*.deb "$openblas_dir"
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "peers-setup: node and npm are needed for the ONNX Runtime peer (Node >= 18;" \
    "e.g. apt-get install nodejs npm)" >&2
  exit 1
fi
node_dir="$peers/node"
lock="$repo/bench/peers/package-lock.json"
if ! cmp -s "$lock" "$node_dir/package-lock.json" ||
  [[ ! -e "$node_dir/node_modules/onnxruntime-node/package.json" ]]; then
  echo "peers-setup: npm ci onnxruntime-node into $node_dir" >&2
  mkdir -p "$node_dir"
  cp "$repo/bench/peers/package.json" "$lock" "$node_dir/"
  (cd "$node_dir" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)
fi
