"""Table 5.2 (thesis 5.1.3): the splice API with 1, 10 and 100 concurrent
connections (aggregate throughput), next to the direct Linux <-> Linux link
with the same number of connections.

answer_server --raw on the server, lsink -k N on the client (one reading
thread per connection), the proxy on core 0, the endpoints on core 1 (see
experiments/_ch5.py). Thesis: 10.0 Gbit/s in every case (line rate).
Reported as ratios to direct at the same N.

CPU accounting as in table5_1: the proxy's CPU over its whole run (busy
poll-loop cycles + application thread, `dut_cpu_s`) per byte the client read
(`fwd_bytes`, every connection, warm-up included): `dut_cyc_per_byte`; the
summary gives it per N and bytes per CPU cycle relative to N = 1 (cycles per
byte at N = 1 / at N). The direct path has no middlebox.

Flow placement at cores = 2 (docs/architecture.md "Cores and flow
placement"): each client connection is placed on the core whose queue got
its SYN; the backend connection that core opens is exact only where the
dut's ports are net_af_xdp on links that hash like RSS (labs/local-rss.yml,
`rss: true`); on the local lab's af_packet ports its replies are steered
until their ports are learned. data.csv says which (`placement`) with the
proxy's `steered` / `rx_pkts` (a frame its core has no flow for goes round
the cores: late segments of connections already reset count too),
`steer_taken` (frames another core owned: misplaced) and `ports_placed` /
`ports_unplaced`; the summary prints the steered share per point.
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
    cpu_summary,
    lsink,
    middlebox,
    middlebox_cpu,
    port_placement,
    print_cpu_summary,
    proxy_counters,
    ratio_bars,
    start_answer,
    stop_answer,
    through,
)

LABELS = {"direct": "direct (Linux-Linux)", "splice": "proxy, splice API"}


def setup(ctx: RunContext) -> None:
    start_answer(ctx, "--raw -c 8388608 -w 262144")


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    ch5: Ch5Lab = ctx.state["ch5"]
    ip, port = through(ch5, p.variant)
    n = int(p["conns"])
    cpu: dict[str, Any] = {}
    with middlebox(ch5, p.variant, overrides={"max_concurrency": max(1024, 4 * n)},
                   cpu=cpu, cores=int(p["cores"])) as px:
        out = lsink(ch5, ip, port, p["seconds"], p["warmup_s"], conns=n, read=65536)
    per = out.get("per_conn_bytes") or [0]
    return {"gbps": out["gbps"], "min_conn_bytes": min(per), "max_conn_bytes": max(per),
            **middlebox_cpu(ctx, p.variant, cpu, out),
            **proxy_counters(px, "retransmits", "steered", "steer_taken", "rx_pkts",
                             "ports_placed", "ports_unplaced"),
            **({"placement": port_placement(ch5, int(p["cores"]))} if px is not None else {})}


def _group(df: pd.DataFrame) -> pd.DataFrame:
    """One plot/summary group per (N, cores): `N=  1, 1 core`, ..."""
    if "cores" not in df:  # results from before the cores dimension
        df = df.assign(cores=1)
    return df.assign(group=[f"N={int(n):>3}, {int(k)} core{'s' if int(k) > 1 else ''}"
                            for n, k in zip(df["conns"], df["cores"], strict=True)])


def _print_steered(df: pd.DataFrame) -> None:
    """The proxy's steered packets / packets received per group, with how its
    flows were placed (results from before these columns print nothing)."""
    if "steered" not in df or "rx_pkts" not in df:
        return
    px = df[df["variant"] == "splice"]
    if "warmup" in px:
        px = px[~px["warmup"].astype(bool)]
    for g, rows in px.groupby("group"):
        share = 100.0 * rows["steered"].sum() / max(1, rows["rx_pkts"].sum())
        how = ", ".join(sorted(set(rows["placement"].dropna()))) if "placement" in rows else ""
        taken = (f", {int(rows['steer_taken'].sum())} taken by another core"
                 if "steer_taken" in rows else "")
        print(f"table5_2 splice {g}: {share:.1f}% of packets steered "
              f"({int(rows['steered'].sum())} of {int(rows['rx_pkts'].sum())}{taken}) {how}")


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    df = _group(df)
    _print_steered(df)
    table = cpu_summary(df, "direct", list(exp.variants), by="group")
    print_cpu_summary(table, exp.name, "direct", "the same variant's at the first N",
                      by="group")
    ratio_bars(df, path, exp.title, "gbps", "direct", list(exp.variants), LABELS,
               "aggregate throughput (Gbit/s)\n(% of direct at the same N and cores; "
               "middlebox CPU cycles per byte)", by="group", cpu=table)


CLAIMS = (
    Claim("Table 5.2",
          "the splice API forwards 10.0 Gbit/s with 1, 10 and 100 concurrent connections",
          Ratio("splice", "direct", metric="gbps",
                label="splice proxy / direct Linux-Linux, the worst N and core count"),
          value=1.0, pick="min",
          explanation="The thesis' claim is that splice keeps line rate at every N; here the "
          "share of the direct path at each N says whether it scales with the connections, "
          "capped on the local lab as in table 5.1; with 2 cores the proxy's second core is "
          "the one the Linux endpoints use."),
)


EXPERIMENT = Experiment(
    name="table5_2",
    claims=CLAIMS,
    minutes=(6, 1),
    title="Table 5.2: splice API with 1, 10, 100 concurrent connections, proxy on 1 and 2 cores",
    description=__doc__ or "",
    roles=("server", "dut", "client"),
    variants=("direct", "splice"),
    sweep={"conns": [1, 10, 100], "cores": [1, 2]},
    fixed={"seconds": 5.0, "warmup_s": 1.0},
    metrics=("gbps", "dut_cyc_per_byte"),
    repetitions=3,
    warmup=1,
    quick=Quick(sweep={"conns": [1, 100], "cores": [1, 2]}, repetitions=1, warmup=0,
                fixed={"seconds": 1.5, "warmup_s": 0.5}),
    run=run,
    plot=plot,
    setup=setup,
    teardown=stop_answer,
    ylabel="Gbit/s",
)
