"""The kubelet's back-off, as client-go's flowcontrol computes it."""

from __future__ import annotations

from tutor.sandbox.controllers.containers import Backoff


def test_it_doubles_from_10_seconds_to_5_minutes() -> None:
    backoff = Backoff(10.0, 300.0)
    seen = []
    at = 0.0
    for _ in range(8):
        backoff.next(at)
        seen.append(backoff.duration)
        at += backoff.duration
    assert seen == [10, 20, 40, 80, 160, 300, 300, 300]


def test_it_starts_over_after_ten_quiet_minutes() -> None:
    backoff = Backoff(10.0, 300.0)
    for at in (0.0, 5.0, 30.0):
        backoff.next(at)
    assert backoff.duration == 40
    assert backoff.holds(30.0 + 600)
    assert not backoff.holds(30.0 + 601)
    backoff.next(30.0 + 601)
    assert backoff.duration == 10


def test_a_pull_waits_out_the_back_off_of_its_last_failure() -> None:
    backoff = Backoff(10.0, 300.0)
    assert not backoff.active_since_update(0.0)
    backoff.next(100.0)
    assert backoff.active_since_update(109.9)
    assert not backoff.active_since_update(110.0)
