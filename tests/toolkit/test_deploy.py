"""Deploy build/ to the local lab over SSH and check build-ids on the hosts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aatcp.deploy import collect_artifacts, deploy
from aatcp.elf import build_id
from aatcp.errors import ToolkitError
from aatcp.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.build]


def test_artifacts_have_build_ids(release_build: Path) -> None:
    arts, links = collect_artifacts(release_build)
    names = {a.remote for a in arts}
    assert "bin/fig4_1" in names
    assert any(n.startswith("lib/libaatcp.so") for n in names)
    assert all(a.build_id and len(a.build_id) >= 16 for a in arts)
    assert ("lib/libaatcp.so", "libaatcp.so.0") in links
    # Objects in meson's private folders (*.p) are not shipped.
    assert not any(".p/" in str(a.local) for a in arts)


def test_collect_refuses_unbuilt_folder(tmp_path: Path) -> None:
    with pytest.raises(ToolkitError, match="no build here"):
        collect_artifacts(tmp_path)


def test_deploy_ships_and_verifies(deployed_lab: Lab, release_build: Path) -> None:
    arts, _ = collect_artifacts(release_build)
    for h in deployed_lab.hosts.values():
        # Independent check, not through the deploy code: the hosts share this
        # machine's filesystem, so read the shipped file directly.
        for a in arts:
            assert build_id(Path(str(h.workdir / a.remote))) == a.build_id, (h.name, a.remote)
        manifest = json.loads(h.read_file("manifest.json"))
        assert manifest == {a.remote: a.build_id for a in arts}
        # The lib symlinks exist and programs run from PATH on the host.
        assert h.run("test -L lib/libaatcp.so && test -L lib/libaatcp.so.0").ok
        assert h.run("command -v fig4_1").stdout.strip() == str(h.workdir / "bin" / "fig4_1")
    dut = deployed_lab.by_role("dut")
    conf = dut.read_file("conf/stack.conf").decode()
    assert "port.srv.device = net_af_packet0,iface=d-srv" in conf
    assert "arp.10.0.1.1 = " in conf


def test_redeploy_is_incremental_and_repairs(deployed_lab: Lab, release_build: Path) -> None:
    rep = deploy(deployed_lab, release_build, log=lambda _m: None)
    assert all(not hr.uploaded for hr in rep.hosts.values())
    # Damage the binary on one host: the next deploy notices (build-id) and re-ships it.
    client = deployed_lab.host("client")
    client.write_file("bin/fig4_1", b"\x7fELF not really")
    rep = deploy(deployed_lab, release_build, hosts=["client"], log=lambda _m: None)
    assert rep.hosts["client"].uploaded == ["bin/fig4_1"]
    local = build_id(release_build / "benchmarks" / "fig4_1" / "fig4_1")
    assert rep.hosts["client"].verified[str(client.workdir / "bin/fig4_1")] == local


def test_deployed_program_runs_over_ssh(deployed_lab: Lab) -> None:
    r = deployed_lab.by_role("dut").run(
        "fig4_1 --placement network --loop 10 --duration 0.05", timeout=30)
    out = json.loads(r.stdout)
    assert out["placement"] == "network" and out["packets"] > 0
