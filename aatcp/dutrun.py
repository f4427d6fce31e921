"""Running the stack's programs on a lab's dut host, and reading what they left.

The experiments (experiments/_ch4.py, _ch5.py, bulk.py, fig3_7.py) and the
end-to-end tests (tests/e2e/stackrun.py, test_proxy_e2e.py) all do the same
few things around a program built against libaatcp: render the dut's stack
config with a few overrides and a per-run `stats_file`, start the program
(pinned with taskset, under ASan from `asan/` when asked), wait until it
prints that it listens, stop it, read the stats file it wrote in
mtcp_destroy() and check the docs/design.md invariants (`mbufs_in_use == 0`, no
TCB left on any core), and pick the JSON report line out of its stdout. They
used to carry one copy each; a fix in one (a new invariant, a sanitizer
pattern) silently missed the others, so the mechanics live here once and
the callers keep only their own policy (which error to raise, what to keep).

Everything here raises ToolkitError (the toolkit's convention); the test
layer turns the failures it cares about into AssertionError itself.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Iterable, Mapping
from contextlib import suppress
from pathlib import Path, PurePosixPath
from typing import Any

from aatcp.errors import ToolkitError
from aatcp.lab import Lab
from aatcp.labfile import Port
from aatcp.paths import BUILD_DIRS
from aatcp.remote import Background, Host, Result

# --------------------------------------------------------------------------- output

#: Lines on stderr that mean a sanitizer found something (ASan, LSan, UBSan).
SANITIZER_PATTERNS = (
    re.compile(r"ERROR: (Address|Leak|Thread|Memory)Sanitizer"),
    re.compile(r"SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer"),
    re.compile(r"runtime error: "),
)


def sanitizer_report(text: str) -> str | None:
    """The first lines of a sanitizer report found in `text`, or None."""
    for pat in SANITIZER_PATTERNS:
        m = pat.search(text)
        if m:
            start = text.rfind("\n", 0, max(0, m.start() - 200)) + 1
            return text[start:start + 3000]
    return None


def parse_json_line(text: str) -> dict[str, Any] | None:
    """The last line of `text` that is a JSON object, or None.

    The apps print human-readable progress and then one JSON line (their
    report); the stats file is one JSON line too. Scanning from the end
    skips whatever a program printed before its report."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            with suppress(ValueError):
                out = json.loads(line)
                if isinstance(out, dict):
                    return out
    return None


def require_json_line(text: str) -> dict[str, Any]:
    """parse_json_line for callers that cannot go on without the report (an
    experiment's measurement): raises ToolkitError quoting the output's end."""
    out = parse_json_line(text)
    if out is None:
        raise ToolkitError(f"no JSON object in output: {text[-300:]!r}")
    return out


def last_line_json(host: Host, program: str, stdout: str, tail: int = 200) -> Any:
    """The JSON value on the last line of `stdout` (the benchmarks print exactly
    one result line last); ToolkitError naming the host and program if not."""
    try:
        return json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ToolkitError(f"{host.name}: {program} printed no JSON: "
                           f"{stdout[-tail:]!r}") from None


# --------------------------------------------------------------------------- stats file

def read_stats(host: Host, path: str | PurePosixPath) -> dict[str, Any]:
    """The stats file a stack program wrote at exit ({} if none or unreadable:
    callers treat a missing file as a failure of its own)."""
    r = host.run(f"cat {path}", timeout=10, check=False)
    if r.ok and r.stdout.strip():
        with suppress(ValueError):
            out = json.loads(r.stdout)
            if isinstance(out, dict):
                return out
    return {}


