#!/usr/bin/env python3
"""Linux peers with behaviour nc cannot give, for tests/e2e/test_core_*.py and
test_proxy_e2e.py.
Runs with the system python3 on the lab's server/client hosts; every mode
prints one JSON object on stdout when it is done, and "core_peer: listening"
on stderr once a listening socket is ready.

    core_peer.py send IP PORT BYTES [--seed S] [--rst-after N]
        connect, send BYTES of seeded data (or only N bytes, then close with a
        RST: SO_LINGER 0), then shut down writing and read to the end
    core_peer.py timed-send IP PORT SECONDS
        connect, send as fast as possible for SECONDS, logging bytes per 0.1 s
        against time.monotonic() (system-wide: comparable across namespaces);
        "core_peer: second N" on stderr after each second
    core_peer.py recv PORT [--rcvbuf B] [--pause S] [--rst-after N] [--send-back M]
        accept one connection; optionally sleep S seconds before reading (the
        window closes), read to the end (or RST after N bytes); with
        --send-back, after the peer's FIN send M bytes back and wait until the
        peer acknowledged all of them (SIOCOUTQ 0), then close
    core_peer.py many IP PORT CONNS BYTES
        open CONNS connections (all of them before any data), send BYTES of
        distinct seeded data on each, shut each down, wait for each to close
    core_peer.py blast IP PORT BYTES
        throughput sender: BYTES from one fixed buffer (no hashing), shut down,
        wait for the receiver's close; seconds from connected to that close;
        also the kernel's segment counts of the connection (TCP_INFO)
    core_peer.py drain PORT
        throughput receiver: accept one connection, read to the end into one
        buffer (no hashing), close; seconds from the first byte to the end
    core_peer.py duplex PORT BYTES [--seed S] [--delay SECS]
        accept one connection; send BYTES of seeded data (after SECS, then
        shut down writing) while reading to the end, in two threads, so neither
        direction waits for the other. nc -l cannot stand in: it exits once
        its network input ended and its buffers are empty, with its own input
        not sent yet (netcat-openbsd 1.219, checked on the lab)
    core_peer.py synflood IP PORT SECONDS RATE SRC_NET [--flags S|A|R]
        raw socket: SYNs at RATE per second to IP:PORT from random addresses
        of SRC_NET and random ports (spoofed: nobody answers the SYN-ACKs);
        --flags A: ACKs with random numbers instead, R: RSTs
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import ipaddress
import json
import random
import resource
import selectors
import socket
import struct
import sys
import termios
import threading
import time

CHUNK = 65536


class Data:
    """Seeded pseudo-random bytes, and the SHA-256 of what was produced."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.hash = hashlib.sha256()

    def take(self, n: int) -> bytes:
        b = self.rng.randbytes(n)
        self.hash.update(b)
        return b


