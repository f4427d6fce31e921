"""`./inv report`: one page a reviewer reads, REPORT.md and a self-contained
report.html, from whatever a results folder holds.

One section per experiment in the thesis' order, then our own experiments:
the thesis' claim (each experiment module's `claims`, aatcp.claims), our ratio
per sweep point with its min-max over repetitions, the verdict, why we differ,
the figure, and where the numbers come from (meta.json: commit, dirty flag,
build-ids, hosts, date, full or --quick run). An experiment without results is
listed as not run, with the command that makes them.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp import claims as cl
from aatcp import provenance
from aatcp.errors import ToolkitError
from aatcp.paths import REPO_ROOT, RESULTS_DIR
from aatcp.runner import Experiment, list_experiments, load_experiment, read_data

REFERENCE = RESULTS_DIR / "reference"

#: The thesis' figures and tables in its order; then ours (bulk, s2s, parsers, others).
THESIS_ORDER = ("table3_1", "fig3_7", "fig4_1", "fig4_2", "fig4_5", "fig4_6", "fig4_9",
                "fig4_10", "table5_1", "table5_2", "fig5_4", "fig5_5", "fig5_6", "fig5_7")
OWN_ORDER = ("bulk", "s2s", "parsers", "loss", "web")


# --------------------------------------------------------------------------- the document
# A small block model rendered twice (Markdown, HTML), so both say the same.


@dataclass
class Block:
    kind: str                      # h1 h2 h3 p table img
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    anchor: str = ""
    image: Path | None = None


_INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\((#[\w-]+)\)")


def _inline_html(text: str) -> str:
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append(f"<code>{html.escape(m.group(1))}</code>")
        elif m.group(2) is not None:
            out.append(f"<strong>{html.escape(m.group(2))}</strong>")
        else:
            out.append(f"<a href='{m.group(4)}'>{html.escape(m.group(3))}</a>")
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list[Block], base: Path) -> str:
    out: list[str] = []
    for b in blocks:
        if b.kind in ("h1", "h2", "h3"):
            out.append("#" * int(b.kind[1]) + " " + b.text)
        elif b.kind == "p":
            out.append(b.text)
        elif b.kind == "table":
            head, *body = b.rows
            out.append("| " + " | ".join(_md_cell(c) for c in head) + " |")
            out.append("|" + "---|" * len(head))
            out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in body]
        elif b.kind == "img" and b.image is not None:
            out.append(f"![{b.text}]({b.image.relative_to(base).as_posix()})")
        out.append("")
    return "\n".join(out)


CSS = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#eee}img{max-width:100%;border:1px solid #ddd}
code{background:#f4f4f4;padding:0 .2em}h2{border-top:2px solid #ccc;padding-top:.6em}"""


