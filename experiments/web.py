"""mTCP's headline benchmark: a small web server under wrk. `epserver`
(apps/epserver.c, mTCP's example server on our stack, 1 or 2 network
threads) against nginx (1 or 2 workers, access log off) in the same role,
both on `dut`, both driven by `wrk` on `client` over the dut-client link:
epserver on the stack's address of that link, nginx on the kernel's second
address of the same veth (`kernel_ip` in the lab file).

Files of 64 B and 4 KB from memory (epserver) and from a tmpfs-backed page
cache (nginx); HTTP/1.1 keep-alive (`-c 200` connections that stay) and
`Connection: close` (a new connection per request). Reported: requests per
second, wrk's latency percentiles (50, 90, 99), and the ratio of epserver
to nginx at the same core count and workload.

CPU placement (2-core lab machines): with one core, the server (epserver's
network and application thread, or nginx's worker) is pinned to core 0 and
wrk to core 1; with two, the server has both cores and wrk shares them (on
this machine the client cannot get cores of its own: both ratios are
measured the same way, and the two-core numbers say how each server shares
with its load generator, not how it scales). epserver pins each worker to
its network thread's CPU (mTCP's epserver does the same).

The stack's network threads sleep 20 us after 16 empty polls (`IDLE`:
`idle_sleep_us`, `idle_polls`) instead of polling without pause as mTCP
does: on a machine where wrk and the client's kernel share the server's
cores, a thread that polls takes the CPU the load generator needs (nginx
sleeps in epoll_wait), and with one core the network thread polls on the
CPU its application thread needs. Measured on the AF_XDP lab
(labs/local-rss.yml), 64 B: see docs/architecture.md "Data path
policies", idle polls.

On a net_af_xdp port the PMD's busy polling is turned off
(`busy_budget=0`): by default each empty poll is a `recvfrom()` that runs
the veth's NAPI on our CPU, work the sender's softirq does anyway. 2
cores, 64 B keep-alive, 20 us sleep after 16 polls, three runs each:
263-270k requests/s with it, 273-283k without; one core 256k / 270k.

On labs/local-rss.yml (net_af_xdp ports) the AF_XDP PMD keeps its fill
rings' mbufs at exit; the exit check allows exactly those
(`stats_problems`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.dutrun import read_stats, run_paths, stats_problems, taskset, wait_stderr, without_port
from aatcp.errors import ToolkitError
from aatcp.plot import measured, plt, save
from aatcp.runner import Experiment, Point, Quick, RunContext
from experiments._ch5 import EXPERIMENT_STACK, Ch5Lab, cores_config, steered_fraction

EPS_PORT = 8090
NGINX_PORT = 8091
WWW = "www_web"
FILES = {"64B": 64, "4KB": 4096}
CONNS = 200
#: how epserver's network threads leave the CPU when idle (module docstring)
IDLE = {"idle_polls": 16, "idle_sleep_us": 20}
LABELS = {"epserver": "epserver on aatcp", "nginx": "nginx on Linux"}


def setup(ctx: RunContext) -> None:
    ch = Ch5Lab(ctx.lab)
    ctx.state["ch"] = ch
    mk = "; ".join(f"[ -s {WWW}/{n} ] || head -c {s} /dev/urandom > {WWW}/{n}"
                   for n, s in FILES.items())
    ch.dut.run(f"mkdir -p {WWW} web_nginx run; {mk}", timeout=60)


def no_busy_poll(ch: Ch5Lab, port: str) -> dict[str, Any]:
    """`busy_budget=0` on a net_af_xdp port (module docstring); {} otherwise."""
    key = f"port.{port}.device"
    for line in ch.stack_conf().splitlines():
        k, _, v = line.partition("=")
        if k.strip() == key and v.strip().startswith("net_af_xdp") and "busy_budget" not in v:
            return {key: v.strip() + ",busy_budget=0"}
    return {}


def cores_overrides(ch: Ch5Lab, cores: int) -> dict[str, Any]:
    """The stack on the client-side port only, `cores` network threads, a queue
    pair per core on it."""
    srv, cli = ch.port_names()
    return {**EXPERIMENT_STACK, **without_port(srv), **IDLE, **no_busy_poll(ch, cli),
            "max_concurrency": 8192, **cores_config(ch, cli, cores)}


def wrk(ch: Ch5Lab, url: str, p: Point) -> dict[str, Any]:
    """wrk on the client (pinned to core 1 when the server has one core)."""
    close = p["conn"] == "close"
    cpu = 1 if int(p["cores"]) == 1 else None
    secs = float(p["seconds"])
    args = (f"wrk -t2 -c{CONNS} -d{secs:g}s --timeout 5s --latency "
            + ("-H 'Connection: close' " if close else "") + shlex.quote(url))
    r = ch.client.run(f"ulimit -n 16384; {taskset(cpu)}{args}", timeout=secs + 60, check=False)
    return parse_wrk(r.stdout, f"`{args}` on {ch.client.name}: rc {r.rc}, {r.stderr[-500:]}")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def parse_wrk(out: str, context: str) -> dict[str, Any]:
    """Requests/s, request count, errors and latency percentiles (ms) of wrk's
    output (with --latency)."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    n = re.search(r"(\d+) requests in", out)
    if not rps or not n:
        raise ToolkitError(f"wrk printed no result: {context}\n{out[-1500:]}")
    res: dict[str, Any] = {"rps": float(rps.group(1)), "requests": int(n.group(1))}
    for pct in (50, 90, 99):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        res[f"p{pct}_ms"] = float(m.group(1)) * _UNITS[m.group(2)] if m else None
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["socket_errors"] = sum(int(x) for x in errs.groups()) if errs else 0
    res["non2xx"] = int(non2xx.group(1)) if non2xx else 0
    return res