def out(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


def rst_close(s: socket.socket) -> None:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def mark(a: argparse.Namespace, before: int, now: int) -> None:
    """`--mark N`: say on stderr when the N-th byte went through (a test then
    acts mid-transfer, e.g. takes the link down)."""
    if getattr(a, "mark", None) is not None and before < a.mark <= now:
        print("core_peer: mark", file=sys.stderr, flush=True)


def read_all(s: socket.socket, h: hashlib._Hash, limit: int | None = None,
             a: argparse.Namespace | None = None) -> tuple[int, str]:
    """Read to EOF (or `limit` bytes); returns (bytes, error name or '')."""
    n = 0
    try:
        while limit is None or n < limit:
            b = s.recv(CHUNK if limit is None else min(CHUNK, limit - n))
            if not b:
                break
            h.update(b)
            n += len(b)
            if a is not None:
                mark(a, n - len(b), n)
    except OSError as e:
        return n, type(e).__name__
    return n, ""


def send_seeded(s: socket.socket, d: Data, n: int) -> tuple[int, str]:
    """Send n bytes of d; returns (bytes sent, error name or '')."""
    sent = 0
    try:
        while sent < n:
            b = d.take(min(CHUNK, n - sent))
            s.sendall(b)
            sent += len(b)
    except OSError as e:
        return sent, type(e).__name__
    return sent, ""


def listen(port: int, rcvbuf: int = 0) -> socket.socket:
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # inherited by accept
    ls.bind(("0.0.0.0", port))
    ls.listen(64)
    print("core_peer: listening", file=sys.stderr, flush=True)
    return ls


def cmd_send(a: argparse.Namespace) -> None:
    s = socket.create_connection((a.ip, a.port), timeout=a.timeout)
    d = Data(a.seed)
    want = a.bytes if a.rst_after is None else min(a.bytes, a.rst_after)
    sent = 0
    try:
        while sent < want:
            b = d.take(min(CHUNK, want - sent))
            s.sendall(b)
            sent += len(b)
            mark(a, sent - len(b), sent)
    except OSError as e:  # the receiver vanished: no progress for a.timeout
        out({"sent": sent, "error": type(e).__name__})
        s.close()
        return
    if a.rst_after is not None:
        rst_close(s)
        out({"sent": sent, "sha256": d.hash.hexdigest(), "rst": True})
        return
    s.shutdown(socket.SHUT_WR)
    h = hashlib.sha256()
    n, err = read_all(s, h, None, a)
    s.close()
    out({"sent": sent, "sha256": d.hash.hexdigest(), "read": n, "read_sha256": h.hexdigest(),
         "error": err})


def cmd_timed_send(a: argparse.Namespace) -> None:
    s = socket.create_connection((a.ip, a.port), timeout=120)
    buf = random.Random(7).randbytes(CHUNK)
    h = hashlib.sha256()
    t0 = time.monotonic()
    print(f"core_peer: connected {t0:.6f}", file=sys.stderr, flush=True)
    samples, sent, next_t, second = [[t0, 0]], 0, t0 + 0.1, 0
    while True:
        now = time.monotonic()
        if now >= next_t:
            samples.append([now, sent])
            next_t = now + 0.1
            if now - t0 >= second + 1:
                second += 1
                print(f"core_peer: second {second}", file=sys.stderr, flush=True)
            if now - t0 >= a.seconds:
                break
        s.sendall(buf)
        h.update(buf)
        sent += len(buf)
    s.shutdown(socket.SHUT_WR)
    _, err = read_all(s, hashlib.sha256())
    s.close()
    out({"sent": sent, "sha256": h.hexdigest(), "samples": samples, "error": err})


def outq(s: socket.socket) -> int:
    """Bytes sent but not acknowledged yet by the peer (plus unsent)."""
    return struct.unpack("i", fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]


def cmd_recv(a: argparse.Namespace) -> None:
    ls = listen(a.port, a.rcvbuf)
    s, _ = ls.accept()
    s.settimeout(a.timeout)
    if a.pause:
        time.sleep(a.pause)  # the scenario itself: a reader that stops reading
    h = hashlib.sha256()
    n, err = read_all(s, h, a.rst_after, a)
    res = {"received": n, "sha256": h.hexdigest(), "error": err}
    if a.rst_after is not None:
        rst_close(s)
        res["rst"] = True
    elif a.send_back:
        d = Data(a.seed)
        n, err = send_seeded(s, d, a.send_back)
        if err:
            res.update(sent_back=n, error=err)
        else:
            deadline = time.monotonic() + 60
            while outq(s) and time.monotonic() < deadline:
                time.sleep(0.01)
            res.update(sent_back=n, unacked=outq(s), sent_back_sha256=d.hash.hexdigest())
        s.close()
    else:
        s.close()
    out(res)


def cmd_duplex(a: argparse.Namespace) -> None:
    ls = listen(a.port)
    s, _ = ls.accept()
    s.settimeout(120)
    d = Data(a.seed)
    sent, send_err = 0, ""

    def send() -> None:
        nonlocal sent, send_err
        time.sleep(a.delay)
        sent, send_err = send_seeded(s, d, a.bytes)
        try:
            if not send_err:
                s.shutdown(socket.SHUT_WR)
        except OSError as e:
            send_err = type(e).__name__

    t = threading.Thread(target=send)
    t.start()
    h = hashlib.sha256()
    n, err = read_all(s, h)
    t.join()
    s.close()
    out({"sent": sent, "sha256": d.hash.hexdigest(), "received": n,
         "received_sha256": h.hexdigest(), "error": err or send_err})


def cmd_many(a: argparse.Namespace) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, a.conns + 256)), hard))
    socks = []
    for _ in range(a.conns):
        socks.append(socket.create_connection((a.ip, a.port), timeout=60))
    hashes = []
    for i, s in enumerate(socks):
        d = Data(1000 + i)
        s.sendall(d.take(a.bytes))
        s.shutdown(socket.SHUT_WR)
        hashes.append(d.hash.hexdigest())
    # wait until the receiver closed each one (it read everything)
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    left, errors, deadline = len(socks), 0, time.monotonic() + 120
    while left and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            try:
                if s.recv(CHUNK):
                    continue
            except OSError:
                errors += 1
            sel.unregister(s)
            s.close()
            left -= 1
    out({"conns": len(socks), "sha256": hashes, "open_left": left, "errors": errors})


