#!/bin/sh
# test_cli.sh GROUP: runs the real `bridgert` executable and checks exit
# codes, standard output and standard error. Environment (set by meson):
# BRIDGERT, CLI_PLUGINS, CLI_BALLAST, PROMTOOL, CURL.
set -u
group=$1
work=$(mktemp -d)
pid=
# A server left running by a failed check is stopped on the way out.
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
failures=0
P="--plugin-dir $CLI_PLUGINS"
# The serve tests import serve_common.py from the source tree: no
# __pycache__ is left there.
export PYTHONDONTWRITEBYTECODE=1

# run ARGS...: runs bridgert, keeping its exit code, stdout and stderr.
run() {
  "$BRIDGERT" "$@" >"$work/out" 2>"$work/err" </dev/null
  rc=$?
  last="bridgert $*"
}
# run_full ARGS...: runs bridgert with its standard output on /dev/full, where
# every write fails (ENOSPC): the command must fail with 74, not exit 0.
run_full() {
  "$BRIDGERT" "$@" >/dev/full 2>"$work/err" </dev/null
  rc=$?
  : >"$work/out"
  last="bridgert $* >/dev/full"
}
expect_full() { # expect_full ARGS...: fails with 74 and says so
  run_full "$@"; expect_rc 74; expect_err "bridgert: writing the output failed"
}
run_stdin() { # run_stdin TEXT ARGS...
  input=$1
  shift
  printf '%s' "$input" | "$BRIDGERT" "$@" >"$work/out" 2>"$work/err"
  rc=$?
  last="bridgert $* (stdin)"
}
. "$(dirname "$0")/assert.sh"
json_check() { # json_check PYTHON-EXPRESSION over `d`, the parsed stdout
  python3 -c "import json,sys; d=json.load(open('$work/out')); sys.exit(0 if ($1) else 1)" ||
    fail "JSON check failed: $1"
}

# The committed bytes of a runtime holding the ballast plugin's 4 MiB.
committed_with_ballast() {
  "$BRIDGERT" --plugin-dir "$CLI_BALLAST" metrics | awk '$1 == "bridgert_memory_committed_bytes" {print $2}'
}

