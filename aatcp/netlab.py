"""The local lab: hosts as network namespaces, links as veth pairs, sshd in each.

Topology (names from the lab file; `P` is its `local.prefix`):

    root namespace:  bridge P+aabr (mgmt subnet .1) <- veth P+aam<i> -> mgmt0 in each host
    P+server, P+dut, P+client: one namespace per host; each link of the lab file is a
                     veth pair created directly between the two namespaces
    each namespace:  sshd listening on its management address, with a host key and
                     authorized key generated under .lab/<lab name>/

Everything is derived from the lab file and the state folder: `down()` removes
what `up()` made even after a crash (it kills the pids in the pidfiles and in the
lab's namespaces, deletes the namespaces, the bridge and root-side veths by name,
and the state folder). Nothing else is touched: names all carry the prefix.

Netlink work (namespaces, links, addresses) goes through pyroute2; what has no
netlink interface (ethtool offloads, sysctls, sshd) runs as a command inside
the namespace with `ip netns exec`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pyroute2 import IPRoute, NetNS, netns
from pyroute2.netlink.exceptions import NetlinkError

from aatcp.errors import ToolkitError
from aatcp.lab import Lab
from aatcp.labfile import HostSpec, LabSpec, Link, LocalSpec, Port
from aatcp.paths import REPO_ROOT

SSHD = "/usr/sbin/sshd"
MGMT_IF = "mgmt0"
#: Offloads Linux must not use on lab veths: af_packet has no checksum offload,
#: and peers must send MTU-sized segments (the thesis disabled GRO too).
OFFLOADS_OFF = ["tx", "off", "rx", "off", "tso", "off", "gso", "off", "gro", "off"]


def _require_root() -> None:
    if os.geteuid() != 0:
        raise ToolkitError("the local lab needs root (network namespaces, veth, sshd). "
                           "Fix: run as root, e.g. `sudo ./inv lab.up`")


def _local(spec: LabSpec) -> LocalSpec:
    if spec.local is None:
        raise ToolkitError(f"{spec.path}: not a local lab (no `local:` section), so there is "
                           "nothing to bring up or down here. Fix: use a local lab file such as "
                           "labs/local.yml; a real testbed's hosts are already up")
    return spec.local


def _run(argv: list[str], check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise ToolkitError(f"`{' '.join(argv)}` exited {r.returncode}: {r.stderr.strip()}")
    return r


def _ns_exec(ns: str, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    return _run(["ip", "netns", "exec", ns, *argv], check=check)


def _ns(name: str) -> NetNS:
    """Netlink in an existing namespace. flags=0: pyroute2 would otherwise create a
    missing namespace (O_CREAT), and a status check must never make one."""
    return NetNS(name, flags=0)


def _link_index(ipr: IPRoute | NetNS, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return found[0] if found else None


def _ensure_addr(ipr: IPRoute | NetNS, idx: int, ip: ipaddress.IPv4Interface) -> None:
    try:
        ipr.addr("add", index=idx, address=str(ip.ip), prefixlen=ip.network.prefixlen)
    except NetlinkError as e:
        if e.code != 17:  # EEXIST: already there (idempotent up)
            raise


def _write_sysctl_root(path: str, value: str) -> None:
    with contextlib.suppress(OSError), open(path, "w") as f:
        f.write(value)


# --------------------------------------------------------------------------- state


@dataclass
class State:
    """Files of one local lab under .lab/<name>/."""

    dir: Path

    @property
    def client_key(self) -> Path:
        return self.dir / "id_ed25519"

    @property
    def host_key(self) -> Path:
        return self.dir / "ssh_host_ed25519_key"

    @property
    def known_hosts(self) -> Path:
        return self.dir / "known_hosts"

    @property
    def authorized_keys(self) -> Path:
        return self.dir / "authorized_keys"

    @property
    def lab_copy(self) -> Path:
        """The lab file as brought up: `reap_stale_labs` brings it down from this."""
        return self.dir / "lab.yml"

    @property
    def made(self) -> Path:
        """What up() created, so down() can remove it even if the lab file changed."""
        return self.dir / "made.json"

    def sshd_config(self, host: str) -> Path:
        return self.dir / f"sshd-{host}.conf"

    def sshd_pidfile(self, host: str) -> Path:
        return self.dir / f"sshd-{host}.pid"

    def sshd_log(self, host: str) -> Path:
        return self.dir / f"sshd-{host}.log"


def _state(spec: LabSpec) -> State:
    return State(spec.state_dir)


def _record_made(st: State, spec: LabSpec) -> None:
    local = _local(spec)
    made = {"namespaces": [local.namespace(h.name) for h in spec.hosts],
            "root_links": [local.bridge] + [local.mgmt_veth(i) for i in range(len(spec.hosts))],
            "hosts": [h.name for h in spec.hosts]}
    old = _read_made(st)
    for k, v in old.items():  # keep what an earlier up (older lab file) made
        made[k] = sorted(set(made.get(k, [])) | set(v))
    st.made.write_text(json.dumps(made, indent=1))


def _read_made(st: State) -> dict[str, list[str]]:
    try:
        return json.loads(st.made.read_text())
    except (OSError, ValueError):
        return {}


# --------------------------------------------------------------------------- keys / sshd


def _ensure_keys(spec: LabSpec, st: State) -> None:
    st.dir.mkdir(parents=True, exist_ok=True)
    os.chmod(st.dir, 0o700)
    # The client key may live elsewhere if the lab file says so (ssh.key).
    keys = {h.ssh.key for h in spec.hosts if h.ssh.key is not None} or {st.client_key}
    for key in keys:
        if not key.exists():
            key.parent.mkdir(parents=True, exist_ok=True)
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"aatcp-lab-{spec.name}",
                  "-f", str(key)])
    if not st.host_key.exists():
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"aatcp-lab-{spec.name}-host",
              "-f", str(st.host_key)])
    st.authorized_keys.write_text("".join(Path(f"{k}.pub").read_text() for k in sorted(keys)))
    pub = Path(f"{st.host_key}.pub").read_text().split()
    lines = []
    for h in spec.hosts:
        addr = h.ssh.address if h.ssh.port == 22 else f"[{h.ssh.address}]:{h.ssh.port}"
        lines.append(f"{addr} {pub[0]} {pub[1]}\n")
    st.known_hosts.write_text("".join(lines))


def _sshd_config_text(h: HostSpec, st: State) -> str:
    return "\n".join([
        f"# sshd for local-lab host {h.name} (written by aatcp.netlab)",
        f"ListenAddress {h.ssh.address}:{h.ssh.port}",
        f"HostKey {st.host_key}",
        f"PidFile {st.sshd_pidfile(h.name)}",
        f"AuthorizedKeysFile {st.authorized_keys}",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        # The repo may sit under a group-writable folder; the key files are ours.
        "StrictModes no",
        "UseDNS no",
        "PrintMotd no",
        # Deploy and experiments open many sessions/channels in parallel.
        "MaxStartups 200",
        "MaxSessions 200",
        "Subsystem sftp internal-sftp",
        "LogLevel ERROR",
        "",
    ])


def _pid_alive(pid: int) -> bool:
    """Is `pid` a live process? A zombie is not (its parent may never reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _sshd_running(h: HostSpec, st: State) -> int | None:
    """pid of this host's sshd if it runs (checked by its config path in the cmdline)."""
    pid = _read_pid(st.sshd_pidfile(h.name))
    if pid is None or not _pid_alive(pid):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return None
    return pid if str(st.sshd_config(h.name)) in cmdline else None


def _sshd_in_namespace(ns: str) -> list[Path]:
    """The `-f` configs of the listening sshds that run in network namespace `ns`."""
    try:
        want = os.stat(f"/run/netns/{ns}")
    except OSError:
        return []
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            # the listener rewrites its title: "sshd: /usr/sbin/sshd -f CONF ... [listener] ..."
            words = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace").split()
            if not words or not words[0].rstrip(":").endswith("sshd") or "-f" not in words[:-1]:
                continue
            inside = os.stat(d / "ns" / "net")
        except OSError:
            continue
        if (inside.st_dev, inside.st_ino) == (want.st_dev, want.st_ino):
            found.append(Path(words[words.index("-f") + 1]))
    return found


def _refuse_foreign_lab(spec: LabSpec, st: State) -> None:
    """Namespaces of this lab file that another lab state (another checkout, or
    this lab file under another name) runs an sshd in: up() would start a second
    sshd that cannot listen, and ssh would meet the other lab's host key."""
    local = _local(spec)
    for h in spec.hosts:
        ns = local.namespace(h.name)
        for conf in _sshd_in_namespace(ns):
            if conf == st.sshd_config(h.name):
                continue
            state = conf.parent  # <checkout>/.lab/<lab name>/, lab.yml its lab file
            down = ("./inv lab.down" if state.name == "local"
                    else f"./inv lab.down --hosts .lab/{state.name}/lab.yml")
            if state.parent.name == ".lab":
                down = f"cd {state.parent.parent} && {down}"
            raise ToolkitError(
                f"{spec.path}: namespace {ns} (host {h.name}) belongs to another lab that is up: "
                f"its sshd runs with {conf}. Fix: bring that lab down first (`{down}`), or give "
                f"this lab file its own local.prefix and local.mgmt_subnet "
                f"(labs/local-rss.yml shows how)")


def _start_sshd(h: HostSpec, st: State, ns: str) -> None:
    if _sshd_running(h, st):
        return
    conf = st.sshd_config(h.name)
    conf.write_text(_sshd_config_text(h, st))
    # sshd's privilege separation folder; systemd makes it for the system sshd.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    _ns_exec(ns, [SSHD, "-f", str(conf), "-E", str(st.sshd_log(h.name))])


def _wait_ssh(spec: LabSpec, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    for h in spec.hosts:
        while True:
            try:
                with socket.create_connection((h.ssh.address, h.ssh.port), timeout=1) as s:
                    s.settimeout(2)
                    if s.recv(4).startswith(b"SSH"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                log = _state(spec).sshd_log(h.name)
                tail = log.read_text()[-500:] if log.exists() else "(no log)"
                raise ToolkitError(f"{h.name}: sshd does not answer on {h.ssh.address}:"
                                   f"{h.ssh.port} after {timeout:.0f}s. sshd log: {tail}")
            time.sleep(0.1)


# --------------------------------------------------------------------------- up


def up(spec: LabSpec) -> None:
    """Bring the local lab up (idempotent: what exists is kept, what is missing is made)."""
    _require_root()
    local = _local(spec)
    for tool in ("ethtool", SSHD, "ssh-keygen", "ip"):
        if shutil.which(tool) is None and not Path(tool).exists():
            raise ToolkitError(f"`{tool}` is missing. Fix: `./inv setup` installs it")
    st = _state(spec)
    _refuse_foreign_lab(spec, st)
    _ensure_keys(spec, st)
    st.lab_copy.write_text(spec.text)
    _record_made(st, spec)
    _check_subnet_free(spec)

    existing = set(netns.listnetns())
    for h in spec.hosts:
        ns = local.namespace(h.name)
        if ns not in existing:
            netns.create(ns)
        # IPv6 off in the whole namespace (default/all before links exist): no
        # router solicitations or DAD frames in the stack's packet traces.
        _ns_exec(ns, ["sh", "-c", "for k in all default lo; do echo 1 > "
                      "/proc/sys/net/ipv6/conf/$k/disable_ipv6; done"], check=False)

    with IPRoute() as ipr:
        br = _link_index(ipr, local.bridge)
        if br is None:
            ipr.link("add", ifname=local.bridge, kind="bridge")
            br = _link_index(ipr, local.bridge)
        assert br is not None
        _write_sysctl_root(f"/proc/sys/net/ipv6/conf/{local.bridge}/disable_ipv6", "1")
        _ensure_addr(ipr, br, local.bridge_ip)
        ipr.link("set", index=br, state="up")
        for i, h in enumerate(spec.hosts):
            ns = local.namespace(h.name)
            veth = local.mgmt_veth(i)
            idx = _link_index(ipr, veth)
            if idx is None:
                with _ns(ns) as n:
                    stale = _link_index(n, MGMT_IF)
                    if stale is not None:
                        n.link("del", index=stale)
                ipr.link("add", ifname=veth, kind="veth",
                         peer={"ifname": MGMT_IF, "net_ns_fd": ns})
                idx = _link_index(ipr, veth)
            assert idx is not None
            _write_sysctl_root(f"/proc/sys/net/ipv6/conf/{veth}/disable_ipv6", "1")
            ipr.link("set", index=idx, master=br, state="up")

    for h in spec.hosts:
        ns = local.namespace(h.name)
        with _ns(ns) as n:
            lo = _link_index(n, "lo")
            if lo is not None:
                n.link("set", index=lo, state="up")
            m = _link_index(n, MGMT_IF)
            assert m is not None
            _ensure_addr(n, m, ipaddress.IPv4Interface(
                f"{h.ssh.address}/{local.mgmt_subnet.prefixlen}"))
            n.link("set", index=m, state="up")

    for link in spec.links:
        _make_link(spec, link)

    for h in spec.hosts:
        _start_sshd(h, st, local.namespace(h.name))
    _wait_ssh(spec)


def _check_subnet_free(spec: LabSpec) -> None:
    """Refuse a management subnet that another interface of the root namespace uses."""
    local = _local(spec)
    with IPRoute() as ipr:
        for a in ipr.get_addr(family=socket.AF_INET):
            ifname = a.get_attr("IFA_LABEL") or ""
            if ifname == local.bridge:
                continue
            net = ipaddress.IPv4Interface(f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}").network
            if net.overlaps(local.mgmt_subnet):
                raise ToolkitError(f"{spec.path}: local.mgmt_subnet {local.mgmt_subnet} overlaps "
                                   f"{net} on interface {ifname} of this machine. Fix: pick "
                                   "another mgmt_subnet in the lab file")


def _if_of(spec: LabSpec, host: str, name: str) -> tuple[str, list[ipaddress.IPv4Interface]]:
    """Linux interface name and kernel addresses of a link end."""
    item = spec.host(host).endpoint(name)
    assert item is not None
    if isinstance(item, Port):
        assert item.iface is not None
        # The stack's own ip is owned by DPDK, never by the kernel.
        return item.iface, [item.kernel_ip] if item.kernel_ip else []
    return item.name, [item.ip]


def _queues_of(n: NetNS, idx: int) -> int:
    return int(n.get_links(idx)[0].get_attr("IFLA_NUM_RX_QUEUES") or 1)


def _make_link(spec: LabSpec, link: Link) -> None:
    local = _local(spec)
    ha, na, hb, nb = link.a.host, link.a.name, link.b.host, link.b.name
    nsa, nsb = local.namespace(ha), local.namespace(hb)
    ifa, ipa = _if_of(spec, ha, na)
    ifb, ipb = _if_of(spec, hb, nb)
    nq = {"num_tx_queues": link.queues, "num_rx_queues": link.queues}
    with _ns(nsa) as a, _ns(nsb) as b:
        ia, ib = _link_index(a, ifa), _link_index(b, ifb)
        if ia is not None and ib is not None and _queues_of(a, ia) != link.queues:
            a.link("del", index=ia)  # the lab file changed its queues: remade below
            ia, ib = None, _link_index(b, ifb)
        if ia is None or ib is None:
            # A half-made pair (crash between steps): remove the half, remake both.
            if ia is not None:
                a.link("del", index=ia)
            if ib is not None:
                b.link("del", index=ib)
            # Created inside namespace A with its peer put straight into B, so the
            # names never appear in the root namespace (no clash with other labs).
            a.link("add", ifname=ifa, kind="veth", **nq,
                   peer={"ifname": ifb, "net_ns_fd": nsb, **nq})
            ia, ib = _link_index(a, ifa), _link_index(b, ifb)
        assert ia is not None and ib is not None
        for n, idx, ips in ((a, ia, ipa), (b, ib, ipb)):
            for ip in ips:
                _ensure_addr(n, idx, ip)
            n.link("set", index=idx, state="up")
    for host, ns, ifname in ((ha, nsa, ifa), (hb, nsb, ifb)):
        _ns_exec(ns, ["sh", "-c", f"echo 1 > /proc/sys/net/ipv6/conf/{ifname}/disable_ipv6"],
                 check=False)
        # ethtool -K exits non-zero when one feature cannot change (e.g. rx on
        # some kernels) even if the others did: check the result, not the rc.
        _ns_exec(ns, ["ethtool", "-K", ifname, *OFFLOADS_OFF], check=False)
        if spec.host(host).role != "dut":
            _steer_off_dut_cpu(ns, ifname)
    if link.rss:
        host, ifname = next((h, i) for h, i in ((ha, ifa), (hb, ifb))
                            if spec.host(h).role != "dut")
        _link_rss_on(spec, local.namespace(host), ifname, link.queues)


#: the tc program of `rss: true` links and the header it shares with the stack
LINK_RSS_SRC = REPO_ROOT / "bpf" / "link_rss.c"


def _link_rss_on(spec: LabSpec, ns: str, ifname: str, queues: int) -> None:
    """The Linux end `ifname` of an `rss: true` link puts each IPv4/TCP frame on
    the peer's RX queue toeplitz % queues (bpf/link_rss.c, compiled here with
    clang); its TX queues get no XPS map, which would override that choice."""
    if shutil.which("clang") is None or shutil.which("tc") is None:
        raise ToolkitError("clang or tc missing (an `rss: true` link runs a tc program "
                           "compiled with clang). Fix: ./inv setup")
    obj = _state(spec).dir / f"link_rss-{queues}.o"
    arch = os.uname().machine
    _run(["clang", "-O2", "-g", "-target", "bpf", f"-DQUEUES={queues}", f"-I{REPO_ROOT / 'src'}",
          f"-I/usr/include/{arch}-linux-gnu", "-c", str(LINK_RSS_SRC), "-o", str(obj)],
         timeout=60)
    _ns_exec(ns, ["sh", "-c", f"for q in /sys/class/net/{ifname}/queues/tx-*; do "
                  "echo 0 > $q/xps_cpus; done"], check=False)
    _ns_exec(ns, ["tc", "qdisc", "replace", "dev", ifname, "clsact"])
    _ns_exec(ns, ["tc", "filter", "replace", "dev", ifname, "egress", "pref", "1", "handle",
                  "1", "bpf", "direct-action", "obj", str(obj), "sec", "tc"])


def peer_rps_mask(ncpus: int | None = None) -> str:
    """rps_cpus of a Linux host's lab veth: every CPU but the dut's CPU 0, or ""
    (leave it alone) on a one-CPU machine."""
    n = ncpus if ncpus is not None else (os.cpu_count() or 1)
    return f"{((1 << n) - 1) & ~1:x}" if n > 1 else ""


def _steer_off_dut_cpu(ns: str, ifname: str) -> None:
    """Receive processing of a Linux host's veth on the CPUs that are not the dut's.

    A veth delivers a frame in the sender's softirq, on the sender's CPU: every
    segment the stack sends with af_packet was received by the Linux peer's TCP
    (wake-ups, its ACKs, the next data it sends) on the stack's core, which on
    a real testbed is the other machine's work. Measured with
    experiments/table5_2 (splice, perf on CPU 0): 84% of the middlebox core was
    kernel work of the peers, our stack 10%; with RPS the core had idle time
    and the splice went from 0.3-0.5 to 1.1-1.6 Gbit/s at 100 connections
    (docs/local-lab-cpus.md)."""
    mask = peer_rps_mask()
    if mask:
        _ns_exec(ns, ["sh", "-c", f"for q in /sys/class/net/{ifname}/queues/rx-*; do "
                      f"echo {mask} > $q/rps_cpus; done"], check=False)


# --------------------------------------------------------------------------- down


def _namespace_pids(ns: str) -> list[int]:
    r = _run(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in r.stdout.split() if x.isdigit()]


def down(spec: LabSpec) -> list[str]:
    """Remove everything up() made for this lab; returns what was removed."""
    _require_root()
    local = _local(spec)
    st = _state(spec)
    made = _read_made(st)
    removed: list[str] = []
    namespaces = set(made.get("namespaces", [])) | {local.namespace(h.name) for h in spec.hosts}
    hosts = set(made.get("hosts", [])) | {h.name for h in spec.hosts}
    # sshd first (by pidfile), then anything else left running in our namespaces
    # (background processes of experiments): all of it is this lab's.
    for h in sorted(hosts):
        pid = _read_pid(st.sshd_pidfile(h))
        if pid is not None and _pid_alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
            removed.append(f"sshd {h} (pid {pid})")
    existing = set(netns.listnetns())
    for ns in sorted(namespaces & existing):
        pids = _namespace_pids(ns)
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        _wait_gone(pids)
        netns.remove(ns)
        removed.append(f"netns {ns}")
    root_links = set(made.get("root_links", [])) | {local.bridge} | {
        local.mgmt_veth(i) for i in range(len(spec.hosts))}
    with IPRoute() as ipr:
        # Veths vanish with their namespace; the bridge and strays are ours to delete.
        for name in sorted(root_links, key=lambda n: n == local.bridge):
            idx = _link_index(ipr, name)
            if idx is not None:
                with contextlib.suppress(NetlinkError):
                    ipr.link("del", index=idx)
                removed.append(f"link {name}")
    if st.dir.exists():
        shutil.rmtree(st.dir)
        removed.append(f"state {st.dir}")
    # A client key the lab file placed outside the state folder was generated by up() too.
    for h in spec.hosts:
        key = h.ssh.key
        if key is not None and key.exists() and _is_generated(key, spec):
            key.unlink()
            Path(f"{key}.pub").unlink(missing_ok=True)
            removed.append(f"key {key}")
    return removed


def workdirs(spec: LabSpec) -> list[Path]:
    """The hosts' workdirs that exist (a local lab's hosts share this filesystem)."""
    _local(spec)
    return sorted({Path(str(h.workdir)) for h in spec.hosts if Path(str(h.workdir)).is_dir()})


def remove_workdirs(spec: LabSpec) -> list[str]:
    """Delete a local lab's host workdirs (what deploy and experiments wrote)."""
    removed = []
    for d in workdirs(spec):
        shutil.rmtree(d)
        removed.append(f"workdir {d}")
    return removed


def _is_generated(key: Path, spec: LabSpec) -> bool:
    pub = Path(f"{key}.pub")
    try:
        return pub.read_text().strip().endswith(f"aatcp-lab-{spec.name}")
    except OSError:
        return False


def _wait_gone(pids: list[int], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while any(_pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


# --------------------------------------------------------------------------- status


@dataclass
class HostStatus:
    name: str
    role: str
    address: str
    namespace: str | None
    namespace_exists: bool | None
    sshd_pid: int | None
    #: None when the host answers over SSH, else why not (key, name, refused, ...)
    ssh_problem: str | None

    @property
    def ssh_answers(self) -> bool:
        return self.ssh_problem is None


@dataclass
class LinkStatus:
    a: str
    b: str
    a_addr: str
    b_addr: str
    up: bool | None  # None: unknown (not a local lab)


def _if_up(ns: str, ifname: str) -> bool:
    if ns not in netns.listnetns():
        return False
    try:
        with _ns(ns) as n:
            idx = _link_index(n, ifname)
            if idx is None:
                return False
            link = n.get_links(idx)[0]
            return bool(link["flags"] & 1)  # IFF_UP
    except (OSError, NetlinkError):
        return False


def status(lab: Lab) -> tuple[list[HostStatus], list[LinkStatus]]:
    spec = lab.spec
    existing = set(netns.listnetns()) if spec.is_local else set()
    st = _state(spec)
    hosts = []
    for h in spec.hosts:
        ns = spec.local.namespace(h.name) if spec.local else None
        hosts.append(HostStatus(
            name=h.name, role=h.role, address=f"{h.ssh.user}@{h.ssh.address}:{h.ssh.port}",
            namespace=ns, namespace_exists=(ns in existing) if ns else None,
            sshd_pid=_sshd_running(h, st) if spec.is_local else None,
            ssh_problem=None))
    # Every host at once: a host that does not answer costs a connect timeout.
    with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:
        problems = pool.map(lambda hs: lab.host(hs.name).problem(timeout=5), hosts)
        for hs, problem in zip(hosts, problems, strict=True):
            hs.ssh_problem = problem
    links = []
    for li in lab.links():
        up_state: bool | None = None
        if spec.local is not None:
            ia, _ = _if_of(spec, li.a.host, li.a.name)
            ib, _ = _if_of(spec, li.b.host, li.b.name)
            up_state = (_if_up(spec.local.namespace(li.a.host), ia)
                        and _if_up(spec.local.namespace(li.b.host), ib))
        links.append(LinkStatus(str(li.a), str(li.b), str(li.a_ip), str(li.b_ip), up_state))
    return hosts, links


def table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Rows under a header, each column as wide as its widest cell."""
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    return [(indent + "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))).rstrip()
            for r in (header, *rows)]


def format_status(lab: Lab, status_: tuple[list[HostStatus], list[LinkStatus]] | None = None
                  ) -> str:
    """lab.status' text: hosts and links as tables with headers, then why any
    host does not answer over SSH."""
    hosts, links = status_ or status(lab)
    out = [f"lab {lab.name} ({lab.path})", "hosts:"]
    header = ["NAME", "ROLE", "SSH"]
    if lab.is_local:
        header += ["NETNS", "SSHD"]
    header.append("ANSWERS SSH")
    rows = []
    for h in hosts:
        row = [h.name, h.role, h.address]
        if lab.is_local:
            row.append(f"{h.namespace} ({'yes' if h.namespace_exists else 'MISSING'})")
            row.append(str(h.sshd_pid) if h.sshd_pid else "not running")
        row.append("yes" if h.ssh_answers else "NO ANSWER")
        rows.append(row)
    out += table(header, rows)
    out.append("links:")
    link_header = ["END A", "ADDRESS A", "END B", "ADDRESS B"]
    link_rows = [[li.a, li.a_addr, li.b, li.b_addr] for li in links]
    if lab.is_local:
        link_header.append("STATE")
        for row, li in zip(link_rows, links, strict=True):
            row.append("up" if li.up else "DOWN/MISSING")
    out += table(link_header, link_rows)
    for h in hosts:
        if h.ssh_problem is not None:
            out.append(f"why: {h.ssh_problem}")
    if lab.is_local:
        st = _state(lab.spec)
        h0 = lab.spec.hosts[0]
        key = h0.ssh.key or st.client_key
        out.append(f"ssh by hand: ssh -i {key} -o UserKnownHostsFile={st.known_hosts} "
                   f"{h0.ssh.user}@{h0.ssh.address}")
    return "\n".join(out)


def is_up(lab: Lab) -> bool:
    """All hosts answer over SSH."""
    return all(h.answers(timeout=5) for h in lab.hosts.values())


# --------------------------------------------------------------------------- test labs


def free_mgmt_subnet(seed: int, base: str = "10.254.0.0/16") -> str:
    """A /24 in `base` that no interface of this machine uses, chosen from `seed` (a pid)."""
    net = ipaddress.IPv4Network(base)
    subnets = list(net.subnets(new_prefix=24))
    used = []
    with IPRoute() as ipr:
        for a in ipr.get_addr(family=socket.AF_INET):
            used.append(ipaddress.IPv4Interface(
                f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}").network)
    for k in range(len(subnets)):
        cand = subnets[(seed + k) % len(subnets)]
        if not any(cand.overlaps(u) for u in used):
            return str(cand)
    raise ToolkitError(f"no free /24 management subnet in {base}")


def write_test_lab(tmp_dir: Path, name: str, prefix: str, subnet_seed: int) -> Path:
    """Write a private copy of labs/local.yml for tests or parallel runs into tmp_dir.

    Own name (state in .lab/<name>/), own prefix, a management subnet no interface
    of this machine uses (picked from subnet_seed, e.g. the pid), workdirs under
    tmp_dir/hosts/. Returns the file's path.
    """
    from aatcp.labfile import derive_local_lab
    from aatcp.paths import DEFAULT_LAB

    text = derive_local_lab(DEFAULT_LAB, name=name, prefix=prefix,
                            mgmt_subnet=free_mgmt_subnet(subnet_seed),
                            workdir_root=tmp_dir / "hosts")
    path = tmp_dir / f"{name}.yml"
    path.write_text(text)
    return path


def reap_stale_labs(pattern: str = r"^t(\d+)$") -> list[str]:
    """Bring down test labs whose creating process is dead (a killed test run).

    Only labs named like `pattern` (test labs: `t<pid>`) under .lab/ are
    considered, and only when no process with that pid exists any more.
    """
    from aatcp.labfile import parse_lab
    from aatcp.paths import LAB_STATE_ROOT

    reaped = []
    if not LAB_STATE_ROOT.is_dir():
        return reaped
    for d in sorted(LAB_STATE_ROOT.iterdir()):
        m = re.match(pattern, d.name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        copy = d / "lab.yml"
        try:
            spec = parse_lab(copy.read_text(), copy)
        except (OSError, ToolkitError):
            continue
        down(spec)
        reaped.append(d.name)
    return reaped


@contextlib.contextmanager
def temporary_lab(spec: LabSpec) -> Iterator[Lab]:
    """Bring a local lab up for the duration of a with-block; always brings it down."""
    lab = Lab(spec)
    try:
        up(spec)
        yield lab
    finally:
        lab.close()
        down(spec)
