"""Helpers for tasks.py: turn ToolkitError into a clean message, optional positionals."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from invoke import Task
from invoke.exceptions import Exit
from invoke.parser import Argument

from aatcp.errors import ToolkitError
from aatcp.paths import DEFAULT_LAB

F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Print a ToolkitError's message (it names the file/host/key and the fix) and
    exit 1, instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ToolkitError as e:
            raise Exit(f"error: {e}", code=1) from None

    return wrapper  # type: ignore[return-value]


def lab_path(hosts: str | None) -> Path:
    """--hosts as given on the command line (relative to the caller's folder)."""
    return Path(hosts) if hosts else DEFAULT_LAB


class _NameArgument(Argument):
    """A positional argument that becomes optional once one of `unless` flags is set.

    invoke's parser consumes a positional only while its value is None, and
    complains at the end if it still is; answering "" once `--list` (say) was
    given makes `./inv experiment --list` work while `./inv experiment fig4_1`
    still takes the name.
    """

    siblings: list[Argument]

    @property  # type: ignore[override]
    def value(self) -> Any:
        v = super().value
        if v is None and any(s.value for s in self.siblings):
            return ""
        return v

    @value.setter
    def value(self, arg: str) -> None:
        self.set_value(arg, cast=True)


class OptionalNameTask(Task):
    """Task whose `name` positional may be left out when `--list` is given."""

    unless = ("list_",)

    def get_arguments(self, ignore_unknown_help: bool | None = None) -> list[Argument]:
        args = super().get_arguments(ignore_unknown_help)
        out = []
        for a in args:
            if a.name == "name":
                na = _NameArgument(names=a.names, kind=a.kind, default=a.default, help=a.help,
                                   positional=True, optional=a.optional,
                                   attr_name=a.attr_name)
                out.append(na)
            else:
                out.append(a)
        named = [a for a in out if isinstance(a, _NameArgument)]
        for na in named:
            na.siblings = [a for a in out if a.name in self.unless or
                           (a.attr_name and a.attr_name in self.unless)]
        return out
