#!/bin/sh
# test_cli_config.sh: the configuration file of `bridgert --config FILE` and
# of BRT_CONFIG reaches the allocator (max_memory limits the process, the
# health check names the limit), and a FIFO or a device given as the file is
# refused at once instead of waited on. Environment (set by meson):
# BRIDGERT, CLI_PLUGINS, CLI_BALLAST.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# run ARGS...: runs bridgert (at most 20 s: a hang is a failure, exit 124).
run() {
  timeout 20 "$BRIDGERT" "$@" >"$work/out" 2>"$work/err" </dev/null
  rc=$?
  last="bridgert $*"
}
. "$(dirname "$0")/assert.sh"

# max_memory from --config and from BRT_CONFIG: the health check names the
# limit, and the ballast plugin's 4 MiB does not fit under 2 MiB.
printf '{"max_memory": "1GiB"}' >"$work/limit.json"
run --config "$work/limit.json" --plugin-dir "$CLI_PLUGINS" health
expect_rc 0; expect_out "of the 1.0 GiB limit"; expect_no_out "no memory limit is set"
BRT_CONFIG="$work/limit.json" run --plugin-dir "$CLI_PLUGINS" health
expect_rc 0; expect_out "of the 1.0 GiB limit"
BRT_CONFIG="$work/limit.json" run --plugin-dir "$CLI_PLUGINS" metrics
expect_rc 0; expect_out "bridgert_memory_limit_bytes 1073741824"
printf '{"max_memory": "2MiB"}' >"$work/small.json"
run --config "$work/small.json" --plugin-dir "$CLI_BALLAST" list
expect_rc 69; expect_err "did not load"; expect_err "BRT_E_LIMIT_EXCEEDED"
run --plugin-dir "$CLI_BALLAST" list
expect_rc 0

# A FIFO (no writer will ever come) and a device: refused at once.
mkfifo "$work/config.fifo"
run --config "$work/config.fifo" list
expect_rc 78; expect_err "$work/config.fifo"; expect_err "not a regular file"
BRT_CONFIG="$work/config.fifo" run list
expect_rc 78; expect_err "$work/config.fifo"
run --config /dev/null list
expect_rc 78; expect_err "/dev/null"

# Strict numbers reach the command line's errors too.
printf '{"max_memory": 1e9}' >"$work/exp.json"
run --config "$work/exp.json" list
expect_rc 78; expect_err "max_memory"
BRT_MAX_MEMORY=0x1p20 run list
expect_rc 78; expect_err "BRT_MAX_MEMORY"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
echo "cli_config: all checks passed"
