"""Parser micro-benchmark (thesis ch. 4): our application-aware CSV and HTTP
modules vs Debian's libcsv and http-parser and Node.js' llhttp (built from
Debian's node-llhttp sources) on the same bytes, in one run
(benchmarks/aa/bench_aa_parse.c, run on the dut host).

Ours goes through everything the stack does per packet: each 1460-byte
packet in its own mbuf enters the zero-copy stream, the module parses it in
the deliver hook, the application reads and frees the records (views, pools,
reference counts included). The peers get the same bytes in the same
1460-byte chunks, read where ours reads them: each packet's payload in its
mbuf (the headline columns); for reference, also the same chunks of one
contiguous buffer (`_contiguous`, the headline before) and the whole buffer
at once (`_whole`), with callbacks that count records and add up a length.
Before each timed run, every side's, the benchmark reads a 64 MB scratch
buffer, so that all sides start from the same cache state. Workloads: CSV lines of 5 fields of
8 bytes; HTTP responses of 7 headers with bodies of 100 and 1000 bytes;
browser-like GET requests of 12 headers. The modules that the format compiler
(formats/csv.fmt, formats/http_response.fmt) and the macro generator
(src/aa/http_gen_def.h) make run the same path beside the hand-written ones
(columns <workload>_ours_generated_*, _ours_macro_*).

Each repetition runs the benchmark once (best of `reps` passes inside it,
thread CPU time) and records, per workload and side, bytes/ns, ns per record
and bytes per TSC cycle, and our speed-up over each peer (> 1: ours faster).
The benchmark's EAL arguments (-l 0) pin it to CPU 0; the machine is shared,
so the ratios (measured back to back in one process) are what to read.
Where the cycles go: docs/aa-performance.md.
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

#: workload -> its peers in the benchmark's JSON (same 1460-byte chunks)
WORKLOADS: dict[str, tuple[str, ...]] = {
    "csv_5x8": ("libcsv",),
    "http_res_7h_body100": ("http_parser", "llhttp"),
    "http_res_7h_body1000": ("http_parser", "llhttp"),
    "http_req_12h": ("http_parser", "llhttp"),
}

#: our modules made by the generators, run beside the hand-written ones: the format
#: compiler's (formats/*.fmt) and the macro generator's (generate_aa_api.h);
#: <w>_<gen>_over_ours is their time over the hand-written module's (1.1: 10% slower)
GENERATED = ("ours_generated", "ours_macro")
#: the CSV module with AA_CSV_P_BATCH (a packet's whole lines in one record):
#: <w>_ours_batch_* and <w>_batch_speedup_<peer>
BATCH = "ours_batch"


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    r = ctx.host("dut").run(f"bench_aa_parse --mb {int(p['mb'])} --reps {int(p['reps'])}",
                            timeout=600)
    rep = require_json_line("{" + r.stdout.split("{", 1)[1].replace("\n", " "))
    out: dict[str, Any] = {}
    for w, peers in WORKLOADS.items():
        res = rep[w]
        out[f"{w}_ours_Bpns"] = res["ours"]["bytes_per_ns"]
        out[f"{w}_ours_ns_per_rec"] = res["ours"]["ns_per_record"]
        out[f"{w}_ours_B_per_cycle"] = res["ours"]["bytes_per_cycle"]
        out[f"{w}_ours_rps"] = res["ours"]["records_per_s"]
        for gen in GENERATED:
            if gen in res:  # the generated modules: CSV and HTTP responses
                out[f"{w}_{gen}_ns_per_rec"] = res[gen]["ns_per_record"]
                out[f"{w}_{gen}_over_ours"] = res[f"speedup_vs_{gen}"]
        if BATCH in res:
            out[f"{w}_{BATCH}_Bpns"] = res[BATCH]["bytes_per_ns"]
            out[f"{w}_{BATCH}_ns_per_rec"] = res[BATCH]["ns_per_record"]
        for i, peer in enumerate(peers):
            if peer not in res:  # llhttp missing from the build
                continue
            if BATCH in res:
                out[f"{w}_batch_speedup_{peer}"] = (res[f"speedup_vs_{peer}"]
                                                    / res[f"speedup_vs_{BATCH}"])
            out[f"{w}_{peer}_Bpns"] = res[peer]["bytes_per_ns"]
            out[f"{w}_{peer}_ns_per_rec"] = res[peer]["ns_per_record"]
            out[f"{w}_speedup_{peer}"] = res[f"speedup_vs_{peer}"]
            out[f"{w}_speedup_{peer}_whole"] = res[f"speedup_vs_{peer}_whole_buffer"]
            if f"speedup_vs_{peer}_contiguous" in res:  # since the payload-fed peers
                out[f"{w}_speedup_{peer}_contiguous"] = res[f"speedup_vs_{peer}_contiguous"]
            if i == 0:  # the first peer: the columns older results have
                out[f"{w}_speedup"] = res[f"speedup_vs_{peer}"]
                out[f"{w}_base_Bpns"] = res[peer]["bytes_per_ns"]
    return out


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    d = measured(df)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    names = list(WORKLOADS)
    sides = (("ours", "ours (stack path, 1460 B packets)"),
             (BATCH, "ours, a packet's lines in one record"),
             ("libcsv", "libcsv, same packets"),
             ("http_parser", "http-parser, same packets"),
             ("llhttp", "llhttp, same packets"))
    width = 0.26
    labelled: set[str] = set()
    for i, w in enumerate(names):
        present = [(k, lab) for k, lab in sides if f"{w}_{k}_Bpns" in d
                   and not d[f"{w}_{k}_Bpns"].dropna().empty]
        for j, (k, label) in enumerate(present):
            vals = d[f"{w}_{k}_Bpns"].dropna()
            med = float(vals.median())
            ax.bar(i + (j - (len(present) - 1) / 2) * width, med, width=width * 0.95,
                   color=f"C{[s for s, _ in sides].index(k)}",
                   yerr=[[med - vals.min()], [vals.max() - med]], capsize=3,
                   label=label if k not in labelled else None)
            labelled.add(k)
        ratios = [f"x{float(d[f'{w}_speedup_{k}'].median()):.2f} {k.replace('_', '-')}"
                  for k in WORKLOADS[w] if f"{w}_speedup_{k}" in d
                  and not d[f"{w}_speedup_{k}"].dropna().empty]
        if ratios:
            top = max(float(d[f"{w}_{k}_Bpns"].max()) for k, _ in present)
            ax.annotate("\n".join(ratios), (i, top), textcoords="offset points",
                        xytext=(0, 8), ha="center", fontsize=7)
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_ylabel("bytes per ns (median, min-max bars)")
    ax.set_title(exp.title + "\n(xN: ours / peer, same 1460-byte packets; > 1: ours faster)",
                 fontsize=10)
    ax.margins(y=0.3)
    ax.grid(True, axis="y", alpha=0.3)
    if d.empty:
        ax.text(0.5, 0.5, "no successful runs", ha="center", transform=ax.transAxes)
    else:
        ax.legend(fontsize=8, loc="upper left")
    save(fig, path)


CLAIMS = (
    Claim("-",
          "(no thesis figure: our CSV module vs libcsv on the same buffers)",
          Ratio("csv_5x8_speedup", None, between="metrics",
                label="bytes per ns, our CSV module / libcsv"),
          explanation="Both parse the same chunks in one thread; > 1: ours faster."),
    Claim("-",
          "(no thesis figure: our CSV module, a packet's lines in one record, vs libcsv)",
          Ratio("csv_5x8_batch_speedup_libcsv", None, between="metrics",
                label="bytes per ns, our CSV module with AA_CSV_P_BATCH / libcsv"),
          explanation="The same chunks; the application reads each line's first field "
          "from the batch record."),
    Claim("-",
          "(no thesis figure: our HTTP request module vs http-parser)",
          Ratio("http_req_12h_speedup", None, between="metrics",
                label="bytes per ns, our HTTP request module / http-parser"),
          explanation="Requests with 12 headers, the same chunks for both."),
    Claim("-",
          "(no thesis figure: our HTTP response module vs http-parser)",
          Ratio("http_res_7h_body100_speedup_http_parser", None, between="metrics",
                label="bytes per ns, our HTTP response module / http-parser (100 B bodies)"),
          explanation="Responses with 7 headers and 100-byte bodies, the same chunks for both."),
    Claim("-",
          "(no thesis figure: our HTTP response module vs llhttp)",
          Ratio("http_res_7h_body100_speedup_llhttp", None, between="metrics",
                label="bytes per ns, our HTTP response module / llhttp (100 B bodies)"),
          explanation="llhttp (Node.js' parser) built from Debian's node-llhttp sources."),
)


EXPERIMENT = Experiment(
    name="parsers",
    claims=CLAIMS,
    minutes=(0.5, 0.5),
    title="Parsers: our CSV/HTTP modules vs libcsv, http-parser, llhttp",
    description=__doc__ or "",
    roles=("dut",),
    variants=("bench",),
    sweep={"mb": [16]},
    fixed={"reps": 7},
    metrics=tuple(f"{w}_speedup_{peer}" for w, peers in WORKLOADS.items() for peer in peers),
    repetitions=3,
    warmup=0,
    quick=Quick(sweep={"mb": [4]}, repetitions=1, warmup=0, fixed={"reps": 2}),
    run=run,
    plot=plot,
)
