"""Transfer completion time under loss: our stack vs Linux<->Linux (issue 15).

One connection sends `mbytes` MB from the dut to the client over the
dut<->client veth (the `tx-*` variants of experiments/bulk.py, same Linux
receiver at the client, same CPU placement):

- tx-aatcp       our `source -q` (CUBIC, SACK, RFC 6675 pipe, RACK-TLP)
- tx-aatcp-reno  the same with `tcp_congestion = reno` (ssthresh = flight /
                 2, one segment per window): what CUBIC changes
- tx-linux       the Linux sender in the dut namespace, on the same veth,
                 with CUBIC (`linux_cc`, set on its socket: TCP_CONGESTION)
                 and its other defaults (SACK, RACK-TLP, PRR): the same
                 congestion control as ours, the issue's comparison
- tx-linux-bbr   the same with BBR, this machine's default
                 (net.ipv4.tcp_congestion_control): BBR paces at its model
                 of the path's rate and does not take a random loss as
                 congestion, so 1 % random loss barely slows it; shown
                 beside, not the target
- tx-linux-rps   tx-linux (CUBIC) with the packets the dut receives on the
                 link, the receiver's ACKs, processed on the sender's core
                 (RPS: the rps_cpus of the dut's end of the link), where a
                 sender on a host of its own, and ours, take them. In
                 tx-linux the receiver's ACK runs the Linux sender's
                 transmit inside the receiver's recv() system call (veth
                 delivers in the caller's softirq), so the next data is
                 queued before the reader looks again: one kernel plays
                 both ends of a zero-length wire. Our sender (and this
                 variant) sees the ACK on its own core, and the reader
                 sleeps each time it has read all that a small window let
                 through (`peer_sleeps`, its voluntary context switches)

The loss is made on the link, the same way for both senders: a tc cls_bpf
program on the client's end of the veth (clsact ingress,
experiments/bpf/loss_drop.c, compiled for each run with clang) drops data
segments before the client's TCP sees them. This kernel has no netem.

- loss=none    nothing dropped (the same program on the path): the plain
               throughput of each stack on this link, the denominator of
               the slowdown below
- loss=random  each data segment is dropped with probability 1 %, from a
               xorshift32 generator seeded with the repetition number and
               stepped once per data segment: in the same repetition the
               n-th data segment on the link meets the same decision
               whichever stack sends it
- loss=tail    the stream's last two segments (MSS 1448) are dropped once:
               the end of the last flight, nothing after it but the FIN;
               repaired by a tail loss probe in about two round trips, or by
               the retransmission timeout (200 ms minimum) without one

`seconds` is the client's time from the first byte to the end of the stream
(core_peer.py drain). The ratios (ours / Linux, same loss, same size) are
the claims; the target is at most 1.1. Beside them the table gives each
stack's slowdown from loss (median time with loss / median time without,
same size): the ratio mixes the cost of recovery with the plain throughput
gap (issue 14), the slowdowns separate them. Loss recovery counters per run:
ours from the stack's stats, Linux's from the dut namespace's MIB (nstat:
TcpRetransSegs, TcpExtTCPTimeouts, TcpExtTCPLossProbes,
TcpExtTCPSackRecovery, TcpExtTCPLostRetransmit).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.dutrun import core_counter, read_stats, stack_port_towards
from aatcp.errors import ToolkitError
from aatcp.plot import measured, plt, save
from aatcp.remote import Host
from aatcp.runner import Experiment, Point, Quick, RunContext
from experiments import bulk

DROP_SRC = Path(__file__).resolve().parent / "bpf" / "loss_drop.c"
VARIANTS = ("tx-aatcp", "tx-aatcp-reno", "tx-linux", "tx-linux-bbr", "tx-linux-rps")
PATTERNS = {"none": 0, "random": 1, "tail": 2}
LOSSY = ("random", "tail")
TAIL_SEGMENTS = 2
SYS_NET = "/sys/class/net"


def setup(ctx: RunContext) -> None:
    bulk.setup(ctx)
    lab = ctx.lab
    dut, client = ctx.state["dut"], ctx.state["client"]
    link = lab.link_between(dut.name, client.name)
    end = link.a if link.a.host == client.name else link.b
    client.put(DROP_SRC, "peers/loss_drop.c", mode=0o644)
    r = client.run("command -v clang && command -v tc && uname -m", timeout=10, check=False)
    if not r.ok:
        raise ToolkitError(f"{client.name}: clang or tc missing (the loss is a tc cls_bpf "
                           "program compiled with clang). Fix: ./inv setup")
    ctx.state.update(drop_iface=end.name, arch=r.stdout.split()[-1],
                     dut_iface=stack_port_towards(lab, client.name).iface)


def _rps(dut: Host, iface: str | None, mask: str) -> dict[str, str]:
    """Set the rps_cpus of every receive queue of `iface` to `mask` (hex CPU
    mask); the values found before, by queue file."""
    if not iface:
        raise ToolkitError(f"{dut.name}: the port towards the client is no kernel interface, "
                           "so tx-linux-rps has no queues to steer. Fix: leave tx-linux-rps out")
    q = f"{SYS_NET}/{iface}/queues"
    r = dut.run(f"for f in {q}/rx-*/rps_cpus; do echo \"$f $(cat $f)\"; done", timeout=10,
                check=False)
    old = dict(line.split() for line in r.stdout.splitlines() if len(line.split()) == 2)
    if not old:
        raise ToolkitError(f"{dut.name}: no {q}/rx-*/rps_cpus (tx-linux-rps steers the "
                           f"ACKs to the sender's core with RPS). Fix: a kernel with "
                           f"CONFIG_RPS, or leave tx-linux-rps out")
    try:
        for f in old:
            dut.run(f"echo {mask} > {f}", timeout=10)
    except Exception:
        _restore_rps(dut, old)  # no queue left steered by a failed setting
        raise
    return old


def _restore_rps(dut: Host, old: dict[str, str]) -> None:
    for f, v in old.items():
        dut.run(f"echo {v} > {f}", timeout=10, check=False)


def _drop_on(client: Host, iface: str, arch: str, p: Point, nbytes: int) -> None:
    # a different seed per repetition, the same for both variants in it
    seed = 1 + p.repetition + (1000 if p.warmup else 0)
    defs = (f"-DMODE={PATTERNS[p['loss']]} -DSEED={seed} -DPPM={int(p['loss_ppm'])} "
            f"-DTOTAL={nbytes} -DTAIL={TAIL_SEGMENTS}")
    client.run(f"clang -O2 -g -target bpf {defs} -I/usr/include/{arch}-linux-gnu "
               "-c peers/loss_drop.c -o run/loss_drop.o", timeout=60)
    client.run(f"tc qdisc replace dev {iface} clsact && "
               f"tc filter replace dev {iface} ingress bpf direct-action "
               "obj run/loss_drop.o sec tc", timeout=30)


#: the Linux sender's counters (nstat names) under our counters' names:
#: fast_retransmits counts recovery episodes on both sides
LINUX_MIB = {"retransmits": "TcpRetransSegs", "rto_expired": "TcpExtTCPTimeouts",
             "tlp_probes": "TcpExtTCPLossProbes", "fast_retransmits": "TcpExtTCPSackRecovery",
             "lost_retransmits": "TcpExtTCPLostRetransmit"}
OUR_COUNTERS = ("rto_expired", "fast_retransmits", "tlp_probes", "tlp_recoveries", "rack_lost",
                "lost_retransmits")


def _mib(host: Host) -> dict[str, int]:
    """The namespace's TCP MIB, absolute (nstat -a, no history file written)."""
    r = host.run("nstat -asz", timeout=10, check=False)
    out: dict[str, int] = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 2 and f[1].isdigit():
            out[f[0]] = int(f[1])
    return out


