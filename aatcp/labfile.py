"""Lab file: schema, validation with line numbers, and the parsed model.

A lab file (YAML) names the hosts of a testbed, how to reach them over SSH, their
interfaces (Linux) and ports (driven by the stack through DPDK), and the links
between them. The schema is documented in docs/toolkit.md ("Lab file").

Validation walks PyYAML's node tree rather than the loaded dicts so that every
error can name the line it comes from. The first error stops loading: one clear
message (file, line, key, problem, fix) beats a list of consequences.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from aatcp.errors import LabFileError, ToolkitError
from aatcp.paths import LAB_STATE_ROOT, LABS_DIR, REPO_ROOT, resolve

ROLES = ("server", "dut", "client")
IFNAMSIZ = 15  # Linux interface names: at most 15 characters
_IFNAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
_PORT_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_LAB_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_PREFIX_RE = re.compile(r"^[a-z0-9-]*$")
_PCI_RE = re.compile(r"^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$")
_VDEV_RE = re.compile(r"^net_[a-z_]+[0-9]*(,[A-Za-z0-9_]+=[^,\s]+)*$")
_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
#: Longest local-lab prefix: keeps `<prefix>aabr` and `<prefix>aam<i>` within IFNAMSIZ.
MAX_PREFIX = 9


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class SSH:
    address: str
    user: str = "root"
    key: Path | None = None
    port: int = 22
    line: int | None = None  # line of `address` in the lab file


@dataclass(frozen=True)
class Interface:
    """A Linux interface of a host (server/client side of a link, or a dut kernel iface)."""

    name: str
    ip: ipaddress.IPv4Interface
    mac: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Port:
    """A port the stack drives on the dut (DPDK device)."""

    name: str
    device: str
    ip: ipaddress.IPv4Interface
    kernel_ip: ipaddress.IPv4Interface | None = None
    gateway: ipaddress.IPv4Address | None = None
    iface: str | None = None
    mtu: int = 1500
    mac: str | None = None
    line: int | None = None

    @property
    def is_pci(self) -> bool:
        return bool(_PCI_RE.match(self.device))


@dataclass(frozen=True)
class DPDK:
    #: 2 MiB hugepages to reserve on the host; 0: run DPDK with --no-huge.
    hugepages: int = 0
    #: kernel driver PCI ports are bound to.
    driver: str = "vfio-pci"


@dataclass(frozen=True)
class HostSpec:
    name: str
    role: str
    ssh: SSH
    workdir: PurePosixPath
    interfaces: tuple[Interface, ...] = ()
    ports: tuple[Port, ...] = ()
    dpdk: DPDK = DPDK()
    line: int | None = None

    def endpoint(self, name: str) -> Interface | Port | None:
        """The interface or port called `name` (a dut port also answers to its iface)."""
        for i in self.interfaces:
            if i.name == name:
                return i
        for p in self.ports:
            if name in (p.name, p.iface):
                return p
        return None


@dataclass(frozen=True)
class Endpoint:
    host: str
    name: str

    def __str__(self) -> str:
        return f"{self.host}:{self.name}"


#: most queues a local lab's veth gets (the stack runs at most 16 cores)
MAX_LINK_QUEUES = 16


@dataclass(frozen=True)
class Link:
    a: Endpoint
    b: Endpoint
    line: int | None = None
    #: local labs: RX/TX queues of both veth ends
    queues: int = 1
    #: local labs: the Linux end puts each IPv4/TCP frame on the dut's RX queue
    #: an RSS NIC with the stack's Toeplitz key would (bpf/link_rss.c)
    rss: bool = False

    def other(self, end: Endpoint) -> Endpoint:
        return self.b if end == self.a else self.a


@dataclass(frozen=True)
class LocalSpec:
    """Present when the lab is emulated on this machine (namespaces + veth + sshd)."""

    prefix: str
    mgmt_subnet: ipaddress.IPv4Network

    @property
    def bridge(self) -> str:
        return f"{self.prefix}aabr"

    def mgmt_veth(self, index: int) -> str:
        return f"{self.prefix}aam{index}"

    def namespace(self, host: str) -> str:
        return f"{self.prefix}{host}"

    @property
    def bridge_ip(self) -> ipaddress.IPv4Interface:
        net = self.mgmt_subnet
        return ipaddress.IPv4Interface(f"{net.network_address + 1}/{net.prefixlen}")


@dataclass(frozen=True)
class LabSpec:
    name: str
    path: Path
    hosts: tuple[HostSpec, ...]
    links: tuple[Link, ...] = ()
    local: LocalSpec | None = None
    description: str = ""
    text: str = field(default="", repr=False)

    @property
    def is_local(self) -> bool:
        return self.local is not None

    @property
    def state_dir(self) -> Path:
        """Where a local lab keeps its keys, sshd configs and pidfiles."""
        return LAB_STATE_ROOT / self.name

    def host(self, name: str) -> HostSpec:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    def link_of(self, end: Endpoint) -> Link | None:
        for link in self.links:
            if end in (link.a, link.b):
                return link
        return None


# --------------------------------------------------------------------------- validation


class _Ctx:
    """Walks a node tree, remembering the file for error messages."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._constructor = SafeConstructor()

    def fail(self, node: Node | None, key: str, problem: str, fix: str) -> LabFileError:
        line = node.start_mark.line + 1 if node is not None else None
        return LabFileError(self.path, line, key, problem, fix)

    def value(self, node: Node) -> Any:
        return self._constructor.construct_object(node, deep=True)

    def mapping(
        self,
        node: Node,
        key: str,
        required: tuple[str, ...],
        optional: tuple[str, ...],
    ) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            keys = ", ".join(required + optional)
            raise self.fail(node, key, "expected a mapping (key: value lines)",
                            f"write `{key or 'the file'}` as a mapping with keys {keys}")
        out: dict[str, Node] = {}
        allowed = required + optional
        for knode, vnode in node.value:
            k = self.value(knode)
            sub = f"{key}.{k}" if key else str(k)
            if not isinstance(k, str) or k not in allowed:
                raise self.fail(knode, sub, "unknown key",
                                f"use one of {', '.join(allowed)} (check the spelling) "
                                "or remove it")
            if k in out:
                raise self.fail(knode, sub, "key given twice", "keep one of the two")
            out[k] = vnode
        for k in required:
            if k not in out:
                raise self.fail(node, f"{key}.{k}" if key else k, "missing required field",
                                f"add `{k}:` to {key or 'the top level'}")
        return out

    def sequence(self, node: Node, key: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            raise self.fail(node, key, "expected a list", f"write `{key}` as a YAML list (`- ...`)")
        return list(node.value)

    def string(self, node: Node, key: str, pattern: re.Pattern[str] | None = None,
               what: str = "") -> str:
        if not isinstance(node, ScalarNode):
            raise self.fail(node, key, "expected a single value", f"give `{key}` one value")
        v = self.value(node)
        if v is None:
            raise self.fail(node, key, "empty value", f"give `{key}` a value")
        v = str(v)
        if pattern is not None and not pattern.match(v):
            raise self.fail(node, key, f"'{v}' is not {what}", f"write {what}")
        return v

    def integer(self, node: Node, key: str, lo: int, hi: int) -> int:
        v = self.value(node) if isinstance(node, ScalarNode) else None
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise self.fail(node, key, f"'{v}' is not an integer in {lo}..{hi}",
                            f"write a number between {lo} and {hi}")
        return v

    def ip_interface(self, node: Node, key: str) -> ipaddress.IPv4Interface:
        v = self.string(node, key)
        try:
            if "/" not in v:
                raise ValueError("no prefix")
            return ipaddress.IPv4Interface(v)
        except ValueError:
            raise self.fail(node, key, f"'{v}' is not an IPv4 address/prefix",
                            "write it like 10.0.1.2/24") from None

    def ip_address(self, node: Node, key: str) -> ipaddress.IPv4Address:
        v = self.string(node, key)
        try:
            return ipaddress.IPv4Address(v)
        except ValueError:
            raise self.fail(node, key, f"'{v}' is not an IPv4 address",
                            "write it like 10.0.1.1 (no prefix)") from None

    def network(self, node: Node, key: str) -> ipaddress.IPv4Network:
        v = self.string(node, key)
        try:
            return ipaddress.IPv4Network(v, strict=True)
        except ValueError:
            raise self.fail(node, key, f"'{v}' is not an IPv4 network",
                            "write it like 10.255.0.0/24 (host bits zero)") from None


def _ifname(ctx: _Ctx, node: Node, key: str) -> str:
    v = ctx.string(node, key)
    if len(v) > IFNAMSIZ or not _IFNAME_RE.match(v):
        raise ctx.fail(node, key, f"'{v}' is not a Linux interface name",
                       f"use at most {IFNAMSIZ} characters of letters, digits, '-', '_', '.'")
    return v


def _parse_ssh(ctx: _Ctx, node: Node, key: str) -> SSH:
    m = ctx.mapping(node, key, ("address",), ("user", "key", "port"))
    address = ctx.string(m["address"], f"{key}.address")
    user = ctx.string(m["user"], f"{key}.user") if "user" in m else "root"
    keyfile = resolve(ctx.string(m["key"], f"{key}.key")) if "key" in m else None
    port = ctx.integer(m["port"], f"{key}.port", 1, 65535) if "port" in m else 22
    return SSH(address=address, user=user, key=keyfile, port=port,
               line=m["address"].start_mark.line + 1)


def _parse_interface(ctx: _Ctx, node: Node, key: str) -> Interface:
    m = ctx.mapping(node, key, ("name", "ip"), ("mac",))
    mac = ctx.string(m["mac"], f"{key}.mac", _MAC_RE, "a MAC address like 02:00:00:00:01:01") \
        if "mac" in m else None
    return Interface(name=_ifname(ctx, m["name"], f"{key}.name"),
                     ip=ctx.ip_interface(m["ip"], f"{key}.ip"), mac=mac,
                     line=node.start_mark.line + 1)


def _vdev_iface(device: str) -> str | None:
    for arg in device.split(",")[1:]:
        k, _, v = arg.partition("=")
        if k == "iface":
            return v
    return None


def _parse_port(ctx: _Ctx, node: Node, key: str) -> Port:
    m = ctx.mapping(node, key, ("name", "device", "ip"),
                    ("kernel_ip", "gateway", "iface", "mtu", "mac"))
    name = ctx.string(m["name"], f"{key}.name", _PORT_NAME_RE,
                      "a port name of lowercase letters, digits and '_' (e.g. srv)")
    device = ctx.string(m["device"], f"{key}.device")
    if not (_PCI_RE.match(device) or _VDEV_RE.match(device)):
        raise ctx.fail(m["device"], f"{key}.device",
                       f"'{device}' is neither a PCI address nor a DPDK vdev spec",
                       "write a PCI address like 0000:03:00.0 or a vdev like "
                       "net_af_packet0,iface=d-srv")
    ip = ctx.ip_interface(m["ip"], f"{key}.ip")
    kernel_ip = ctx.ip_interface(m["kernel_ip"], f"{key}.kernel_ip") if "kernel_ip" in m else None
    gateway = None
    if "gateway" in m:
        gateway = ctx.ip_address(m["gateway"], f"{key}.gateway")
        if gateway not in ip.network:
            raise ctx.fail(m["gateway"], f"{key}.gateway",
                           f"{gateway} is outside the port's subnet {ip.network}",
                           "give a next hop inside the port's subnet or remove `gateway`")
    iface = _ifname(ctx, m["iface"], f"{key}.iface") if "iface" in m else _vdev_iface(device)
    mtu = ctx.integer(m["mtu"], f"{key}.mtu", 68, 9216) if "mtu" in m else 1500
    mac = ctx.string(m["mac"], f"{key}.mac", _MAC_RE, "a MAC address like 02:00:00:00:01:01") \
        if "mac" in m else None
    return Port(name=name, device=device, ip=ip, kernel_ip=kernel_ip, gateway=gateway,
                iface=iface, mtu=mtu, mac=mac, line=node.start_mark.line + 1)


def _peek_name(node: Node) -> str | None:
    """The `name:` of a mapping node, if it has a plain one (to name it in errors)."""
    if isinstance(node, MappingNode):
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value == "name" and isinstance(v, ScalarNode):
                return str(v.value)
    return None


def _parse_host(ctx: _Ctx, node: Node, key: str) -> HostSpec:
    peeked = _peek_name(node)
    if peeked:
        key = f"hosts[{peeked}]"
    m = ctx.mapping(node, key, ("name", "role", "ssh", "workdir"),
                    ("interfaces", "ports", "dpdk"))
    name = ctx.string(m["name"], f"{key}.name", _NAME_RE,
                      "a host name of lowercase letters, digits, '-' and '_' (e.g. dut)")
    key = f"hosts[{name}]"
    role = ctx.string(m["role"], f"{key}.role")
    if role not in ROLES:
        raise ctx.fail(m["role"], f"{key}.role", f"unknown role '{role}'",
                       f"use one of {', '.join(ROLES)}")
    ssh = _parse_ssh(ctx, m["ssh"], f"{key}.ssh")
    workdir_s = ctx.string(m["workdir"], f"{key}.workdir")
    if not workdir_s.startswith("/"):
        raise ctx.fail(m["workdir"], f"{key}.workdir", f"'{workdir_s}' is not an absolute path",
                       "write an absolute path on the host, e.g. /var/lib/aatcp/dut")
    interfaces = tuple(
        _parse_interface(ctx, n, f"{key}.interfaces[{i}]")
        for i, n in enumerate(ctx.sequence(m["interfaces"], f"{key}.interfaces"))
    ) if "interfaces" in m else ()
    ports: tuple[Port, ...] = ()
    if "ports" in m:
        if role != "dut":
            raise ctx.fail(m["ports"], f"{key}.ports", f"a {role} host has no stack ports",
                           "list its Linux interfaces under `interfaces:`, or make it role: dut")
        ports = tuple(
            _parse_port(ctx, n, f"{key}.ports[{i}]")
            for i, n in enumerate(ctx.sequence(m["ports"], f"{key}.ports"))
        )
    dpdk = DPDK()
    if "dpdk" in m:
        d = ctx.mapping(m["dpdk"], f"{key}.dpdk", (), ("hugepages", "driver"))
        dpdk = DPDK(
            hugepages=ctx.integer(d["hugepages"], f"{key}.dpdk.hugepages", 0, 1 << 20)
            if "hugepages" in d else 0,
            driver=ctx.string(d["driver"], f"{key}.dpdk.driver") if "driver" in d else "vfio-pci",
        )
    # Names must be unique within a host: links and configs refer to them.
    seen: dict[str, int | None] = {}
    for item in (*interfaces, *ports):
        names = {item.name} | ({item.iface} if isinstance(item, Port) and item.iface else set())
        for n in names:
            if n in seen:
                raise LabFileError(ctx.path, item.line, f"{key}: interface/port '{n}'",
                                   f"name used twice on host {name} (first on line {seen[n]})",
                                   "give each interface and port its own name")
            seen[n] = item.line
    return HostSpec(name=name, role=role, ssh=ssh, workdir=PurePosixPath(workdir_s),
                    interfaces=interfaces, ports=ports, dpdk=dpdk,
                    line=node.start_mark.line + 1)


def _parse_endpoint(ctx: _Ctx, node: Node, key: str, hosts: dict[str, HostSpec]) -> Endpoint:
    v = ctx.string(node, key)
    host, sep, name = v.partition(":")
    if not sep or not host or not name:
        raise ctx.fail(node, key, f"'{v}' is not an endpoint",
                       "write HOST:INTERFACE, e.g. server:s-dut or dut:srv")
    if host not in hosts:
        raise ctx.fail(node, key, f"unknown host '{host}'",
                       f"use one of the hosts defined above: {', '.join(hosts)}")
    if hosts[host].endpoint(name) is None:
        names = [i.name for i in hosts[host].interfaces] + [p.name for p in hosts[host].ports]
        raise ctx.fail(node, key, f"host '{host}' has no interface or port '{name}'",
                       f"use one of {', '.join(names) or '(none defined)'} or add it to the host")
    return Endpoint(host, name)


def _ips(h: HostSpec, e: Interface | Port) -> list[ipaddress.IPv4Interface]:
    if isinstance(e, Port):
        return [e.ip] + ([e.kernel_ip] if e.kernel_ip else [])
    return [e.ip]


def _check_local(ctx: _Ctx, local_node: Node, local: LocalSpec, hosts: list[HostSpec]) -> None:
    subnet = local.mgmt_subnet
    for h in hosts:
        key = f"hosts[{h.name}].ssh.address"
        try:
            addr = ipaddress.IPv4Address(h.ssh.address)
        except ValueError:
            addr = None
        bad = addr is None or addr not in subnet or addr in (
            subnet.network_address, subnet.broadcast_address, local.bridge_ip.ip)
        if bad:
            raise LabFileError(ctx.path, h.ssh.line, key,
                               f"'{h.ssh.address}' is not a usable address in the local lab's "
                               f"management subnet {subnet}",
                               f"pick an address in {subnet} other than {local.bridge_ip.ip} "
                               "(the bridge), the network and broadcast addresses")
        ns = local.namespace(h.name)
        if len(ns) > 64:
            raise ctx.fail(local_node, "local.prefix", f"namespace name '{ns}' is too long",
                           "use a shorter prefix or host name")
        for p in h.ports:
            if not p.iface:
                raise LabFileError(ctx.path, p.line, f"hosts[{h.name}].ports[{p.name}]",
                                   "a local lab port needs the Linux interface it drives",
                                   "use a vdev with iface= (net_af_packet0,iface=d-srv) "
                                   "or add `iface:`")


def parse_lab(text: str, path: str | Path = "<string>") -> LabSpec:
    """Validate lab-file text; raise LabFileError naming file, line and key on the first error."""
    path_s = str(path)
    ctx = _Ctx(_display(path))
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise LabFileError(ctx.path, mark.line + 1 if mark else None, "(syntax)",
                           f"not valid YAML: {getattr(e, 'problem', e)}",
                           "fix the YAML syntax (indentation, quotes, colons)") from None
    if root is None:
        raise LabFileError(ctx.path, None, "(file)", "the file is empty",
                           "write a lab file (see labs/local.yml)")
    top = ctx.mapping(root, "", ("name", "hosts"), ("description", "local", "links"))
    name = ctx.string(top["name"], "name", _LAB_NAME_RE,
                      "a lab name of letters, digits, '.', '_' and '-'")
    description = ctx.string(top["description"], "description") if "description" in top else ""

    local = None
    if "local" in top:
        lm = ctx.mapping(top["local"], "local", ("mgmt_subnet",), ("prefix",))
        prefix = ""
        if "prefix" in lm and ctx.value(lm["prefix"]) not in (None, ""):
            prefix = ctx.string(lm["prefix"], "local.prefix", _PREFIX_RE,
                                "a prefix of lowercase letters, digits and '-'")
        if len(prefix) > MAX_PREFIX:
            raise ctx.fail(lm["prefix"], "local.prefix", f"'{prefix}' is longer than "
                           f"{MAX_PREFIX} characters", "shorten it: interface names are limited "
                           f"to {IFNAMSIZ} characters")
        subnet = ctx.network(lm["mgmt_subnet"], "local.mgmt_subnet")
        if subnet.prefixlen > 29:
            raise ctx.fail(lm["mgmt_subnet"], "local.mgmt_subnet", f"{subnet} is too small",
                           "use a /24 like 10.255.0.0/24")
        local = LocalSpec(prefix=prefix, mgmt_subnet=subnet)

    host_nodes = ctx.sequence(top["hosts"], "hosts")
    if not host_nodes:
        raise ctx.fail(top["hosts"], "hosts", "no hosts", "list at least one host")
    hosts: list[HostSpec] = []
    by_name: dict[str, HostSpec] = {}
    for i, hn in enumerate(host_nodes):
        h = _parse_host(ctx, hn, f"hosts[{i}]")
        if h.name in by_name:
            raise ctx.fail(hn, f"hosts[{h.name}].name", f"duplicate host name '{h.name}' "
                           f"(first on line {by_name[h.name].line})", "give each host its own name")
        hosts.append(h)
        by_name[h.name] = h

    # Addresses must be unique across the lab, SSH endpoints too.
    seen_ip: dict[ipaddress.IPv4Address, str] = {}
    seen_ssh: dict[tuple[str, int], str] = {}
    for h in hosts:
        sk = (h.ssh.address, h.ssh.port)
        if sk in seen_ssh and h.ssh.address not in ("localhost", "127.0.0.1"):
            raise LabFileError(ctx.path, h.ssh.line, f"hosts[{h.name}].ssh.address",
                               f"{h.ssh.address}:{h.ssh.port} is also host {seen_ssh[sk]}'s",
                               "give each host its own SSH address")
        seen_ssh[sk] = h.name
        for e in (*h.interfaces, *h.ports):
            for ip in _ips(h, e):
                if ip.ip in seen_ip:
                    raise LabFileError(ctx.path, e.line, f"hosts[{h.name}] {e.name}.ip",
                                       f"address {ip.ip} is already used by {seen_ip[ip.ip]}",
                                       "give every interface and port its own address")
                seen_ip[ip.ip] = f"{h.name}:{e.name}"

    links: list[Link] = []
    used: dict[Endpoint, int] = {}
    if "links" in top:
        for i, ln in enumerate(ctx.sequence(top["links"], "links")):
            key = f"links[{i}]"
            ends = ctx.sequence(ln, key)
            opts = ends.pop() if len(ends) == 3 and isinstance(ends[2], MappingNode) else None
            if len(ends) != 2:
                raise ctx.fail(ln, key, f"a link has 2 ends, this one has {len(ends)}",
                               "write [HOST:IFACE, HOST:IFACE] or [HOST:IFACE, HOST:IFACE, "
                               "{queues: N, rss: true}]")
            a = _parse_endpoint(ctx, ends[0], f"{key}[0]", by_name)
            b = _parse_endpoint(ctx, ends[1], f"{key}[1]", by_name)
            # Normalise a dut port named by its iface to the port name.
            a, b = (_canonical(by_name, e) for e in (a, b))
            if a.host == b.host:
                raise ctx.fail(ln, key, "both ends are on the same host",
                               "link interfaces of two different hosts")
            for e, n in ((a, ends[0]), (b, ends[1])):
                if e in used:
                    raise ctx.fail(n, f"{key}", f"{e} is already linked (line {used[e]})",
                                   "an interface is the end of one link only")
                used[e] = ln.start_mark.line + 1
            ea = by_name[a.host].endpoint(a.name)
            eb = by_name[b.host].endpoint(b.name)
            assert ea is not None and eb is not None
            na = {ip.network for ip in _ips(by_name[a.host], ea)}
            nb = {ip.network for ip in _ips(by_name[b.host], eb)}
            if not na & nb:
                raise ctx.fail(ln, key, f"{a} ({', '.join(map(str, na))}) and {b} "
                               f"({', '.join(map(str, nb))}) are not in one subnet",
                               "give both ends addresses in the same subnet")
            queues, rss = (1, False) if opts is None else _link_options(
                ctx, opts, f"{key}[2]", by_name, (a, b), local is not None)
            links.append(Link(a, b, line=ln.start_mark.line + 1, queues=queues, rss=rss))

    if local is not None:
        _check_local(ctx, top["local"], local, hosts)
    return LabSpec(name=name, path=Path(path_s), hosts=tuple(hosts), links=tuple(links),
                   local=local, description=description, text=text)


def _link_options(ctx: _Ctx, node: Node, key: str, hosts: dict[str, HostSpec],
                  ends: tuple[Endpoint, Endpoint], local: bool) -> tuple[int, bool]:
    """A local link's `{queues: N, rss: true}`: N queues on both veth ends; rss
    makes the Linux end choose the dut port's RX queue like an RSS NIC."""
    m = ctx.mapping(node, key, (), ("queues", "rss"))
    if not local:
        raise ctx.fail(node, key, "link options are for local labs (veth pairs this "
                       "machine makes); a real link's queues are its NICs'",
                       "remove them, or add a `local:` section")
    queues = ctx.integer(m["queues"], f"{key}.queues", 1, MAX_LINK_QUEUES) \
        if "queues" in m else 1
    rss = False
    if "rss" in m:
        v = ctx.value(m["rss"])
        if not isinstance(v, bool):
            raise ctx.fail(m["rss"], f"{key}.rss", f"'{v}' is not true or false",
                           "write rss: true or rss: false")
        rss = v
    if not rss:
        return queues, rss
    if queues < 2:
        raise ctx.fail(m["rss"], f"{key}.rss", f"rss spreads over the queues, and the link "
                       f"has {queues}", "add queues: N with N = the stack's num_cores (>= 2)")
    items = [hosts[e.host].endpoint(e.name) for e in ends]
    ports = [i for i in items if isinstance(i, Port)]
    if len(ports) != 1:
        raise ctx.fail(m["rss"], f"{key}.rss", "rss needs a link between a dut port and a "
                       "Linux interface (the Linux end chooses the port's queue)",
                       "set rss on a link with one dut port")
    if not ports[0].device.startswith("net_af_xdp"):
        raise ctx.fail(m["rss"], f"{key}.rss", f"port {ports[0].name} is driven by "
                       f"'{ports[0].device}': only AF_XDP receives on the queue the link "
                       "chose (net_af_packet's fanout hashes on its own)",
                       f"make its device net_af_xdp0,iface={ports[0].iface}")
    return queues, rss


def _canonical(hosts: dict[str, HostSpec], e: Endpoint) -> Endpoint:
    item = hosts[e.host].endpoint(e.name)
    return Endpoint(e.host, item.name) if item is not None else e


def _display(path: str | Path) -> str:
    """A path as the user should read it: relative to the repo when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(p)


def load_lab_spec(path: str | Path) -> LabSpec:
    """Read and validate a lab file."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        have = ", ".join(_display(f) for f in sorted(LABS_DIR.glob("*.yml")))
        fix = (f"pass an existing lab file with --hosts (here: {have}); without --hosts "
               "the toolkit uses labs/local.yml, the local lab")
        if isinstance(e, FileNotFoundError):
            raise ToolkitError(f"lab file {p} does not exist. Fix: {fix}") from None
        raise ToolkitError(f"lab file {p}: cannot read it ({e.strerror}). Fix: {fix}") from None
    return parse_lab(text, p)


def iter_endpoints(spec: LabSpec) -> Iterator[tuple[HostSpec, Interface | Port]]:
    for h in spec.hosts:
        for e in (*h.interfaces, *h.ports):
            yield h, e


def derive_local_lab(
    source: str | Path,
    name: str,
    prefix: str,
    mgmt_subnet: str,
    workdir_root: str | Path,
    edit: Callable[[dict[str, Any]], None] | None = None,
) -> str:
    """YAML text of a copy of local lab file `source` under another name/prefix/subnet.

    Tests and parallel runs use this to bring up their own lab beside the shipped one:
    host SSH addresses are renumbered into `mgmt_subnet` (same host part), the key
    moves to `.lab/<name>/`, workdirs go under `workdir_root/<host>`. `edit` may change
    the dict further before it is dumped.
    """
    data = yaml.safe_load(Path(source).read_text())
    net = ipaddress.IPv4Network(mgmt_subnet)
    old = ipaddress.IPv4Network(data["local"]["mgmt_subnet"])
    data["name"] = name
    data["local"] = {"prefix": prefix, "mgmt_subnet": str(net)}
    for h in data["hosts"]:
        host_part = int(ipaddress.IPv4Address(h["ssh"]["address"])) - int(old.network_address)
        h["ssh"]["address"] = str(net.network_address + host_part)
        h["ssh"]["key"] = str(LAB_STATE_ROOT / name / "id_ed25519")
        h["workdir"] = str(Path(workdir_root) / h["name"])
    if edit is not None:
        edit(data)
    return yaml.safe_dump(data, sort_keys=False)
