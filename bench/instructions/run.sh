#!/usr/bin/env bash
# bench/instructions/run.sh BUILD_DIR — instruction counts per operation of
# the allocator's workloads under callgrind (bench/run instructions).
# Unlike timings they do not depend on the machine's load. Runs
# bench/alloc/alloc-instructions (churn, retain, handoff; bridgert, then
# mimalloc where it has a counterpart) and prints one JSON line per subject:
#   {"bench":"instructions.churn","subject":"bridgert","instructions_per_op":140.1,
#    "functions":{"brt_alloc":52.7,"brt_release":54.3}}
# (inclusive counts divided by the workload's operation count), then
# {"bench":...,"ratio":{"bridgert/mimalloc":x}}.
set -euo pipefail
build=$(cd "${1:?usage: bench/instructions/run.sh BUILD_DIR}" && pwd)
command -v valgrind >/dev/null || { echo "bench/instructions: valgrind not found" >&2; exit 2; }
exe="$build/bench/alloc/alloc-instructions"
[ -x "$exe" ] || { echo "bench/instructions: $exe not built" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The operation count is the program's own (its usage line says it).
ops=$("$exe" 2>&1 | sed -n 's/.*(\([0-9]*\) operations).*/\1/p' || true)
[ -n "$ops" ] || { echo "bench/instructions: cannot read the operation count from $exe" >&2; exit 2; }
for workload in churn retain handoff; do
  mkdir "$tmp/$workload"
  valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$tmp/$workload/out" "$exe" "$workload" 2>"$tmp/$workload/log" ||
    { cat "$tmp/$workload/log" >&2; exit 1; }
  for file in "$tmp/$workload"/out-*; do
    callgrind_annotate --inclusive=yes --threshold=100 "$file" >"$file.txt"
  done
done
python3 - "$tmp" "$ops" <<'PY'
import glob, json, re, sys
tmp, ops = sys.argv[1], int(sys.argv[2])

def counts(workload):
    """function name -> inclusive instructions, over every thread's file."""
    found = {}
    for path in glob.glob(f"{tmp}/{workload}/out-*.txt"):
        for line in open(path, encoding="utf-8", errors="replace"):
            m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+\S*?:([A-Za-z_][\w@.]*)\s", line)
            if m:
                name = m.group(2).split("@")[0]
                found[name] = max(found.get(name, 0), int(m.group(1).replace(",", "")))
    return found

def emit(bench, subject, total, functions):
    row = {"bench": bench, "subject": subject, "instructions_per_op": round(total / ops, 1),
           "ops": ops, "functions": {k: round(v / ops, 1) for k, v in functions.items()}}
    print(json.dumps(row, separators=(",", ":")))

def bench(name, subjects):
    """subjects: (subject, whole-workload function, {label: function})."""
    got = {}
    for subject, whole, parts, workload in subjects:
        c = counts(workload)
        if whole not in c:
            continue
        emit(name, subject, c[whole], {label: c[f] for label, f in parts.items() if f in c})
        got[subject] = c[whole]
    if "bridgert" in got and "mimalloc" in got:
        ratio = {"bridgert/mimalloc": round(got["bridgert"] / got["mimalloc"], 3)}
        print(json.dumps({"bench": name, "ratio": ratio}, separators=(",", ":")))

bench("instructions.churn", [
    ("bridgert", "churn_bridgert", {"brt_alloc": "brt_alloc", "brt_release": "brt_release"}, "churn"),
    ("mimalloc", "churn_mimalloc", {"malloc": "malloc", "free": "free"}, "churn")])
bench("instructions.retain_release", [
    ("bridgert", "retain_bridgert", {"brt_retain": "brt_retain", "brt_release": "brt_release"}, "retain")])
bench("instructions.handoff_alloc", [
    ("bridgert", "handoff_bridgert", {}, "handoff"), ("mimalloc", "handoff_mimalloc", {}, "handoff")])
bench("instructions.handoff_release", [
    ("bridgert", "release_all_bridgert", {}, "handoff"), ("mimalloc", "release_all_mimalloc", {}, "handoff")])
PY
