"""`./inv test`: ruff, the layer check, the C tests (ASan build, then the core-only
debug build), then pytest.

Stages, in order (`--only` picks some):
  ruff    `ruff check` over the whole repository (pyproject.toml configures it)
  layers  every `#include` in src/ points down the layers (aatcp/layers.py)
  c       `meson test` in build-asan/ (ASan + UBSan); skipped when no test is registered
  core    `meson test` in build-debug-core/: the library without zc/aa/fwd, the core's tests
  py    `pytest tests/` (toolkit tests in tests/toolkit, end-to-end in tests/e2e, ...)
Every stage runs even if an earlier one failed, so one run reports everything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from aatcp import layers
from aatcp.paths import BUILD_DIRS, REPO_ROOT

STAGES = ("ruff", "layers", "c", "core", "py")
Log = Callable[[str], None]


def _bin(name: str) -> str:
    """A tool of the running virtualenv, else from PATH."""
    cand = Path(sys.executable).parent / name
    return str(cand) if cand.exists() else (shutil.which(name) or name)


def _run(argv: Sequence[str], log: Log, env: dict[str, str] | None = None) -> int:
    log(f"test: $ {' '.join(argv)}")
    return subprocess.run(list(argv), cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                          env=env).returncode


def ruff(log: Log) -> int:
    return _run([_bin("ruff"), "check", "."], log)


def c_tests(log: Log, build_dir: Path | None = None) -> int:
    bdir = build_dir or BUILD_DIRS["sanitize"]
    if not (bdir / "build.ninja").exists():
        fix = "--debug --features core" if bdir == BUILD_DIRS["core"] else "--sanitize"
        log(f"test: {bdir} is not built. Fix: `./inv build {fix}`")
        return 1
    listed = subprocess.run(["meson", "test", "-C", str(bdir), "--list"], cwd=REPO_ROOT,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if "No tests defined." in listed.stdout:  # meson exits 1 when there are none
        log("test: no C tests registered in tests/c/meson.build yet: skipping meson test")
        return 0
    if listed.returncode != 0:
        log(f"test: `meson test --list` failed:\n{listed.stdout}{listed.stderr}")
        return listed.returncode
    names = [ln for ln in listed.stdout.splitlines()
             if ln.strip() and not ln.startswith("ninja:")]
    if not names:
        log("test: no C tests registered in tests/c/meson.build yet: skipping meson test")
        return 0
    jobs = str(os.cpu_count() or 2)
    return _run(["meson", "test", "-C", str(bdir), "--print-errorlogs",
                 "--num-processes", jobs], log)


def py_tests(log: Log, pytest_args: Sequence[str] = ()) -> int:
    rc = _run([sys.executable, "-m", "pytest", *pytest_args], log)
    if rc == 5:  # pytest: no tests collected (e.g. -k matched nothing)
        log("test: pytest collected no tests")
    return rc


def run(only: Sequence[str] = STAGES, pytest_args: Sequence[str] = (), log: Log = print) -> int:
    """Run the chosen stages; returns 0 when all passed."""
    results: dict[str, int] = {}
    for stage in STAGES:
        if stage not in only:
            continue
        if stage == "ruff":
            results[stage] = ruff(log)
        elif stage == "layers":
            results[stage] = layers.check(log=log)
        elif stage == "c":
            results[stage] = c_tests(log)
        elif stage == "core":
            results[stage] = c_tests(log, BUILD_DIRS["core"])
        else:
            results[stage] = py_tests(log, pytest_args)
    summary = ", ".join(f"{k}: {'ok' if v == 0 else f'FAILED ({v})'}" for k, v in results.items())
    log(f"test: {summary}")
    return 0 if all(v == 0 for v in results.values()) else 1
