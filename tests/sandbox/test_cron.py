"""CronJob schedules read as the CronJob controller reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tutor.sandbox import cron


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def after(schedule: str, when: str, zone: str | None = None) -> str:
    nxt = cron.parse(schedule, zone).next_after(at(when))
    assert nxt is not None
    return datetime.fromtimestamp(nxt, UTC).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("schedule", "when", "expected"),
    [
        ("*/5 * * * *", "2025-01-01T10:02:00", "2025-01-01 10:05"),
        ("*/5 * * * *", "2025-01-01T10:05:00", "2025-01-01 10:10"),
        ("0 9 * * mon-fri", "2025-01-03T10:00:00", "2025-01-06 09:00"),  # Friday after nine: Monday
        ("30 2 1 * *", "2025-01-15T00:00:00", "2025-02-01 02:30"),
        ("0 0 * * 7", "2025-01-01T00:00:00", "2025-01-05 00:00"),  # 7 is Sunday too
        ("0 12 13 * fri", "2025-01-01T00:00:00", "2025-01-03 12:00"),  # day 13 OR a Friday
        ("15,45 8-10/2 * jan,feb *", "2025-01-01T08:20:00", "2025-01-01 08:45"),
        ("@hourly", "2025-01-01T10:59:59", "2025-01-01 11:00"),
        ("@daily", "2025-01-01T10:00:00", "2025-01-02 00:00"),
        ("@monthly", "2025-01-31T23:00:00", "2025-02-01 00:00"),
    ],
)
def test_next_run(schedule: str, when: str, expected: str) -> None:
    assert after(schedule, when) == expected


def test_a_time_zone_moves_the_run() -> None:
    assert after("0 9 * * *", "2025-01-01T00:00:00", "Europe/Paris") == "2025-01-01 08:00"


def test_a_date_that_never_comes() -> None:
    assert cron.parse("0 0 30 2 *").next_after(at("2025-01-01T00:00:00")) is None


def test_missed_runs_count_and_only_the_newest_is_kept() -> None:
    latest, missed = cron.parse("* * * * *").most_recent(at("2025-01-01T10:00:30"), at("2025-01-01T11:00:30"))
    assert missed == 60
    assert latest == at("2025-01-01T11:00:00")


@pytest.mark.parametrize(
    ("schedule", "error"),
    [
        ("* * *", "expected exactly 5 fields, found 3: * * *"),
        ("61 * * * *", "above maximum (59)"),
        ("* * * * funday", "failed to parse int from funday"),
        ("*/0 * * * *", "failed to parse int from 0"),
    ],
)
def test_schedules_that_do_not_parse(schedule: str, error: str) -> None:
    with pytest.raises(cron.ScheduleError, match=error.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        cron.parse(schedule)
