#!/usr/bin/env python3
"""Linux peer of the application-aware tests (tests/e2e/test_aa_*.py): sends
the bytes of a file to a connection, cut into writes of random sizes with
TCP_NODELAY so that records and fields are split across segments at odd
places. Runs with the system python3 on the lab's server/client hosts;
prints one JSON object on stdout when done, and "aa_peer: listening" on
stderr once its listening socket is ready.

    aa_peer.py serve PORT FILE [--conns K] [--seed S] [--max-write N] [--read-request] [--rst]
        accept K connections one after another (default 1); on each, with
        --read-request wait for the first bytes from the client first (its
        request), then send FILE, shut down writing and read until the client
        closes; with --rst, instead wait until the client acknowledged every
        byte, then reset the connection (SO_LINGER 0). Reports per connection:
        bytes sent, whether everything was sent, seconds to send it, and
        whether the client closed.
    aa_peer.py send IP PORT FILE [--seed S] [--max-write N]
        connect and send FILE the same way (a client: HTTP requests into the
        stack), then read the answers until the stack closes; reports the
        bytes read back.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import random
import socket
import struct
import sys
import termios
import time
from pathlib import Path


def send_file(sock: socket.socket, data: bytes, seed: int, max_write: int) -> float:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rng = random.Random(seed)
    t0 = time.monotonic()
    i = 0
    while i < len(data):
        # mostly large writes (fast), some tiny ones (odd splits)
        n = rng.randrange(1, 64) if rng.random() < 0.3 else rng.randrange(1, max_write + 1)
        sock.sendall(data[i:i + n])
        i += n
    return time.monotonic() - t0


def reset_when_acked(sock: socket.socket, timeout: float = 30.0) -> bool:
    """Once the peer acknowledged everything (SIOCOUTQ 0), close with a RST."""
    deadline = time.monotonic() + timeout
    acked = False
    while time.monotonic() < deadline:
        left = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
        if left == 0:
            acked = True
            break
        time.sleep(0.01)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    return acked


def drain(sock: socket.socket, timeout: float = 60.0) -> tuple[bool, int]:
    """Read until the other side closes: (closed, bytes read)."""
    sock.settimeout(timeout)
    got = 0
    try:
        while True:
            b = sock.recv(65536)
            if not b:
                return True, got
            got += len(b)
    except (TimeoutError, OSError):
        return False, got


def serve(a: argparse.Namespace) -> None:
    data = Path(a.file).read_bytes()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", a.port))
    ls.listen(8)
    print("aa_peer: listening", file=sys.stderr, flush=True)
    out = []
    for k in range(a.conns):
        c, _ = ls.accept()
        rep: dict[str, object] = {"bytes": len(data)}
        try:
            if a.read_request:
                c.recv(65536)
            rep["send_s"] = round(send_file(c, data, a.seed + k, a.max_write), 3)
            rep["all_sent"] = True
            if a.rst:
                rep["acked_then_reset"] = reset_when_acked(c)
                out.append(rep)
                continue
            c.shutdown(socket.SHUT_WR)
        except OSError as e:
            rep["all_sent"] = False
            rep["error"] = str(e)
        rep["client_closed"], _ = drain(c)
        c.close()
        out.append(rep)
    print(json.dumps({"conns": out}), flush=True)


def send(a: argparse.Namespace) -> None:
    data = Path(a.file).read_bytes()
    c = socket.create_connection((a.ip, a.port), timeout=30)
    rep: dict[str, object] = {"bytes": len(data)}
    rep["send_s"] = round(send_file(c, data, a.seed, a.max_write), 3)
    c.shutdown(socket.SHUT_WR)
    rep["closed"], rep["read_back"] = drain(c)
    c.close()
    print(json.dumps(rep), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("port", type=int)
    s.add_argument("file")
    s.add_argument("--conns", type=int, default=1)
    s.add_argument("--read-request", action="store_true")
    s.add_argument("--rst", action="store_true")
    t = sub.add_parser("send")
    t.add_argument("ip")
    t.add_argument("port", type=int)
    t.add_argument("file")
    for p in (s, t):
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--max-write", type=int, default=20000)
    a = ap.parse_args()
    serve(a) if a.cmd == "serve" else send(a)


if __name__ == "__main__":
    main()
