"""Figure 3.7 (thesis 3.3): download throughput vs receive buffer size,
zero-copy receive vs the standard (copying) receive path.

A Linux server (nginx, its large file on a tmpfs) sends to `zc_wget` running
on our stack in `dut` (apps/zc_wget.c: the thesis' zero-copy wget; `-S`
reads with mtcp_read instead). For each receive buffer size (SO_RCVBUF, the
advertised window's ceiling) both variants download the same bytes, the
variants interleaved run by run. The thesis' metric is the highest
throughput over a one-second window ("peak_gbps", measured by zc_wget); the
average over the whole download is kept too ("gbps").

Thesis: both grow linearly with the window (T <= w / RTT) and then saturate
the link; zero-copy up to 3% higher.

CPU placement (2-core lab machines): the stack pins itself to core 0 (the
application thread is EAL's main lcore 0, the network thread of context 0
is pinned to CPU 0: app and network thread share the core, as in mTCP);
nginx is started with `taskset -c 1` (PEERS_CPU), so the sender never
competes with the receiver for a core. Kernel softirq work of the veths runs
on the sending thread's core (the Linux TCP send path and the frames into
af_packet on core 1, our ACKs into the server's TCP on core 0), the same
for both variants.

Lab plumbing (the stack config, nginx) comes from experiments/_ch5.py. The
end-to-end tests of the same path are tests/e2e/test_zc_*.py.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.dutrun import (
    core_counter,
    core_drops,
    parse_json_line,
    run_once,
    run_paths,
    without_port,
)
from aatcp.plot import errorbar_line, plt, save, summarize
from aatcp.runner import Experiment, Point, Quick, RunContext
from experiments._ch5 import PEERS_CPU, Ch5Lab
from experiments._common import ratio_panel

#: nginx of this figure and of the zc tests (not 80: other modules run theirs)
WEB_PORT = 8370
NGINX_NAME = "zcnginx"
BIG = "fig3_7.bin"
THESIS_GAIN = 1.03

# ---------------------------------------------------------------------------- zc_wget runs


@dataclass
class Download:
    """One run of zc_wget: its JSON line, the stack's stats file, how it ended."""

    command: str
    rc: int | None
    timed_out: bool
    wall_s: float
    stdout: str
    stderr: str
    output: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    def counter(self, name: str) -> int:
        """A counter of the stats file summed over the cores (drops: `drops.<reason>`)."""
        if name.startswith("drops."):
            return core_drops(self.stats, name[6:])
        return core_counter(self.stats, name)

    def why(self) -> str:
        return (f"`{self.command}`: rc {self.rc}{' (timed out)' if self.timed_out else ''}, "
                f"stdout {self.stdout[-300:]!r}, stderr:\n{self.stderr[-2000:]}")

    def check(self, size: int, sha256: str | None = None, requests: int | None = 1) -> None:
        """Exited 0 and got `requests` (None: any number of) whole bodies of `size`
        bytes (and their SHA-256)."""
        if self.rc != 0 or not self.output:
            raise AssertionError("zc_wget failed: " + self.why())
        o = self.output
        n = int(o.get("responses", 0))
        if (requests is not None and n != requests) or n < 1 or o.get("bytes") != size * n:
            raise AssertionError(f"zc_wget got {n} responses, {o.get('bytes')} bytes; "
                                 f"want {requests or 'some'} x {size}")
        if sha256 is not None and o.get("sha256") != sha256:
            raise AssertionError(f"SHA-256 of the body {o.get('sha256')} != {sha256}")


