"""A calendar: holidays and freeze periods of one time zone, as instants.

Entries are written in the calendar's wall-clock time: a date is a whole local day, a range of
dates whole days inclusive, `from`/`to` date-times a period (`to` excluded), and an RRULE
repeats the period from `from` (devops/domain/calendars/recurrence.py). What the cost
schedules and the release freezes ask is "which windows cover this instant" and "when does
the freeze that covers it end" (overlapping or touching windows count as one).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from devops.domain.calendars import recurrence
from devops.domain.checks import check_year
from devops.domain.schedule import load_zone, parse_holiday

Kind = Literal["holiday", "freeze"]
KINDS: tuple[Kind, ...] = ("holiday", "freeze")
# How far `until` looks for the end of a run of touching windows (a freeze every weekend that
# also covers the weekdays between would otherwise never end).
HORIZON = timedelta(days=400)
MAX_ENTRIES = 5000
# A holiday or freeze longer than a year is a typo; windows are looked up by the year they start.
MAX_LENGTH = timedelta(days=366)


@dataclass(frozen=True)
class Entry:
    """One holiday or freeze: [start, end) in wall-clock time, repeated by `rrule` when set."""

    name: str
    kind: Kind
    start: datetime  # naive, the calendar's wall-clock time
    end: datetime  # naive, excluded, after start
    rrule: str = ""  # a normalised RFC 5545 RRULE (recurrence.normalise); "" for one period
    exdates: tuple[datetime, ...] = ()  # naive starts an RRULE leaves out (iCalendar EXDATE)

    @property
    def length(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Window:
    """An instant range of one entry (or of touching entries, for `Calendar.until`)."""

    start: datetime  # aware, UTC
    end: datetime  # aware, UTC, excluded
    name: str
    calendar: str
    kind: Kind

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


def _local_naive(value: date | datetime, zone: ZoneInfo, what: str) -> datetime:
    if isinstance(value, datetime):
        check_year(value, what)
        if value.tzinfo is not None:
            value = value.astimezone(zone).replace(tzinfo=None)
        return value.replace(microsecond=0)
    check_year(value, what)
    return datetime.combine(value, time())


def parse_moment(value: object, what: str) -> date | datetime:
    """A config value (YAML date, datetime or ISO text) as a date or a datetime; ValueError otherwise."""
    if isinstance(value, datetime | date):
        return value
    text = str(value).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(f"{what}: expected a date (2026-12-24) or date-time (2026-12-24T18:00), "
                         f"got {text!r}") from None


def entry(name: str, kind: Kind, start: date | datetime, end: date | datetime | None, zone: ZoneInfo,
          rrule: str = "", exdates: Iterable[date | datetime] = ()) -> Entry:
    """An entry from its parts; a date `end` includes that day, no `end` means the day of a date
    `start`. ValueError naming what is wrong."""
    what = f"{kind} {name!r}"
    first = _local_naive(start, zone, f"{what}: from")
    if end is None:
        if isinstance(start, datetime):
            raise ValueError(f"{what}: 'to' is required when 'from' has a time of day")
        last = first + timedelta(days=1)
    elif isinstance(end, datetime):
        last = _local_naive(end, zone, f"{what}: to")
    else:
        last = _local_naive(end, zone, f"{what}: to") + timedelta(days=1)
    if last <= first:
        raise ValueError(f"{what}: 'to' ({last.isoformat()}) must be after 'from' ({first.isoformat()})")
    if last - first > MAX_LENGTH:
        raise ValueError(f"{what}: lasts {(last - first).days} days; an entry lasts at most {MAX_LENGTH.days} "
                         "(repeat it with an rrule instead)")
    rule = ""
    if rrule:
        rule = recurrence.normalise(rrule, zone)
        recurrence.build(rule, first)  # refuses rules that never occur
    skipped = tuple(_local_naive(d, zone, f"{what}: exdate") for d in exdates)
    return Entry(name, kind, first, last, rule, skipped)


def holiday_entry(text: str) -> Entry:
    """`2026-12-25` or `2026-12-24..2026-12-26` (inclusive) as whole days."""
    first, last = parse_holiday(text)
    if last - first >= MAX_LENGTH:
        raise ValueError(f"holidays: {text!r} lasts more than {MAX_LENGTH.days} days")
    return Entry(text, "holiday", datetime.combine(first, time()), datetime.combine(last + timedelta(days=1), time()))


@dataclass(frozen=True)
class Calendar:
    """A named calendar, ready to answer; build with `Calendar.build`."""

    name: str
    timezone: str
    entries: tuple[Entry, ...] = ()
    description: str = ""
    zone: ZoneInfo = field(default=ZoneInfo("UTC"), compare=False, hash=False)

    @classmethod
    def build(cls, name: str, timezone: str, entries: Sequence[Entry], description: str = "") -> Calendar:
        if len(entries) > MAX_ENTRIES:
            raise ValueError(f"calendar {name!r}: {len(entries)} entries; at most {MAX_ENTRIES}")
        return cls(name, timezone, tuple(entries), description, load_zone(timezone))

    @property
    def digest(self) -> str:
        """Changes when any entry does (saved with a cost schedule's sizes, like its own digest)."""
        canonical = json.dumps([self.timezone, [[e.name, e.kind, e.start.isoformat(), e.end.isoformat(), e.rrule,
                                                 [d.isoformat() for d in e.exdates]] for e in self.entries]])
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def _instant(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def windows(self, kind: Kind, start: datetime, end: datetime) -> list[Window]:
        """The windows of `kind` that overlap [start, end) (aware instants), by start."""
        found: list[Window] = []
        for year in range(start.astimezone(UTC).year - 1, end.astimezone(UTC).year + 2):
            found += [w for w in _year(self, kind, year) if w.start < end and w.end > start]
        return sorted(found, key=lambda w: (w.start, w.end, w.name))

    def at(self, kind: Kind, moment: datetime) -> list[Window]:
        """The windows of `kind` that cover the aware instant `moment`."""
        return [w for w in self.windows(kind, moment, moment + timedelta(seconds=1)) if w.covers(moment)]

    def until(self, kind: Kind, moment: datetime) -> Window | None:
        """The run of windows covering `moment`, merged with those that overlap or touch it
        after: when it really ends (at most HORIZON ahead). None when nothing covers it."""
        covering = self.at(kind, moment)
        if not covering:
            return None
        first = max(covering, key=lambda w: w.end)
        end = first.end
        for window in self.windows(kind, moment, moment + HORIZON):
            if window.start > end:
                break  # sorted by start: nothing later touches the run
            end = max(end, window.end)
        return Window(min(w.start for w in covering), min(end, moment + HORIZON), first.name, self.name, kind)


@functools.lru_cache(maxsize=512)
def _year(calendar: Calendar, kind: Kind, year: int) -> tuple[Window, ...]:
    """The windows of `kind` starting in UTC `year` (cached: schedules ask thousands of times)."""
    low = datetime(year, 1, 1, tzinfo=UTC)
    high = datetime(year + 1, 1, 1, tzinfo=UTC)
    found = []
    for item in calendar.entries:
        if item.kind != kind:
            continue
        if not item.rrule:
            starts = [item.start]
        else:
            # Local wall time is at most 14 h off UTC: a day of margin either way.
            local_low = low.astimezone(calendar.zone).replace(tzinfo=None) - timedelta(days=1)
            local_high = high.astimezone(calendar.zone).replace(tzinfo=None) + timedelta(days=1)
            starts = recurrence.occurrences(recurrence.build(item.rrule, item.start), item.exdates, local_low,
                                            local_high)
        for local in starts:
            begin = calendar._instant(local)
            if low <= begin < high:
                found.append(Window(begin, calendar._instant(local + item.length), item.name, calendar.name, kind))
    return tuple(found)
