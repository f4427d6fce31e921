"""Core stack robustness against Linux peers (issues 3 and 15): many
connections, connection churn, half-close both ways, RSTs from the peer
mid-transfer, a peer that stops reading (zero window, persist probes; for
30 s here, for 5 minutes with AATCP_LONG=1), a peer that vanishes
mid-transfer (its link goes down: no FIN, no RST) while we send or receive,
and SYN, ACK and RST floods. Every byte that must arrive is checked with SHA-256; every
stack run must leave mbufs_in_use == 0 and tcbs_in_use == 0 (fixture).

Peers: nginx, curl, nc, and tests/e2e/peers/core_peer.py where a behaviour
needs a socket option or timing nc cannot give (SO_LINGER 0, a small
SO_RCVBUF and a reader that sleeps, 1000 sockets at once, raw SYNs).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from floods import (
    CLEAN_DEADLINE,
    FLOOD_RATE,
    flood_with_clean_clients,
    peer_result,
    start_core_peer,
)
from stackrun import (
    StackResult,
    StackRunner,
    iface_towards,
    link_down,
    make_files,
    seeded_sha256,
    start_nginx,
)

from aatcp.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.build]

NGINX_PORT = 8094
EPS_PORT = 8095
SINK_PORT = 5121
PEER_PORT = 5122
WWW = {"r1k": 1000, "r4m": 4 << 20, "r64m": 64 << 20}
NGINX_FILES = {"n1k": 1000}
SHA: dict[str, str] = {}


@pytest.fixture(scope="module")
def lab(peer_scripts: Lab) -> Iterator[Lab]:
    r = StackRunner(peer_scripts)
    SHA.update(make_files(r.dut, "www_robust", WWW))
    SHA.update(make_files(r.server, "www_robust", NGINX_FILES))
    start_nginx(r, r.server, "www_robust", NGINX_PORT, name="robustnginx")
    try:
        yield peer_scripts
    finally:
        r.close()


# --------------------------------------------------------------------------- many connections


def test_1000_concurrent_epwget(lab: Lab, stack: StackRunner) -> None:
    """epwget opens 1000 connections at once to nginx (2000 requests, one per
    connection, max_concurrency sized for it): every request answered, intact."""
    url = f"http://{stack.peer_ip('server')}:{NGINX_PORT}/n1k"
    res = stack.start("epwget", url, "2000", "-c", "1000",
                      overrides={"max_concurrency": 2048}).wait(120).check_clean()
    rep = res.report
    assert rep is not None
    assert (rep["requests"], rep["errors"], rep["status"]) == (2000, 0, 200), rep
    assert rep["sha256"] == SHA["n1k"] and rep["same"] is True
    assert res.counter("conn_active") == 2000


def test_1000_concurrent_into_sink(lab: Lab, stack: StackRunner) -> None:
    """A Linux client holds 1000 connections to our sink open at once, then sends
    16 KB of distinct data on each: sink reads 1000 intact streams."""
    sink = stack.start("sink", "-l", str(SINK_PORT), "-k", "1000",
                       overrides={"max_concurrency": 1100}, ready="listening on port")
    peer = start_core_peer(stack, "client",
                           f"many {stack.stack_ip('client')} {SINK_PORT} 1000 16384", "many")
    out = peer_result(peer, 120)
    res = sink.wait(60).check_clean()
    c0 = res.stats["cores"][0]
    info = {k: v for k, v in c0.items() if isinstance(v, int) and v} | {
        "drops": {k: v for k, v in c0["drops"].items() if v}, "peer_errors": out["errors"],
        "open_left": out["open_left"], "stderr": res.stderr[-500:]}
    assert out["conns"] == 1000 and out["open_left"] == 0 and out["errors"] == 0, \
        json.dumps(info)
    rep = res.report
    assert rep is not None and rep["conns"] == 1000 and rep["bytes"] == 1000 * 16384
    assert sorted(rep["sha256"]) == sorted(out["sha256"])
    assert res.counter("conn_passive") == 1000


def test_churn_10000_connections(lab: Lab, stack: StackRunner) -> None:
    """10,000 short connections (one request each, 50 at a time) to nginx."""
    url = f"http://{stack.peer_ip('server')}:{NGINX_PORT}/n1k"
    res = stack.start("epwget", url, "10000", "-c", "50").wait(240).check_clean()
    rep = res.report
    assert rep is not None
    assert (rep["requests"], rep["errors"]) == (10000, 0), rep
    assert rep["sha256"] == SHA["n1k"] and rep["same"] is True
    assert res.counter("conn_active") == 10000
    assert res.counter("conn_closed") >= 10000


# --------------------------------------------------------------------------- half-close


def test_peer_halfclose_we_keep_sending(lab: Lab, stack_any: StackRunner) -> None:
    """nc sends an HTTP/1.0 request and shuts down its sending side right away
    (-N): epserver still sends the whole 4 MB answer, then closes."""
    st = stack_any
    eps = st.start("epserver", "-p", "www_robust", "-l", str(EPS_PORT),
                   ready="listening on port")
    cl = st.client
    cl.run(f"printf 'GET /r4m HTTP/1.0\\r\\n\\r\\n' | nc -N {st.stack_ip('client')} {EPS_PORT} "
           "> run/hc.out", timeout=60)
    raw = cl.read_file("run/hc.out")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    assert len(body) == WWW["r4m"] and hashlib.sha256(body).hexdigest() == SHA["r4m"]
    res = eps.stop().check_clean()
    assert res.report == {"requests": 1}


def test_we_halfclose_keep_reading(lab: Lab, stack_any: StackRunner) -> None:
    """source sends 1 MB and shuts down its sending side; the Linux peer reads to
    our FIN, then sends 1 MB back: the stack keeps receiving on the half-closed
    connection (the peer sees every byte acknowledged) until the peer closes."""
    st = stack_any
    peer = start_core_peer(st, "client", f"recv {PEER_PORT} --send-back 1048576", "hcpeer",
                           listening=True)
    args = ["-c", f"{st.peer_ip('client')}:{PEER_PORT}", "-n", "1048576", "-s", "9"]
    res = st.start("source", *args).wait(60).check_clean()
    out = peer_result(peer, 60)
    assert out["error"] == "" and out["received"] == 1048576, out
    assert res.report is not None and res.report["sha256"] == [out["sha256"]]
    assert out["sent_back"] == 1048576 and out["unacked"] == 0, out
    assert "peer closed" not in res.stderr  # we closed our side first


# --------------------------------------------------------------------------- resets


def test_peer_rst_while_we_receive(lab: Lab, stack_any: StackRunner) -> None:
    """The Linux sender aborts (RST, SO_LINGER 0) after 2 MB of 64: sink sees the
    reset, ends the stream and exits; nothing leaks."""
    st = stack_any
    sink = st.start("sink", "-l", str(SINK_PORT), "-q", ready="listening on port")
    out = peer_result(start_core_peer(
        st, "client", f"send {st.stack_ip('client')} {SINK_PORT} {64 << 20} --rst-after "
        f"{2 << 20}", "rstsend"), 60)
    res = sink.wait(60).check_clean()
    assert out["rst"] and out["sent"] == 2 << 20
    assert res.report is not None and res.report["conns"] == 1
    assert res.report["bytes"] <= 2 << 20
    assert res.counter("conn_reset_rcvd") == 1
    assert "reset" in res.stderr.lower(), res.stderr


def test_peer_rst_while_we_send(lab: Lab, stack_any: StackRunner) -> None:
    """The Linux receiver aborts after reading 1 MB while source is sending 64 MB:
    source's write fails, it exits; nothing leaks."""
    st = stack_any
    peer = start_core_peer(st, "client", f"recv {PEER_PORT} --rst-after {1 << 20}", "rstrecv",
                           listening=True)
    res = st.start("source", "-c", f"{st.peer_ip('client')}:{PEER_PORT}", "-n", str(64 << 20),
                   "-q").wait(60).check_clean()
    out = peer_result(peer, 30)
    assert out["rst"] and out["received"] == 1 << 20
    assert res.report is not None and res.report["bytes"] < 64 << 20
    assert res.counter("conn_reset_rcvd") == 1


