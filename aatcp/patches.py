"""`./inv patches`: the thesis features as an ordered patch series over the plain stack.

Each feature (meson options zc, aa, fwd; docs/architecture.md "Features") is a
folder of src/ joined to the core by `#if AATCP_WITH_<NAME>` hooks. The series is
made from the code itself: for each step of

    core -> +zc -> +aa -> +fwd

the tree of that step is the library's sources (src/, tests/c/) with the hooks of
the features it has resolved by Debian's `unifdef` (the others removed), the
folders of the features it lacks left out, and the meson `if with_<name>` blocks
resolved the same way; patch N is the unified diff from step N-1 to step N. The
public headers (include/) stay in every step: a build without a feature declares
its calls and fails them with ENOTSUP (src/api/unsupported.c).

The series is committed in patches/; tests/toolkit/test_patches.py fails when it
is stale (regenerate with `./inv patches`).
"""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aatcp.errors import ToolkitError
from aatcp.paths import REPO_ROOT

PATCHES_DIR = REPO_ROOT / "patches"
#: What the trees hold (below the repository root).
TREE_ROOTS = ("src", "tests/c")
FEATURES = ("zc", "aa", "fwd")
#: Files of a feature outside its folder.
FEATURE_FILES = {
    "zc": ("src/api/zc_api.c", "tests/c/test_zc_pool.c", "tests/c/test_zc_stream.c",
           "tests/c/test_zc_stream_mt.c"),
    "aa": ("src/api/aa_api.c",),
    "fwd": ("src/api/fwd_api.c", "tests/c/test_fwd_splice.c"),
}
_AA_TESTS = re.compile(r"tests/c/(test_aa_|test_fmt_|aa_compare\.h|test_aa_harness\.h|data/)")


@dataclass(frozen=True)
class Patch:
    number: int
    slug: str
    feature: str
    title: str
    thesis: str
    adds: str


SERIES = (
    Patch(1, "zero-copy-receive", "zc", "zero-copy receive",
          "thesis ch. 3 (3.1 design, figure 3.3: the window is rcvbuf minus what the "
          "application holds; 3.2 out-of-order queue)",
          "src/zc/ (the zero-copy stream, its node pool and out-of-order queue), "
          "mtcp_zc_enable/read_fragments/free_fragments (src/api/zc_api.c), the receive "
          "side's zero-copy mode in tcp/rcv.c and tcb.c, and the tests test_zc_*. The "
          "out-of-order queue is part of the stream (zc_ooo.c) and cannot be switched "
          "on its own, so it is in this patch."),
    Patch(2, "record-streams", "aa", "application-aware record streams",
          "thesis ch. 4 (4.1 parsing while the packet is in the cache, 4.2 the module "
          "interface and mtcp_zc_read_aa_records)",
          "src/aa/ (record pool, stream, CSV and HTTP parsers, vector scanners), the "
          "record API (src/api/aa_api.c), the hooks that feed each in-order node to the "
          "parser (tcp/rcv.c) and attach a module (tcp/listen.c, core/loop/cmd.c), and "
          "the tests test_aa_* and test_fmt_*."),
    Patch(3, "forwarding-and-splice", "fwd", "zero-copy forwarding and splice",
          "thesis ch. 5 (5.1 mtcp_zc_forward and the outbound list, 5.1.2 splice and "
          "the alpha * w_c window, 5.2 records and splice together)",
          "src/fwd/ (outbound list, forward batches, splice), mtcp_zc_forward/splice "
          "(src/api/fwd_api.c), the send side's outbound list in tcp/snd.c, the "
          "splice's hooks in tcp/rcv.c, tcb.c, connect.c, input.c and core/loop/cmd.c, "
          "and test_fwd_splice."),
)


def _unifdef() -> str:
    exe = shutil.which("unifdef")
    if not exe:
        raise ToolkitError("unifdef is not installed. Fix: `./inv setup` (or "
                           "`apt-get install unifdef`)")
    return exe


def _read(p: Path) -> str:
    with open(p, newline="") as f:  # CRLF test data stays CRLF
        return f.read()


def _wanted(rel: str, features: tuple[str, ...]) -> bool:
    for f in FEATURES:
        if f in features:
            continue
        if rel.startswith(f"src/{f}/") or rel in FEATURE_FILES[f]:
            return False
        if f == "aa" and _AA_TESTS.match(rel):
            return False
    return True


