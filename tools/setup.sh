#!/usr/bin/env bash
# Installs, on Debian 12 as root, every Debian package that Nemesyst's build, tests, benchmarks and
# demo need. Runs `apt-get update` only when something is missing; a quick no-op when all is present.
# Usage: tools/setup.sh            (build + tests + benchmarks + demo)
#        tools/setup.sh --peers    (also the benchmark peers' Debian packages; see tools/peers-setup.sh)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git clang clang-format libclang-rt-14-dev lld
  librocksdb-dev
  libdnnl-dev ocl-icd-opencl-dev
  libeigen3-dev
  libzmq3-dev cppzmq-dev libsodium-dev libxxhash-dev ccache
  libnats-dev nats-server
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libspdlog-dev libtomlplusplus-dev nlohmann-json3-dev libfast-float-dev libcpp-httplib-dev chromium
  python3-dev pybind11-dev python3-numpy
  libonnx-dev libprotobuf-dev libonnx-testdata
  python3-torch python3-onnx
)
# Node.js and npm run the ONNX Runtime check (tools/peers-setup.sh): Debian's packages only when the
# commands are missing (a Node.js installed another way, e.g. NodeSource's with its own npm,
# conflicts with Debian's npm package).
if ! command -v node >/dev/null; then packages+=(nodejs); fi
if ! command -v npm >/dev/null; then packages+=(npm); fi
if [[ "${1:-}" == "--peers" ]]; then
  packages+=(python3-torch python3-numpy python3-onnx)  # also in the base list (ONNX tests)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
