"""`./inv build --features`: which meson options and which folder."""

from __future__ import annotations

import pytest

from aatcp.build import build_dir, feature_options, features_of
from aatcp.errors import ToolkitError
from aatcp.paths import BUILD_DIRS, REPO_ROOT


@pytest.mark.parametrize(("spec", "want", "folder"), [
    ("core", (), "build-core"),
    ("zc", ("zc",), "build-zc"),
    ("aa", ("zc", "aa"), "build-zc-aa"),   # records are built on the zero-copy stream
    ("fwd", ("zc", "fwd"), "build-zc-fwd"),
    ("all", ("zc", "aa", "fwd"), "build"),
    ("fwd,aa", ("zc", "aa", "fwd"), "build"),
])
def test_features(spec: str, want: tuple[str, ...], folder: str) -> None:
    assert features_of(spec) == want
    assert build_dir("release", want) == REPO_ROOT / folder


def test_core_is_where_the_test_stage_looks() -> None:
    assert build_dir("debug", features_of("core")) == BUILD_DIRS["core"]
    assert feature_options(()) == ["-Dzc=false", "-Daa=false", "-Dfwd=false"]


def test_unknown_feature_says_what_to_type() -> None:
    with pytest.raises(ToolkitError, match=r"./inv build --features core\|zc\|aa\|fwd\|all"):
        features_of("zc,records")