def run_epserver(ch: Ch5Lab, p: Point) -> dict[str, Any]:
    cores = int(p["cores"])
    conf, stats = run_paths(ch.dut, "web_eps")
    ov = cores_overrides(ch, cores)
    ov["stats_file"] = str(stats)
    ch.dut.write_file(conf, ch.stack_conf(ov))
    ch.dut.run(f"rm -f {stats}", timeout=10)
    cpus = "0" if cores == 1 else "0-1"
    cmd = (f"exec taskset -c {cpus} epserver -p {WWW} -f {conf} -N {cores} "
           f"-l {EPS_PORT}")
    bg = ch.dut.start(cmd, name="web_eps")
    why = wait_stderr(ch.dut, bg, f"core {cores - 1} listening on port", 30)
    if why is not None:
        res = bg.stop()
        raise ToolkitError(f"`{cmd}` on {ch.dut.name}: {why}: {res.stderr[-1500:]}")
    try:
        out = wrk(ch, f"http://{ch.proxy_ip}:{EPS_PORT}/{p['file']}", p)
    finally:
        res = bg.stop("INT", grace=20)
    st = read_stats(ch.dut, stats)
    problems = stats_problems(st)
    if res.rc != 0 or problems:
        raise ToolkitError(f"`{cmd}` on {ch.dut.name}: rc {res.rc}, {'; '.join(problems)} at "
                           f"exit: {res.stderr[-1500:]}")
    out["steered_frac"] = steered_fraction(st)
    out["mbufs_in_use"] = st.get("mbufs_in_use")
    return out


def nginx_conf(ch: Ch5Lab, workers: int) -> str:
    wd = ch.dut.workdir
    return f"""user root root;
worker_processes {workers};
pid {wd}/web_nginx/nginx.pid;
error_log {wd}/web_nginx/error.log;
daemon off;
events {{ worker_connections 16384; }}
http {{
  access_log off;
  client_body_temp_path {wd}/web_nginx/body;
  proxy_temp_path {wd}/web_nginx/proxy;
  fastcgi_temp_path {wd}/web_nginx/fcgi;
  uwsgi_temp_path {wd}/web_nginx/uwsgi;
  scgi_temp_path {wd}/web_nginx/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 65;
  sendfile on;
  tcp_nopush on;
  server {{
    listen {ch.dut_kernel_cli}:{NGINX_PORT};
    root {wd}/{WWW};
    location / {{ }}
  }}
}}
"""


