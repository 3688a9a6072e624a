#!/usr/bin/env bash
# bench/serve/run.sh BUILD_DIR — the serve.matmul2 benchmark (bench/run serve).
# Starts BUILD_DIR's `bridgert serve` with the example plugin on a free
# loopback port, runs bench-serve against it (which also calls
# brt_call_json in its own process, the peer), and stops the server.
set -euo pipefail
build=$(cd "${1:?usage: bench/serve/run.sh BUILD_DIR}" && pwd)
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
"$build/cli/bridgert" --plugin-dir "$build/examples/matrix_plugin" serve --listen 127.0.0.1:0 \
  >"$work/out" 2>"$work/err" &
pid=$!
port=
for _ in $(seq 1 200); do
  port=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\) .*|\1|p' "$work/out")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
[ -n "$port" ] || { echo "bench/serve: the server did not start: $(cat "$work/err")" >&2; exit 1; }
"$build/bench/serve/bench-serve" "$port"
kill -TERM "$pid"
wait "$pid" || { echo "bench/serve: the server did not stop cleanly: $(cat "$work/err")" >&2; exit 1; }
pid=
