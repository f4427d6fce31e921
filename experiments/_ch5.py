"""Chapter 5 (zero-copy forwarding) plumbing shared by the experiments
`table5_*`/`fig5_*` and the end-to-end tests `tests/e2e/test_proxy_*.py`.

The thesis' middlebox testbed on a lab: a Linux server (nginx, answer_server)
on `server`, the stack's `proxy` on `dut`, Linux clients (curl, wget, lsink,
nc) on `client`, plus the direct server<->client link for the baselines.

    ch5 = Ch5Lab(lab)
    with ch5.proxy(mode="splice", backend="10.0.1.1:80") as px:  # started, ready
        ch5.client.run(f"curl -s -o f http://{ch5.proxy_ip}:{PROXY_PORT}/f")
    px.result.check_clean()            # mbufs_in_use == 0, tcbs_in_use == 0

CPU placement (2-core lab machines): `MIDDLEBOX_CPU` runs the middlebox (the
stack's network thread is pinned to core 0 by mtcp_create_context(0), the
proxy process is `taskset` to it as a whole; HAProxy likewise), `PEERS_CPU`
runs the Linux endpoints (server and client programs). The local lab steers
the Linux hosts' receive processing to the CPUs other than 0 (RPS, see
docs/local-lab-cpus.md), so what the middlebox core does is the middlebox's
work; HAProxy's own receive processing on the dut's kernel stays on its core.
"""

from __future__ import annotations

import csv
import io
import shlex
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from aatcp.dutrun import (
    ASAN_ENV,
    StackConfig,
    asan_env,
    core_counter,
    core_drops,
    deploy_asan,
    parse_json_line,
    read_stats,
    require_json_line,
    stack_port_towards,
    stats_problems,
    taskset,
    wait_listening,
    wait_stderr,
)
from aatcp.errors import ToolkitError
from aatcp.lab import Lab
from aatcp.remote import Background, Host
from aatcp.runner import RunContext
from experiments._common import cycles_per_byte, stack_cpu, tsc_rate

PROXY_PORT = 8080
NGINX_PORT = 80
ANSWER_PORT = 9000
HASH_PORT = 8000
HAPROXY_PORT = 8081
MIDDLEBOX_CPU = 0
PEERS_CPU = 1