def _meson(text: str, features: tuple[str, ...]) -> str:
    """Resolves top-level `if with_<feature>` ... `endif` blocks."""
    out: list[str] = []
    keep: bool | None = None  # inside a block: keep its lines?
    for line in text.splitlines(keepends=True):
        m = re.match(r"if with_(zc|aa|fwd)\s*$", line)
        if keep is None and m:
            keep = m.group(1) in features
            continue
        if keep is not None and line.rstrip() == "endif":
            keep = None
            continue
        if keep is None:
            out.append(line)
        elif keep:
            out.append(line[2:] if line.startswith("  ") else line)
    return "".join(out)


def _c(path: Path, features: tuple[str, ...], exe: str) -> str:
    argv = [exe]
    for f in FEATURES:
        argv.append(f"-DAATCP_WITH_{f.upper()}={1 if f in features else 0}")
    r = subprocess.run([*argv, str(path)], capture_output=True)
    if r.returncode not in (0, 1):  # 0: unchanged, 1: changed
        raise ToolkitError(f"unifdef failed on {path}: {r.stderr.strip()}")
    return r.stdout.decode()


def tree(features: tuple[str, ...], root: Path = REPO_ROOT) -> dict[str, str]:
    """The files of one step: repository path -> text."""
    exe = _unifdef()
    files = subprocess.run(["git", "ls-files", "--", *TREE_ROOTS], cwd=root, check=True,
                           capture_output=True, text=True).stdout.split()
    out: dict[str, str] = {}
    for rel in sorted(files):
        p = root / rel
        if not p.is_file() or not _wanted(rel, features):
            continue
        if p.suffix in (".c", ".h"):
            out[rel] = _c(p, features, exe)
        elif p.name == "meson.build":
            out[rel] = _meson(_read(p), features)
        else:
            try:
                out[rel] = _read(p)
            except UnicodeDecodeError:
                continue  # binary test data: not part of a readable patch
    return out


def diff(old: dict[str, str], new: dict[str, str]) -> str:
    chunks: list[str] = []
    for rel in sorted(set(old) | set(new)):
        a, b = old.get(rel), new.get(rel)
        if a == b:
            continue
        head = f"diff --git a/{rel} b/{rel}\n"
        if a is None:
            head += "new file mode 100644\n"
        elif b is None:
            head += "deleted file mode 100644\n"
        lines = difflib.unified_diff(
            (a or "").splitlines(keepends=True), (b or "").splitlines(keepends=True),
            fromfile=f"a/{rel}" if a is not None else "/dev/null",
            tofile=f"b/{rel}" if b is not None else "/dev/null", n=3)
        # a last line without a newline: the marker patch and git apply expect
        body = "".join(ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n"
                       for ln in lines)
        chunks.append(head + body)
    return "".join(chunks)


def header(p: Patch, body: str) -> str:
    stat = sum(1 for ln in body.splitlines() if ln.startswith("diff --git"))
    return (f"Subject: [PATCH {p.number}/{len(SERIES)}] {p.title}\n\n"
            f"Adds {p.title}: {p.thesis}.\n\n{p.adds}\n\n"
            f"Generated by `./inv patches` (aatcp/patches.py) from the tree with "
            f"{'the features before it' if p.number > 1 else 'no thesis feature'} to the "
            f"tree with {p.feature} too; {stat} files. Do not edit: change the code and "
            "regenerate.\n---\n")


def generate(out_dir: Path = PATCHES_DIR, root: Path = REPO_ROOT,
             log: Callable[[str], None] = print) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.patch"):
        old.unlink()
    written: list[Path] = []
    have: tuple[str, ...] = ()
    prev = tree(have, root)
    for p in SERIES:
        have = tuple(f for f in FEATURES if f in (*have, p.feature))
        cur = tree(have, root)
        body = diff(prev, cur)
        path = out_dir / f"{p.number:04d}-{p.slug}.patch"
        with open(path, "w", newline="") as f:
            f.write(header(p, body) + body)
        log(f"patches: {path.relative_to(out_dir.parent)} "
            f"({body.count(chr(10))} lines)")
        written.append(path)
        prev = cur
    return written
