#!/usr/bin/env bash
# bench/rust/run.sh BUILD_DIR — the rust.churn benchmark (bench/run rust).
# Builds the two subjects (bridgert::Allocator, std System) against the
# libbridgert in BUILD_DIR, runs them in the same run, alternating twice so
# that load drifting on a busy machine hits both, and prints their JSON lines
# and the ratio line {"bench":"rust.churn","ratio":{"bridgert/system":x}}
# computed from the better median of each subject.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: bench/rust/run.sh BUILD_DIR}" && pwd)
command -v cargo >/dev/null || { echo "bench/rust: cargo not found" >&2; exit 2; }
export BRIDGERT_LIB_DIR="$build" BRIDGERT_INCLUDE_DIR="$root/abi/include"
export CARGO_TARGET_DIR="$build/bench/rust-target" CARGO_TERM_COLOR=never
export LD_LIBRARY_PATH="$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cargo --config "$root/rust_shim/.cargo/config.toml" build --offline --release --quiet \
  --manifest-path "$here/Cargo.toml"
bin="$CARGO_TARGET_DIR/release"
lines=$( { "$bin/churn-bridgert"; "$bin/churn-system"; "$bin/churn-system"; "$bin/churn-bridgert"; } )
printf '%s\n' "$lines"
printf '%s\n' "$lines" | python3 -c '
import json, sys
best = {}
for line in sys.stdin:
    row = json.loads(line)
    best[row["subject"]] = min(best.get(row["subject"], float("inf")), row["ns_per_op"])
print(json.dumps({"bench": "rust.churn", "ratio": {"bridgert/system": round(best["bridgert"] / best["system"], 3)}}, separators=(",", ":")))
'