#: The proxy's sanitizer runs: ASAN_ENV without strict_string_checks, as the
#: proxy's tests have always run (the e2e programs' runs use ASAN_ENV as is).
PROXY_ASAN_ENV = {**ASAN_ENV, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=23"}


@dataclass
class ProxyResult:
    """What a stopped proxy left: its JSON line, the stack's stats file, alpha samples."""

    rc: int | None
    stdout: str
    stderr: str
    report: dict[str, Any]
    stats: dict[str, Any]
    alpha: list[dict[str, float]] = field(default_factory=list)

    def check_clean(self) -> None:
        """The proxy exited 0 and the stack gave every packet buffer and TCB back
        (docs/design.md "Invariants": tests require 0)."""
        if not self.stats:
            raise AssertionError(f"proxy wrote no stats file (rc {self.rc}); stderr:\n"
                                 f"{self.stderr[-3000:]}")
        bad = stats_problems(self.stats)
        if self.rc != 0:
            bad.append(f"exit status {self.rc} (0 after SIGTERM or -n)")
        if bad:
            raise AssertionError("proxy not clean: " + ", ".join(bad) + "\nstderr:\n"
                                 + self.stderr[-3000:])

    def counter(self, name: str) -> int:
        return core_counter(self.stats, name)

    def drops(self, reason: str) -> int:
        return core_drops(self.stats, reason)

    def max_b(self) -> int:
        return max((int(s["b"]) for s in self.alpha), default=0)


class Proxy:
    """One run of apps/proxy on the dut (see apps/proxy.c for the flags)."""

    def __init__(self, ch5: Ch5Lab, name: str, mode: str = "splice", http: bool = False,
                 backend: str | None = None, overrides: Mapping[str, Any] | None = None,
                 alpha: bool = False, cpu: int | None = None, asan: bool = False,
                 max_conns: int = 0) -> None:
        self.ch5 = ch5
        self.host = ch5.dut
        self.name = name
        self.conf = PurePosixPath("conf") / f"{name}.conf"
        self.stats = PurePosixPath("run") / f"{name}.stats.json"
        self.alpha = PurePosixPath("run") / f"{name}.alpha.csv" if alpha else None
        self.asan = asan
        ov: dict[str, Any] = {"stats_file": str(self.host.workdir / self.stats)}
        ov.update(overrides or {})
        self.conf_text = ch5.stack_conf(ov)
        prog = "asan/bin/proxy" if asan else "proxy"
        args = [prog, "-f", str(self.conf), "-l", str(PROXY_PORT), "-m", mode,
                "-b", backend or f"{ch5.server_ip}:{NGINX_PORT}"]
        if http:
            args.append("-H")
        if self.alpha:
            args += ["-a", str(self.alpha)]
        if max_conns:
            args += ["-n", str(max_conns)]
        # exec: the proxy itself, not a shell around it, gets stop()'s SIGTERM
        # and its exit status is the one recorded (Host.start)
        self.command = "exec " + taskset(cpu) + " ".join(shlex.quote(a) for a in args)
        self.bg: Background | None = None
        self.result: ProxyResult | None = None

    def start(self, timeout: float = 30.0) -> Proxy:
        self.host.write_file(self.conf, self.conf_text)
        self.host.run(f"rm -f {self.stats} {self.alpha or ''}", timeout=10)
        env = asan_env(self.host, PROXY_ASAN_ENV) if self.asan else None
        self.bg = self.host.start(self.command, name=self.name, env=env)
        why = wait_stderr(self.host, self.bg, "listening on port", timeout)
        if why is None:
            return self
        res = self.bg.stop()
        if why == "exited":
            raise ToolkitError(f"proxy exited at start (rc {res.rc}): {res.stderr[-2000:]}")
        raise ToolkitError(f"proxy not listening after {timeout:g} s")

    def running(self) -> bool:
        return self.bg is not None and self.bg.running()

    def stop(self, grace: float = 20.0) -> ProxyResult:
        """SIGTERM (or the proxy already exited after -n), then collect everything."""
        if self.result is not None:
            return self.result
        assert self.bg is not None
        res = self.bg.stop("TERM", grace=grace)
        report = parse_json_line(res.stdout) or {}
        stats = read_stats(self.host, self.stats)
        alpha: list[dict[str, float]] = []
        if self.alpha:
            r = self.host.run(f"cat {self.alpha}", timeout=30, check=False)
            if r.ok:
                alpha = [{k: float(v) for k, v in row.items()}
                         for row in csv.DictReader(io.StringIO(r.stdout))]
        self.result = ProxyResult(res.rc, res.stdout, res.stderr, report, stats, alpha)
        return self.result


class Ch5Lab:
    """A lab seen as the thesis' middlebox testbed (server, dut, client)."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.server = lab.by_role("server")
        self.dut = lab.by_role("dut")
        self.client = lab.by_role("client")
        s, d, c = self.server.name, self.dut.name, self.client.name
        sd = lab.link_between(s, d)
        dc = lab.link_between(d, c)
        sc = lab.link_between(s, c)
        self.server_ip = str(sd.ip_of(s).ip)         # nginx etc. listen here
        self.proxy_ip = str(dc.ip_of(d).ip)          # the stack, client side
        self.direct_ip = str(sc.ip_of(s).ip)         # server on the direct link
        self.dut_kernel_cli = str(dc.kernel_ip_of(d).ip)   # HAProxy listens here
        self.dut_kernel_srv = str(sd.kernel_ip_of(d).ip)
        self.client_ifaces = [ep.name for li in (dc, sc) for ep in (li.a, li.b)
                              if ep.host == c]
        self._config = StackConfig(lab, self.dut.name)
        self._n = 0

    # ------------------------------------------------------------------ stack config

    def stack_conf(self, overrides: Mapping[str, Any] | None = None) -> str:
        """The dut's stack config with overrides (the peers' MACs are read once)."""
        return self._config.render(overrides)

    def port_names(self) -> tuple[str, str]:
        """(server-side port, client-side port) names of the dut's stack ports."""
        return (stack_port_towards(self.lab, self.server.name, self.dut.name).name,
                stack_port_towards(self.lab, self.client.name, self.dut.name).name)

    # ------------------------------------------------------------------ proxy

    def new_proxy(self, **kw: Any) -> Proxy:
        self._n += 1
        return Proxy(self, kw.pop("name", f"proxy{self._n}"), **kw)

    @contextmanager
    def proxy(self, **kw: Any) -> Iterator[Proxy]:
        """A started proxy; stopped (and its result collected) on leaving the block."""
        px = self.new_proxy(**kw).start()
        try:
            yield px
        except BaseException:
            # what the stack saw, for the failure report (pytest shows stdout)
            res = px.stop()
            cores = res.stats.get("cores", [])
            print(f"{px.command}\nstats: mbufs_in_use={res.stats.get('mbufs_in_use')} "
                  f"cores={[{k: v for k, v in c.items() if v and k != 'drops'} for c in cores]}"
                  f" drops={[{k: v for k, v in c.get('drops', {}).items() if v} for c in cores]}"
                  f"\nreport: {res.report}\nstderr: {res.stderr[-2000:]}")
            raise
        finally:
            px.stop()

    def deploy_asan(self, build_dir: Path | None = None) -> None:
        """Ship the ASan/UBSan proxy and library (build-asan/) to the dut's asan/ folder."""
        deploy_asan(self.lab, build_dir, programs=["proxy"])

    # ------------------------------------------------------------------ servers

    def start_nginx(self, files: Mapping[str, int] | None = None, name: str = "nginx",
                    cpu: int | None = None, port: int = NGINX_PORT) -> Background:
        """nginx on the server (both links), serving www/<name> of the given sizes
        (pseudo-random bytes, made once) and logging every request with its status
        and byte count to run/<name>.access.log."""
        srv = self.server
        wd = srv.workdir
        files = files or {}
        mk = "; ".join(f"[ -s www/{n} ] || head -c {size} /dev/urandom > www/{n}"
                       for n, size in files.items())
        srv.run(f"mkdir -p www {name}; {mk or 'true'}", timeout=300)
        conf = f"""user root root;
worker_processes 1;
pid {wd}/{name}/nginx.pid;
error_log {wd}/{name}/error.log;
daemon off;
events {{ worker_connections 4096; }}
http {{
  log_format ch5 '$remote_addr "$request" $status $body_bytes_sent "$http_host" "$http_user_agent"';
  access_log {wd}/run/{name}.access.log ch5;
  client_body_temp_path {wd}/{name}/body;
  proxy_temp_path {wd}/{name}/proxy;
  fastcgi_temp_path {wd}/{name}/fcgi;
  uwsgi_temp_path {wd}/{name}/uwsgi;
  scgi_temp_path {wd}/{name}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 65;
  sendfile on;
  server {{
    listen {port};
    root {wd}/www;
    location / {{ }}
  }}
}}
"""
        srv.write_file(f"{name}/nginx.conf", conf)
        srv.run(f"mkdir -p run; : > run/{name}.access.log", timeout=10)
        bg = srv.start(f"{taskset(cpu)}nginx -c {wd}/{name}/nginx.conf", name=name)
        self.wait_port(srv, port)
        return bg

    def access_log(self, name: str = "nginx") -> list[str]:
        r = self.server.run(f"cat run/{name}.access.log", timeout=10)
        return [ln for ln in r.stdout.splitlines() if ln.strip()]

    def start_answer_server(self, args: str = "--raw", port: int = ANSWER_PORT,
                            cpu: int | None = None, name: str = "answer") -> Background:
        bg = self.server.start(f"{taskset(cpu)}answer_server -l {port} {args}", name=name)
        self.wait_port(self.server, port)
        return bg

    def start_hash_server(self, port: int = HASH_PORT, name: str = "hashsrv") -> Background:
        """tests/e2e/peers/hash_server.py on the server: answers each POST with the
        SHA-256 and length of its body."""
        here = Path(__file__).resolve().parent.parent / "tests" / "e2e" / "peers"
        self.server.put(here / "hash_server.py", "hash_server.py", mode=0o755)
        bg = self.server.start(f"python3 hash_server.py {port}", name=name)
        self.wait_port(self.server, port)
        return bg

    @staticmethod
    def wait_port(host: Host, port: int, timeout: float = 15.0) -> None:
        """Until something listens on TCP `port` on the host."""
        wait_listening(host, port, timeout, poll=0.1)

    # ------------------------------------------------------------------ shaping

    def shape_client(self, rate: str | None) -> None:
        """Limit what the client receives on both its links to `rate` (tc tbf on an
        ifb device fed from the links' ingress), or remove the limit (None)."""
        cmds = [f"tc qdisc del dev {i} ingress 2>/dev/null" for i in self.client_ifaces]
        cmds.append("ip link del ifbc 2>/dev/null")
        cmds.append("true")
        self.client.run("; ".join(cmds), timeout=20, check=False)
        if rate is None:
            return
        setup = ["ip link add ifbc type ifb", "ip link set ifbc up",
                 f"tc qdisc add dev ifbc root tbf rate {rate} burst 64kb latency 20ms"]
        for i in self.client_ifaces:
            setup += [f"tc qdisc add dev {i} handle ffff: ingress",
                      f"tc filter add dev {i} parent ffff: protocol all u32 match u32 0 0 "
                      "action mirred egress redirect dev ifbc"]
        self.client.run(" && ".join(setup), timeout=20)


