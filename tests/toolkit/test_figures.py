"""Every experiment's figure, at full and at --quick size, has no overlapping text
(titles, labels, tick labels, value labels, legends) and no value label running
out of its panel.

Nothing is run: the figures are drawn from the reference results
(results/reference/NAME/) for the quick size, and for the full size from rows
made from them for every point of the full plan (the nearest reference row of
the same variant, its values varied a little per repetition), so the figure
has as many points, labels and legend entries as after a full run.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import matplotlib.figure
import pandas as pd
import pytest

from aatcp import plot as plotting
from aatcp import runner
from aatcp.paths import RESULTS_DIR

REFERENCE = RESULTS_DIR / "reference"


def _nearest(rows: pd.DataFrame, x: str, value: object) -> pd.Series:
    if not isinstance(value, int | float) or x not in rows.columns:
        return rows.iloc[0]
    dist = [abs(math.log1p(abs(float(v))) - math.log1p(abs(float(value))))
            for v in rows[x]]
    return rows.iloc[dist.index(min(dist))]


def full_size(exp: runner.Experiment, src: Path, dst: Path) -> None:
    """dst/data.csv with one row per run of the full plan, made from src's rows;
    per-run files (NAME_<run>.csv) follow their rows."""
    ref = runner.read_data(src / "data.csv")
    ok = ref[ref["status"] == "ok"]
    numeric = [c for c in ok.columns if c not in ("run", "repetition", *exp.sweep)
               and pd.api.types.is_numeric_dtype(ok[c]) and not pd.api.types.is_bool_dtype(ok[c])]
    rows = []
    for p in runner.plan(exp):
        same = ok[ok["variant"] == p.variant]
        if same.empty:
            continue
        row = _nearest(same, exp.x_param, p.params[exp.x_param]).copy()
        src_run = int(row["run"])
        for k in exp.sweep:
            row[k] = p.params[k]
        row["run"], row["repetition"], row["warmup"] = p.index, p.repetition, p.warmup
        for c in numeric:
            row[c] = row[c] * (1 + 0.04 * p.repetition)
        rows.append(row)
        for f in src.glob(f"*_{src_run}.csv"):
            shutil.copy(f, dst / f.name.replace(f"_{src_run}.csv", f"_{p.index}.csv"))
    pd.DataFrame(rows).to_csv(dst / "data.csv", index=False)


@pytest.fixture
def problems_of_saved_figures(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Each figure saved from now on: the text problems plot.text_overlaps finds."""
    found: list[list[str]] = []
    save = matplotlib.figure.Figure.savefig

    def checking_savefig(fig: matplotlib.figure.Figure, *args: object, **kw: object) -> None:
        found.append(plotting.text_overlaps(fig))
        save(fig, *args, **kw)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", checking_savefig)
    return found


@pytest.mark.parametrize("size", ["quick", "full"])
@pytest.mark.parametrize("name", runner.list_experiments())
def test_figure_text_does_not_overlap(name: str, size: str, tmp_path: Path,
                                      problems_of_saved_figures: list[list[str]]) -> None:
    src = REFERENCE / name
    assert (src / "data.csv").exists(), f"no reference result for {name}: see results/README.md"
    exp = runner.load_experiment(name)
    out = tmp_path / name
    if size == "quick":
        shutil.copytree(src, out)
        exp = exp.quickened()
    else:
        out.mkdir()
        full_size(exp, src, out)
    runner.make_figure(exp, out)
    assert problems_of_saved_figures, "the plot saved no figure"
    assert problems_of_saved_figures[-1] == [], "\n".join(problems_of_saved_figures[-1])


def test_the_check_finds_overlaps(tmp_path: Path) -> None:
    """The check itself: a legend over a text and a label out of its panel."""
    fig, (a, b) = plotting.plt.subplots(2, 1, figsize=(4, 4))
    a.plot([0, 1], [0, 1], label="a long legend entry")
    a.text(0.02, 0.97, "a text under the legend", transform=a.transAxes, va="top")
    a.legend(loc="upper left")
    b.plot([0, 1], [0, 1])
    b.annotate("1.00", (1, 1), textcoords="offset points", xytext=(0, 8))
    problems = plotting.text_overlaps(fig)
    assert any("legend overlaps" in p or "overlaps panel 1 legend" in p for p in problems)
    assert any("'1.00' sticks out of its panel" in p for p in problems)
    plotting.plt.close(fig)