case $group in
usage)
  run --version; expect_rc 0; expect_out "bridgert 0.1.0 (library 0.1.0, ABI 1)"; expect_no_err
  run --help; expect_rc 0; expect_out "Usage: bridgert [OPTIONS] COMMAND"; expect_out "Exit codes:"
  run help; expect_rc 0; expect_out "Commands:"
  for command in health list call metrics serve demo; do
    run "$command" --help; expect_rc 0; expect_out "Usage: bridgert $command"
    run -h "$command"; expect_rc 0; expect_out "Usage: bridgert $command"
  done
  run; expect_rc 64; expect_err "bridgert: missing the command; see 'bridgert --help'"
  run frob; expect_rc 64; expect_err "bridgert: unknown command 'frob'"; expect_err "see 'bridgert --help'"
  run list --frob; expect_rc 64; expect_err "bridgert list: unknown option '--frob' for 'list'; see 'bridgert list --help'"
  run --frob list; expect_rc 64; expect_err "unknown option '--frob'"
  run health --format json; expect_rc 64; expect_err "unknown option '--format' for 'health'"
  run call; expect_rc 64; expect_err "bridgert call: missing the algorithm NAME; see 'bridgert call --help'"
  run call add extra; expect_rc 64; expect_err "unexpected argument 'extra'"
  run call add --params; expect_rc 64; expect_err "option '--params' needs a value"
  run call add --params '[1]' --params-file x.json; expect_rc 64; expect_err "exclude each other"
  run list --json=yes; expect_rc 64; expect_err "option '--json' takes no value"
  run metrics --format xml; expect_rc 64; expect_err "'prometheus', 'json' or 'summary', got 'xml'"
  run --plugin-dir; expect_rc 64; expect_err "option '--plugin-dir' needs a value"
  run --plugin-dir "$work/missing" list; expect_rc 66
  expect_err "plugin directory '$work/missing' does not exist"
  : >"$work/file"
  run --plugin-dir "$work/file" list; expect_rc 66; expect_err "is not a directory"
  run --config "$work/none.json" list; expect_rc 66; expect_err "cannot read the config file '$work/none.json'"
  printf '{"error_window": 10, "colour": "blue"}' >"$work/bad.json"
  run --config "$work/bad.json" list; expect_rc 78; expect_err "the configuration is not valid"; expect_err "colour"
  run --config="$work/bad.json" health; expect_rc 78
  expect_full --version
  expect_full --help
  expect_full list --help
  # serve's limits take a whole number in range
  run serve --max-connections 0; expect_rc 64
  expect_err "option '--max-connections' is a whole number in 1..4096, got '0'"
  run serve --max-connections=4097; expect_rc 64; expect_err "in 1..4096, got '4097'"
  run serve --max-connections ' 5'; expect_rc 64
  run serve --max-connections 5x; expect_rc 64
  run serve --max-connections-per-address -1; expect_rc 64
  expect_err "option '--max-connections-per-address' is a whole number in 1..4096, got '-1'"
  run serve --header-timeout-ms 9; expect_rc 64
  expect_err "option '--header-timeout-ms' is a whole number in 10..3600000, got '9'"
  run serve --header-timeout-ms 99999999999; expect_rc 64
  run serve --header-timeout-ms; expect_rc 64; expect_err "option '--header-timeout-ms' needs a value"
  run list --max-connections 5; expect_rc 64; expect_err "unknown option '--max-connections' for 'list'"
  run serve --help; expect_rc 0; expect_out "--max-connections N"; expect_out "default 64"
  expect_out "default 16"; expect_out "default 10000"; expect_out "--token-file FILE"
  expect_out "--max-body-bytes N"; expect_out "default 1048576"; expect_out "POST /v1/algorithms/NAME:call"
  run serve --max-body-bytes 15; expect_rc 64; expect_err "option '--max-body-bytes' is a whole number in 16..268435456, got '15'"
  run serve --max-body-bytes 268435457; expect_rc 64
  run serve --token-file ''; expect_rc 64; expect_err "option '--token-file' needs a file name"
  run list --token-file x; expect_rc 64; expect_err "unknown option '--token-file' for 'list'"
  run serve --listen 0.0.0.0:9464; expect_rc 64; expect_err "'--token-file FILE' is required"
  run serve --listen 192.0.2.1:9464; expect_rc 64; expect_err "is not a loopback address"
  run --keep-going=yes list; expect_rc 64; expect_err "option '--keep-going' takes no value"
  run --help; expect_out "--keep-going"
  ;;
health)
  run $P health; expect_rc 0; expect_out "Status: HEALTHY"; expect_out "algorithm_error_rate"
  expect_out "add@1.0.0"; expect_out "allocator_consistency"; expect_out "memory_limit"
  run $P health --json; expect_rc 0
  json_check "d['status'] == 'HEALTHY' and any(c.get('subject') == 'sleepy@1.0.0' for c in d['checks'])"
  expect_full $P health
  expect_full $P health --json
  committed=$(committed_with_ballast)
  [ -n "$committed" ] && [ "$committed" -ge 4194304 ] || { last=metrics; fail "ballast committed '$committed'"; }
  BRT_MAX_MEMORY=$((committed * 100 / 85)) run --plugin-dir "$CLI_BALLAST" health
  expect_rc 1; expect_out "Status: DEGRADED"; expect_out "degraded from 80%"
  BRT_MAX_MEMORY=$((committed * 100 / 85)) run --plugin-dir "$CLI_BALLAST" health --json
  expect_rc 1; json_check "d['status'] == 'DEGRADED'"
  BRT_MAX_MEMORY=$((committed * 100 / 97)) run --plugin-dir "$CLI_BALLAST" health
  expect_rc 2
  printf '{"health_memory_degraded": 0.5, "health_memory_unhealthy": 0.6}' >"$work/strict.json"
  BRT_MAX_MEMORY=$((committed * 100 / 55)) run --config "$work/strict.json" --plugin-dir "$CLI_BALLAST" health
  expect_rc 1; expect_out "degraded from 50%, unhealthy from 60%"
  BRT_MAX_MEMORY=$((committed * 100 / 65)) run --config "$work/strict.json" --plugin-dir "$CLI_BALLAST" health
  expect_rc 2; expect_out "Status: UNHEALTHY"
  ;;