# --------------------------------------------------------------------------- experiments

#: the stack's settings in every chapter 5 experiment: pure polling (as mTCP)
EXPERIMENT_STACK = {"idle_sleep_us": 0}


def proxy_cores_config(ch: Ch5Lab, cores: int) -> dict[str, Any]:
    """cores_config for the proxy: `cores` network threads, a queue pair per
    core on both of the dut's stack ports (`proxy -N`'s placement)."""
    srv, cli = ch.port_names()
    return {**cores_config(ch, srv, cores), **cores_config(ch, cli, cores)}


def cores_config(ch: Ch5Lab, port: str, cores: int) -> dict[str, Any]:
    """Overrides for `cores` network threads with a queue pair per core on the
    dut's stack port `port` (net_af_packet's `qpairs`: one fanout queue per
    core; net_af_xdp opens a device per queue itself; docs/architecture.md
    "Cores and flow placement")."""
    ov: dict[str, Any] = {"num_cores": cores}
    if cores > 1:
        for line in ch.stack_conf().splitlines():
            k, _, v = line.partition("=")
            if (k.strip() == f"port.{port}.device" and "qpairs" not in v
                    and v.strip().startswith("net_af_packet")):
                ov[k.strip()] = v.strip() + f",qpairs={cores}"
    return ov


