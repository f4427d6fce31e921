"""experiments/bulk.py's CPU accounting: cycles per byte from the stack's
busy poll-loop cycles + application thread, and from Linux's process time,
each relative to Linux's on the same direction; tx_full summed per variant."""

from __future__ import annotations

import importlib
import math

import pandas as pd

from aatcp import runner

HZ = 2e9
MB = 1 << 20


def _row(variant: str, gbps: float, dut_cpu: float, peer_cpu: float, **extra: float) -> dict:
    return {"variant": variant, "status": "ok", "warmup": False, "gbps": gbps,
            "bytes": 100 * MB, "dut_cpu_s": dut_cpu, "peer_cpu_s": peer_cpu, **extra}


def test_cycles_per_byte_and_ratio_to_linux() -> None:
    runner.load_experiment("bulk")  # validates it
    bulk = importlib.import_module("experiments.bulk")
    df = pd.DataFrame([
        _row("rx-aatcp", 2.0, 0.1, 0.2, tsc_hz=HZ, tx_full=0),
        _row("rx-aatcp", 3.0, 0.3, 0.2, tsc_hz=HZ, tx_full=0),
        _row("rx-linux", 4.0, 0.4, 0.3),
        _row("tx-aatcp", 1.0, 0.5, 0.1, tsc_hz=HZ, tx_full=2),
    ])
    t = bulk.ratios(df).set_index("variant")
    per_byte = HZ / (100 * MB)
    assert math.isclose(t.loc["rx-aatcp", "median_gbps"], 2.5)
    assert math.isclose(t.loc["rx-aatcp", "vs_linux"], 2.5 / 4.0)
    assert math.isclose(t.loc["rx-aatcp", "dut_cyc_per_byte"], 0.2 * per_byte)
    assert math.isclose(t.loc["rx-linux", "dut_cyc_per_byte"], 0.4 * per_byte)
    assert math.isclose(t.loc["rx-aatcp", "cpu_vs_linux"], 0.5)
    assert math.isclose(t.loc["rx-aatcp", "peer_cyc_per_byte"], 0.2 * per_byte)
    assert t.loc["tx-aatcp", "tx_full"] == 2
    assert pd.isna(t.loc["rx-linux", "tx_full"])
    assert math.isnan(t.loc["tx-aatcp", "vs_linux"])  # no tx-linux run


def test_old_results_without_cpu_columns() -> None:
    runner.load_experiment("bulk")  # validates it
    bulk = importlib.import_module("experiments.bulk")
    df = pd.DataFrame([{"variant": "rx-aatcp", "status": "ok", "gbps": 1.0},
                       {"variant": "rx-linux", "status": "ok", "gbps": 2.0}])
    t = bulk.ratios(df).set_index("variant")
    assert math.isclose(t.loc["rx-aatcp", "vs_linux"], 0.5)
    assert math.isnan(t.loc["rx-aatcp", "dut_cyc_per_byte"])
