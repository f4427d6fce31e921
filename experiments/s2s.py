"""Stack to stack over shared memory: two (or three) aatcp processes joined by
DPDK `net_memif` ports, no kernel in the data path, vs Linux<->Linux over
loopback on the same cores (issue 14).

One connection moves `mbytes` MB from `source` to `sink`, every process a
DPDK primary of its own (its own --file-prefix, --no-huge) on the lab's dut
host; the memif control sockets are files in the dut's `run/` folder:

- aatcp          source -> sink (mtcp_read into the application's buffer)
- aatcp-zc       source -> sink -z (zero-copy read, thesis 3.2.2)
- aatcp-splice   source -> proxy -m splice -> sink: three processes, the
                 proxy with two memif ports, splicing (thesis figure 5.3)
- linux          tests/e2e/peers/core_peer.py `blast` -> `drain` over the
                 dut's loopback, the kernel's defaults (MTU 64 KB, TSO/GSO/GRO)
- linux-1500     the same with the loopback set to MTU 1500 and TSO, GSO and
                 GRO off for the run (restored after it): 1448-byte segments
                 like the stacks', so ns per segment compares like with like

Each memif link has a server end (the process started first: sink, then the
proxy's port towards the source) and a client end. The stacks use static ARP
entries (the memif ports' MACs are set in the vdev arguments).

CPU placement (2-core lab machine): the sending side on core 0, the
receiving side on core 1 (`taskset -c`, and `core_mask` puts the stack's
network thread on the same core as its application thread: one core per
process, as in mTCP). Linux's `blast` runs on core 0 and `drain` on core 1;
on loopback the kernel runs the receive processing (softirq) on the
sender's core, so Linux uses the same two cores. The splice case has three
processes on two cores: source and sink share core 0 (their network
threads sleep 20 us after 64 empty polls, `idle_sleep_us`, so that the one
with work gets the core), the proxy has core 1 to itself.

Why loopback is the fair Linux peer: it is what two processes on one
machine use without a NIC, the kernel's fastest TCP path (no checksums, no
device queue, buffers autotuned). With its defaults (`linux`, the baseline
of the claims) it moves 64 KB segments through GSO/GRO while the stacks
move 1500-byte frames (memif buffers are 2 KB) with software checksums;
`linux-1500` is the kernel doing the stacks' per-segment work. `gbps`
(receiver: first byte to the end) and `ns_per_mss` (ns per 1448 bytes of
payload, the stacks' segment) compare all at equal payload; `ns_per_seg` is
per segment each side actually sent (the stack's `tcp_tx_data_segs`,
Linux's TCP_INFO `tcpi_data_segs_out`, with `mss` beside it). The loopback
change is made in the dut's network namespace on the local lab; on a real
dut host it changes the machine's `lo` for the length of one run.

CPU: `cyc_per_byte` is every process's CPU per byte moved at the TSC rate:
for the stacks the network threads' busy poll-loop cycles (stats file
`busy_tsc`, idle polls left out) plus the application threads' CPU time;
for Linux both processes' user + system time (the kernel's TCP work in
their context included).

Checks: each variant's warm-up run hashes the stream at both ends (SHA-256
in source and sink) and fails unless they match; measured runs skip the
hash (it costs more than the transfer) and check the byte count. After
every stack run each process's stats file must show mbufs_in_use == 0 and
tcbs_in_use == 0, and `tx_full` (own frames dropped at a full TX ring) is
recorded. tests/e2e/test_s2s_memif.py checks the same paths with hashes.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.dutrun import core_counter, core_drops, read_stats, require_json_line, stats_problems
from aatcp.errors import ToolkitError
from aatcp.plot import measured, plt, save
from aatcp.remote import Host
from aatcp.runner import Experiment, Point, Quick, RunContext

PEER = Path(__file__).resolve().parent.parent / "tests" / "e2e" / "peers" / "core_peer.py"
PORT = 5700
SEND_CPU = 0
RECV_CPU = 1
VARIANTS = ("aatcp", "aatcp-zc", "aatcp-splice", "linux", "linux-1500")
BASELINE = "linux"
#: lo's offloads the linux-1500 variant turns off (ethtool -k name -> -K name)
LO_OFFLOADS = {"tcp-segmentation-offload": "tso", "generic-segmentation-offload": "gso",
               "generic-receive-offload": "gro"}
#: the stacks' payload per segment (1500-byte MTU, timestamps on)
MSS = 1448
#: idle_sleep_us of the processes that share a core in the splice case
SHARED_IDLE_SLEEP_US = 20
#: keys every process of a run gets: no TIME_WAIT (the source closes first;
#: a connection in TIME_WAIT holds mtcp_destroy() 2 s, and nothing reuses
#: the 4-tuple: every run takes a fresh port)
RUN_KEYS = {"tcp_timewait": 0}


# --------------------------------------------------------------------------- memif topology
# (also used by tests/e2e/test_s2s_memif.py)

@dataclass(frozen=True)
class MemifEnd:
    """One end of a memif link: link number, and 1 (server) or 2 (client)."""

    link: int
    side: int

    @property
    def ip(self) -> str:
        return f"10.77.{self.link}.{self.side}"

    @property
    def mac(self) -> str:
        return f"02:00:00:77:{self.link:02x}:{self.side:02x}"

    @property
    def peer(self) -> MemifEnd:
        return MemifEnd(self.link, 3 - self.side)


def memif_ports(run_dir: PurePosixPath, ends: Mapping[str, MemifEnd]) -> dict[str, str]:
    """Stack config keys (docs/config.md) of one process's memif ports, by
    port name: device (net_memifN, the link's socket file, role, MAC), address
    and a static ARP entry for the other end."""
    keys: dict[str, str] = {}
    for i, (name, e) in enumerate(ends.items()):
        role = "server" if e.side == 1 else "client"
        sock = run_dir / f"s2s-link{e.link}.sock"
        keys[f"port.{name}.device"] = (f"net_memif{i},role={role},id=0,socket={sock},"
                                       f"socket-abstract=no,mac={e.mac}")
        keys[f"port.{name}.ip"] = f"{e.ip}/24"
        keys[f"arp.{e.peer.ip}"] = e.peer.mac
    return keys


@dataclass(frozen=True)
class Topology:
    """Which memif ends each process has: source -> sink directly (link 1), or
    source -> proxy (link 1) and proxy -> sink (link 2). Servers are the
    ends started first (sink, then proxy)."""

    proxy: bool

    def ends(self, program: str) -> dict[str, MemifEnd]:
        if program == "source":
            return {"up": MemifEnd(1, 2)}
        if program == "sink":
            return {"down": MemifEnd(2 if self.proxy else 1, 1)}
        if program == "proxy" and self.proxy:
            return {"src": MemifEnd(1, 1), "dst": MemifEnd(2, 2)}
        raise ValueError(f"no {program} in this topology")

    def keys(self, program: str, run_dir: PurePosixPath) -> dict[str, str]:
        return memif_ports(run_dir, self.ends(program))

    @property
    def sink_ip(self) -> str:
        return MemifEnd(2 if self.proxy else 1, 1).ip

    @property
    def source_target(self) -> str:
        """The address the source connects to (the sink's, or the proxy's)."""
        return MemifEnd(1, 1).ip

    @property
    def programs(self) -> tuple[str, ...]:
        """In start order: servers of a link before its clients."""
        return ("sink", "proxy", "source") if self.proxy else ("sink", "source")


def render(keys: Mapping[str, Any]) -> str:
    return "".join(f"{k} = {v}\n" for k, v in keys.items())


# --------------------------------------------------------------------------- runs


def setup(ctx: RunContext) -> None:
    dut = ctx.lab.by_role("dut")
    dut.run("mkdir -p peers conf run", timeout=10)
    dut.put(PEER, "peers/core_peer.py", mode=0o755)
    ctx.state.update(dut=dut, port=PORT)


def _placement(variant: str) -> dict[str, int]:
    if variant == "aatcp-splice":
        return {"source": SEND_CPU, "sink": SEND_CPU, "proxy": RECV_CPU}
    return {"source": SEND_CPU, "sink": RECV_CPU}


def stack_confs(ctx: RunContext, variant: str) -> dict[str, str]:
    """Each process's config text for `variant` (stats files in run/)."""
    dut: Host = ctx.state["dut"]
    topo = Topology(proxy=variant == "aatcp-splice")
    buf = int(ctx.experiment.fixed["buf_kb"]) * 1024
    run_dir = dut.workdir / "run"
    out = {}
    for prog, cpu in _placement(variant).items():
        keys: dict[str, Any] = {**topo.keys(prog, run_dir), **RUN_KEYS,
                                "rcvbuf": buf, "sndbuf": buf,
                                "core_mask": f"{1 << cpu:x}",
                                "stats_file": run_dir / f"s2s-{prog}.stats.json"}
        sleep = int(ctx.experiment.fixed["idle_sleep_us"])
        if topo.proxy and prog != "proxy":
            sleep = max(sleep, SHARED_IDLE_SLEEP_US)
        keys["idle_sleep_us"] = sleep
        out[prog] = render(keys)
    return out


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    s = ctx.state
    nbytes = int(p["mbytes"]) << 20
    s["port"] += 1  # a fresh port per run: no TIME_WAIT leftovers in the way
    if p.variant == "linux-1500":
        with small_loopback(s["dut"]):
            return _run_linux(s["dut"], s["port"], nbytes)
    if p.variant == BASELINE:
        return _run_linux(s["dut"], s["port"], nbytes)
    return _run_stacks(ctx, p.variant, s["port"], nbytes, hashed=p.warmup)


@contextmanager
def small_loopback(host: Host) -> Iterator[None]:
    """`lo` at MTU 1500 with TSO, GSO and GRO off (1448-byte segments, as the
    stacks'); its MTU and offloads as they were afterwards, whatever happened."""
    r = host.run("cat /sys/class/net/lo/mtu && ethtool -k lo", timeout=10)
    mtu = int(r.stdout.split()[0])
    was = {LO_OFFLOADS[k.strip()]: v.split()[0] for k, _, v in
           (ln.partition(":") for ln in r.stdout.splitlines()) if k.strip() in LO_OFFLOADS}
    host.run("ip link set lo mtu 1500 && ethtool -K lo " +
             " ".join(f"{k} off" for k in LO_OFFLOADS.values()), timeout=10)
    try:
        yield
    finally:
        host.run(f"ip link set lo mtu {mtu}; ethtool -K lo " +
                 " ".join(f"{k} {v}" for k, v in was.items()), timeout=10, check=False)


def _timeout(nbytes: int) -> float:
    return 60 + nbytes * 8 / 100e6  # at least 100 Mbit/s, or something is wrong


def one_session(host: Host, servers: Sequence[tuple[str, str, str]], client: tuple[str, str],
                timeout: float) -> dict[str, dict[str, Any]]:
    """Run one transfer from a single shell on `host`: each server (name,
    command, text it prints on stderr when ready) in the background, one
    after the other, then the client (name, command) in the foreground, then
    wait for the servers (at most 60 s each). Returns each program's JSON
    line. One shell, so one session: with the kernel's autogroup scheduling
    (Debian's default) every session is a scheduling group of its own, and
    the stacks' processes started as separate sessions (as Host.start does)
    moved 1.7 instead of 12.5 Gbit/s on the shared 2-core machine, the same
    commands otherwise (docs/datapath-performance.md)."""
    q = shlex.quote
    # the old .err files go first: a ready text left in one by the last run
    # would start the client before its server listens
    lines = ["rm -f run/s2s-*.sock run/s2s-*.stats.json run/s2s-*.out run/s2s-*.err run/s2s-rc"]
    for i, (name, cmd, ready) in enumerate(servers):
        lines += [f"( exec {cmd} ) > run/s2s-{name}.out 2> run/s2s-{name}.err & p{i}=$!",
                  f"n=0; until grep -qF {q(ready)} run/s2s-{name}.err; do "
                  f"kill -0 $p{i} 2>/dev/null || break; n=$((n+1)); [ $n -gt 1500 ] && break; "
                  "sleep 0.02; done"]
    name, cmd = client
    lines.append(f"{cmd} > run/s2s-{name}.out 2> run/s2s-{name}.err; "
                 f"echo {name} $? >> run/s2s-rc")
    for i, (sname, _, _) in enumerate(servers):
        lines.append(f"n=0; while kill -0 $p{i} 2>/dev/null && [ $n -lt 1200 ]; do sleep 0.05; "
                     f"n=$((n+1)); done; kill -KILL $p{i} 2>/dev/null; wait $p{i}; "
                     f"echo {sname} $? >> run/s2s-rc")
    host.run("\n".join(lines), timeout=timeout + 60 * len(servers) + 40)
    rcs = dict(ln.split() for ln in host.run("cat run/s2s-rc", timeout=10).stdout.splitlines())
    out: dict[str, dict[str, Any]] = {}
    for prog in [client[0], *(x[0] for x in servers)]:  # the client's failure first
        r = host.run(f"cat run/s2s-{prog}.out; printf '\\0'; tail -c 1500 run/s2s-{prog}.err",
                     timeout=10, check=False)
        stdout, _, stderr = r.stdout.partition("\0")
        if rcs.get(prog) != "0":
            raise ToolkitError(f"{host.name}: {prog} exited {rcs.get(prog)}: {stderr}")
        out[prog] = require_json_line(stdout)
    return out


def _run_linux(dut: Host, port: int, nbytes: int) -> dict[str, Any]:
    peer = "python3 peers/core_peer.py"
    o = one_session(dut, [("drain", f"taskset -c {RECV_CPU} {peer} drain {port}",
                           "core_peer: listening")],
                    ("blast", f"taskset -c {SEND_CPU} {peer} blast 127.0.0.1 {port} {nbytes}"),
                    _timeout(nbytes))
    got, sent = o["drain"], o["blast"]
    if got.get("bytes") != nbytes or sent.get("bytes") != nbytes:
        raise ToolkitError(f"linux: moved {sent.get('bytes')} / {got.get('bytes')} bytes, "
                           f"expected {nbytes}")
    # tsc_hz: none here; ratios() turns Linux's CPU seconds into cycles at
    # the rate the stack runs reported
    return {"gbps": got["gbps"], "seconds": got["seconds"], "bytes": nbytes,
            "segs": int(sent.get("data_segs_out", 0)), "mss": int(sent.get("snd_mss", 0)),
            "cpu_s": float(sent["cpu_s"]) + float(got["cpu_s"]), "hashed": False}


def _run_stacks(ctx: RunContext, variant: str, port: int, nbytes: int,
                hashed: bool) -> dict[str, Any]:
    dut: Host = ctx.state["dut"]
    topo = Topology(proxy=variant == "aatcp-splice")
    cpus = _placement(variant)
    confs = stack_confs(ctx, variant)
    for prog, text in confs.items():
        dut.write_file(f"conf/s2s-{prog}.conf", text)
    q = "" if hashed else " -q"
    z = " -z" if variant == "aatcp-zc" else ""
    servers = [("sink", f"taskset -c {cpus['sink']} sink -f conf/s2s-sink.conf -l {port}{z}{q}",
                "listening on port")]
    if topo.proxy:
        servers.append(("proxy", f"taskset -c {cpus['proxy']} proxy -f conf/s2s-proxy.conf "
                        f"-l {port} -m splice -b {topo.sink_ip}:{port} -n 1",
                        "listening on port"))
    outs = one_session(dut, servers, ("source", f"taskset -c {cpus['source']} source -f "
                                      f"conf/s2s-source.conf -c {topo.source_target}:{port} "
                                      f"-n {nbytes}{q}"), _timeout(nbytes))
    got, sent = outs["sink"], outs["source"]
    if got.get("bytes") != nbytes or sent.get("bytes") != nbytes:
        raise ToolkitError(f"{variant}: moved {sent.get('bytes')} / {got.get('bytes')} bytes, "
                           f"expected {nbytes}")
    if hashed and got.get("sha256") != sent.get("sha256"):
        raise ToolkitError(f"{variant}: SHA-256 differs: sent {sent.get('sha256')}, "
                           f"received {got.get('sha256')}")
    stats = {prog: read_stats(dut, f"run/s2s-{prog}.stats.json") for prog in confs}
    bad = [f"{prog}: {why}" for prog, st in stats.items() for why in stats_problems(st)]
    if bad:
        raise ToolkitError(f"{variant}: " + "; ".join(bad))
    hz = float(stats["source"].get("tsc_hz") or 0)
    cpu = 0.0
    for prog, st in stats.items():
        cpu += (core_counter(st, "busy_tsc") / hz if hz else float("nan"))
        cpu += float(outs[prog].get("app_cpu_s", 0.0))
    segs = core_counter(stats["source"], "tcp_tx_data_segs")
    return {"gbps": got["gbps"], "seconds": got["seconds"], "bytes": nbytes,
            "segs": segs, "mss": MSS,
            "retransmits": sum(core_counter(st, "retransmits") for st in stats.values()),
            "splice_segs": core_counter(stats.get("proxy", {}), "splice_segs"),
            "tx_full": sum(core_drops(st, "tx_full") for st in stats.values()),
            "cpu_s": cpu, "tsc_hz": hz, "hashed": hashed, **phase_cycles(stats, segs)}


#: the network thread's cycles by loop phase (stats file, docs/datapath-performance.md)
PHASES = ("rx", "cmd_timer", "output", "flush", "events", "busy", "idle")


def phase_cycles(stats: Mapping[str, Mapping[str, Any]], segs: int) -> dict[str, float]:
    """Each process's network-thread cycles per data segment, by loop phase:
    `<process>_<phase>_cps` (busy = the sum of the phases; idle polls apart)."""
    out: dict[str, float] = {}
    for prog, st in stats.items():
        for ph in PHASES:
            out[f"{prog}_{ph}_cps"] = core_counter(st, f"{ph}_tsc") / segs if segs else \
                float("nan")
    return out


# --------------------------------------------------------------------------- results


def ratios(df: pd.DataFrame) -> pd.DataFrame:
    """Per variant, medians over the repetitions: Gbit/s and its ratio to
    Linux's; ns per segment sent (each side's own segment size) and per MSS
    (1448 bytes of payload); CPU cycles per byte (all processes) and their
    ratio to Linux's; tx_full summed."""
    d = measured(df)
    cols = ["variant", "runs", "gbps", "vs_linux", "ns_per_seg", "mss", "ns_per_mss",
            "cyc_per_byte", "cpu_vs_linux", "tx_full"]
    if d.empty:
        return pd.DataFrame(columns=cols)
    hz = float(d["tsc_hz"].median()) if "tsc_hz" in d and d["tsc_hz"].notna().any() \
        else float("nan")
    d = d.assign(ns_per_seg=d["seconds"] * 1e9 / d["segs"].where(d["segs"] > 0),
                 ns_per_mss=d["seconds"] * 1e9 * MSS / d["bytes"],
                 cyc_per_byte=d["cpu_s"] * hz / d["bytes"])
    med = d.groupby("variant").median(numeric_only=True)
    runs = d.groupby("variant")["gbps"].count()
    full = d.groupby("variant")["tx_full"].sum(min_count=1) if "tx_full" in d else None
    base = med.loc[BASELINE] if BASELINE in med.index else None
    rows = []
    for v in VARIANTS:
        if v not in med.index:
            continue
        m = med.loc[v]
        nfull = full.loc[v] if full is not None and v in full.index else float("nan")
        rows.append({"variant": v, "runs": int(runs.loc[v]), "gbps": float(m["gbps"]),
                     "vs_linux": float(m["gbps"] / base["gbps"]) if base is not None
                     else float("nan"),
                     "ns_per_seg": float(m["ns_per_seg"]), "mss": int(m["mss"]),
                     "ns_per_mss": float(m["ns_per_mss"]),
                     "cyc_per_byte": float(m["cyc_per_byte"]),
                     "cpu_vs_linux": float(m["cyc_per_byte"] / base["cyc_per_byte"])
                     if base is not None else float("nan"),
                     "tx_full": None if pd.isna(nfull) else int(nfull)})
    return pd.DataFrame(rows, columns=cols)


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    table = ratios(df)
    print(f"\n{exp.name}: one connection, medians over repetitions (receiver's Gbit/s)")
    for _, r in table.iterrows():
        full = "" if r["tx_full"] is None or pd.isna(r["tx_full"]) else \
            f"   tx_full {int(r['tx_full'])}"
        print(f"  {r['variant']:<13} {r['gbps']:7.3f} Gbit/s  {r['vs_linux']:5.2f} x Linux   "
              f"{r['ns_per_mss']:7.1f} ns per {MSS} B   {r['ns_per_seg']:9.1f} ns per segment "
              f"of {r['mss']} B   cpu {r['cyc_per_byte']:5.2f} c/B ({r['cpu_vs_linux']:4.2f} x "
              f"Linux's)   ({r['runs']} runs){full}")
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4.5))
    d = measured(df)
    for i, v in enumerate(table["variant"] if not table.empty else []):
        row = table[table["variant"] == v].iloc[0]
        vals = d[d["variant"] == v]["gbps"]
        color = "C0" if v.startswith("linux") else "C1"
        ax.bar(i, row["gbps"], color=color)
        ax.plot([i] * len(vals), vals, "k.", ms=4)
        ax.annotate(f"{row['gbps']:.2f}\n({row['vs_linux']:.2f}x)\n{row['ns_per_mss']:.0f} ns",
                    (i, row["gbps"]), textcoords="offset points", xytext=(0, 4), ha="center",
                    fontsize=8)
        bx.bar(i, row["cyc_per_byte"], color=color)
        bx.annotate(f"{row['cyc_per_byte']:.2f}", (i, row["cyc_per_byte"]),
                    textcoords="offset points", xytext=(0, 4), ha="center", fontsize=8)
    for a in (ax, bx):
        a.set_xticks(range(len(table)), list(table["variant"]), fontsize=8)
        a.grid(True, axis="y", alpha=0.3)
        if table.empty:
            a.text(0.5, 0.5, "no successful runs", ha="center", va="center",
                   transform=a.transAxes)
    if not table.empty:
        ax.set_ylim(0, float(d["gbps"].max()) * 1.3)
        bx.set_ylim(0, float(table["cyc_per_byte"].max()) * 1.2)
    ax.set_ylabel("Gbit/s (median; dots: runs)")
    ax.set_title(f"stack to stack over memif vs Linux loopback\n(label: Gbit/s, x Linux, "
                 f"ns per {MSS} B)", fontsize=9)
    bx.set_ylabel("CPU cycles per byte")
    bx.set_title("CPU of all processes per byte moved", fontsize=9)
    save(fig, path)


