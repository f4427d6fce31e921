"""`./inv report` and the claims behind it: the reference results are complete,
the report builds from them (Markdown and a self-contained HTML page), missing
experiments are listed with their command, short points are marked, and the
ratio/verdict arithmetic holds on hand-made data."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from aatcp import claims as cl
from aatcp import report, runner
from aatcp.paths import REPO_ROOT, RESULTS_DIR

REFERENCE = RESULTS_DIR / "reference"


def copy_reference(dst: Path, leave_out: tuple[str, ...] = ()) -> Path:
    for n in runner.list_experiments():
        if n not in leave_out:
            shutil.copytree(REFERENCE / n, dst / n)
    return dst


# ----------------------------------------------------------------- reference results


@pytest.mark.parametrize("name", runner.list_experiments())
def test_every_experiment_has_a_reference_result(name: str) -> None:
    d = REFERENCE / name
    for f in ("data.csv", "meta.json", "figure.png"):
        assert (d / f).is_file(), f"{d / f} missing: refresh with `./inv experiment {name} " \
                                  "--results results/reference` (results/README.md)"
    meta = json.loads((d / "meta.json").read_text())
    assert meta["experiment"] == name and meta["status"] == "complete"
    assert meta["runs"]["ok"] > 0 and meta["git"]["commit"]
    data = runner.read_data(d / "data.csv")
    assert (data["status"] == "ok").sum() == meta["runs"]["ok"]
    # Small files only: no binaries, nothing large in the repository.
    for f in d.iterdir():
        assert f.suffix in (".csv", ".json", ".png"), f
        assert f.stat().st_size < 1_000_000, f


def test_reference_report_is_current() -> None:
    """The committed report is the one built from the committed results."""
    for f in ("REPORT.md", "report.html"):
        assert (REFERENCE / f).is_file(), "run `./inv report --results results/reference`"
    md = (REFERENCE / "REPORT.md").read_text()
    for n in runner.list_experiments():
        assert f"## {n}: " in md, n


def test_report_builds_from_the_reference(tmp_path: Path) -> None:
    root = copy_reference(tmp_path / "results")
    md_path, html_path = report.build(root)
    md = md_path.read_text()
    # One section per experiment, the thesis' order first, then ours.
    heads = re.findall(r"^## (\w+): ", md, flags=re.M)
    expected = [n for n in report.THESIS_ORDER] + ["bulk", "s2s", "parsers"]
    expected += sorted(set(runner.list_experiments()) - set(expected))
    assert heads == expected
    kinds = {n: json.loads((root / n / "meta.json").read_text()).get("quick")
             for n in runner.list_experiments()}
    if any(kinds.values()):  # quick results in the reference: said so
        assert "**These are quick runs**" in md
    for n in runner.list_experiments():
        sec = md.split(f"## {n}: ")[1].split("\n## ")[0]
        assert "**Thesis (" in sec and "**Verdict: " in sec, n
        assert f"![{n} figure]({n}/figure.png)" in sec
        assert "| commit |" in sec and "| build-ids |" in sec and "| host dut |" in sec
        assert f"| run | {'quick' if kinds[n] else 'full'}" in sec and "| date |" in sec
    assert "## fig4_6: " in md and "## fig4_10: " in md
    verdicts = set(re.findall(r"\*\*Verdict: ([a-z ]+)[.*]", md))
    assert verdicts <= {cl.REPRODUCED, cl.DIRECTION_ONLY, cl.NOT_REPRODUCED, cl.NOT_RUN,
                        cl.NO_CLAIM}, verdicts

    page = html_path.read_text()
    images = re.findall(r"<img [^>]*src='([^']*)'", page)
    assert len(images) == len(runner.list_experiments())
    assert all(src.startswith("data:image/png;base64,") for src in images)
    # Readable offline: nothing fetched from elsewhere.
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert page.count("<h2 id=") == len(heads) + 1  # + the summary


def test_missing_experiment_is_listed_with_its_command(tmp_path: Path) -> None:
    root = copy_reference(tmp_path / "res", leave_out=("fig4_2",))
    md = report.build(root)[0].read_text()
    cmd = f"./inv experiment fig4_2 --results {root}"
    assert f"fig4_2 (`{cmd}`)" in md  # in the header's "Not run" line
    sec = md.split("## fig4_2: ")[1].split("\n## ")[0]
    assert "**Not run**" in sec and cmd in sec and "**Verdict: not run.**" in sec
    assert "![" not in sec


def test_points_with_fewer_repetitions_are_marked(tmp_path: Path) -> None:
    root = copy_reference(tmp_path / "res")
    d = root / "fig4_1"
    meta = json.loads((d / "meta.json").read_text())
    meta["parameters"]["repetitions"] = planned = 3
    (d / "meta.json").write_text(json.dumps(meta))
    df = runner.read_data(d / "data.csv")
    # loop=0 gets its 3 planned repetitions, loop=256 keeps 1.
    keep = df["warmup"] | (df["repetition"] < planned)
    keep &= df["warmup"] | (df["loop"] != 256) | (df["repetition"] == 0)
    df[keep].to_csv(d / "data.csv", index=False)
    md = report.build(root)[0].read_text()
    sec = md.split("## fig4_1: ")[1].split("\n## ")[0]
    assert re.search(r"\| loop=0 \| [\d.]+ \| [\d.-]+ \| 3 of 3 \|", sec), sec
    assert re.search(r"\| loop=256 \| [\d.]+ \| [\d.-]+ \| 1 of 3 \*\*\(fewer than planned\)",
                     sec), sec
    assert "[fewer repetitions than planned]" in sec


def test_report_task(tmp_path: Path) -> None:
    root = copy_reference(tmp_path / "r", leave_out=tuple(runner.list_experiments()[1:]))
    r = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT),
                        "report", "--results", str(root)], capture_output=True, text=True,
                       timeout=300, stdin=subprocess.DEVNULL, cwd=REPO_ROOT)
    assert r.returncode == 0, r.stderr
    assert (root / "REPORT.md").exists() and (root / "report.html").exists()
    r = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT),
                        "report", "--results", str(tmp_path / "nope")], capture_output=True,
                       text=True, timeout=300, stdin=subprocess.DEVNULL, cwd=REPO_ROOT)
    assert r.returncode == 1 and "no results folder" in r.stderr and "./inv experiment all" \
        in r.stderr


# ----------------------------------------------------------------- claims as data


@pytest.mark.parametrize("name", runner.list_experiments())
def test_each_experiment_states_its_claim(name: str) -> None:
    exp = runner.load_experiment(name)  # validate() checks the ratios' variants/metrics
    assert exp.claims, f"experiments/{name}.py has no claims"
    assert exp.minutes is not None and exp.minutes[0] >= exp.minutes[1] > 0
    for c in exp.claims:
        assert c.says and c.explanation, (name, c.ref)


# ----------------------------------------------------------------- arithmetic


def rows(*specs: tuple[str, int, int, float, str, bool]) -> pd.DataFrame:
    return pd.DataFrame([{"run": i, "variant": v, "x": x, "repetition": rep, "warmup": w,
                          "status": st, "m": val}
                         for i, (v, x, rep, val, st, w) in enumerate(specs)])


def test_ratios_pair_repetitions_and_skip_failed_and_warmup() -> None:
    df = rows(("a", 1, 0, 9.0, "ok", True), ("b", 1, 0, 1.0, "ok", True),  # warm-up
              ("a", 1, 0, 2.0, "ok", False), ("b", 1, 0, 1.0, "ok", False),
              ("a", 1, 1, 3.0, "ok", False), ("b", 1, 1, 1.0, "ok", False),
              ("a", 1, 2, 4.0, "ok", False), ("b", 1, 2, 0.0, "failed", False),
              ("a", 2, 0, 1.0, "ok", False), ("b", 2, 0, 2.0, "ok", False))
    c = cl.Claim("Figure 0", "a is twice b", cl.Ratio("a", "b", metric="m"), value=2.0,
                 pick="max")
    m = cl.measure(c, df, ["x"], planned=3)
    p1, p2 = m.points
    assert (p1.params, p1.median, p1.low, p1.high, p1.n, p1.short) == \
        ({"x": 1}, 2.5, 2.0, 3.0, 2, True)
    assert (p2.median, p2.n) == (0.5, 1)
    assert m.headline is p1 and m.verdict == cl.DIRECTION_ONLY  # 2.5 vs 2.0: > 10% off
    assert m.spread == (0.5, 2.5)


def test_metric_ratio_and_filter() -> None:
    df = pd.DataFrame([{"run": 0, "variant": "v", "k": 1, "repetition": 0, "warmup": False,
                        "status": "ok", "after": 1.0, "before": 4.0},
                       {"run": 1, "variant": "w", "k": 1, "repetition": 0, "warmup": False,
                        "status": "ok", "after": 8.0, "before": 4.0}])
    c = cl.Claim("F", "falls", cl.Ratio("after", "before", between="metrics",
                                         where={"variant": "v"}), direction="below")
    m = cl.measure(c, df, ["k"], planned=1)
    assert [p.median for p in m.points] == [0.25] and m.verdict == cl.REPRODUCED


@pytest.mark.parametrize(("value", "direction", "ours", "expected"), [
    (1.39, None, 1.45, cl.REPRODUCED),
    (1.39, None, 5.0, cl.DIRECTION_ONLY),
    (1.39, None, 0.9, cl.NOT_REPRODUCED),
    (1.0, None, 0.95, cl.REPRODUCED),
    (1.0, None, 0.5, cl.NOT_REPRODUCED),
    (0.71, None, 0.3, cl.DIRECTION_ONLY),
    (None, "above", 1.2, cl.REPRODUCED),
    (None, "above", 0.8, cl.NOT_REPRODUCED),
    (None, None, 0.8, cl.NO_CLAIM),
])
def test_verdicts(value: float | None, direction: str | None, ours: float,
                  expected: str) -> None:
    c = cl.Claim("F", "x", cl.Ratio("a", "b", metric="m"), value=value,
                 direction=direction)  # type: ignore[arg-type]
    assert cl.verdict(c, ours) == expected


@pytest.mark.parametrize(("ours", "expected"), [
    (0.4, cl.REPRODUCED), (1.1, cl.REPRODUCED), (1.11, cl.NOT_REPRODUCED)])
def test_verdict_at_most(ours: float, expected: str) -> None:
    """An issue's target "at most 1.1": any ratio at or below the bound meets it."""
    c = cl.Claim("-", "x", cl.Ratio("a", "b", metric="m"), at_most=1.1)
    assert cl.verdict(c, ours) == expected


