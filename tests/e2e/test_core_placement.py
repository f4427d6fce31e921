"""Exact placement of active opens on two cores (issue 13): a private local lab
whose dut ports are driven with net_af_xdp over links with `{queues: 2, rss:
true}` (the Linux end puts each frame on the queue an RSS NIC with the stack's
key would, bpf/link_rss.c), so every source port an active open picks has its
replies arrive on the calling core's queue: nothing is steered
(docs/architecture.md "Cores and flow placement").

- aa_reader -k 4 -N 2 (figure 4.6's reader): four CSV downloads from
  answer_server, two per core, each reading the same records as a
  one-connection run (SHA-256 of the dump)
- epwget -N 2 <- nginx: 4,000 short connections (SHA-256 of the body)
- proxy -N 2 (splice) between curl and nginx: 100 concurrent 1 MB downloads,
  a passive and an active flow per download on the same core (SHA-256 of
  every body; the proxy's own end checks, ProxyResult.check_clean)

Each ends with 0 mbufs and 0 TCBs in use (StackRunner.close), both cores
opened connections, every port placed (`ports_unplaced` 0) and `steered` 0.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stackrun import StackResult, StackRunner, checked_runner, make_files, start_nginx

from aatcp import netlab
from aatcp.deploy import deploy
from aatcp.lab import Lab
from aatcp.labfile import derive_local_lab, load_lab_spec
from aatcp.paths import DEFAULT_LAB
from experiments._ch5 import PROXY_PORT, Ch5Lab, proxy_cores_config

pytestmark = [pytest.mark.lab, pytest.mark.build]

NAME = f"r{os.getpid()}"
NGINX_PORT = 8142
ANSWER_PORT = 8143


def _rss_links(data: dict[str, Any]) -> None:
    """Every dut port on AF_XDP, its link with two queues hashed like RSS."""
    dut = next(h for h in data["hosts"] if h["role"] == "dut")
    for i, p in enumerate(dut["ports"]):
        p["device"] = f"net_af_xdp{i},iface={p['device'].split('iface=')[1].split(',')[0]}"
    for link in data["links"]:
        if any(str(e).startswith(f"{dut['name']}:") for e in link):
            link.append({"queues": 2, "rss": True})


@pytest.fixture(scope="module")
def rss_lab(tmp_path_factory: pytest.TempPathFactory, release_build: Path) -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, sshd)")
    try:
        socket.socket(44, socket.SOCK_RAW).close()  # AF_XDP
    except OSError as e:
        pytest.skip(f"this kernel offers no AF_XDP sockets ({e})")
    netlab.reap_stale_labs(r"^r(\d+)$")
    tmp = tmp_path_factory.mktemp("rsslab")
    path = tmp / f"{NAME}.yml"
    path.write_text(derive_local_lab(DEFAULT_LAB, name=NAME, prefix=f"{NAME}-",
                                     mgmt_subnet=netlab.free_mgmt_subnet(os.getpid() + 7),
                                     workdir_root=tmp / "hosts", edit=_rss_links))
    spec = load_lab_spec(path)
    assert all(link.rss for link in spec.links if "dut" in (link.a.host, link.b.host))
    lab = Lab(spec)
    try:
        netlab.up(spec)
        deploy(lab, release_build, log=lambda _m: None)
        yield lab
    finally:
        lab.close()
        netlab.down(spec)


@pytest.fixture
def stack(rss_lab: Lab) -> Iterator[StackRunner]:
    yield from checked_runner(rss_lab)


def check_placed(res: StackResult) -> None:
    served = [int(c.get("conn_active", 0)) for c in res.stats["cores"]]
    info = (f"conn_active per core {served}, steered {res.counter('steered')} of "
            f"{res.counter('rx_pkts')} packets, ports placed/unplaced "
            f"{res.counter('ports_placed')}/{res.counter('ports_unplaced')}")
    print(info)
    assert len(served) == 2 and all(served), info
    assert res.counter("ports_unplaced") == 0, info
    assert res.counter("steered") == 0, info


def test_link_hash_rendered(rss_lab: Lab) -> None:
    """The stack config of an `rss: true` link's port says so."""
    conf = rss_lab.stack_config()
    assert "port.srv.link_hash = toeplitz" in conf and "net_af_xdp" in conf, conf


