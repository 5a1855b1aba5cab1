"""CronJob schedules: the standard five fields, read as the CronJob controller reads them.

``minute hour day-of-month month day-of-week`` with ``*``, ``a-b``, ``*/n``, ``a-b/n``,
lists, month and weekday names (``jan``, ``mon``), ``?`` for ``*``, 7 for Sunday, and
the macros ``@yearly`` (``@annually``), ``@monthly``, ``@weekly``, ``@daily``
(``@midnight``) and ``@hourly``. When both day fields are restricted a day matches
either, as in cron. Times are whole minutes in the schedule's time zone (UTC unless
``spec.timeZone`` names another).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}
DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
#: How far ahead a next run is looked for (a schedule such as Feb 30 never comes).
HORIZON_DAYS = 366 * 5


class ScheduleError(ValueError):
    """A schedule that does not parse; the message says why, as the controller's event."""


def _field(text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.lower().split(","):
        step = 1
        if "/" in part:
            part, _, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f"failed to parse int from {step_text}")
            step = int(step_text)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            a, _, b = part.partition("-")
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = high if step > 1 else start
        if start < low or end > high or start > end:
            raise ScheduleError(f"end of range ({end}) above maximum ({high}): {part}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise ScheduleError(f"failed to parse int from {text}")
    return int(text)


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool
    zone: tzinfo

    def _day_matches(self, when: datetime) -> bool:
        day = when.day in self.days
        weekday = (when.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day and weekday
        return day or weekday

    def next_after(self, instant: float) -> float | None:
        """The first scheduled time strictly after ``instant`` (epoch seconds), or None."""
        start = datetime.fromtimestamp(instant, self.zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for offset in range(HORIZON_DAYS):
            current = day + timedelta(days=offset)
            if current.month not in self.months or not self._day_matches(current):
                continue
            for hour in sorted(self.hours):
                for minute in sorted(self.minutes):
                    candidate = current.replace(hour=hour, minute=minute)
                    if candidate >= start:
                        return candidate.timestamp()
        return None

    def most_recent(self, after: float, until: float) -> tuple[float | None, int]:
        """The newest scheduled time in (after, until] and how many there were."""
        latest, count, cursor = None, 0, after
        while (nxt := self.next_after(cursor)) is not None and nxt <= until:
            latest, count, cursor = nxt, count + 1, nxt
        return latest, count


def parse(schedule: str, time_zone: str | None = None) -> Schedule:
    text = MACROS.get(schedule.strip().lower(), schedule.strip())
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: {schedule}")
    try:
        zone: tzinfo = ZoneInfo(time_zone) if time_zone else UTC
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ScheduleError(f"unknown time zone {time_zone}") from err
    minute, hour, dom, month, dow = fields
    weekdays = _field(dow, 0, 7, DAYS)
    if 7 in weekdays:
        weekdays = (weekdays - {7}) | {0}
    return Schedule(
        minutes=_field(minute, 0, 59, {}),
        hours=_field(hour, 0, 23, {}),
        days=_field(dom, 1, 31, {}),
        months=_field(month, 1, 12, MONTHS),
        weekdays=weekdays,
        any_day=dom in ("*", "?"),
        any_weekday=dow in ("*", "?"),
        zone=zone,
    )
