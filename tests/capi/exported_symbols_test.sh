#!/usr/bin/env bash
# The ABI's surface: the symbols libnemesyst.so exports from this project — the C API
# (nemesyst_*) and the C++ API (nemesyst::, with its vtables and typeinfo) — must be exactly the
# list in tests/capi/exported_symbols.txt. A symbol that appears or disappears fails here until the
# list is updated on purpose (and the change is said in docs/embedding.md, "ABI"). Other exported
# symbols (standard-library template instances the compiler emits) are not part of the API and
# vary with the compiler, so they are not listed.
#   exported_symbols_test.sh LIBRARY EXPECTED_LIST
set -euo pipefail
lib="$1"
expected="$2"
actual="$(mktemp)"
trap 'rm -f "$actual"' EXIT
nm -D --defined-only -C "$lib" | awk '{ $1 = ""; $2 = ""; sub(/^  /, ""); print }' |
  grep -E "^(nemesyst_|nemesyst::|vtable for nemesyst::|typeinfo for nemesyst::|typeinfo name for nemesyst::)" |
  LC_ALL=C sort -u > "$actual"
if ! diff -u "$expected" "$actual"; then
  echo "exported_symbols_test: the exported API changed (lines + appeared, - disappeared)." >&2
  echo "If intended: cp the new list over $expected and note it in docs/embedding.md." >&2
  exit 1
fi
echo "exported_symbols_test: $(wc -l < "$actual") symbols, as listed"
