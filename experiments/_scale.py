"""The thesis' scalability figures 4.6 (CSV) and 4.10 (HTTP answers): the
record downloads of figures 4.5 / 4.9 (experiments/_ch4.py) with several
connections at once, each connection's socket on its own core as the thesis
had it ("each socket was affinitised with its own CPU").

apps/aa_reader opens `conns` connections to one answer_server and spreads
them over min(conns, MAX_CORES) network threads, mTCP style: one thread and
context per core, connection j on core j % cores, each thread pinned to its
core and polling its connections together. The stack's port towards the
server gets a queue pair per core (net_af_packet `qpairs`, the kernel's
fanout hash puts each flow on one queue; docs/architecture.md "Cores and
flow placement"); `steered_frac` says how many packets still crossed cores.

CPU placement on the 2-core lab machine: the reader takes cores 0..cores-1;
answer_server (one thread per connection) is pinned to core 1 (PEERS_CPU),
so from 2 connections on the Linux sender and the veths' softirq work share
core 1 with our second network thread. More connections than cores share
the cores. The thesis had one core per connection and a 10 Gbit/s NIC.

Reported per row: throughput (the sum of the connections' own throughputs
after the warm-up), `scaling` (this row's throughput / the same variant's
with one connection on one core, same size and repetition), the cores that
served connections, and the steered fraction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from aatcp.errors import ToolkitError
from aatcp.plot import plt, save, summarize
from aatcp.runner import Experiment, Point, RunContext
from experiments._ch4 import measure

#: the cores of the local lab's machines
MAX_CORES = 2
PLACEMENT = (f"connection j on core j % min(N, {MAX_CORES}); 2-core machine: the Linux "
             "sender shares core 1")


def cores_for(conns: int, max_cores: int = MAX_CORES) -> int:
    return min(conns, max_cores)


def run_scaled(ctx: RunContext, p: Point, size_key: str, server_args: str,
               variant_args: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """One point: `p["conns"]` connections on cores_for() cores; adds `scaling`
    against the 1-connection run of the same variant, size and repetition
    (the sweep runs conns = 1 first for every size). A `max_cores` parameter
    (fixed or swept) caps the cores, e.g. 1 to see what more connections alone
    give."""
    conns = int(p["conns"])
    cores = cores_for(conns, int(p.params.get("max_cores", MAX_CORES)))
    out = measure(ctx, server_args, variant_args, p.variant, float(p["seconds"]),
                  float(p["warmup_s"]), conns=conns, cores=cores)
    per_core = out.pop("per_core", None) or [{"conns": conns, "measured_gbps":
                                              out["measured_gbps"]}]
    served = [c for c in per_core if int(c.get("conns", 0)) > 0
              and float(c.get("measured_gbps", 0)) > 0]
    if len(served) != cores:
        raise ToolkitError(f"{conns} connections on {cores} cores, but only {len(served)} "
                           f"cores served data: {per_core}")
    out["cores"] = cores
    out["cores_served"] = len(served)
    key = (p.variant, p[size_key], p.params.get("max_cores"), p.repetition, p.warmup)
    base: dict[Any, float] = ctx.state.setdefault("one_conn", {})
    if conns == 1:
        base[key] = float(out["measured_gbps"])
    one = base.get(key)
    out["scaling"] = out["measured_gbps"] / one if one else None
    return out


def plot_scaled(df: pd.DataFrame, path: Path, exp: Experiment, size_key: str,
                size_label: str, labels: Mapping[str, str]) -> None:
    """Throughput vs connections per variant and size (aa solid, standard
    dashed), above the ratio aa / standard per size; `size_label` formats a
    size ("{} B fields")."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 7.5), sharex=True,
                                      gridspec_kw={"height_ratios": [2, 1]})
    styles = {"aa": "-", "standard": "--"}
    sizes = sorted(df[size_key].dropna().unique()) if size_key in df.columns else []
    colors = {s: f"C{i}" for i, s in enumerate(sizes)}
    meds: dict[tuple[str, Any], pd.Series] = {}
    for v in exp.variants:
        for s in sizes:
            summ = summarize(df[df[size_key] == s], "conns", "measured_gbps")
            part = summ[summ["variant"] == v].sort_values("conns")
            if part.empty:
                continue
            meds[(v, s)] = part.set_index("conns")["median"]
            yerr = [part["median"] - part["min"], part["max"] - part["median"]]
            top.errorbar(part["conns"], part["median"], yerr=yerr, marker="o", capsize=3,
                         ls=styles.get(v, ":"), color=colors[s],
                         label=f"{labels.get(v, v)}, {size_label.format(s)}")
    top.set_ylabel("throughput, all connections (Gbit/s)")
    top.set_title(f"{exp.title}\n{PLACEMENT}", fontsize=9)
    top.grid(True, alpha=0.3)
    if meds:
        top.legend(fontsize=7)
    else:
        top.text(0.5, 0.5, "no successful runs", ha="center", transform=top.transAxes)
    for s in sizes:
        if ("aa", s) in meds and ("standard", s) in meds:
            r = (meds[("aa", s)] / meds[("standard", s)]).dropna()
            bottom.plot(r.index, r.values, marker="o", color=colors[s],
                        label=size_label.format(s))
    bottom.axhline(1.0, color="grey", lw=1)
    bottom.set_ylabel("aa / standard")
    bottom.set_xlabel(f"parallel connections (cores = min(connections, {MAX_CORES}))")
    bottom.grid(True, alpha=0.3)
    if "conns" in df.columns and df["conns"].notna().any():
        bottom.set_xticks(sorted(int(c) for c in df["conns"].dropna().unique()))
    if bottom.get_legend_handles_labels()[0]:
        bottom.legend(fontsize=7)
    save(fig, path)