def stats_problems(stats: Mapping[str, Any]) -> list[str]:
    """What breaks the docs/design.md exit invariants in a stats file (empty: none):
    every packet buffer back in its pool, no TCB left on any core."""
    if not stats:
        return ["no stats file (did mtcp_destroy() run?)"]
    out = []
    # a PMD that keeps the mbufs of its RX rings at close (net_af_xdp's fill
    # rings, DPDK 22.11) holds what it took at start, give or take the one
    # burst per queue a poll refills (mbufs_port_held, mbufs_port_slack);
    # every other PMD gives all back
    used = stats.get("mbufs_in_use")
    held, slack = stats.get("mbufs_port_held", 0), stats.get("mbufs_port_slack", 0)
    if not isinstance(used, int) or not held - slack <= used <= held + slack:
        bound = ("0" if not held else
                 f"{held - slack}..{held + slack}, what the ports' RX rings hold")
        out.append(f"mbufs_in_use = {used} (must be {bound})")
    for c in stats.get("cores", []):
        if c.get("tcbs_in_use") != 0:
            out.append(f"core {c.get('core')}: tcbs_in_use = {c.get('tcbs_in_use')}")
    return out


def core_counter(stats: Mapping[str, Any], name: str) -> int:
    """A per-core counter summed over the cores (e.g. 'retransmits')."""
    return sum(int(c.get(name, 0)) for c in stats.get("cores", []))


def core_drops(stats: Mapping[str, Any], reason: str) -> int:
    """A drop reason's count summed over the cores."""
    return sum(int(c.get("drops", {}).get(reason, 0)) for c in stats.get("cores", []))


# --------------------------------------------------------------------------- config

def taskset(cpu: int | str | None) -> str:
    """Command prefix pinning a program to `cpu` (nothing for None)."""
    return f"taskset -c {cpu} " if cpu is not None else ""


class StackConfig:
    """The dut's stack config (docs/config.md) rendered with per-run overrides.

    The base is built once: Lab.stack_config reads every peer's MAC over SSH,
    and a sweep renders a config per run."""

    def __init__(self, lab: Lab, host: str | None = None,
                 ports: Iterable[str] | None = None) -> None:
        self.lab = lab
        self.host = host or lab.by_role("dut").name
        self.ports = list(ports) if ports is not None else None
        self._base: dict[str, str] | None = None

    @property
    def base(self) -> dict[str, str]:
        if self._base is None:
            base: dict[str, str] = {}
            text = self.lab.stack_config(self.host, ports=self.ports)
            for line in text.splitlines():
                if "=" in line and not line.lstrip().startswith("#"):
                    k, v = line.split("=", 1)
                    base[k.strip()] = v.strip()
            self._base = base
        return self._base

    def render(self, overrides: Mapping[str, Any] | None = None) -> str:
        """The config text with `overrides` applied (None deletes a key; booleans
        are written true/false)."""
        conf = dict(self.base)
        for k, v in (overrides or {}).items():
            if v is None:
                conf.pop(k, None)
            else:
                conf[k] = str(v).lower() if isinstance(v, bool) else str(v)
        return "".join(f"{k} = {v}\n" for k, v in conf.items())


def without_port(name: str) -> dict[str, None]:
    """Overrides that leave the stack port `name` out of a rendered config (every
    key Lab.stack_config writes for a port)."""
    return {f"port.{name}.{k}": None for k in ("device", "ip", "gateway", "mtu", "link_hash")}


def stack_port_towards(lab: Lab, peer: str, dut: str | None = None) -> Port:
    """The dut's stack port whose link ends at the host named `peer`."""
    d = lab.host(dut) if dut is not None else lab.by_role("dut")
    for p in d.spec.ports:
        if any(h.name == peer for h, _ in lab.peers(d.name, p.name)):
            return p
    raise ToolkitError(f"{lab.path}: the dut has no stack port towards {peer}. Fix: link "
                       f"one of {d.name}'s ports to {peer} in the lab file")


def run_paths(host: Host, name: str) -> tuple[PurePosixPath, PurePosixPath]:
    """(config path relative to the workdir, absolute stats file path) of a run
    called `name`: every run gets its own, so runs never read each other's."""
    return PurePosixPath("conf") / f"{name}.conf", host.workdir / "run" / f"{name}.stats.json"


# --------------------------------------------------------------------------- ASan

#: Sanitizer runs: leaks checked at exit, a report makes the exit status
#: non-zero too (belt and braces: callers check stderr as well).
ASAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=23:strict_string_checks=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=24",
}