def test_curl_killed_mid_download(lab: Lab, stack: StackRunner) -> None:
    """curl (reading slowly) is killed with SIGKILL during a 64 MB download: its
    kernel resets the connection; epserver serves the next client normally."""
    ip = stack.stack_ip("client")
    eps = stack.start("epserver", "-p", "www_robust", "-l", str(EPS_PORT),
                      ready="listening on port")
    cl = stack.client
    cl.run("rm -f run/partial", timeout=10)
    curl = stack.start_peer(cl, f"exec curl -sS --limit-rate 4M -o run/partial "
                                f"http://{ip}:{EPS_PORT}/r64m", name="slowcurl")
    r = cl.run("for i in $(seq 300); do [ $(stat -c %s run/partial 2>/dev/null || echo 0) "
               "-gt 1048576 ] && exit 0; sleep 0.05; done; exit 1", timeout=30, check=False)
    assert r.ok, "curl got no megabyte in 15 s"
    curl.stop("KILL")
    r = cl.run(f"bash -o pipefail -c 'curl -sS --fail --max-time 30 http://{ip}:{EPS_PORT}/r4m "
               "| sha256sum'", timeout=40)
    assert r.stdout.split()[0] == SHA["r4m"]
    res = eps.stop().check_clean()
    assert res.counter("conn_reset_rcvd") >= 1


