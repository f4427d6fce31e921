"""benchmarks/fig4_1: the standalone C model, run directly (no lab needed)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.build


@pytest.fixture(scope="module")
def program(release_build: Path) -> Path:
    p = release_build / "benchmarks" / "fig4_1" / "fig4_1"
    if not p.exists():
        pytest.fail(f"{p} is not built. Fix: `./inv build`")
    return p


def run(program: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(program), *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("placement", ["network", "application"])
def test_prints_one_json_object(program: Path, placement: str) -> None:
    r = run(program, "--placement", placement, "--loop", "100", "--duration", "0.1",
            "--capacity", "64", "--burst", "8")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["placement"] == placement and out["loop"] == 100
    assert out["capacity"] == 64 and out["burst"] == 8
    assert out["packets"] > 0 and out["pps"] > 0
    assert 0.09 < out["duration_s"] < 1.0
    assert out["pps"] == pytest.approx(out["packets"] / out["duration_s"], rel=1e-3)


@pytest.mark.parametrize("args,message", [
    ([], "usage"),
    (["--placement", "kernel"], "not network or application"),
    (["--placement", "network", "--loop", "-1"], "--loop"),
    (["--placement", "network", "--duration", "0"], "--duration"),
    (["--placement", "network", "--size", "9000"], "--size"),
    (["--placement", "network", "extra"], "usage"),
])
def test_rejects_bad_arguments(program: Path, args: list[str], message: str) -> None:
    r = run(program, *args)
    assert r.returncode == 2
    assert message in r.stderr
