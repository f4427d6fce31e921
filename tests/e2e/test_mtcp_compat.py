"""mTCP programs run unchanged (issue 12): tests/e2e/peers/mtcp_compat.c, a
program written in mTCP's style (getconf/setconf around mtcp_init, SIGINT
through mtcp_register_signal, one context per core, mtcp_epoll_wait(-1),
per-socket arrays indexed by the socket id and sized by max_concurrency), with
an mTCP configuration file: mTCP's own epserver.conf with only `port` changed
to the lab's interface (the stack takes the interface's address, prefix and
MAC from the kernel) and the peer's MAC in config/arp.conf beside it. The
runner appends two aatcp keys of its own to every run's config: stats_file
(where the mbuf and TCB counts are read) and idle_sleep_us (the 2-CPU lab).

- as a server: curl (keep-alive and parallel) fetches its answers, then wrk
  loads it over 32 connections; idle, it is stopped with SIGINT in
  mtcp_epoll_wait(-1);
- as a client: HTTP/1.0 GETs to nginx until SIGINT;
each with one core and with -N 2; exit status 0, every body's SHA-256 right,
every mbuf and TCB back (stats file).

The kernel keeps the interface's address (SIOCGIFADDR reads it) but its local
route is removed for the test, so that the kernel neither answers ARP for it
nor resets the stack's TCP segments (af_packet gives the kernel a copy).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from stackrun import StackRunner, make_files, start_nginx

from aatcp.dutrun import stack_port_towards
from aatcp.lab import Lab
from aatcp.paths import BUILD_DIRS
from aatcp.remote import Host

pytestmark = [pytest.mark.lab, pytest.mark.build]

SERVER_PORT = 8130
NGINX_PORT = 8131
BODY = 300_000

# mTCP's apps/example/epserver.conf (its comments shortened), `port` and
# `stat_print` naming the lab's interface instead of dpdk0.
MTCP_CONF = """############### mtcp configuration file ###############
# The underlying I/O module you want to use.
io = dpdk
# No. of cores setting (overrides -N when uncommented)
#num_cores = 8
# Number of memory channels per processor socket (dpdk-only)
num_mem_ch = 4
# Enable multi-process support (under development)
#multiprocess = 0 master
# Used port (please adjust accordingly)
port = {iface}
# Maximum concurrency per core
max_concurrency = 10000
# Maximum number of socket buffers per core
max_num_buffers = 10000
# Receive buffer size of sockets
rcvbuf = 8192
# Send buffer size of sockets
sndbuf = 8192
# TCP timeout seconds (tcp_timeout = -1 can disable the timeout check)
tcp_timeout = 30
# TCP timewait seconds
tcp_timewait = 0
# Interface to print stats (please adjust accordingly)
stat_print = {iface}
#######################################################
"""


@pytest.fixture(scope="module")
def compat(deployed_lab: Lab) -> Lab:
    """mtcp_compat (built with the C tests) shipped to the dut's bin/."""
    prog = BUILD_DIRS["release"] / "tests" / "e2e" / "peers" / "mtcp_compat"
    if not prog.exists():
        pytest.fail(f"{prog} is not built. Fix: `./inv build` (meson option tests=true)")
    deployed_lab.by_role("dut").put(prog, "bin/mtcp_compat", mode=0o755)
    return deployed_lab


@contextmanager
def stack_owns(dut: Host, iface: str, ip: str) -> Iterator[None]:
    """The kernel keeps `ip` on `iface` but stops treating it as local."""
    dut.run(f"ip route del local {ip} dev {iface} table local", timeout=10)
    try:
        yield
    finally:
        dut.run(f"ip route add local {ip} dev {iface} table local proto kernel scope host "
                f"src {ip}", timeout=10, check=False)