def cpu_seconds() -> float:
    """User + system CPU of this process so far (its syscalls' kernel work,
    the softirq work that ran in its context included)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def sleeps() -> int:
    """How often this process waited so far (voluntary context switches): a
    reader that found its socket empty and slept until data came."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw


#: struct tcp_info (linux/tcp.h): offsets of tcpi_snd_mss, tcpi_segs_out and
#: tcpi_data_segs_out (Linux 4.6+)
TCP_INFO_FIELDS = {"snd_mss": 16, "segs_out": 136, "data_segs_out": 156}


def tcp_segments(s: socket.socket) -> dict[str, int]:
    """The kernel's MSS and segment counts of a connection (TCP_INFO; a
    segment is one MSS, however the kernel batched them with GSO)."""
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 160)
    if len(info) < 160:
        return {}
    return {k: struct.unpack_from("I", info, off)[0] for k, off in TCP_INFO_FIELDS.items()}


def congestion(s: socket.socket) -> str:
    """The connection's congestion control (TCP_CONGESTION)."""
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()


def cmd_blast(a: argparse.Namespace) -> None:
    buf = memoryview(bytes(1 << 20))
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if a.cc:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, a.cc.encode())
    s.settimeout(120)
    s.connect((a.ip, a.port))
    t0 = time.monotonic()
    left = a.bytes
    while left:
        n = s.send(buf[: min(len(buf), left)])
        left -= n
    s.shutdown(socket.SHUT_WR)
    while s.recv(CHUNK):
        pass
    secs = time.monotonic() - t0
    segs = tcp_segments(s)
    cc = congestion(s)
    s.close()
    out({"bytes": a.bytes, "seconds": secs, "gbps": a.bytes * 8 / secs / 1e9,
         "cpu_s": cpu_seconds(), "cc": cc, **segs})


def cmd_drain(a: argparse.Namespace) -> None:
    ls = listen(a.port)
    s, _ = ls.accept()
    buf = bytearray(1 << 20)
    n = s.recv_into(buf)
    t0, z0 = time.monotonic(), sleeps()
    total = n
    while n:
        n = s.recv_into(buf)
        total += n
    secs = time.monotonic() - t0
    s.close()
    out({"bytes": total, "seconds": secs, "gbps": total * 8 / secs / 1e9 if secs else 0.0,
         "cpu_s": cpu_seconds(), "sleeps": sleeps() - z0})


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn_packets(a: argparse.Namespace) -> list[bytes]:
    """Every SYN of the flood, built before it starts: building one in Python
    costs about as much as sending it, and a generator that builds while it
    sends fell short of its rate on a loaded 2-core machine (CI: 13,000/s of
    20,000/s)."""
    rng = random.Random(99)
    net = ipaddress.IPv4Network(a.src_net)
    dst = socket.inet_aton(a.ip)
    avoid = {int(ipaddress.IPv4Address(x)) for x in a.avoid.split(",") if x}
    lo, hi = int(net.network_address) + 1, int(net.broadcast_address) - 1
    pkts = []
    while len(pkts) < int(a.rate * a.seconds):
        src_i = rng.randint(lo, hi)
        if src_i in avoid:
            continue
        src = struct.pack("!I", src_i)
        sport = rng.randint(1024, 65535)
        seq = rng.getrandbits(32)
        flags = {"S": 0x02, "A": 0x10, "R": 0x04}[a.flags]
        ack = rng.getrandbits(32) if flags == 0x10 else 0
        tcp = struct.pack("!HHIIBBHHH", sport, a.port, seq, ack, 5 << 4, flags, 64240, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), rng.getrandbits(16), 0,
                         64, socket.IPPROTO_TCP, 0, src, dst)
        pkts.append(ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + tcp)
    return pkts


