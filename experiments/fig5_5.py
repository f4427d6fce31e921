"""Figure 5.5 (thesis 5.1.3): the splice API with a slow client, against the
direct connection, for several sizes of the client's read() buffer.

The thesis' slow client was a NIC that received only ~6.6 of 10 Gbit/s. Here
the client's receive rate is limited with tc tbf (`rate`, on an ifb device fed
by the ingress of both its links, so the direct and the proxied paths see the
same limit), and the client is apps/linux/lsink reading with read() calls of
`read` bytes. Server: answer_server --raw. The proxy on core 0, the endpoints
on core 1. Thesis: splice at best 97% of direct. Reported as splice/direct.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.runner import Experiment, Point, Quick, RunContext
from experiments._ch5 import (
    Ch5Lab,
    lines_with_ratio,
    lsink,
    middlebox,
    start_answer,
    stop_answer,
    through,
)

LABELS = {"direct": "direct (Linux-Linux)", "splice": "proxy, splice API"}


def setup(ctx: RunContext) -> None:
    start_answer(ctx, "--raw -c 8388608").shape_client(ctx.experiment.fixed["rate"])


def teardown(ctx: RunContext) -> None:
    stop_answer(ctx, unshape=True)


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    ch5: Ch5Lab = ctx.state["ch5"]
    ip, port = through(ch5, p.variant)
    with middlebox(ch5, p.variant, alpha=True) as px:
        out = lsink(ch5, ip, port, p["seconds"], p["warmup_s"], read=int(p["read"]))
    values: dict[str, Any] = {"gbps": out["gbps"]}
    if px is not None and px.result is not None:
        values.update(b_max=px.result.max_b(), retransmits=px.result.counter("retransmits"),
                      mbufs_in_use=px.result.stats.get("mbufs_in_use"))
    return values


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    lines_with_ratio(df, path, f"{exp.title} (client limited to {exp.fixed['rate']})", "read",
                     "gbps", list(exp.variants), "direct", LABELS,
                     "client read() size (bytes)", "throughput (Gbit/s)")


CLAIMS = (
    Claim("Figure 5.5",
          "in the best case, the data transfer runs at 97% of the throughput of the direct "
          "connection",
          Ratio("splice", "direct", metric="gbps",
                label="splice proxy / direct, slow client, best read size"),
          value=0.97, pick="max",
          explanation="The slow client is a tbf limit on its port instead of the thesis' "
          "faulty NIC driver; at that rate the proxy is not the bottleneck, as in the thesis."),
)


EXPERIMENT = Experiment(
    name="fig5_5",
    claims=CLAIMS,
    minutes=(3, 1),
    title="Fig. 5.5: splice API with a slow client",
    description=__doc__ or "",
    roles=("server", "dut", "client"),
    variants=("direct", "splice"),
    sweep={"read": [1024, 4096, 16384, 65536, 262144]},
    fixed={"seconds": 4.0, "warmup_s": 1.0, "rate": "200mbit"},
    metrics=("gbps",),
    repetitions=3,
    warmup=0,
    quick=Quick(sweep={"read": [4096, 262144]}, repetitions=1, warmup=0,
                fixed={"seconds": 1.5, "warmup_s": 0.5}),
    run=run,
    plot=plot,
    setup=setup,
    teardown=teardown,
    x="read",
    logx=True,
)
