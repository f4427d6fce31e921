"""Exceptions of the toolkit. Each message names what failed and, where known, the fix."""

from __future__ import annotations


class ToolkitError(Exception):
    """An error a user can act on; tasks print its message without a traceback."""


class LabFileError(ToolkitError):
    """A lab file is invalid: names the file, line, key, problem and fix."""

    def __init__(self, path: str, line: int | None, key: str, problem: str, fix: str) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.problem = problem
        self.fix = fix
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {key}: {problem}. Fix: {fix}")


class CommandFailed(ToolkitError):
    """A command on a host exited non-zero or timed out."""

    def __init__(
        self,
        host: str,
        command: str,
        rc: int | None,
        stdout: str = "",
        stderr: str = "",
        timed_out: bool = False,
    ) -> None:
        self.host = host
        self.command = command
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out
        what = "timed out" if timed_out else f"exited {rc}"
        tail = stderr.strip().splitlines()[-5:]
        detail = ("\n  " + "\n  ".join(tail)) if tail else ""
        super().__init__(f"{host}: command `{command}` {what}{detail}")