def stack_overrides(ch: Ch5Lab, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Config overrides for a download: only the dut's port towards the server
    (one port to poll, not two), then `overrides`."""
    _, cli = ch.port_names()
    ov: dict[str, Any] = dict(without_port(cli))
    ov.update(overrides or {})
    return ov


def zc_wget(ch: Ch5Lab, path: str, *, standard: bool = False, rcvbuf: int | None = None,
            requests: int = 1, seconds: float | None = None,
            overrides: Mapping[str, Any] | None = None, nohash: bool = False,
            timeout: float = 120.0, name: str = "zc_wget", port: int = WEB_PORT) -> Download:
    """Run zc_wget on the dut against http://<server>:<port>/<path> (blocking).

    standard: -S (mtcp_read, the copying path); rcvbuf: -b (SO_RCVBUF);
    requests: -n (keep-alive, one after another); seconds: -t (no new request
    after that long); overrides: stack config keys
    (docs/config.md, e.g. `port.srv.fault`); nohash: -q. Never raises on
    failure: look at rc/output, or call check().
    """
    conf, stats = run_paths(ch.dut, name)
    ov = stack_overrides(ch, overrides)
    ov["stats_file"] = str(stats)
    args = ["zc_wget", f"http://{ch.server_ip}:{port}/{path}", "-f", str(conf),
            "-n", str(requests)]
    if seconds:
        args += ["-t", f"{seconds:g}"]
    if rcvbuf:
        args += ["-b", str(rcvbuf)]
    if standard:
        args.append("-S")
    if nohash:
        args.append("-q")
    command = " ".join(shlex.quote(a) for a in args)
    # one SSH command per run (the config in, the stats file out): see run_once
    r, out, st = run_once(ch.dut, command, conf, ch.stack_conf(ov), stats, timeout)
    return Download(command, r.rc, r.timed_out, r.duration_s, out, r.stderr,
                    parse_json_line(out) or {}, st)


def start_web(ch: Ch5Lab, files: Mapping[str, int] | None = None, cpu: int | None = PEERS_CPU,
              tmpfs: Mapping[str, int] | None = None) -> Any:
    """nginx on the server (port WEB_PORT, pinned to `cpu`) serving www/<name>:
    `files` on the server's disk, `tmpfs` as links to files in /dev/shm (RAM,
    so no disk I/O in the measured path; thesis 3.3 "fetched directly from
    RAM"). Returns its Background handle."""
    for n, size in (tmpfs or {}).items():
        shm = shm_path(ch, n)
        ch.server.run(f"mkdir -p www && ([ \"$(stat -c %s {shm} 2>/dev/null)\" = {size} ] || "
                      f"head -c {size} /dev/urandom > {shm}) && ln -sfn {shm} www/{n}",
                      timeout=600)
    return ch.start_nginx(files or {}, name=NGINX_NAME, cpu=cpu, port=WEB_PORT)


def shm_path(ch: Ch5Lab, name: str) -> PurePosixPath:
    return PurePosixPath("/dev/shm") / f"aatcp-{ch.lab.name}-{name}"


# ---------------------------------------------------------------------------- experiment


def setup(ctx: RunContext) -> None:
    ch = Ch5Lab(ctx.lab)
    size = int(ctx.experiment.fixed["file_mb"]) << 20
    ctx.state["ch"] = ch
    ctx.state["size"] = size
    ctx.state["nginx"] = start_web(ch, tmpfs={BIG: size})


def teardown(ctx: RunContext) -> None:
    ch: Ch5Lab | None = ctx.state.get("ch")
    if ch is None:
        return
    if ctx.state.get("nginx") is not None:
        ctx.state["nginx"].stop()
    ch.server.run(f"rm -f www/{BIG} {shm_path(ch, BIG)}", timeout=30, check=False)


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    ch: Ch5Lab = ctx.state["ch"]
    size: int = ctx.state["size"]
    secs = float(p["seconds"])
    # the file again and again on one keep-alive connection for `seconds`
    # (zc_wget -t), then the response in progress to its end: at least
    # 50 Mbit/s, or something is wrong (8 KB windows give ~1 Gbit/s here)
    d = zc_wget(ch, BIG, standard=p.variant == "standard", rcvbuf=int(p["rcvbuf"]),
                requests=1_000_000, seconds=secs, nohash=True,
                timeout=60 + secs + size * 8 / 50e6, name="fig3_7")
    d.check(size, None, None)
    o = d.output
    return {"peak_gbps": o["peak_gbps"], "gbps": o["gbps"], "seconds": o["seconds"],
            "bytes": o["bytes"], "responses": o["responses"],
            "mbufs_in_use": d.stats.get("mbufs_in_use"),
            "rx_pkts": d.counter("rx_pkts"), "ooo_segs": d.counter("ooo_segs"),
            "dupacks_sent": d.counter("dupacks_sent"),
            "window_updates": d.counter("window_updates"),
            "zero_window_probes": d.counter("zero_window_probes"),
            "imissed": sum(int(x.get("imissed", 0)) for x in d.stats.get("ports", []))}


LABELS = {"zero-copy": "zero-copy receive (mtcp_zc_read_fragments)",
          "standard": "standard receive (mtcp_read, ring buffer)"}


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True,
                                      gridspec_kw={"height_ratios": [2, 1]})
    summ = summarize(df, "rcvbuf", "peak_gbps")
    for variant in exp.variants:
        part = summ[summ["variant"] == variant]
        if not part.empty:
            errorbar_line(top, part, "rcvbuf", LABELS.get(variant, variant))
    top.set_xscale("log", base=2)
    top.set_ylabel("highest throughput in a 1 s window\n(Gbit/s; median, min-max bars)")
    top.set_title(exp.title, fontsize=10)
    top.grid(True, which="both", alpha=0.3)
    top.set_ylim(bottom=0)
    if not summ.empty:
        top.legend(fontsize=8)
    else:
        top.text(0.5, 0.5, "no successful runs", ha="center", va="center",
                 transform=top.transAxes)

    ratio_panel(bottom, summ, "rcvbuf", "zero-copy", "standard", THESIS_GAIN,
                f"thesis: up to {THESIS_GAIN:.2f}x")
    bottom.set_ylabel("throughput ratio,\nzero-copy / standard")
    xs = sorted(summ["rcvbuf"].unique()) if not summ.empty else []
    bottom.set_xticks(xs, [f"{int(x) >> 20}M" if x >= 1 << 20 else f"{int(x) >> 10}K"
                           for x in xs])
    bottom.minorticks_off()
    bottom.set_xlabel("receive buffer (SO_RCVBUF, bytes)")
    bottom.grid(True, which="both", alpha=0.3)
    bottom.legend(fontsize=8)
    save(fig, path)


