"""Plot pieces shared by experiments that compare two variants over a sweep
(fig3_7: zero-copy vs standard receive, fig4_1: network vs application thread).

Both draw the ratio of the two variants' medians under the main panel, next to
the thesis' figure, so a reader compares like with like; one helper keeps the
two figures drawing it the same way.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes


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
