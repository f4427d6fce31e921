"""Running the stack's programs in an end-to-end test, and checking what they left.

Generic helpers for every e2e test module (core, zero-copy, proxy...): start a
program built against libaatcp on the lab's dut host with its own stack config
and stats file, wait for it, and check the docs/design.md invariants afterwards:
every packet buffer back in its pool (`mbufs_in_use == 0`), no TCB left on any
core (`tcbs_in_use == 0`), the expected exit status, and no sanitizer report on
stderr (ASan/UBSan builds). Linux peers started through the same runner are
stopped when the test ends, whatever happened.

    def test_x(stack: StackRunner) -> None:          # fixture in tests/e2e/conftest.py
        sink = stack.start("sink", "-l", "5001")      # waits for "listening on port"
        stack.client.run("nc -N 10.0.2.2 5001 < data", timeout=60)
        res = sink.wait(30)                           # exits by itself; StackResult
        res.check_clean()                             # rc 0, stats clean, no sanitizer report
        assert res.report["sha256"] == [...]

    srv = stack.start("epserver", "-p", "www", ready="listening on port")
    ...
    res = srv.stop()                                  # SIGTERM, then collect

`stack_asan` runs the same programs from build-asan/ (shipped to the dut's
`asan/bin`, `asan/lib` by `deploy_asan`). Whatever a test did not check itself
is checked when the fixture ends (StackRunner.close), so no run escapes the
mbuf/TCB check.
"""

from __future__ import annotations

import hashlib
import random
import shlex
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from aatcp.dutrun import (
    StackConfig,
    asan_env,
    core_counter,
    core_drops,
    parse_json_line,
    read_stats,
    run_paths,
    sanitizer_report,
    stack_port_towards,
    stats_problems,
    taskset,
    wait_listening,
    wait_stderr,
)
from aatcp.dutrun import deploy_asan as deploy_asan  # re-export (conftest.py)
from aatcp.errors import ToolkitError
from aatcp.lab import Lab
from aatcp.remote import Background, Host, Result

# The mechanics (config, stats file, sanitizer patterns, JSON report) are
# aatcp.dutrun's, shared with the experiments; parse_json_line, sanitizer_report and
# deploy_asan are re-exported for the test modules and conftest.py.

#: Config every test run gets unless it overrides it: the network thread sleeps
#: 20 us after 64 empty polls so that an idle stack does not take a whole core
#: from the Linux peers on the 2-core lab machines.
DEFAULT_OVERRIDES: dict[str, Any] = {"idle_sleep_us": 20}


@dataclass
class StackResult:
    """What one run of a stack program left behind."""

    name: str
    command: str
    rc: int | None
    stdout: str
    stderr: str
    stats: dict[str, Any]
    report: dict[str, Any] | None
    duration_s: float
    expect_rc: int | None = 0
    checked: bool = False

    def counter(self, name: str) -> int:
        """A per-core counter summed over the cores (e.g. 'retransmits')."""
        return core_counter(self.stats, name)

    def drops(self, reason: str) -> int:
        return core_drops(self.stats, reason)

    def problems(self, rc: int | str | None = "expected") -> list[str]:
        """Everything wrong with this run (empty: clean). rc: the exit status wanted
        ('expected': the one given at start, None: any)."""
        want = self.expect_rc if rc == "expected" else rc
        out = []
        if want is not None and self.rc != want:
            out.append(f"exit status {self.rc}, expected {want}")
        rep = sanitizer_report(self.stderr)
        if rep:
            out.append(f"sanitizer report:\n{rep}")
        out += stats_problems(self.stats)
        return out

    def check_clean(self, rc: int | str | None = "expected") -> StackResult:
        """Assert: wanted exit status, no sanitizer report, mbufs and TCBs all back."""
        self.checked = True
        bad = self.problems(rc)
        if bad:
            raise AssertionError(
                f"{self.name} (`{self.command}`): " + "; ".join(bad)
                + f"\n--- stdout (end):\n{self.stdout[-1500:]}\n--- stderr (end):\n"
                + self.stderr[-3000:])
        return self


