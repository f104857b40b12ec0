#!/usr/bin/env bash
# The installed package, as an integrator gets it: `cmake --install` of this build into a scratch
# prefix, then examples/cpp built against that prefix with find_package(nemesyst) and again with
# pkg-config, each run on a fresh store; the installed CLI runs; the library's SONAME carries the
# ABI version. Nothing from the build or source tree is on the include or library path.
#   install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"
source_dir="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

cmake --install "$build" --prefix "$prefix" > "$tmp/install.log"
for f in include/nemesyst/store.h include/nemesyst/version.h bin/nemesyst; do
  test -e "$prefix/$f" || { echo "install_test: $f not installed" >&2; exit 1; }
done
lib="$(find "$prefix" -name 'libnemesyst.so.*.*' | head -n1)"
test -n "$lib" || { echo "install_test: libnemesyst.so not installed" >&2; exit 1; }
soname="$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
[[ "$soname" == "libnemesyst.so.0" ]] || { echo "install_test: SONAME '$soname'" >&2; exit 1; }
"$prefix/bin/nemesyst" --help > /dev/null

# find_package(nemesyst) from the installed prefix (moved: the config is relative to itself).
mv "$prefix" "$tmp/moved"
prefix="$tmp/moved"
lib="$(find "$prefix" -name 'libnemesyst.so.*.*' | head -n1)"
cmake -S "$source_dir/examples/cpp" -B "$tmp/with-cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$tmp/configure.log"
cmake --build "$tmp/with-cmake" > "$tmp/build.log"
"$tmp/with-cmake/store_roundtrip" "$tmp/store-cmake" | tee "$tmp/run-cmake.log"
grep -q ": ok$" "$tmp/run-cmake.log"

# pkg-config, the same program.
pc_dir="$(dirname "$(find "$prefix" -name nemesyst.pc | head -n1)")"
export PKG_CONFIG_PATH="$pc_dir"
# shellcheck disable=SC2046
g++ -std=c++20 $(pkg-config --cflags nemesyst) "$source_dir/examples/cpp/store_roundtrip.cc" \
  -o "$tmp/with-pkg-config" $(pkg-config --libs nemesyst) -Wl,-rpath,"$(dirname "$lib")"
"$tmp/with-pkg-config" "$tmp/store-pc" | grep -q ": ok$"

# The C program (C99, the C API only): a control loop on a store with a served model, made by the
# installed CLI (a tiny demo: its store has the fleet stream and a production model).
"$prefix/bin/nemesyst" demo --single-process --dir "$tmp/demo" --stores 3 --cases 2 --days 1 \
  --epochs 1 --gan-epochs 1 --hidden 8 --test-stores 1 --validation-stores 1 > "$tmp/demo.log" 2>&1 || true
test -d "$tmp/demo/store" || { cat "$tmp/demo.log" >&2; exit 1; }
# shellcheck disable=SC2046
cc -std=c99 -pedantic -Wall -Werror $(pkg-config --cflags nemesyst) \
  "$source_dir/examples/c/fridge_controller.c" -o "$tmp/fridge_controller" \
  $(pkg-config --libs nemesyst) -Wl,-rpath,"$(dirname "$lib")"
production="$(grep -o '"production": "[a-z_]*@' "$tmp/demo/report/summary.json" | grep -o '[a-z_]*@' | tr -d @)"
"$tmp/fridge_controller" "$tmp/demo/store" "$production:production" fleet | tee "$tmp/c.log"
grep -q "predictions$" "$tmp/c.log"
# The Python module from the installed prefix (Debian's Python, which has numpy).
PYTHONPATH="$(dirname "$(find "$prefix" -name 'nemesyst.cpython-*.so' | head -n1)")" \
  /usr/bin/python3 -c "import nemesyst; s = nemesyst.Store('$tmp/store-py'); print('python', nemesyst.__version__)"
echo "install_test: installed; C++ built with find_package and pkg-config, C with pkg-config, Python imported; ran"