def _slowdown(state: dict[str, Any], p: Point, out: dict[str, Any]) -> None:
    """out["slowdown"]: this run's seconds / the seconds of the loss=none run of
    the same variant, size and repetition (the sweep runs loss=none first);
    NaN when that run failed."""
    key = (p.variant, int(p["mbytes"]), p.repetition, p.warmup)
    base = state.setdefault("none_seconds", {})
    if p["loss"] == "none":
        base[key] = out["seconds"]
    b = base.get(key)
    out["slowdown"] = out["seconds"] / b if b else float("nan")


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    s = ctx.state
    client: Host = s["client"]
    dut: Host = s["dut"]
    nbytes = int(p["mbytes"]) << 20
    _drop_on(client, s["drop_iface"], s["arch"], p, nbytes)
    linux = p.variant.startswith("tx-linux")
    before = _mib(dut) if linux else {}
    rps = (_rps(dut, s["dut_iface"], format(1 << bulk.DUT_CPU, "x"))
           if p.variant == "tx-linux-rps" else {})
    try:
        out = dict(bulk.run(ctx, p))
    finally:
        client.run(f"tc qdisc del dev {s['drop_iface']} clsact", timeout=30, check=False)
        _restore_rps(dut, rps)
    _slowdown(s, p, out)
    if linux:
        after = _mib(dut)
        for name, mib in LINUX_MIB.items():
            if mib in after:
                out[name] = after[mib] - before.get(mib, 0)
    else:
        st = read_stats(dut, "run/bulk.stats.json")
        for name in OUR_COUNTERS:
            out[name] = core_counter(st, name)
    return out


def _div(a: float | None, b: float | None) -> float:
    return a / b if a and b else float("nan")


