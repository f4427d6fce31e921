"""`./inv build`: meson + ninja, one build folder per kind.

    release   build/        (default; link-time optimisation; optional -march=native)
    debug     build-debug/  -Dbuildtype=debug
    sanitize  build-asan/   ASan + UBSan, the build the C tests run in
    fuzz      build-fuzz/   clang, libFuzzer targets (-Dfuzz=true) with ASan + UBSan
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from aatcp.errors import ToolkitError
from aatcp.paths import BUILD_DIRS, REPO_ROOT

SANITIZE = ["-Db_sanitize=address,undefined", "-Db_lundef=false"]
MESON_OPTIONS: dict[str, list[str]] = {
    # LTO lets the built-in parsers inline the record-building calls of
    # src/aa (docs/aa-performance.md: about 12% on the HTTP path).
    "release": ["-Dbuildtype=release", "-Db_lto=true"],
    "debug": ["-Dbuildtype=debug"],
    "sanitize": ["-Dbuildtype=debug", *SANITIZE],
    "fuzz": ["-Dbuildtype=debug", "-Dfuzz=true", *SANITIZE],
}
KINDS = tuple(MESON_OPTIONS)


def build_dir(kind: str = "release") -> Path:
    return BUILD_DIRS[kind]


def build(kind: str = "release", native: bool = False, jobs: int = 0,
          reconfigure: bool = False, log: Callable[[str], None] = print) -> Path:
    """Configure (first time) and compile one build kind; returns its folder."""
    if kind not in MESON_OPTIONS:
        raise ToolkitError(f"unknown build kind '{kind}'. Fix: use one of {', '.join(KINDS)}")
    bdir = BUILD_DIRS[kind]
    env = dict(os.environ)
    if kind == "fuzz":
        env["CC"] = "clang"
    opts = list(MESON_OPTIONS[kind])
    if kind == "release":
        opts.append(f"-Dnative={'true' if native else 'false'}")
    if not (bdir / "build.ninja").exists():
        log(f"build: meson setup {bdir.name} {' '.join(opts)}")
        _check(["meson", "setup", str(bdir), *opts], env)
    elif reconfigure or native:
        _check(["meson", "configure", str(bdir), *opts], env)
    argv = ["meson", "compile", "-C", str(bdir)]
    if jobs:
        argv += ["-j", str(jobs)]
    log(f"build: {' '.join(argv)}")
    _check(argv, env)
    return bdir


def _check(argv: list[str], env: dict[str, str]) -> None:
    r = subprocess.run(argv, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise ToolkitError(f"build: `{' '.join(argv)}` exited {r.returncode} (see the output "
                           "above)")
