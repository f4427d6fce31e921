"""`./inv setup`: the Debian packages and Python dependencies the project needs.

DEBIAN_PACKAGES is the one list of Debian packages of the whole project:
append to it (with a comment saying who needs the package) rather than
installing anything elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from aatcp.errors import ToolkitError
from aatcp.paths import REPO_ROOT

Log = Callable[[str], None]

DEBIAN_PACKAGES: list[str] = [
    # C build: DPDK 22.11 and its build system
    "dpdk", "dpdk-dev", "libdpdk-dev", "meson", "ninja-build", "pkg-config",
    # compilers: gcc (release), clang + compiler-rt (libFuzzer, sanitizers)
    "gcc", "clang", "llvm", "libclang-rt-14-dev",
    # the loss experiment's tc cls_bpf drop program (experiments/bpf/loss_drop.c)
    "libbpf-dev", "linux-libc-dev",
    # Linux peers in tests and experiments
    "nginx-light", "haproxy", "iperf3", "netcat-openbsd", "curl", "wget", "wrk",
    # local lab: sshd per namespace, interfaces, traces
    "openssh-server", "openssh-client", "ethtool", "iproute2", "iputils-ping", "tcpdump",
    # parser baselines (thesis ch. 4)
    "libhttp-parser-dev", "libcsv-dev", "node-llhttp",
    # toolkit; unifdef: `./inv patches` (the feature patch series, aatcp/patches.py)
    "python3-venv", "git", "unifdef",
]


def missing_packages(packages: list[str] | None = None) -> list[str]:
    """Packages of the list that dpkg does not report as installed."""
    pkgs = packages if packages is not None else DEBIAN_PACKAGES
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n", *pkgs],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    installed = {ln.split()[0].split(":")[0] for ln in r.stdout.splitlines()
                 if ln.endswith(" installed")}
    return [p for p in pkgs if p not in installed]


def install_debian_packages(log: Log = print, packages: list[str] | None = None) -> None:
    missing = missing_packages(packages)
    if not missing:
        log(f"setup: all {len(packages or DEBIAN_PACKAGES)} Debian packages are installed")
        return
    if os.geteuid() != 0:
        raise ToolkitError(f"setup: these Debian packages are missing: {' '.join(missing)}. "
                           "Installing them needs root. Fix: run `sudo ./inv setup`, or as "
                           f"root: apt-get install {' '.join(missing)}")
    log(f"setup: installing {len(missing)} Debian packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update", "-q"],
                 ["apt-get", "install", "-y", "-q", *missing]):
        r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise ToolkitError(f"setup: `{' '.join(argv)}` exited {r.returncode}")
    still = missing_packages(packages)
    if still:
        raise ToolkitError(f"setup: still missing after apt-get install: {' '.join(still)}")


def install_python_deps(log: Log = print) -> None:
    """pip install -e .[dev] into the running virtualenv when pyproject.toml changed."""
    if sys.prefix == sys.base_prefix:
        raise ToolkitError("setup: not running inside a virtualenv, and Debian's system pip "
                           "is externally managed. Fix: use the bootstrap script, `./inv setup`")
    stamp = Path(sys.prefix) / ".installed"
    pyproject = REPO_ROOT / "pyproject.toml"
    if stamp.exists() and stamp.stat().st_mtime >= pyproject.stat().st_mtime:
        log("setup: Python dependencies are installed")
        return
    log("setup: installing Python dependencies (pip install -e .[dev])")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", f"{REPO_ROOT}[dev]"],
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise ToolkitError(f"setup: pip install exited {r.returncode}")
    stamp.touch()


def setup(log: Log = print) -> None:
    install_debian_packages(log)
    install_python_deps(log)