# --------------------------------------------------------------------------- zero window


def test_zero_window_then_resume(lab: Lab, stack: StackRunner) -> None:
    """The Linux receiver (16 KB receive buffer) does not read for 2.5 s: our
    window closes, the stack sends persist probes, and the 4 MB transfer
    completes intact once the receiver reads again."""
    peer = start_core_peer(stack, "client", f"recv {PEER_PORT} --rcvbuf 16384 --pause 2.5",
                           "slowpeer", listening=True)
    res = stack.start("source", "-c", f"{stack.peer_ip('client')}:{PEER_PORT}", "-n",
                      str(4 << 20), "-s", "4").wait(90).check_clean()
    out = peer_result(peer, 30)
    assert out["error"] == "" and out["received"] == 4 << 20
    assert res.report is not None and res.report["sha256"] == [out["sha256"]]
    assert res.counter("zero_window_probes") > 0, "the window closed but no persist probe"


ZW_RETRIES = 3          # tcp_retries: fewer than the probes a held window sees
ZW_HOLD = 25.0          # seconds the CI variant holds the window at zero
ZW_LONG_HOLD = 300.0    # the "minutes" variant (AATCP_LONG=1)


def zero_window_held(stack: StackRunner, hold: float) -> int:
    """A Linux reader (16 KB receive buffer) reads nothing for `hold` seconds
    while source has 4 MB for it; then it reads everything. Returns the
    number of zero-window probes the stack sent."""
    peer = start_core_peer(stack, "client", f"recv {PEER_PORT} --rcvbuf 16384 --pause {hold:g}",
                           "zwpeer", listening=True)
    res = stack.start("source", "-c", f"{stack.peer_ip('client')}:{PEER_PORT}", "-n",
                      str(4 << 20), "-s", "4",
                      overrides={"tcp_retries": ZW_RETRIES}).wait(hold + 90).check_clean()
    out = peer_result(peer, 60)
    assert out["error"] == "" and out["received"] == 4 << 20, out
    assert res.report is not None and res.report["sha256"] == [out["sha256"]]
    probes = res.counter("zero_window_probes")
    print(f"zero window held {hold:g} s: {probes} persist probes, "
          f"conn_timedout {res.counter('conn_timedout')}")
    # each probe was answered (window still 0): none counts towards
    # tcp_retries, so more probes than tcp_retries and no abort
    assert probes > ZW_RETRIES, f"only {probes} probes in {hold:g} s"
    assert res.counter("conn_timedout") == 0
    return probes


