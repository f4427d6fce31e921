"""Figure 4.10 (thesis 4.3.3): scalability of the zero-copy HTTP parsing:
the HTTP answers of figure 4.9 (experiments/fig4_9.py: a status line, seven
headers and a body of S bytes from apps/linux/answer_server) with 1..8
parallel connections, each connection's socket on its own core (here: on
min(connections, 2) cores, see experiments/_scale.py for the placement and
what the 2-core machine shares):

  aa        the HTTP response module parses in each core's network thread
            (`aa_reader -m http-res -k N -N cores`);
  standard  mtcp_read() and the same parse in each core's application
            thread (`... -S`), the baseline, in the same run.

Thesis: "with 5 parallel connections, the link is saturated regardless of
the complexity of the parsing". Reported: the total throughput per
connection count, `scaling` (against one connection on one core), answers/s,
aa / standard per point.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.runner import Experiment, Point, Quick, RunContext
from experiments._ch4 import setup
from experiments._scale import plot_scaled, run_scaled
from experiments.fig4_9 import LABELS, READER_ARGS


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    out = run_scaled(ctx, p, "body", f"-s {int(p['body'])} -c 8388608", READER_ARGS)
    out["answers_per_s"] = out.get("responses", 0) / max(out.get("seconds", 0), 1e-9)
    return out


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    plot_scaled(df, path, exp, "body", "{} B body", LABELS)


CLAIMS = (
    Claim("Figure 4.10",
          "with 5 parallel connections, the link is saturated regardless of the complexity "
          "of the parsing (more connections on more CPUs: more throughput)",
          Ratio("scaling", None, between="metrics", where={"variant": "aa", "conns": 2},
                label="HTTP module throughput, 2 connections on 2 cores / 1 on 1 core"),
          direction="above", pick="median",
          explanation="The local machine has 2 cores and the Linux sender and the veths' "
          "kernel work run on core 1 too, so the second core is shared, not added; there "
          "is no 10 Gbit/s link to saturate: from 2-3 connections every variant sits at "
          "the veth + AF_PACKET limit (see `bulk`), so large bodies scale least: one "
          "connection already runs near that limit."),
    Claim("Figure 4.10",
          "our stack with the HTTP module vs the standard counterpart, at every number of "
          "connections (figure 4.9's claim, scaled out)",
          Ratio("aa", "standard", metric="measured_gbps",
                label="HTTP throughput at N connections, module / parse in the app"),
          direction="above", pick="median",
          explanation="As in figure 4.9, small answers cost the module more per record "
          "than the application's parse of the same bytes; with both paths at the veth "
          "limit from 3 connections on the ratio is about 1 (full run: 0.70-1.51)."),
)


EXPERIMENT = Experiment(
    name="fig4_10",
    claims=CLAIMS,
    minutes=(7, 0.5),
    title="Fig. 4.10: HTTP answers (7 headers + S bytes), HTTP module, by connections",
    description=__doc__ or "",
    roles=("server", "dut"),
    variants=("aa", "standard"),
    sweep={"body": [100, 1000, 10000], "conns": [1, 2, 3, 4, 6, 8]},
    fixed={"seconds": 3.0, "warmup_s": 0.5},
    metrics=("measured_gbps",),
    repetitions=2,
    warmup=0,
    quick=Quick(sweep={"body": [1000], "conns": [1, 2]}, repetitions=1, warmup=0,
                fixed={"seconds": 1.5, "warmup_s": 0.3}),
    run=run,
    plot=plot,
    setup=setup,
    x="conns",
)
