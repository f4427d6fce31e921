"""patches/: the committed feature series is what `./inv patches` makes now, and it
applies, in order, from the core-only tree to the tree with every feature."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aatcp import patches

pytestmark = pytest.mark.skipif(shutil.which("unifdef") is None,
                                reason="unifdef not installed: `./inv setup`")


def test_series_is_current(tmp_path: Path) -> None:
    fresh = patches.generate(tmp_path, log=lambda _m: None)
    committed = sorted(patches.PATCHES_DIR.glob("*.patch"))
    assert [p.name for p in committed] == [p.name for p in fresh], (
        "patches/ holds another series. Fix: `./inv patches` and commit patches/")
    for new in fresh:
        old = patches.PATCHES_DIR / new.name
        assert old.read_bytes() == new.read_bytes(), (
            f"patches/{new.name} is stale. Fix: `./inv patches` and commit patches/")


def test_series_applies_from_core_to_all(tmp_path: Path) -> None:
    for rel, text in patches.tree(()).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(text.encode())
    for p in sorted(patches.PATCHES_DIR.glob("*.patch")):
        r = subprocess.run(["git", "apply", "--unsafe-paths", str(p)], cwd=tmp_path,
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{p.name} does not apply: {r.stderr}"
    want = patches.tree(patches.FEATURES)
    got = {str(f.relative_to(tmp_path)): f.read_bytes().decode()
           for f in tmp_path.rglob("*") if f.is_file()}
    assert got == want
