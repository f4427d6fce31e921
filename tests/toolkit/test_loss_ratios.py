"""experiments/loss.py's table: ours / Linux per loss pattern and size, and
each stack's slowdown from loss (its time with loss / its time without)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from experiments import loss


def _rows(times: dict[tuple[str, int, str], list[float]]) -> pd.DataFrame:
    rows = []
    for (pattern, mb, variant), secs in times.items():
        for rep, s in enumerate(secs):
            rows.append({"variant": variant, "loss": pattern, "mbytes": mb, "repetition": rep,
                         "warmup": False, "status": "ok", "seconds": s})
    rows.append({"variant": "tx-aatcp", "loss": "random", "mbytes": 64, "repetition": 0,
                 "warmup": True, "status": "ok", "seconds": 100.0})  # warm-up: left out
    return pd.DataFrame(rows)


def test_ratio_and_slowdown_per_stack() -> None:
    df = _rows({("none", 64, "tx-aatcp"): [0.4, 0.5, 0.6],
                ("none", 64, "tx-linux"): [0.1, 0.1, 0.1],
                ("random", 64, "tx-aatcp"): [0.7, 0.75, 0.8],
                ("random", 64, "tx-linux"): [0.15, 0.16, 0.2],
                ("random", 64, "tx-aatcp-reno"): [0.9, 1.0, 1.1],
                ("random", 64, "tx-linux-bbr"): [0.1, 0.12, 0.3],
                ("none", 64, "tx-linux-rps"): [0.09, 0.1, 0.11],
                ("random", 64, "tx-linux-rps"): [0.2, 0.22, 0.25]})
    t = loss.ratios(df).set_index("loss")
    assert math.isclose(t.loc["random", "ratio"], 0.75 / 0.16)
    assert math.isclose(t.loc["random", "rps_ratio"], 0.75 / 0.22)
    assert math.isclose(t.loc["random", "rps_slowdown"], 0.22 / 0.1)
    assert math.isclose(t.loc["random", "reno_ratio"], 1.0 / 0.16)
    assert math.isclose(t.loc["random", "bbr_ratio"], 0.75 / 0.12)
    assert math.isnan(t.loc["none", "reno_ratio"])  # no Reno runs without loss here
    assert math.isclose(t.loc["random", "aatcp_slowdown"], 0.75 / 0.5)
    assert math.isclose(t.loc["random", "linux_slowdown"], 0.16 / 0.1)
    assert math.isclose(t.loc["none", "aatcp_slowdown"], 1.0)
    assert t.loc["random", "runs"] == 3


def test_no_runs_without_loss_leave_the_slowdown_unknown() -> None:
    """Results from before the loss=none runs existed still give the ratios."""
    df = _rows({("tail", 1, "tx-aatcp"): [0.03], ("tail", 1, "tx-linux"): [0.02]})
    t = loss.ratios(df)
    assert math.isclose(t.loc[0, "ratio"], 1.5)
    assert math.isnan(t.loc[0, "aatcp_slowdown"]) and math.isnan(t.loc[0, "linux_slowdown"])


def test_each_run_divided_by_its_run_without_loss() -> None:
    from aatcp.runner import Point

    state: dict = {}
    outs = []
    for pattern, secs in (("none", 0.5), ("random", 0.8), ("tail", 0.6)):
        for variant in loss.VARIANTS:
            out = {"seconds": secs if variant == "tx-aatcp" else secs / 4}
            loss._slowdown(state, Point(variant, {"loss": pattern, "mbytes": 64}, 2, False, 0),
                           out)
            outs.append(out["slowdown"])
    assert outs == [x for x in (1.0, 0.8 / 0.5, 0.6 / 0.5) for _ in loss.VARIANTS]
    out = {"seconds": 1.0}  # another repetition: its loss=none run is missing
    loss._slowdown(state, Point("tx-aatcp", {"loss": "random", "mbytes": 64}, 3, False, 0), out)
    assert math.isnan(out["slowdown"])


def test_reno_variant_runs_on_its_own_config() -> None:
    """tx-aatcp-reno is our sender with bulk's Reno config; the others keep
    theirs."""
    from experiments import bulk

    assert bulk._conf("aatcp-reno") == "conf/bulk-reno.conf"
    assert bulk._conf("aatcp") == "conf/bulk.conf"
    assert bulk._conf("aatcp-xdp") == "conf/bulk-xdp.conf"


def test_linux_sender_congestion_control() -> None:
    """tx-linux runs CUBIC (the loss experiment's linux_cc), tx-linux-bbr
    BBR; without linux_cc (bulk) the namespace's default, no --cc."""
    from aatcp.runner import Point
    from experiments import bulk

    cubic = Point("tx-linux", dict(loss.EXPERIMENT.fixed), 0, False, 0)
    assert bulk._blast(0, "10.0.2.1", 5401, 99, cubic, "linux").endswith(
        "blast 10.0.2.1 5401 99 --cc cubic")
    bbr = Point("tx-linux-bbr", dict(loss.EXPERIMENT.fixed), 0, False, 0)
    assert bulk._blast(0, "10.0.2.1", 5401, 99, bbr, "linux-bbr").endswith("--cc bbr")
    plain = Point("tx-linux", dict(bulk.EXPERIMENT.fixed), 0, False, 0)
    assert bulk._blast(1, "10.0.2.1", 5401, 99, plain, "linux").endswith("blast 10.0.2.1 5401 99")


def test_runs_with_the_bulk_runs_parameters() -> None:
    """loss reuses bulk's setup and run, which read bulk's fixed parameters
    (buffers): loss must carry every one of them, with bulk's values."""
    from experiments import bulk

    for key, value in bulk.EXPERIMENT.fixed.items():
        assert loss.EXPERIMENT.fixed.get(key) == value, key


def _queues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> Path:
    """A sysfs tree with the dut port d-cli's receive queues (rps_cpus =
    values[queue]), put where experiments/loss.py looks."""
    for q, v in values.items():
        (tmp_path / "d-cli" / "queues" / q).mkdir(parents=True)
        (tmp_path / "d-cli" / "queues" / q / "rps_cpus").write_text(v + "\n")
    monkeypatch.setattr(loss, "SYS_NET", str(tmp_path))
    return tmp_path / "d-cli" / "queues"


class _Shell:
    """A host whose commands run in this machine's shell."""

    name = "dut"

    def run(self, cmd: str, timeout: float = 10, check: bool = True) -> object:
        import subprocess
        from types import SimpleNamespace

        r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=timeout,
                           check=check)
        return SimpleNamespace(stdout=r.stdout, ok=r.returncode == 0)