def mtcp_files(st: StackRunner, peer_role: str, folder: str) -> tuple[str, str, str]:
    """Writes `folder`/config/arp.conf (the peer's MAC) on the dut; returns the mTCP
    config text for the dut's interface towards `peer_role`, that interface and the
    stack's address there (the interface's kernel address)."""
    peer = st.lab.by_role(peer_role)
    port = stack_port_towards(st.lab, peer.name)
    assert port.iface and port.kernel_ip, f"{port.name}: needs iface and kernel_ip"
    link = st.lab.link_between(st.dut.name, peer.name)
    peer_iface = link.a.name if link.a.host == peer.name else link.b.name
    st.dut.run(f"mkdir -p {folder}/config", timeout=10)
    st.dut.write_file(f"{folder}/config/arp.conf",
                      f"# static ARP (mTCP's format)\nARP_ENTRY 1\n"
                      f"{st.peer_ip(peer_role)}/32 {peer.mac(peer_iface)}\n")
    return MTCP_CONF.format(iface=port.iface), port.iface, str(port.kernel_ip.ip)


@pytest.mark.parametrize("cores", [1, 2])
def test_compat_server_against_curl(compat: Lab, stack: StackRunner, cores: int) -> None:
    conf, iface, ip = mtcp_files(stack, "client", "compat_srv")
    with stack_owns(stack.dut, iface, ip):
        srv = stack.app("mtcp_compat", "-N", str(cores), "-l", str(SERVER_PORT), "-b",
                        str(BODY), conf_text=conf, conf_dir="compat_srv", name=f"compat_srv{cores}")
        srv.start(ready="listening on port")
        url = f"http://{ip}:{SERVER_PORT}"
        cl = stack.client
        # five requests on one keep-alive connection, then 16 over 8 parallel ones
        cl.run("rm -rf compat_out && mkdir compat_out && curl -sS --fail --max-time 60 "
               + " ".join(f"-o compat_out/k{i} {url}/k{i}" for i in range(5)), timeout=90)
        cl.run("curl -sS --fail --max-time 60 -Z --parallel-max 8 "
               + " ".join(f"-o compat_out/p{i} {url}/p{i}" for i in range(16)), timeout=90)
        sums = cl.run("sha256sum compat_out/*", timeout=30).stdout.split()[::2]
        # then wrk: 32 keep-alive connections for 2 s
        out = cl.run(f"wrk -t1 -c32 -d2s {url}/w", timeout=60).stdout
        res = srv.stop("INT").check_clean()  # idle: blocked in mtcp_epoll_wait(-1)
    m = re.search(r"(\d+) requests in", out)
    assert m and int(m.group(1)) > 0, out
    assert "Socket errors" not in out and "Non-2xx" not in out, out
    rep = res.report
    assert rep is not None and rep["mode"] == "server" and rep["interrupted"] is True, rep
    # wrk counts the answers it read before it stopped; more may have been sent
    assert rep["requests"] >= 21 + int(m.group(1)) and rep["cores"] == cores, (rep, out)
    assert len(sums) == 21 and set(sums) == {rep["sha256"]}
    assert 0 <= rep["max_sockid"] < rep["max_concurrency"] == 10000
    assert res.duration_s < 60


@pytest.mark.parametrize("cores", [1, 2])
def test_compat_client_against_nginx(compat: Lab, stack: StackRunner, cores: int) -> None:
    sha = make_files(stack.server, "www_compat", {"c100k": 100_000})["c100k"]
    start_nginx(stack, stack.server, "www_compat", NGINX_PORT, name=f"compatnginx{cores}")
    stack.wait_listening(stack.server, NGINX_PORT)
    conf, iface, ip = mtcp_files(stack, "server", "compat_cli")
    with stack_owns(stack.dut, iface, ip):
        cli = stack.app("mtcp_compat", "-N", str(cores), "-s",
                        f"{stack.peer_ip('server')}:{NGINX_PORT}", "-u", "/c100k", "-c", "8",
                        "-n", "0", conf_text=conf, conf_dir="compat_cli",
                        name=f"compat_cli{cores}")
        cli.start()
        stack.dut.run("sleep 3", timeout=10)
        assert cli.running(), cli.stop().stderr[-3000:]
        res = cli.stop("INT").check_clean()
    rep = res.report
    assert rep is not None and rep["mode"] == "client" and rep["interrupted"] is True, rep
    assert rep["requests"] > 0 and rep["errors"] == 0, rep
    assert rep["sha256"] == sha and rep["same"] is True, rep
    assert rep["cores"] == cores
    # epwget's pattern: max_concurrency = 3 x concurrency (+8) after mtcp_init()
    assert 0 <= rep["max_sockid"] < rep["max_concurrency"] == 3 * 8 + 8, rep
