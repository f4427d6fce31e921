"""The checks every e2e stack run goes through (stackrun.StackResult) catch what
they must: leaked mbufs or TCBs, a missing stats file, a wrong exit status, a
sanitizer report. No lab needed."""

from __future__ import annotations

from typing import Any

import pytest
from stackrun import StackResult, parse_json_line, sanitizer_report

CLEAN: dict[str, Any] = {"mbufs_total": 100, "mbufs_in_use": 0,
                         "cores": [{"core": 0, "tcbs_in_use": 0, "retransmits": 3,
                                    "drops": {"tcp_csum": 2}},
                                   {"core": 1, "tcbs_in_use": 0, "retransmits": 4,
                                    "drops": {"tcp_csum": 1}}]}


def result(stats: dict[str, Any], rc: int | None = 0, stderr: str = "") -> StackResult:
    return StackResult("sink1", "sink -l 1", rc, '{"bytes": 5}\n', stderr, stats,
                       parse_json_line('x\n{"bytes": 5}\n'), 1.0)


def test_clean_run_passes() -> None:
    r = result(CLEAN).check_clean()
    assert r.checked and r.report == {"bytes": 5}
    assert r.counter("retransmits") == 7 and r.drops("tcp_csum") == 3


@pytest.mark.parametrize("stats,rc,stderr,what", [
    ({**CLEAN, "mbufs_in_use": 3}, 0, "", "mbufs_in_use = 3"),
    ({**CLEAN, "cores": [{"core": 0, "tcbs_in_use": 2}]}, 0, "", "tcbs_in_use = 2"),
    ({}, 0, "", "no stats file"),
    (CLEAN, 1, "", "exit status 1"),
    (CLEAN, None, "", "exit status None"),
    (CLEAN, 0, "==1==ERROR: AddressSanitizer: heap-use-after-free on address",
     "sanitizer report"),
    (CLEAN, 0, "==1==ERROR: LeakSanitizer: detected memory leaks", "sanitizer report"),
    (CLEAN, 0, "../src/tcp/input.c:12:3: runtime error: shift exponent 40",
     "sanitizer report"),
])
def test_problems_are_caught(stats: dict[str, Any], rc: int | None, stderr: str,
                             what: str) -> None:
    with pytest.raises(AssertionError, match=what):
        result(stats, rc, stderr).check_clean()


def test_expected_exit_status() -> None:
    result(CLEAN, rc=2).check_clean(rc=2)
    result(CLEAN, rc=None).check_clean(rc=None)  # any


def test_sanitizer_report_none_on_normal_stderr() -> None:
    assert sanitizer_report("sink: listening on port 5001\nsink: read: reset\n") is None