def to_html(blocks: list[Block], title: str) -> str:
    """One file: the figures are embedded (base64 PNG), so it reads offline."""
    out = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
           f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"]
    for b in blocks:
        if b.kind in ("h1", "h2", "h3"):
            anchor = f" id='{b.anchor}'" if b.anchor else ""
            out.append(f"<{b.kind}{anchor}>{_inline_html(b.text)}</{b.kind}>")
        elif b.kind == "p":
            out.append(f"<p>{_inline_html(b.text)}</p>")
        elif b.kind == "table":
            head, *body = b.rows
            out.append("<table><tr>" + "".join(f"<th>{_inline_html(c)}</th>" for c in head)
                       + "</tr>")
            out += ["<tr>" + "".join(f"<td>{_inline_html(c)}</td>" for c in r) + "</tr>"
                    for r in body]
            out.append("</table>")
        elif b.kind == "img" and b.image is not None:
            data = base64.b64encode(b.image.read_bytes()).decode()
            out.append(f"<p><img alt='{html.escape(b.text)}' "
                       f"src='data:image/png;base64,{data}'></p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- results


@dataclass
class Result:
    """One experiment's folder in the results, read."""

    name: str
    folder: Path
    meta: dict[str, Any] | None
    data: pd.DataFrame | None
    figure: Path | None

    @property
    def ran(self) -> bool:
        return self.data is not None

    @property
    def planned_repetitions(self) -> int:
        return int(((self.meta or {}).get("parameters") or {}).get("repetitions") or 1)


def read_result(name: str, root: Path) -> Result:
    folder = root / name
    meta = None
    if (folder / "meta.json").exists():
        try:
            meta = json.loads((folder / "meta.json").read_text())
        except ValueError as e:
            raise ToolkitError(f"{folder / 'meta.json'}: not JSON ({e}). Fix: rerun "
                               f"`./inv experiment {name}`") from None
    data = read_data(folder / "data.csv") if (folder / "data.csv").exists() else None
    fig = folder / "figure.png"
    return Result(name, folder, meta, data, fig if fig.exists() else None)


def section_order(names: list[str]) -> list[str]:
    """The thesis' items first (in its order), then bulk, parsers, then the rest."""
    first = [*THESIS_ORDER, *(n for n in OWN_ORDER if n in names)]
    return first + sorted(n for n in names if n not in first)


# --------------------------------------------------------------------------- building


def _fmt(v: float) -> str:
    return f"{v:.2f}" if abs(v) >= 0.1 else f"{v:.3f}"


def _at(p: cl.PointRatio) -> str:
    return ", ".join(f"{k}={v}" for k, v in p.params.items())


def _ours(m: cl.Measured) -> str:
    h = m.headline
    if h is None:
        return "-"
    text = f"{_fmt(h.median)} (min-max {_fmt(h.low)}-{_fmt(h.high)}, {h.n} rep.)"
    if len(m.points) > 1 and m.spread is not None:
        text += f" at {_at(h)}; {_fmt(m.spread[0])}-{_fmt(m.spread[1])} over " \
                f"{len(m.points)} points"
    if any(p.short for p in m.points):
        text += " **[fewer repetitions than planned]**"
    return text


def _thesis(c: cl.Claim) -> str:
    if c.at_most is not None:
        return f"{c.ref}: <= {_fmt(c.at_most)}"
    if c.value is not None:
        return f"{c.ref}: {_fmt(c.value)}"
    if c.direction is not None:
        return f"{c.ref}: {'>' if c.direction == 'above' else '<'} 1"
    return c.ref


def _command(name: str, root: Path) -> str:
    extra = "" if root.resolve() == RESULTS_DIR.resolve() else f" --results {_rel(root)}"
    return f"./inv experiment {name}{extra}"


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(p)


def _run_kind(r: Result) -> str:
    if r.meta is None:
        return "?"
    return "quick" if r.meta.get("quick") else "full"


def _provenance(r: Result) -> list[Block]:
    m = r.meta or {}
    git = m.get("git") or {}
    commit = (git.get("commit") or "?")[:12]
    dirty = git.get("dirty")
    inputs = provenance.source_changes(git.get("changed_files") or [])
    dirty_s = "unknown" if dirty is None else ("yes: " + ", ".join(inputs) if inputs
                                               else "no (only results/ differed)" if dirty
                                               else "no")
    runs = m.get("runs") or {}
    rows = [["what", "value"],
            ["run", f"{_run_kind(r)} (`--quick`: tiny sweep, 1 repetition)" if m.get("quick")
             else "full"],
            ["date", f"{m.get('started', '?')} to {m.get('finished', '?')} "
                     f"({m.get('status', '?')})"],
            ["runs", f"{runs.get('ok', '?')} ok, {runs.get('failed', '?')} failed of "
                     f"{runs.get('total', '?')} planned"],
            ["commit", f"`{commit}` on {git.get('branch') or '?'}; uncommitted changes: "
                       f"{dirty_s}"]]
    build = m.get("build") or {}
    ids = build.get("build_ids") or {}
    if ids:
        rows.append(["build-ids", ", ".join(f"{k.split('/')[-1]} `{v[:12]}`"
                                            for k, v in sorted(ids.items()) if v)])
    lab = m.get("lab") or {}
    rows.append(["lab", f"{lab.get('name', '?')} ({'local' if lab.get('local') else 'real'})"])
    for name, h in (m.get("hosts") or {}).items():
        if "error" in h:
            rows.append([f"host {name}", f"facts unavailable: {h['error']}"])
            continue
        rows.append([f"host {name}", f"{h.get('role', '?')}: {h.get('cpu_model', '?')}, "
                                     f"{h.get('cpus', '?')} CPUs, Linux {h.get('kernel', '?')}, "
                                     f"{h.get('os', '?')}"])
    return [Block("table", rows=rows)]


def _claim_blocks(m: cl.Measured) -> list[Block]:
    c = m.claim
    blocks = [Block("p", text=f"**Thesis ({c.ref}):** \"{c.says}\""
                    + (f" (ratio {_fmt(c.value)})" if c.value is not None else "")
                    + (f" (at most {_fmt(c.at_most)})" if c.at_most is not None else ""))]
    if c.ratio is not None:
        blocks.append(Block("p", text=f"**Ours:** {c.ratio.label or c.ratio.num}: {_ours(m)}. "
                                      f"**Verdict: {m.verdict}.**"))
    else:
        blocks.append(Block("p", text=f"**Verdict: {m.verdict}** (no experiment)."))
    if len(m.points) > 1 or any(p.short for p in m.points):
        rows = [["point", "ratio (median)", "min-max", "repetitions"]]
        for p in m.points:
            reps = f"{p.n} of {p.planned}" + (" **(fewer than planned)**" if p.short else "")
            rows.append([_at(p) or "-", _fmt(p.median), f"{_fmt(p.low)}-{_fmt(p.high)}", reps])
        blocks.append(Block("table", rows=rows))
    if c.explanation:
        blocks.append(Block("p", text=f"**Why:** {c.explanation}"))
    return blocks


def _section(name: str, root: Path, claims_for: dict[str, list[tuple[Experiment, cl.Claim]]]
             ) -> tuple[list[Block], list[list[str]]]:
    """The section's blocks and its rows of the summary table."""
    exp = load_experiment(name) if name in list_experiments() else None
    r = read_result(name, root) if exp is not None else None
    own = [c for c in (exp.claims if exp else ()) if c.section in (None, name)]
    borrowed = claims_for.get(name, [])
    title = exp.title if exp else (borrowed[0][1].ref if borrowed else name)
    blocks = [Block("h2", text=f"{name}: {title}", anchor=name)]
    summary: list[list[str]] = []
    link = f"[{name}](#{name})"
    if exp is None:
        for host, c in borrowed:
            m = cl.measure(c, None, [], 1)
            blocks += _claim_blocks(m)
            blocks.append(Block("p", text=f"Its claim is listed with `{host.name}`."))
            summary.append([link, _thesis(c), "-", "-", m.verdict, "-"])
        return blocks, summary
    assert r is not None
    if not r.ran:
        blocks.append(Block("p", text=f"**Not run**: no `{_rel(r.folder)}/data.csv`. Run "
                                      f"`{_command(name, root)}` (about "
                                      f"{exp.minutes[0] if exp.minutes else '?'} min)."))
    if exp.description:
        first = exp.description.strip().split("\n\n")[0]
        blocks.append(Block("p", text=" ".join(first.split())))
    if not own:
        own = [cl.Claim("-", "(no claim recorded)", None)]
    planned = r.planned_repetitions
    for c in own:
        m = (cl.measure(c, r.data, list(exp.sweep), planned) if r.ran
             else cl.Measured(c, [], None, cl.NOT_RUN))
        if c.ratio is None and r.ran:
            m = cl.Measured(c, [], None, cl.NO_CLAIM)
        blocks += _claim_blocks(m)
        what = (c.ratio.label or c.ratio.num) if c.ratio is not None else "-"
        summary.append([link, _thesis(c), what, _ours(m), m.verdict,
                        _run_kind(r) if r.ran else f"`{_command(name, root)}`"])
    if r.ran:
        if r.figure is not None:
            blocks.append(Block("img", text=f"{name} figure", image=r.figure))
        else:
            blocks.append(Block("p", text=f"No figure: `./inv plot {name}` draws it."))
        blocks.append(Block("h3", text="Provenance"))
        blocks += _provenance(r)
    return blocks, summary


def build(root: Path | None = None) -> tuple[Path, Path]:
    """Write <root>/REPORT.md and <root>/report.html; returns their paths."""
    root = root or RESULTS_DIR
    if not root.is_dir():
        raise ToolkitError(f"{root}: no results folder. Fix: run `./inv experiment all "
                           f"--results {root}` first, or give --results an existing folder")
    names = list_experiments()
    claims_for: dict[str, list[tuple[Experiment, cl.Claim]]] = {}
    for n in names:
        exp = load_experiment(n)
        for c in exp.claims:
            if c.section not in (None, n):
                claims_for.setdefault(c.section, []).append((exp, c))
    order = section_order([*names, *claims_for])
    sections, summary = [], [["experiment", "thesis", "ratio", "ours (median, min-max)",
                              "verdict", "run"]]
    for n in order:
        if n not in names and n not in claims_for:
            continue
        blocks, rows = _section(n, root, claims_for)
        sections += blocks
        summary += rows
    results = [read_result(n, root) for n in names]
    ran = [r for r in results if r.ran]
    quick = [r.name for r in ran if _run_kind(r) == "quick"]
    missing = [r.name for r in results if not r.ran]
    head = [Block("h1", text="aatcp: the thesis' figures and tables beside ours"),
            Block("p", text=f"Built by `./inv report` from `{_rel(root)}` on "
                            f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}: "
                            f"{len(ran)} of {len(names)} experiments have results."),
            Block("p", text="Ratios compare variants measured in the same run (absolute "
                            "rates depend on the machine: the local lab runs every host on "
                            "one 2-core machine over veths, the thesis used 10 GbE NICs). "
                            "Verdict: **reproduced** within 10% of the thesis' ratio (or on "
                            "its side of 1 where it states only a direction), **reproduced in "
                            "direction only** on the same side of 1, **not reproduced**, "
                            "**not run**.")]
    if quick:
        head.append(Block("p", text=f"**These are quick runs** (`--quick`: a tiny sweep, one "
                                    f"repetition, short runs) for {', '.join(quick)}: they "
                                    "show that everything runs and roughly where the ratios "
                                    "lie, not numbers to quote; full runs: `./inv experiment "
                                    "all`."))
    if missing:
        head.append(Block("p", text="Not run: " + ", ".join(
            f"{n} (`{_command(n, root)}`)" for n in missing) + "."))
    head += [Block("h2", text="Summary", anchor="summary"), Block("table", rows=summary)]
    blocks = head + sections
    md, page = root / "REPORT.md", root / "report.html"
    md.write_text(to_markdown(blocks, root))
    page.write_text(to_html(blocks, "aatcp: thesis vs measured"))
    if root.resolve() == REFERENCE.resolve():
        update_readme(to_markdown([Block("table", rows=summary)], root))
    return md, page


#: README's summary of the reference results sits between these lines.
README_BEGIN = "<!-- reference-summary:begin (generated by ./inv report --results " \
               "results/reference) -->"
README_END = "<!-- reference-summary:end -->"


def readme_summary(table_md: str) -> str:
    """The report's summary table as README shows it: links into the report."""
    return table_md.strip().replace("](#", f"]({_rel(REFERENCE)}/REPORT.md#")


def update_readme(table_md: str, readme: Path | None = None) -> None:
    """Replace README's reference summary with the one just built, so README's
    numbers are always those of the committed reference results."""
    readme = readme or REPO_ROOT / "README.md"
    text = readme.read_text()
    if README_BEGIN not in text or README_END not in text:
        raise ToolkitError(f"{readme}: the lines {README_BEGIN!r} and {README_END!r} are "
                           "missing. Fix: put them back where README's measured summary goes")
    head, rest = text.split(README_BEGIN, 1)
    tail = rest.split(README_END, 1)[1]
    readme.write_text(f"{head}{README_BEGIN}\n{readme_summary(table_md)}\n{README_END}{tail}")
