"""Pieces shared by several experiments.

Plots of experiments that compare two variants over a sweep (fig3_7:
zero-copy vs standard receive, fig4_1: network vs application thread): both
draw the ratio of the two variants' medians under the main panel, next to the
thesis' figure, so a reader compares like with like; one helper keeps the two
figures drawing it the same way.

CPU accounting of a stack program (bulk's receiver or sender, the chapter 5
tables' proxy): the network thread's busy poll-loop cycles plus the
application thread's CPU time, and cycles per byte moved at the TSC rate the
stack reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.axes import Axes

from aatcp.dutrun import core_counter


def stack_cpu(st: Mapping[str, Any], report: Mapping[str, Any]) -> dict[str, float]:
    """The stack's CPU for one run, in seconds: the network thread's busy
    poll-loop cycles (stats file `busy_tsc`: iterations that found work; idle
    polls are not counted, nor are the cycles the application thread ran on
    the shared core inside the network thread's wake-up call,
    `app_in_wake_tsc`, which its own CPU time already holds) plus the
    application thread's CPU time (the program's JSON `app_cpu_s`), at most
    the process's whole CPU time (`cpu_s`, idle polls included; kept as
    `proc_cpu_s`): busy_tsc is read from the TSC, so a busy iteration that
    another process preempted counts that process's time too, and on a loaded
    machine the sum can exceed what the process used (`cpu_capped` says so).
    And the TSC rate."""
    hz = float(st.get("tsc_hz") or 0)
    busy = core_counter(st, "busy_tsc") / hz if hz else float("nan")
    app = float(report.get("app_cpu_s", float("nan")))
    proc = float(report.get("cpu_s", float("nan")))
    capped = busy + app > proc  # False when either is NaN
    return {"dut_cpu_s": proc if capped else busy + app, "net_busy_s": busy,
            "app_cpu_s": app, "proc_cpu_s": proc, "cpu_capped": capped, "tsc_hz": hz}


def tsc_rate(d: pd.DataFrame) -> float:
    """The median TSC rate the stack's runs of a table reported (0: none did):
    the unit that turns CPU seconds, ours and Linux's, into cycles."""
    if "tsc_hz" not in d or not d["tsc_hz"].notna().any():
        return 0.0
    return float(d["tsc_hz"].median())


def cycles_per_byte(d: pd.DataFrame, col: str, hz: float,
                    nbytes: str = "bytes") -> pd.Series:
    """CPU seconds in `col` as cycles (at `hz`) per byte of column `nbytes`,
    per row; NaN where either is missing (old results, variants without)."""
    if col not in d or nbytes not in d or not hz:
        return pd.Series(float("nan"), index=d.index)
    return d[col].astype(float) * hz / d[nbytes].astype(float)


def ratio_panel(ax: Axes, summ: pd.DataFrame, x: str, num: str, den: str,
                thesis: float, thesis_label: str) -> None:
    """On `ax`: the ratio of `num`'s to `den`'s median at each `x` (from a
    summarize() table), each point annotated, with lines at 1 (no difference)
    and at the thesis' ratio."""
    med = (summ.pivot(index=x, columns="variant", values="median")
           if not summ.empty else pd.DataFrame())
    if {num, den} <= set(med.columns):
        ratio = (med[num] / med[den]).dropna()
        ax.plot(ratio.index, ratio.values, marker="o", color="C2",
                label=f"{num} / {den} (medians)")
        for xv, y in ratio.items():
            ax.annotate(f"{y:.2f}", (xv, y), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=8)
    ax.axhline(1.0, color="grey", lw=1)
    ax.axhline(thesis, color="C3", ls="--", lw=1, label=thesis_label)
    label_room(ax)


def label_room(ax: Axes, above: float = 0.3, below: float = 0.12) -> None:
    """Widen `ax`'s y range so that the value labels over the points stay inside
    the panel (they would otherwise run into the panel above)."""
    lo, hi = ax.get_ylim()
    span = hi - lo
    ax.set_ylim(lo - below * span, hi + above * span)
