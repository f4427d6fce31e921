"""Figure 4.1 (thesis 4.1.1): parse in the network thread or in the application thread?

Runs benchmarks/fig4_1 (a standalone C model: two threads pinned to one core,
a bounded buffer, pthread condition variables) on the lab's dut host over SSH,
for both placements of a dummy parsing loop and a sweep of loop lengths. The
thesis measured the network-thread placement ahead by about 1.6x.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.dutrun import last_line_json
from aatcp.plot import errorbar_line, measured, plt, save, summarize
from aatcp.runner import Experiment, Point, Quick, RunContext
from experiments._common import ratio_panel

THESIS_RATIO = 1.6


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    dut = ctx.host("dut")
    cmd = (f"fig4_1 --placement {p.variant} --loop {p['loop']} --duration {p['duration']} "
           f"--burst {p['burst']} --capacity {p['capacity']} --size {p['size']} "
           f"--cpu {p['cpu']}")
    r = dut.run(cmd, timeout=float(p["duration"]) + 30)
    out = last_line_json(dut, "fig4_1", r.stdout)
    return {"pps": out["pps"], "packets": out["packets"], "elapsed_s": out["duration_s"],
            "cpu": out["cpu"], "csw_network": out["csw_network"],
            "csw_application": out["csw_application"]}


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    summ = summarize(df, "loop", "pps")
    fig, (top, mid, bottom) = plt.subplots(3, 1, figsize=(7, 9), sharex=True,
                                           gridspec_kw={"height_ratios": [2, 1, 1]})
    labels = {"network": "parsing in the network thread",
              "application": "parsing in the application thread"}
    for variant in exp.variants:
        part = summ[summ["variant"] == variant]
        if not part.empty:
            errorbar_line(top, part, "loop", labels.get(variant, variant))
    top.set_yscale("log")
    top.set_ylabel("packets processed per second\n(median, min-max bars)")
    top.set_title(exp.title, fontsize=10)
    top.grid(True, which="both", alpha=0.3)
    if not summ.empty:
        top.legend(fontsize=8)

    ratio_panel(mid, summ, "loop", "network", "application", THESIS_RATIO,
                f"thesis: {THESIS_RATIO}x")
    mid.set_ylabel("packets/s ratio,\nnetwork / application")
    mid.grid(True, which="both", alpha=0.3)
    mid.legend(fontsize=8)

    # Why: how often the core switched between the two threads.
    d = measured(df)
    if not d.empty and {"csw_network", "csw_application", "packets"} <= set(d.columns):
        d = d.assign(csw_per_kpkt=(d["csw_network"] + d["csw_application"])
                     / d["packets"].clip(lower=1) * 1000)
        csw = summarize(d, "loop", "csw_per_kpkt")
        for variant in exp.variants:
            part = csw[csw["variant"] == variant]
            if not part.empty:
                errorbar_line(bottom, part, "loop", variant)
        bottom.set_yscale("log")
        bottom.legend(fontsize=8)
    bottom.set_ylabel("context switches\nper 1000 packets")
    bottom.grid(True, which="both", alpha=0.3)
    bottom.set_xscale("symlog", linthresh=1)
    # the loops planned and the loops measured (a quick plot of full data too)
    loops = sorted({*exp.sweep["loop"], *df.get("loop", [])})
    bottom.set_xlim(-0.5, max(loops) * 1.5 if loops else 10)
    bottom.set_xlabel("parsing loop iterations per packet")
    save(fig, path)


CLAIMS = (
    Claim("Figure 4.1",
          "it is more efficient to outsource data processing to the networking thread, with a "
          "factor of 1.6x",
          Ratio("network", "application", metric="pps",
                label="packets/s, parsing in the network thread / in the application thread"),
          value=THESIS_RATIO, pick="max",
          explanation="A standalone model of two threads on one core: the ratio is the kernel "
          "scheduler's. Where the application thread comes out ahead, it is because "
          "signalling after every burst of parsed packets makes the threads switch about "
          "ten times more often than when the application thread parses a whole buffer at "
          "once (bottom panel)."),
)


EXPERIMENT = Experiment(
    name="fig4_1",
    claims=CLAIMS,
    minutes=(2, 0.5),
    title="Fig. 4.1: network thread vs application thread parsing (2 threads, 1 core)",
    description=__doc__ or "",
    roles=("dut",),
    variants=("network", "application"),
    sweep={"loop": [0, 16, 64, 256, 1024, 4096]},
    fixed={"duration": 1.0, "burst": 32, "capacity": 512, "size": 1500, "cpu": -1},
    metrics=("pps",),
    repetitions=5,
    warmup=1,
    quick=Quick(sweep={"loop": [0, 256]}, repetitions=1, warmup=0, fixed={"duration": 0.2}),
    run=run,
    plot=plot,
    logx=True,
    xlabel="parsing loop iterations per packet",
    ylabel="packets/s",
)