def asan_env(host: Host, options: Mapping[str, str] = ASAN_ENV) -> dict[str, str]:
    """Environment running a program from `asan/bin` with build-asan's library
    (deploy_asan ships both next to the release ones, which stay as they are)."""
    return {"LD_LIBRARY_PATH": str(host.workdir / "asan" / "lib"), **options}


def deploy_asan(lab: Lab, build_dir: Path | None = None,
                programs: Iterable[str] | None = None) -> None:
    """Ship build-asan's programs (all of apps/, or just `programs`) and library
    to the dut's `asan/bin`, `asan/lib`."""
    bdir = build_dir or BUILD_DIRS["sanitize"]
    apps = bdir / "apps"
    if programs is None:
        progs = [p for p in sorted(apps.iterdir())
                 if p.is_file() and p.stat().st_mode & 0o111 and not p.suffix] \
            if apps.is_dir() else []
        what = "the apps"
    else:
        progs = [apps / n for n in programs]
        progs = progs if all(p.exists() for p in progs) else []
        what = ", ".join(f"apps/{n}" for n in programs)
    libs = sorted((bdir / "src").glob("libaatcp.so*"))
    if not progs or not libs:
        raise ToolkitError(f"{bdir}: no ASan build of {what}. Fix: `./inv build --sanitize` "
                           "(or run the suite with `./inv test`)")
    dut = lab.by_role("dut")
    dut.run("mkdir -p asan/bin asan/lib", timeout=10)
    for p in progs:
        dut.put(p, f"asan/bin/{p.name}", mode=0o755)
    for lib in libs:
        if lib.is_symlink():
            dut.run(f"ln -sfn {lib.readlink().name} asan/lib/{lib.name}", timeout=10)
        elif lib.is_file():
            dut.put(lib, f"asan/lib/{lib.name}", mode=0o755)


# --------------------------------------------------------------------------- processes

def wait_stderr(host: Host, bg: Background, text: str, timeout: float,
                poll: float = 0.1) -> str | None:
    """Wait until `text` shows on a background program's stderr (the apps print
    "...listening on port N" once they accept connections). None when it did;
    otherwise why not ("exited" or "timeout"), the program still as it was, so
    the caller stops and collects it the way it needs and words the failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in host.run(f"cat {bg.err}", timeout=10, check=False).stdout:
            return None
        if not bg.running():
            return "exited"
        time.sleep(poll)
    return "timeout"


def wait_listening(host: Host, port: int, timeout: float = 15.0, poll: float = 0.05) -> None:
    """Until a Linux socket listens on TCP `port` on `host` (one SSH command:
    the peers start in the background and the next step connects to them)."""
    r = host.run(f"for i in $(seq {round(timeout / poll)}); do "
                 f"ss -Htln 'sport = :{port}' | grep -q . && exit 0; sleep {poll:g}; done; "
                 "exit 1", timeout=timeout + 10, check=False)
    if not r.ok:
        raise ToolkitError(f"{host.name}: nothing listens on TCP port {port} after "
                           f"{timeout:g} s")


_EOF = "AATCP_CONF_EOF"
_STATS = "--- aatcp stats file ---"


def run_once(host: Host, command: str, conf: PurePosixPath, conf_text: str,
             stats: PurePosixPath, timeout: float) -> tuple[Result, str, dict[str, Any]]:
    """Run a stack program to its end in one SSH command: write its config,
    run `command` (which reads `conf`), then print the stats file. A sweep makes
    a hundred runs, and each round trip costs 0.1-0.5 s on a busy host.

    Returns the run (rc, timed_out, duration_s, stderr), the program's own
    stdout and the stats file ({} if none)."""
    script = (f"mkdir -p conf run && rm -f {stats} && "
              f"cat > {conf} <<'{_EOF}'\n{conf_text}{_EOF}\n"
              f"{command}; rc=$?; echo; echo {_STATS}; cat {stats} 2>/dev/null; exit $rc")
    r = host.run(script, timeout=timeout, check=False)
    out, _, stats_text = r.stdout.partition(f"\n{_STATS}\n")
    return r, out, parse_json_line(stats_text) or {}


def quote_argv(argv: Iterable[str]) -> str:
    """A shell command line from an argument list."""
    return " ".join(shlex.quote(a) for a in argv)
