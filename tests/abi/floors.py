#!/usr/bin/env python3
"""The floors test: no floor of libbridgert calls a floor its line of the
floor graph does not name.

    floors.py DESIGN_MD FLOOR ARCHIVE [FLOOR ARCHIVE ...]
    floors.py --self-test

The graph is the ```floors block of docs/design.md (lines `floor: the
floors it may call`, bottom first). Each ARCHIVE is one floor's static
library. The test reads every object's symbols with nm, maps each symbol
the object references to the floor that defines it, and fails on:

- a reference to a floor that the referencing floor's line does not name
  (upward or sideways), naming the object, the symbol and both floors;
- a reference to a brt_* or _brt_* symbol that no floor defines;
- a symbol defined by two floors;
- a graph that is malformed or names a floor below itself or twice, and an
  archive of a floor the graph does not have.

It prints the references it found between floors, so the graph the build
has today can be read off a run (`meson test -C BUILD floors -v`).
Only nm (binutils) and python3 are needed. --self-test checks the checker
on made-up symbol tables, without a build.
"""

import os
import re
import subprocess
import sys

BRT_SYMBOL = re.compile(r"^_?brt_")
# nm types of a strong global definition (text, data, bss, read-only,
# small data, indirect function, absolute).
STRONG_DEFINED = set("TDBRGSIiA")
# Weak and unique definitions (inline functions, typeinfo, template
# instances): the same symbol may be in several floors' C++ objects, so
# they name no owner, unless the name is bridgert's.
WEAK_DEFINED = set("WVu")
UNDEFINED = set("Uwv")


class GraphError(Exception):
    pass


def read_graph(text, where="docs/design.md"):
    """The ```floors block of `text` as (order, allowed): the floors bottom
    first, and for each the set of floors it may call."""
    parts = text.split("```floors\n")
    if len(parts) != 2:
        raise GraphError(f"{where}: expected exactly one ```floors block, found {len(parts) - 1}")
    block = parts[1].split("```")[0].strip()
    order, allowed = [], {}
    for number, line in enumerate(block.split("\n"), 1):
        if ":" not in line:
            raise GraphError(f"{where}, floor graph line {number}: \"{line}\" is not \"floor: floors\"")
        name, below = line.split(":", 1)
        name = name.strip()
        below = below.split()
        if not re.fullmatch(r"[a-z_]+", name):
            raise GraphError(f"{where}, floor graph line {number}: \"{name}\" is not a floor name")
        if name in allowed:
            raise GraphError(f"{where}, floor graph: \"{name}\" has two lines")
        for lower in below:
            if lower not in allowed:
                raise GraphError(f"{where}, floor graph: \"{name}\" names \"{lower}\", "
                                 "which is not a floor below it")
        order.append(name)
        allowed[name] = set(below)
    return order, allowed


