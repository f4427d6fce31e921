"""Hosts reached over SSH (Fabric): run commands, background processes, files.

Every remote command runs through `Host.run`, which:
- wraps the command in coreutils `timeout` on the host, so a timed-out command
  does not keep running there after we gave up on it;
- puts `<workdir>/bin` first in PATH and `<workdir>/lib` in LD_LIBRARY_PATH, so
  deployed programs are found by name and load the deployed libaatcp;
- never sends stdin (CI has none) and captures stdout, stderr and the exit code.
"""

from __future__ import annotations

import errno
import io
import shlex
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import paramiko
from fabric import Config, Connection
from invoke.exceptions import CommandTimedOut

from aatcp.errors import CommandFailed, ToolkitError
from aatcp.labfile import HostSpec, Interface, Port

#: Seconds to wait for a TCP connection + SSH handshake.
CONNECT_TIMEOUT = 10


@dataclass
class Result:
    """What a command did on a host."""

    host: str
    command: str
    rc: int | None
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out


class Background:
    """A process started with `Host.start`; stop it with `stop()`.

    It runs in its own session (setsid) so that stop() can signal the whole
    process group, including children the command started. Its stdout/stderr
    go to files under `<workdir>/run/` which stop() reads back.
    """

    def __init__(self, host: Host, name: str, command: str, pid: int, rundir: PurePosixPath):
        self.host = host
        self.name = name
        self.command = command
        self.pid = pid
        self.out = rundir / f"{name}.out"
        self.err = rundir / f"{name}.err"
        self.rcfile = rundir / f"{name}.rc"
        self.result: Result | None = None
        self._t0 = time.monotonic()

    def running(self) -> bool:
        # Not `kill -0`: an exited process whose new parent does not reap it (pid 1
        # of some containers) stays a zombie and would look alive forever.
        r = self.host.run(f"s=$(cut -d' ' -f3 /proc/{self.pid}/stat 2>/dev/null); "
                          '[ -n "$s" ] && [ "$s" != Z ]', check=False, timeout=10)
        return r.rc == 0

    def cpu_seconds(self) -> float:
        """User + system CPU seconds its processes have used so far: every live
        process of its process group (the command and what it started; the
        shells around it add next to nothing), from /proc/PID/stat's utime and
        stime in clock ticks. Read it before stop(): an exited process has none."""
        r = self.host.run("cat /proc/[0-9]*/stat 2>/dev/null; echo; getconf CLK_TCK",
                          check=False, timeout=10)
        stats, _, tck = r.stdout.rstrip("\n").rpartition("\n")
        if not tck.strip().isdigit():
            raise ToolkitError(f"{self.host.name}: `getconf CLK_TCK` gave {tck[-200:]!r}, "
                               "not the clock tick rate. Fix: a Linux host with /proc and "
                               "getconf (Debian's libc-bin)")
        ticks = 0
        for line in stats.splitlines():
            # pid (comm) state ppid pgrp ... utime stime: fields 14, 15 (proc(5));
            # comm may hold spaces and parentheses, the fields after the last ")" not
            rest = line.rpartition(")")[2].split()
            if len(rest) > 12 and rest[2] == str(self.pid):
                ticks += int(rest[11]) + int(rest[12])
        return ticks / int(tck)

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the process to exit by itself; True if it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                return True
            time.sleep(0.1)
        return False

    def stop(self, signal: str = "TERM", grace: float = 5.0) -> Result:
        """Signal the process group, wait `grace` s, then KILL; return its output and rc.

        rc is the command's exit status: when it exited by itself, handled the
        signal, or died of it (128 + the signal's number, as a shell reports it);
        None when it had to be killed with KILL.
        """
        if self.result is not None:
            return self.result
        # `kill -SIG -PGID` signals the group (dash's kill takes no `--`).
        g = f"-{self.pid}"
        self.host.run(f"kill -{signal} {g} 2>/dev/null || true", check=False, timeout=10)
        if not self.wait(grace):
            self.host.run(f"kill -KILL {g} 2>/dev/null || true", check=False, timeout=10)
            self.wait(2.0)
        return self._collect()

    def _collect(self) -> Result:
        r = self.host.run(
            f"cat {self.out} 2>/dev/null; printf '\\0'; cat {self.err} 2>/dev/null; "
            f"printf '\\0'; cat {self.rcfile} 2>/dev/null",
            check=False, timeout=30)
        parts = [*r.stdout.split("\0"), "", "", ""][:3]
        rc_s = parts[2].strip()
        self.result = Result(self.host.name, self.command, int(rc_s) if rc_s.isdigit() else None,
                             parts[0], parts[1], time.monotonic() - self._t0)
        return self.result


