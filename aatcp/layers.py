"""`./inv test` stage `layers`: every `#include` in src/ points down the layer order.

The library's folders are layers (docs/architecture.md "Layers"), lowest first:

    common -> core -> io -> net -> tcp -> zc -> aa -> fwd -> core/loop -> api

A file may include headers of its own layer and of the layers below it. The one
exception is a feature hook: the core (tcp/, core/) calls a feature (zc/, aa/,
fwd/) only inside `#if AATCP_WITH_ZC` / `AATCP_WITH_AA` / `AATCP_WITH_FWD`, so
that the core-only build (`./inv build --features core`) has no upward edge at
all; an upward include inside the block of the feature it names is allowed and
listed as a hook. `include/` (the public API's types and constants) sits with
common/.

`python -m aatcp.layers` prints the folder graph (edges, cycles, hooks) and exits
1 on an include that points up.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aatcp.paths import REPO_ROOT

#: Rank of each path prefix below src/ (longest prefix wins). core/ holds two
#: ranks: the per-core context, the rings and the events every layer uses
#: (core/core.h, ...), and the network thread's loop and command executor that
#: run every layer (core/loop/).
RANKS: dict[str, int] = {
    "include/": 0,
    "common/": 0,
    "core/": 1,
    "io/": 2,
    "net/": 3,
    "tcp/": 4,
    "zc/": 5,
    "aa/": 6,
    "fwd/": 7,
    "core/loop/": 8,
    "api/": 9,
}
#: The `#if` symbol under which the core may call a feature folder.
FEATURE_SYMBOL = {"zc/": "AATCP_WITH_ZC", "aa/": "AATCP_WITH_AA", "fwd/": "AATCP_WITH_FWD"}

_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
_IF = re.compile(r"^\s*#\s*(if|ifdef|ifndef)\b(.*)")
_ELSE = re.compile(r"^\s*#\s*(else|elif)\b(.*)")
_ENDIF = re.compile(r"^\s*#\s*endif\b")


@dataclass(frozen=True)
class Include:
    src: str       # path below src/ (or include/...)
    dst: str
    line: int
    guards: tuple[str, ...]  # AATCP_WITH_* symbols of the enclosing #if blocks


def layer(path: str) -> str:
    """The RANKS key of a path (longest matching prefix)."""
    best = ""
    for prefix in RANKS:
        if path.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    if not best:
        raise ValueError(f"{path}: in no layer. Fix: add its folder to RANKS in aatcp/layers.py")
    return best


def folder(path: str) -> str:
    return layer(path).rstrip("/")


def _resolve(name: str, src: Path, root: Path) -> str | None:
    """The include's file as a path below src/ ('include/x.h' for public headers)."""
    for base, prefix in ((root / "src", ""), (src.parent, None), (root / "include", "include/")):
        cand = base / name
        if cand.is_file():
            if prefix is None:
                return str(cand.relative_to(root / "src"))
            return prefix + name
    return None  # a generated header (build folder) or a test's


def includes(root: Path = REPO_ROOT) -> list[Include]:
    out: list[Include] = []
    for f in sorted((root / "src").rglob("*.[ch]")):
        rel = str(f.relative_to(root / "src"))
        stack: list[str] = []
        for no, text in enumerate(f.read_text().splitlines(), 1):
            if m := _IF.match(text):
                stack.append(m.group(2) if m.group(1) == "if" else "")
            elif m := _ELSE.match(text):
                if stack:  # `#else` of a feature block is the feature-off side
                    stack[-1] = m.group(2) if m.group(1) == "elif" else ""
            elif _ENDIF.match(text):
                if stack:
                    stack.pop()
            elif m := _INCLUDE.match(text):
                dst = _resolve(m.group(1), f, root)
                if dst is None:
                    continue
                guards = tuple(s for cond in stack for s in re.findall(r"AATCP_WITH_\w+", cond))
                out.append(Include(rel, dst, no, guards))
    return out


def violations(incs: Iterable[Include]) -> tuple[list[str], list[Include]]:
    """(errors, hooks): upward includes outside their feature's block, and inside it."""
    errors: list[str] = []
    hooks: list[Include] = []
    for inc in incs:
        lsrc, ldst = layer(inc.src), layer(inc.dst)
        if RANKS[ldst] <= RANKS[lsrc]:
            continue
        sym = FEATURE_SYMBOL.get(ldst)
        if sym and sym in inc.guards:
            hooks.append(inc)
            continue
        errors.append(f"src/{inc.src}:{inc.line}: includes {inc.dst} ({ldst} is above "
                      f"{lsrc}). Fix: move the declaration down, pass what is needed in "
                      "a lower-layer type, or, for a feature hook, put the include and "
                      f"the call inside `#if {sym}`" if sym else
                      f"src/{inc.src}:{inc.line}: includes {inc.dst} ({ldst} is above "
                      f"{lsrc}). Fix: move the declaration down to {lsrc} or below")
    return errors, hooks


def folder_graph(incs: Iterable[Include], view: str = "all") -> dict[str, set[str]]:
    """Folder -> folders it includes. view: "all" includes, "unconditional"
    (the feature hooks left out), "core" (what the core-only build compiles:
    no feature folder, no hook)."""
    features = {f.rstrip("/") for f in FEATURE_SYMBOL}
    graph: dict[str, set[str]] = {}
    for inc in incs:
        hook = any(g in FEATURE_SYMBOL.values() for g in inc.guards)
        if view != "all" and hook:
            continue
        a, b = folder(inc.src), folder(inc.dst)
        if view == "core" and (a in features or b in features):
            continue
        if a != b:
            graph.setdefault(a, set()).add(b)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one folder (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    comps: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return comps


def report(root: Path = REPO_ROOT) -> str:
    incs = includes(root)
    lines = []
    for title, view in (("every include", "all"), ("without the feature hooks", "unconditional"),
                        ("core-only build", "core")):
        g = folder_graph(incs, view)
        lines.append(f"folder graph, {title}:")
        lines += [f"  {a} -> {', '.join(sorted(bs))}" for a, bs in sorted(g.items())]
        cyc = cycles(g)
        lines.append("  cycles: " + ("; ".join(" <-> ".join(c) for c in cyc) if cyc else "none"))
    return "\n".join(lines)


def check(root: Path = REPO_ROOT, log=print) -> int:
    errors, hooks = violations(includes(root))
    for e in errors:
        log(e)
    log(f"layers: {len(errors)} upward include(s), {len(hooks)} feature hook include(s) "
        "(docs/architecture.md \"Layers\")")
    return 1 if errors else 0


if __name__ == "__main__":
    print(report())
    sys.exit(check())
