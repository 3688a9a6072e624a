# Assertions shared by the CLI test scripts (sourced). A script sets
# `work` (a scratch directory), runs bridgert with its stdout in
# $work/out, its stderr in $work/err, its exit code in `rc` and its command
# line in `last`, then checks them; `failures` (the script sets it to 0) counts what went
# wrong.
fail() {
  echo "FAIL: $last: $*" >&2
  echo "--- stdout:" >&2; cat "$work/out" >&2
  echo "--- stderr:" >&2; cat "$work/err" >&2
  failures=$((failures + 1))
}
expect_rc() { [ "$rc" -eq "$1" ] || fail "exit code $rc, expected $1"; }
expect_out() { grep -qF -- "$1" "$work/out" || fail "stdout lacks '$1'"; }
expect_no_out() { ! grep -qF -- "$1" "$work/out" || fail "stdout has '$1'"; }
expect_err() { grep -qF -- "$1" "$work/err" || fail "stderr lacks '$1'"; }
expect_no_err() { [ ! -s "$work/err" ] || fail "unexpected stderr"; }
expect_out_is() { [ "$(cat "$work/out")" = "$1" ] || fail "stdout is not exactly '$1'"; }
