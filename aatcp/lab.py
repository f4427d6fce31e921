"""A lab at run time: its validated file plus SSH handles to its hosts.

    from aatcp.lab import load_lab
    with load_lab() as lab:                      # labs/local.yml by default
        dut = lab.by_role("dut")
        print(dut.run("uname -r").stdout)
        conf = lab.stack_config(overrides={"num_cores": 1})
        dut.write_file("conf/stack.conf", conf)
"""

from __future__ import annotations

import ipaddress
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aatcp.errors import ToolkitError
from aatcp.labfile import Endpoint, Interface, LabSpec, Port, load_lab_spec
from aatcp.paths import DEFAULT_LAB
from aatcp.remote import Host


@dataclass(frozen=True)
class LinkInfo:
    """A link with the addresses at both ends (what experiments need to connect)."""

    a: Endpoint
    b: Endpoint
    a_ip: ipaddress.IPv4Interface
    b_ip: ipaddress.IPv4Interface
    #: the kernel's address on a dut port's link (Linux baselines), if any
    a_kernel_ip: ipaddress.IPv4Interface | None = None
    b_kernel_ip: ipaddress.IPv4Interface | None = None

    def ip_of(self, host: str) -> ipaddress.IPv4Interface:
        if self.a.host == host:
            return self.a_ip
        if self.b.host == host:
            return self.b_ip
        raise KeyError(host)

    def kernel_ip_of(self, host: str) -> ipaddress.IPv4Interface:
        """The Linux address of `host` on this link (a dut port's kernel_ip)."""
        for end, ip, kip in ((self.a, self.a_ip, self.a_kernel_ip),
                             (self.b, self.b_ip, self.b_kernel_ip)):
            if end.host == host:
                if kip is not None:
                    return kip
                return ip
        raise KeyError(host)


def hosts_arg(path: Path) -> Path | None:
    """The --hosts value that names this lab file (None for the default local lab)."""
    try:
        return None if Path(path).resolve() == DEFAULT_LAB.resolve() else Path(path)
    except OSError:
        return Path(path)


