"""Bulk TCP throughput of the core stack vs Linux<->Linux (issue 3 benchmark).

One connection moves `mbytes` MB over the dut<->client veth link:

- rx-aatcp      Linux sender (client) -> our `sink -q` (mtcp_read, ring buffer)
- rx-aatcp-zc   Linux sender (client) -> our `sink -q -z` (zero-copy read)
- rx-linux      Linux sender (client) -> Linux receiver in the dut namespace,
                on the same veth (the dut port's kernel_ip), same offloads
- rx-aatcp-xdp  as rx-aatcp, the port driven with DPDK net_af_xdp (an AF_XDP
                socket on the same veth) instead of the lab's device
- tx-aatcp      our `source -q` -> Linux receiver (client)
- tx-aatcp-xdp  as tx-aatcp over net_af_xdp
- tx-linux      Linux sender in the dut namespace -> Linux receiver (client)

The Linux endpoints are tests/e2e/peers/core_peer.py (`blast`: send from one
fixed buffer; `drain`: read into one buffer; neither hashes), so within a
direction every variant is measured by the same Linux program at the other
end: `gbps` is what the client-side peer saw (rx: connected -> the receiver
closed after the last byte; tx: first byte -> end of stream). The dut side's
own figure is kept as `dut_gbps` (sink/source's JSON, or the Linux peer's).
The lab's veths have checksum offload, TSO, GSO and GRO off on both ends
(netlab.up), so Linux and the stack both move MTU-sized frames.

CPU placement (2-core lab machines): everything on the dut side runs on
core 0 (`taskset -c 0`: the stack's network thread is pinned to CPU 0 by
mtcp_create_context(0) and EAL pins the application thread to its main
lcore, CPU 0, so both stack threads share core 0, as in mTCP; the Linux
baseline's dut-side process likewise), everything on the client side on
core 1. Kernel softirq work of a veth runs on the core of the sending
thread, so Linux's receive-side TCP processing lands on the sender's core,
while the stack's receive processing (af_packet RX polling) runs on core 0.

CPU accounting: every run records the CPU each side used. The Linux peer
programs report their process's user + system time (`cpu_s`, which includes
the kernel TCP and veth work done in their context); sink/source report the
process's CPU time and the application thread's after the stack's start-up
(mtcp_init and the context: app_cpu_mark), and the stack's stats file
the network thread's busy poll-loop cycles (`busy_tsc`: iterations that
found work; idle polls are not counted; nor are the cycles the application
thread ran on the shared core inside the network thread's wake-up call,
`app_in_wake_tsc`, which its own CPU time already holds). Ours = busy
cycles + application thread, at most the process's CPU time (the TSC also
counts other processes' time inside a preempted busy iteration, on a loaded
machine: experiments/_common.py stack_cpu); `ratios()` turns each into CPU
cycles per byte moved (at the TSC rate the stack reports) for the dut side
and the peer side. `tx_full` (our own frames dropped at a full TX ring) is
reported for every stack run and must be 0.

The stack runs with its defaults (pure polling network thread) plus
rcvbuf = `buf_kb` KB and sndbuf = `sndbuf_kb` KB; Linux with its defaults
(autotuned buffers; the congestion control of the namespace's
net.ipv4.tcp_congestion_control, BBR on this machine, or the point's
`linux_cc` parameter, or `bbr` for a variant ending in -bbr: `linux_cc` in
each Linux sender's row says which ran). sndbuf_kb is 4096, the size Linux's send-buffer
autotuning grows a socket to here (tcp_wmem[2]; the stack does not
autotune): with 256 KB the Linux receiver, which acknowledges when its
reader has read (one ACK per 256 KB, measured on the wire), turned our send
into stop-and-wait on the buffer (docs/datapath-performance.md).
Absolute numbers depend on the machine and on whatever else runs on it; the
ratios printed at the end (and drawn) compare variants of the same run,
interleaved repetition by repetition.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.dutrun import (
    StackConfig,
    core_counter,
    core_drops,
    read_stats,
    require_json_line,
    stack_port_towards,
    wait_stderr,
)
from aatcp.errors import ToolkitError
from aatcp.plot import measured, plt, save
from aatcp.remote import Background, Host
from aatcp.runner import Experiment, Point, Quick, RunContext
from experiments._common import cycles_per_byte, stack_cpu, tsc_rate

PEER = Path(__file__).resolve().parent.parent / "tests" / "e2e" / "peers" / "core_peer.py"
PORT = 5400
DUT_CPU = 0
PEER_CPU = 1
VARIANTS = ("rx-aatcp", "rx-aatcp-zc", "rx-aatcp-xdp", "rx-linux", "tx-aatcp", "tx-aatcp-xdp",
            "tx-linux")
BASELINE = {"rx": "rx-linux", "tx": "tx-linux"}


def _wait_text(host: Host, bg: Background, text: str, timeout: float = 30) -> None:
    why = wait_stderr(host, bg, text, timeout, poll=0.05)
    if why is None:
        return
    res = bg.stop()
    if why == "exited":
        raise ToolkitError(f"{host.name}: `{bg.command}` exited (rc {res.rc}) before "
                           f"{text!r}: {res.stderr[-1500:]}")
    raise ToolkitError(f"{host.name}: no {text!r} from `{bg.command}` after {timeout:g} s: "
                       f"{res.stderr[-1500:]}")


def _finish(bg: Background, timeout: float) -> dict[str, Any]:
    if not bg.wait(timeout):
        res = bg.stop()
        raise ToolkitError(f"{bg.host.name}: `{bg.command}` did not finish in {timeout:g} s: "
                           f"{res.stderr[-1500:]}")
    res = bg.stop()
    if res.rc not in (0, None):
        raise ToolkitError(f"{bg.host.name}: `{bg.command}` exited {res.rc}: "
                           f"{res.stderr[-1500:]}")
    return require_json_line(res.stdout)


def setup(ctx: RunContext) -> None:
    lab = ctx.lab
    dut, client = lab.by_role("dut"), lab.by_role("client")
    link = lab.link_between(dut.name, client.name)
    port = stack_port_towards(lab, client.name, dut.name)
    if port.kernel_ip is None:
        raise ToolkitError(f"{lab.path}: dut port {port.name} has no kernel_ip. Fix: give it "
                           "one (the Linux baseline receives and sends on the same link)")
    for h in (dut, client):
        h.run("mkdir -p peers conf run", timeout=10)
        h.put(PEER, "peers/core_peer.py", mode=0o755)
    # the stack drives only the port towards the client
    buf = int(ctx.experiment.fixed["buf_kb"]) * 1024
    sndbuf = int(ctx.experiment.fixed["sndbuf_kb"]) * 1024
    conf = StackConfig(lab, dut.name, ports=[port.name])
    common = {"rcvbuf": buf, "sndbuf": sndbuf,
              "stats_file": dut.workdir / "run" / "bulk.stats.json"}
    dut.write_file("conf/bulk.conf", conf.render(common))
    # the same port driven through AF_XDP (the stack falls back to
    # net_af_packet, saying so, where AF_XDP is missing)
    dut.write_file("conf/bulk-xdp.conf", conf.render({
        **common, f"port.{port.name}.device": xdp_device(port.iface or "")}))
    # Reno instead of the default CUBIC (experiments/loss.py's tx-aatcp-reno)
    dut.write_file("conf/bulk-reno.conf", conf.render({**common, "tcp_congestion": "reno"}))
    ctx.state.update(dut=dut, client=client, stack_ip=str(link.ip_of(dut.name).ip),
                     kernel_ip=str(link.kernel_ip_of(dut.name).ip),
                     client_ip=str(link.ip_of(client.name).ip), port=PORT)


def xdp_device(iface: str) -> str:
    """The DPDK vdev that drives `iface` through an AF_XDP socket on queue 0.

    busy_budget=0: no preferred busy polling. With it (the PMD's default
    from Linux 5.11 on) every RX poll that finds nothing makes a
    recvfrom() to run the device's NAPI from our thread: on a veth that is
    the peer's transmit work, moved onto the stack's core, and a syscall
    per idle poll (36% of the stack process's samples while sending, perf,
    docs/datapath-performance.md)."""
    return f"net_af_xdp0,iface={iface},start_queue=0,queue_count=1,busy_budget=0"


def _peer(cpu: int, args: str) -> str:
    return f"exec taskset -c {cpu} python3 peers/core_peer.py {args}"


def _blast(cpu: int, dst: str, port: int, nbytes: int, p: Point, who: str) -> str:
    """The Linux sender, with the point's congestion control (docstring)."""
    cc = "bbr" if who.endswith("-bbr") else str(p.params.get("linux_cc", ""))
    return _peer(cpu, f"blast {dst} {port} {nbytes}" + (f" --cc {cc}" if cc else ""))


