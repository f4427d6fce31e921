"""The chapter 5 tables' CPU accounting (experiments/_ch5.py): the middlebox's
CPU seconds per byte the client read, as cycles at the stack's TSC rate; bytes
per cycle relative to HAProxy (table5_1) or to the first N (table5_2); the
direct path has no middlebox."""

from __future__ import annotations

import importlib
import math
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from aatcp import runner
from aatcp.claims import measure

HZ = 2e9
MB = 1 << 20


def _row(variant: str, gbps: float, cpu_s: float | None, fwd: int = 100 * MB,
         **extra: Any) -> dict[str, Any]:
    return {"variant": variant, "status": "ok", "warmup": False, "repetition": 0,
            "gbps": gbps, "fwd_bytes": fwd,
            "dut_cpu_s": float("nan") if cpu_s is None else cpu_s, **extra}


@pytest.fixture
def ch5() -> Any:
    runner.load_experiment("table5_1")  # validates them
    runner.load_experiment("table5_2")
    return importlib.import_module("experiments._ch5")


def test_table5_1_cycles_per_byte_and_per_cycle_vs_haproxy(ch5: Any) -> None:
    df = pd.DataFrame([
        _row("direct", 6.0, None),
        _row("splice", 3.0, 0.1, tsc_hz=HZ),
        _row("splice", 2.0, 0.3, tsc_hz=HZ),
        _row("haproxy_tcp", 3.0, 0.4),  # no TSC of its own: the table's
    ])
    t = ch5.cpu_summary(df, "direct", ["direct", "splice", "haproxy_tcp"],
                        cpu_ref="haproxy_tcp").set_index("variant")
    per_byte = HZ / (100 * MB)
    assert math.isclose(t.loc["splice", "median_gbps"], 2.5)
    assert math.isclose(t.loc["splice", "vs_ref"], 2.5 / 6.0)
    assert math.isclose(t.loc["splice", "cyc_per_byte"], 0.2 * per_byte)
    assert math.isclose(t.loc["haproxy_tcp", "cyc_per_byte"], 0.4 * per_byte)
    assert math.isclose(t.loc["splice", "per_cycle_vs"], 2.0)  # half the cycles per byte
    assert math.isnan(t.loc["direct", "cyc_per_byte"])  # no middlebox


def test_table5_2_per_cycle_vs_the_first_n(ch5: Any) -> None:
    df = pd.DataFrame([
        _row("direct", 6.0, None, conns=1), _row("splice", 3.0, 0.2, conns=1, tsc_hz=HZ),
        _row("direct", 6.0, None, conns=100), _row("splice", 2.0, 0.4, conns=100, tsc_hz=HZ),
    ])
    t = ch5.cpu_summary(df, "direct", ["direct", "splice"], by="conns")
    s100 = t[(t["variant"] == "splice") & (t["conns"] == 100)].iloc[0]
    assert math.isclose(s100["vs_ref"], 2.0 / 6.0)
    assert math.isclose(s100["per_cycle_vs"], 0.5)  # twice the cycles per byte of N = 1
    ch5.print_cpu_summary(t, "table5_2", "direct", "N = 1", by="conns")  # prints, no error


def test_middlebox_cpu_columns(ch5: Any) -> None:
    ctx = SimpleNamespace(state={})
    out = {"per_conn_bytes": [60 * MB, 40 * MB]}
    direct = ch5.middlebox_cpu(ctx, "direct", {}, out)
    assert direct["middlebox"] == "none" and direct["fwd_bytes"] == 100 * MB
    assert math.isnan(direct["dut_cyc_per_byte"])
    # HAProxy before any proxy run: CPU seconds, but no TSC rate for cycles yet
    early = ch5.middlebox_cpu(ctx, "haproxy_tcp", {"dut_cpu_s": 0.5}, out)
    assert early["middlebox"] == "haproxy" and math.isnan(early["dut_cyc_per_byte"])
    ours = ch5.middlebox_cpu(ctx, "splice", {"dut_cpu_s": 0.2, "tsc_hz": HZ}, out)
    assert ours["middlebox"] == "aatcp"
    assert math.isclose(ours["dut_cyc_per_byte"], 0.2 * HZ / (100 * MB))
    later = ch5.middlebox_cpu(ctx, "haproxy_tcp", {"dut_cpu_s": 0.5}, out)
    assert math.isclose(later["dut_cyc_per_byte"], 0.5 * HZ / (100 * MB))


def test_per_cycle_claim_pairs_repetitions() -> None:
    exp = runner.load_experiment("table5_1")
    claim = next(c for c in exp.claims
                 if c.ratio is not None and c.ratio.metric == "dut_cyc_per_byte")
    df = pd.DataFrame([
        _row("splice", 3.0, 0.1, conns=1, dut_cyc_per_byte=2.0),
        _row("haproxy_tcp", 3.0, 0.4, conns=1, dut_cyc_per_byte=5.0),
    ])
    m = measure(claim, df, list(exp.sweep), 1)
    assert m.headline is not None and math.isclose(m.headline.median, 2.5)


def test_old_results_without_cpu_columns(ch5: Any) -> None:
    df = pd.DataFrame([{"variant": "direct", "status": "ok", "gbps": 4.0},
                       {"variant": "splice", "status": "ok", "gbps": 2.0}])
    t = ch5.cpu_summary(df, "direct", ["direct", "splice"]).set_index("variant")
    assert math.isclose(t.loc["splice", "vs_ref"], 0.5)
    assert math.isnan(t.loc["splice", "cyc_per_byte"])


def test_stack_cpu_is_busy_cycles_plus_app_thread_at_most_the_process() -> None:
    common = importlib.import_module("experiments._common")
    st = {"tsc_hz": HZ, "cores": [{"busy_tsc": int(0.5 * HZ)}, {"busy_tsc": int(0.25 * HZ)}]}
    quiet = common.stack_cpu(st, {"app_cpu_s": 0.1, "cpu_s": 2.0})
    assert math.isclose(quiet["dut_cpu_s"], 0.85) and not quiet["cpu_capped"]
    assert math.isclose(quiet["net_busy_s"], 0.75) and quiet["tsc_hz"] == HZ
    # busy iterations preempted by other processes: the TSC counts their time
    loaded = common.stack_cpu(st, {"app_cpu_s": 0.1, "cpu_s": 0.4})
    assert math.isclose(loaded["dut_cpu_s"], 0.4) and loaded["cpu_capped"]
    assert math.isnan(common.stack_cpu({}, {})["dut_cpu_s"])
