"""Figure 4.2 (thesis 4.1.2): a dummy parsing loop placed in the network
thread vs in the application thread, within the zero-copy stack.

A Linux server (answer_server --raw: an endless stream from one chunk in
RAM) sends to apps/aa_reader on our stack in `dut`, which runs a loop of L
iterations (a multiply-add the compiler cannot drop) once per packet:

  network      (thesis (ii): "in the network thread, just after having
               inserted a node in the zero-copy list") as an application-
               aware module (`aa_reader -m spin`): the stack calls its parse()
               on every in-order packet, which spins L times and makes one
               record (the packet's bytes) that the application reads and
               frees;
  application  (thesis (i): "in the application, just after having received
               packets through mtcp_read_fragments()") `aa_reader -m zcspin`:
               zero-copy receive, the application spins L times on every
               fragment (one per packet) it reads, then frees it.

Both placements run on one core, as in mTCP (see experiments/_ch4.py for the
CPU placement: the reader process on core 0 with the stack's polling network
thread, answer_server on core 1). Thesis: parsing in the network thread is
up to 2x faster. Reported per loop length: throughput of both placements
and their ratio (network / application) within the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.runner import Experiment, Point, Quick, RunContext
from experiments._ch4 import measure, setup
from experiments._ch5 import lines_with_ratio

LABELS = {"network": "loop in the network thread (aa module)",
          "application": "loop in the application thread (after zc read)"}


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    loop = str(int(p["loop"]))
    args = {"network": ["-m", "spin", "-L", loop], "application": ["-m", "zcspin", "-L", loop]}
    return measure(ctx, "--raw", args, p.variant, float(p["seconds"]), float(p["warmup_s"]))


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    lines_with_ratio(df, path, exp.title, "loop", "measured_gbps", list(exp.variants),
                     "application", LABELS, "dummy loop per packet (iterations)",
                     "throughput (Gbit/s)")


CLAIMS = (
    Claim("Figure 4.2",
          "parsing a packet directly after it is received rather than in the application "
          "thread can give a performance benefit of up to 2x",
          Ratio("network", "application", metric="measured_gbps",
                label="throughput, loop in the network thread / in the application"),
          value=2.0, pick="max",
          explanation="The stack's network thread and the application share one core and do "
          "the same work per packet in both placements; the veth + AF_PACKET path, not the "
          "loop, limits the rate until the loop is long. With a long loop the network "
          "placement falls behind: the loop runs before the network thread sends its ACKs, "
          "while with the loop in the application the network thread keeps acknowledging."),
)


EXPERIMENT = Experiment(
    name="fig4_2",
    claims=CLAIMS,
    minutes=(3.5, 0.5),
    title="Fig. 4.2: parsing loop in the network thread vs the application thread",
    description=__doc__ or "",
    roles=("server", "dut"),
    variants=("network", "application"),
    sweep={"loop": [1, 100, 300, 1000, 3000, 10000, 30000]},
    fixed={"seconds": 3.0, "warmup_s": 0.5},
    metrics=("measured_gbps",),
    repetitions=3,
    warmup=0,
    quick=Quick(sweep={"loop": [1, 3000]}, repetitions=1, warmup=0,
                fixed={"seconds": 1.0, "warmup_s": 0.2}),
    run=run,
    plot=plot,
    setup=setup,
    x="loop",
    logx=True,
)
