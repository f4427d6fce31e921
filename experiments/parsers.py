"""Parser micro-benchmark (issue 5, thesis ch. 4): our application-aware CSV
and HTTP modules vs Debian's libcsv and http-parser on the same bytes, in one
run (benchmarks/aa/bench_aa_parse.c, run on the dut host).

Ours goes through everything the stack does per packet: each 1460-byte
packet in its own mbuf enters the zero-copy stream, the module parses it in
the deliver hook, the application reads and frees the records (views, pools,
reference counts included). The baselines get the same bytes in the same
1460-byte chunks (and, for reference, as one whole buffer) with callbacks
that count records and add up a length. Workloads: CSV lines of 5 fields of
8 bytes; HTTP responses of 7 headers with bodies of 100 and 1000 bytes;
browser-like GET requests of 12 headers.

Each repetition runs the benchmark once (best of `reps` passes inside it) and
records, per workload, bytes/ns of ours and of the baseline and their ratio
(speedup > 1: ours faster). The benchmark's EAL arguments (-l 0) pin it to
CPU 0; nothing else of ours runs during it, but the machine is shared, so
the ratios (measured back to back in one process) are what to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.dutrun import require_json_line
from aatcp.plot import measured, plt, save
from aatcp.runner import Experiment, Point, Quick, RunContext

#: workload -> name of its baseline in the benchmark's JSON
WORKLOADS = {"csv_5x8": "libcsv", "http_res_7h_body100": "http_parser",
             "http_res_7h_body1000": "http_parser", "http_req_12h": "http_parser"}


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    r = ctx.host("dut").run(f"bench_aa_parse --mb {int(p['mb'])} --reps {int(p['reps'])}",
                            timeout=600)
    rep = require_json_line("{" + r.stdout.split("{", 1)[1].replace("\n", " "))
    out: dict[str, Any] = {}
    for w, base in WORKLOADS.items():
        res = rep[w]
        out[f"{w}_speedup"] = res["speedup_vs_baseline_same_chunks"]
        out[f"{w}_speedup_whole"] = res["speedup_vs_baseline_whole_buffer"]
        out[f"{w}_ours_Bpns"] = res["ours_mss_packets"]["bytes_per_ns"]
        out[f"{w}_base_Bpns"] = res[base]["bytes_per_ns"]
        out[f"{w}_ours_rps"] = res["ours_mss_packets"]["records_per_s"]
    return out


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    d = measured(df)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    names = list(WORKLOADS)
    for i, w in enumerate(names):
        for j, (col, label) in enumerate(((f"{w}_ours_Bpns", "ours (stack path, 1460 B packets)"),
                                          (f"{w}_base_Bpns", "libcsv / http-parser, same chunks"))):
            if col not in d or d[col].dropna().empty:
                continue
            vals = d[col].dropna()
            med = float(vals.median())
            ax.bar(i + (j - 0.5) * 0.38, med, width=0.36, color=f"C{j}",
                   yerr=[[med - vals.min()], [vals.max() - med]], capsize=3,
                   label=label if i == 0 else None)
        sp = f"{w}_speedup"
        if sp in d and not d[sp].dropna().empty:
            top = max(float(d[f"{w}_ours_Bpns"].max()), float(d[f"{w}_base_Bpns"].max()))
            ax.annotate(f"x{float(d[sp].median()):.2f}", (i, top), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize=9)
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_ylabel("bytes per ns (median, min-max bars)")
    ax.set_title(exp.title + "\n(xN: ours / baseline, same 1460-byte chunks)", fontsize=10)
    ax.margins(y=0.15)
    ax.grid(True, axis="y", alpha=0.3)
    if d.empty:
        ax.text(0.5, 0.5, "no successful runs", ha="center", transform=ax.transAxes)
    else:
        ax.legend(fontsize=8)
    save(fig, path)


CLAIMS = (
    Claim("-",
          "(no thesis figure: our CSV module vs libcsv on the same buffers)",
          Ratio("csv_5x8_speedup", None, between="metrics",
                label="bytes per ns, our CSV module / libcsv"),
          explanation="Both parse the same chunks in one thread; > 1: ours faster."),
    Claim("-",
          "(no thesis figure: our HTTP request module vs http-parser)",
          Ratio("http_req_12h_speedup", None, between="metrics",
                label="bytes per ns, our HTTP request module / http-parser"),
          explanation="Requests with 12 headers, the same chunks for both."),
)


EXPERIMENT = Experiment(
    name="parsers",
    claims=CLAIMS,
    minutes=(0.5, 0.5),
    title="Parsers: our CSV/HTTP modules vs libcsv/http-parser",
    description=__doc__ or "",
    roles=("dut",),
    variants=("bench",),
    sweep={"mb": [16]},
    fixed={"reps": 5},
    metrics=tuple(f"{w}_speedup" for w in WORKLOADS),
    repetitions=3,
    warmup=0,
    quick=Quick(sweep={"mb": [4]}, repetitions=1, warmup=0, fixed={"reps": 2}),
    run=run,
    plot=plot,
)
