"""The local lab against real namespaces, veth links and sshd (no mocks)."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from pyroute2 import netns

from aatcp import netlab
from aatcp.errors import CommandFailed, ToolkitError
from aatcp.lab import Lab
from aatcp.labfile import load_lab_spec

pytestmark = pytest.mark.lab


def test_hosts_answer_over_ssh(local_lab: Lab) -> None:
    for h in local_lab.hosts.values():
        r = h.run("echo $(cat /proc/self/net/dev | wc -l) && whoami")
        assert r.ok and r.stdout.split()[-1] == "root"
    # Each host is its own namespace: its interfaces are the lab file's.
    out = local_lab.host("server").run("ls /sys/class/net").stdout.split()
    assert set(out) == {"lo", "mgmt0", "s-dut", "s-cli"}
    out = local_lab.host("dut").run("ls /sys/class/net").stdout.split()
    assert set(out) == {"lo", "mgmt0", "d-srv", "d-cli"}


def test_status_reports_hosts_links_and_ssh(local_lab: Lab) -> None:
    hosts, links = netlab.status(local_lab)
    assert [h.name for h in hosts] == ["server", "dut", "client"]
    assert all(h.namespace_exists and h.sshd_pid and h.ssh_answers for h in hosts)
    assert len(links) == 3 and all(li.up for li in links)
    text = netlab.format_status(local_lab)
    assert "ANSWERS SSH" in text and "NO ANSWER" not in text and "server:s-dut" in text


def test_up_is_idempotent(local_lab: Lab) -> None:
    before = {h.name: netlab._sshd_running(h, netlab._state(local_lab.spec))
              for h in local_lab.spec.hosts}
    netlab.up(local_lab.spec)
    after = {h.name: netlab._sshd_running(h, netlab._state(local_lab.spec))
             for h in local_lab.spec.hosts}
    assert before == after  # same sshd processes, nothing rebuilt
    assert local_lab.host("client").run("true").ok


def test_up_refuses_namespaces_of_another_lab(local_lab: Lab, tmp_path: Path) -> None:
    """The same namespaces under another lab name, as a second checkout's copy of
    the lab file would be: up() refuses before it writes anything, and names the
    running lab's sshd config and the command that brings that lab down."""
    spec = local_lab.spec
    other = tmp_path / "other.yml"
    other.write_text(re.sub(r"(?m)^name: .*$", f"name: {spec.name}-other", spec.text))
    spec2 = load_lab_spec(other)
    assert spec2.state_dir != spec.state_dir
    with pytest.raises(ToolkitError, match="belongs to another lab that is up") as e:
        netlab.up(spec2)
    msg = str(e.value)
    assert str(netlab._state(spec).sshd_config(spec.hosts[0].name)) in msg
    assert f"./inv lab.down --hosts .lab/{spec.name}/lab.yml" in msg
    assert not spec2.state_dir.exists()
    assert local_lab.host("client").run("true").ok  # the running lab is untouched


def test_links_addresses_and_offloads(local_lab: Lab) -> None:
    dut = local_lab.host("dut")
    addrs = dut.run("ip -4 -o addr show dev d-srv").stdout
    assert "10.0.1.3/24" in addrs  # kernel_ip for Linux baselines
    assert "10.0.1.2" not in addrs  # the stack's address is never the kernel's
    feats = local_lab.exec_local("server", ["ethtool", "-k", "s-dut"]).stdout
    for feat in ("tx-checksumming", "rx-checksumming", "tcp-segmentation-offload",
                 "generic-segmentation-offload", "generic-receive-offload"):
        assert f"{feat}: off" in feats, feats
    v6 = local_lab.exec_local("client", "cat /proc/sys/net/ipv6/conf/c-dut/disable_ipv6")
    assert v6.stdout.strip() == "1"
    # The Linux hosts receive off the dut's CPU 0, the dut keeps its default.
    def rps(host: str, ifname: str) -> int:
        q = f"/sys/class/net/{ifname}/queues/rx-0/rps_cpus"
        return int(local_lab.exec_local(host, ["cat", q]).stdout.strip().replace(",", ""), 16)
    want = int(netlab.peer_rps_mask() or "0", 16)
    assert rps("client", "c-dut") == rps("server", "s-dut") == rps("client", "c-srv") == want
    assert rps("dut", "d-cli") == 0
    # Every link carries traffic: direct server<->client, server<->dut kernel, dut<->client.
    local_lab.exec_local("server", ["ping", "-c", "1", "-W", "2", "10.0.3.2"])
    local_lab.exec_local("server", ["ping", "-c", "1", "-W", "2", "10.0.1.3"])
    local_lab.exec_local("client", ["ping", "-c", "1", "-W", "2", "10.0.2.3"])


def test_peer_rps_mask() -> None:
    assert netlab.peer_rps_mask(1) == ""
    assert netlab.peer_rps_mask(2) == "2"
    assert netlab.peer_rps_mask(8) == "fe"


def test_link_helpers(local_lab: Lab) -> None:
    li = local_lab.link_between("server", "client")
    assert li.ip_of("server") == ipaddress.IPv4Interface("10.0.3.1/24")
    assert li.ip_of("client") == ipaddress.IPv4Interface("10.0.3.2/24")
    li = local_lab.link_between("dut", "server")
    assert li.ip_of("dut") == ipaddress.IPv4Interface("10.0.1.2/24")
    assert li.kernel_ip_of("dut") == ipaddress.IPv4Interface("10.0.1.3/24")
    peers = local_lab.peers("dut", "cli")
    assert [(h.name, i.name) for h, i in peers] == [("client", "c-dut")]
    assert local_lab.by_role("dut").name == "dut"
    with pytest.raises(ToolkitError, match="no host with role"):
        Lab(local_lab.spec).by_role("router")