def test_aa_reader_active_exact(stack: StackRunner) -> None:
    rec = 4 * 17
    n = (8 << 20) // rec * rec
    stack.start_peer(stack.server, f"answer_server -l {ANSWER_PORT} --csv 16 --fields 4 "
                     f"-n {n}", name="pl-ans")
    stack.wait_listening(stack.server, ANSWER_PORT)
    args = ["-c", f"{stack.peer_ip('server')}:{ANSWER_PORT}", "-m", "csv", "-F", "4",
            "-T", "50"]
    one = stack.start("aa_reader", *args, name="pl-reader1").wait(60).check_clean()
    assert one.report is not None and one.report["csv_lines"] == n // rec, one.report
    res = stack.start("aa_reader", *args, "-k", "4", "-N", "2",
                      overrides={"num_cores": 2}, name="pl-reader4").wait(90).check_clean()
    rep = res.report
    assert rep is not None and rep["conns"] == 4 and rep["timed_out"] is False, rep
    assert rep["csv_lines"] == 4 * (n // rec) and rep["errors"] == [], rep
    want = (one.report["bytes"], one.report["dump_sha256"])
    for c in rep["per_conn"]:
        assert (c["bytes"], c["dump_sha256"]) == want, c
    check_placed(res)


def test_epwget_active_exact(stack: StackRunner) -> None:
    sha = make_files(stack.server, "www_pl", {"m4k": 4096})
    start_nginx(stack, stack.server, "www_pl", NGINX_PORT, name="plnginx")
    url = f"http://{stack.peer_ip('server')}:{NGINX_PORT}/m4k"
    res = stack.start("epwget", url, "4000", "-N", "2", "-c", "100",
                      overrides={"num_cores": 2}).wait(120).check_clean()
    rep = res.report
    assert rep is not None
    assert (rep["requests"], rep["errors"], rep["status"]) == (4000, 0, 200), rep
    assert rep["sha256"] == sha["m4k"] and rep["same"] is True
    check_placed(res)


PROXY_WEB_PORT = 8144


def test_proxy_splice_two_cores_exact(rss_lab: Lab) -> None:
    """`proxy -N 2` with splice (test_proxy_e2e.py::test_splice_two_cores) on
    this lab: the client connection is a passive flow, placed on the core whose
    queue got its SYN; the backend connection that core opens goes out the
    server-side port, whose replies the link puts on the queue steer_predict
    computes, so connect() picks a source port of that core and nothing is
    steered (over af_packet 31-47% of the packets were). 100 concurrent
    1 MB downloads, every body's SHA-256, both cores served connections."""
    n = 100
    ch5 = Ch5Lab(rss_lab)
    nginx = ch5.start_nginx({"f1m": 1 << 20}, name="plpxnginx", port=PROXY_WEB_PORT)
    want = ch5.server.run("sha256sum www/f1m", timeout=60).stdout.split()[0]
    ov = {"idle_sleep_us": 50, **proxy_cores_config(ch5, 2)}
    url = f"http://{ch5.proxy_ip}:{PROXY_PORT}/f1m"
    ch5.client.run("rm -rf plpx && mkdir plpx", timeout=10)
    try:
        with ch5.proxy(mode="splice", backend=f"{ch5.server_ip}:{PROXY_WEB_PORT}",
                       overrides=ov, max_conns=n) as px:
            ch5.client.run(f"seq {n} | xargs -P {n} -I@ curl -sS --fail --max-time 120 "
                           f"-o plpx/@ {url}", timeout=240)
            sums = ch5.client.run("sha256sum plpx/*", timeout=60).stdout.split("\n")
            assert px.bg is not None and px.bg.wait(30), f"proxy did not see {n} connections end"
    finally:
        nginx.stop()
    res = px.result
    assert res is not None
    res.check_clean()
    assert Counter(ln.split()[0] for ln in sums if ln.strip()) == Counter({want: n})
    per_core = res.report["per_core"]
    info = (f"per core {per_core}; steered {res.counter('steered')} of "
            f"{res.counter('rx_pkts')} packets, ports placed/unplaced "
            f"{res.counter('ports_placed')}/{res.counter('ports_unplaced')}")
    print(info)
    assert res.report["connections"] == n and res.report["ended"] == n, res.report
    assert len(per_core) == 2 and all(c["connections"] > 0 for c in per_core), info
    assert res.counter("ports_placed") == n and res.counter("ports_unplaced") == 0, info
    assert res.counter("steered") == 0, info
