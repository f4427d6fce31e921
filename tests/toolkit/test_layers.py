"""aatcp/layers.py: the include graph of src/ points down the layers."""

from __future__ import annotations

from pathlib import Path

from aatcp import layers


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (tmp_path / "include").mkdir(exist_ok=True)
    return tmp_path


def test_repository_layers_point_down() -> None:
    out: list[str] = []
    assert layers.check(log=out.append) == 0, "\n".join(out)
    core = layers.folder_graph(layers.includes(), "core")
    assert layers.cycles(core) == []


def test_upward_include_fails(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"src/io/x.h": "", "src/tcp/y.h": "",
                            "src/io/x.c": '#include "io/x.h"\n#include "tcp/y.h"\n'})
    out: list[str] = []
    assert layers.check(root, log=out.append) == 1
    assert any("src/io/x.c:2: includes tcp/y.h" in line for line in out)


def test_feature_hook_inside_its_block_passes(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "src/zc/zc.h": "", "src/fwd/f.h": "",
        "src/tcp/a.c": '#if AATCP_WITH_ZC /* hook */\n#include "zc/zc.h"\n#endif\n',
        # the wrong feature's block, and the #else side, are not hooks
        "src/tcp/b.c": '#if AATCP_WITH_ZC\n#else\n#include "zc/zc.h"\n#endif\n'
                       '#if AATCP_WITH_ZC\n#include "fwd/f.h"\n#endif\n',
    })
    errors, hooks = layers.violations(layers.includes(root))
    assert [(h.src, h.dst) for h in hooks] == [("tcp/a.c", "zc/zc.h")]
    assert len(errors) == 2


def test_cycles_found() -> None:
    assert layers.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
