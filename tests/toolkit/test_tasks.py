"""The invoke tasks as a user runs them: wiring, messages, exit codes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pyroute2 import netns

from aatcp import netlab, system
from aatcp.errors import ToolkitError
from aatcp.lab import Lab
from aatcp.labfile import load_lab_spec
from aatcp.paths import REPO_ROOT


def inv(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT),
                           *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, cwd=REPO_ROOT)


def test_list_shows_every_task_with_its_docstring() -> None:
    r = inv("--list")
    assert r.returncode == 0, r.stderr
    for t in ("setup", "build", "test", "lab.up", "lab.down", "lab.status", "deploy",
              "experiment", "plot", "clean"):
        line = next((ln for ln in r.stdout.splitlines() if ln.strip().startswith(t + " ")), "")
        assert len(line.split()) > 2, f"task {t} has no docstring in --list:\n{r.stdout}"


def test_experiment_list() -> None:
    r = inv("experiment", "--list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["experiment", "full", "--quick"], r.stdout
    modules = {f.stem for f in (REPO_ROOT / "experiments").glob("*.py")
               if not f.stem.startswith("_")}
    listed = {ln.split()[0]: ln for ln in lines[1:1 + len(modules)]}
    assert set(listed) == modules, r.stdout
    for name, line in listed.items():
        # name, ~F min (full), ~Q min (quick), then the title
        f = line.split()
        assert f[1].startswith("~") and f[2] == "min" and f[3].startswith("~") \
            and f[4] == "min", f"experiment {name} declares no minutes:\n{r.stdout}"
        assert len(f) > 6, f"experiment {name} has no description:\n{r.stdout}"
    total = lines[1 + len(modules)].split()
    assert total[0] == "all" and total[1].startswith("~")


def test_bad_lab_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text((REPO_ROOT / "labs/local.yml").read_text().replace(
        "[dut:cli, client:c-dut]", "[dut:cli, nohost:c-dut]"))
    r = inv("lab.status", "--hosts", str(bad))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert f"{bad}:" in r.stderr and "links[1][1]" in r.stderr and "unknown host 'nohost'" \
        in r.stderr and "Fix:" in r.stderr


def test_unknown_experiment_and_missing_results(tmp_path: Path) -> None:
    r = inv("experiment", "nope")
    assert r.returncode == 1 and "no experiment 'nope'" in r.stderr
    r = inv("plot", "fig4_1", "--results", str(tmp_path))
    assert r.returncode == 1 and "no data" in r.stderr and "./inv experiment fig4_1" in r.stderr


def test_setup_needs_root_only_for_missing_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    assert system.missing_packages(["dpkg"]) == []
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    system.install_debian_packages(log=lambda _m: None, packages=["dpkg"])  # fast path
    with pytest.raises(ToolkitError, match=r"needs root.*sudo \./inv setup"):
        system.install_debian_packages(log=lambda _m: None,
                                       packages=["aatcp-no-such-package"])


@pytest.mark.lab
def test_lab_tasks_up_status_down(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    name = f"t{os.getpid()}c"
    path = netlab.write_test_lab(tmp_path, name, f"{name}-", os.getpid() + 193)
    try:
        r = inv("lab.up", "--hosts", str(path))
        assert r.returncode == 0, r.stderr
        assert "ANSWERS SSH" in r.stdout and "NO ANSWER" not in r.stdout, r.stdout
        r = inv("lab.status", "--hosts", str(path))
        assert r.returncode == 0 and r.stdout.count("  up") == 3, r.stdout
        workdir = Path(str(load_lab_spec(path).host("dut").workdir))
        workdir.mkdir(parents=True)  # what a deploy would have made
    finally:
        r = inv("lab.down", "--hosts", str(path))
    assert r.returncode == 0 and f"netns {name}-dut" in r.stdout
    assert f"left the hosts' workdirs {workdir} " in r.stdout, r.stdout
    assert f"`./inv lab.down --hosts {path} --workdirs` deletes them" in r.stdout
    r = inv("lab.status", "--hosts", str(path))
    assert r.returncode == 1 and "3 of 3 hosts do not answer" in r.stderr
    assert r.stdout.count("NO ANSWER") == 3 and r.stdout.count("MISSING") >= 3
    assert r.stdout.count("bring the local lab up: `./inv lab.up --hosts") == 3, r.stdout
    # Looking at a lab that is down must not create anything.
    assert not [n for n in netns.listnetns() if n.startswith(f"{name}-")]
    r = inv("lab.down", "--hosts", str(path), "--workdirs")
    assert r.returncode == 0 and f"workdir {workdir}" in r.stdout and not workdir.exists()
    assert "left the hosts' workdirs" not in r.stdout


@pytest.mark.lab
@pytest.mark.build
def test_deploy_experiment_plot_tasks(deployed_lab: Lab, tmp_path: Path) -> None:
    lab = str(deployed_lab.path)
    r = inv("deploy", "--hosts", lab)
    assert r.returncode == 0, r.stderr
    assert "build-ids verified" in r.stdout and "dut:" in r.stdout
    r = inv("experiment", "fig4_1", "--quick", "--hosts", lab, "--results", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "fig4_1: 4/4 runs ok" in r.stdout
    out = tmp_path / "fig4_1"
    assert len(pd.read_csv(out / "data.csv")) == 4
    (out / "figure.png").unlink()
    r = inv("plot", "fig4_1", "--results", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert (out / "figure.png").stat().st_size > 1000


def test_hints_say_what_users_type() -> None:
    """Errors, hints and docs say `./inv TASK`, the command users type, never
    `invoke TASK`."""
    files = [REPO_ROOT / "README.md", REPO_ROOT / "tasks.py", REPO_ROOT / "results/README.md",
             *(REPO_ROOT / "docs").glob("*.md"), *(REPO_ROOT / "labs").glob("*.yml"),
             *(REPO_ROOT / "experiments").glob("*.py"), *(REPO_ROOT / "aatcp").glob("*.py")]
    bad = [f"{f.relative_to(REPO_ROOT)}:{i}: {line.strip()}"
           for f in files for i, line in enumerate(f.read_text().splitlines(), 1)
           if re.search(r"`invoke [a-z]", line)]
    assert not bad, "\n".join(bad)