list)
  run $P list; expect_rc 0; expect_no_err
  expect_out "NAME"; expect_out "Adds two integers"; expect_out "f64(ptr,u64)"
  # Aligned: each row's VERSION column starts where its header does.
  awk 'NR == 1 {col = index($0, "VERSION")} NR > 1 && substr($0, col, 5) != "1.0.0" {exit 1}' "$work/out" ||
    fail "columns are not aligned"
  [ "$(wc -l <"$work/out")" -eq 12 ] || fail "expected a header and 11 rows"
  run $P list --json; expect_rc 0
  json_check "len(d) == 11 and d[0]['name'] == 'add' and d[0]['kind'] == 'native' and d[0]['signature'] == 'i64(i64,i64)'"
  expect_full $P list
  expect_full $P list --json
  mkdir "$work/empty"
  run --plugin-dir "$work/empty" list --json; expect_rc 0; json_check "d == []"
  # A directory named on the command line whose plugins do not all load is
  # 69 with the errors, not a partial table; --keep-going makes it a warning.
  mkdir "$work/mixed"
  cp "$CLI_PLUGINS/cli_tools.so" "$work/mixed/"
  echo "not a shared object" >"$work/mixed/broken.so"
  run --plugin-dir "$work/mixed" list; expect_rc 69; expect_no_out "NAME"
  expect_err "bridgert: plugins in '$work/mixed' did not load (--keep-going to go on with the others)"
  expect_err "broken.so"; expect_err "BRT_E_PLUGIN"
  run --plugin-dir "$work/mixed" --keep-going list; expect_rc 0; expect_out "Adds two integers"
  expect_err "warning: some plugins in '$work/mixed' did not load"; expect_err "broken.so"
  run --plugin-dir "$work/mixed" health; expect_rc 69
  run --plugin-dir "$work/mixed" call add --params '[1, 2]'; expect_rc 69; expect_no_out "3"
  run --keep-going --plugin-dir "$work/mixed" call add --params '[1, 2]'; expect_rc 0; expect_out_is 3
  rm "$work/mixed/cli_tools.so"
  run --plugin-dir "$work/mixed" list --json; expect_rc 69
  run --keep-going --plugin-dir "$work/mixed" list --json; expect_rc 0; json_check "d == []"
  ;;
