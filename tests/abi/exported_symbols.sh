#!/usr/bin/env bash
# Fails if libbridgert.so exports any symbol that is not brt_* (the version
# node BRIDGERT_<abi> itself is an absolute symbol and allowed).
set -euo pipefail
lib=$1
bad=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' | grep -vE '^(brt_|BRIDGERT_[0-9]+$)' || true)
count=$(nm -D --defined-only "$lib" | grep -c ' brt_' || true)
if [ -n "$bad" ]; then
  echo "libbridgert.so exports symbols outside brt_*:" >&2
  echo "$bad" >&2
  exit 1
fi
if [ "$count" -lt 20 ]; then
  echo "only $count brt_* symbols exported: is the library empty?" >&2
  exit 1
fi
# Functions added since the first release are there (a wildcard in the
# version script would not notice one that fell out of the build).
for symbol in brt_plugin_reload; do
  if ! nm -D --defined-only "$lib" | grep -q " T $symbol@@BRIDGERT_"; then
    echo "$symbol is not exported" >&2
    exit 1
  fi
done
# Every exported symbol carries the ABI version node.
unversioned=$(nm -D --defined-only "$lib" | grep ' brt_' | grep -v '@@BRIDGERT_' || true)
if [ -n "$unversioned" ]; then
  echo "symbols without the BRIDGERT_ version node:" >&2
  echo "$unversioned" >&2
  exit 1
fi
echo "ok: $count brt_* symbols, all versioned, nothing else exported"
