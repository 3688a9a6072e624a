#!/usr/bin/env bash
# Builds tests/abi/outside_program.c the way an outside client would: only
# <bridgert.h> and `pkg-config --cflags --libs bridgert` (against the build
# tree's uninstalled .pc), then runs it.
set -euo pipefail
build=$1
src=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export PKG_CONFIG_PATH="$build/meson-uninstalled${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
flags=$(pkg-config --cflags --libs bridgert)
${CC:-cc} -std=c11 -Wall -Wextra -Werror -pthread "$src/tests/abi/outside_program.c" $flags -o "$out/client"
LD_LIBRARY_PATH="$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$out/client" > "$out/log"
grep -q '^ok$' "$out/log"
echo "ok: an outside program built with pkg-config --cflags --libs bridgert ran"
