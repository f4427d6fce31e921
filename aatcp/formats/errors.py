"""Errors of the format compiler: every one names the file, line and column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pos:
    """A place in a description file (1-based line and column)."""

    line: int
    col: int


class FormatError(Exception):
    """One or more errors in a format description.

    ``str(err)`` is one line per problem, ``FILE:LINE:COL: error: WHAT``, as compilers
    print them (editors jump to the place).
    """

    def __init__(self, path: str, problems: list[tuple[Pos, str]]) -> None:
        self.path = path
        self.problems = sorted(problems, key=lambda p: (p[0].line, p[0].col))
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.path}:{pos.line}:{pos.col}: error: {msg}"
                         for pos, msg in self.problems)