def test_run_captures_rc_stderr_and_times_out(local_lab: Lab) -> None:
    h = local_lab.host("client")
    r = h.run("echo out; echo err >&2; exit 3", check=False)
    assert (r.rc, r.stdout, r.stderr) == (3, "out\n", "err\n") and not r.ok
    with pytest.raises(CommandFailed) as ei:
        h.run("echo bad >&2; exit 4")
    assert ei.value.rc == 4 and "bad" in ei.value.stderr and "client" in str(ei.value)
    r = h.run("sleep 30", timeout=1, check=False)
    assert r.timed_out and r.duration_s < 15
    # The timed-out command does not linger on the host.
    procs = h.run("cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '").stdout
    assert "sleep 30 " not in procs  # its argv, not another test's `sleep 300`
    r = h.run("echo $FOO", env={"FOO": "a b"})
    assert r.stdout == "a b\n"


def test_background_start_and_stop(local_lab: Lab) -> None:
    h = local_lab.host("server")
    h.run(f"mkdir -p {h.workdir}")
    bg = h.start("echo started; trap 'echo got-term; exit 7' TERM; "
                 "while :; do sleep 0.1; done", name="loop")
    assert bg.running()
    res = bg.stop()
    assert not bg.running()
    assert "started" in res.stdout and "got-term" in res.stdout
    assert res.rc == 7  # the status of a command that handled the signal
    # One that dies of it: 128 + 15, as a shell says.
    bg3 = h.start("echo up; exec sleep 60", name="sleeper")
    assert bg3.running()
    assert bg3.stop().rc == 143
    # A command that ends by itself reports its exit status.
    bg2 = h.start("echo done >&2; exit 5", name="short")
    assert bg2.wait(10)
    res2 = bg2.stop()
    assert res2.rc == 5 and res2.stderr == "done\n"


def test_background_cpu_seconds(local_lab: Lab) -> None:
    """A background command's CPU time, its children's included (a spinning
    shell started by the command's shell), and next to none while it sleeps."""
    h = local_lab.host("server")
    h.run(f"mkdir -p {h.workdir}")
    t0 = time.monotonic()  # before the start: the spin runs from then on
    spin = h.start("sh -c 'while :; do :; done' & wait", name="spin")
    idle = h.start("exec sleep 60", name="idle")
    try:
        time.sleep(1.0)
        first = spin.cpu_seconds()
        time.sleep(0.5)
        second = spin.cpu_seconds()
        wall = time.monotonic() - t0
        assert 0 < first <= second <= wall + 0.1, (first, second, wall)
        assert idle.cpu_seconds() < 0.05
    finally:
        spin.stop()
        idle.stop()


def test_files(local_lab: Lab, tmp_path: Path) -> None:
    h = local_lab.host("dut")
    h.run(f"mkdir -p {h.workdir}")
    h.write_file("hello.txt", "hi\n", mode=0o600)
    assert h.read_file(h.workdir / "hello.txt") == b"hi\n"
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(4096))
    h.put(src, "copy.bin")
    h.get("copy.bin", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()


def test_stack_config_has_ports_and_peer_macs(local_lab: Lab) -> None:
    conf = local_lab.stack_config(overrides={"num_cores": 1, "eal": None})
    lines = dict(ln.split(" = ", 1) for ln in conf.splitlines() if " = " in ln)
    assert lines["port.srv.device"] == "net_af_packet0,iface=d-srv"
    assert lines["port.srv.ip"] == "10.0.1.2/24"
    assert lines["port.cli.ip"] == "10.0.2.2/24"
    assert lines["num_cores"] == "1"
    assert "eal" not in lines  # None removes a key
    server_mac = local_lab.exec_local("server", "cat /sys/class/net/s-dut/address").stdout.strip()
    client_mac = local_lab.exec_local("client", "cat /sys/class/net/c-dut/address").stdout.strip()
    assert lines["arp.10.0.1.1"] == server_mac
    assert lines["arp.10.0.2.1"] == client_mac
    default = local_lab.stack_config()
    assert "eal = --no-pci --no-huge -m 1024 --no-shconf" in default


def test_down_removes_everything_even_after_a_crash(tmp_path: Path) -> None:
    """A second lab, brought up, then brought down from its file alone (no in-memory
    state), as after a crash of the process that made it."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    name = f"t{os.getpid()}x"
    path = netlab.write_test_lab(tmp_path, name, f"{name}-", os.getpid() + 97)
    spec = load_lab_spec(path)
    try:
        netlab.up(spec)
        # "Crash": an extra process left running inside a namespace.
        subprocess.Popen(["ip", "netns", "exec", f"{name}-dut", "sleep", "300"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         start_new_session=True)
        assert {f"{name}-server", f"{name}-dut", f"{name}-client"} <= set(netns.listnetns())
    finally:
        removed = netlab.down(load_lab_spec(path))
    assert any(r.startswith("netns") for r in removed)
    assert not any(n.startswith(f"{name}-") for n in netns.listnetns())
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert f"{name}-aabr" not in links and f"{name}-aam" not in links
    assert not spec.state_dir.exists()  # keys, sshd configs, pidfiles
    assert not any(str(spec.state_dir) in cmd for cmd in _cmdlines())  # no sshd left
    # Down again: nothing to do, no error.
    assert netlab.down(spec) == []


def _cmdlines() -> list[str]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            with contextlib.suppress(OSError):
                out.append((p / "cmdline").read_bytes().replace(b"\0", b" ").decode())
    return out


def test_up_refuses_non_local_lab() -> None:
    spec = load_lab_spec(Path(__file__).parents[2] / "labs" / "example-testbed.yml")
    with pytest.raises(ToolkitError, match="not a local lab"):
        netlab.up(spec)