def test_zero_window_held_robust(lab: Lab, stack: StackRunner) -> None:
    """The peer holds its window at zero for 25 s (RFC 9293 3.8.6.1): the
    stack probes with a backoff of its own (about 6 probes), each answered,
    so the connection lives although tcp_retries is 3; then all 4 MB arrive
    intact. The "minutes" variant is test_zero_window_minutes_robust."""
    zero_window_held(stack, ZW_HOLD)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("AATCP_LONG"), reason="5 minutes long: AATCP_LONG=1 "
                    "./inv test --no-build --only py --pytest-args '-k minutes'")
def test_zero_window_minutes_robust(lab: Lab, stack: StackRunner) -> None:
    """As test_zero_window_held_robust with the window held for 5 minutes
    (the probes back off to one a minute): the connection lives, every byte
    arrives. Skipped unless AATCP_LONG=1 (CI time)."""
    zero_window_held(stack, ZW_LONG_HOLD)


OUR_HOLD = 12.0         # seconds sink stops reading (-P)
OUR_HOLD_TIMEOUT = 10   # tcp_timeout meanwhile: shorter than the hold


def test_our_window_held_robust(lab: Lab, stack: StackRunner) -> None:
    """Our application (sink -P) stops reading for 12 s, longer than
    tcp_timeout (10 s here): the window closes and the Linux sender probes
    it at growing intervals (each probe an ACK below RCV.NXT, outside the
    window; RFC 1122 4.2.2.17). The probes are the peer speaking, so the
    idle timeout does not end the connection; then every byte arrives
    (SHA-256). Counted as silence, the connection was reset at 10 s."""
    st = stack
    sink = st.start("sink", "-l", str(SINK_PORT), "-P", f"{OUR_HOLD:g}",
                    overrides={"tcp_timeout": OUR_HOLD_TIMEOUT}, ready="listening on port")
    out = peer_result(start_core_peer(st, "client", f"send {st.stack_ip('client')} {SINK_PORT} "
                                      f"{4 << 20}", "holdsend"), OUR_HOLD + 60)
    res = sink.wait(60).check_clean()
    assert "paused for" in res.stderr, res.stderr
    assert out.get("error", "") == "" and out["sent"] == 4 << 20, out
    assert res.report is not None and res.report["sha256"] == [out["sha256"]]
    assert res.counter("conn_timedout") == 0
    assert res.counter("window_updates") >= 1


# --------------------------------------------------------------------------- vanishing peer

VANISH_RETRIES = 5      # tcp_retries: 0.2 s * (2^6 - 1) = 12.6 s of retransmissions
VANISH_FILE = 512 << 20
VANISH_MARK = 1 << 20   # the link goes down once the peer has this much


