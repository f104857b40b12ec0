#!/usr/bin/env bash
# The node's Debian package (cpack -G DEB; packaging/): built from this build, its control data
# (dependencies from the binaries, the conffile, the maintainer scripts) and contents checked,
# extracted into a scratch root, and the extracted binary run — its shipped config parses and a
# node starts from it and stops on SIGTERM. (Not `dpkg -i`: that needs root's real /, /etc and a
# systemd; the scripts are syntax-checked instead.)
#   deb_test.sh BUILD_DIR
set -euo pipefail
build="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" > "$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log" >&2; exit 1; }
deb="$(find "$tmp/out" -maxdepth 1 -name 'nemesyst_*.deb' | head -n1)"
test -n "$deb" || { echo "deb_test: no package built" >&2; exit 1; }

fail() { echo "deb_test: $*" >&2; exit 1; }
info="$(dpkg-deb -I "$deb")"
grep -q "^ Package: nemesyst$" <<< "$info" || fail "package name"
for dep in adduser librocksdb libzmq5 libdnnl; do
  grep -q "^ Depends:.*$dep" <<< "$info" || fail "Depends lacks $dep"
done
mkdir "$tmp/control"
dpkg-deb -e "$deb" "$tmp/control"
grep -qx "/etc/nemesyst/node.toml" "$tmp/control/conffiles" || fail "node.toml is not a conffile"
for script in postinst prerm; do
  test -x "$tmp/control/$script" || fail "no $script"
  sh -n "$tmp/control/$script" || fail "$script does not parse"
done
grep -q "adduser --system" "$tmp/control/postinst" || fail "postinst makes no system user"

contents="$(dpkg-deb -c "$deb" | awk '{print $6}')"
for path in ./usr/bin/nemesyst ./usr/lib/libnemesyst.so.0 ./usr/include/nemesyst/c.h \
            ./usr/lib/systemd/system/nemesyst-node.service ./etc/nemesyst/node.toml \
            ./usr/lib/pkgconfig/nemesyst.pc; do
  grep -qx "$path" <<< "$contents" || fail "$path is not in the package"
done

root="$tmp/root"
dpkg-deb -x "$deb" "$root"
unit="$root/usr/lib/systemd/system/nemesyst-node.service"
grep -q "^ExecStart=/usr/bin/nemesyst --config /etc/nemesyst/node.toml" "$unit" || fail "ExecStart"
grep -q "^User=nemesyst$" "$unit" || fail "the unit's user"
bin="$root/usr/bin/nemesyst"
export LD_LIBRARY_PATH="$root/usr/lib"
"$bin" --config "$root/etc/nemesyst/node.toml" config show > /dev/null ||
  fail "the shipped config does not load"
# A node from the extracted binary and config (free ports: tests run in parallel).
"$bin" --config "$root/etc/nemesyst/node.toml" --store "$tmp/store" \
  --set node.client=tcp://127.0.0.1:* --set node.ingest=tcp://127.0.0.1:* --set node.http=off \
  node run > "$tmp/ready" 2> "$tmp/node.log" &
pid=$!
for _ in $(seq 100); do
  grep -q '"ready":true' "$tmp/ready" && break
  sleep 0.1
done
grep -q '"ready":true' "$tmp/ready" || { kill -9 "$pid"; cat "$tmp/node.log" >&2; fail "no ready line"; }
kill -TERM "$pid"
wait "$pid" || fail "the node did not stop cleanly on SIGTERM"
echo "deb_test: $(basename "$deb") ($(du -h "$deb" | cut -f1)) checked, extracted, its node ran"
