"""Fixtures of the end-to-end tests (tests/e2e): stack programs on the lab's dut
with a stats file each, checked after every test (see stackrun.py).

    def test_x(stack):          # StackRunner, release build (build/)
    def test_y(stack_asan):     # StackRunner, ASan/UBSan build (build-asan/)
    def test_z(stack, peer_scripts): ...   # tests/e2e/peers/*.py on server and client
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from stackrun import StackRunner, checked_runner, deploy_asan, ship_peers

from aatcp.lab import Lab
from aatcp.paths import BUILD_DIRS


@pytest.fixture
def stack(deployed_lab: Lab) -> Iterator[StackRunner]:
    """Runs stack programs (release build) on the dut; at the end every peer is
    stopped and every run is checked: exit status, mbufs_in_use == 0, every core's
    tcbs_in_use == 0."""
    yield from checked_runner(deployed_lab, asan=False)


@pytest.fixture(scope="session")
def asan_lab(deployed_lab: Lab) -> Lab:
    """deployed_lab plus build-asan's programs and library in the dut's asan/."""
    bdir = BUILD_DIRS["sanitize"]
    if not (bdir / "build.ninja").exists():
        pytest.fail(f"{bdir} is not built. Fix: `./inv build --sanitize` (or `./inv test`)")
    deploy_asan(deployed_lab, bdir)
    return deployed_lab


@pytest.fixture
def stack_asan(asan_lab: Lab) -> Iterator[StackRunner]:
    """Like `stack`, with the ASan/UBSan build: a sanitizer report fails the test."""
    yield from checked_runner(asan_lab, asan=True)


@pytest.fixture(scope="session")
def peer_scripts(deployed_lab: Lab) -> Lab:
    """tests/e2e/peers/*.py copied to `peers/` on the server and client hosts."""
    ship_peers(deployed_lab)
    return deployed_lab


@pytest.fixture(params=["release", "asan"])
def stack_any(request: pytest.FixtureRequest) -> Iterator[StackRunner]:
    """`stack` and `stack_asan` in turn: for the tests that also run under sanitizers."""
    lab = request.getfixturevalue("asan_lab" if request.param == "asan" else "deployed_lab")
    yield from checked_runner(lab, asan=request.param == "asan")
