"""The chapter 5 tables (experiments/table5_1.py, table5_2.py) in their quick
form on a private lab: every run succeeds, moves data, and every run through a
middlebox (our proxy in each mode, HAProxy) reports the middlebox's CPU and
cycles per byte forwarded; the direct path reports none."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from aatcp.lab import Lab
from aatcp.runner import run_experiment

pytestmark = [pytest.mark.lab, pytest.mark.build, pytest.mark.slow]


def _quick(name: str, lab: Lab, build: Path, tmp_path: Path, capsys: pytest.CaptureFixture
           ) -> tuple[pd.DataFrame, str]:
    s = run_experiment(name, lab=lab, quick=True, results_root=tmp_path, build_dir=build,
                       do_deploy=False, progress=False, log=lambda _m: None)
    printed = capsys.readouterr().out
    assert s.failed == 0, s.errors
    df = pd.read_csv(tmp_path / name / "data.csv")
    assert (df["status"] == "ok").all() and (df["gbps"] > 0).all()
    return df, printed


def _check_cpu(df: pd.DataFrame) -> None:
    direct = df[df["variant"] == "direct"]
    through = df[df["variant"] != "direct"]
    assert not direct.empty and not through.empty
    assert (direct["middlebox"] == "none").all()
    assert direct["dut_cyc_per_byte"].isna().all() and direct["dut_cpu_s"].isna().all()
    for _, r in through.iterrows():
        what = f"{r['variant']} (run {r['run']})"
        assert r["fwd_bytes"] > 0, what
        assert r["dut_cpu_s"] > 0 and r["dut_cyc_per_byte"] > 0, what
        # CPU time and bytes agree with the run's throughput: the middlebox, on
        # one core, used at most about the time the client took to read them
        assert r["dut_cpu_s"] < 2 * r["fwd_bytes"] / (r["gbps"] * 1e9 / 8), what
        if r["middlebox"] == "aatcp":
            assert r["net_busy_s"] > 0 and r["app_cpu_s"] >= 0 and r["tsc_hz"] > 0, what
            assert r["mbufs_in_use"] == 0, what
        else:
            assert r["middlebox"] == "haproxy" and math.isnan(r["tsc_hz"]), what


def test_table5_1_quick_reports_middlebox_cpu(deployed_lab: Lab, release_build: Path,
                                              tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    df, printed = _quick("table5_1", deployed_lab, release_build, tmp_path, capsys)
    assert set(df["variant"]) == {"direct", "forward", "splice", "copy", "haproxy_tcp"}
    _check_cpu(df)
    assert "no middlebox" in printed and "c/B" in printed, printed


def test_table5_2_quick_reports_middlebox_cpu(deployed_lab: Lab, release_build: Path,
                                              tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    df, printed = _quick("table5_2", deployed_lab, release_build, tmp_path, capsys)
    assert sorted(set(df["conns"])) == [1, 100] and sorted(set(df["cores"])) == [1, 2]
    _check_cpu(df)
    assert "N=100, 2 cores" in printed and "c/B" in printed, printed
