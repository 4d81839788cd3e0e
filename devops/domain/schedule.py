"""Schedules: when node groups should run, decided for one instant in the schedule's time zone.

One decision function (`Schedule.decide`) serves the scheduler, `devops cost down|up` and the
report, so what the report counts is what the cron job does.

Uptime periods use kube-downscaler's compact form, one or more per schedule:

    Mon-Fri 08:00-20:00     weekdays, 08:00 up to (not including) 20:00 local time
    Sat-Sun 10:00-14:00
    Fri-Mon 09:00-17:00     weekday ranges wrap (Fri, Sat, Sun, Mon)
    Mon,Wed,Fri 07:30-09:00 lists; combine with ranges (Mon-Wed,Fri)
    Mon-Fri 22:00-02:00     an overnight period: starts on the listed day, ends next morning
    Mon-Sun 00:00-24:00     whole days; `always` is a synonym for every day, all day

Times are wall-clock time in the schedule's IANA zone. On a day whose clock jumps forward, a
period starting inside the gap starts at the jump; on a day whose clock falls back, a
period covers both occurrences of the repeated hour. Holidays are whole local days down (the
holidays of the schedule's calendars are whole days of each calendar's own zone);
overrides are absolute ranges that force up or down and win over everything else.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from devops.domain.checks import check_year
from devops.domain.timespec import to_instant


class Calendar(Protocol):
    """A calendar's holidays (devops/domain/calendars/model.py::Calendar, which reads zones and
    holidays from this module, hence a protocol here)."""

    @property
    def name(self) -> str: ...

    @property
    def digest(self) -> str: ...

    def at(self, kind: Literal["holiday", "freeze"], moment: datetime) -> Sequence[Window]: ...

    def windows(self, kind: Literal["holiday", "freeze"], start: datetime, end: datetime) -> Sequence[Window]: ...


class Window(Protocol):
    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...

    @property
    def name(self) -> str: ...

State = Literal["up", "down"]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
_PERIOD = re.compile(
    r"^\s*(?P<days>[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?(?:\s*,\s*[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?)*)"
    r"\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)
_HOLIDAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*(?:\.\.\s*(\d{4}-\d{2}-\d{2}))?\s*$")


@functools.cache
def _zone_names() -> frozenset[str]:
    # `localtime` is this machine's zone under a zone-like name: never what a config means.
    return frozenset(available_timezones()) - {"localtime"}


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone `name` (a full name like Asia/Kolkata, or UTC); ValueError naming it otherwise.

    Only names in the zone database's list are accepted: `Asia` is a folder of the database,
    not a zone, and a path (`../x`, `/etc/localtime`) is never read."""
    if not isinstance(name, str) or name not in _zone_names():
        raise ValueError(f"unknown IANA time zone {name!r}; use a full name like 'Asia/Kolkata', "
                         "'Europe/Berlin' or 'UTC'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown IANA time zone {name!r} (e.g. 'Asia/Kolkata', 'Europe/Berlin')") from None


@dataclass(frozen=True)
class Period:
    """Up on `days` (0 = Monday) from `start` to `end` minutes after local midnight.

    `end <= start` is an overnight period that ends on the following day."""

    days: frozenset[int]
    start: int
    end: int
    text: str

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def contains(self, weekday: int, minute: int) -> bool:
        """True when local `weekday`/`minute` falls inside the period."""
        if not self.overnight:
            return weekday in self.days and self.start <= minute < self.end
        return (weekday in self.days and minute >= self.start) or ((weekday - 1) % 7 in self.days and minute < self.end)

    @property
    def minutes_per_week(self) -> int:
        span = self.end - self.start if not self.overnight else MINUTES_PER_DAY - self.start + self.end
        return span * len(self.days)


def _day(token: str, text: str) -> int:
    try:
        return DAYS.index(token.strip().lower())
    except ValueError:
        raise ValueError(
            f"uptime {text!r}: unknown weekday {token.strip()!r}; use Mon Tue Wed Thu Fri Sat Sun"
        ) from None


