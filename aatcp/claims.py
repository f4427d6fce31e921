"""What the thesis claims for a figure or table, and how our data.csv is held
against it: the data of a claim lives in each experiment module
(`Experiment(claims=...)`), the arithmetic here, the page in aatcp.report.

A claim compares one ratio: two variants' values of one metric measured in the
same run (paired by sweep point and repetition), or two metrics of one row
(`between="metrics"`), or one metric that already is a ratio (`den=None`).
Per sweep point we take the median of the paired ratios and their min-max
over the repetitions; the headline is the point `pick` names.

Verdict against the thesis' ratio `value` (or only its `direction`, or a
bound `at_most`):
reproduced (within `tolerance`, relative), reproduced in direction only (on the
same side of 1), not reproduced, not run (no successful runs), or no thesis
claim (an experiment of our own, shown for its numbers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from aatcp.plot import measured

REPRODUCED = "reproduced"
DIRECTION_ONLY = "reproduced in direction only"
NOT_REPRODUCED = "not reproduced"
NOT_RUN = "not run"
NO_CLAIM = "no thesis claim"


@dataclass(frozen=True)
class Ratio:
    """Our number: `num` / `den` of `metric` (variants), or metric `num` / metric
    `den` of each row (between="metrics"; den=None: `num` already is a ratio)."""

    num: str
    den: str | None
    metric: str = ""
    between: Literal["variants", "metrics"] = "variants"
    #: only rows whose columns have these values (e.g. {"variant": "rate_drop"})
    where: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class Claim:
    """One thesis statement about a figure or table, as data."""

    #: "Table 3.1", "Figure 4.2"
    ref: str
    #: the thesis' words and numbers, quoted
    says: str
    #: how we measure the same thing (None: we do not, see `explanation`)
    ratio: Ratio | None
    #: the thesis' ratio, if it gives one
    value: float | None = None
    #: "above" / "below" 1, for claims that give only a direction
    direction: Literal["above", "below"] | None = None
    #: an upper bound instead of a value (an issue's target, "at most 1.1"):
    #: reproduced at or below it, not reproduced above
    at_most: float | None = None
    #: which sweep point is the headline: the thesis' "up to" is max, "at every N" min
    pick: Literal["max", "min", "median"] = "median"
    #: relative distance from `value` still counted as reproduced
    tolerance: float = 0.1
    #: why our number differs (or where it comes from)
    explanation: str = ""
    #: the thesis item this claim belongs to when another module measures it
    #: (e.g. a figure measured by another experiment); default: the experiment
    section: str | None = None


@dataclass
class PointRatio:
    """Our ratio at one sweep point."""

    params: dict[str, Any]
    median: float
    low: float
    high: float
    n: int          # paired repetitions behind it
    planned: int    # repetitions the run planned

    @property
    def short(self) -> bool:
        return self.n < self.planned


@dataclass
class Measured:
    """A claim held against one experiment's results."""

    claim: Claim
    points: list[PointRatio]
    headline: PointRatio | None
    verdict: str

    @property
    def spread(self) -> tuple[float, float] | None:
        """Lowest and highest point median (the ratio's range over the sweep)."""
        if not self.points:
            return None
        meds = [p.median for p in self.points]
        return min(meds), max(meds)


def _ratios(claim: Claim, r: Ratio, df: pd.DataFrame, sweep: Sequence[str]
            ) -> dict[tuple[Any, ...], list[float]]:
    """Paired ratios per sweep point (key: the sweep values)."""
    d = measured(df)
    for k, v in r.where.items():
        d = d[d[k] == v] if k in d.columns else d.iloc[0:0]
    keys = [k for k in sweep if k in d.columns]
    out: dict[tuple[Any, ...], list[float]] = {}

    def put(key: tuple[Any, ...], num: float, den: float | None) -> None:
        if den is None:
            val = num
        elif den and not math.isnan(den):
            val = num / den
        else:
            return
        if not math.isnan(val):
            out.setdefault(key, []).append(float(val))

    if r.between == "metrics":
        if r.num not in d.columns or (r.den is not None and r.den not in d.columns):
            return out
        for _, row in d.iterrows():
            put(tuple(row[k] for k in keys), float(row[r.num]),
                None if r.den is None else float(row[r.den]))
        return out
    if r.metric not in d.columns or r.den is None:
        return out
    side = {v: d[d["variant"] == v].set_index([*keys, "repetition"])[r.metric]
            for v in (r.num, r.den)}
    for idx, num in side[r.num].items():
        if idx in side[r.den].index:
            den = side[r.den].loc[idx]
            den_v = float(den.iloc[0]) if isinstance(den, pd.Series) else float(den)
            key = idx[:-1] if isinstance(idx, tuple) else ()
            put(key, float(num), den_v)
    return out


def measure(claim: Claim, df: pd.DataFrame | None, sweep: Sequence[str],
            planned: int) -> Measured:
    """Our ratio per sweep point, the headline point and the verdict."""
    if claim.ratio is None:
        return Measured(claim, [], None, NOT_RUN)
    if df is None or df.empty:
        return Measured(claim, [], None, NOT_RUN)
    keys = [k for k in sweep if k in df.columns]
    points = []
    for key, vals in sorted(_ratios(claim, claim.ratio, df, sweep).items(),
                            key=lambda kv: tuple(_sort_key(x) for x in kv[0])):
        s = pd.Series(vals)
        points.append(PointRatio(dict(zip(keys, key, strict=False)), float(s.median()),
                                 float(s.min()), float(s.max()), len(vals), planned))
    if not points:
        return Measured(claim, [], None, NOT_RUN)
    if claim.pick == "max":
        head = max(points, key=lambda p: p.median)
    elif claim.pick == "min":
        head = min(points, key=lambda p: p.median)
    else:
        ordered = sorted(points, key=lambda p: p.median)
        head = ordered[(len(ordered) - 1) // 2]
    return Measured(claim, points, head, verdict(claim, head.median))


def _sort_key(v: Any) -> tuple[int, float, str]:
    """Sweep values in numeric order (numbers first), anything else by its text."""
    try:
        return 0, float(v), ""
    except (TypeError, ValueError):
        return 1, 0.0, str(v)


def verdict(claim: Claim, ours: float) -> str:
    value, direction = claim.value, claim.direction
    if claim.at_most is not None:
        return REPRODUCED if ours <= claim.at_most else NOT_REPRODUCED
    if value is None and direction is None:
        return NO_CLAIM
    if value is not None:
        if abs(ours / value - 1) <= claim.tolerance:
            return REPRODUCED
        if value == 1:
            return NOT_REPRODUCED  # "no difference" has no direction to keep
        same_side = (ours > 1) == (value > 1)
        return DIRECTION_ONLY if same_side else NOT_REPRODUCED
    above = ours > 1
    return REPRODUCED if above == (direction == "above") else NOT_REPRODUCED