class Lab:
    """A loaded lab: `hosts`, `host(name)`, `by_role(role)`, links, stack configs."""

    def __init__(self, spec: LabSpec) -> None:
        self.spec = spec
        known = spec.state_dir / "known_hosts" if spec.is_local else None
        self.hosts: dict[str, Host] = {
            h.name: Host(h, known_hosts=known, load_ssh_config=not spec.is_local,
                         lab_file=hosts_arg(spec.path))
            for h in spec.hosts
        }

    # ------------------------------------------------------------------ lookup

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def path(self) -> Path:
        return self.spec.path

    @property
    def is_local(self) -> bool:
        return self.spec.is_local

    def host(self, name: str) -> Host:
        try:
            return self.hosts[name]
        except KeyError:
            raise ToolkitError(f"{self.spec.path}: no host '{name}'. Fix: use one of "
                               f"{', '.join(self.hosts)}") from None

    def by_role(self, role: str) -> Host:
        """The one host with `role` (error if none or several: then use host(name))."""
        found = self.all_by_role(role)
        if len(found) != 1:
            have = ", ".join(f"{h.name} ({h.role})" for h in self.hosts.values())
            what = "no" if not found else f"{len(found)}"
            raise ToolkitError(f"{self.spec.path}: {what} host with role '{role}' (hosts: "
                               f"{have}). Fix: add one, or pick one with lab.host(name)")
        return found[0]

    def all_by_role(self, role: str) -> list[Host]:
        return [h for h in self.hosts.values() if h.role == role]

    def require_roles(self, roles: Sequence[str]) -> None:
        for r in roles:
            if not self.all_by_role(r):
                raise ToolkitError(f"{self.spec.path}: no host with role '{r}'. Fix: add a "
                                   f"host with `role: {r}` to the lab file")

    def namespace(self, host: str) -> str:
        """Network namespace of a local-lab host."""
        if self.spec.local is None:
            raise ToolkitError(f"{self.spec.path}: not a local lab (no `local:` section)")
        self.host(host)
        return self.spec.local.namespace(host)

    # ------------------------------------------------------------------ links

    def links(self) -> list[LinkInfo]:
        out = []
        for link in self.spec.links:
            ea = self.spec.host(link.a.host).endpoint(link.a.name)
            eb = self.spec.host(link.b.host).endpoint(link.b.name)
            assert ea is not None and eb is not None
            out.append(LinkInfo(
                link.a, link.b, ea.ip, eb.ip,
                ea.kernel_ip if isinstance(ea, Port) else None,
                eb.kernel_ip if isinstance(eb, Port) else None))
        return out

    def link_between(self, a: str, b: str) -> LinkInfo:
        """The link joining hosts `a` and `b` (e.g. lab.link_between('server', 'client'))."""
        for li in self.links():
            if {li.a.host, li.b.host} == {a, b}:
                return li
        raise ToolkitError(f"{self.spec.path}: no link between {a} and {b}. Fix: add one "
                           "under `links:`")

    def peers(self, host: str, name: str) -> list[tuple[Host, Interface | Port]]:
        """What is at the other end of host:name's link."""
        end = Endpoint(host, name)
        item = self.spec.host(host).endpoint(name)
        if isinstance(item, Port):
            end = Endpoint(host, item.name)
        link = self.spec.link_of(end)
        if link is None:
            return []
        other = link.other(end)
        oitem = self.spec.host(other.host).endpoint(other.name)
        assert oitem is not None
        return [(self.host(other.host), oitem)]

    # ------------------------------------------------------------------ stack config

    def eal_args(self, host: str) -> str:
        """DPDK EAL arguments for the stack on `host`."""
        spec = self.host(host).spec
        args = []
        if not any(p.is_pci for p in spec.ports):
            args.append("--no-pci")
        if spec.dpdk.hugepages == 0:
            # --no-shconf: no runtime config file under /var/run/dpdk, so several
            # stacks (tests, other labs) on one machine never clash on its lock.
            # (--in-memory would do the same but refuses --no-huge.)
            args += ["--no-huge", "-m", "1024", "--no-shconf"]
        else:
            prefix = self.spec.local.prefix if self.spec.local else ""
            args.append(f"--file-prefix=aatcp-{prefix}{host}")
        return " ".join(args)

    def stack_config(self, host: str | None = None,
                     overrides: Mapping[str, Any] | None = None,
                     ports: Sequence[str] | None = None) -> str:
        """Text of an aatcp stack config (docs/config.md) for the dut `host`.

        One block per port (device, ip, gateway, mtu), a static ARP entry for each
        peer at the other end of the port's link (MAC read from the peer over SSH,
        or the lab file's `mac:`), the EAL arguments, then `overrides` (key ->
        value; a value of None removes a key). `ports` restricts to some ports.
        """
        h = self.by_role("dut") if host is None else self.host(host)
        if not h.spec.ports:
            raise ToolkitError(f"{self.spec.path}: host {h.name} has no `ports:`. Fix: the "
                               "stack config is for the dut host with stack ports")
        # 64 KB socket buffers, as every experiment and test was measured with;
        # the stack's own defaults are mTCP's 8 KB (docs/config.md)
        conf: dict[str, str] = {"eal": self.eal_args(h.name), "rcvbuf": "65536",
                                "sndbuf": "65536"}
        arp: dict[str, str] = {}
        chosen = [p for p in h.spec.ports if ports is None or p.name in ports]
        for p in chosen:
            conf[f"port.{p.name}.device"] = p.device
            conf[f"port.{p.name}.ip"] = str(p.ip)
            if p.gateway is not None:
                conf[f"port.{p.name}.gateway"] = str(p.gateway)
            if p.mtu != 1500:
                conf[f"port.{p.name}.mtu"] = str(p.mtu)
            link = self.spec.link_of(Endpoint(h.name, p.name))
            if link is not None and link.rss:  # the Linux end hashes like RSS
                conf[f"port.{p.name}.link_hash"] = "toeplitz"

        def peer_mac(p: Port) -> list[tuple[str, str]]:
            out = []
            for peer, item in self.peers(h.name, p.name):
                if isinstance(item, Port):
                    if item.mac:  # a DPDK port has no kernel interface to ask
                        out.append((str(item.ip.ip), item.mac))
                    continue
                mac = item.mac or peer.mac(item.name)
                out.append((str(item.ip.ip), mac))
            return out

        with ThreadPoolExecutor(max_workers=max(1, len(chosen))) as pool:
            for entries in pool.map(peer_mac, chosen):
                arp.update(entries)
        for ip, mac in sorted(arp.items(), key=lambda kv: ipaddress.IPv4Address(kv[0])):
            conf[f"arp.{ip}"] = mac
        for k, v in (overrides or {}).items():
            if v is None:
                conf.pop(k, None)
            else:
                conf[k] = str(v).lower() if isinstance(v, bool) else str(v)
        lines = [f"# aatcp stack config for {h.name}, rendered from {self.spec.path.name}",
                 *(f"{k} = {v}" for k, v in conf.items())]
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ local execution

    def exec_local(self, host: str, argv: Sequence[str] | str, timeout: float = 60,
                   check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command directly in a local-lab host's namespace (no SSH; for fast tests).

        argv: an argument list, or a string run with `sh -c`.
        """
        ns = self.namespace(host)
        cmd = ["sh", "-c", argv] if isinstance(argv, str) else list(argv)
        r = subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise ToolkitError(f"{host} (netns {ns}): `{' '.join(cmd)}` exited "
                               f"{r.returncode}: {r.stderr.strip()}")
        return r

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        for h in self.hosts.values():
            h.close()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_lab(path: str | Path | None = None) -> Lab:
    """Load and validate a lab file (default: labs/local.yml)."""
    return Lab(load_lab_spec(path if path is not None else DEFAULT_LAB))
