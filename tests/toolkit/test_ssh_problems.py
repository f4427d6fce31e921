"""When a host does not answer over SSH, every task says which hosts and why (key
file missing, name not resolved, connection refused) with the fix, and fails.

The hosts here are real-hosts entries (no `local:` section) pointing at things
that fail in known ways on any machine: a name under .invalid (RFC 6761), a
port on 127.0.0.1 where nothing listens, a key file that does not exist.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from aatcp.deploy import deploy
from aatcp.errors import ToolkitError
from aatcp.lab import load_lab
from aatcp.paths import LABS_DIR, REPO_ROOT


def closed_port() -> int:
    """A TCP port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def broken_lab(tmp_path: Path) -> Path:
    """example-testbed.yml with server: unresolvable name, dut: refused, client: no key."""
    key = tmp_path / "id_test"
    key.write_text("not a real key: the connection fails before it is read\n")
    text = (LABS_DIR / "example-testbed.yml").read_text()
    text = text.replace("{address: server.example.org, user: root, key: ~/.ssh/id_ed25519}",
                        f"{{address: nosuch.invalid, key: {key}}}")
    text = text.replace("{address: dut.example.org, user: root, key: ~/.ssh/id_ed25519, port: 22}",
                        f"{{address: 127.0.0.1, key: {key}, port: {closed_port()}}}")
    text = text.replace("{address: client.example.org, user: root, key: ~/.ssh/id_ed25519}",
                        f"{{address: 127.0.0.1, key: {tmp_path / 'no_such_key'}}}")
    path = tmp_path / "broken.yml"
    path.write_text(text)
    return path


def test_each_reason_is_named(tmp_path: Path) -> None:
    path = broken_lab(tmp_path)
    with load_lab(path) as lab:
        server, dut, client = (lab.host(n).problem() for n in ("server", "dut", "client"))
    assert server is not None and "the name 'nosuch.invalid' does not resolve" in server
    assert f"correct ssh.address in {path}" in server
    assert dut is not None and "connection refused on port" in dut and "no sshd" in dut
    assert "`./inv lab.status --hosts" in dut
    assert client is not None and f"the key file {tmp_path / 'no_such_key'} does not exist" \
        in client and "ssh-keygen" in client
    # A real-hosts file: no hint about the local lab.
    for p in (server, dut, client):
        assert "lab.up" not in p and "local lab" not in p


def test_deploy_names_every_host(tmp_path: Path) -> None:
    with load_lab(broken_lab(tmp_path)) as lab, pytest.raises(ToolkitError) as ei:
        deploy(lab)
    msg = str(ei.value)
    assert "3 of 3 hosts cannot be reached" in msg
    for name in ("server", "dut", "client"):
        assert f"\n  {name}: cannot SSH to" in msg, msg
    assert "lab.up" not in msg


def test_lab_status_has_headers_and_fails_with_reasons(tmp_path: Path) -> None:
    path = broken_lab(tmp_path)
    r = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT),
                        "lab.status", "--hosts", str(path)], capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL, cwd=REPO_ROOT)
    assert r.returncode == 1, r.stdout
    lines = r.stdout.splitlines()
    header = next(ln for ln in lines if "NAME" in ln)
    assert header.split() == ["NAME", "ROLE", "SSH", "ANSWERS", "SSH"]
    rows = lines[lines.index(header) + 1:lines.index(header) + 4]
    # Columns line up: every row's SSH column starts under the header's.
    col = header.index("SSH")
    assert all(row[col - 2:col] == "  " and row[col] != " " for row in rows), rows
    assert sum("NO ANSWER" in row for row in rows) == 3
    assert r.stdout.count("why: ") == 3
    assert "does not resolve" in r.stdout and "connection refused" in r.stdout
    assert "does not exist" in r.stdout
    assert "3 of 3 hosts do not answer over SSH" in r.stderr and "Traceback" not in r.stderr
