#!/usr/bin/env bash
# The README's first command: install the dependencies, build, and run the
# main job (the bundled example plugin's health check and one call through it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
export PATH="${HOME:-/root}/.cargo/bin:$PATH"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
if [ -x build/cli/bridgert ]; then
  exec build/cli/bridgert demo
fi
# Until the CLI lands, the main job is the error-model demonstration.
exec build/tests/abi/outside_program
