"""The application-aware record API misused through real connections (issue 5):
tests/e2e/peers/aa_misuse.c (built with the C tests into
build/tests/e2e/peers/) reads a CSV stream sent by aa_peer.py and along the way
registers modules wrongly (no module, invalid parameters on a stream and on a
listening socket, twice, too late), reads before connecting, reads twice
without freeing (EBUSY), frees more than it read (EINVAL), uses the fragment,
copying and HTTP-only calls on a record socket, uses the socket after
mtcp_close(), and closes a second connection while it holds records (see the
program for the list). Every answer must be the documented one, the records
of the first connection must be exactly the reference parse's, and the stack
clean (mbufs, TCBs). Release and ASan/UBSan builds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aa_canon import csv_dump, csv_stream
from stackrun import StackRunner, parse_json_line

from aatcp.lab import Lab
from aatcp.paths import BUILD_DIRS

pytestmark = [pytest.mark.lab, pytest.mark.build]

PORT = 9162


@pytest.mark.parametrize("build", ["release", "asan"])
def test_aa_misuse(request: pytest.FixtureRequest, peer_scripts: Lab, tmp_path: Path,
                   build: str) -> None:
    stack: StackRunner = request.getfixturevalue("stack_asan" if build == "asan" else "stack")
    bdir = BUILD_DIRS["sanitize" if build == "asan" else "release"]
    prog = bdir / "tests" / "e2e" / "peers" / "aa_misuse"
    if not prog.exists():
        pytest.fail(f"{prog} is not built. Fix: `./inv build` / `./inv build --sanitize`")
    stack.dut.put(prog, f"{'asan/' if build == 'asan' else ''}bin/aa_misuse", mode=0o755)
    data = csv_stream(20_000, 3, seed=31)
    (tmp_path / "mis.csv").write_bytes(data)
    stack.server.run("mkdir -p aa", timeout=10)
    stack.server.put(tmp_path / "mis.csv", "aa/mis.csv")
    peer = stack.start_peer(stack.server, f"python3 peers/aa_peer.py serve {PORT} aa/mis.csv "
                                          "--conns 2 --seed 3", name="aamispeer")
    stack.wait_listening(stack.server, PORT)
    app = stack.start("aa_misuse", f"{stack.peer_ip('server')}:{PORT}")
    res = app.wait(60).check_clean()
    rep = res.report
    assert rep is not None, f"aa_misuse printed no JSON: {res.stdout[-500:]}"
    bad = {k: v for k, v in rep["checks"].items() if v != "ok"}
    assert not bad, f"wrong answers to misuse: {bad}"
    assert len(rep["checks"]) >= 25
    want = csv_dump(data, 3)
    assert rep["lines"] == want.counts["C"]
    assert rep["dump_sha256"] == want.sha256, "the records were corrupted"
    assert peer.wait(30)
    out = parse_json_line(peer.stop().stdout) or {}
    assert len(out.get("conns", [])) == 2, out  # both connections were served
