"""Chapter 4 (application-aware record streams) plumbing shared by the
experiments `fig4_2`, `fig4_5` and `fig4_9`: a Linux server endlessly
sending records (apps/linux/answer_server, thesis 4.2.3 / 4.3.3: one chunk
built in RAM, large writes) on `server`, a record reader on `dut` for a
fixed time: apps/aa_reader on the stack (the application-aware module, the
standard path with the same parse in the application, or figure 4.2's
dummy loop in either thread), or apps/linux/aa_lreader (Linux sockets, the
same parse).

CPU placement (2-core lab machines), the same for every variant:
  core 0  the receiver: the whole aa_reader process is `taskset -c 0`, so
          its application thread shares core 0 with the stack's network
          thread (pinned there by mtcp_create_context(0)), as mTCP pins an
          application thread to its network thread's core; the stack polls
          (idle_sleep_us = 0, as mTCP). aa_lreader likewise on core 0.
  core 1  answer_server (PEERS_CPU).
Kernel softirq work of the veths runs on the sending thread's core: the
server's TCP send path and the frames into our af_packet socket on core 1;
for the Linux variant the receiver's kernel TCP processing (veth delivery
happens in the sender's softirq) runs on core 1 too, so Linux gets that part
of the receive work off core 0 - it is favoured, not handicapped.

Every run measures throughput (stream bytes after a warm-up, `measured_gbps`
of the reader's JSON) and returns the reader's counters; stack runs also
check mbufs_in_use == 0 at exit.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from aatcp.dutrun import require_json_line, run_once, run_paths, stats_problems, without_port
from aatcp.errors import ToolkitError
from aatcp.runner import RunContext
from experiments._ch5 import (
    ANSWER_PORT,
    EXPERIMENT_STACK,
    PEERS_CPU,
    Ch5Lab,
    cores_config,
    steered_fraction,
)

#: the receiver's core (see the module's docstring)
RECEIVER_CPU = 0

#: The receive buffer of the record variants (`aa_reader -b`): the same bytes
#: may wait on every path. The standard path has the lab's 64 KB socket buffer
#: and reads up to 256 KB at a time into its own buffer (aa_reader's STD_BUF),
#: where it parses them with the window open again; zero-copy records keep
#: their packets in the socket buffer until the application frees them, so the
#: record variants get both as their receive buffer. (Linux sockets autotune
#: theirs, up to tcp_rmem's maximum.)
RECORDS_RCVBUF = 64 * 1024 + 256 * 1024


def with_records_rcvbuf(args: Mapping[str, Sequence[str]],
                        record_variants: Sequence[str]) -> dict[str, list[str]]:
    """`args` (variant -> aa_reader arguments) with `-b RECORDS_RCVBUF` added to the
    record variants. One connection only: with many, the sum of such windows
    overflows the AF_XDP receive ring of labs/local-rss.yml (fig4_6 and fig4_10
    with them: out-of-order segments from the drops, and up to 2.3x slower at 8
    connections), so the scaling experiments keep the lab's buffer."""
    return {v: [*a, *(["-b", str(RECORDS_RCVBUF)] if v in record_variants else [])]
            for v, a in args.items()}


def setup(ctx: RunContext) -> None:
    ctx.state["ch"] = Ch5Lab(ctx.lab)


def stack_overrides(ch: Ch5Lab, extra: Mapping[str, Any] | None = None,
                    cores: int = 1) -> dict[str, Any]:
    """The stack polls (as mTCP) and drives only its port towards the server,
    with `cores` network threads (a queue pair each on that port)."""
    srv, cli = ch.port_names()
    ov: dict[str, Any] = {**EXPERIMENT_STACK, **without_port(cli)}
    if cores > 1:
        ov.update(cores_config(ch, srv, cores))
    ov.update(extra or {})
    return ov


def receiver_cpus(cores: int) -> str:
    """The CPUs of a receiver with `cores` network threads: RECEIVER_CPU and the
    next ones (the experiments' peers share them when there are not enough)."""
    return ",".join(str(RECEIVER_CPU + i) for i in range(cores))


