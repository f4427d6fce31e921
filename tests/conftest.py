"""Fixtures shared by every Python test (toolkit, end-to-end, ...).

Lab fixtures bring up a private copy of the local lab (labs/local.yml) with
the prefix `t<pid>-`, a management subnet no interface of this machine uses,
and workdirs under pytest's tmp folder, so test runs never touch the shipped
lab, each other, or anything they did not create. They always come down at
the end of the session, even when tests fail; labs of killed runs (dead pid)
are reaped at the start of the next session.

    def test_something(local_lab):          # aatcp.lab.Lab, hosts answer over SSH
        dut = local_lab.by_role("dut")
        assert dut.run("true").ok

    def test_with_binaries(deployed_lab):   # same lab, build/ deployed and verified
        ...
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from aatcp import netlab
from aatcp.deploy import deploy
from aatcp.lab import Lab
from aatcp.labfile import load_lab_spec
from aatcp.paths import BUILD_DIRS, REPO_ROOT

TEST_PREFIX = f"t{os.getpid()}-"
TEST_LAB_NAME = f"t{os.getpid()}"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def release_build() -> Path:
    """build/ (release), which `./inv test` builds before running pytest."""
    bdir = BUILD_DIRS["release"]
    if not (bdir / "build.ninja").exists():
        pytest.fail(f"{bdir} is not built. Fix: `./inv build` (or run the suite with `./inv test`)")
    return bdir


def _need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, sshd)")


@pytest.fixture(scope="session")
def lab_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of this session's private local-lab file (not brought up by itself)."""
    return netlab.write_test_lab(tmp_path_factory.mktemp("lab"), TEST_LAB_NAME, TEST_PREFIX,
                                 os.getpid())


@pytest.fixture(scope="session")
def local_lab(lab_file: Path) -> Iterator[Lab]:
    """This session's private local lab, up; brought down at the end of the session."""
    _need_root()
    netlab.reap_stale_labs()
    spec = load_lab_spec(lab_file)
    lab = Lab(spec)
    try:
        netlab.up(spec)
        yield lab
    finally:
        lab.close()
        netlab.down(spec)


@pytest.fixture(scope="session")
def deployed_lab(local_lab: Lab, release_build: Path) -> Lab:
    """local_lab with build/ deployed to every host (build-ids verified)."""
    deploy(local_lab, release_build, log=lambda _m: None)
    return local_lab
