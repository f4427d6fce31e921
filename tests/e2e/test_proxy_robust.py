"""Robustness of the chapter 5 proxy (issue 15): apps/proxy on the dut between
Linux curl / core_peer.py on the client and nginx / core_peer.py on the
server, under a SYN flood with clean clients, and with a backend that
vanishes mid-transfer (its link goes down: no FIN, no RST). Data is checked
with SHA-256; every proxy run must end with mbufs_in_use == 0 and
tcbs_in_use == 0 (ProxyResult.check_clean).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from floods import CLEAN_DEADLINE, flood_with_clean_clients, peer_result, start_core_peer
from stackrun import StackRunner, iface_towards, link_down, seeded_sha256

from aatcp.lab import Lab
from experiments._ch5 import ANSWER_PORT, PROXY_PORT, Ch5Lab

pytestmark = [pytest.mark.lab, pytest.mark.build]

WEB_PORT = 8881             # this module's nginx (test_proxy_e2e's is on 8880)
BACKEND_PORT = ANSWER_PORT + 11
BASE = {"idle_sleep_us": 50}
FLOOD_SECONDS = 10.0
VANISH_RETRIES = 5          # tcp_retries: about 12.6 s of retransmissions
VANISH_MARK = 1 << 20
IDLE_TIMEOUT = 5            # tcp_timeout of the download case, seconds
SHA: dict[str, str] = {}


@pytest.fixture(scope="module")
def ch5(peer_scripts: Lab) -> Iterator[Ch5Lab]:
    c = Ch5Lab(peer_scripts)
    nginx = c.start_nginx({"rb1k": 1000}, name="rbnginx", port=WEB_PORT)
    SHA["rb1k"] = c.server.run("sha256sum www/rb1k", timeout=30).stdout.split()[0]
    try:
        yield c
    finally:
        nginx.stop()


#: packets a clean client costs the proxy, both sides, with ARP: a bound
CLEAN_PKTS = 40


@pytest.mark.parametrize("flags", ["S", "A", "R"])
def test_proxy_flood_clean_clients_robust(ch5: Ch5Lab, stack: StackRunner, flags: str) -> None:
    """200,000 SYNs (flags S), or ACKs (A) or RSTs (R) with random numbers,
    at 20,000/s for 10 s from spoofed addresses at the proxy's port while a
    clean curl fetches 1 KB through the proxy (splice, to nginx) every
    100 ms: every one answered intact within CLEAN_DEADLINE (how many within
    1 s is printed). SYNs: the flood's half-open connections hold no backend
    connection and SYN cookies answer past the SYN queue. ACKs and RSTs:
    each is a counted drop (tcp_no_flow; an ACK gets its RST, RFC 9293
    3.10.7.1, a RST never). The proxy ends with every mbuf and TCB back."""
    url = f"http://{ch5.proxy_ip}:{PROXY_PORT}/rb1k"
    with ch5.proxy(mode="splice", backend=f"{ch5.server_ip}:{WEB_PORT}", overrides=BASE) as px:
        fl, late, n = flood_with_clean_clients(stack, ch5.proxy_ip, PROXY_PORT, url,
                                               SHA["rb1k"], flags, FLOOD_SECONDS,
                                               f"pxflood{flags}")
    res = px.result
    assert res is not None
    res.check_clean()
    info = json.dumps({"flood": {k: fl[k] for k in ("syns", "rate") if k in fl},
                       "syncookies_sent": res.counter("syncookies_sent"),
                       "syncookies_ok": res.counter("syncookies_ok"),
                       "tcp_no_flow": res.drops("tcp_no_flow"),
                       "rst_sent": res.counter("rst_sent"),
                       "conn_passive": res.counter("conn_passive"),
                       "conn_active": res.counter("conn_active"), "report": res.report})
    print(f"proxy under {flags} flood: {info}")
    assert not late, f"{len(late)} of {n} clean clients not answered within " \
        f"{CLEAN_DEADLINE:g} s: {late[:5]} {info}"
    # one backend connection per clean client, none for the flood
    assert res.report["connections"] == n and res.counter("conn_active") == n, info
    if flags == "S":
        assert res.counter("syncookies_sent") > 0 and res.counter("syncookies_ok") > 0, info
        return
    # Every flood segment that reached the stack is a tcp_no_flow drop: all
    # it received beyond the clean clients' packets (CLEAN_PKTS each, both
    # sides of the proxy, ARP included). Most of the flood must arrive; the
    # kernel's veth may drop some of it under load before the stack sees it.
    no_flow = res.drops("tcp_no_flow")
    assert no_flow >= fl["syns"] * 0.9, info
    assert res.counter("rx_pkts") - no_flow <= CLEAN_PKTS * n + 200, info
    if flags == "A":
        assert res.counter("rst_sent") >= no_flow, info


@pytest.mark.parametrize("mode", ["splice", "forward", "copy"])
def test_proxy_backend_vanishes_robust(ch5: Ch5Lab, stack: StackRunner, mode: str) -> None:
    """A Linux client uploads 4 GB through the proxy to a Linux reader on the
    server; once the reader has 1 MB the server's link goes down. The
    proxy's backend connection retransmits and gives up after tcp_retries
    (5: about 12.6 s; RFC 9293 3.8.3) with ETIMEDOUT; the proxy then ends
    the pair, so the client's send fails with a reset (not its own 30 s
    timeout); the proxy lives on and frees both sides (every mbuf and TCB
    back). What the reader got is the client's prefix (SHA-256)."""
    srv = start_core_peer(stack, "server", f"recv {BACKEND_PORT} --mark {VANISH_MARK} "
                          "--timeout 5", "pxvanishrecv", listening=True)
    ov = {**BASE, "tcp_retries": VANISH_RETRIES}
    with ch5.proxy(mode=mode, backend=f"{ch5.server_ip}:{BACKEND_PORT}", overrides=ov) as px:
        cli = start_core_peer(stack, "client", f"send {ch5.proxy_ip} {PROXY_PORT} {4 << 30} "
                              "--seed 4 --timeout 30", "pxvanishsend")
        stack.wait_file(ch5.server, str(srv.err), "core_peer: mark", 30)
        iface = iface_towards(ch5.lab, ch5.server.name, ch5.dut.name)
        with link_down(ch5.server, iface) as t_down:
            out = peer_result(cli, 60)
            took = time.monotonic() - t_down
            got = peer_result(srv, 30)
        assert px.running(), "the proxy died"
    res = px.result
    assert res is not None
    res.check_clean()
    info = json.dumps({"client_error_after_s": round(took, 1), "client": out, "backend": got,
                       "conn_timedout": res.counter("conn_timedout"),
                       "rto_expired": res.counter("rto_expired"), "report": res.report,
                       "stderr": res.stderr[-300:]})
    print(f"backend vanished ({mode}): {info}")
    assert out["error"] in ("ConnectionResetError", "BrokenPipeError"), info
    assert res.counter("conn_timedout") == 1, info
    assert res.counter("rto_expired") >= VANISH_RETRIES, info
    assert 12.6 * 0.9 <= took < 30, info
    n = got["received"]
    assert got["error"] == "TimeoutError" and VANISH_MARK <= n < 4 << 30, info
    assert got["sha256"] == seeded_sha256(4, n), "the backend's bytes are not the client's prefix"
    assert res.report["connections"] == 1 and res.report["ended"] == 1, info