def port_placement(ch: Ch5Lab, cores: int) -> str:
    """How the proxy's flows find their core with `cores` network threads, for
    data.csv (docs/architecture.md "Cores and flow placement"): `one core`;
    `exact (af_xdp, toeplitz links)` when both of the dut's stack ports are
    net_af_xdp on links that hash like RSS (the lab's `rss: true`), so the
    backend connections' source ports are picked onto their core too; else
    the port types, e.g. `learned (af_packet)`: the backend's replies are
    steered until their ports are learned."""
    if cores <= 1:
        return "one core"
    conf = {k.strip(): v.strip() for k, _, v in
            (ln.partition("=") for ln in ch.stack_conf().splitlines())}
    ports = ch.port_names()
    kinds = sorted({conf.get(f"port.{p}.device", "").split(",")[0].rstrip("0123456789")
                    .removeprefix("net_") for p in ports})
    exact = all(conf.get(f"port.{p}.device", "").startswith("net_af_xdp")
                and conf.get(f"port.{p}.link_hash") == "toeplitz" for p in ports)
    return f"exact ({'/'.join(kinds)}, toeplitz links)" if exact else f"learned ({'/'.join(kinds)})"


def steered_fraction(stats: Mapping[str, Any]) -> float:
    """Packets handed to another core / packets received, over the cores of a
    stack's stats file."""
    cores = stats.get("cores", [])
    rx = sum(int(c.get("rx_pkts", 0)) for c in cores)
    steered = sum(int(c.get("steered", 0)) for c in cores)
    return steered / rx if rx else 0.0