def test_rps_steered_to_the_sender_core_and_restored(tmp_path, monkeypatch) -> None:
    """tx-linux-rps sets every receive queue's rps_cpus of the dut's port to
    the sender's core and puts back what was there after the run; the
    Linux sender keeps the point's CUBIC."""
    from aatcp.errors import ToolkitError
    from aatcp.runner import Point
    from experiments import bulk

    queues = _queues(tmp_path, monkeypatch, {"rx-0": "0", "rx-1": "2"})
    old = loss._rps(_Shell(), "d-cli", "1")  # type: ignore[arg-type]
    files = sorted(queues.glob("rx-*/rps_cpus"))
    assert [f.read_text().strip() for f in files] == ["1", "1"]
    loss._restore_rps(_Shell(), old)  # type: ignore[arg-type]
    assert [f.read_text().strip() for f in files] == ["0", "2"]
    with pytest.raises(ToolkitError, match=r"dut: no .*nope/queues/rx-"):
        loss._rps(_Shell(), "nope", "1")  # type: ignore[arg-type]
    with pytest.raises(ToolkitError, match="no kernel interface"):
        loss._rps(_Shell(), None, "1")  # type: ignore[arg-type]
    p = Point("tx-linux-rps", dict(loss.EXPERIMENT.fixed), 0, False, 0)
    assert bulk._blast(0, "10.0.2.1", 5401, 99, p, "linux-rps").endswith("--cc cubic")


def test_rps_put_back_when_a_queue_cannot_be_set(tmp_path, monkeypatch) -> None:
    """A queue that refuses the mask leaves none of them changed."""
    import subprocess

    queues = _queues(tmp_path, monkeypatch, {"rx-0": "0", "rx-1": "0"})
    bad = queues / "rx-1" / "rps_cpus"

    class Refusing(_Shell):
        def run(self, cmd: str, timeout: float = 10, check: bool = True) -> object:
            if str(bad) in cmd and cmd.startswith("echo 1"):
                raise subprocess.CalledProcessError(1, cmd)
            return super().run(cmd, timeout, check)

    with pytest.raises(subprocess.CalledProcessError):
        loss._rps(Refusing(), "d-cli", "1")  # type: ignore[arg-type]
    assert (queues / "rx-0" / "rps_cpus").read_text().strip() == "0"