def _minute(token: str, text: str, *, end: bool) -> int:
    hours, minutes = (int(part) for part in token.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not end)):
        raise ValueError(f"uptime {text!r}: {token!r} is not a time of day (00:00-23:59, or 24:00 as an end)")
    return hours * 60 + minutes


def parse_period(text: str) -> Period:
    """Parse `Mon-Fri 08:00-20:00` (see module doc); ValueError quotes the bad value."""
    if not isinstance(text, str):
        raise ValueError(f"uptime: expected a string like 'Mon-Fri 08:00-20:00', got {text!r}")
    if text.strip().lower() == "always":
        return Period(frozenset(range(7)), 0, MINUTES_PER_DAY, text)
    match = _PERIOD.match(text)
    if not match:
        raise ValueError(f"uptime {text!r}: expected 'Mon-Fri 08:00-20:00' (weekdays, then HH:MM-HH:MM)")
    days: set[int] = set()
    for part in match["days"].split(","):
        if "-" in part:
            first, last = (_day(token, text) for token in part.split("-"))
            # Ranges wrap around the week: Fri-Mon is Fri, Sat, Sun, Mon.
            span = (last - first) % 7
            days.update((first + offset) % 7 for offset in range(span + 1))
        else:
            days.add(_day(part, text))
    start = _minute(match["start"], text, end=False)
    end = _minute(match["end"], text, end=True)
    if start == end:
        raise ValueError(f"uptime {text!r}: start and end are the same time; use 00:00-24:00 for all day")
    return Period(frozenset(days), start, end, text)


def parse_holiday(text: str) -> tuple[date, date]:
    """`2026-12-25` or `2026-12-31..2027-01-01` (inclusive) -> (first, last)."""
    match = _HOLIDAY.match(str(text))
    if not match:
        raise ValueError(f"holidays: expected a date (2026-12-25) or range (2026-12-24..2026-12-26), got {text!r}")
    try:
        first = date.fromisoformat(match[1])
        last = date.fromisoformat(match[2]) if match[2] else first
    except ValueError as exc:
        raise ValueError(f"holidays: {text!r} is not a real date ({exc})") from None
    if last < first:
        raise ValueError(f"holidays: range {text!r} ends before it starts")
    check_year(first, "holidays: date")
    check_year(last, "holidays: date")
    return first, last


@dataclass(frozen=True)
class OverrideSpec:
    """An override as written in the config: `from`/`to` as ISO dates or date-times (naive =
    the schedule's zone; a date `to` includes that day), the state it forces, and why."""

    start: str
    end: str
    state: State = "up"
    reason: str = ""


@dataclass(frozen=True)
class Override:
    start: datetime  # UTC
    end: datetime  # UTC
    state: State
    reason: str


@dataclass(frozen=True)
class Decision:
    """What a node group should be at one instant, and why (shown to people)."""

    state: State
    reason: str