class StackApp:
    """One run of a stack program on the dut (started by StackRunner.start)."""

    def __init__(self, runner: StackRunner, program: str, args: Iterable[str], name: str,
                 overrides: Mapping[str, Any] | None, asan: bool, cpu: str | None,
                 expect_rc: int | None, conf_text: str | None = None,
                 conf_dir: str | None = None) -> None:
        self.runner = runner
        self.host = runner.dut
        self.program = program
        self.name = name
        self.asan = asan
        self.expect_rc = expect_rc
        self.conf, self.stats = run_paths(self.host, name)
        if conf_dir is not None:  # a folder of its own (e.g. with mTCP's config/arp.conf)
            self.conf = PurePosixPath(conf_dir) / self.conf.name
        ov = dict(DEFAULT_OVERRIDES)
        ov.update(overrides or {})
        ov["stats_file"] = str(self.stats)
        if conf_text is None:
            self.conf_text = runner.conf(ov)
        else:  # a config written by the test (an mTCP one), plus the run's keys
            self.conf_text = conf_text + "".join(f"{k} = {v}\n" for k, v in ov.items())
        prog = f"asan/bin/{program}" if asan else program
        # -f last: epwget and zc_wget take their URL (and count) first
        argv = [prog, *args, "-f", str(self.conf)]
        # exec: the program is the direct child of Background's wrapper shell, so
        # stop() can signal it alone and the wrapper still records its exit status
        self.command = "exec " + taskset(cpu) + " ".join(shlex.quote(a) for a in argv)
        self.bg: Background | None = None
        self.result: StackResult | None = None
        self.t0 = 0.0

    def start(self, ready: str | None = None, timeout: float = 30.0) -> StackApp:
        """Start; with `ready`, wait until that text appears on stderr."""
        self.host.write_file(self.conf, self.conf_text)
        self.host.run(f"rm -f {self.stats}", timeout=10)
        env = asan_env(self.host) if self.asan else None
        self.t0 = time.monotonic()
        self.bg = self.host.start(self.command, name=self.name, env=env)
        if ready is not None:
            self.wait_stderr(ready, timeout)
        return self

    def stderr_text(self) -> str:
        assert self.bg is not None
        return self.host.run(f"cat {self.bg.err}", timeout=10, check=False).stdout

    def wait_stderr(self, text: str, timeout: float) -> None:
        """Until `text` shows on the program's stderr (fails if it exits first)."""
        assert self.bg is not None
        why = wait_stderr(self.host, self.bg, text, timeout)
        if why is None:
            return
        res = self.stop()
        if why == "exited":
            raise AssertionError(f"{self.name} exited (rc {res.rc}) before printing "
                                 f"{text!r}; stderr:\n{res.stderr[-3000:]}")
        raise AssertionError(f"{self.name}: no {text!r} on stderr after {timeout:g} s; "
                             f"stderr:\n{res.stderr[-3000:]}")

    def running(self) -> bool:
        return self.bg is not None and self.result is None and self.bg.running()

    def wait(self, timeout: float) -> StackResult:
        """Wait for the program to exit by itself; on timeout kill it and fail."""
        assert self.bg is not None
        if self.result is not None:
            return self.result
        if not self.bg.wait(timeout):
            res = self.stop()
            raise AssertionError(f"{self.name} did not finish within {timeout:g} s (killed); "
                                 f"stdout:\n{res.stdout[-1500:]}\nstderr:\n"
                                 f"{res.stderr[-3000:]}")
        return self._collect(self.bg.stop())

    def stop(self, signal: str = "TERM", grace: float = 20.0) -> StackResult:
        """Signal the program (servers exit on SIGTERM), then collect its result;
        KILL (rc None) if it is still there after `grace` seconds."""
        assert self.bg is not None
        if self.result is not None:
            return self.result
        return self._collect(self.bg.stop(signal, grace=grace))

    def _collect(self, res: Result) -> StackResult:
        self.result = StackResult(self.name, self.command, res.rc, res.stdout, res.stderr,
                                  read_stats(self.host, self.stats),
                                  parse_json_line(res.stdout),
                                  time.monotonic() - self.t0, self.expect_rc)
        return self.result


