"""`./inv build`: meson + ninja, one build folder per kind.

    release   build/        (default; link-time optimisation; optional -march=native)
    debug     build-debug/  -Dbuildtype=debug
    sanitize  build-asan/   ASan + UBSan, the build the C tests run in
    fuzz      build-fuzz/   clang, libFuzzer targets (-Dfuzz=true) with ASan + UBSan, -O1

`--features` leaves thesis features out (meson options zc, aa, fwd; docs/architecture.md
"Features"): `core` (none of them), `all` (the default), or a comma list of zc, aa, fwd
(aa and fwd bring zc). A build with fewer features has its own folder: build-core/,
build-zc-aa/, ... (build-asan-core/ etc. for the other kinds).
"""

from __future__ import annotations

import json
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
    # -O1 as in libFuzzer's examples and OSS-Fuzz's builds: 2.8x the executions
    # per second of -O0 for fuzz_tcp_input, same sanitizers (docs/fuzzing.md).
    "fuzz": ["-Ddebug=true", "-Doptimization=1", "-Dfuzz=true", *SANITIZE],
}
KINDS = tuple(MESON_OPTIONS)
FEATURES = ("zc", "aa", "fwd")


def features_of(spec: str) -> tuple[str, ...]:
    """The features a `--features` value names, in FEATURES order."""
    names = {n.strip() for n in spec.split(",") if n.strip()} or {"all"}
    if names == {"all"}:
        return FEATURES
    if names == {"core"}:
        return ()
    unknown = names - set(FEATURES)
    if unknown:
        raise ToolkitError(f"unknown feature(s) {', '.join(sorted(unknown))} in --features "
                           f"'{spec}'. Fix: `./inv build --features core|zc|aa|fwd|all` "
                           "(or a comma list such as zc,fwd)")
    if names & {"aa", "fwd"}:
        names.add("zc")  # records and forwarding are built on the zero-copy stream
    return tuple(f for f in FEATURES if f in names)


def features_built(build: Path) -> tuple[str, ...] | None:
    """The features a configured build folder has (its meson options zc, aa, fwd
    that are on, in FEATURES order), or None when it is not a meson build."""
    try:
        opts = json.loads((build / "meson-info" / "intro-buildoptions.json").read_text())
    except (OSError, ValueError):
        return None
    on = {o.get("name") for o in opts if isinstance(o, dict) and o.get("value") is True}
    return tuple(f for f in FEATURES if f in on)


def feature_options(features: tuple[str, ...]) -> list[str]:
    return [f"-D{f}={'true' if f in features else 'false'}" for f in FEATURES]


def build_dir(kind: str = "release", features: tuple[str, ...] = FEATURES) -> Path:
    if features == FEATURES:
        return BUILD_DIRS[kind]
    name = "-".join(features) or "core"
    if kind == "release":
        return REPO_ROOT / f"build-{name}"
    return BUILD_DIRS[kind].with_name(f"{BUILD_DIRS[kind].name}-{name}")


def build(kind: str = "release", native: bool = False, jobs: int = 0,
          reconfigure: bool = False, log: Callable[[str], None] = print,
          features: str = "all") -> Path:
    """Configure (first time) and compile one build kind; returns its folder."""
    if kind not in MESON_OPTIONS:
        raise ToolkitError(f"unknown build kind '{kind}'. Fix: use one of {', '.join(KINDS)}")
    feats = features_of(features)
    if kind == "fuzz" and feats != FEATURES:
        raise ToolkitError("the fuzz targets need every feature. Fix: `./inv build --fuzz` "
                           "without --features")
    bdir = build_dir(kind, feats)
    env = dict(os.environ)
    if kind == "fuzz":
        env["CC"] = "clang"
    opts = list(MESON_OPTIONS[kind]) + feature_options(feats)
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