call)
  run $P call add --params '[2, 40]'; expect_rc 0; expect_out "42"; expect_no_err
  run $P call add --params='[-2, 40]'; expect_rc 0; expect_out "38"
  run $P call add@1.0.0 --params '[1, 1]'; expect_rc 0; expect_out "2"
  run $P call scale --params '[1.5, 2]'; expect_rc 0; expect_out "3"
  run $P call is_even --params '[7]'; expect_rc 0; expect_out "false"
  run $P call length --params '["h\u00e9llo"]'; expect_rc 0; expect_out "6"
  run_stdin '[20, 22]' $P call add --params -; expect_rc 0; expect_out "42"
  printf '[1,\n 2,\n x]' >"$work/params.json"
  run $P call add --params-file "$work/params.json"; expect_rc 65
  expect_err "$work/params.json is not valid JSON: unexpected character 'x', expected a value at line 3, column 2"
  run $P call add --params '[1, 2'; expect_rc 65; expect_err "--params is not valid JSON: unexpected end of input inside an array at line 1, column 6"
  run $P call add --params-file "$work/none.json"; expect_rc 66; expect_err "cannot open the params file"
  run $P call adx; expect_rc 69; expect_err "bridgert: call 'adx' failed"; expect_err "code:    BRT_E_NOT_FOUND"
  expect_err "adx"
  run $P call add --params '[1]'; expect_rc 65; expect_err "takes 2 arguments, 1 given"
  run $P call add --params '{"a": 1}'; expect_rc 65; expect_err "JSON array of the arguments"
  run $P call is_even --params '[-1]'; expect_rc 65; expect_err "expected an integer in [0, 4294967295], got -1"
  run $P call add --params '[1.5, 2]'; expect_rc 65; expect_err "got 1.5"
  run $P call sum --params '[0, 3]'; expect_rc 65; expect_err "cannot be given on the command line"
  run $P call sleepy --params '[0]'; expect_rc 0; expect_out "0"
  run $P call sleepy --params '[150]'; expect_rc 75; expect_err "code:    BRT_E_TIMEOUT"; expect_err "sleepy"
  # Integers are passed exactly (never through a double), over each type's whole range.
  run $P call add --params '[9007199254740993, 0]'; expect_rc 0; expect_out_is 9007199254740993
  run $P call add --params '[9223372036854775806, 1]'; expect_rc 0; expect_out_is 9223372036854775807
  run $P call add --params '[-9223372036854775808, 0]'; expect_rc 0; expect_out_is -9223372036854775808
  run $P call add --params '[9223372036854775808, 0]'; expect_rc 65
  expect_err "'add' argument 1 (i64): expected an integer in [-9223372036854775808, 9223372036854775807], got 9223372036854775808"
  run $P call add --params '[0, -9223372036854775809]'; expect_rc 65
  expect_err "argument 2 (i64): expected an integer in [-9223372036854775808, 9223372036854775807], got -9223372036854775809"
  run $P call echo_u64 --params '[18446744073709551615]'; expect_rc 0; expect_out_is 18446744073709551615
  run $P call echo_u64 --params '[9223372036854775808]'; expect_rc 0; expect_out_is 9223372036854775808
  run $P call echo_u64 --params '[9007199254740993]'; expect_rc 0; expect_out_is 9007199254740993
  run $P call echo_u64 --params '[18446744073709551616]'; expect_rc 65
  expect_err "(u64): expected an integer in [0, 18446744073709551615], got 18446744073709551616"
  run $P call echo_u64 --params '[-1]'; expect_rc 65; expect_err "in [0, 18446744073709551615], got -1"
  run $P call echo_i8 --params '[-128]'; expect_rc 0; expect_out_is -128
  run $P call echo_i8 --params '[127]'; expect_rc 0; expect_out_is 127
  run $P call echo_i8 --params '[128]'; expect_rc 65; expect_err "(i8): expected an integer in [-128, 127], got 128"
  run $P call echo_i8 --params '[-129]'; expect_rc 65; expect_err "got -129"
  run $P call echo_i8 --params '[1e2]'; expect_rc 0; expect_out_is 100
  run $P call add --params '[9007199254740993.0, 0]'; expect_rc 65; expect_err "may have been rounded"
  run $P call is_even --params '[4294967295]'; expect_rc 0; expect_out_is false
  run $P call is_even --params '[4294967296]'; expect_rc 65; expect_err "(u32): expected an integer in [0, 4294967295], got 4294967296"
  run $P call is_even --params '[true]'; expect_rc 65; expect_err "got a boolean"
  run $P call echo_f32 --params '[0.1]'; expect_rc 0; expect_out_is 0.1
  run $P call echo_f32 --params '[1e39]'; expect_rc 65; expect_err "(f32): expected a number in [-3.40282347e+38, 3.40282347e+38], got 1e+39"
  run $P call scale --params '[0.1, 3]'; expect_rc 0; expect_out_is 0.30000000000000004
  # A str argument is a C string: a NUL inside is refused, not cut.
  run $P call length --params '["ab\u0000cd"]'; expect_rc 65
  expect_err "'length' argument 1 (str): expected a string without NUL characters, got \u0000 at byte 2 of 5"
  expect_out_is ""
  # JSON has no infinities or NaN: null, with a warning.
  run $P call infinity; expect_rc 0; expect_out_is null
  expect_err "warning: 'infinity' returned +infinity, which JSON cannot represent; printed null"
  run $P call nan; expect_rc 0; expect_out_is null; expect_err "'nan' returned NaN"
  run $P call scale --params '[1e308, -10]'; expect_rc 0; expect_out_is null; expect_err "returned -infinity"
  expect_full $P call add --params '[2, 40]'
  ;;
