"""Instants as people type them: on the command line (`--at`, `--until`, `--month`) and in
the `cost:` block (`exclude_until`, override `from`/`to`), parsed into aware UTC instants.

One parser per kind of value, used where the value is checked (config validation, click's
parameter types in devops/cli/params.py) and where it is used, so the two never disagree.
Years are bounded to 2000..2100 (devops.domain.checks.check_year).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from devops.domain.checks import check_year
from devops.errors import BadInput


def to_instant(text: str, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """An ISO date or date-time as an aware UTC instant; naive values are local to `zone`.

    A bare date is local midnight, or the following midnight with `end_of_day` (inclusive)."""
    text = str(text).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = check_year(date.fromisoformat(text))
        local = datetime.combine(day + (timedelta(days=1) if end_of_day else timedelta()), time(), tzinfo=zone)
    else:
        parsed = check_year(datetime.fromisoformat(text))
        local = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)
    return local.astimezone(UTC)


def _said(what: str) -> str:
    return f"{what}: " if what else ""


def parse_instant(text: str, what: str = "") -> datetime:
    """ISO 8601 date-time (`Z` or an offset; none = UTC) in 2000..2100, as an aware UTC instant."""
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(f"{_said(what)}expected ISO-8601 like 2026-11-25T20:00:00+05:30, got {text!r}") from None
    check_year(parsed, f"{_said(what)}date")
    # A time without offset is UTC: cron runners think in UTC, and it is never ambiguous.
    return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def parse_until(text: str, what: str = "") -> time | datetime:
    """`HH:MM` (a time of day) or an ISO 8601 date-time in 2000..2100 (naive: local to the
    schedule's zone, resolved by `resolve_until`)."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if match:
        hours, minutes = int(match[1]), int(match[2])
        if hours > 23 or minutes > 59:
            raise ValueError(f"{_said(what)}{text!r} is not a time of day")
        return time(hours, minutes)
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(f"{_said(what)}expected HH:MM or ISO-8601 like 2026-11-26T02:00, got {text!r}") from None
    check_year(parsed, f"{_said(what)}date")
    return parsed


def resolve_until(value: time | datetime, at: datetime, zone: ZoneInfo, what: str = "--until") -> datetime:
    """A parsed `--until` as a UTC instant after `at`: a time of day is the next such local
    time of `zone`; a naive date-time is local to `zone`. BadInput when it is not after `at`."""
    if isinstance(value, time):
        local = at.astimezone(zone)
        candidate = local.replace(hour=value.hour, minute=value.minute, second=0, microsecond=0)
        if candidate <= local:
            candidate = (local + timedelta(days=1)).replace(hour=value.hour, minute=value.minute, second=0,
                                                             microsecond=0)
        return candidate.replace(tzinfo=zone).astimezone(UTC)
    until = (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    if until <= at:
        raise BadInput(f"{what}: {value.isoformat()} is not after now ({at.astimezone(UTC):%Y-%m-%d %H:%M}Z)")
    return until


def parse_month(text: str, what: str = "") -> tuple[int, int]:
    """`YYYY-MM` in 2000..2100 -> (year, month)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"{_said(what)}expected YYYY-MM like 2026-11, got {text!r}")
    check_year(date(int(match[1]), int(match[2]), 1), f"{_said(what)}month")
    return int(match[1]), int(match[2])


def month_bounds(year: int, month: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight of the 1st to local midnight of the next 1st in `zone`, as UTC instants."""
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return (
        datetime.combine(first, time(), tzinfo=zone).astimezone(UTC),
        datetime.combine(nxt, time(), tzinfo=zone).astimezone(UTC),
    )