@dataclass(frozen=True)
class Schedule:
    """A validated schedule, ready to decide. Build with `Schedule.build`."""

    name: str
    zone: ZoneInfo
    periods: tuple[Period, ...]
    holidays: tuple[tuple[date, date], ...] = ()
    overrides: tuple[Override, ...] = ()
    digest: str = ""
    # Calendars (`calendars:` of the config) whose holidays are down too, each in its own zone.
    calendars: tuple[Calendar, ...] = ()

    @classmethod
    def build(
        cls,
        name: str,
        *,
        timezone: str,
        uptime: Sequence[str],
        holidays: Sequence[str] = (),
        overrides: Sequence[OverrideSpec] = (),
        calendars: Sequence[Calendar] = (),
    ) -> Schedule:
        """Parse and check a schedule (ValueError naming the bad value); the `cost:` block of
        the config builds its schedules with this (devops/config/cost.py)."""
        zone = load_zone(timezone)
        parsed = tuple(
            Override(
                to_instant(item.start, zone),
                to_instant(item.end, zone, end_of_day=True),
                item.state,
                item.reason or f"override {item.start}..{item.end}",
            )
            for item in overrides
        )
        canonical = json.dumps(
            {
                "timezone": timezone,
                "uptime": list(uptime),
                "holidays": list(holidays),
                "overrides": [[o.start.isoformat(), o.end.isoformat(), o.state] for o in parsed],
                **({"calendars": [c.digest for c in calendars]} if calendars else {}),
            },
            sort_keys=True,
        )
        return cls(
            name=name,
            zone=zone,
            periods=tuple(parse_period(text) for text in uptime),
            holidays=tuple(parse_holiday(text) for text in holidays),
            overrides=parsed,
            # Saved with a node group's size, so a restore can tell the schedule changed since.
            digest=hashlib.sha256(canonical.encode()).hexdigest()[:12],
            calendars=tuple(calendars),
        )

    def decide(self, at: datetime) -> Decision:
        """Up or down at the aware instant `at`: overrides, then holidays, then uptime periods."""
        if at.tzinfo is None:
            raise ValueError("decide() needs an aware datetime")
        for override in self.overrides:
            if override.start <= at < override.end:
                return Decision(override.state, f"override: {override.reason}")
        local = at.astimezone(self.zone)
        for first, last in self.holidays:
            if first <= local.date() <= last:
                span = first.isoformat() + (f"..{last.isoformat()}" if last != first else "")
                return Decision("down", f"holiday {span}")
        for calendar in self.calendars:
            for window in calendar.at("holiday", at)[:1]:
                return Decision("down", f"holiday {window.name} (calendar {calendar.name})")
        minute = local.hour * 60 + local.minute
        for period in self.periods:
            if period.contains(local.weekday(), minute):
                return Decision("up", f"uptime {period.text} ({self.zone.key})")
        return Decision("down", f"outside uptime ({self.zone.key} {local:%a %H:%M})")

    def segments(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime, Decision]]:
        """[start, end) cut into maximal runs of one state, exactly (DST days included).

        The decision can only change at a period boundary (either occurrence of a repeated
        local time), a local midnight, an override edge or a UTC offset change; offsets change
        on a quarter hour of UTC, so a 15-minute UTC grid covers the transitions."""
        utc = UTC
        start, end = start.astimezone(utc), end.astimezone(utc)
        cuts: set[datetime] = {start, end}
        grid = start.replace(minute=start.minute - start.minute % 15, second=0, microsecond=0)
        while grid < end:
            cuts.add(grid)
            grid += timedelta(minutes=15)
        minutes = {0}
        for period in self.periods:
            minutes.update((period.start, period.end % MINUTES_PER_DAY))
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last_day = end.astimezone(self.zone).date() + timedelta(days=1)
        while day <= last_day:
            for minute in minutes:
                naive = datetime.combine(day, time(minute // 60, minute % 60))
                for fold in (0, 1):
                    cuts.add(naive.replace(tzinfo=self.zone, fold=fold).astimezone(utc))
            day += timedelta(days=1)
        for override in self.overrides:
            cuts.update((override.start, override.end))
        for calendar in self.calendars:
            cuts.update(edge for w in calendar.windows("holiday", start, end) for edge in (w.start, w.end))
        ordered = sorted(cut for cut in cuts if start <= cut <= end)
        runs: list[tuple[datetime, datetime, Decision]] = []
        for left, right in zip(ordered, ordered[1:], strict=False):
            decision = self.decide(left)
            if runs and runs[-1][2].state == decision.state:
                runs[-1] = (runs[-1][0], right, runs[-1][2])
            else:
                runs.append((left, right, decision))
        return runs

    def next_change(self, at: datetime, horizon: timedelta = timedelta(days=15)) -> datetime | None:
        """The first instant after `at` where the decision differs, within `horizon`."""
        runs = self.segments(at, at + horizon)
        return runs[1][0] if len(runs) > 1 else None


def uptime_fraction(runs: Iterable[tuple[datetime, datetime, Decision]]) -> tuple[float, float]:
    """(up hours, total hours) of segments."""
    up = total = 0.0
    for left, right, decision in runs:
        hours = (right - left).total_seconds() / 3600
        total += hours
        if decision.state == "up":
            up += hours
    return up, total