metrics)
  run $P metrics; expect_rc 0; expect_no_err
  expect_out "# TYPE bridgert_calls_total counter"; expect_out 'bridgert_calls_total{algorithm="add",version="1.0.0",status="BRT_OK"} 0'
  expect_out "bridgert_algorithms_registered 11"; expect_out 'bridgert_memory_live_bytes{type="c_heap"}'
  if [ -n "$PROMTOOL" ]; then "$PROMTOOL" check metrics <"$work/out" || fail "promtool check metrics"; fi
  run $P metrics --format json; expect_rc 0
  json_check "len(d['algorithms']) == 11 and 'memory' in d and d['gauges']['algorithms_registered'] == 11"
  run $P metrics --format=prometheus; expect_rc 0; expect_out "bridgert_uptime_seconds"
  run $P metrics --format summary; expect_rc 0; expect_no_err
  expect_out "algorithms_registered 11"; expect_out "ALGORITHM"; expect_out "add@1.0.0"
  expect_out "Memory: "; expect_out "by type: c_heap"
  awk '/^ALGORITHM/ {col = index($0, "STATE"); next} col && /@1.0.0/ && substr($0, col, 6) != "closed" {exit 1}' "$work/out" ||
    fail "summary columns are not aligned"
  # Output that cannot be written is an I/O error (74), in every format.
  expect_full $P metrics
  expect_full $P metrics --format json
  expect_full $P metrics --format summary
  ;;