RCVBUFS = [8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10, 512 << 10,
           1 << 20, 2 << 20, 4 << 20]

CLAIMS = (
    Claim("Figure 3.7",
          "both versions show similar results; zero-copy is slightly better, by a factor of "
          "up to 3%",
          Ratio("zero-copy", "standard", metric="peak_gbps",
                label="zero-copy / standard receive, highest 1 s throughput"),
          value=THESIS_GAIN, pick="max",
          explanation="The thesis' effect (3%) is smaller than the run-to-run variation of the "
          "local lab (10-30%: veth, DPDK's AF_PACKET path and two cores shared with the Linux "
          "peer), so single points scatter on both sides of 1."),
)


EXPERIMENT = Experiment(
    name="fig3_7",
    claims=CLAIMS,
    minutes=(3.5, 1),
    title="Fig. 3.7: download throughput vs receive buffer, zero-copy vs standard receive",
    description=__doc__ or "",
    roles=("server", "dut"),
    variants=("zero-copy", "standard"),
    sweep={"rcvbuf": RCVBUFS},
    # file_mb: the file on the server's tmpfs; seconds: how long each run keeps
    # fetching it on one keep-alive connection (zc_wget -t): several one-second
    # windows for the thesis' metric (the thesis moved 10 GB per run)
    fixed={"file_mb": 64, "seconds": 3.0},
    metrics=("peak_gbps", "gbps"),
    repetitions=3,
    warmup=0,
    quick=Quick(sweep={"rcvbuf": [8 << 10, 64 << 10, 512 << 10, 4 << 20]}, repetitions=1,
                warmup=0, fixed={"file_mb": 16, "seconds": 1.0}),
    run=run,
    plot=plot,
    setup=setup,
    teardown=teardown,
    logx=True,
    xlabel="receive buffer (bytes)",
    ylabel="Gbit/s",
)