def run_nginx(ch: Ch5Lab, p: Point) -> dict[str, Any]:
    cores = int(p["cores"])
    ch.dut.write_file("web_nginx/nginx.conf", nginx_conf(ch, cores))
    cpus = "0" if cores == 1 else "0-1"
    bg = ch.dut.start(f"exec taskset -c {cpus} nginx -c {ch.dut.workdir}/web_nginx/nginx.conf",
                      name="web_nginx")
    try:
        ch.wait_port(ch.dut, NGINX_PORT)
        return wrk(ch, f"http://{ch.dut_kernel_cli}:{NGINX_PORT}/{p['file']}", p)
    finally:
        bg.stop("QUIT", grace=10)


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    ch: Ch5Lab = ctx.state["ch"]
    out = run_epserver(ch, p) if p.variant == "epserver" else run_nginx(ch, p)
    if out["non2xx"]:
        raise ToolkitError(f"{out['non2xx']} responses were not 2xx: {dict(p.params)}")
    return out


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    """Two panels (keep-alive, Connection: close): thousand requests/s per file
    and core count, epserver beside nginx, epserver / nginx above each pair."""
    d = measured(df)
    med = d.groupby(["conn", "cores", "file", "variant"])["rps"].median()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    width = 0.38
    for ax, conn in zip(axes, ("keepalive", "close"), strict=True):
        cats = [(c, f) for c in sorted(d["cores"].unique()) for f in FILES
                if (conn, c, f, "epserver") in med.index or (conn, c, f, "nginx") in med.index]
        top = 0.0
        for i, v in enumerate(exp.variants):
            vals = [med.get((conn, c, f, v), float("nan")) / 1000 for c, f in cats]
            ax.bar([k + (i - 0.5) * width for k in range(len(cats))], vals, width,
                   label=LABELS[v])
            top = max([top, *(x for x in vals if x == x)])
        for k, (c, f) in enumerate(cats):
            e, n = med.get((conn, c, f, "epserver")), med.get((conn, c, f, "nginx"))
            if e and n:
                ax.text(k - width / 2, e / 1000, f"{e / n:.2f}x", ha="center",
                        va="bottom", fontsize=8)
        ax.set_xticks(range(len(cats)),
                      [f"{f}, {c} core{'s' if c > 1 else ''}" for c, f in cats], fontsize=8)
        ax.set_title(("keep-alive" if conn == "keepalive" else "Connection: close")
                     + ": epserver / nginx above the bars", fontsize=10)
        ax.set_ylabel("thousand requests/s")
        # headroom above the tallest bar and its ratio for the legend
        ax.set_ylim(0, top * 1.5 if top > 0 else 1)
    axes[0].legend(loc="upper left", fontsize=8)
    save(fig, path)


CLAIMS = (
    Claim("mTCP (NSDI 2014), the stack this thesis extends",
          "epserver on the userspace stack serves small files several times faster than "
          "nginx on Linux (keep-alive)",
          Ratio("epserver", "nginx", metric="rps",
                label="epserver / nginx requests per second, the median workload"),
          direction="above", pick="median",
          explanation="Measured with wrk on the same 2-core machine as both servers; "
          "issue 13's targets: >= 2.5x keep-alive, >= 1.5x Connection: close at 2 cores."),
)


EXPERIMENT = Experiment(
    name="web",
    claims=CLAIMS,
    minutes=(6, 1.5),
    title="web: epserver on aatcp vs nginx on Linux under wrk",
    description=__doc__ or "",
    roles=("server", "dut", "client"),
    variants=("epserver", "nginx"),
    sweep={"cores": [1, 2], "file": list(FILES), "conn": ["keepalive", "close"]},
    fixed={"seconds": 5.0},
    metrics=("rps", "p50_ms", "p90_ms", "p99_ms"),
    repetitions=3,
    warmup=0,
    quick=Quick(sweep={"cores": [1, 2], "file": ["64B"], "conn": ["keepalive", "close"]},
                repetitions=1, warmup=0, fixed={"seconds": 2.0}),
    run=run,
    plot=plot,
    setup=setup,
    ylabel="requests/s",
)
