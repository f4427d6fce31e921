"""`meson install` installs the library, its headers and the pkg-config file
only: the example programs (`source`, `sink`, `proxy`, ...) stay in the build
tree, where the toolkit deploys them from under their own names."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from aatcp.deploy import collect_artifacts

pytestmark = pytest.mark.build


def test_install_is_library_headers_pkgconfig(release_build: Path) -> None:
    r = subprocess.run(["meson", "introspect", str(release_build), "--installed"],
                       capture_output=True, text=True, check=True, timeout=60)
    dests = [PurePosixPath(d) for d in json.loads(r.stdout).values()]
    assert dests, "meson installs nothing"
    kinds = set()
    for d in dests:
        if d.suffix == ".h" and d.parent.name == "include":
            kinds.add("header")
        elif d.name == "aatcp.pc" and d.parent.name == "pkgconfig":
            kinds.add("pkg-config")
        elif d.name.startswith("libaatcp.") and "bin" not in d.parts:
            kinds.add("library")
        else:
            pytest.fail(f"meson installs {d}: only libaatcp, its headers and aatcp.pc belong "
                        "in the install")
    assert kinds == {"header", "pkg-config", "library"}


def test_toolkit_still_ships_the_programs(release_build: Path) -> None:
    remote = {a.remote for a in collect_artifacts(release_build)[0]}
    for prog in ("proxy", "source", "sink", "epserver", "lsink", "answer_server"):
        assert f"bin/{prog}" in remote
