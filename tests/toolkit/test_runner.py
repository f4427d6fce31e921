"""Experiment runner: a tiny sweep on the local lab gives a valid CSV, meta.json and PNG;
failed runs are recorded with their stderr; figures re-plot from the CSV alone."""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from aatcp.errors import ToolkitError
from aatcp.lab import Lab
from aatcp.runner import (
    Experiment,
    Point,
    Quick,
    RunContext,
    list_experiments,
    load_experiment,
    plan,
    read_data,
    replot,
    run_experiment,
    validate,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    w, h = struct.unpack(">II", data[16:24])
    return w, h


def test_experiments_are_listed_and_valid() -> None:
    names = list_experiments()
    assert "fig4_1" in names
    for n in names:
        load_experiment(n)  # validates


def test_unknown_experiment_names_the_choices() -> None:
    with pytest.raises(ToolkitError, match=r"no experiment 'nope'.*fig4_1"):
        load_experiment("nope")


def test_plan_interleaves_variants_after_warmup() -> None:
    exp = replace(load_experiment("fig4_1"), sweep={"loop": [1, 2]}, repetitions=2, warmup=1)
    pts = plan(exp)
    assert len(pts) == 2 * (1 + 2) * 2
    first = [(p.variant, p["loop"], p.repetition, p.warmup) for p in pts[:6]]
    assert first == [("network", 1, 0, True), ("application", 1, 0, True),
                     ("network", 1, 0, False), ("application", 1, 0, False),
                     ("network", 1, 1, False), ("application", 1, 1, False)]
    assert [p.index for p in pts] == list(range(len(pts)))
    assert pts[0]["duration"] == exp.fixed["duration"]


def test_validate_names_the_module_and_key() -> None:
    exp = load_experiment("fig4_1")
    with pytest.raises(ToolkitError, match=r"experiments/x.py: EXPERIMENT.x: 'nope'"):
        validate(replace(exp, x="nope"), "experiments/x.py")
    with pytest.raises(ToolkitError, match=r"sweep\.loop"):
        validate(replace(exp, sweep={"loop": []}), "experiments/x.py")


@pytest.mark.lab
@pytest.mark.build
def test_fig4_1_quick_run_and_replot(deployed_lab: Lab, release_build: Path,
                                     tmp_path: Path) -> None:
    s = run_experiment("fig4_1", lab=deployed_lab, quick=True, results_root=tmp_path,
                       build_dir=release_build, progress=False, log=lambda _m: None)
    assert (s.total, s.failed) == (4, 0), s.errors
    out = tmp_path / "fig4_1"
    df = pd.read_csv(out / "data.csv")
    assert len(df) == 4
    assert set(df["variant"]) == {"network", "application"}
    assert sorted(set(df["loop"])) == [0, 256]
    assert (df["status"] == "ok").all() and (df["pps"] > 0).all()
    for col in ("run", "repetition", "warmup", "duration_s", "started", "error", "stderr"):
        assert col in df.columns

    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "complete" and meta["quick"] is True
    assert meta["runs"] == {"total": 4, "done": 4, "ok": 4, "failed": 0}
    assert len(meta["git"]["commit"]) == 40 and isinstance(meta["git"]["dirty"], bool)
    ids = meta["build"]["build_ids"]
    assert len(ids["bin/fig4_1"]) >= 16
    assert meta["build"]["verified_on_hosts"]["dut"]
    assert meta["lab"]["name"] == deployed_lab.name and "hosts:" in meta["lab"]["text"]
    assert meta["hosts"]["dut"]["kernel"] and int(meta["hosts"]["dut"]["cpus"]) >= 1
    assert meta["parameters"]["sweep"] == {"loop": [0, 256]}
    assert meta["parameters"]["fixed"]["duration"] == 0.2

    fig = out / "figure.png"
    w, h = png_size(fig)
    assert w > 300 and h > 300
    # Re-plot from the CSV alone: the figure comes back without running anything.
    fig.unlink()
    assert replot("fig4_1", tmp_path) == fig
    assert png_size(fig) == (w, h)


@pytest.mark.lab
def test_failed_runs_are_recorded_with_stderr(local_lab: Lab, tmp_path: Path) -> None:
    def run(ctx: RunContext, p: Point) -> dict[str, float]:
        code = 0 if p["x"] == 1 else 3
        r = ctx.host("client").run(f"echo value; echo 'broken at x={p['x']}' >&2; exit {code}")
        return {"value": float(len(r.stdout))}

    exp = Experiment(name="synthetic", title="synthetic", run=run, variants=("a",),
                     sweep={"x": [1, 2]}, metrics=("value",), roles=("client",),
                     repetitions=2, warmup=0, needs_deploy=False, quick=Quick())
    s = run_experiment(exp, lab=local_lab, results_root=tmp_path, progress=False,
                       log=lambda _m: None)
    assert (s.total, s.ok, s.failed) == (4, 2, 2)
    df = read_data(tmp_path / "synthetic" / "data.csv")
    bad = df[df["status"] == "failed"]
    assert len(bad) == 2
    assert all("broken at x=2" in e for e in bad["stderr"])
    assert all("client" in e and "exited 3" in e for e in bad["error"])
    assert (df[df["status"] == "ok"]["value"] == 6.0).all()
    meta = json.loads((tmp_path / "synthetic" / "meta.json").read_text())
    assert meta["runs"]["failed"] == 2 and meta["build"] is None
    assert png_size(tmp_path / "synthetic" / "figure.png")[0] > 0


@pytest.mark.lab
def test_missing_role_is_named(local_lab: Lab, tmp_path: Path) -> None:
    exp = Experiment(name="needs_router", title="t", run=lambda c, p: {"v": 1},
                     variants=("a",), sweep={"x": [1]}, metrics=("v",), roles=("router",),
                     needs_deploy=False)
    with pytest.raises(ToolkitError, match="no host with role 'router'"):
        run_experiment(exp, lab=local_lab, results_root=tmp_path, progress=False)
