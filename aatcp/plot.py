"""Plots: medians with min/max error bars, one line per variant."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display (CI, SSH sessions)
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.text import Text
from matplotlib.transforms import Bbox


def measured(df: pd.DataFrame) -> pd.DataFrame:
    """Rows that count: successful runs, warm-up runs left out."""
    ok = df["status"] == "ok"
    if "warmup" in df.columns:
        ok &= ~df["warmup"].astype(bool)
    return df[ok]


def summarize(df: pd.DataFrame, x: str, metric: str,
              by: Sequence[str] = ("variant",)) -> pd.DataFrame:
    """median, min, max and n of `metric` per (by..., x), from measured rows."""
    d = measured(df)
    d = d[d[metric].notna()] if metric in d.columns else d.iloc[0:0]
    keys = [*by, x]
    if d.empty:
        return pd.DataFrame(columns=[*keys, "median", "min", "max", "n"])
    g = d.groupby(keys)[metric]
    out = g.agg(["median", "min", "max", "count"]).rename(columns={"count": "n"})
    return out.reset_index().sort_values(keys)


def errorbar_line(ax: Axes, summary: pd.DataFrame, x: str, label: str,
                  **kwargs: object) -> None:
    """One line of medians with asymmetric min/max bars."""
    s = summary.sort_values(x)
    yerr = [s["median"] - s["min"], s["max"] - s["median"]]
    ax.errorbar(s[x], s["median"], yerr=yerr, label=label, marker="o", capsize=3, **kwargs)


def default_plot(df: pd.DataFrame, path: Path, x: str, metric: str, title: str,
                 xlabel: str | None = None, ylabel: str | None = None,
                 logx: bool = False) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    summ = summarize(df, x, metric)
    for variant, part in summ.groupby("variant", sort=False):
        errorbar_line(ax, part, x, str(variant))
    if logx:
        ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or metric)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if not summ.empty:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no successful runs", ha="center", va="center",
                transform=ax.transAxes)
    save(fig, path)


def save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def text_overlaps(fig: plt.Figure, slack: float = 1.0) -> list[str]:
    """Where the figure's text is hard to read: two text artists (titles, axis and
    tick labels, annotations, legends) whose bounding boxes overlap, or a text
    drawn in an axes that sticks out of it (into a neighbouring panel). Each
    problem is one line naming both artists. `slack`: pixels of overlap forgiven.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes: list[tuple[str, Bbox]] = []
    problems: list[str] = []

    def add(name: str, artist: Artist) -> None:
        if not artist.get_visible():
            return
        if isinstance(artist, Text) and not artist.get_text().strip():
            return
        bb = artist.get_window_extent(renderer)
        if bb.width > 0 and bb.height > 0:
            boxes.append((name, bb))

    for t in fig.texts:
        add(f"figure text {t.get_text()!r}", t)
    if fig._suptitle is not None:  # no public accessor
        add("suptitle", fig._suptitle)
    for i, ax in enumerate(fig.axes):
        where = f"panel {i + 1}"
        for t in (ax.title, ax._left_title, ax._right_title):
            add(f"{where} title {t.get_text()!r}", t)
        if not ax.get_visible():
            continue
        for axis, tag in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            if not axis.get_visible():  # a twin's shared axis
                continue
            add(f"{where} {tag} label", axis.label)
            lo, hi = sorted(axis.get_view_interval())
            eps = (hi - lo) * 1e-9
            for tick in (*axis.get_major_ticks(), *axis.get_minor_ticks()):
                if lo - eps <= tick.get_loc() <= hi + eps:  # drawn (others are not)
                    for label in (tick.label1, tick.label2):
                        if label.get_visible():
                            add(f"{where} {tag} tick {label.get_text()!r}", label)
            add(f"{where} {tag} offset text", axis.get_offset_text())
        legend = ax.get_legend()
        if legend is not None:
            add(f"{where} legend", legend)
        frame = ax.get_window_extent(renderer)
        for t in ax.texts:
            if not t.get_visible() or not t.get_text().strip():
                continue
            name = f"{where} text {t.get_text()!r}"
            add(name, t)
            bb = t.get_window_extent(renderer)
            if (bb.x0 < frame.x0 - slack or bb.x1 > frame.x1 + slack
                    or bb.y0 < frame.y0 - slack or bb.y1 > frame.y1 + slack):
                problems.append(f"{name} sticks out of its panel")
    for i, (na, a) in enumerate(boxes):
        for nb, b in boxes[i + 1:]:
            w = min(a.x1, b.x1) - max(a.x0, b.x0)
            h = min(a.y1, b.y1) - max(a.y0, b.y0)
            if w > slack and h > slack:
                problems.append(f"{na} overlaps {nb}")
    return problems
