#!/bin/sh
# A cxx bridge without <bridgert/cxx_trycatch.hpp> whose exceptions are
# converted to bridgert::Error must not build: the link fails naming
# bridgert_cxx_bridge_needs_cxx_trycatch_hpp (GNU ld: "undefined reference",
# lld: "undefined symbol"). Any other outcome (it links,
# or it fails for another reason) fails this test.
# Arguments: cargo, then cargo's leading options (--config ...).
set -u
cargo=$1
shift
dir=$(dirname "$0")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if "$cargo" "$@" build --offline --locked --manifest-path "$dir/Cargo.toml" >"$log" 2>&1; then
  echo "FAIL: the bridge without cxx_trycatch.hpp linked; its exceptions would lose their type"
  exit 1
fi
if grep -Eq 'undefined (reference to|symbol:) .?bridgert_cxx_bridge_needs_cxx_trycatch_hpp' "$log"; then
  echo "ok: the link fails on bridgert_cxx_bridge_needs_cxx_trycatch_hpp"
  exit 0
fi
echo "FAIL: the build failed for another reason:"
cat "$log"
exit 1