_WHY = ("Linux's loopback moves 64 KB segments (GSO/GRO) without checksums; the stacks "
        "move 1448-byte segments with software checksums through net_memif, which copies "
        "each frame into and out of the shared ring (docs/datapath-performance.md).")

CLAIMS = (
    Claim("-", "(no thesis figure: issue 14 asks for >= 3x Linux<->Linux on the same cores)",
          Ratio("aatcp", "linux", metric="gbps",
                label="stack to stack over memif (copy) / Linux over loopback"),
          explanation=_WHY),
    Claim("-", "(no thesis figure)",
          Ratio("aatcp-zc", "linux", metric="gbps",
                label="stack to stack, zero-copy receive / Linux over loopback"),
          explanation=_WHY),
    Claim("-", "(no thesis figure)",
          Ratio("aatcp", "linux-1500", metric="gbps",
                label="stack to stack (copy) / Linux loopback at 1448-byte segments "
                "(per segment)"),
          explanation="Both move 1448-byte segments: the ratio of ns per segment. The "
          "stacks' software checksums and memif's two copies per frame against the "
          "kernel's loopback, which checksums nothing and passes the buffer."),
    Claim("-", "(no thesis figure)",
          Ratio("aatcp-splice", "linux", metric="gbps",
                label="through a splicing proxy (3 processes, 2 cores) / Linux direct"),
          explanation="Three processes share two cores; " + _WHY),
)


EXPERIMENT = Experiment(
    name="s2s",
    claims=CLAIMS,
    minutes=(2, 1),
    title="Stack to stack over net_memif (copy, zero-copy, splice proxy) vs Linux loopback",
    description=__doc__ or "",
    roles=("dut",),
    variants=VARIANTS,
    needs={"aatcp-zc": ("zc",), "aatcp-splice": ("zc", "aa", "fwd")},  # the proxy: apps/meson.build
    sweep={"mbytes": [512]},
    fixed={"buf_kb": 256, "idle_sleep_us": 0},
    metrics=("gbps",),
    repetitions=5,
    warmup=1,
    quick=Quick(sweep={"mbytes": [64]}, repetitions=1, warmup=1),
    run=run,
    plot=plot,
    setup=setup,
    xlabel="MB per run",
    ylabel="Gbit/s",
)