def test_proxy_backend_vanishes_during_download_robust(ch5: Ch5Lab, stack: StackRunner) -> None:
    """A Linux client downloads through the proxy (splice) from a Linux sender
    of 4 GB on the server; once the client has 1 MB the server's link goes
    down. Nothing is in flight towards the backend (the proxy only receives
    there), so the silence ends it: tcp_timeout (5 s here) aborts the
    backend side (ETIMEDOUT) and the proxy ends the pair; the client gets a
    reset or end of stream (not its own 30 s timeout), what it read is the
    sender's prefix (SHA-256), and the proxy frees both sides."""
    srv = start_core_peer(stack, "server", f"duplex {BACKEND_PORT} {4 << 30} --seed 6",
                          "pxvanishdup", listening=True)
    ov = {**BASE, "tcp_timeout": IDLE_TIMEOUT}
    with ch5.proxy(mode="splice", backend=f"{ch5.server_ip}:{BACKEND_PORT}",
                   overrides=ov) as px:
        cli = start_core_peer(stack, "client", f"send {ch5.proxy_ip} {PROXY_PORT} 0 "
                              f"--mark {VANISH_MARK} --timeout 30", "pxvanishget")
        stack.wait_file(ch5.client, str(cli.err), "core_peer: mark", 30)
        iface = iface_towards(ch5.lab, ch5.server.name, ch5.dut.name)
        with link_down(ch5.server, iface) as t_down:
            out = peer_result(cli, 60)
            took = time.monotonic() - t_down
            srv.stop("KILL")  # blocked in send towards its dead link
        assert px.running(), "the proxy died"
    res = px.result
    assert res is not None
    res.check_clean()
    info = json.dumps({"client_end_after_s": round(took, 1), "client": out,
                       "conn_timedout": res.counter("conn_timedout"), "report": res.report,
                       "stderr": res.stderr[-300:]})
    print(f"backend vanished during a download: {info}")
    assert out["error"] in ("ConnectionResetError", ""), info
    assert res.counter("conn_timedout") >= 1, info
    assert IDLE_TIMEOUT * 0.8 <= took < 30, info
    n = out["read"]
    assert VANISH_MARK <= n < 4 << 30, info
    assert out["read_sha256"] == seeded_sha256(6, n), "the client's bytes are not the prefix"
    assert res.report["connections"] == 1 and res.report["ended"] == 1, info