@dataclass
class StackRunner:
    """Starts stack programs on the lab's dut and Linux peers elsewhere; cleans up.

    `asan`: run the programs from build-asan/ (see deploy_asan).
    """

    lab: Lab
    asan: bool = False
    apps: list[StackApp] = field(default_factory=list)
    peers: list[Background] = field(default_factory=list)
    _config: StackConfig | None = None
    _n: int = 0

    @property
    def dut(self) -> Host:
        return self.lab.by_role("dut")

    @property
    def server(self) -> Host:
        return self.lab.by_role("server")

    @property
    def client(self) -> Host:
        return self.lab.by_role("client")

    # ------------------------------------------------------------------ addresses

    def stack_ip(self, peer_role: str) -> str:
        """The stack's address on its link to the host with `peer_role`."""
        peer = self.lab.by_role(peer_role).name
        return str(self.lab.link_between(self.dut.name, peer).ip_of(self.dut.name).ip)

    def peer_ip(self, peer_role: str) -> str:
        """The address of the host with `peer_role` on its link to the dut."""
        peer = self.lab.by_role(peer_role).name
        return str(self.lab.link_between(self.dut.name, peer).ip_of(peer).ip)

    def port_name(self, peer_role: str) -> str:
        """Name of the dut's stack port towards the host with `peer_role`."""
        return stack_port_towards(self.lab, self.lab.by_role(peer_role).name,
                                  self.dut.name).name

    # ------------------------------------------------------------------ config

    def conf(self, overrides: Mapping[str, Any] | None = None) -> str:
        """The dut's stack config (docs/config.md) with overrides (None deletes a key)."""
        if self._config is None:
            self._config = StackConfig(self.lab, self.dut.name)
        return self._config.render(overrides)

    # ------------------------------------------------------------------ processes

    def app(self, program: str, *args: str, overrides: Mapping[str, Any] | None = None,
            name: str | None = None, asan: bool | None = None, cpu: str | None = None,
            expect_rc: int | None = 0, conf_text: str | None = None,
            conf_dir: str | None = None) -> StackApp:
        """A stack program run, not started yet (see start()). `conf_text`: the
        config to use instead of the lab's (the overrides and the stats file are
        appended); `conf_dir`: the folder (relative to the workdir) it goes in."""
        self._n += 1
        a = StackApp(self, program, args, name or f"{program}{self._n}", overrides,
                     self.asan if asan is None else asan, cpu, expect_rc, conf_text, conf_dir)
        self.apps.append(a)
        return a

    def start(self, program: str, *args: str, ready: str | None = None,
              ready_timeout: float = 30.0, **kw: Any) -> StackApp:
        """Start a stack program on the dut; `ready`: wait for that text on stderr
        (the apps print "...listening on port N" when they accept connections)."""
        return self.app(program, *args, **kw).start(ready=ready, timeout=ready_timeout)

    def start_peer(self, host: Host, command: str, name: str | None = None,
                   env: dict[str, str] | None = None) -> Background:
        """A Linux program in the background on `host`, stopped when the test ends."""
        self._n += 1
        bg = host.start(command, name=name or f"peer{self._n}", env=env)
        self.peers.append(bg)
        return bg

    @staticmethod
    def wait_listening(host: Host, port: int, timeout: float = 15.0) -> None:
        """Until a Linux socket listens on TCP `port` on `host` (AssertionError if
        not: a test failure, not a toolkit one)."""
        try:
            wait_listening(host, port, timeout)
        except ToolkitError as e:
            raise AssertionError(str(e)) from None

    @staticmethod
    def wait_file(host: Host, path: str, pattern: str, timeout: float) -> None:
        """Until the file `path` on `host` contains the text `pattern`."""
        r = host.run(f"for i in $(seq {int(timeout * 20)}); do "
                     f"grep -qF -- {shlex.quote(pattern)} {shlex.quote(path)} 2>/dev/null "
                     "&& exit 0; sleep 0.05; done; exit 1", timeout=timeout + 10, check=False)
        if not r.ok:
            out = host.run(f"cat {shlex.quote(path)}", timeout=10, check=False).stdout
            raise AssertionError(f"{host.name}: {pattern!r} not in {path} after {timeout:g} s:"
                                 f"\n{out[-2000:]}")

    def close(self) -> list[str]:
        """Stop every peer and program still running; check every program run that
        the test did not check itself. Returns the problems found."""
        for bg in self.peers:
            with suppress(Exception):
                bg.stop("KILL", grace=2)
        problems = []
        for a in self.apps:
            if a.bg is None:
                continue
            try:
                res = a.result or a.stop(grace=20)
            except Exception as e:  # a broken host must not hide the other runs
                problems.append(f"{a.name}: cannot stop/collect: {e}")
                continue
            if not res.checked:
                bad = res.problems()
                if bad:
                    problems.append(f"{a.name} (`{a.command}`): " + "; ".join(bad)
                                    + f"\n--- stderr (end):\n{res.stderr[-2000:]}")
        return problems


