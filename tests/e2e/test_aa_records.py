"""End-to-end tests of the application-aware record streams (thesis ch. 4,
issue 5): Linux servers in `server` stream CSV and HTTP to apps/aa_reader on
our stack in `dut`, which registers the CSV / HTTP module, reads and frees
records, and prints the SHA-256 of a canonical dump of them
(apps/aa_canon.h); the test computes the same dump from the bytes that were
sent (tests/e2e/aa_canon.py, a plain parse of the whole stream) and
compares. The same programs with -S (mtcp_read + the parse in the
application) and apps/linux/aa_lreader (Linux sockets) must give the same
dump. Every stack run is checked by the `stack` fixture (stackrun.py):
exit status 0, mbufs_in_use == 0, tcbs_in_use == 0, no sanitizer report.

Peers: tests/e2e/peers/aa_peer.py (a file cut into writes of random sizes,
TCP_NODELAY: records split across segments anywhere), answer_server (the
thesis' endless server), nginx (real responses, keep-alive), curl (real
requests into the stack). Faults come from the stack's seeded injector.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aa_canon import Dump, csv_dump, csv_stream, http_dump, http_request, http_response
from stackrun import StackResult, StackRunner, make_files, parse_json_line, start_nginx

from aatcp.lab import Lab
from aatcp.remote import Background

pytestmark = [pytest.mark.lab, pytest.mark.build, pytest.mark.slow]

PEER_PORT = 9160      # aa_peer serve
ANSWER_PORT = 9161    # answer_server
NGINX_PORT = 8374     # our nginx
LISTEN_PORT = 8160    # aa_reader -l
WWW = "www_aa"
FILES = {"aa_0": 0, "aa_1k": 1000, "aa_100k": 100_000, "aa_1m": 1 << 20}
SHA: dict[str, str] = {}
FAULTS = "drop=0.01,reorder=0.05,depth=4,dup=0.01"


# ---------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def lab(peer_scripts: Lab) -> Lab:
    return peer_scripts


def serve(st: StackRunner, tmp: Path, data: bytes, name: str, seed: int = 1,
          conns: int = 1, max_write: int = 20000, rst: bool = False) -> Background:
    """aa_peer.py on the server sends `data` to each of `conns` connections (rst:
    then resets the connection once everything was acknowledged)."""
    local = tmp / name
    local.write_bytes(data)
    st.server.put(local, f"aa/{name}")
    bg = st.start_peer(st.server, f"python3 peers/aa_peer.py serve {PEER_PORT} aa/{name} "
                                  f"--conns {conns} --seed {seed} --max-write {max_write}"
                                  + (" --rst" if rst else ""),
                       name=f"aapeer-{name}")
    st.wait_listening(st.server, PEER_PORT)
    return bg


def peer_report(bg: Background, timeout: float = 30) -> dict[str, Any]:
    assert bg.wait(timeout), "aa_peer did not finish"
    res = bg.stop()
    rep = parse_json_line(res.stdout)
    assert rep is not None, f"aa_peer printed nothing: {res.stderr[-1000:]}"
    return rep


def reader(st: StackRunner, mode: str, *args: str, std: bool = False, port: int = PEER_PORT,
           overrides: dict[str, Any] | None = None, timeout: float = 60) -> StackResult:
    """aa_reader on the dut against the server (blocking until it exits), checked clean."""
    flags = ["-c", f"{st.peer_ip('server')}:{port}", "-m", mode, "-T", str(timeout - 5), *args]
    if std:
        flags.append("-S")
    app = st.start("aa_reader", *flags, overrides=overrides)
    res = app.wait(timeout).check_clean()
    assert res.report is not None, f"aa_reader printed no JSON: {res.stdout[-500:]}"
    assert res.report["timed_out"] is False, res.report
    return res


def same_records(rep: dict[str, Any], want: Dump) -> None:
    assert rep["errors"] == [], rep["errors"]
    got = {k: rep[n] for k, n in (("C", "csv_lines"), ("R", "responses"), ("Q", "requests"),
                                  ("B", "bodies"), ("T", "trailers")) if rep[n]}
    assert got == want.counts, f"record counts {got} != {want.counts}"
    assert rep["dump_sha256"] == want.sha256, "records differ from the reference parse"


def faults(st: StackRunner, seed: int) -> dict[str, Any]:
    return {f"port.{st.port_name('server')}.fault": FAULTS, "fault_seed": seed}


def http_stream(n: int, seed: int, max_body: int = 20000) -> bytes:
    """n responses: Content-Length bodies of 0..max_body bytes, chunked ones (chunk
    extensions, trailers), 204 and 304 without bodies, an interim 100; keep-alive."""
    rng = random.Random(seed)
    out = bytearray()
    for i in range(n):
        body = rng.randbytes(rng.choice([0, 1, 10, 100, 1000, 1460, 3000, max_body]))
        kind = rng.random()
        if kind < 0.05:
            out += b"HTTP/1.1 100 Continue\r\n\r\n"
        if kind < 0.1:
            out += f"HTTP/1.1 {rng.choice([204, 304])} X\r\nX-I: {i}\r\n\r\n".encode()
        elif kind < 0.45:
            out += http_response(body, chunked=True, seed=i, chunk_sizes=rng.choice([5, 700, 4000]),
                                 trailers=[("X-Trailer", str(i))] if i % 2 else None)
        else:
            out += http_response(body, seed=i, extra=[("X-Pad", "p" * rng.randrange(0, 3000))])
    return bytes(out)


# ---------------------------------------------------------------------------- CSV


@pytest.mark.parametrize("path", ["aa", "aa_batch", "standard"])
def test_csv_stream(stack: StackRunner, lab: Lab, tmp_path: Path, path: str) -> None:
    """80,000 RFC 4180 lines (quoted fields with commas, CR, LF, doubled quotes; LF and
    CRLF ends), cut anywhere: the records are exactly the reference parse's; with
    AA_CSV_P_BATCH (`-g`) too, where the unquoted whole lines of a packet come as
    one record between the quoted and cut lines' own records."""
    data = csv_stream(80_000, 6, seed=5)
    bg = serve(stack, tmp_path, data, "csv1", seed=2)
    batch = ["-g"] if path == "aa_batch" else []
    res = reader(stack, "csv", "-F", "6", *batch, std=path == "standard")
    same_records(res.report or {}, csv_dump(data, 6))
    rep = peer_report(bg)
    assert rep["conns"][0]["all_sent"] and rep["conns"][0]["client_closed"]


