"""Figure 5.7 (thesis 5.2.2): HTTP-aware splice vs plain splice with a real
server: nginx on the server, `clients` wget processes on the client, each
downloading the same 2 KB file `requests` times over one keep-alive
connection (wget -i on a list of the same URL). Also HAProxy in HTTP mode on
the dut's kernel stack. Metric: requests per second over all clients (and
the goodput). The proxy or HAProxy on core 0; nginx and the wgets on core 1.
Thesis: no difference between HTTP-aware and plain (nginx is the
bottleneck). Reported as HTTP-aware / plain.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.dutrun import taskset
from aatcp.runner import Experiment, Point, Quick, RunContext
from experiments._ch5 import (
    HAPROXY_PORT,
    NGINX_PORT,
    PEERS_CPU,
    PROXY_PORT,
    Ch5Lab,
    lines_with_ratio,
    middlebox,
)

LABELS = {"splice": "proxy, plain splice", "splice_http": "proxy, splice + HTTP parsing",
          "haproxy_http": "HAProxy, HTTP mode", "direct": "direct (Linux-Linux)"}


def setup(ctx: RunContext) -> None:
    ch5 = Ch5Lab(ctx.lab)
    ctx.state["ch5"] = ch5
    ctx.state["nginx"] = ch5.start_nginx({"f2k": 2048}, name="nginx57", cpu=PEERS_CPU)


def teardown(ctx: RunContext) -> None:
    if "nginx" in ctx.state:
        ctx.state["nginx"].stop()


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    ch5: Ch5Lab = ctx.state["ch5"]
    n, k = int(p["requests"]), int(p["clients"])
    if p.variant == "direct":
        base = f"http://{ch5.direct_ip}:{NGINX_PORT}"
    elif p.variant.startswith("haproxy"):
        base = f"http://{ch5.dut_kernel_cli}:{HAPROXY_PORT}"
    else:
        base = f"http://{ch5.proxy_ip}:{PROXY_PORT}"
    ch5.client.run(f"mkdir -p fig57 && yes {base}/f2k | head -n {n} > fig57/urls", timeout=30)
    cmd = (f"t0=$(date +%s.%N); for i in $(seq {k}); do {taskset(PEERS_CPU)}wget -q -O /dev/null "
           f"-i fig57/urls & done; wait; t1=$(date +%s.%N); echo \"$t0 $t1\"")
    with middlebox(ch5, p.variant, backend_port=NGINX_PORT) as px:
        r = ch5.client.run(cmd, timeout=600)
    t0, t1 = (float(x) for x in r.stdout.split()[-2:])
    secs = t1 - t0
    values: dict[str, Any] = {"req_per_s": n * k / secs, "seconds": secs,
                              "goodput_mbps": n * k * 2048 * 8 / secs / 1e6}
    if px is not None and px.result is not None:
        rep = px.result.report
        values.update(parsed_requests=rep.get("requests", 0),
                      parsed_responses=rep.get("responses", 0),
                      mbufs_in_use=px.result.stats.get("mbufs_in_use"))
    return values


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    lines_with_ratio(df, path, exp.title, "clients", "req_per_s", list(exp.variants), "splice",
                     LABELS, "parallel wget clients (keep-alive)", "requests per second",
                     logx=False)


CLAIMS = (
    Claim("Figure 5.7",
          "adding the HTTP parser module to our zero-copy proxy has no noticeable "
          "consequences on performance (nginx + wget keep-alive, 2 KB file)",
          Ratio("splice_http", "splice", metric="req_per_s",
                label="requests/s, HTTP-aware splice / plain splice"),
          value=1.0, pick="median",
          explanation="nginx and wget, not the proxy, limit the request rate, as the thesis "
          "argues; the runs vary by 10-30% on the shared 2-core machine."),
)


EXPERIMENT = Experiment(
    name="fig5_7",
    claims=CLAIMS,
    minutes=(4, 0.5),
    title="Fig. 5.7: HTTP-aware vs plain splice, nginx + wget (2 KB file)",
    description=__doc__ or "",
    roles=("server", "dut", "client"),
    variants=("splice", "splice_http", "haproxy_http", "direct"),
    sweep={"clients": [1, 2, 4, 8]},
    fixed={"requests": 2000},
    metrics=("req_per_s",),
    repetitions=3,
    warmup=0,
    quick=Quick(sweep={"clients": [1, 4]}, repetitions=1, warmup=0, fixed={"requests": 300}),
    run=run,
    plot=plot,
    setup=setup,
    teardown=teardown,
    x="clients",
)
