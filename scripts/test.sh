#!/usr/bin/env bash
# The README's second command: every test, three ways.
#   1. build/       normal build,            meson test (all suites)
#   2. build-asan/  ASan + UBSan, allocator invariant checks at debug_level 2,
#                                            meson test (all suites)
#   3. build-tsan/  ThreadSanitizer,         meson test --suite concurrency
#   4. build-fuzz/  clang + libFuzzer,       each fuzz target for FUZZ_SECONDS (default 15)
#   5. packaging    scripts/packaging.sh: the Debian packages, installed on
#                   this machine, with consumers built against them (needs
#                   root or sudo; last, and it purges the packages again, so
#                   no build tree's test meets an installed libbridgert)
# Ends with one line "tests: N passed, N failed, N skipped".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null; then
  bash scripts/install-deps.sh || exit 1
fi
export PATH="${HOME:-/root}/.cargo/bin:$PATH"
jobs=$(nproc)
failed_steps=()

run_step() { # name, command...
  local name=$1
  shift
  echo "=== $name"
  local start=$SECONDS
  if "$@"; then
    echo "=== $name: ok ($((SECONDS - start)) s)"
  else
    echo "=== $name: FAILED ($((SECONDS - start)) s)"
    failed_steps+=("$name")
  fi
}

setup() { # dir, options...
  local dir=$1
  shift
  # Reconfigure an existing tree: component folders are found at configure time.
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null || return 1
  else
    meson setup "$dir" "$@" >/dev/null || return 1
  fi
  ninja -C "$dir" -j "$jobs" >/dev/null || ninja -C "$dir" -j1
}

export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

run_step "normal build" setup build
run_step "normal tests" meson test -C build --print-errorlogs --num-processes "$jobs"
run_step "asan+ubsan build" setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Ddebug_level=2
run_step "asan+ubsan tests" meson test -C build-asan --print-errorlogs --num-processes "$jobs" --timeout-multiplier 3
run_step "tsan build" setup build-tsan -Db_sanitize=thread -Db_lundef=false
run_step "tsan tests" meson test -C build-tsan --suite concurrency --print-errorlogs --num-processes "$jobs" --timeout-multiplier 4
run_step "fuzz" ./fuzz/run "${FUZZ_SECONDS:-15}"
if [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null; then
  run_step "packaging" bash scripts/packaging.sh
else
  echo "=== packaging: skipped (needs root or sudo to install the packages)"
fi

# One summary line over the three test logs (meson's testlog.json).
python3 - build build-asan build-tsan <<'PY'
import json, sys, os
passed = failed = skipped = 0
for d in sys.argv[1:]:
    path = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(path):
        continue
    for line in open(path):
        r = json.loads(line).get("result", "")
        if r in ("OK", "EXPECTEDFAIL"): passed += 1
        elif r == "SKIP": skipped += 1
        else: failed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "FAILED steps: ${failed_steps[*]}"
  exit 1
fi
echo "all steps passed"
