"""python -m aatcp.formats FILE.fmt -o OUT.c [-H OUT.h] (see docs/formats.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aatcp.formats import FormatError, write_outputs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m aatcp.formats",
        description="Compile a record format description into a C application-aware "
                    "module for aatcp (docs/formats.md).")
    ap.add_argument("file", type=Path, help="the description (.fmt)")
    ap.add_argument("-o", "--output", type=Path, required=False,
                    help="the C source to write (default: FILE with .c)")
    ap.add_argument("-H", "--header", type=Path,
                    help="also write the declarations (record struct, module) to this "
                         "header, which the source then includes")
    ap.add_argument("--check", action="store_true",
                    help="only check the description; write nothing")
    a = ap.parse_args(argv)
    try:
        if a.check:
            from aatcp.formats import load

            load(a.file)
            return 0
        write_outputs(a.file, a.output or a.file.with_suffix(".c"), a.header)
    except FormatError as e:
        print(e, file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{a.file}: error: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
