"""Figure 5.4 (thesis 5.1.2): alpha over time through one spliced transfer with
a change of conditions midway.

One connection through the splice (answer_server --raw -> proxy -> lsink);
the proxy samples alpha = 1 / (1 + 9 b / b0), w_c and b of that connection
once per ms (mtcp_zc_splice_samples, proxy -a). At `change_at` seconds the
conditions change:
  second_flow  a second connection starts through the same proxy and shares
               the client's link and core (the thesis' example);
  rate_drop    the client's receive rate drops to `rate` (tc tbf on an ifb
               fed by its links' ingress).
The samples of every run are kept in alpha_<run>.csv beside data.csv; the
figure draws the last repetition of each variant. Metrics: median alpha
before the change and from 0.2 s after it was in place (tc on a loaded
machine can take seconds: the figure shades the time between asking and
having), max b, the proxy's retransmissions.
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.plot import measured, plt, save
from aatcp.runner import Experiment, Point, Quick, RunContext
from experiments._ch5 import (
    PROXY_PORT,
    Ch5Lab,
    lsink,
    middlebox,
    proxy_counters,
    start_answer,
    stop_answer,
)

#: samples (one per ms at most) in the plot's rolling median
SMOOTH_SAMPLES = 50


def setup(ctx: RunContext) -> None:
    start_answer(ctx, "--raw -c 8388608")


def teardown(ctx: RunContext) -> None:
    stop_answer(ctx, unshape=True)


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    return s[len(s) // 2] if s else float("nan")


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    ch5: Ch5Lab = ctx.state["ch5"]
    total, at = float(p["seconds"]), float(p["change_at"])
    ov = {"splice_b0": p["b0"]}
    second: dict[str, Any] = {}
    with middlebox(ch5, "splice", overrides=ov, alpha=True) as px:
        t_start = time.monotonic()

        def change() -> None:
            time.sleep(at)
            second["done"] = time.monotonic() - t_start
            if p.variant == "second_flow":
                second["out"] = lsink(ch5, ch5.proxy_ip, PROXY_PORT, total - at, 0)
            else:
                # tc over SSH while both cores carry the flow can take ~2 s:
                # the rate drops when it returns, not when it was asked for
                ch5.shape_client(p["rate"])
                second["done"] = time.monotonic() - t_start

        th = threading.Thread(target=change)
        th.start()
        try:
            first = lsink(ch5, ch5.proxy_ip, PROXY_PORT, total, 0)
        finally:
            th.join()
            ch5.shape_client(None)
    assert px is not None and px.result is not None
    samples = px.result.alpha
    if not samples:
        raise RuntimeError("the proxy wrote no alpha samples")
    t0 = samples[0]["t_s"]
    path = ctx.results_dir / f"alpha_{p.index}.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "alpha", "w_c", "b"])
        for s in samples:
            w.writerow([f"{s['t_s'] - t0:.6f}", s["alpha"], int(s["w_c"]), int(s["b"])])
    # the change was asked for `at` s after the first connection started (about
    # the first sample) and in place `done` s after it
    done = float(second.get("done", at))
    before = [s["alpha"] for s in samples if s["t_s"] - t0 < at]
    after = [s["alpha"] for s in samples if s["t_s"] - t0 >= done + 0.2]
    return {"alpha_before": _median(before), "alpha_after": _median(after),
            "b_max": max(int(s["b"]) for s in samples), "samples": len(samples),
            "first_gbps": first["gbps"], "change_at_s": at, "change_done_s": done,
            **proxy_counters(px, "retransmits", "rto_expired")}


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    d = measured(df)
    variants = [v for v in exp.variants if not d.empty and v in set(d["variant"])]
    fig, axes = plt.subplots(max(1, len(variants)), 1, figsize=(8, 3.2 * max(1, len(variants))),
                             squeeze=False)
    for ax, v in zip(axes[:, 0], variants or [None], strict=False):
        if v is None:
            ax.text(0.5, 0.5, "no successful runs", ha="center", transform=ax.transAxes)
            continue
        row = d[d["variant"] == v].iloc[-1]
        f = path.parent / f"alpha_{int(row['run'])}.csv"
        if not f.exists():
            continue
        s = pd.read_csv(f)
        # alpha moves by the ms (each window the client opens drains b); the
        # 50 ms rolling median shows the trend the thesis' figure shows, the
        # raw samples stay behind it for the spread.
        smooth = s.rolling(SMOOTH_SAMPLES, center=True, min_periods=1).median()
        ax.plot(s["t_s"], s["alpha"], lw=0.3, color="C0", alpha=0.25, label="alpha (1 ms)")
        ax.plot(s["t_s"], smooth["alpha"], lw=1.4, color="C0", label="alpha (50 ms median)")
        at = float(row["change_at_s"])
        done = float(row.get("change_done_s", at))
        if done - at > 0.05:  # asked for .. in place (tc under load)
            ax.axvspan(at, done, color="C3", alpha=0.12, lw=0)
        ax.axvline(done, color="C3", ls="--", lw=1,
                   label={"second_flow": "second flow starts",
                          "rate_drop": "client rate drops"}.get(v, v))
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("alpha")
        ax2 = ax.twinx()
        ax2.plot(s["t_s"], smooth["b"] / 1e6, color="C2", lw=1.0, label="b (50 ms median)")
        ax2.set_ylabel("b (MB)", color="C2")
        ax.set_title(f"{exp.title} - {v}", fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")
    axes[-1, 0].set_xlabel("time since the first sample (s)")
    save(fig, path)


CLAIMS = (
    Claim("Figure 5.4",
          "alpha is adjusted when the environment changes, as illustrated by the two down "
          "peaks",
          Ratio("alpha_after", "alpha_before", between="metrics", where={"variant": "rate_drop"},
                label="median alpha after / before the client's rate drops"),
          direction="below", pick="median",
          explanation="The client's rate drops to 100 Mbit/s midway (tc on its port): the "
          "backlog b grows and alpha falls, then settles. The second-flow variant (another "
          "connection starts) is plotted too."),
)


EXPERIMENT = Experiment(
    name="fig5_4",
    claims=CLAIMS,
    minutes=(1, 0.5),
    title="Fig. 5.4: alpha over time in the splice API",
    description=__doc__ or "",
    roles=("server", "dut", "client"),
    variants=("second_flow", "rate_drop"),
    sweep={"b0": [1 << 20]},
    fixed={"seconds": 8.0, "change_at": 4.0, "rate": "100mbit"},
    metrics=("alpha_before", "alpha_after", "b_max"),
    repetitions=2,
    warmup=0,
    quick=Quick(repetitions=1, warmup=0, fixed={"seconds": 3.0, "change_at": 1.5}),
    run=run,
    plot=plot,
    setup=setup,
    teardown=teardown,
)
