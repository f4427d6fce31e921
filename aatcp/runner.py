"""The experiment runner: sweep x variants x repetitions over SSH, CSV + meta + figure.

An experiment is a module `experiments/<name>.py` that defines

    EXPERIMENT = Experiment(
        name="fig4_1", title="...",
        roles=("dut",),                      # lab roles it needs
        variants=("network", "application"),
        sweep={"loop": [0, 64, 256]},       # cartesian product of the values
        fixed={"duration": 1.0},            # constant parameters (recorded in meta.json)
        metrics=("pps",),                    # values run() must return; first is plotted
        repetitions=5, warmup=1,
        quick=Quick(sweep={"loop": [0, 256]}, repetitions=1, warmup=0),
        run=run,                             # run(ctx, point) -> {"pps": ...}
        plot=plot,                           # optional: plot(df, path, experiment)
    )

`run` executes one measurement on the lab's hosts (ctx.host("dut").run(...))
and returns the measured values; an exception marks that run failed (its
message and stderr go into data.csv) and the runner goes on with the next.
"""

from __future__ import annotations

import importlib
import itertools
import json
import math
import pkgutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from aatcp import plot as plotting
from aatcp import provenance
from aatcp.build import features_built
from aatcp.claims import Claim
from aatcp.deploy import DeployReport, deploy, require_ssh
from aatcp.errors import CommandFailed, ToolkitError
from aatcp.lab import Lab, load_lab
from aatcp.paths import EXPERIMENTS_DIR, REPO_ROOT, RESULTS_DIR
from aatcp.remote import Host

Log = Callable[[str], None]


@dataclass(frozen=True)
class Point:
    """One run: which variant, which parameter values, which repetition."""

    variant: str
    params: Mapping[str, Any]   # sweep values and fixed values
    repetition: int             # 0-based, counted separately for warm-up runs
    warmup: bool
    index: int                  # position of the run in the experiment (0-based)

    def __getitem__(self, key: str) -> Any:
        return self.params[key]


@dataclass(frozen=True)
class Quick:
    """What --quick changes: a tiny sweep for tests and smoke runs (None: keep)."""

    sweep: Mapping[str, Sequence[Any]] | None = None
    repetitions: int | None = 1
    warmup: int | None = 0
    fixed: Mapping[str, Any] | None = None
    variants: Sequence[str] | None = None


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    run: Callable[[RunContext, Point], Mapping[str, Any]]
    variants: Sequence[str]
    sweep: Mapping[str, Sequence[Any]]
    metrics: Sequence[str]
    roles: Sequence[str] = ("dut",)
    repetitions: int = 5
    warmup: int = 1
    fixed: Mapping[str, Any] = field(default_factory=dict)
    quick: Quick = Quick()
    #: sweep parameter on the x axis (default: the first one)
    x: str | None = None
    xlabel: str | None = None
    ylabel: str | None = None
    logx: bool = False
    plot: Callable[[pd.DataFrame, Path, Experiment], None] | None = None
    #: called once before the first run / after the last (start servers, ...)
    setup: Callable[[RunContext], None] | None = None
    teardown: Callable[[RunContext], None] | None = None
    needs_deploy: bool = True
    description: str = ""
    #: what the thesis claims for this figure or table (aatcp.claims; the report)
    claims: Sequence[Claim] = ()
    #: thesis features (aatcp.build.FEATURES) a variant needs from the build:
    #: on a build without them (`./inv build --features core`) it is skipped
    #: and meta.json says why
    needs: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: expected wall-clock minutes on the local lab of a 2-core machine:
    #: (full run, --quick run), deploy included (`./inv experiment --list`)
    minutes: tuple[float, float] | None = None

    @property
    def x_param(self) -> str:
        return self.x or next(iter(self.sweep))

    def quickened(self) -> Experiment:
        q = self.quick
        return replace(
            self,
            sweep=dict(q.sweep) if q.sweep is not None else self.sweep,
            repetitions=q.repetitions if q.repetitions is not None else self.repetitions,
            warmup=q.warmup if q.warmup is not None else self.warmup,
            fixed={**self.fixed, **(q.fixed or {})},
            variants=list(q.variants) if q.variants is not None else self.variants,
        )


