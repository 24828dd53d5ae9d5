#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""room_graph.py OBJ...: the rooms of core/ must depend on each other one way.

Each object file is a room (a directory: every *.o in it). A room uses another when one of its undefined symbols
(functions or data) is defined there, as nm reports them. The graph must have no cycle
(DESIGN.md: a lower room reports upward by return values or callbacks, never by calling up).
Every cycle is printed with the symbols that make each of its edges, and the check fails.
"""
import subprocess
import sys
from collections import defaultdict
from pathlib import Path


def nm_symbols(obj, *flags):
    out = subprocess.run(["nm", *flags, str(obj)], check=True, capture_output=True, text=True)
    return [line.split()[-1] for line in out.stdout.splitlines() if line.strip()]


def room_edges(paths):
    """{(from, to): {symbols}} over the objects (or directories of objects) given."""
    objs = sorted(o for p in map(Path, paths) for o in (p.glob("*.o") if p.is_dir() else [p]))
    owner = {}
    for o in objs:
        for sym in nm_symbols(o, "--defined-only", "--extern-only"):
            owner[sym] = o.stem
    edges = defaultdict(set)
    for o in objs:
        for sym in nm_symbols(o, "--undefined-only"):
            to = owner.get(sym)
            if to and to != o.stem:
                edges[(o.stem, to)].add(sym)
    return edges


def strongly_connected(nodes, succ):
    """Tarjan's algorithm, iteratively; returns the components of more than one room."""
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(succ[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = set()
                    while True:
                        x = stack.pop()
                        on_stack.discard(x)
                        comp.add(x)
                        if x == v:
                            break
                    if len(comp) > 1:
                        comps.append(comp)
            elif w not in index:
                index[w] = low[w] = counter
                counter += 1
                stack.append(w)
                on_stack.add(w)
                work.append((w, iter(succ[w])))
            elif w in on_stack:
                low[v] = min(low[v], index[w])
    return comps


def main(argv):
    if not argv:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    edges = room_edges(argv)
    succ = defaultdict(set)
    for a, b in edges:
        succ[a].add(b)
    nodes = sorted({a for a, _ in edges} | {b for _, b in edges})
    comps = strongly_connected(nodes, succ)
    for comp in comps:
        print(f"rooms: cycle among {' '.join(sorted(comp))}")
        for a, b in sorted(edges):
            if a in comp and b in comp:
                print(f"  {a} -> {b}: {' '.join(sorted(edges[(a, b)]))}")
    if comps:
        print("rooms: a lower room calls up: core/ must depend one way (DESIGN.md)")
        return 1
    print(f"rooms: {len(nodes)} rooms, {len(edges)} edges, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
