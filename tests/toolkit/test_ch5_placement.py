"""How the proxy's flows were placed on its cores, for table5_2's data.csv
(experiments/_ch5.py port_placement) and its summary of steered packets
(experiments/table5_2.py): exact only where both dut ports are net_af_xdp on
links that hash like RSS (docs/architecture.md "Cores and flow placement")."""

from __future__ import annotations

import importlib
from typing import Any

import pandas as pd
import pytest

from aatcp import runner


class FakeCh5:
    """What port_placement reads of a Ch5Lab: the rendered stack config."""

    def __init__(self, conf: str) -> None:
        self.conf = conf

    def stack_conf(self) -> str:
        return self.conf

    def port_names(self) -> tuple[str, str]:
        return ("srv", "cli")


AF_PACKET = ("port.srv.device = net_af_packet0,iface=d-srv\n"
             "port.cli.device = net_af_packet1,iface=d-cli\n")
RSS = ("port.srv.device = net_af_xdp0,iface=d-srv\nport.srv.link_hash = toeplitz\n"
       "port.cli.device = net_af_xdp1,iface=d-cli\nport.cli.link_hash = toeplitz\n")


@pytest.fixture
def ch5() -> Any:
    runner.load_experiment("table5_2")
    return importlib.import_module("experiments._ch5")


def test_placement_per_lab(ch5: Any) -> None:
    assert ch5.port_placement(FakeCh5(AF_PACKET), 1) == "one core"
    assert ch5.port_placement(FakeCh5(AF_PACKET), 2) == "learned (af_packet)"
    assert ch5.port_placement(FakeCh5(RSS), 2) == "exact (af_xdp, toeplitz links)"
    # one port without the link hash: the backend's replies are learned there
    half = RSS.replace("port.srv.link_hash = toeplitz\n", "")
    assert ch5.port_placement(FakeCh5(half), 2) == "learned (af_xdp)"


def test_steered_summary(capsys: pytest.CaptureFixture[str]) -> None:
    t52 = importlib.import_module("experiments.table5_2")
    rows = [{"variant": "splice", "conns": 100, "cores": 2, "warmup": False,
             "steered": s, "steer_taken": 10, "rx_pkts": 1000, "placement": "learned (af_packet)"}
            for s in (300, 400)]
    rows.append({"variant": "splice", "conns": 100, "cores": 2, "warmup": True,
                 "steered": 1000, "steer_taken": 0, "rx_pkts": 1000,
                 "placement": "learned (af_packet)"})
    rows.append({"variant": "direct", "conns": 100, "cores": 2, "warmup": False})
    t52._print_steered(t52._group(pd.DataFrame(rows)))
    out = capsys.readouterr().out
    assert ("N=100, 2 cores: 35.0% of packets steered (700 of 2000, 20 taken by another "
            "core) learned (af_packet)") in out
