"""Lab file validation: good files load; each kind of bad file gives one error naming
the file, the line and the key, with a fix."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from aatcp.errors import LabFileError, ToolkitError
from aatcp.labfile import derive_local_lab, load_lab_spec, parse_lab
from aatcp.paths import DEFAULT_LAB, LABS_DIR

LOCAL = DEFAULT_LAB.read_text()


def line_of(text: str, needle: str | tuple[str, int]) -> int:
    """Line number of the (nth, default first) line containing needle."""
    what, nth = (needle, 1) if isinstance(needle, str) else needle
    for i, line in enumerate(text.splitlines(), 1):
        if what in line:
            nth -= 1
            if nth == 0:
                return i
    raise AssertionError(f"{needle!r} not in text")


def test_shipped_local_lab_loads() -> None:
    spec = load_lab_spec(DEFAULT_LAB)
    assert spec.name == "local"
    assert spec.local is not None and spec.local.prefix == ""
    assert [h.name for h in spec.hosts] == ["server", "dut", "client"]
    dut = spec.host("dut")
    assert dut.role == "dut"
    assert [p.name for p in dut.ports] == ["srv", "cli"]
    assert dut.ports[0].iface == "d-srv"  # from the vdev's iface=
    assert dut.ports[0].ip == ipaddress.IPv4Interface("10.0.1.2/24")
    assert dut.ports[0].kernel_ip == ipaddress.IPv4Interface("10.0.1.3/24")
    assert len(spec.links) == 3
    assert {(str(li.a), str(li.b)) for li in spec.links} == {
        ("server:s-dut", "dut:srv"), ("dut:cli", "client:c-dut"),
        ("server:s-cli", "client:c-srv")}


def test_example_testbed_loads() -> None:
    spec = load_lab_spec(LABS_DIR / "example-testbed.yml")
    assert not spec.is_local
    dut = spec.host("dut")
    assert all(p.is_pci for p in dut.ports)
    assert dut.dpdk.hugepages == 1024
    assert dut.ports[1].gateway == ipaddress.IPv4Address("192.168.20.254")
    assert str(dut.ssh.key).startswith(str(Path.home()))


def test_link_may_name_dut_port_by_iface() -> None:
    text = LOCAL.replace("[server:s-dut, dut:srv]", "[server:s-dut, dut:d-srv]")
    spec = parse_lab(text, "x.yml")
    assert str(spec.links[0].b) == "dut:srv"


def test_derived_lab_is_valid(tmp_path: Path) -> None:
    text = derive_local_lab(DEFAULT_LAB, name="t1", prefix="t1-", mgmt_subnet="10.254.7.0/24",
                            workdir_root=tmp_path)
    spec = parse_lab(text, tmp_path / "t1.yml")
    assert spec.local is not None and spec.local.prefix == "t1-"
    assert spec.host("dut").ssh.address == "10.254.7.12"
    assert str(spec.host("dut").workdir) == str(tmp_path / "dut")
    assert spec.local.namespace("dut") == "t1-dut"


# (description, text edit (old, new), expected key fragment, line needle in the new text,
#  expected words in the problem/fix)
BAD = [
    ("unknown key", ("    workdir: /var/lib/aatcp/dut",
                     "    workdir: /var/lib/aatcp/dut\n    wrkdir: x"),
     "hosts[dut].wrkdir", "wrkdir: x", "unknown key"),
    ("misspelt ssh key", ("{address: 10.255.0.13, user: root",
                          "{adress: 10.255.0.13, user: root"),
     "hosts[client].ssh.adress", "adress: 10.255.0.13", "unknown key"),
    ("missing field", ("    workdir: /var/lib/aatcp/server\n", ""),
     "hosts[server].workdir", "- name: server", "missing required field"),
    ("missing top-level hosts", None, "hosts", None, "missing required field"),
    ("bad prefix length", ("ip: 10.0.1.2/24, kernel_ip", "ip: 10.0.1.2/33, kernel_ip"),
     "hosts[dut].ports[0].ip", "10.0.1.2/33", "not an IPv4 address/prefix"),
    ("address without prefix", ("{name: c-dut, ip: 10.0.2.1/24}", "{name: c-dut, ip: 10.0.2.1}"),
     "hosts[client].interfaces[0].ip", "ip: 10.0.2.1}", "10.0.1.2/24"),
    ("bad address", ("{name: s-cli, ip: 10.0.3.1/24}", "{name: s-cli, ip: 10.0.3.300/24}"),
     "hosts[server].interfaces[1].ip", "10.0.3.300", "not an IPv4 address/prefix"),
    ("duplicate host", ("  - name: client\n", "  - name: server\n"),
     "hosts[server].name", ("  - name: server", 2), "duplicate host name"),
    ("duplicate interface", ("{name: s-cli, ip: 10.0.3.1/24}", "{name: s-dut, ip: 10.0.3.1/24}"),
     "s-dut", "{name: s-dut, ip: 10.0.3.1/24}", "used twice"),
    ("duplicate address", ("{name: c-srv, ip: 10.0.3.2/24}", "{name: c-srv, ip: 10.0.3.1/24}"),
     "c-srv.ip", "{name: c-srv, ip: 10.0.3.1/24}", "already used by server:s-cli"),
    ("link to unknown host", ("[dut:cli, client:c-dut]", "[dut:cli, clinet:c-dut]"),
     "links[1][1]", "clinet:c-dut", "unknown host 'clinet'"),
    ("link to unknown interface", ("[server:s-cli, client:c-srv]",
                                   "[server:s-cli, client:c-xxx]"),
     "links[2][1]", "client:c-xxx", "no interface or port 'c-xxx'"),
    ("link end used twice", ("[server:s-cli, client:c-srv]", "[server:s-dut, client:c-srv]"),
     "links[2]", "[server:s-dut, client:c-srv]", "already linked"),
    ("unknown role", ("    role: client", "    role: clinet"),
     "hosts[client].role", "role: clinet", "server, dut, client"),
    ("ports on a server", ("      - {name: s-cli, ip: 10.0.3.1/24}\n",
                           "      - {name: s-cli, ip: 10.0.3.1/24}\n    ports: []\n"),
     "hosts[server].ports", "ports: []", "no stack ports"),
    ("bad device", ('device: "net_af_packet1,iface=d-cli"', 'device: "eth0"'),
     "hosts[dut].ports[1].device", 'device: "eth0"', "neither a PCI address"),
    ("gateway outside subnet", ("kernel_ip: 10.0.2.3/24}", "kernel_ip: 10.0.2.3/24, "
                                "gateway: 10.9.9.9}"),
     "hosts[dut].ports[1].gateway", "gateway: 10.9.9.9", "outside the port's subnet"),
    ("ssh address outside mgmt subnet", ("address: 10.255.0.12,", "address: 10.254.0.12,"),
     "hosts[dut].ssh.address", "10.254.0.12", "management subnet"),
    ("interface name too long", ("{name: c-srv, ip", "{name: c-srv-much-too-long, ip"),
     "hosts[client].interfaces[1].name", "c-srv-much-too-long", "15 characters"),
    ("prefix too long", ('prefix: ""', 'prefix: "abcdefghijk"'),
     "local.prefix", "abcdefghijk", "longer than"),
    ("relative workdir", ("workdir: /var/lib/aatcp/client", "workdir: var/lib/aatcp/client"),
     "hosts[client].workdir", "workdir: var/lib", "absolute path"),
    ("bad ssh port", ("key: .lab/local/id_ed25519, port: 22}\n    workdir: /var/lib/aatcp/dut",
                      "key: .lab/local/id_ed25519, port: 99999}\n"
                      "    workdir: /var/lib/aatcp/dut"),
     "hosts[dut].ssh.port", "port: 99999", "1..65535"),
    ("bad yaml", ("  - name: dut\n", "  - name: dut\n   bad: [\n"),
     "(syntax)", None, "not valid YAML"),
    ("link option misspelt", ("[dut:cli, client:c-dut]", "[dut:cli, client:c-dut, {queus: 2}]"),
     "links[1][2].queus", "queus: 2", "unknown key"),
    ("link queues out of range", ("[dut:cli, client:c-dut]",
                                  "[dut:cli, client:c-dut, {queues: 17}]"),
     "links[1][2].queues", "queues: 17", "1..16"),
    ("rss on one queue", ("[dut:cli, client:c-dut]", "[dut:cli, client:c-dut, {rss: true}]"),
     "links[1][2].rss", "rss: true", "add queues: N"),
    ("rss not a bool", ("[dut:cli, client:c-dut]",
                        "[dut:cli, client:c-dut, {queues: 2, rss: 1}]"),
     "links[1][2].rss", "rss: 1", "true or false"),
    ("rss on af_packet", ("[dut:cli, client:c-dut]",
                          "[dut:cli, client:c-dut, {queues: 2, rss: true}]"),
     "links[1][2].rss", "rss: true", "net_af_xdp0,iface=d-cli"),
    ("rss between Linux hosts", ("[server:s-cli, client:c-srv]",
                                 "[server:s-cli, client:c-srv, {queues: 2, rss: true}]"),
     "links[2][2].rss", "rss: true", "one dut port"),
]


@pytest.mark.parametrize("desc,edit,key,needle,words", BAD, ids=[b[0] for b in BAD])
def test_bad_lab_file_names_line_and_key(tmp_path: Path, desc: str,
                                         edit: tuple[str, str] | None, key: str,
                                         needle: str | tuple[str, int] | None,
                                         words: str) -> None:
    if edit is None:
        text = "name: x\nlocal: {mgmt_subnet: 10.255.0.0/24}\n"
    else:
        old, new = edit
        assert old in LOCAL, f"test edit does not apply: {old!r}"
        text = LOCAL.replace(old, new, 1)
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(LabFileError) as ei:
        load_lab_spec(path)
    e = ei.value
    msg = str(e)
    assert str(path) in msg
    assert key in e.key, msg
    assert words in msg, msg
    assert "Fix: " in msg
    if needle is not None:
        assert e.line == line_of(text, needle), msg
        assert f"{path}:{e.line}: " in msg
    else:
        assert e.line is None or e.line >= 1


def test_link_queues_and_rss(tmp_path: Path) -> None:
    text = LOCAL.replace('"net_af_packet1,iface=d-cli"', '"net_af_xdp1,iface=d-cli"').replace(
        "[dut:cli, client:c-dut]", "[dut:cli, client:c-dut, {queues: 2, rss: true}]").replace(
        "[server:s-cli, client:c-srv]", "[server:s-cli, client:c-srv, {queues: 4}]")
    spec = parse_lab(text, tmp_path / "x.yml")
    assert [(li.queues, li.rss) for li in spec.links] == [(1, False), (2, True), (4, False)]


def test_link_options_only_in_local_labs(tmp_path: Path) -> None:
    text = (LABS_DIR / "example-testbed.yml").read_text()
    first = next(ln for ln in text.splitlines() if ln.strip().startswith("- [") and "]" in ln)
    text = text.replace(first, first.replace("]", ", {queues: 2}]"), 1)
    with pytest.raises(LabFileError) as ei:
        parse_lab(text, tmp_path / "x.yml")
    assert "local labs" in str(ei.value)


def test_link_across_subnets(tmp_path: Path) -> None:
    # Give client:c-srv an address outside server:s-cli's subnet.
    text = LOCAL.replace("{name: c-srv, ip: 10.0.3.2/24}", "{name: c-srv, ip: 10.0.4.2/24}")
    with pytest.raises(LabFileError) as ei:
        parse_lab(text, tmp_path / "x.yml")
    assert "not in one subnet" in str(ei.value)
    assert ei.value.line == line_of(text, "[server:s-cli, client:c-srv]")


def test_missing_file() -> None:
    with pytest.raises(ToolkitError) as ei:
        load_lab_spec("/nonexistent/lab.yml")
    msg = str(ei.value)
    assert msg.startswith("lab file /nonexistent/lab.yml does not exist. Fix: "), msg
    assert "--hosts" in msg and "labs/local.yml" in msg and "(file)" not in msg


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ToolkitError, match=r"lab file .*: cannot read it \(Is a directory\)"):
        load_lab_spec(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.yml"
    p.write_text("# nothing\n")
    with pytest.raises(LabFileError, match="empty"):
        load_lab_spec(p)