def cmd_synflood(a: argparse.Namespace) -> None:
    pkts = syn_packets(a)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    addr = (a.ip, 0)
    t0 = time.monotonic()
    print(f"core_peer: flooding {t0:.6f}", file=sys.stderr, flush=True)
    sent, errors = 0, 0
    while sent < len(pkts):
        now = time.monotonic()
        if now - t0 >= a.seconds:
            break
        due = min(len(pkts), int((now - t0) * a.rate))
        if sent >= due:
            time.sleep(0.001)
            continue
        for p in pkts[sent:due]:
            try:
                s.sendto(p, addr)
            except OSError:
                errors += 1
        sent = due
    end = time.monotonic()
    out({"syns": sent, "errors": errors, "start": t0, "end": end,
         "rate": round(sent / (end - t0))})


def progress_args(q: argparse.ArgumentParser) -> None:
    q.add_argument("--mark", type=int, help="print 'core_peer: mark' after this many bytes")
    q.add_argument("--timeout", type=float, default=120,
                   help="seconds without progress before giving up (TimeoutError)")


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    q = sub.add_parser("send")
    q.add_argument("ip")
    q.add_argument("port", type=int)
    q.add_argument("bytes", type=int)
    q.add_argument("--seed", type=int, default=1)
    q.add_argument("--rst-after", type=int)
    progress_args(q)
    q.set_defaults(fn=cmd_send)
    q = sub.add_parser("duplex")
    q.add_argument("port", type=int)
    q.add_argument("bytes", type=int)
    q.add_argument("--seed", type=int, default=1)
    q.add_argument("--delay", type=float, default=0, help="seconds before sending")
    q.set_defaults(fn=cmd_duplex)
    q = sub.add_parser("timed-send")
    q.add_argument("ip")
    q.add_argument("port", type=int)
    q.add_argument("seconds", type=float)
    q.set_defaults(fn=cmd_timed_send)
    q = sub.add_parser("recv")
    q.add_argument("port", type=int)
    q.add_argument("--rcvbuf", type=int, default=0)
    q.add_argument("--pause", type=float, default=0)
    q.add_argument("--rst-after", type=int)
    q.add_argument("--send-back", type=int, default=0)
    progress_args(q)
    q.add_argument("--seed", type=int, default=5)
    q.set_defaults(fn=cmd_recv)
    q = sub.add_parser("many")
    q.add_argument("ip")
    q.add_argument("port", type=int)
    q.add_argument("conns", type=int)
    q.add_argument("bytes", type=int)
    q.set_defaults(fn=cmd_many)
    q = sub.add_parser("blast")
    q.add_argument("ip")
    q.add_argument("port", type=int)
    q.add_argument("bytes", type=int)
    q.add_argument("--cc", default="", help="congestion control (TCP_CONGESTION; default: "
                   "the namespace's net.ipv4.tcp_congestion_control)")
    q.set_defaults(fn=cmd_blast)
    q = sub.add_parser("drain")
    q.add_argument("port", type=int)
    q.set_defaults(fn=cmd_drain)
    q = sub.add_parser("synflood")
    q.add_argument("ip")
    q.add_argument("port", type=int)
    q.add_argument("seconds", type=float)
    q.add_argument("rate", type=float)
    q.add_argument("src_net")
    q.add_argument("--avoid", default="", help="addresses never used as sources")
    q.add_argument("--flags", default="S", choices=["S", "A", "R"],
                   help="SYNs, ACKs with random numbers, or RSTs")
    q.set_defaults(fn=cmd_synflood)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