@dataclass
class RunContext:
    """What run(), setup() and teardown() get: the lab and where results go."""

    lab: Lab
    experiment: Experiment
    quick: bool
    results_dir: Path
    deploy_report: DeployReport | None = None
    #: free-form state an experiment's setup() can leave for run()/teardown()
    state: dict[str, Any] = field(default_factory=dict)

    def host(self, role_or_name: str) -> Host:
        """The host with this role (if exactly one), else the host of this name."""
        if role_or_name in self.lab.hosts:
            return self.lab.host(role_or_name)
        return self.lab.by_role(role_or_name)


@dataclass
class RunSummary:
    name: str
    results_dir: Path
    total: int
    ok: int
    failed: int
    errors: list[str]


# --------------------------------------------------------------------------- discovery


def list_experiments() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(EXPERIMENTS_DIR)])
                  if not m.name.startswith("_"))


def format_list() -> str:
    """`./inv experiment --list`: each experiment's expected minutes (full, --quick)
    and title, and the total for `all`."""
    exps = [load_experiment(n) for n in list_experiments()]

    def mins(v: float | None) -> str:
        return "?" if v is None else f"~{v:g} min"

    rows = [("experiment", "full", "--quick", "what")]
    rows += [(e.name, mins(e.minutes[0] if e.minutes else None),
              mins(e.minutes[1] if e.minutes else None), e.title) for e in exps]
    known = [e.minutes for e in exps if e.minutes]
    rows.append(("all", mins(sum(m[0] for m in known)), mins(sum(m[1] for m in known)),
                 "every experiment, one after the other"))
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  {r[3]}" for r in rows]
    return "\n".join(lines) + ("\n(minutes on the local lab of a 2-core machine, deploy "
                               "included; a loaded machine takes longer)")


def load_experiment(name: str) -> Experiment:
    names = list_experiments()
    if name not in names:
        raise ToolkitError(f"no experiment '{name}'. Fix: use one of {', '.join(names)} "
                           "(`./inv experiment --list`)")
    module = importlib.import_module(f"experiments.{name}")
    exp = getattr(module, "EXPERIMENT", None)
    rel = f"experiments/{name}.py"
    if not isinstance(exp, Experiment):
        raise ToolkitError(f"{rel}: defines no `EXPERIMENT = Experiment(...)`. Fix: add it "
                           "(see aatcp/runner.py)")
    validate(exp, rel)
    return exp


def validate(exp: Experiment, where: str) -> None:
    def bad(key: str, problem: str, fix: str) -> ToolkitError:
        return ToolkitError(f"{where}: EXPERIMENT.{key}: {problem}. Fix: {fix}")

    if not exp.variants:
        raise bad("variants", "empty", "name at least one variant")
    if not exp.sweep:
        raise bad("sweep", "empty", "give at least one parameter with its values")
    for k, v in exp.sweep.items():
        if isinstance(v, str) or not isinstance(v, Sequence) or not v:
            raise bad(f"sweep.{k}", "not a non-empty list of values", "write [v1, v2, ...]")
    if exp.x is not None and exp.x not in exp.sweep:
        raise bad("x", f"'{exp.x}' is not a sweep parameter", f"use one of {list(exp.sweep)}")
    if not exp.metrics:
        raise bad("metrics", "empty", "name the values run() returns")
    if exp.repetitions < 1 or exp.warmup < 0:
        raise bad("repetitions", "repetitions < 1 or warmup < 0", "use repetitions >= 1")
    for i, c in enumerate(exp.claims):
        r = c.ratio
        if r is None or r.between != "variants":
            continue
        unknown = {r.num, r.den} - set(exp.variants)
        if unknown:
            raise bad(f"claims[{i}].ratio", f"variants {sorted(map(str, unknown))} are not "
                      "among the experiment's variants", f"use {list(exp.variants)}")
        if r.metric not in exp.metrics:
            raise bad(f"claims[{i}].ratio.metric", f"'{r.metric}' is not a metric",
                      f"use one of {list(exp.metrics)}")
    reserved = {"run", "variant", "repetition", "warmup", "status", "error", "stderr",
                "started", "duration_s"}
    clash = reserved & (set(exp.sweep) | set(exp.metrics))
    if clash:
        raise bad("sweep/metrics", f"{sorted(clash)} are column names of data.csv",
                  "rename them")