def test_peer_vanishes_while_we_send_robust(lab: Lab, stack_any: StackRunner) -> None:
    """source streams a 512 MB file to a Linux reader; once the reader has 1 MB
    its link goes down (it vanishes: no FIN, no RST). The stack retransmits
    with backoff and gives up after tcp_retries (5 here: about 12.6 s; RFC 9293
    3.8.3 R2): RST, ETIMEDOUT to source, every mbuf and TCB back. What the
    reader got before is the file's prefix (SHA-256). Release and ASan builds."""
    st = stack_any
    st.dut.run(f"mkdir -p vanish && [ $(stat -c %s vanish/v512m 2>/dev/null || echo 0) -eq "
               f"{VANISH_FILE} ] || head -c {VANISH_FILE} /dev/urandom > vanish/v512m",
               timeout=120)
    peer = start_core_peer(st, "client", f"recv {PEER_PORT} --mark {VANISH_MARK} --timeout 5",
                           "vanishrecv", listening=True)
    src = st.start("source", "-c", f"{st.peer_ip('client')}:{PEER_PORT}", "-n",
                   str(VANISH_FILE), "-i", "vanish/v512m", "-q",
                   overrides={"tcp_retries": VANISH_RETRIES})
    st.wait_file(st.client, str(peer.err), "core_peer: mark", 30)
    with link_down(st.client, iface_towards(st.lab, st.client.name, st.dut.name)) as t_down:
        res = src.wait(120)
        took = time.monotonic() - t_down
        out = peer_result(peer, 30)
    res.check_clean()
    info = json.dumps({"abort_after_s": round(took, 1), "rto_expired": res.counter("rto_expired"),
                       "retransmits": res.counter("retransmits"),
                       "conn_timedout": res.counter("conn_timedout"), "peer": out,
                       "stderr": res.stderr[-300:]})
    print(f"peer vanished while we sent: {info}")
    assert "Connection timed out" in res.stderr, info
    assert res.counter("conn_timedout") == 1, info
    assert res.counter("rto_expired") >= VANISH_RETRIES, info
    assert 12.6 * 0.9 <= took <= 12.6 + 10, info
    n = out["received"]
    assert out["error"] == "TimeoutError" and VANISH_MARK <= n < VANISH_FILE, info
    want = st.dut.run(f"head -c {n} vanish/v512m | sha256sum", timeout=60).stdout.split()[0]
    assert out["sha256"] == want, "the reader's bytes are not the file's prefix"


@pytest.mark.parametrize("how", ["keepalive", "idle"])
def test_peer_vanishes_while_we_receive_robust(lab: Lab, stack: StackRunner, how: str) -> None:
    """A Linux sender streams 4 GB to sink; after 1 MB its link goes down. The
    stack has nothing in flight, so no retransmission notices: with
    SO_KEEPALIVE (sink -K; tcp_keepalive_time 2 s, _intvl 1 s, _probes 3) the
    3 unanswered keep-alives abort the connection about 5 s after the last
    segment (RFC 9293 3.8.4); without it the idle timeout (tcp_timeout 5 s)
    does. Either way: ETIMEDOUT to sink, every mbuf and TCB back, and what
    sink got is the sender's prefix (SHA-256)."""
    st = stack
    ka = how == "keepalive"
    ov = ({"tcp_keepalive_time": 2, "tcp_keepalive_intvl": 1, "tcp_keepalive_probes": 3}
          if ka else {"tcp_timeout": 5})
    sink = st.start("sink", "-l", str(SINK_PORT), *(["-K"] if ka else []), overrides=ov,
                    ready="listening on port")
    peer = start_core_peer(st, "client", f"send {st.stack_ip('client')} {SINK_PORT} {4 << 30} "
                           f"--seed 3 --mark {VANISH_MARK} --timeout 5", "vanishsend")
    st.wait_file(st.client, str(peer.err), "core_peer: mark", 30)
    with link_down(st.client, iface_towards(st.lab, st.client.name, st.dut.name)) as t_down:
        res = sink.wait(60)
        took = time.monotonic() - t_down
        out = peer_result(peer, 30)
    res.check_clean()
    info = json.dumps({"abort_after_s": round(took, 1),
                       "keepalive_probes": res.counter("keepalive_probes"),
                       "conn_timedout": res.counter("conn_timedout"), "peer": out,
                       "stderr": res.stderr[-300:]})
    print(f"peer vanished while we received ({how}): {info}")
    assert "Connection timed out" in res.stderr, info
    assert res.counter("conn_timedout") == 1, info
    assert res.counter("keepalive_probes") == (3 if ka else 0), info
    assert 4.0 <= took <= 5 + 10, info
    rep = res.report
    assert rep is not None and rep["conns"] == 1 and VANISH_MARK <= rep["bytes"] < 4 << 30
    assert rep["sha256"] == [seeded_sha256(3, rep["bytes"])], "sink's bytes are not the prefix"