def start_answer(ctx: RunContext, server_args: str) -> Ch5Lab:
    """Setup of the experiments whose server is one answer_server for every run
    (on PEERS_CPU): the Ch5Lab in ctx.state["ch5"], the server in ["srv"]."""
    ch5 = Ch5Lab(ctx.lab)
    ctx.state["ch5"] = ch5
    ctx.state["srv"] = ch5.start_answer_server(server_args, cpu=PEERS_CPU)
    return ch5


def stop_answer(ctx: RunContext, unshape: bool = False) -> None:
    """Teardown matching start_answer; `unshape`: also lift shape_client's limit
    (for the experiments that set one)."""
    ch5: Ch5Lab | None = ctx.state.get("ch5")
    if unshape and ch5 is not None:
        ch5.shape_client(None)
    if "srv" in ctx.state:
        ctx.state["srv"].stop()


def proxy_counters(px: Proxy | None, *counters: str) -> dict[str, Any]:
    """The stack's counters (summed over cores) of a stopped proxy run, then its
    mbufs_in_use, for data.csv; {} for the variants without our proxy."""
    if px is None or px.result is None:
        return {}
    res = px.result
    return {**{c: res.counter(c) for c in counters},
            "mbufs_in_use": res.stats.get("mbufs_in_use")}


def lsink(ch5: Ch5Lab, ip: str, port: int, seconds: float, warmup: float = 0.5,
          conns: int = 1, read: int = 131072, extra: str = "") -> dict[str, Any]:
    """apps/linux/lsink on the client (PEERS_CPU): throughput over a timed window."""
    r = ch5.client.run(f"{taskset(PEERS_CPU)}lsink -c {ip}:{port} -k {conns} -r {read} "
                       f"-t {seconds:g} -W {warmup:g} {extra}",
                       timeout=seconds + warmup + 60)
    return require_json_line(r.stdout)


def start_haproxy(ch5: Ch5Lab, mode: str, backend_port: int, name: str = "haproxy",
                  cpu: int | None = MIDDLEBOX_CPU) -> Background:
    """HAProxy on the dut's kernel stack (what a user would pick instead of this
    proxy): `mode tcp` with `option splice-auto`, or `mode http` (keep-alive),
    listening on the dut's kernel address of the client link."""
    extra = "  option splice-auto\n" if mode == "tcp" else "  option http-keep-alive\n"
    conf = f"""global
  nbthread 1
  maxconn 4000
defaults
  mode {mode}
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend fe
  bind {ch5.dut_kernel_cli}:{HAPROXY_PORT}
{extra}  default_backend be
backend be
{extra}  server s1 {ch5.server_ip}:{backend_port}
"""
    ch5.dut.write_file(f"conf/{name}.cfg", conf)
    bg = ch5.dut.start(f"{taskset(cpu)}haproxy -db -f conf/{name}.cfg", name=name)
    ch5.wait_port(ch5.dut, HAPROXY_PORT)
    return bg