def variants_for_build(exp: Experiment,
                       features: Sequence[str] | None) -> tuple[list[str], dict[str, str]]:
    """The variants a build with `features` can run (None: unknown, all run) and,
    for each one left out, why."""
    if features is None:
        return list(exp.variants), {}
    keep, skipped = [], {}
    for v in exp.variants:
        missing = [f for f in exp.needs.get(v, ()) if f not in features]
        if missing:
            skipped[v] = f"the build has no {', '.join(missing)} " \
                         f"(built with --features {','.join(features) or 'core'})"
        else:
            keep.append(v)
    return keep, skipped


def plan(exp: Experiment) -> list[Point]:
    """Run order: per sweep point, warm-up runs of each variant, then the repetitions
    with the variants interleaved, so slow drift of the machine hits every variant
    alike (the figures are ratios between variants)."""
    points: list[Point] = []
    keys = list(exp.sweep)
    for values in itertools.product(*(exp.sweep[k] for k in keys)):
        params = {**dict(zip(keys, values, strict=True)), **exp.fixed}
        for w in range(exp.warmup):
            for v in exp.variants:
                points.append(Point(v, params, w, True, len(points)))
        for r in range(exp.repetitions):
            for v in exp.variants:
                points.append(Point(v, params, r, False, len(points)))
    return points


# --------------------------------------------------------------------------- running


def _row(exp: Experiment, p: Point, started: float, dur: float, status: str,
         values: Mapping[str, Any], error: str = "", stderr: str = "") -> dict[str, Any]:
    row: dict[str, Any] = {"run": p.index, "variant": p.variant}
    for k in exp.sweep:
        row[k] = p.params[k]
    row.update(repetition=p.repetition, warmup=p.warmup, status=status)
    for m in exp.metrics:
        row[m] = values.get(m, math.nan)
    for k, v in values.items():
        if k not in row:
            row[k] = v
    row.update(duration_s=round(dur, 3),
               started=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started)),
               error=error, stderr=stderr)
    return row


