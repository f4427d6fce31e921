"""The ./inv bootstrap says what it does while it installs the toolkit."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from aatcp.paths import REPO_ROOT


def fake_tool(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def test_update_is_announced_and_then_silent(tmp_path: Path) -> None:
    # A copy of the script beside a pyproject.toml newer than the last install,
    # with stand-ins for the virtualenv's pip and invoke (no network, no venv).
    shutil.copy(REPO_ROOT / "inv", tmp_path / "inv")
    log = tmp_path / "calls"
    fake_tool(tmp_path / ".venv/bin/pip", f'echo "pip $*" >> {log}')
    fake_tool(tmp_path / ".venv/bin/invoke", f'echo "invoke $*" >> {log}')
    (tmp_path / ".venv/.installed").touch()
    past = time.time() - 60
    os.utime(tmp_path / ".venv/.installed", (past, past))
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")

    r = subprocess.run(["sh", str(tmp_path / "inv"), "--list"], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert "inv: pyproject.toml changed: updating the toolkit" in r.stderr
    assert "inv: virtualenv ready" in r.stderr
    calls = log.read_text().splitlines()
    assert calls[0].startswith("pip install") and calls[1].startswith("invoke --search-root")

    # Nothing changed: no word, straight to invoke.
    r = subprocess.run(["sh", str(tmp_path / "inv"), "--list"], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stderr == ""
    assert log.read_text().splitlines()[2].startswith("invoke ")


def test_first_run_message_is_in_the_script() -> None:
    # Creating the virtualenv for real takes ~40 s and the network; the
    # message that precedes it is checked as text.
    text = (REPO_ROOT / "inv").read_text()
    assert "first run: creating the Python virtualenv" in text
    assert "about 40 s" in text
