"""The zero-copy receive API misused through a real connection (issue 4):
tests/e2e/peers/zc_misuse.c (built with the C tests into
build/tests/e2e/peers/) fetches a file from nginx on a zero-copy socket and
along the way reads twice without freeing (EBUSY), frees more than it read
(EINVAL), frees in two steps, calls the API before connecting, on a standard
socket and after mtcp_close() (see the program for the list). The stream must
come out intact (SHA-256 of the fragments) and the stack clean (mbufs, TCBs).
Run with the release build and with the ASan/UBSan build (build-asan/): a
sanitizer report fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from stackrun import StackRunner, make_files, start_nginx

from aatcp.lab import Lab
from aatcp.paths import BUILD_DIRS

pytestmark = [pytest.mark.lab, pytest.mark.build]

WEB_PORT = 8371
WWW = "www_zc_api"
FILES = {"zc_1m": 1 << 20}
RCVBUF = 16384


@pytest.fixture(scope="module")
def web(deployed_lab: Lab, release_build: Path) -> Iterator[tuple[str, str]]:
    """zc_misuse on the dut, nginx with FILES on the server; yields (server
    address:port, SHA-256 of the file)."""
    prog = release_build / "tests" / "e2e" / "peers" / "zc_misuse"
    if not prog.exists():
        pytest.fail(f"{prog} is not built. Fix: `./inv build` (meson option tests=true)")
    r = StackRunner(deployed_lab)
    r.dut.put(prog, "bin/zc_misuse", mode=0o755)
    sha = make_files(r.server, WWW, FILES)
    start_nginx(r, r.server, WWW, WEB_PORT, name="zcapinginx")
    try:
        yield f"{r.peer_ip('server')}:{WEB_PORT}", sha["zc_1m"]
    finally:
        r.close()


@pytest.mark.parametrize("build", ["release", "asan"])
def test_misuse_returns_errors_and_never_corrupts(request: pytest.FixtureRequest,
                                                  web: tuple[str, str], build: str) -> None:
    addr, sha = web
    stack: StackRunner = request.getfixturevalue("stack_asan" if build == "asan" else "stack")
    if build == "asan":
        prog = BUILD_DIRS["sanitize"] / "tests" / "e2e" / "peers" / "zc_misuse"
        if not prog.exists():
            pytest.fail(f"{prog} is not built. Fix: `./inv build --sanitize`")
        stack.dut.put(prog, "asan/bin/zc_misuse", mode=0o755)
    app = stack.start("zc_misuse", "-b", str(RCVBUF), addr, "/zc_1m")
    res = app.wait(60).check_clean()
    rep = res.report
    assert rep is not None, f"zc_misuse printed no JSON: {res.stdout[-500:]}"
    bad = {k: v for k, v in rep["checks"].items() if v != "ok"}
    assert not bad, f"wrong answers to misuse: {bad}"
    assert len(rep["checks"]) >= 20
    assert rep["body_bytes"] == FILES["zc_1m"]
    assert rep["body_sha256"] == sha, "the stream was corrupted"
    # Nothing freed, nothing read while the peer filled the window: everything
    # the stack accepted fits in the receive buffer (window = rcvbuf - held),
    # and the peer never sent past the window we offered.
    assert 0 < rep["first_read_bytes"] <= RCVBUF
    assert res.drops("tcp_rcv_full") == 0, "segments past the window we offered"