# --------------------------------------------------------------------------- SYN flood


FLOOD_SECONDS = 3.0
SEND_SECONDS = 7.0
MIN_SHARE = 0.25       # throughput during the flood / before it


def rate_between(samples: list[list[float]], t0: float, t1: float) -> float:
    """Bytes per second of a timed-send log between t0 and t1."""
    inside = [s for s in samples if t0 <= s[0] <= t1]
    assert len(inside) >= 3, f"too few samples between {t0} and {t1}"
    return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])


def test_syn_flood_during_transfer(lab: Lab, stack: StackRunner) -> None:
    """While a Linux client sends to our sink for 7 s, a raw socket floods the
    same listening port with 60,000 SYNs (20,000/s for 3 s) from spoofed
    addresses and random ports, so the half-open connections never complete.

    Checked: the transfer completes intact; the SYN queue filled and SYN
    cookies answered the rest (RFC 4987 3.6; nothing queued without limit, no
    TCB per SYN); and the flow's
    throughput during the flood is at least 25 % of its throughput before the
    flood. Why 25 %: a starved flow falls to ~0; the flood itself costs this
    2-core machine a good part of a core (the Python generator, the veth
    softirqs and the stack's SYN handling, its SYN-ACKs and their
    retransmissions), so the flow may lose a share to CPU contention without
    being starved by the stack; 1/4 leaves room for that and for other jobs
    running on the machine, and still fails if established segments wait
    behind SYN processing or are dropped for lack of TCBs or mbufs."""
    ip = stack.stack_ip("client")
    sink = stack.start("sink", "-l", str(SINK_PORT), ready="listening on port")
    sender = start_core_peer(stack, "client", f"timed-send {ip} {SINK_PORT} {SEND_SECONDS}",
                             "timedsend")
    stack.wait_file(stack.client, str(sender.err), "core_peer: second 2", 30)
    avoid = ",".join(f"10.0.2.{i}" for i in (1, 2, 3))
    net = ".".join(ip.split(".")[:3]) + ".0/24"
    flood = start_core_peer(stack, "client", f"synflood {ip} {SINK_PORT} {FLOOD_SECONDS} "
                            f"{FLOOD_RATE} {net} --avoid {stack.peer_ip('client')},{ip},"
                            f"{avoid}", "flood")
    fl = peer_result(flood, FLOOD_SECONDS + 30)
    out = peer_result(sender, SEND_SECONDS + 60)
    res = sink.wait(60).check_clean()
    assert out["error"] == "", out
    assert res.report is not None
    assert res.report["bytes"] == out["sent"] and res.report["conns"] == 1
    assert res.report["sha256"] == [out["sha256"]]
    assert fl["errors"] == 0, fl
    assert fl["syns"] >= FLOOD_RATE * FLOOD_SECONDS * 0.9, f"the flood generator fell short: {fl}"
    assert res.counter("syncookies_sent") > 0, "the flood never filled the SYN queue"
    samples = out["samples"]
    t_conn = samples[0][0]
    before = rate_between(samples, t_conn + 0.5, fl["start"])
    during = rate_between(samples, fl["start"] + 0.3, fl["end"])
    info = json.dumps({"before_MBps": before / 1e6, "during_MBps": during / 1e6,
                       "flood_rate": fl["rate"],
                       "syncookies_sent": res.counter("syncookies_sent"),
                       "conn_passive": res.counter("conn_passive")})
    print(f"syn flood: {info}")
    assert during >= MIN_SHARE * before, f"flow starved during the SYN flood: {info}"


# Each clean client must get its whole answer within CLEAN_DEADLINE (floods.py).
LONG_FLOOD_SECONDS = 10.0
SHORT_FLOOD_SECONDS = 5.0


