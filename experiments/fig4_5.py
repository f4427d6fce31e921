"""Figure 4.5 (thesis 4.2.3): CSV download, parsing in the stack (the
application-aware CSV module) vs the standard stack with the same parsing
in the application, sweeping the field size.

A Linux server (answer_server --csv F --fields 4: lines of four fields of
exactly F bytes, from one chunk in RAM, large writes; thesis: "arbitrarily
long CSV files whose fields have a predetermined length") sends to
apps/aa_reader on our stack in `dut`:

  aa_batch  the CSV module parses every packet in the network thread; the
            whole lines of a packet come to the application as one record
            (AA_CSV_P_BATCH, `aa_reader -m csv -F 4 -g`), which reads every
            field of every line and frees the record;
  aa        the same with one record per line (`aa_reader -m csv -F 4`);
  standard  mtcp_read() and the same CSV parse in the application thread
            (`aa_reader -m csv -F 4 -S`, apps/aa_twin.c).

In both the application's work per line is the same: count it and add up
its field lengths. Shorter fields mean more lines per packet: more parsing
per byte. Thesis: the in-stack parsing is faster. CPU placement: see
experiments/_ch4.py (reader on core 0 with the polling network thread,
server on core 1). Reported: throughput of both and their ratio
(aa_batch / standard, aa / standard) per field size, within the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp.claims import Claim, Ratio
from aatcp.runner import Experiment, Point, Quick, RunContext
from experiments._ch4 import measure, setup, with_records_rcvbuf
from experiments._ch5 import lines_with_ratio

FIELDS = 4
#: the readers with the lab's receive buffer (fig4_6, many connections)
READER_ARGS = {"aa_batch": ["-m", "csv", "-F", str(FIELDS), "-g"],
               "aa": ["-m", "csv", "-F", str(FIELDS)],
               "standard": ["-m", "csv", "-F", str(FIELDS), "-S"]}
#: one connection: the record variants with the standard path's buffering
VARIANT_ARGS = with_records_rcvbuf(READER_ARGS, ("aa_batch", "aa"))
LABELS = {"aa_batch": "in-stack CSV parsing (a record per packet's lines)",
          "aa": "in-stack CSV parsing (a record per line)",
          "standard": "standard stack, same parsing in the app"}


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    field = int(p["field"])
    out = measure(ctx, f"--csv {field} --fields {FIELDS}", VARIANT_ARGS, p.variant,
                  float(p["seconds"]), float(p["warmup_s"]))
    out["lines_per_s"] = out.get("csv_lines", 0) / max(out.get("seconds", 0), 1e-9)
    return out


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    lines_with_ratio(df, path, exp.title, "field", "measured_gbps", list(exp.variants),
                     "standard", LABELS, f"CSV field size (bytes; {FIELDS} fields per line)",
                     "throughput (Gbit/s)")


SAYS = ("there is indeed a performance benefit to use such an approach (CSV records parsed "
        "in the stack vs the standard API and the same parse in the application)")

CLAIMS = (
    Claim("Figure 4.5", SAYS,
          Ratio("aa_batch", "standard", metric="measured_gbps",
                label="CSV throughput, in-stack parsing (lines of a packet in one record) / "
                "parse in the app"),
          direction="above", pick="median",
          explanation="The stack parses each packet's lines in one pass and hands them over "
          "as one record (AA_CSV_P_BATCH): building, publishing, reading and freeing a "
          "record is paid once per packet, not per line (docs/aa-performance.md)."),
    Claim("Figure 4.5", SAYS,
          Ratio("aa", "standard", metric="measured_gbps",
                label="CSV throughput, in-stack parsing (a record per line) / parse in the app"),
          direction="above", pick="median",
          explanation="With a record per line, the per-record work on both threads (a record "
          "and its fields built, published, read and freed per line) costs more than a "
          "tight parse loop in the application, most of all for small fields, where lines "
          "are many per packet; AA_CSV_P_BATCH (the claim above) pays it per packet."),
)


EXPERIMENT = Experiment(
    name="fig4_5",
    claims=CLAIMS,
    minutes=(6.5, 0.75),
    title="Fig. 4.5: CSV download, in-stack parsing vs parsing in the app",
    description=__doc__ or "",
    roles=("server", "dut"),
    variants=("aa_batch", "aa", "standard"),
    sweep={"field": [1, 2, 4, 8, 16, 32, 64, 128, 256]},
    fixed={"seconds": 3.0, "warmup_s": 0.5},
    metrics=("measured_gbps",),
    repetitions=3,
    warmup=0,
    quick=Quick(sweep={"field": [1, 4, 64]}, repetitions=1, warmup=0,
                fixed={"seconds": 1.0, "warmup_s": 0.2}),
    run=run,
    plot=plot,
    setup=setup,
    x="field",
    logx=True,
)