def run_stack_reader(ch: Ch5Lab, args: Sequence[str], timeout: float,
                     name: str = "aa_reader", cores: int = 1) -> dict[str, Any]:
    """aa_reader on the dut, pinned to receiver_cpus(cores), in one SSH command
    (config in, stats out). Returns its JSON report plus `mbufs_in_use` and
    `steered_frac`; raises on a failed run or leaked packet buffers."""
    conf, stats = run_paths(ch.dut, name)
    ov = stack_overrides(ch, {"stats_file": str(stats)}, cores)
    command = (f"taskset -c {receiver_cpus(cores)} aa_reader "
               + " ".join(shlex.quote(a) for a in args) + f" -f {conf}")
    r, out, st = run_once(ch.dut, command, conf, ch.stack_conf(ov), stats, timeout)
    if r.rc != 0:
        raise ToolkitError(f"`{command}`: rc {r.rc}; stderr: {r.stderr[-1500:]}")
    rep = require_json_line(out)
    rep["mbufs_in_use"] = st.get("mbufs_in_use")
    rep["steered_frac"] = steered_fraction(st)
    leaks = [p for p in stats_problems(st) if p.startswith("mbufs_in_use")]
    if leaks:
        raise ToolkitError(f"`{command}`: {leaks[0]} at exit")
    return rep


def run_linux_reader(ch: Ch5Lab, args: Sequence[str], timeout: float) -> dict[str, Any]:
    """aa_lreader on the dut's kernel stack (its kernel address on the server
    link), pinned to RECEIVER_CPU."""
    command = (f"taskset -c {RECEIVER_CPU} aa_lreader -s {ch.dut_kernel_srv} "
               + " ".join(shlex.quote(a) for a in args))
    r = ch.dut.run(command, timeout=timeout, check=False)
    if r.rc != 0:
        raise ToolkitError(f"`{command}`: rc {r.rc}; stderr: {r.stderr[-1500:]}")
    return require_json_line(r.stdout)


def measure(ctx: RunContext, server_args: str, variant_args: Mapping[str, Sequence[str]],
            variant: str, seconds: float, warmup_s: float, conns: int = 1,
            cores: int = 1) -> dict[str, Any]:
    """One run: answer_server with `server_args` on PEERS_CPU, then the reader of
    `variant` (`linux` runs aa_lreader, any other aa_reader) with its arguments
    for `seconds` (throughput measured after `warmup_s`); aa_reader opens
    `conns` connections spread over `cores` network threads. Returns the
    metrics."""
    ch: Ch5Lab = ctx.state["ch"]
    srv = ch.start_answer_server(server_args, port=ANSWER_PORT, cpu=PEERS_CPU,
                                 name="ch4answer")
    timing = ["-q", "-t", f"{seconds:g}", "-W", f"{warmup_s:g}", "-T", f"{seconds + 30:g}"]
    target = ["-c", f"{ch.server_ip}:{ANSWER_PORT}"]
    if conns > 1 or cores > 1:
        target += ["-k", str(conns), "-N", str(cores)]
    try:
        if variant == "linux":
            rep = run_linux_reader(ch, [*target, *variant_args[variant], *timing],
                                   timeout=seconds + 60)
        else:
            rep = run_stack_reader(ch, [*target, *variant_args[variant], *timing],
                                   timeout=seconds + 60, cores=cores)
    finally:
        srv.stop()
    if rep.get("errors"):
        raise ToolkitError(f"error records: {rep['errors']}")
    if not rep.get("time_up"):
        raise ToolkitError(f"the reader stopped before its time: {rep}")
    keep = ("gbps", "bytes", "seconds", "records_per_s", "records", "csv_lines", "responses",
            "bodies", "packets", "measured_seconds", "mbufs_in_use", "steered_frac",
            "per_core")
    out = {k: rep[k] for k in keep if k in rep}
    out["measured_gbps"] = rep["measured_gbps"]
    return out
