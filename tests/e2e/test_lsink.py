"""apps/linux/lsink, the Linux sink of the chapter 5 experiments, against Linux
listeners on loopback: many connections deliver every byte, and connections
that are never established make it fail within its connect timeout instead of
hanging (table5_2's 100-connection runs used to time out in connect())."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.build

PER_CONN = 256 * 1024


def lsink(build: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(build / "apps/linux/lsink"), *args], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_many_connections_deliver_every_byte(release_build: Path) -> None:
    """100 connections, each sent PER_CONN bytes of its own pattern: lsink counts
    exactly that much on every one (read to the end, no -t)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(128)
    port = ls.getsockname()[1]
    sent: list[int] = []

    def serve() -> None:
        for i in range(100):
            c, _ = ls.accept()
            data = bytes([i]) * PER_CONN
            c.sendall(data)
            sent.append(len(data))
            c.close()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    r = lsink(release_build, "-c", f"127.0.0.1:{port}", "-k", "100", "-r", "65536")
    th.join(timeout=30)
    ls.close()
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["conns"] == 100 and out["errors"] == 0
    assert out["per_conn_bytes"] == [PER_CONN] * 100
    assert out["bytes"] == sum(sent) == 100 * PER_CONN


def test_connections_never_established_fail_within_the_timeout(release_build: Path) -> None:
    """A listener that never accepts: its queue (backlog 1) holds two
    connections, the kernel drops the other SYNs. lsink must give up after -T
    seconds and say how many are missing (it used to block in connect() for
    the kernel's two minutes of SYN retries)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    port = ls.getsockname()[1]
    t0 = time.monotonic()
    r = lsink(release_build, "-c", f"127.0.0.1:{port}", "-k", "6", "-t", "1", "-T", "2",
              timeout=30)
    took = time.monotonic() - t0
    ls.close()
    assert r.returncode == 1 and r.stdout == ""
    assert "of 6 connections not established after 2 s" in r.stderr, r.stderr
    assert f"could not connect to 127.0.0.1:{port}" in r.stderr
    assert took < 10, took
