"""Figure 4.9 (thesis 4.3.3): a server endlessly sends HTTP answers of seven
headers plus a body of S bytes; throughput vs S for three receivers with the
same parsing:

  aa        our stack with the HTTP response module: heads and per-packet body
            records parsed in the network thread (`aa_reader -m http-res`,
            with the standard path's buffering as its receive buffer:
            experiments/_ch4.py RECORDS_RCVBUF);
  standard  our standard stack: mtcp_read() and the same parse in the
            application thread (`aa_reader -m http-res -S`, apps/aa_twin.c);
  linux     Linux sockets, the same parse in the application
            (apps/linux/aa_lreader on the dut's kernel address; the lab's
            veths have GRO off, as the thesis had it).

The server is apps/linux/answer_server (thesis: "a simple server that
indefinitely sends HTTP answers, each consisting of seven headers and a data
payload"). The application's work is the same in all three: count the
messages, add up the header field lengths and the body bytes. CPU placement:
see experiments/_ch4.py (receiver on core 0, server on core 1; Linux's kernel
receive work partly lands on core 1). Thesis: ours handles bodies above
1000 bytes at line rate and beats both. Reported: throughput per variant and
the ratios to the standard stack within the run, answers/s.
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

#: the readers with the lab's receive buffer (fig4_10, many connections)
READER_ARGS = {"aa": ["-m", "http-res"], "standard": ["-m", "http-res", "-S"],
               "linux": ["-m", "http-res"]}
#: one connection: the module with the standard path's buffering
VARIANT_ARGS = with_records_rcvbuf(READER_ARGS, ("aa",))
LABELS = {"aa": "our stack, HTTP module (records)",
          "standard": "our standard stack, same parse in the app",
          "linux": "Linux sockets, same parse in the app"}


def run(ctx: RunContext, p: Point) -> Mapping[str, Any]:
    body = int(p["body"])
    out = measure(ctx, f"-s {body} -c 8388608", VARIANT_ARGS, p.variant,
                  float(p["seconds"]), float(p["warmup_s"]))
    out["answers_per_s"] = out.get("responses", 0) / max(out.get("seconds", 0), 1e-9)
    return out


def plot(df: pd.DataFrame, path: Path, exp: Experiment) -> None:
    lines_with_ratio(df, path, exp.title, "body", "measured_gbps", list(exp.variants),
                     "standard", LABELS, "answer body size S (bytes)", "throughput (Gbit/s)")


CLAIMS = (
    Claim("Figure 4.9",
          "our stack handles answers of more than 1000 bytes at line rate and shows better "
          "results than the standard counterparts",
          Ratio("aa", "standard", metric="measured_gbps",
                label="throughput, HTTP module / standard stack + parse in the app"),
          direction="above", pick="median",
          explanation="With the same bytes allowed to wait on both paths (experiments/_ch4.py "
          "RECORDS_RCVBUF), the module is ahead at every size, most for small answers, where "
          "the application's parse is the larger share; from a few KB on both approach the "
          "limit of the AF_PACKET path, which the zero-copy module reaches first."),
    Claim("Figure 4.9",
          "... and better results than the Linux TCP stack with the same parse",
          Ratio("aa", "linux", metric="measured_gbps",
                label="throughput, HTTP module / Linux sockets + parse in the app"),
          direction="above", pick="median",
          explanation="On veth, Linux's own TCP receive is faster than DPDK's AF_PACKET "
          "path (see `bulk`): full runs measured module / Linux 0.52-0.64."),
)


EXPERIMENT = Experiment(
    name="fig4_9",
    claims=CLAIMS,
    minutes=(5, 1),
    title="Fig. 4.9: HTTP answers (7 headers + S bytes): HTTP module vs parse in the app",
    description=__doc__ or "",
    roles=("server", "dut"),
    variants=("aa", "standard", "linux"),
    sweep={"body": [10, 100, 300, 1000, 3000, 10000, 30000, 100000]},
    fixed={"seconds": 3.0, "warmup_s": 0.5},
    metrics=("measured_gbps",),
    repetitions=3,
    warmup=0,
    quick=Quick(sweep={"body": [100, 10000]}, repetitions=1, warmup=0,
                fixed={"seconds": 1.0, "warmup_s": 0.2}),
    run=run,
    plot=plot,
    setup=setup,
    x="body",
    logx=True,
)
