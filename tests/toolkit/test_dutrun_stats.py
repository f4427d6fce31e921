"""The exit invariants read from a stack's stats file (aatcp.dutrun.stats_problems):
every mbuf back, or on AF_XDP ports what the PMD's fill rings keep."""

from __future__ import annotations

from aatcp.dutrun import stats_problems


def stats(used: int, held: int = 0, slack: int = 0) -> dict[str, object]:
    return {"mbufs_in_use": used, "mbufs_port_held": held, "mbufs_port_slack": slack,
            "cores": [{"core": 0, "tcbs_in_use": 0}]}


def test_every_mbuf_back() -> None:
    assert stats_problems(stats(0)) == []
    assert stats_problems(stats(1)) == ["mbufs_in_use = 1 (must be 0)"]
    assert stats_problems({"mbufs_in_use": 0, "cores": []}) == []  # older stats files


def test_af_xdp_fill_rings_allowed_and_no_more() -> None:
    assert stats_problems(stats(8192 + 7, held=8192, slack=256)) == []
    assert stats_problems(stats(8192, held=8192, slack=256)) == []
    over = stats_problems(stats(8192 + 257, held=8192, slack=256))
    assert over and "7936..8448" in over[0]
    assert stats_problems(stats(8192 - 200, held=8192, slack=256)) == []
    assert stats_problems(stats(100, held=8192, slack=256))  # not what the rings hold