def through(ch5: Ch5Lab, variant: str) -> tuple[str, int]:
    """Where the client connects for a variant: direct, haproxy*, or the proxy."""
    if variant == "direct":
        return ch5.direct_ip, ANSWER_PORT
    if variant.startswith("haproxy"):
        return ch5.dut_kernel_cli, HAPROXY_PORT
    return ch5.proxy_ip, PROXY_PORT


@contextmanager
def middlebox(ch5: Ch5Lab, variant: str, backend_port: int = ANSWER_PORT,
              overrides: Mapping[str, Any] | None = None, alpha: bool = False,
              cpu: dict[str, Any] | None = None, cores: int = 1) -> Iterator[Proxy | None]:
    """Run the middlebox of a variant around a measurement: nothing (direct),
    HAProxy (haproxy_tcp / haproxy_http), or apps/proxy in the variant's mode
    (splice, forward, copy; splice_http = splice with -H), on MIDDLEBOX_CPU;
    with `cores` > 1, apps/proxy runs that many network threads (a queue pair
    per core on both ports, proxy_cores_config) on the machine's first cores.

    `cpu`, when given, is filled after a measurement that went through with
    the middlebox's CPU over its whole run, in seconds (`dut_cpu_s`; see
    middlebox_cpu): nothing for direct; the proxy's busy poll-loop cycles +
    application thread (experiments/_common.py stack_cpu); HAProxy's process
    user + system time, read before it is stopped."""
    if variant == "direct":
        yield None
        return
    if variant.startswith("haproxy"):
        bg = start_haproxy(ch5, "http" if variant.endswith("http") else "tcp", backend_port)
        try:
            yield None
            if cpu is not None:
                used = bg.cpu_seconds()
                cpu.update(dut_cpu_s=used, proc_cpu_s=used)
        finally:
            bg.stop()
        return
    mode, http = (variant.removesuffix("_http"), variant.endswith("_http"))
    ov = {**EXPERIMENT_STACK, **(overrides or {}), **proxy_cores_config(ch5, cores)}
    px = ch5.new_proxy(mode=mode, http=http, backend=f"{ch5.server_ip}:{backend_port}",
                       overrides=ov, cpu=MIDDLEBOX_CPU if cores == 1 else None,
                       alpha=alpha).start()
    try:
        yield px
    finally:
        res = px.stop()
    if cpu is not None:
        cpu.update(stack_cpu(res.stats, res.report))


#: what sits between client and server in each variant (data.csv's `middlebox`)
MIDDLEBOXES = {"direct": "none", "haproxy": "haproxy"}


def middlebox_cpu(ctx: RunContext, variant: str, cpu: Mapping[str, Any],
                  out: Mapping[str, Any]) -> dict[str, Any]:
    """data.csv's CPU columns of one lsink run through `variant`'s middlebox:
    `middlebox` (none, haproxy, aatcp), its CPU seconds (`dut_cpu_s` and the
    parts middlebox() filled in `cpu`), `fwd_bytes` (what the client read over
    the whole connections, warm-up included, as the CPU is counted over the
    middlebox's whole run) and `dut_cyc_per_byte` at the TSC rate of this run's
    stack, or of the last proxy run's for HAProxy (NaN before any). The direct
    path has no middlebox: NaN."""
    kind = MIDDLEBOXES.get(variant.split("_")[0], "aatcp")
    vals: dict[str, Any] = {"middlebox": kind,
                            "fwd_bytes": int(sum(out.get("per_conn_bytes") or [0])),
                            "dut_cyc_per_byte": float("nan")}
    if kind == "none":
        return vals
    if cpu.get("tsc_hz"):
        ctx.state["tsc_hz"] = float(cpu["tsc_hz"])
    hz = float(ctx.state.get("tsc_hz", 0.0))
    used = float(cpu.get("dut_cpu_s", float("nan")))
    fwd = vals["fwd_bytes"]
    return {**vals, **cpu,
            "dut_cyc_per_byte": used * hz / fwd if hz and fwd else float("nan")}