serve)
  [ -n "$CURL" ] || { echo "curl is not installed: skipping serve" >&2; exit 77; }
  # start_server ENV... -- ARGS: starts `bridgert ARGS serve` in the background, sets $pid and $port.
  start_server() {
    "$@" >"$work/serve.out" 2>"$work/serve.err" &
    pid=$!
    port=
    for _ in $(seq 1 100); do
      port=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\) .*|\1|p' "$work/serve.out")
      [ -n "$port" ] && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    last="serve"; fail "the server did not start: $(cat "$work/serve.err")"
    return 1
  }
  if start_server "$BRIDGERT" $P serve --listen 127.0.0.1:0; then
    last="GET /metrics"
    status=$("$CURL" -s -o "$work/metrics" -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/metrics")
    [ "$status" = "200 text/plain; version=0.0.4; charset=utf-8" ] || fail "got '$status'"
    grep -q '^bridgert_calls_total{algorithm="add"' "$work/metrics" || fail "no add series"
    if [ -n "$PROMTOOL" ]; then "$PROMTOOL" check metrics <"$work/metrics" || fail "promtool"; fi
    last="GET /health"
    status=$("$CURL" -s -o "$work/out" -w '%{http_code}' "http://127.0.0.1:$port/health")
    [ "$status" = 200 ] || fail "got $status"
    json_check "d['status'] == 'HEALTHY'"
    last="GET /nope"
    status=$("$CURL" -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")
    [ "$status" = 404 ] || fail "got $status"
    last="POST /metrics"
    status=$("$CURL" -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")
    [ "$status" = 405 ] || fail "got $status"
    # The port is taken: a second server fails with 71.
    run $P serve --listen "127.0.0.1:$port"; expect_rc 71; expect_err "cannot listen on 127.0.0.1:$port"
    kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
    last="serve stopped by SIGTERM"; cp "$work/serve.err" "$work/err"
    expect_rc 0; expect_err "stopped by SIGTERM"
  fi
  committed=$(committed_with_ballast)
  if start_server env BRT_MAX_MEMORY=$((committed * 100 / 97)) "$BRIDGERT" --plugin-dir "$CLI_BALLAST" serve --listen 127.0.0.1:0; then
    last="GET /health (unhealthy)"
    status=$("$CURL" -s -o "$work/out" -w '%{http_code}' "http://127.0.0.1:$port/health")
    [ "$status" = 503 ] || fail "got $status (server alive: $(kill -0 "$pid" 2>/dev/null && echo yes || echo no); its stderr: $(cat "$work/serve.err"))"
    kill -INT "$pid"; wait "$pid"; rc=$?; pid=
    last="serve stopped by SIGINT"; cp "$work/serve.err" "$work/err"
    expect_rc 0; expect_err "stopped by SIGINT"
  fi
  # --watch: a plugin renamed into a watched directory is loaded.
  mkdir -m 0755 "$work/watched"
  if start_server "$BRIDGERT" --plugin-dir "$work/watched" serve --watch --listen 127.0.0.1:0; then
    last="serve --watch"
    cp "$CLI_PLUGINS/cli_tools.so" "$work/watched/.new" && mv "$work/watched/.new" "$work/watched/cli_tools.so"
    for _ in $(seq 1 100); do
      "$CURL" -s -o "$work/metrics" "http://127.0.0.1:$port/metrics"
      grep -q '^bridgert_plugin_reloads_total{result="loaded"} 1$' "$work/metrics" && break
      sleep 0.05
    done
    grep -q '^bridgert_plugin_reloads_total{result="loaded"} 1$' "$work/metrics" || fail "not loaded"
    kill -TERM "$pid"; wait "$pid"; pid=
  fi
  run serve --listen localhost; expect_rc 64
  expect_err "bridgert serve: --listen 'localhost' is not ADDRESS:PORT with an IPv4 address"
  expect_err "see 'bridgert serve --help'"
  run serve --listen 127.0.0.1:70000; expect_rc 64
  run serve --listen 127.0.0.1:-1; expect_rc 64
  run serve --listen 127.0.0.1:; expect_rc 64
  run serve --listen 300.0.0.1:80; expect_rc 64
  # The bound address cannot be written: the server is of no use, 74 (at
  # once; `timeout` bounds the check should the server keep running).
  timeout 20 "$BRIDGERT" $P serve --listen 127.0.0.1:0 >/dev/full 2>"$work/err" </dev/null
  rc=$?; : >"$work/out"; last="bridgert serve >/dev/full"
  expect_rc 74; expect_err "bridgert: writing the output failed"
  ;;
serve_api)
  # The algorithm API: statuses, paths, bodies, deadlines, the token (a few
  # seconds, loopback only).
  python3 "$CLI_TEST_DIR/serve_api.py" "$BRIDGERT" "$CLI_SERVE_PLUGIN" || { last="serve_api.py"; fail "see above"; }
  ;;
serve_load)
  # A few thousand calls over a few dozen connections, each answer checked,
  # and the metrics counting them all.
  if [ -n "$EXAMPLE_PLUGINS" ]; then
    python3 "$CLI_TEST_DIR/serve_load.py" "$BRIDGERT" "$EXAMPLE_PLUGINS" matrix_multiplication ||
      { last="serve_load.py"; fail "see above"; }
  else
    python3 "$CLI_TEST_DIR/serve_load.py" "$BRIDGERT" "$CLI_SERVE_PLUGIN" echo || { last="serve_load.py"; fail "see above"; }
  fi
  ;;
serve_limits)
  # Slow and many clients: per-address and total connection limits, and the
  # request-header deadline (a few seconds, loopback only).
  python3 "$CLI_TEST_DIR/serve_limits.py" "$BRIDGERT" "$CLI_PLUGINS" || { last="serve_limits.py"; fail "see above"; }
  ;;