def read_archive(path, nm="nm"):
    """[(object, symbol, nm type)] of every symbol of every object in the
    archive at `path`."""
    out = subprocess.run([nm, "-P", "-A", path], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        head, _, rest = line.partition(": ")
        fields = rest.split()
        if len(fields) < 2:
            continue
        member = head[head.find("[") + 1:-1] if head.endswith("]") else head
        rows.append((os.path.basename(member), fields[0], fields[1]))
    return rows


def below(allowed, floor):
    """Every floor under `floor` in the graph (the closure of its edges)."""
    seen, todo = set(), list(allowed.get(floor, ()))
    while todo:
        lower = todo.pop()
        if lower not in seen:
            seen.add(lower)
            todo.extend(allowed.get(lower, ()))
    return seen


def check(order, allowed, symbols):
    """symbols: {floor: [(object, symbol, type)]}. Returns (problems,
    edges): the violations as text lines, and {(from, to): set of symbols}
    of every reference between two floors."""
    problems = []
    for floor in symbols:
        if floor not in allowed:
            problems.append(f"floor \"{floor}\" has an archive but no line in the floor graph")
    owner = {}  # symbol -> (floor, object)
    for floor, rows in symbols.items():
        for obj, name, kind in rows:
            strong = kind in STRONG_DEFINED
            if not strong and not (kind in WEAK_DEFINED and BRT_SYMBOL.match(name)):
                continue
            if name in owner and owner[name][0] != floor:
                other, other_obj = owner[name]
                problems.append(f"{name} is defined by two floors: {other} ({other_obj}) and "
                                f"{floor} ({obj})")
                continue
            owner.setdefault(name, (floor, obj))
    edges = {}
    for floor, rows in symbols.items():
        for obj, name, kind in rows:
            if kind not in UNDEFINED:
                continue
            if name not in owner:
                if BRT_SYMBOL.match(name):
                    problems.append(f"{floor}: {obj} references {name}, which no floor defines")
                continue
            target, target_obj = owner[name]
            if target == floor:
                continue
            edges.setdefault((floor, target), set()).add(name)
            if target not in allowed.get(floor, set()):
                if target in below(allowed, floor):
                    direction = "below it, but not named in its line"
                elif floor in below(allowed, target):
                    direction = "upward"
                else:
                    direction = "sideways"
                problems.append(
                    f"{floor} -> {target} is not allowed ({direction}): {obj} references {name}, "
                    f"defined in {target_obj}; the graph lets {floor} call only: "
                    f"{' '.join(sorted(allowed.get(floor, ()), key=order.index)) or 'nothing'}")
    return problems, edges


def self_test():
    graph = "x\n```floors\ncore:\nlow: core\nleft: low core\nright: low core\ntop: left right low core\n```\n"
    order, allowed = read_graph(graph, "self-test")
    assert order == ["core", "low", "left", "right", "top"], order

    def run(symbols):
        return check(order, allowed, symbols)

    base = {
        "core": [("c.o", "_brt_core_helper", "T")],
        "low": [("l.o", "brt_low", "T"), ("l.o", "_brt_core_helper", "U"), ("l.o", "memcpy", "U")],
        "left": [("a.o", "brt_left", "T"), ("a.o", "brt_low", "U")],
        "right": [("b.o", "brt_right", "T"), ("b.o", "_ZTISt9exception", "V")],
        "top": [("t.o", "brt_top", "T"), ("t.o", "brt_left", "U"), ("t.o", "brt_right", "U"),
                ("t.o", "_ZTISt9exception", "V")],
    }
    problems, edges = run(base)
    assert problems == [], problems
    assert edges[("top", "left")] == {"brt_left"} and ("low", "core") in edges, edges

    def with_row(floor, row):
        symbols = {k: list(v) for k, v in base.items()}
        symbols[floor].append(row)
        return run(symbols)[0]

    upward = with_row("low", ("l.o", "brt_top", "U"))
    assert len(upward) == 1 and "low -> top is not allowed (upward)" in upward[0] \
        and "l.o references brt_top" in upward[0], upward
    sideways = with_row("left", ("a.o", "brt_right", "U"))
    assert len(sideways) == 1 and "left -> right is not allowed (sideways)" in sideways[0], sideways
    skipped = with_row("top", ("t.o", "_brt_core_helper", "U"))
    assert skipped == [], skipped  # top names core
    graph2 = "```floors\ncore:\nlow: core\nmid: low\n```"
    order2, allowed2 = read_graph(graph2, "self-test")
    skip = check(order2, allowed2, {"core": [("c.o", "brt_c", "T")],
                                    "low": [("l.o", "brt_l", "T")],
                                    "mid": [("m.o", "brt_m", "T"), ("m.o", "brt_c", "U")]})[0]
    assert len(skip) == 1 and "(below it, but not named in its line)" in skip[0], skip
    weak_upward = with_row("core", ("c.o", "brt_low", "w"))
    assert len(weak_upward) == 1 and "core -> low" in weak_upward[0], weak_upward
    unknown = with_row("top", ("t.o", "_brt_nowhere", "U"))
    assert len(unknown) == 1 and "no floor defines" in unknown[0], unknown
    twice = with_row("right", ("b.o", "brt_left", "T"))
    assert len(twice) == 1 and "defined by two floors" in twice[0], twice
    # A C++ weak definition in two floors names no owner: not a violation.
    assert with_row("left", ("a.o", "_ZTISt9exception", "V")) == []
    stray = run(dict(base, extra=[("e.o", "brt_extra", "T")]))[0]
    assert any("no line in the floor graph" in p for p in stray), stray
    for bad, needle in [("```floors\na: b\n```", "not a floor below it"),
                        ("```floors\na:\na:\n```", "two lines"),
                        ("```floors\na\n```", "is not \"floor: floors\""),
                        ("no block", "exactly one")]:
        try:
            read_graph(bad, "self-test")
        except GraphError as e:
            assert needle in str(e), (bad, str(e))
        else:
            raise AssertionError(f"graph accepted: {bad!r}")
    print("ok: the checker finds upward, sideways, unknown and doubly defined references")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) < 4 or len(argv) % 2 != 0:
        print(__doc__, file=sys.stderr)
        return 2
    design = os.path.normpath(argv[1])
    try:
        with open(design, encoding="utf-8") as f:
            order, allowed = read_graph(f.read(), design)
    except (OSError, GraphError) as e:
        print(f"floors: {e}", file=sys.stderr)
        return 1
    nm = os.environ.get("NM", "nm")
    symbols = {}
    for floor, archive in zip(argv[2::2], argv[3::2]):
        rows = read_archive(archive, nm)
        if not any(kind in STRONG_DEFINED for _, _, kind in rows):
            print(f"floors: {archive} ({floor}) defines nothing: is the floor empty?", file=sys.stderr)
            return 1
        symbols[floor] = rows
    problems, edges = check(order, allowed, symbols)
    print("references between floors (floor -> floor: symbols):")
    for floor in order:
        for target in order:
            if (floor, target) in edges:
                print(f"  {floor} -> {target}: {len(edges[floor, target])}")
    if problems:
        print(f"floors: {len(problems)} reference(s) the floor graph of {design} does not allow:",
              file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    checked = sum(len(v) for v in edges.values())
    print(f"ok: {len(symbols)} floors, {checked} symbols referenced across floors, all allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
