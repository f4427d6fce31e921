"""Where things are in the repository."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LABS_DIR = REPO_ROOT / "labs"
DEFAULT_LAB = LABS_DIR / "local.yml"
#: State of local labs: one folder per lab name (keys, sshd configs, pidfiles).
LAB_STATE_ROOT = REPO_ROOT / ".lab"
RESULTS_DIR = REPO_ROOT / "results"
EXPERIMENTS_DIR = REPO_ROOT / "experiments"

#: meson build directories by build kind (see aatcp.build).
BUILD_DIRS = {
    "release": REPO_ROOT / "build",
    "debug": REPO_ROOT / "build-debug",
    "sanitize": REPO_ROOT / "build-asan",
    "fuzz": REPO_ROOT / "build-fuzz",
    # the library without zc/, aa/ and fwd/, debug (fast to compile), whose C tests
    # `./inv test` runs (`./inv build --debug --features core`)
    "core": REPO_ROOT / "build-debug-core",
}


def resolve(path: str | Path, base: Path = REPO_ROOT) -> Path:
    """A user-given path: `~` expanded, relative paths taken from `base` (the repo root)."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else base / p