def test_csv_answer_server_three_paths(stack: StackRunner, lab: Lab) -> None:
    """The thesis' CSV server (answer_server --csv, 30 MB of lines of 4 fields of
    16 bytes): the stack's module (a record per line, and the lines of a packet
    in one record), the standard path and Linux sockets read the same records."""
    rec = 4 * 17
    n = (30 << 20) // rec * rec
    stack.start_peer(stack.server, f"answer_server -l {ANSWER_PORT} --csv 16 --fields 4 "
                                   f"-n {n}", name="ans-csv")
    stack.wait_listening(stack.server, ANSWER_PORT)
    dumps = {}
    for path in ("aa", "aa_batch", "standard"):
        batch = ["-g"] if path == "aa_batch" else []
        res = reader(stack, "csv", "-F", "4", *batch, port=ANSWER_PORT,
                     std=path == "standard")
        rep = res.report or {}
        assert rep["csv_lines"] == n // rec and rep["errors"] == [], rep
        dumps[path] = rep["dump_sha256"]
    r = stack.dut.run(f"aa_lreader -c {stack.peer_ip('server')}:{ANSWER_PORT} -m csv -F 4 "
                      "-T 60", timeout=90)
    rep = parse_json_line(r.stdout) or {}
    assert rep.get("csv_lines") == n // rec, rep
    dumps["linux"] = rep["dump_sha256"]
    assert len(set(dumps.values())) == 1, dumps


# ---------------------------------------------------------------------------- HTTP


