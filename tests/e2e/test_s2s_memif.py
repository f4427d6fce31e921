"""Stack to stack over shared memory (issue 14): `source` and `sink` (and a
splicing `proxy` between them), each a DPDK process of its own on the lab's
dut, joined by `net_memif` ports (no kernel in the data path, no namespaces
needed: the memif sockets are files in the dut's run/ folder). Each stream
is hashed (SHA-256) at both ends and must match; every process must exit 0
with mbufs_in_use == 0 and tcbs_in_use == 0 (StackResult.check_clean).

The topology and config keys are experiments/s2s.py's (the benchmark of the
same paths). Sizes are small: the module takes about 15 s on the 2-core lab
machine (ASan: its own lab deploy, once per session); the processes are
placed as the experiment places them.
"""

from __future__ import annotations

import pytest
from stackrun import StackRunner

from experiments.s2s import RUN_KEYS, Topology, render

pytestmark = [pytest.mark.lab, pytest.mark.build]

PORT = 5800
BUF = 256 * 1024


def _conf(stack: StackRunner, topo: Topology, program: str, cpu: int) -> str:
    run_dir = stack.dut.workdir / "run"
    return render({**topo.keys(program, run_dir), **RUN_KEYS, "rcvbuf": BUF, "sndbuf": BUF,
                   "core_mask": f"{1 << cpu:x}"})


def transfer(stack: StackRunner, variant: str, nbytes: int) -> None:
    """source -> sink (copy or zero-copy read), or through the splice proxy:
    hashes equal at both ends, every process clean at exit."""
    topo = Topology(proxy=variant == "splice")
    stack.dut.run("rm -f run/s2s-link*.sock", timeout=10)
    sink_cpu = 0 if topo.proxy else 1
    sink_args = ["-l", str(PORT)] + (["-z"] if variant == "zc" else [])
    sink = stack.start("sink", *sink_args, conf_text=_conf(stack, topo, "sink", sink_cpu),
                       cpu=str(sink_cpu), ready="listening on port")
    proxy = None
    if topo.proxy:
        proxy = stack.start("proxy", "-l", str(PORT), "-m", "splice", "-b",
                            f"{topo.sink_ip}:{PORT}", "-n", "1",
                            conf_text=_conf(stack, topo, "proxy", 1), cpu="1",
                            ready="listening on port")
    src = stack.start("source", "-c", f"{topo.source_target}:{PORT}", "-n", str(nbytes),
                      "-s", "14", conf_text=_conf(stack, topo, "source", 0), cpu="0")
    sent = src.wait(60).check_clean()
    got = sink.wait(30).check_clean()
    assert sent.report is not None and got.report is not None
    assert sent.report["bytes"] == got.report["bytes"] == nbytes
    assert len(got.report["sha256"]) == 1
    assert got.report["sha256"] == sent.report["sha256"], "the stream changed on the way"
    assert sent.counter("tcp_tx_data_segs") >= nbytes // 1448
    if proxy is not None:
        px = proxy.wait(30).check_clean()
        assert px.report is not None and px.report["ended"] == 1 and px.report["errors"] == 0
        assert px.counter("splice_segs") >= nbytes // 1448, "the proxy did not splice"
        # a lossless link and a sender inside the offered window: a drop for
        # lack of room means the splice took back window it had offered
        # (RFC 9293 3.8.6; its pacing, thesis 5.1.2, only shrinks new offers)
        assert px.drops("tcp_rcv_full") == 0, px.drops("tcp_rcv_full")


@pytest.mark.parametrize("variant", ["copy", "zc", "splice"])
def test_s2s_memif_transfer(stack: StackRunner, variant: str) -> None:
    """Copy and zero-copy read over one memif link, splicing over two."""
    transfer(stack, variant, 16 << 20)


def test_s2s_memif_splice_asan(stack_asan: StackRunner) -> None:
    """The three programs under ASan/UBSan (build-asan/): no report, no leak."""
    transfer(stack_asan, "splice", 4 << 20)