demo)
  mkdir "$work/empty"
  run --plugin-dir "$work/empty" demo; expect_rc 69; expect_err "the example algorithm 'matrix_multiplication' failed or is not loaded"
  [ -n "$EXAMPLE_PLUGINS" ] || { echo "the examples are not built: skipping the demo run" >&2; exit 77; }
  run --plugin-dir "$EXAMPLE_PLUGINS" demo; expect_rc 0
  expect_out "dot([1, 2, 3, 4], [10, 20, 30, 40]) = 300"; expect_out "type:    std::out_of_range"
  expect_out "= [[19,22],[43,50]]"; expect_out "Status: HEALTHY"
  grep -Eq '^dot@1.0.0 +closed +1000 +0 +0 ' "$work/out" || fail "no summary row for dot"
  grep -Eq '^fail@1.0.0 +closed +1 +1 +0 .*BRT_E_OUT_OF_RANGE' "$work/out" || fail "no summary row for fail"
  expect_full --plugin-dir "$EXAMPLE_PLUGINS" demo
  run demo; expect_rc 0; expect_out "== Metrics"  # the build tree's examples by default
  run --plugin-dir "$EXAMPLE_PLUGINS" call fail --params '["int"]'; expect_rc 70
  expect_err "type:    int"; expect_err "code:    BRT_E_CPP_EXCEPTION"
  run --plugin-dir "$EXAMPLE_PLUGINS" call fail --params '["std::out_of_range"]'; expect_rc 65
  expect_err "type:    std::out_of_range"
  # A value algorithm: JSON object in, JSON out, schema checked.
  E="--plugin-dir $EXAMPLE_PLUGINS"
  run $E call matrix_multiplication --params '{"matrix_a": [[1,2],[3,4]], "matrix_b": [[5,6],[7,8]]}'
  expect_rc 0; expect_out "[[19,22],[43,50]]"; expect_no_err
  run_stdin '{"matrix_a": [[2]], "matrix_b": [[3]]}' $E call matrix_multiplication@1.0.0 --params -
  expect_rc 0; expect_out "[[6]]"
  run $E call matrix_multiplication --params '{"matrix_a": [[1,2,3]], "matrix_b": [[5,6],[7,8]]}'
  expect_rc 65; expect_err "type:    std::invalid_argument"; expect_err "matrix_a is 1x3 and matrix_b is 2x2"
  run $E call matrix_multiplication --params '{"matrix_a": [[1,"x"]], "matrix_b": [[5]]}'
  expect_rc 65; expect_err "code:    BRT_E_VALIDATION"; expect_err "/matrix_a/0/1: expected number, got string"
  run $E call matrix_multiplication; expect_rc 65; expect_err 'missing required property "matrix_a"'
  run $E call matrix_multiplication --params '{"matrix_a": [[1]],
 "matrix_b": [[1]],}'
  expect_rc 65; expect_err "expected a string key in double quotes at line 2, column 20"
  run $E call matrix_multiplicatio; expect_rc 69; expect_err 'did you mean "matrix_multiplication"'
  run $E list; expect_rc 0; expect_out "object{matrix_a*, matrix_b*}"
  grep -Eq '^matrix_multiplication +1.0.0 +value ' "$work/out" || fail "no value row in list"
  ;;
*)
  echo "test_cli.sh: unknown group '$group'" >&2
  exit 2
  ;;
esac
[ "$failures" -eq 0 ] || { echo "$failures failure(s) in group $group" >&2; exit 1; }