PEERS_DIR = Path(__file__).resolve().parent / "peers"


def checked_runner(lab: Lab, asan: bool = False) -> Iterator[StackRunner]:
    """A StackRunner for one test (the body of the `stack` fixtures): at the
    end every run of it must have ended clean (mbufs, TCBs), else the test
    fails with what was left."""
    r = StackRunner(lab, asan=asan)
    try:
        yield r
    finally:
        problems = r.close()
    if problems:
        pytest.fail("stack runs not clean at the end of the test:\n" + "\n".join(problems),
                    pytrace=False)


def iface_towards(lab: Lab, host: str, other: str) -> str:
    """The name of `host`'s interface on its link to `other`."""
    li = lab.link_between(host, other)
    return li.a.name if li.a.host == host else li.b.name


@contextmanager
def link_down(host: Host, iface: str) -> Iterator[float]:
    """`host` vanishes from a link: its interface `iface` goes down, so nothing
    (no FIN, no RST, no ACK) leaves or reaches it there; up again at the end,
    whatever happened. Yields the time.monotonic() at which it went down."""
    host.run(f"ip link set {shlex.quote(iface)} down", timeout=10)
    try:
        yield time.monotonic()
    finally:
        host.run(f"ip link set {shlex.quote(iface)} up", timeout=10, check=False)


def seeded_sha256(seed: int, n: int, chunk: int = 65536) -> str:
    """SHA-256 of the first n bytes core_peer.py's Data(seed) produces when taken
    `chunk` bytes at a time (what `core_peer.py send --seed` sends)."""
    rng, h, left = random.Random(seed), hashlib.sha256(), n
    while left > 0:
        b = rng.randbytes(chunk)
        h.update(b[:left])
        left -= len(b)
    return h.hexdigest()


def ship_peers(lab: Lab, roles: Iterable[str] = ("server", "client")) -> None:
    """Copy tests/e2e/peers/*.py to `peers/` in the workdir of the hosts with `roles`."""
    for role in roles:
        for h in lab.all_by_role(role):
            h.run("mkdir -p peers", timeout=10)
            for f in sorted(PEERS_DIR.glob("*.py")):
                h.put(f, f"peers/{f.name}", mode=0o755)


def make_files(host: Host, folder: str, sizes: Mapping[str, int],
               timeout: float = 300) -> dict[str, str]:
    """Files of pseudo-random bytes in `folder` (relative to the workdir) on `host`,
    made once per folder and size; returns name -> SHA-256."""
    mk = "; ".join(f"[ \"$(stat -c %s {folder}/{n} 2>/dev/null)\" = {size} ] || "
                   f"head -c {size} /dev/urandom > {folder}/{n}" for n, size in sizes.items())
    host.run(f"mkdir -p {folder}; {mk or 'true'}", timeout=timeout)
    r = host.run(f"cd {folder} && sha256sum " + " ".join(sizes), timeout=timeout)
    return {ln.split()[1]: ln.split()[0] for ln in r.stdout.splitlines()}


def start_nginx(runner: StackRunner, host: Host, root: str, port: int,
                name: str = "nginx", cpu: str | None = None) -> Background:
    """nginx on `host` serving the workdir's `root` folder on `port` (all addresses),
    HTTP/1.1 keep-alive, up to 4096 connections; stopped with the runner."""
    wd = host.workdir
    conf = f"""user root root;
worker_processes 1;
pid {wd}/{name}/nginx.pid;
error_log {wd}/{name}/error.log;
daemon off;
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {wd}/{name}/body;
  proxy_temp_path {wd}/{name}/proxy;
  fastcgi_temp_path {wd}/{name}/fcgi;
  uwsgi_temp_path {wd}/{name}/uwsgi;
  scgi_temp_path {wd}/{name}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 65;
  sendfile on;
  server {{
    listen {port} backlog=4096;
    root {wd}/{root};
    location / {{ }}
  }}
}}
"""
    host.run(f"mkdir -p {name}", timeout=10)
    host.write_file(f"{name}/nginx.conf", conf)
    bg = runner.start_peer(host, f"{taskset(cpu)}nginx -c {wd}/{name}/nginx.conf", name=name)
    runner.wait_listening(host, port)
    return bg
