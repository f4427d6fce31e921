"""Plots: medians with min/max error bars, one line per variant."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display (CI, SSH sessions)
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes


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
