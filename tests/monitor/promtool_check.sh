#!/bin/sh
# promtool_check.sh SAMPLE PROMTOOL [EXTRA_FAMILIES]: the monitor's
# Prometheus export must pass `promtool check metrics` (syntax and lint)
# and carry its families (and the space-separated extra ones).
set -eu
sample=$1
promtool=$2
extra=${3:-}
out=$("$sample")
printf '%s\n' "$out" | "$promtool" check metrics
for family in bridgert_calls_total bridgert_call_duration_seconds_bucket bridgert_algorithm_state \
              bridgert_errors_total bridgert_uptime_seconds bridgert_plugins_loaded $extra; do
  printf '%s\n' "$out" | grep -q "^$family" || { echo "missing $family" >&2; exit 1; }
done