@pytest.mark.parametrize("path", ["aa", "standard"])
def test_http_responses(stack: StackRunner, lab: Lab, tmp_path: Path, path: str) -> None:
    """A keep-alive stream of 400 responses (Content-Length, chunked with extensions
    and trailers, 1xx, 204, 304, headers up to 3 KB) ending with a close-delimited
    one, cut anywhere: the records are the reference parse's."""
    last = b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n" + bytes(range(256)) * 40
    data = http_stream(400, seed=7) + last
    bg = serve(stack, tmp_path, data, "http1", seed=3)
    res = reader(stack, "http-res", std=path == "standard")
    same_records(res.report or {}, http_dump(data))
    peer_report(bg)


def test_http_requests(stack: StackRunner, lab: Lab, tmp_path: Path) -> None:
    """300 pipelined requests (GET, POST with Content-Length and chunked bodies) sent
    into the stack with the HTTP request module; every request answered (-a)."""
    rng = random.Random(9)
    data = b"".join(
        http_request(rng.choice(["GET", "POST", "PUT", "DELETE"]), f"/r/{i}?q={i * 7}",
                     rng.randbytes(rng.choice([0, 5, 1460, 9000])), chunked=i % 3 == 0, seed=i)
        for i in range(300))
    (tmp_path / "req1").write_bytes(data)
    stack.client.put(tmp_path / "req1", "aa/req1")
    app = stack.start("aa_reader", "-l", str(LISTEN_PORT), "-m", "http-req", "-a", "-T", "55",
                      ready="listening on port")
    r = stack.client.run(f"python3 peers/aa_peer.py send {stack.stack_ip('client')} "
                         f"{LISTEN_PORT} aa/req1 --seed 4", timeout=60)
    res = app.wait(60).check_clean()
    want = http_dump(data, response=False)
    same_records(res.report or {}, want)
    sent = parse_json_line(r.stdout) or {}
    answer = len(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert sent.get("read_back") == answer * len(want.messages), sent


def test_nginx_keepalive(stack: StackRunner, lab: Lab) -> None:
    """Real responses: five pipelined GETs to nginx on one connection (the last one
    with Connection: close); the stack's module and the standard path see five 200s
    whose bodies have the files' SHA-256."""
    SHA.update(make_files(stack.server, WWW, FILES))
    start_nginx(stack, stack.server, WWW, NGINX_PORT, name="aanginx")
    names = ["aa_1k", "aa_1m", "aa_0", "aa_100k", "aa_1m"]
    reqs = [f"GET /{n} HTTP/1.1\\r\\nHost: server\\r\\n"
            + ("Connection: close\\r\\n" if i == len(names) - 1 else "") + "\\r\\n"
            for i, n in enumerate(names)]
    for std in (False, True):
        res = reader(stack, "http-res", *[a for q in reqs for a in ("-r", q)], std=std,
                     port=NGINX_PORT)
        rep = res.report or {}
        assert rep["responses"] == len(names) and rep["errors"] == [], rep
        for m, n in zip(rep["messages"], names, strict=True):
            assert m["line"][1] == "200"
            assert m.get("body_len", 0) == FILES[n], (n, m)
            if FILES[n]:
                assert m["body_sha256"] == SHA[n], n


def test_curl_requests(stack: StackRunner, lab: Lab, tmp_path: Path) -> None:
    """Real requests: curl POSTs a file (Content-Length), uploads it chunked, and GETs
    two URLs on the same keep-alive connection; every request is a record with the
    right method, target and body."""
    SHA.update(make_files(stack.client, WWW, {"aa_100k": FILES["aa_100k"]}))
    url = f"http://{stack.stack_ip('client')}:{LISTEN_PORT}"
    cmds = [f"curl -sS -m 20 -H 'Expect:' --data-binary @{WWW}/aa_100k {url}/post",
            f"curl -sS -m 20 -H 'Expect:' -H 'Transfer-Encoding: chunked' "
            f"--data-binary @{WWW}/aa_100k {url}/chunked",
            f"curl -sS -m 20 {url}/a {url}/b"]
    app = stack.start("aa_reader", "-l", str(LISTEN_PORT), "-k", "3", "-m", "http-req", "-a",
                      "-T", "50", ready="listening on port")
    for c in cmds:
        stack.client.run(c, timeout=30)
    res = app.wait(60).check_clean()
    rep = res.report or {}
    assert rep["errors"] == [] and rep["requests"] == 4, rep
    got = [(m["line"][0], m["line"][1], m.get("body_sha256")) for m in rep["messages"]]
    assert got == [("POST", "/post", SHA["aa_100k"]), ("POST", "/chunked", SHA["aa_100k"]),
                   ("GET", "/a", None), ("GET", "/b", None)], got


# ---------------------------------------------------------------------------- errors


def check_error_no_stall(res: StackResult, bg: Background, name: str, good: Dump) -> None:
    rep = res.report or {}
    assert [e["name"] for e in rep["errors"]] == [name], rep["errors"]
    assert rep["dump_sha256"] == good.sha256, "records before the error differ"
    # the stack kept acknowledging after the error record: everything was sent,
    # the peer's FIN arrived while we waited (-w), the stack closed
    assert rep["peer_closed"] is True, rep
    prep = peer_report(bg)["conns"][0]
    assert prep["all_sent"] and prep["client_closed"], prep


def test_csv_bad_line_no_stall(stack: StackRunner, lab: Lab, tmp_path: Path) -> None:
    """A line with a wrong field count after 1 MB, then 16 MB more: one error record
    (field_count) after exactly the good lines, and the connection does not stall."""
    good = csv_stream(10_000, 5, seed=8)
    data = good + b"a,b,c\n" + csv_stream(2_000, 5, seed=9) * 80
    bg = serve(stack, tmp_path, data, "csvbad")
    res = reader(stack, "csv", "-F", "5", "-w", "30")
    check_error_no_stall(res, bg, "field_count", csv_dump(good, 5))
    assert (res.report or {})["errors"][0]["offset"] >= len(good)


def test_http_huge_content_length_no_stall(stack: StackRunner, lab: Lab,
                                           tmp_path: Path) -> None:
    """A Content-Length beyond 2^63 after 50 good responses, then 8 MB more: one
    error record (bad_length), no stall."""
    good = http_stream(50, seed=10)
    bad = b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"
    data = good + bad + bytes(8 << 20)
    bg = serve(stack, tmp_path, data, "httpbad")
    res = reader(stack, "http-res", "-w", "30")
    check_error_no_stall(res, bg, "bad_length", http_dump(good))


@pytest.mark.parametrize("case", ["csv_partial_line", "csv_whole_lines", "http_until_close",
                                  "http_in_body"])
def test_reset_is_not_an_end(stack: StackRunner, lab: Lab, tmp_path: Path, case: str) -> None:
    """The server resets the connection (RST after all its bytes were acknowledged).
    A record cut by the reset is not a record: a CSV line without its end, or an
    HTTP body delimited by the close (RFC 9112 6.3: a close, not a reset, ends it),
    ends the stream with a `truncated` error record; a reset between records just
    ends the stream."""
    lines = csv_stream(3_000, 3, seed=17, quoted=False)
    if case.startswith("csv"):
        tail = b"" if case == "csv_whole_lines" else b"abc,def,gh"
        data, want, args = lines + tail, csv_dump(lines, 3), ["csv", "-F", "3"]
    else:
        good = http_stream(20, seed=18)
        head = (b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n" if case == "http_until_close"
                else b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        data, want, args = good + head + bytes(5000), http_dump(good), ["http-res"]
        want.item("R", [b"HTTP/1.1", b"200", b"OK"]
                  + ([b"Server", b"x"] if case == "http_until_close"
                     else [b"Content-Length", b"100000"]))
    bg = serve(stack, tmp_path, data, f"rst-{case}", rst=True)
    res = reader(stack, *args)
    rep = res.report or {}
    assert peer_report(bg)["conns"][0]["acked_then_reset"]
    names = [e["name"] for e in rep["errors"]]
    assert names == ([] if case == "csv_whole_lines" else ["truncated"]), rep["errors"]
    # the cut body's bytes came as BODY records, but it never ended: no 'B' item
    assert rep["dump_sha256"] == want.sha256, rep


# ---------------------------------------------------------------------------- faults


@pytest.mark.parametrize("kind,rcvbuf", [("csv", 0), ("csv_batch", 0), ("http", 0),
                                         ("http", 16384)])
def test_records_under_faults(stack: StackRunner, lab: Lab, tmp_path: Path, kind: str,
                              rcvbuf: int) -> None:
    """Loss, reordering and duplication on the server link (nodes leave the
    out-of-order queue into the parser): the records are identical; also with a
    16 KB receive buffer (zero windows while records are held)."""
    if kind.startswith("csv"):
        data = csv_stream(40_000, 4, seed=12)
        want, args = csv_dump(data, 4), ["csv", "-F", "4", *(["-g"] if kind == "csv_batch" else [])]
    else:
        data = http_stream(150, seed=13)
        want, args = http_dump(data), ["http-res"]
    bg = serve(stack, tmp_path, data, f"{kind}f", seed=6)
    extra = ["-b", str(rcvbuf)] if rcvbuf else []
    res = reader(stack, *args, *extra, overrides=faults(stack, 21), timeout=120)
    same_records(res.report or {}, want)
    assert res.counter("fault_dropped") > 0 and res.counter("ooo_segs") > 0
    peer_report(bg)


# ---------------------------------------------------------------------------- fig 4.2 modes


@pytest.mark.parametrize("mode", ["spin", "zcspin"])
def test_spin_modes(stack: StackRunner, lab: Lab, mode: str) -> None:
    """Figure 4.2's two placements of the dummy loop read every byte of a 20 MB
    stream (one record, or one fragment, per packet)."""
    n = 20 << 20
    stack.start_peer(stack.server, f"answer_server -l {ANSWER_PORT} --raw -n {n}",
                     name=f"ans-{mode}")
    stack.wait_listening(stack.server, ANSWER_PORT)
    res = reader(stack, mode, "-L", "200", port=ANSWER_PORT)
    rep = res.report or {}
    assert rep["bytes"] == n and rep["packets"] >= n // 1460, rep


# ---------------------------------------------------------------------------- ASan


def test_asan_records(stack_asan: StackRunner, peer_scripts: Lab, tmp_path: Path) -> None:
    """Under ASan/UBSan: a CSV stream, an HTTP stream under faults, and a malformed
    HTTP stream; every record checked, no sanitizer report, nothing leaked."""
    st = stack_asan
    data = csv_stream(8_000, 5, seed=14)
    bg = serve(st, tmp_path, data, "acsv")
    same_records(reader(st, "csv", "-F", "5", timeout=90).report or {}, csv_dump(data, 5))
    peer_report(bg)
    data = http_stream(60, seed=15)
    bg = serve(st, tmp_path, data, "ahttp")
    res = reader(st, "http-res", overrides=faults(st, 22), timeout=90)
    same_records(res.report or {}, http_dump(data))
    peer_report(bg)
    good = http_stream(10, seed=16)
    data = good + b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + bytes(1 << 20)
    bg = serve(st, tmp_path, data, "abad")
    res = reader(st, "http-res", "-w", "30", timeout=90)
    want = http_dump(good)  # and the head of the bad response, which is valid
    want.item("R", [b"HTTP/1.1", b"200", b"OK", b"Transfer-Encoding", b"chunked"])
    check_error_no_stall(res, bg, "bad_chunk", want)


@pytest.fixture(autouse=True, scope="module")
def _aa_dir(peer_scripts: Lab) -> Iterator[None]:
    for h in (peer_scripts.by_role("server"), peer_scripts.by_role("client")):
        h.run("mkdir -p aa", timeout=10)
    yield
