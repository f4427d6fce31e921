"""The format compiler (thesis 6.2, "a simpler format description"): a small
declarative description of a record format -> a C application-aware module for the
aatcp runtime (src/aa/aa_module.h). Language reference: docs/formats.md.

    from aatcp.formats import compile_file
    out = compile_file(Path("formats/csv.fmt"))     # raises FormatError
    Path("csv.c").write_text(out.c)

Command line: ``python -m aatcp.formats FILE -o OUT.c [-H OUT.h]``; every shipped
description: ``./inv formats`` (into build/formats/).
"""

from __future__ import annotations

from pathlib import Path

from aatcp.formats.cgen import Output, generate
from aatcp.formats.checker import check
from aatcp.formats.errors import FormatError, Pos
from aatcp.formats.model import Format
from aatcp.formats.parser import parse

__all__ = ["FormatError", "Output", "Pos", "build_all", "compile_file", "compile_text",
           "display_name", "load", "parse_checked"]

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
FORMATS_DIR = REPO_ROOT / "formats"


def display_name(path: Path) -> str:
    """How generated code and messages name a description: relative to the repository
    when it is inside it (stable whatever the build folder), else as given."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def parse_checked(text: str, path: str) -> Format:
    """Parses and checks a description; raises FormatError."""
    return check(parse(text, path))


def load(path: Path) -> Format:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(str(path), [(Pos(1, 1), f"not UTF-8 text ({e.reason} at byte "
                                                  f"{e.start})")]) from None
    return parse_checked(text, str(path))


def compile_text(text: str, path: str = "<string>", header_name: str | None = None
                 ) -> Output:
    return generate(parse_checked(text, path), path, header_name)


def compile_file(path: Path, header_name: str | None = None) -> Output:
    """Compiles one description file; raises FormatError (OSError if unreadable)."""
    fmt = load(path)
    return generate(fmt, display_name(path), header_name)


def write_outputs(src: Path, out_c: Path, out_h: Path | None) -> None:
    """Compiles src into out_c (and out_h); files are rewritten only when their text
    changes, so build systems do not recompile for nothing."""
    out = compile_file(src, out_h.name if out_h else None)
    for path, text in ((out_c, out.c), (out_h, out.h)):
        if path is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def build_all(files: list[Path], out_dir: Path) -> list[Path]:
    """Compiles each description into out_dir/fmt_NAME.c and fmt_NAME.h (NAME: the file's
    stem; the prefix keeps e.g. csv.h from shadowing a system <csv.h>);
    returns the files written. Every file is compiled; the errors of all of them are
    raised together."""
    written: list[Path] = []
    problems: list[FormatError] = []
    for f in files:
        c, h = out_dir / f"fmt_{f.stem}.c", out_dir / f"fmt_{f.stem}.h"
        try:
            write_outputs(f, c, h)
        except FormatError as e:
            problems.append(e)
            continue
        written += [c, h]
    if problems:
        raise _Many(problems)
    return written


class _Many(FormatError):
    def __init__(self, errors: list[FormatError]) -> None:
        self.errors = errors
        Exception.__init__(self, str(self))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def run(file: Path | None = None, out_dir: Path | None = None, check_only: bool = False
        ) -> list[str]:
    """`./inv formats`: compile one description, or every formats/*.fmt, into out_dir
    (default build/formats/); returns what to print. Raises FormatError."""
    files = [file] if file else sorted(FORMATS_DIR.glob("*.fmt"))
    if check_only:
        problems: list[FormatError] = []
        for f in files:
            try:
                load(f)
            except FormatError as e:
                problems.append(e)
        if problems:
            raise _Many(problems)
        return [f"formats: {display_name(f)}: ok" for f in files]
    out = out_dir or REPO_ROOT / "build" / "formats"
    written = build_all(files, out)
    return [f"formats: {display_name(f)} -> {display_name(c)}, {h.name}"
            for f, c, h in zip(files, written[0::2], written[1::2], strict=True)]