def test_no_data_is_not_run() -> None:
    c = cl.Claim("F", "x", cl.Ratio("a", "b", metric="m"), value=2.0)
    assert cl.measure(c, None, ["x"], 1).verdict == cl.NOT_RUN
    assert cl.measure(c, rows(("a", 1, 0, 1.0, "failed", False)), ["x"], 1).verdict \
        == cl.NOT_RUN


def test_results_written_by_the_run_do_not_make_it_dirty() -> None:
    """A run into results/reference changes tracked files under results/ as it
    goes; those are its output, not its input: the provenance says "no"."""
    from aatcp import provenance

    assert provenance.source_changes(["results/reference/bulk/data.csv",
                                      "src/tcp/rcv.c"]) == ["src/tcp/rcv.c"]
    only_results = {"git": {"commit": "a" * 40, "branch": "main", "dirty": True,
                            "changed_files": ["results/reference/bulk/data.csv"]}}
    source_too = {"git": {"commit": "a" * 40, "branch": "main", "dirty": True,
                          "changed_files": ["results/x.csv", "src/tcp/rcv.c"]}}
    for meta, want in ((only_results, "uncommitted changes: no (only results/ differed)"),
                       (source_too, "uncommitted changes: yes: src/tcp/rcv.c")):
        r = report.Result(name="bulk", folder=Path("bulk"), meta=meta, data=None, figure=None)
        text = json.dumps([b.__dict__ if hasattr(b, "__dict__") else b
                           for b in report._provenance(r)], default=str)
        assert want in text, text


def test_readme_shows_the_reference_summary() -> None:
    """README's measured numbers are the committed reference report's summary,
    links pointing into the report (`./inv report --results results/reference`
    rewrites them)."""
    md = (REFERENCE / "REPORT.md").read_text()
    table = md.split("## Summary", 1)[1].strip().split("\n\n", 1)[0]
    readme = (REPO_ROOT / "README.md").read_text()
    block = readme.split(report.README_BEGIN, 1)[1].split(report.README_END, 1)[0]
    assert block.strip() == report.readme_summary(table), \
        "README's summary is stale: run `./inv report --results results/reference`"


def test_a_report_elsewhere_leaves_readme_alone(tmp_path: Path) -> None:
    before = (REPO_ROOT / "README.md").read_text()
    report.build(copy_reference(tmp_path / "r"))
    assert (REPO_ROOT / "README.md").read_text() == before