def cpu_summary(df: Any, ref: str, order: list[str], by: str | None = None,
                cpu_ref: str | None = None) -> pd.DataFrame:
    """Per variant (and `by` value): runs, median gbps and its ratio to `ref`'s
    (throughput), the middlebox's median CPU cycles per byte forwarded (at the
    table's TSC rate, experiments/_common.py tsc_rate; NaN: no middlebox) and
    the ratio per CPU cycle: bytes per cycle relative to `cpu_ref`'s in the same
    group (its cycles per byte / ours), or without `cpu_ref`, to the same
    variant at the first `by` value."""
    from aatcp.plot import measured

    cols = [*([by] if by else []), "variant", "runs", "median_gbps", "vs_ref",
            "cyc_per_byte", "per_cycle_vs"]
    d = measured(df)
    if d.empty:
        return pd.DataFrame(columns=cols)
    d = d.assign(cyc=cycles_per_byte(d, "dut_cpu_s", tsc_rate(d), "fwd_bytes"))
    keys = [by, "variant"] if by else ["variant"]
    med = d.groupby(keys).agg(gbps=("gbps", "median"), runs=("gbps", "count"),
                              cyc=("cyc", "median"))
    groups = sorted(d[by].unique()) if by else [None]
    nan = float("nan")

    def at(g: Any, v: str, col: str) -> float:
        k = (g, v) if by else v
        return float(med.loc[k, col]) if k in med.index else nan

    rows = []
    for g in groups:
        for v in order:
            if ((g, v) if by else v) not in med.index:
                continue
            gbps, cyc, base = at(g, v, "gbps"), at(g, v, "cyc"), at(g, ref, "gbps")
            cref = at(g, cpu_ref, "cyc") if cpu_ref else at(groups[0], v, "cyc")
            rows.append({**({by: g} if by else {}), "variant": v,
                         "runs": int(at(g, v, "runs")), "median_gbps": gbps,
                         "vs_ref": gbps / base if base else nan, "cyc_per_byte": cyc,
                         "per_cycle_vs": cref / cyc if cyc else nan})
    return pd.DataFrame(rows, columns=cols)


def print_cpu_summary(table: pd.DataFrame, name: str, ref: str, cpu_ref: str,
                      by: str | None = None) -> None:
    """cpu_summary's table as the experiment's printed summary."""
    print(f"\n{name}: median Gbit/s over repetitions (lsink on the client) and x {ref}")
    print("  (cpu: the middlebox's CPU cycles per byte forwarded; ours = busy poll-loop "
          "cycles + app thread, HAProxy = its process's user + system time;")
    print(f"   per cycle: bytes per CPU cycle relative to {cpu_ref})")
    for _, r in table.iterrows():
        at = f"{by}={r[by]:<4} " if by else ""
        cpu = (f"cpu {r['cyc_per_byte']:6.2f} c/B   {r['per_cycle_vs']:5.2f} x per cycle"
               if not pd.isna(r["cyc_per_byte"]) else
               "no middlebox" if r["variant"] == "direct" else "cpu not recorded")
        print(f"  {at}{r['variant']:<12} {r['median_gbps']:7.3f} Gbit/s   "
              f"{r['vs_ref']:5.2f} x {ref}   {cpu}   ({r['runs']} runs)")