def ratios(df: pd.DataFrame) -> pd.DataFrame:
    """Median seconds per (loss, mbytes, variant), ours / Linux, and each
    stack's slowdown from loss: its median with this loss / its median
    without loss at the same size (NaN where no loss=none runs)."""
    d = measured(df)
    cols = ["loss", "mbytes", "aatcp_s", "linux_s", "ratio", "aatcp_slowdown",
            "linux_slowdown", "reno_s", "reno_ratio", "bbr_s", "bbr_ratio", "rps_s",
            "rps_ratio", "rps_slowdown", "runs"]
    if d.empty:
        return pd.DataFrame(columns=cols)
    med = d.groupby(["loss", "mbytes", "variant"])["seconds"].median()

    def m(loss: str, mb: int, v: str) -> float | None:
        return med.get((loss, mb, v))

    rows = []
    for (loss, mb), g in d.groupby(["loss", "mbytes"]):
        a, b = m(loss, mb, "tx-aatcp"), m(loss, mb, "tx-linux")
        reno, bbr = m(loss, mb, "tx-aatcp-reno"), m(loss, mb, "tx-linux-bbr")
        rps = m(loss, mb, "tx-linux-rps")
        rows.append({"loss": loss, "mbytes": mb, "aatcp_s": a, "linux_s": b,
                     "ratio": _div(a, b),
                     "aatcp_slowdown": _div(a, m("none", mb, "tx-aatcp")),
                     "linux_slowdown": _div(b, m("none", mb, "tx-linux")),
                     "reno_s": reno, "reno_ratio": _div(reno, b),
                     "bbr_s": bbr, "bbr_ratio": _div(a, bbr),
                     "rps_s": rps, "rps_ratio": _div(a, rps),
                     "rps_slowdown": _div(rps, m("none", mb, "tx-linux-rps")),
                     "runs": int((g["variant"] == "tx-aatcp").sum())})
    return pd.DataFrame(rows, columns=cols)


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    table = ratios(df)
    print(f"\n{exp.name}: completion time, median seconds (client: first byte -> end); "
          "slowdown: with loss / without loss, same stack and size")
    for _, r in table.iterrows():
        print(f"  {r['loss']:<7} {int(r['mbytes']):4d} MB  aatcp {r['aatcp_s']:8.4f} s  "
              f"linux {r['linux_s']:8.4f} s  {r['ratio']:5.2f} x   slowdown aatcp "
              f"{r['aatcp_slowdown']:5.2f} x  linux {r['linux_slowdown']:5.2f} x   "
              f"reno / linux {r['reno_ratio']:5.2f} x  ours / linux-bbr "
              f"{r['bbr_ratio']:5.2f} x  ours / linux-rps {r['rps_ratio']:5.2f} x "
              f"(its slowdown {r['rps_slowdown']:5.2f} x)  ({r['runs']} runs)")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    labels = []
    for i, (_, r) in enumerate(table.iterrows()):
        bars = (("aatcp_s", "C1", "aatcp (CUBIC)"), ("reno_s", "C2", "aatcp, Reno"),
                ("linux_s", "C0", "Linux CUBIC"), ("rps_s", "C9", "Linux CUBIC, ACKs on its core"),
                ("bbr_s", "C7", "Linux BBR"))
        for j, (col, color, name) in enumerate(bars):
            if pd.notna(r[col]):
                ax.bar(i + (j - 2) * 0.16, r[col], 0.16, color=color,
                       label=name if i == 0 else None)
        ax.annotate(f"{r['ratio']:.2f}x", (i, max(r["aatcp_s"], r["linux_s"])),
                    textcoords="offset points", xytext=(0, 4), ha="center", fontsize=8)
        labels.append(f"{r['loss']}\n{int(r['mbytes'])} MB")
    if table.empty:
        ax.text(0.5, 0.5, "no successful runs", ha="center", va="center",
                transform=ax.transAxes)
    else:
        ax.set_yscale("log")
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi * 30)  # room above the bars for the legend
        ax.legend(loc="upper left", ncol=2, fontsize=7)
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylabel("seconds (median)")
    ax.set_title(exp.title, fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    _plot_slowdown(ax2, table)
    save(fig, path)


def _plot_slowdown(ax: Any, table: pd.DataFrame) -> None:
    """Each stack's time with loss / its time without (same size)."""
    lossy = table[table["loss"].isin(LOSSY)].reset_index(drop=True)
    labels = []
    for i, r in lossy.iterrows():
        for j, (col, color, name) in enumerate((
                ("aatcp_slowdown", "C1", "aatcp"), ("linux_slowdown", "C0", "Linux CUBIC"),
                ("rps_slowdown", "C9", "Linux CUBIC, ACKs on its core"))):
            if pd.notna(r[col]):
                ax.bar(i + (j - 1) * 0.27, r[col], 0.27, color=color,
                       label=name if i == 0 else None)
        labels.append(f"{r['loss']}\n{int(r['mbytes'])} MB")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_yscale("log")  # a 200 ms RTO on a 2 ms transfer is 100x
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylabel("time with loss / time without (median)")
    ax.set_title("slowdown from loss, each stack against itself", fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    if labels:
        ax.legend()


def _claim(loss: str, words: str) -> Claim:
    return Claim("-", f"(no thesis figure: issue 15's target, ours <= 1.1 x Linux, {words})",
                 Ratio("tx-aatcp", "tx-linux", metric="seconds", where={"loss": loss},
                       label=f"completion time, {words}: ours / Linux"),
                 at_most=1.1, pick="max",
                 explanation="The same drops on the link for both senders (tc cls_bpf); "
                 "the headline is the worst transfer size.")


CLAIMS = (
    _claim("random", "1 % random loss"),
    _claim("tail", "the last two segments lost"),
    Claim("-", "(no target: loss recovery alone, each stack's slowdown from 1 % random "
          "loss, ours / Linux's)",
          Ratio("tx-aatcp", "tx-linux", metric="slowdown", where={"loss": "random"},
                label="slowdown from 1 % random loss (time with / without): ours / Linux's"),
          pick="max",
          explanation="Each run's time over the time of the same stack's loss=none run of "
          "the same size and repetition: the cost of loss recovery without the plain "
          "throughput gap. At 1 MB the transfer without loss takes a few ms (ours mostly "
          "start-up), so the slowdowns there say little."),
    Claim("-", "(no target: our stack with `tcp_congestion = reno` instead of CUBIC, 1 % "
          "random loss)",
          Ratio("tx-aatcp-reno", "tx-linux", metric="seconds", where={"loss": "random"},
                label="completion time, 1 % random loss, ours with Reno / Linux"),
          pick="max",
          explanation="The same stack and recovery (SACK, RFC 6675, RACK-TLP) with Reno's "
          "ssthresh = flight / 2: beside the first claim, what CUBIC's cwnd * 0.7 changes."),
    Claim("-", "(no target: Linux with BBR, this machine's default, instead of CUBIC, 1 % "
          "random loss)",
          Ratio("tx-aatcp", "tx-linux-bbr", metric="seconds", where={"loss": "random"},
                label="completion time, 1 % random loss: ours / Linux BBR"),
          pick="max",
          explanation="BBR does not reduce its rate for a random loss; a loss-based "
          "congestion control (ours, CUBIC, Reno) does, by design (RFC 9438 4.6)."),
    Claim("-", "(issue 15's target against a Linux sender that takes the ACKs on its own "
          "core, as ours does, 1 % random loss)",
          Ratio("tx-aatcp", "tx-linux-rps", metric="seconds", where={"loss": "random"},
                label="completion time, 1 % random loss: ours / Linux CUBIC with its ACKs "
                "processed on its core"),
          at_most=1.1, pick="max",
          explanation="tx-linux-rps: the same Linux sender and drops, with RPS on the dut's "
          "end of the link. Over a veth in one kernel, tx-linux's next data is sent from "
          "inside the receiver's recv() that made the ACK, so a small window never leaves "
          "its reader without data; a sender that takes the ACK on its own core, ours or "
          "Linux's, lets the reader sleep once per window (peer_sleeps). "
          "docs/loss-recovery.md, \"Which core takes the ACK\"."),
    Claim("-", "(no target: the same transfers without loss, the plain throughput gap of "
          "issue 14 that the ratios with loss include)",
          Ratio("tx-aatcp", "tx-linux", metric="seconds", where={"loss": "none"},
                label="completion time, no loss: ours / Linux"),
          pick="max",
          explanation="The same program on the link, dropping nothing. Dividing each "
          "stack's time with loss by its time without (the figure's right panel, and "
          "`./inv plot loss`) separates the cost of loss recovery from this gap."),
)


EXPERIMENT = Experiment(
    name="loss",
    claims=CLAIMS,
    minutes=(10, 2.5),
    title="Completion time under loss (tc cls_bpf drops): aatcp vs Linux<->Linux",
    description=__doc__ or "",
    roles=("dut", "client"),
    variants=VARIANTS,
    sweep={"loss": list(PATTERNS), "mbytes": [1, 64]},
    # the bulk runs' buffers (setup and run are bulk's), plus the loss rate
    fixed={**bulk.EXPERIMENT.fixed, "loss_ppm": 10000, "linux_cc": "cubic"},
    metrics=("seconds", "slowdown"),
    repetitions=5,
    warmup=1,
    quick=Quick(sweep={"loss": list(PATTERNS), "mbytes": [1]}, repetitions=1, warmup=0),
    run=run,
    plot=plot,
    setup=setup,
    xlabel="loss pattern, MB",
    ylabel="seconds",
)