def _conf(who: str) -> str:
    if who.endswith("-xdp"):
        return "conf/bulk-xdp.conf"
    return "conf/bulk-reno.conf" if who.endswith("-reno") else "conf/bulk.conf"


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    s = ctx.state
    dut: Host = s["dut"]
    client: Host = s["client"]
    nbytes = int(p["mbytes"]) << 20
    timeout = 60 + nbytes * 8 / 100e6  # at least 100 Mbit/s, or something is wrong
    s["port"] += 1  # a fresh port per run: no TIME_WAIT leftovers in the way
    port = s["port"]
    direction, _, who = p.variant.partition("-")
    extra: dict[str, Any] = {}
    dut.run("rm -f run/bulk.stats.json", timeout=10)
    if direction == "rx":
        if who.startswith("aatcp"):
            z = " -z" if who == "aatcp-zc" else ""
            recv = dut.start(f"exec taskset -c {DUT_CPU} sink -f {_conf(who)} -l {port} -q{z}",
                             name="bulk_dut")
            _wait_text(dut, recv, "listening on port")
            dst = s["stack_ip"]
        else:
            recv = dut.start(_peer(DUT_CPU, f"drain {port}"), name="bulk_dut")
            _wait_text(dut, recv, "core_peer: listening")
            dst = s["kernel_ip"]
        try:
            r = client.run(_blast(PEER_CPU, dst, port, nbytes, p, who), timeout=timeout)
        finally:
            dut_out = _finish(recv, 60)
        peer = require_json_line(r.stdout)
    else:
        recv = client.start(_peer(PEER_CPU, f"drain {port}"), name="bulk_client")
        _wait_text(client, recv, "core_peer: listening")
        try:
            dst = f"{s['client_ip']}"
            cmd = (f"taskset -c {DUT_CPU} source -f {_conf(who)} -c {dst}:{port} -n {nbytes} -q"
                   if who.startswith("aatcp") else _blast(DUT_CPU, dst, port, nbytes, p, who))
            r = dut.run(cmd, timeout=timeout)
            dut_out = require_json_line(r.stdout)
        finally:
            peer = _finish(recv, 60)
    if peer.get("bytes") != nbytes or dut_out.get("bytes") != nbytes:
        raise ToolkitError(f"{p.variant}: moved {peer.get('bytes')} / {dut_out.get('bytes')} "
                           f"bytes, expected {nbytes}")
    if who.startswith("aatcp"):
        st = read_stats(dut, "run/bulk.stats.json")
        extra = {"mbufs_in_use": st.get("mbufs_in_use"),
                 "retransmits": core_counter(st, "retransmits"),
                 "imissed": sum(int(x.get("imissed", 0)) for x in st.get("ports", [])),
                 "tx_full": core_drops(st, "tx_full"),
                 "tx_ring_full": core_counter(st, "tx_ring_full"),
                 "tx_backpressure": core_counter(st, "tx_backpressure"),
                 **stack_cpu(st, dut_out)}
    else:
        extra = {"dut_cpu_s": float(dut_out.get("cpu_s", float("nan")))}
    sender = peer if direction == "rx" else dut_out
    if "cc" in sender:
        extra["linux_cc"] = sender["cc"]
    return {"gbps": peer["gbps"], "dut_gbps": dut_out["gbps"], "seconds": peer["seconds"],
            "bytes": nbytes, "peer_cpu_s": float(peer.get("cpu_s", float("nan"))),
            "peer_sleeps": peer.get("sleeps"), **extra}


