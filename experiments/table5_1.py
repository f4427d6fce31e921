"""Table 5.1 (thesis 5.1.3): throughput of one TCP connection, direct Linux <->
Linux vs through a middlebox on the dut: this stack's proxy with the standard
forward API, with the splice API, and the copying proxy (mtcp_read +
mtcp_write); plus HAProxy in TCP mode with `option splice-auto` on the dut's
kernel stack (what a user would pick instead).

The server runs apps/linux/answer_server --raw (endless pseudo-random bytes
from RAM), the client apps/linux/lsink (timed window after a warm-up). The
middlebox runs on core 0 (MIDDLEBOX_CPU: the proxy's network and application
threads, or HAProxy), the Linux endpoints on core 1 (PEERS_CPU). Thesis:
direct 10.0, standard API 7.1 (71%), splice 10.0 Gbit/s (100%). Reported as
ratios to the direct connection of the same run.

CPU accounting: every run through a middlebox records the CPU the middlebox
used over its whole run (`dut_cpu_s`): for our proxy the network thread's busy
poll-loop cycles (idle polls left out) + the application thread's CPU time (at
most the process's: experiments/_common.py stack_cpu), for HAProxy its
process's user + system time (/proc/PID/stat; kernel work done in its context
included; the dut kernel's receive of the server's frames runs on the server's
core, where a veth receives, so it is not: a lower bound), and divides it by
the bytes the client read (`fwd_bytes`, warm-up included): `dut_cyc_per_byte`,
at the stack's TSC rate. The direct path has no middlebox. The summary gives
cycles per byte and, next to the throughput ratios, bytes per CPU cycle
relative to HAProxy's (HAProxy's cycles per byte / ours).
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
    print_cpu_summary,
    proxy_counters,
    ratio_bars,
    start_answer,
    stop_answer,
    through,
)

VARIANTS = ("direct", "forward", "splice", "copy", "haproxy_tcp")
LABELS = {"direct": "direct\n(Linux-Linux)", "forward": "proxy\nstandard API",
          "splice": "proxy\nsplice API", "copy": "proxy\ncopy (read/write)",
          "haproxy_tcp": "HAProxy tcp\nsplice-auto"}
#: the middlebox whose bytes per CPU cycle the others are compared to
CPU_REF = "haproxy_tcp"


def setup(ctx: RunContext) -> None:
    start_answer(ctx, "--raw -c 8388608 -w 1048576")


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    ch5: Ch5Lab = ctx.state["ch5"]
    ip, port = through(ch5, p.variant)
    cpu: dict[str, Any] = {}
    with middlebox(ch5, p.variant, cpu=cpu) as px:
        out = lsink(ch5, ip, port, p["seconds"], p["warmup_s"], conns=p["conns"])
    return {"gbps": out["gbps"], "bytes": out["bytes"],
            **middlebox_cpu(ctx, p.variant, cpu, out),
            **proxy_counters(px, "retransmits", "splice_segs", "fwd_segs")}


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    table = cpu_summary(df, "direct", list(exp.variants), cpu_ref=CPU_REF)
    print_cpu_summary(table, exp.name, "direct", f"HAProxy's ({CPU_REF})")
    t = table.set_index("variant")
    if {"splice", CPU_REF} <= set(t.index):
        print(f"  splice / HAProxy splice-auto: "
              f"{t.loc['splice', 'median_gbps'] / t.loc[CPU_REF, 'median_gbps']:.2f} x "
              f"throughput, {t.loc['splice', 'per_cycle_vs']:.2f} x bytes per CPU cycle")
    ratio_bars(df, path, exp.title, "gbps", "direct", list(exp.variants), LABELS,
               "throughput (Gbit/s), median of runs\n(% of direct in the same run; "
               "middlebox CPU cycles per byte)", cpu=table)


CLAIMS = (
    Claim("Table 5.1",
          "direct connection 10.0 Gbit/s; middlebox with the splice API 10.0 Gbit/s (100%)",
          Ratio("splice", "direct", metric="gbps", label="splice proxy / direct Linux-Linux"),
          value=1.0, pick="median",
          explanation="The thesis' link (10 GbE) was the bottleneck; here the proxy's two "
          "AF_PACKET ports and two cores shared with both Linux peers are, while the direct "
          "path is Linux veth to veth. The proxy's rate is bounded by the stack's send path "
          "(`bulk`'s send row, issue 14), which here runs at a fraction of Linux's."),
    Claim("Table 5.1",
          "middlebox with the standard forward API 7.1 Gbit/s (71%)",
          Ratio("forward", "direct", metric="gbps",
                label="standard-API proxy / direct Linux-Linux"),
          value=0.71, pick="median",
          explanation="Same limits as the splice row."),
    Claim("-", "(no thesis figure: the splice proxy against what a user would run instead)",
          Ratio("splice", "haproxy_tcp", metric="gbps",
                label="splice proxy / HAProxy splice-auto, throughput"),
          explanation="Both middleboxes on the same core of the same dut, HAProxy splicing "
          "in the dut's kernel (issue 14's target: >= 1.2)."),
    Claim("-", "(no thesis figure)",
          Ratio("haproxy_tcp", "splice", metric="dut_cyc_per_byte",
                label="splice proxy / HAProxy splice-auto, bytes per CPU cycle "
                "(HAProxy's cycles per byte / ours)"),
          explanation="Ours: the network thread's busy poll-loop cycles + the application "
          "thread; HAProxy: its process's user + system time, both over the whole run and "
          "per byte the client read. HAProxy's is a lower bound: the dut kernel's receive of "
          "the server's frames runs on the server's core (a veth receives on the sender's "
          "CPU)."),
)


EXPERIMENT = Experiment(
    name="table5_1",
    claims=CLAIMS,
    minutes=(2.5, 1),
    title="Table 5.1: one connection, direct vs proxy (standard API, splice, copy) vs HAProxy",
    description=__doc__ or "",
    roles=("server", "dut", "client"),
    variants=VARIANTS,
    sweep={"conns": [1]},
    fixed={"seconds": 5.0, "warmup_s": 1.0},
    metrics=("gbps", "dut_cyc_per_byte"),
    repetitions=3,
    warmup=1,
    quick=Quick(repetitions=1, warmup=0, fixed={"seconds": 1.5, "warmup_s": 0.5}),
    run=run,
    plot=plot,
    setup=setup,
    teardown=stop_answer,
    ylabel="Gbit/s",
)