def ratio_bars(df: Any, path: Path, title: str, metric: str, ref: str, order: list[str],
               labels: Mapping[str, str], ylabel: str, by: str | None = None,
               cpu: pd.DataFrame | None = None) -> None:
    """A table as a bar chart: median (min-max bars) per variant, annotated with
    the ratio of medians to the `ref` variant of the same run (the thesis'
    'relative performance' column) and, given cpu_summary's table as `cpu`,
    the middlebox's CPU cycles per byte."""
    from aatcp.plot import measured, plt, save

    d = measured(df)
    groups = [None] if by is None else sorted(d[by].unique()) if not d.empty else [None]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(1, len(groups))
    for gi, g in enumerate(groups):
        part = d if g is None else d[d[by] == g]
        med = part.groupby("variant")[metric].median() if not part.empty else {}
        for i, v in enumerate(order):
            if v not in med:
                continue
            vals = part[part["variant"] == v][metric]
            x = i + (gi - (len(groups) - 1) / 2) * width
            ax.bar(x, med[v], width=width * 0.9, color=f"C{gi}",
                   yerr=[[med[v] - vals.min()], [vals.max() - med[v]]], capsize=3,
                   label=(f"{by}={g}" if g is not None and i == 0 else None))
            if ref in med and med[ref] > 0:
                ax.annotate(f"{med[v]:.2f}\n{100 * med[v] / med[ref]:.0f}%"
                            + _cyc_label(cpu, by, g, v), (x, med[v]),
                            textcoords="offset points", xytext=(0, 4), ha="center",
                            fontsize=7)
    ax.margins(y=0.12)
    ax.set_xticks(range(len(order)), [labels.get(v, v) for v in order], fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
    if by is not None and len(groups) > 1:
        ax.legend(fontsize=8)
    if d.empty:
        ax.text(0.5, 0.5, "no successful runs", ha="center", transform=ax.transAxes)
    save(fig, path)


def _cyc_label(cpu: pd.DataFrame | None, by: str | None, g: Any, v: str) -> str:
    """"\n<cycles> c/B" of variant `v` (at `by` = g) from cpu_summary's table."""
    if cpu is None or cpu.empty:
        return ""
    row = cpu[(cpu["variant"] == v) & ((cpu[by] == g) if by else True)]
    if row.empty or pd.isna(row["cyc_per_byte"].iloc[0]):
        return ""
    return f"\n{row['cyc_per_byte'].iloc[0]:.1f} c/B"


def lines_with_ratio(df: Any, path: Path, title: str, x: str, metric: str,
                     variants: list[str], ref: str, labels: Mapping[str, str],
                     xlabel: str, ylabel: str, logx: bool = True) -> None:
    """Metric vs x per variant (medians, min-max bars) above the ratio of each
    variant's median to the `ref` variant's median at the same x."""
    from aatcp.plot import errorbar_line, plt, save, summarize

    summ = summarize(df, x, metric)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True,
                                      gridspec_kw={"height_ratios": [2, 1]})
    for v in variants:
        part = summ[summ["variant"] == v]
        if not part.empty:
            errorbar_line(top, part, x, labels.get(v, v))
    top.set_ylabel(ylabel)
    top.set_title(title, fontsize=10)
    top.grid(True, alpha=0.3)
    if not summ.empty:
        top.legend(fontsize=8)
        med = summ.pivot(index=x, columns="variant", values="median")
        if ref in med.columns:
            for v in variants:
                if v != ref and v in med.columns:
                    r = (med[v] / med[ref]).dropna()
                    bottom.plot(r.index, r.values, marker="o",
                                label=f"{labels.get(v, v)} / {labels.get(ref, ref)}")
    bottom.axhline(1.0, color="grey", lw=1)
    bottom.set_ylabel("ratio of medians")
    bottom.set_xlabel(xlabel)
    bottom.grid(True, alpha=0.3)
    if bottom.get_legend_handles_labels()[0]:
        bottom.legend(fontsize=8)
    if logx:
        bottom.set_xscale("log")
    save(fig, path)