class Host:
    """One host of a lab, reached over SSH.

    Thread-safe: one SSH connection per host, opened on first use; several
    threads may run commands on it at once (each gets its own SSH channel).
    """

    def __init__(self, spec: HostSpec, known_hosts: Path | None = None,
                 load_ssh_config: bool = True, lab_file: Path | None = None) -> None:
        self.spec = spec
        #: the lab file this host comes from (named in errors and fixes)
        self.lab_file = lab_file
        self.name = spec.name
        self.role = spec.role
        self.workdir = spec.workdir
        self._known_hosts = known_hosts
        self._load_ssh_config = load_ssh_config
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._bg_seq = 0

    def __repr__(self) -> str:
        return f"Host({self.name!r}, role={self.role!r}, ssh={self.spec.ssh.address})"

    # ---------------------------------------------------------------- connection

    @property
    def address(self) -> str:
        return self.spec.ssh.address

    def connection(self) -> Connection:
        """The open Fabric connection (opened on first use).

        When SSH does not answer, the ToolkitError says why (the key file is
        missing, the name does not resolve, the port refuses, no answer, the key
        is refused) and what to type to fix it."""
        with self._lock:
            if self._conn is None:
                ssh = self.spec.ssh
                if ssh.key is not None and not ssh.key.exists():
                    raise ToolkitError(self._ssh_problem(
                        f"the key file {ssh.key} does not exist", self._key_fix()))
                kwargs: dict[str, object] = {"banner_timeout": CONNECT_TIMEOUT,
                                             "auth_timeout": CONNECT_TIMEOUT}
                if ssh.key is not None:
                    kwargs.update(key_filename=str(ssh.key), look_for_keys=False,
                                  allow_agent=False)
                config = Config(overrides={"load_ssh_configs": self._load_ssh_config})
                conn = Connection(ssh.address, user=ssh.user, port=ssh.port, config=config,
                                  connect_timeout=CONNECT_TIMEOUT, connect_kwargs=kwargs)
                if self._known_hosts is not None:
                    # Local labs: we generated the host key, so we can check it.
                    if not self._known_hosts.exists():
                        raise ToolkitError(self._ssh_problem(
                            f"{self._known_hosts} does not exist: the local lab is not up",
                            f"`{self._inv('lab.up')}`"))
                    conn.client.load_host_keys(str(self._known_hosts))
                    conn.client.set_missing_host_key_policy(paramiko.RejectPolicy())
                self._conn = conn
            conn = self._conn
            if not conn.is_connected:
                try:
                    conn.open()
                except (OSError, paramiko.SSHException) as e:
                    raise ToolkitError(self._ssh_problem(*self._diagnose(e))) from None
            return conn

    def _inv(self, task: str) -> str:
        """The command line a user types for `task` on this host's lab."""
        hosts = f" --hosts {self.lab_file}" if self.lab_file is not None else ""
        return f"./inv {task}{hosts}"

    def _ssh_problem(self, why: str, fix: str) -> str:
        ssh = self.spec.ssh
        return f"{self.name}: cannot SSH to {ssh.user}@{ssh.address}:{ssh.port}: {why}. Fix: {fix}"

    def _key_fix(self) -> str:
        where = f" in {self.lab_file}" if self.lab_file is not None else ""
        if self._known_hosts is not None:
            return f"bring the local lab up: `{self._inv('lab.up')}` (it generates the key)"
        return (f"create it (`ssh-keygen -t ed25519 -f {self.spec.ssh.key}`) and add its .pub "
                f"to the host's authorized_keys, or point ssh.key{where} at an existing key")

    def _diagnose(self, e: BaseException) -> tuple[str, str]:
        """(why SSH failed, the fix) for an exception of Connection.open()."""
        ssh = self.spec.ssh
        where = f" in {self.lab_file}" if self.lab_file is not None else ""
        local = self._known_hosts is not None
        down_fix = (f"bring the lab up: `{self._inv('lab.up')}`, then `{self._inv('lab.status')}`"
                    if local else f"is the machine up and sshd running on port {ssh.port}? "
                    f"`{self._inv('lab.status')}` checks every host")
        if isinstance(e, socket.gaierror):
            return (f"the name '{ssh.address}' does not resolve ({e.strerror})",
                    f"correct ssh.address{where} or add the name to DNS or /etc/hosts")
        if isinstance(e, paramiko.AuthenticationException):
            key = f"the key {ssh.key}" if ssh.key else "the agent's and default keys"
            return (f"authentication refused for user {ssh.user} with {key}",
                    f"add the key's .pub to ~{ssh.user}/.ssh/authorized_keys there, or correct "
                    f"ssh.user/ssh.key{where}")
        errnos = {getattr(x, "errno", None) for x in
                  getattr(e, "errors", {}).values()} | {getattr(e, "errno", None)}
        if errno.ECONNREFUSED in errnos:
            return f"connection refused on port {ssh.port} (no sshd listening)", down_fix
        if isinstance(e, TimeoutError | socket.timeout) or errno.ETIMEDOUT in errnos:
            return f"no answer within {CONNECT_TIMEOUT} s", down_fix
        if errno.EHOSTUNREACH in errnos or errno.ENETUNREACH in errnos:
            return "no route to the host", down_fix
        return str(e) or type(e).__name__, down_fix

    def problem(self, timeout: float = 5.0) -> str | None:
        """None when the host answers over SSH (connect + run `true`), else why not."""
        try:
            r = self.run("true", timeout=timeout, check=False)
        except ToolkitError as e:
            return str(e)
        return None if r.ok else f"{self.name}: `true` over SSH exited {r.rc}"

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def answers(self, timeout: float = 5.0) -> bool:
        """Does the host answer over SSH (connect + run `true`)?"""
        return self.problem(timeout) is None

    # ---------------------------------------------------------------- commands

    def _wrap(self, command: str, timeout: float | None, env: dict[str, str] | None,
              cwd: str | PurePosixPath | None) -> str:
        wd = shlex.quote(str(self.workdir))
        exports = [f"PATH={wd}/bin:$PATH", f"LD_LIBRARY_PATH={wd}/lib"]
        for k, v in (env or {}).items():
            exports.append(f"{k}={shlex.quote(v)}")
        cd = f"cd {shlex.quote(str(cwd))}" if cwd is not None else f"cd {wd} 2>/dev/null || true"
        inner = f"{cd}; export {' '.join(exports)}; {command}"
        if timeout is not None:
            # -k: KILL 5 s after TERM if the command ignores TERM.
            return f"timeout -k 5 {timeout:g} sh -c {shlex.quote(inner)}"
        return f"sh -c {shlex.quote(inner)}"

    def run(self, command: str, timeout: float | None = 60, check: bool = True,
            env: dict[str, str] | None = None, cwd: str | PurePosixPath | None = None) -> Result:
        """Run a shell command on the host and capture stdout, stderr and rc.

        timeout: seconds (None: no limit); on expiry the command is killed on the
        host and the result has timed_out=True (rc 124). check: raise
        CommandFailed when rc != 0 or on timeout. cwd defaults to the workdir when
        it exists.
        """
        wrapped = self._wrap(command, timeout, env, cwd)
        conn = self.connection()
        t0 = time.monotonic()
        timed_out = False
        try:
            r = conn.run(wrapped, hide=True, warn=True, in_stream=False, pty=False,
                         timeout=(timeout + 15) if timeout is not None else None)
            rc, out, err = r.exited, r.stdout, r.stderr
        except CommandTimedOut as e:
            rc, out, err, timed_out = None, e.result.stdout, e.result.stderr, True
        if rc == 124 and timeout is not None:
            timed_out = True
        res = Result(self.name, command, rc, out, err, time.monotonic() - t0, timed_out)
        if check and not res.ok:
            raise CommandFailed(self.name, command, rc, out, err, timed_out)
        return res

    def start(self, command: str, name: str | None = None, env: dict[str, str] | None = None,
              cwd: str | PurePosixPath | None = None) -> Background:
        """Start a long-running command in the background; returns a handle to stop it.

        The command runs under `sh -c` (dash keeps that shell around it): start a
        single program as `exec prog ...` so that stop()'s signal reaches the
        program itself and the recorded exit status is the program's."""
        with self._lock:
            self._bg_seq += 1
            seq = self._bg_seq
        name = name or f"bg{seq}"
        rundir = self.workdir / "run"
        out, err, rcf = (rundir / f"{name}.{s}" for s in ("out", "err", "rc"))
        # The outer sh records the command's exit status; setsid puts both in a
        # fresh session whose process group id is the outer sh's pid ($!). It
        # traps the signals stop() sends to the group so that it outlives the
        # command and writes its status (a trap, unlike an ignored signal, is
        # not inherited: the command still gets TERM as usual).
        script = (f"trap : TERM INT HUP; sh -c {shlex.quote(command)}; "
                  f"echo $? > {shlex.quote(str(rcf))}")
        launch = (f"mkdir -p {rundir} && rm -f {out} {err} {rcf} && "
                  f"setsid sh -c {shlex.quote(script)} > {out} 2> {err} < /dev/null & echo $!")
        r = self.run(launch, timeout=30, env=env, cwd=cwd)
        try:
            pid = int(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise CommandFailed(self.name, command, r.rc, r.stdout,
                                "could not read the background pid") from None
        return Background(self, name, command, pid, rundir)

    # ---------------------------------------------------------------- files

    def sftp(self) -> paramiko.SFTPClient:
        return self.connection().sftp()

    def put(self, local: str | Path, remote: str | PurePosixPath, mode: int | None = None) -> None:
        """Copy a local file to the host (remote path absolute or relative to workdir)."""
        rp = self._abs(remote)
        self.connection().put(str(local), str(rp))
        if mode is not None:
            self.sftp().chmod(str(rp), mode)

    def get(self, remote: str | PurePosixPath, local: str | Path) -> None:
        self.connection().get(str(self._abs(remote)), str(local))

    def write_file(self, remote: str | PurePosixPath, data: str | bytes,
                   mode: int | None = None) -> None:
        buf = io.BytesIO(data.encode() if isinstance(data, str) else data)
        rp = self._abs(remote)
        self.connection().put(buf, str(rp))
        if mode is not None:
            self.sftp().chmod(str(rp), mode)

    def read_file(self, remote: str | PurePosixPath) -> bytes:
        buf = io.BytesIO()
        self.connection().get(str(self._abs(remote)), buf)
        return buf.getvalue()

    def _abs(self, p: str | PurePosixPath) -> PurePosixPath:
        pp = PurePosixPath(p)
        return pp if pp.is_absolute() else self.workdir / pp

    def bin(self, program: str) -> PurePosixPath:
        """Where a deployed program lives on the host."""
        return self.workdir / "bin" / program

    # ---------------------------------------------------------------- facts

    def mac(self, iface: str) -> str:
        """MAC address of a Linux interface on the host."""
        r = self.run(f"cat /sys/class/net/{shlex.quote(iface)}/address", timeout=10, check=False)
        if not r.ok:
            raise ToolkitError(f"{self.name}: cannot read the MAC of interface '{iface}': "
                               f"{r.stderr.strip()}. Fix: is the lab up and the name right?")
        return r.stdout.strip()

    def facts(self) -> dict[str, str]:
        """Kernel, CPU, cores and OS of the host (for meta.json)."""
        r = self.run(
            "uname -r; uname -m; nproc; "
            "sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1; "
            ". /etc/os-release 2>/dev/null; echo \"$PRETTY_NAME\"; hostname",
            timeout=20, check=False)
        keys = ["kernel", "arch", "cpus", "cpu_model", "os", "hostname"]
        vals = r.stdout.splitlines() + [""] * len(keys)
        return dict(zip(keys, (v.strip() for v in vals), strict=False))

    def endpoint(self, name: str) -> Interface | Port | None:
        return self.spec.endpoint(name)