def ratios(df: pd.DataFrame) -> pd.DataFrame:
    """Median gbps per variant and its ratio to Linux<->Linux in the same
    direction; CPU cycles per byte on the dut side (ours: busy poll-loop
    cycles + the application thread; Linux: the dut process's user + system
    time) and on the peer side (the Linux peer process), at the TSC rate the
    stack reported, and the dut side's cycles/byte relative to Linux's."""
    d = measured(df)
    cols = ["variant", "runs", "median_gbps", "vs_linux", "dut_cyc_per_byte",
            "peer_cyc_per_byte", "cpu_vs_linux", "tx_full"]
    if d.empty:
        return pd.DataFrame(columns=cols)
    hz = tsc_rate(d)
    d = d.assign(dut_cyc=cycles_per_byte(d, "dut_cpu_s", hz),
                 peer_cyc=cycles_per_byte(d, "peer_cpu_s", hz))
    med = d.groupby("variant").agg(median=("gbps", "median"), count=("gbps", "count"),
                                   dut_cyc=("dut_cyc", "median"),
                                   peer_cyc=("peer_cyc", "median"))
    full = d.groupby("variant")["tx_full"].sum(min_count=1) if "tx_full" in d else None
    rows = []
    for v in VARIANTS:
        if v not in med.index:
            continue
        base = BASELINE[v.split("-")[0]]
        b = med.loc[base, "median"] if base in med.index else float("nan")
        bc = med.loc[base, "dut_cyc"] if base in med.index else float("nan")
        nfull = full.loc[v] if full is not None and v in full.index else float("nan")
        rows.append({"variant": v, "runs": int(med.loc[v, "count"]),
                     "median_gbps": float(med.loc[v, "median"]),
                     "vs_linux": float(med.loc[v, "median"] / b) if b else float("nan"),
                     "dut_cyc_per_byte": float(med.loc[v, "dut_cyc"]),
                     "peer_cyc_per_byte": float(med.loc[v, "peer_cyc"]),
                     "cpu_vs_linux": float(med.loc[v, "dut_cyc"] / bc) if bc else float("nan"),
                     "tx_full": None if pd.isna(nfull) else int(nfull)})
    return pd.DataFrame(rows, columns=cols)


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    table = ratios(df)
    print(f"\n{exp.name}: bulk throughput, median Gbit/s over repetitions "
          "(measured by the Linux peer at the client)")
    print("  (cpu: cycles per byte moved, dut side / peer side; ours = busy poll-loop "
          "cycles + app thread)")
    for _, row in table.iterrows():
        full = "" if pd.isna(row["tx_full"]) else f"   tx_full {int(row['tx_full'])}"
        print(f"  {row['variant']:<12} {row['median_gbps']:7.3f} Gbit/s   "
              f"{row['vs_linux']:5.2f} x Linux<->Linux   "
              f"cpu {row['dut_cyc_per_byte']:5.2f} / {row['peer_cyc_per_byte']:5.2f} c/B "
              f"({row['cpu_vs_linux']:4.2f} x Linux's)   ({row['runs']} runs){full}")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    d = measured(df)
    for i, v in enumerate(table["variant"] if not table.empty else []):
        vals = d[d["variant"] == v]["gbps"]
        ax.bar(i, vals.median(), color="C0" if v.endswith("linux") else "C1")
        ax.plot([i] * len(vals), vals, "k.", ms=4)
        r = table[table["variant"] == v]["vs_linux"].iloc[0]
        ax.annotate(f"{vals.median():.2f}\n({r:.2f}x)", (i, vals.median()),
                    textcoords="offset points", xytext=(0, 4), ha="center", fontsize=8)
    if table.empty:
        ax.text(0.5, 0.5, "no successful runs", ha="center", va="center",
                transform=ax.transAxes)
    else:
        ax.set_ylim(0, float(d["gbps"].max()) * 1.2)  # room for the labels over the bars
    ax.set_xticks(range(len(table)), list(table["variant"]), fontsize=8)
    ax.set_ylabel("Gbit/s (median; dots: runs)")
    ax.set_title(exp.title, fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
    save(fig, path)


CLAIMS = (
    Claim("-",
          "(no thesis figure: our own check of the stack's bulk paths over one veth)",
          Ratio("rx-aatcp", "rx-linux", metric="gbps",
                label="receive: our stack (copy) / Linux"),
          explanation="DPDK's net_af_packet on a veth copies every frame through the "
          "kernel's packet socket; Linux's own TCP on the veth does not."),
    Claim("-", "(no thesis figure)",
          Ratio("tx-aatcp", "tx-linux", metric="gbps", label="send: our stack / Linux"),
          explanation="As for receive, the AF_PACKET path limits our send."),
)


EXPERIMENT = Experiment(
    name="bulk",
    claims=CLAIMS,
    minutes=(2, 1),
    title="Bulk throughput over one veth: aatcp (copy / zero-copy) vs Linux<->Linux",
    description=__doc__ or "",
    roles=("dut", "client"),
    variants=VARIANTS,
    needs={"rx-aatcp-zc": ("zc",)},
    sweep={"mbytes": [512]},
    fixed={"buf_kb": 256, "sndbuf_kb": 4096},
    metrics=("gbps",),
    repetitions=5,
    warmup=1,
    quick=Quick(sweep={"mbytes": [64]}, repetitions=1, warmup=0),
    run=run,
    plot=plot,
    setup=setup,
    xlabel="MB per run",
    ylabel="Gbit/s",
)

