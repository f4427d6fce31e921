"""`./inv build --features`: which meson options and which folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aatcp.build import build_dir, feature_options, features_built, features_of
from aatcp.errors import ToolkitError
from aatcp.paths import BUILD_DIRS, REPO_ROOT
from aatcp.runner import load_experiment, variants_for_build


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


def _meson_options(tmp_path: Path, on: dict[str, bool]) -> Path:
    info = tmp_path / "meson-info"
    info.mkdir()
    opts = [{"name": k, "value": v, "type": "boolean"} for k, v in on.items()]
    opts.append({"name": "buildtype", "value": "release", "type": "combo"})
    (info / "intro-buildoptions.json").write_text(json.dumps(opts))
    return tmp_path


def test_features_built_reads_the_meson_options(tmp_path: Path) -> None:
    assert features_built(_meson_options(tmp_path, {"zc": True, "aa": False, "fwd": True})) \
        == ("zc", "fwd")
    assert features_built(tmp_path / "not-a-build") is None


def test_a_core_build_skips_the_variants_that_need_a_feature() -> None:
    """`./inv experiment bulk --build-dir build-core`: the zero-copy variant is
    left out with the reason, the others run; an unknown build runs all."""
    bulk = load_experiment("bulk")
    keep, skipped = variants_for_build(bulk, ())
    assert "rx-aatcp-zc" not in keep and "rx-aatcp" in keep and "tx-linux" in keep
    assert skipped == {"rx-aatcp-zc": "the build has no zc (built with --features core)"}
    assert variants_for_build(bulk, ("zc", "aa", "fwd")) == (list(bulk.variants), {})
    assert variants_for_build(bulk, None) == (list(bulk.variants), {})