def clean_clients_during_flood(stack: StackRunner, flags: str, seconds: float,
                               name: str) -> tuple[dict[str, Any], StackResult, list[str], int]:
    """epserver on EPS_PORT under floods.flood_with_clean_clients (a raw-socket
    flood with `flags` at FLOOD_RATE for `seconds`, a clean curl every
    CLEAN_EVERY s for 1 KB). Returns the flood's report, epserver's result
    (checked clean: every mbuf and TCB back), the clean clients that failed
    or were late (one line each) and how many there were."""
    ip = stack.stack_ip("client")
    eps = stack.start("epserver", "-p", "www_robust", "-l", str(EPS_PORT),
                      ready="listening on port")
    fl, late, n = flood_with_clean_clients(stack, ip, EPS_PORT, f"http://{ip}:{EPS_PORT}/r1k",
                                           SHA["r1k"], flags, seconds, name)
    res = eps.stop().check_clean()
    return fl, res, late, n


def flood_info(fl: dict[str, Any], res: StackResult) -> str:
    return json.dumps({"flood": {k: fl[k] for k in ("syns", "rate") if k in fl},
                       "syncookies_sent": res.counter("syncookies_sent"),
                       "syncookies_ok": res.counter("syncookies_ok"),
                       "conn_passive": res.counter("conn_passive"),
                       "rst_sent": res.counter("rst_sent"),
                       "drops": {k: v for k, v in res.stats["cores"][0]["drops"].items() if v}})


def test_syn_flood_clean_clients_served(lab: Lab, stack: StackRunner) -> None:
    """A raw socket floods epserver's port with 200,000 SYNs (20,000/s for 10 s)
    from spoofed addresses, while a clean curl client connects every 100 ms
    and fetches 1 KB: every one of them (about 100) gets the whole answer
    (within CLEAN_DEADLINE; how many within 1 s is printed). The SYN queue
    fills with the flood's half-open connections (which hold no buffers)
    and SYN cookies answer the rest, so the clean clients' handshakes
    complete from their cookies (issue 15: before, each waited for a
    half-open connection to time out, up to 40 s).

    Checked: every clean request answered (HTTP 200, the file's SHA-256)
    within the deadline; the flood reached its rate; cookies were sent and
    some came back valid (the clean clients'); epserver ends with every mbuf
    and TCB back."""
    fl, res, late, n = clean_clients_during_flood(stack, "S", LONG_FLOOD_SECONDS, "synflood")
    info = flood_info(fl, res)
    print(f"syn flood with clean clients: {info}")
    assert not late, f"{len(late)} of {n} clean clients not answered within " \
        f"{CLEAN_DEADLINE:g} s: {late[:5]} {info}"
    assert res.counter("syncookies_sent") > 0 and res.counter("syncookies_ok") > 0, info


@pytest.mark.parametrize("flags", ["A", "R"])
def test_ack_rst_flood_clean_clients_served(lab: Lab, stack: StackRunner, flags: str) -> None:
    """100,000 ACKs with random numbers (flags A), or RSTs (R), at 20,000/s for
    5 s from spoofed addresses to epserver's port, while a clean curl client
    connects every 100 ms: every one answered (within CLEAN_DEADLINE). Each flood segment
    is a counted drop (tcp_no_flow; an ACK also gets its RST, RFC 9293
    3.10.7.1; a RST never), and nothing leaks."""
    fl, res, late, n = clean_clients_during_flood(stack, flags, SHORT_FLOOD_SECONDS,
                                                  f"flood{flags}")
    info = flood_info(fl, res)
    print(f"{flags} flood with clean clients: {info}")
    assert not late, f"{len(late)} of {n} clean clients not answered within " \
        f"{CLEAN_DEADLINE:g} s: {late[:5]} {info}"
    assert res.drops("tcp_no_flow") >= fl["syns"] * 0.99, info
    if flags == "A":
        assert res.counter("rst_sent") >= fl["syns"] * 0.99, info
