"""Figure 5.6 (thesis 5.2.2): in-the-middle HTTP parsing throughput vs the size
of the answers.

apps/linux/answer_server on the server endlessly sends HTTP/1.1 answers of
seven headers and a body of `body` bytes (one chunk generated in RAM, large
writes); the client (lsink, a netcat-like sink) reads them directly, through
the plain splice, and through the splice with the HTTP response module
(proxy -H, which counts every answer). The proxy on core 0, the endpoints on
core 1. Thesis: up to 9.3 of 10 Gbit/s (93%) once answers are large enough
(about one answer per 2000 bytes saturates the parser). Reported as ratios
(HTTP-aware / plain splice, HTTP-aware / direct); `answers_per_s` is what the
parser handled.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.runner import Experiment, Point, Quick, RunContext
from experiments._ch5 import ANSWER_PORT, Ch5Lab, lines_with_ratio, lsink, middlebox, through

LABELS = {"direct": "direct (Linux-Linux)", "splice": "proxy, plain splice",
          "splice_http": "proxy, splice + HTTP parsing"}


def setup(ctx: RunContext) -> None:
    ctx.state["ch5"] = Ch5Lab(ctx.lab)


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    ch5: Ch5Lab = ctx.state["ch5"]
    body = int(p["body"])
    srv = ch5.start_answer_server(f"-s {body} -c 8388608", port=ANSWER_PORT, cpu=1,
                                  name=f"answer{body}")
    try:
        info = srv.host.run(f"cat {srv.out}", timeout=10).stdout
        ip, port = through(ch5, p.variant)
        with middlebox(ch5, p.variant) as px:
            out = lsink(ch5, ip, port, p["seconds"], p["warmup_s"])
    finally:
        srv.stop()
    rec = int(next(ln for ln in info.splitlines() if "record_bytes" in ln)
              .split('"record_bytes": ')[1].split(",")[0])
    values: dict[str, Any] = {"gbps": out["gbps"], "answer_bytes": rec,
                              "answers_per_s": out["bytes"] / rec / out["seconds"]}
    if px is not None and px.result is not None:
        rep = px.result.report
        values.update(parsed_answers=rep.get("responses", 0), parse_errors=rep.get("errors", 0),
                      mbufs_in_use=px.result.stats.get("mbufs_in_use"))
    return values


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    lines_with_ratio(df, path, exp.title, "body", "gbps", list(exp.variants), "splice", LABELS,
                     "answer body size (bytes)", "throughput (Gbit/s)")


CLAIMS = (
    Claim("Figure 5.6",
          "the HTTP-inspecting middlebox reaches 9.3 Gbit/s (an overhead of 7% over direct) "
          "provided that the answers are large enough",
          Ratio("splice_http", "direct", metric="gbps",
                label="HTTP-inspecting splice / direct, best answer size"),
          value=0.93, pick="max",
          explanation="The splice path on the local lab runs well below direct Linux-Linux "
          "(table 5.1), so this ratio is capped there; the inspection's own cost is "
          "HTTP / plain splice in the figure's lower panel."),
)


EXPERIMENT = Experiment(
    name="fig5_6",
    claims=CLAIMS,
    minutes=(6.5, 1),
    title="Fig. 5.6: in-the-middle HTTP parsing vs answer size",
    description=__doc__ or "",
    roles=("server", "dut", "client"),
    variants=("direct", "splice", "splice_http"),
    sweep={"body": [100, 500, 1000, 2000, 5000, 20000, 100000]},
    fixed={"seconds": 4.0, "warmup_s": 1.0},
    metrics=("gbps",),
    repetitions=3,
    warmup=0,
    quick=Quick(sweep={"body": [200, 20000]}, repetitions=1, warmup=0,
                fixed={"seconds": 1.5, "warmup_s": 0.5}),
    run=run,
    plot=plot,
    setup=setup,
    x="body",
    logx=True,
)