def _write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    df = pd.DataFrame(rows)
    tail = [c for c in ("duration_s", "started", "error", "stderr") if c in df.columns]
    df = df[[c for c in df.columns if c not in tail] + tail]
    tmp = path.with_suffix(".csv.tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(path)


def _write_json(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
    tmp.replace(path)


def _host_facts(lab: Lab) -> dict[str, Any]:
    def one(h: Host) -> tuple[str, dict[str, Any]]:
        try:
            facts: dict[str, Any] = h.facts()
        except (ToolkitError, OSError) as e:
            facts = {"error": str(e)}
        return h.name, {"role": h.role, "ssh": f"{h.spec.ssh.user}@{h.address}", **facts}

    with ThreadPoolExecutor(max_workers=max(1, len(lab.hosts))) as pool:
        return dict(pool.map(one, lab.hosts.values()))


def run_experiment(
    experiment: str | Experiment,
    lab: Lab | str | Path | None = None,
    quick: bool = False,
    results_root: Path | None = None,
    do_deploy: bool = True,
    build_dir: Path | None = None,
    progress: bool = True,
    log: Log = print,
) -> RunSummary:
    """Run an experiment on a lab; writes <results_root>/<name>/{data.csv,meta.json,figure.png}."""
    exp = load_experiment(experiment) if isinstance(experiment, str) else experiment
    if quick:
        exp = exp.quickened()
    own_lab = not isinstance(lab, Lab)
    the_lab = lab if isinstance(lab, Lab) else load_lab(lab)
    try:
        return _run(exp, the_lab, quick, results_root or RESULTS_DIR, do_deploy, build_dir,
                    progress, log)
    finally:
        if own_lab:
            the_lab.close()


def _run(exp: Experiment, lab: Lab, quick: bool, results_root: Path, do_deploy: bool,
         build_dir: Path | None, progress: bool, log: Log) -> RunSummary:
    lab.require_roles(exp.roles)
    require_ssh([h for role in exp.roles for h in lab.all_by_role(role)], exp.name)
    out = results_root / exp.name
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("data.csv", "figure.png"):
        (out / stale).unlink(missing_ok=True)

    report = None
    if exp.needs_deploy and do_deploy:
        log(f"{exp.name}: deploying to {', '.join(lab.hosts)}")
        report = deploy(lab, build_dir, log=log)
    skipped: dict[str, str] = {}
    if report is not None and exp.needs:
        variants, skipped = variants_for_build(exp, features_built(report.build_dir))
        for v, why in skipped.items():
            log(f"{exp.name}: {v} skipped: {why}")
        exp = replace(exp, variants=variants)
    points = plan(exp)
    meta: dict[str, Any] = {
        "experiment": exp.name,
        "title": exp.title,
        "module": f"experiments/{exp.name}.py",
        "status": "running",
        "started": provenance.now_iso(),
        "finished": None,
        "quick": quick,
        "parameters": {
            "variants": list(exp.variants),
            "sweep": {k: list(v) for k, v in exp.sweep.items()},
            "fixed": dict(exp.fixed),
            "repetitions": exp.repetitions,
            "warmup": exp.warmup,
            "x": exp.x_param,
            "metrics": list(exp.metrics),
        },
        "runs": {"total": len(points), "ok": 0, "failed": 0},
        "skipped_variants": skipped,
        "git": provenance.git_info(REPO_ROOT),
        "build": None,
        "lab": {"name": lab.name, "file": str(lab.path), "local": lab.is_local,
                "text": lab.spec.text},
        "hosts": _host_facts(lab),
        "controller": provenance.local_facts(),
    }
    if report is not None:
        lib = next((a.local for a in report.artifacts if a.remote.startswith("lib/")), None)
        meta["build"] = {
            "dir": str(report.build_dir),
            "build_ids": report.build_ids,
            "libaatcp_api": provenance.library_api(lib) if lib else [],
            "verified_on_hosts": {n: hr.verified for n, hr in report.hosts.items()},
        }
    _write_json(meta, out / "meta.json")

    ctx = RunContext(lab, exp, quick, out, report)
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    status = "interrupted"
    bar = tqdm(total=len(points), desc=exp.name, unit="run", file=sys.stderr,
               disable=not progress, dynamic_ncols=True, mininterval=0.5)
    try:
        if exp.setup is not None:
            exp.setup(ctx)
        try:
            with _Interrupts() as interrupts:
                for p in points:
                    bar.set_postfix_str(f"{p.variant} {_fmt_params(exp, p)}", refresh=False)
                    rows.append(_one_run(ctx, exp, p, errors))
                    _write_csv(rows, out / "data.csv")
                    bar.update(1)
                    if interrupts.seen:
                        raise KeyboardInterrupt
        finally:
            if exp.teardown is not None:
                exp.teardown(ctx)
        status = "complete"
    finally:
        bar.close()
        ok = sum(1 for r in rows if r["status"] == "ok")
        meta["runs"] = {"total": len(points), "done": len(rows), "ok": ok,
                        "failed": len(rows) - ok}
        meta["status"] = status
        meta["finished"] = provenance.now_iso()
        _write_json(meta, out / "meta.json")
        if rows:
            _write_csv(rows, out / "data.csv")
    make_figure(exp, out)
    ok = meta["runs"]["ok"]
    return RunSummary(exp.name, out, len(points), ok, len(points) - ok, errors)


def _fmt_params(exp: Experiment, p: Point) -> str:
    return " ".join(f"{k}={p.params[k]}" for k in exp.sweep)


class _Interrupts:
    """Remembers a Ctrl-C even when the command it interrupted turned it into an
    ordinary failure (a remote command killed by the signal), so the run loop
    stops instead of going on with the next point."""

    def __init__(self) -> None:
        self.seen = False
        self._old: Any = None

    def __enter__(self) -> _Interrupts:
        def handler(signum: int, frame: Any) -> None:
            self.seen = True
            signal.default_int_handler(signum, frame)
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def _one_run(ctx: RunContext, exp: Experiment, p: Point, errors: list[str]) -> dict[str, Any]:
    t0 = time.time()
    m0 = time.monotonic()
    try:
        values = dict(exp.run(ctx, p))
        missing = [m for m in exp.metrics if m not in values]
        if missing:
            raise ToolkitError(f"experiments/{exp.name}.py: run() returned no "
                               f"{', '.join(missing)} (got {sorted(values)})")
        return _row(exp, p, t0, time.monotonic() - m0, "ok", values)
    except Exception as e:
        stderr = e.stderr if isinstance(e, CommandFailed) else getattr(e, "stderr", "") or ""
        msg = f"{type(e).__name__}: {e}" if not isinstance(e, ToolkitError) else str(e)
        errors.append(f"run {p.index} ({p.variant} {_fmt_params(exp, p)}): {msg}")
        return _row(exp, p, t0, time.monotonic() - m0, "failed", {}, error=msg,
                    stderr=str(stderr)[-4000:])


# --------------------------------------------------------------------------- plots


def read_data(csv: Path) -> pd.DataFrame:
    """data.csv as a DataFrame: error/stderr as text ("" when none), metrics numeric."""
    df = pd.read_csv(csv, dtype={"error": str, "stderr": str, "variant": str})
    return df.fillna({c: "" for c in ("error", "stderr") if c in df.columns})


def make_figure(exp: Experiment, out: Path) -> Path:
    """Draw figure.png from out/data.csv (also what `./inv plot` does)."""
    csv = out / "data.csv"
    if not csv.exists():
        raise ToolkitError(f"{csv}: no data. Fix: run `./inv experiment {exp.name}` first")
    df = read_data(csv)
    path = out / "figure.png"
    if exp.plot is not None:
        exp.plot(df, path, exp)
    else:
        plotting.default_plot(df, path, exp.x_param, exp.metrics[0], exp.title,
                              xlabel=exp.xlabel, ylabel=exp.ylabel, logx=exp.logx)
    return path


def replot(name: str, results_root: Path | None = None) -> Path:
    """Re-draw results/<name>/figure.png from its data.csv without running anything."""
    exp = load_experiment(name)
    out = (results_root or RESULTS_DIR) / name
    meta = out / "meta.json"
    if meta.exists():
        try:
            if json.loads(meta.read_text()).get("quick"):
                exp = exp.quickened()
        except ValueError:
            pass
    return make_figure(exp, out)


def run_many(names: Sequence[str], log: Log = print, **kwargs: Any) -> list[RunSummary]:
    """Run several experiments (`./inv experiment all`); one failing does not stop the rest."""
    summaries = []
    for n in names:
        try:
            summaries.append(run_experiment(n, log=log, **kwargs))
        except ToolkitError as e:
            log(f"{n}: FAILED: {e}")
            summaries.append(RunSummary(n, (kwargs.get("results_root") or RESULTS_DIR) / n,
                                        0, 0, 0, [str(e)]))
    return summaries
