"""End-to-end tests of the zero-copy receive path (thesis ch. 3, issue 4):
apps/zc_wget on our stack in `dut` downloads files from nginx in `server`
(Linux TCP), reading with mtcp_zc_read_fragments(), on a clean link and
with the stack's fault injector (docs/config.md) dropping, reordering,
duplicating and corrupting frames in both directions. Every download is
checked against the file's SHA-256 computed by the server's coreutils, and
every stack run by the `stack` fixture (tests/e2e/stackrun.py): exit status
0, mbufs_in_use == 0, every core's tcbs_in_use == 0.

Runs without faults also check drops.tcp_rcv_full == 0: the Linux sender
never sends past the window we offer, so a segment dropped as beyond the
receive space means we offered more than we had (it caught an active open
that offered 65535 << wscale whatever SO_RCVBUF said). Not with faults: a
sender whose retransmission timer fires while our window is zero sends the
segment at snd_una anyway, as a window probe (Linux does), and we rightly
drop it (RFC 9293 3.10.7.4: a zero window accepts no data).

Faults are seeded (fault_seed): a failure replays with the same frames hit.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from stackrun import StackResult, StackRunner, make_files, start_nginx

from aatcp.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.build, pytest.mark.slow]

WEB_PORT = 8370  # our nginx (other modules run theirs on other ports)
WWW = "www_zc"
# name -> size: empty, one byte, one full segment (MSS 1460 - 12 bytes of
# timestamps), a few dozen segments, an odd size, and the large one
FILES = {"zc_0": 0, "zc_1": 1, "zc_1448": 1448, "zc_100k": 100_000, "zc_3m": 3_000_001,
         "zc_32m": 32 << 20}
LARGE = "zc_32m"
# each single fault on the large file, every fault at once on four sizes
# (each run costs a stack start and a few SSH round trips: keep them few)
UNDER_ALL = ["zc_1", "zc_100k", "zc_3m", LARGE]

FAULTS = {
    "clean": "",
    "loss": "drop=0.02",
    "reorder": "reorder=0.1,depth=4",
    "dup": "dup=0.05",
    "loss+reorder": "drop=0.01,reorder=0.05,depth=8",
    "all": "drop=0.01,dup=0.02,reorder=0.05,depth=5,corrupt=0.005",
}
# which counter the injector must have moved on the large file
FAULT_COUNTERS = {"drop": "fault_dropped", "reorder": "fault_reordered",
                  "dup": "fault_duped", "corrupt": "fault_corrupted"}

SHA: dict[str, str] = {}


@pytest.fixture(scope="module")
def web(deployed_lab: Lab) -> Iterator[str]:
    """nginx on the server with FILES (made once); yields the URL prefix."""
    r = StackRunner(deployed_lab)
    SHA.update(make_files(r.server, WWW, FILES))
    start_nginx(r, r.server, WWW, WEB_PORT, name="zcnginx")
    try:
        yield f"http://{r.peer_ip('server')}:{WEB_PORT}"
    finally:
        r.close()


def faults(stack: StackRunner, spec: str, seed: int) -> dict[str, str | int]:
    if not spec:
        return {}
    return {f"port.{stack.port_name('server')}.fault": spec, "fault_seed": seed}


def zc_wget(stack: StackRunner, url: str, *flags: str, overrides: dict[str, str | int],
            timeout: float = 90) -> StackResult:
    """One download with apps/zc_wget, its run checked clean (rc 0, mbufs, TCBs)."""
    app = stack.start("zc_wget", url, *flags, overrides=overrides)
    res = app.wait(timeout).check_clean()
    assert res.report is not None, f"zc_wget printed no JSON: {res.stdout[-500:]}"
    return res


def check_body(res: StackResult, name: str, requests: int = 1,
               sha: str | None = None) -> None:
    rep = res.report or {}
    assert rep.get("responses") == requests
    assert rep.get("bytes") == FILES[name] * requests, f"{name}: {rep}"
    assert rep.get("sha256") == (sha or SHA[name]), f"{name}: SHA-256 differs"


@pytest.mark.parametrize("fault", list(FAULTS))
def test_download(stack: StackRunner, web: str, fault: str) -> None:
    """Every size on a clean link, four with every fault at once, the large file
    with each single fault."""
    spec = FAULTS[fault]
    names = {"clean": list(FILES), "all": UNDER_ALL}.get(fault, [LARGE])
    for i, name in enumerate(names):
        res = zc_wget(stack, f"{web}/{name}", overrides=faults(stack, spec, 40 + i))
        check_body(res, name)
        if not spec:
            assert res.drops("tcp_rcv_full") == 0, "segments past the window we offered"
        if name != LARGE or not spec:
            continue
        for key, counter in FAULT_COUNTERS.items():
            if f"{key}=" in spec:
                assert res.counter(counter) > 0, f"{fault}: the injector never did {key}"
        if "drop" in spec or "reorder" in spec:
            # holes in the sequence space: the out-of-order queue was used
            assert res.counter("ooo_segs") > 0, f"{fault}: no out-of-order segment?"


def test_keepalive_under_faults(stack: StackRunner, web: str) -> None:
    """Three responses one after another on one connection (-n 3), every fault."""
    name = "zc_3m"
    sha3 = stack.server.run(f"cat {WWW}/{name} {WWW}/{name} {WWW}/{name} | sha256sum",
                            timeout=60).stdout.split()[0]
    res = zc_wget(stack, f"{web}/{name}", "-n", "3", overrides=faults(stack, FAULTS["all"], 7))
    check_body(res, name, requests=3, sha=sha3)


@pytest.mark.parametrize("rcvbuf,name,fault", [
    (8192, "zc_3m", "all"),            # a window of 5 segments: zero windows all along
    (4 << 20, LARGE, "loss+reorder"),  # long out-of-order queues behind each hole
])
def test_window_sizes_under_faults(stack: StackRunner, web: str, rcvbuf: int, name: str,
                                   fault: str) -> None:
    res = zc_wget(stack, f"{web}/{name}", "-b", str(rcvbuf),
                  overrides=faults(stack, FAULTS[fault], 11))
    check_body(res, name)
    assert res.counter("ooo_segs") > 0


def test_standard_path_under_faults(stack: StackRunner, web: str) -> None:
    """The copying path (-S), the baseline the zero-copy path is compared with,
    under the same faults."""
    res = zc_wget(stack, f"{web}/{LARGE}", "-S", overrides=faults(stack, FAULTS["all"], 40))
    check_body(res, LARGE)
    assert (res.report or {}).get("zero_copy") is False
