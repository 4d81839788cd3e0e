"""Recurring calendar entries: RFC 5545 RRULEs, read and expanded by python-dateutil.

Only a subset of RFC 5545 is accepted, the one whose rules always recur: FREQ (DAILY, WEEKLY,
MONTHLY, YEARLY), INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH and WKST. dateutil looks
for the next occurrence of a rule that can never occur (`BYMONTH=2;BYMONTHDAY=30`) until the
year 9999, seconds of work on every question; so such rules are refused when the
configuration is read, and so are the parts (BYSETPOS, BYYEARDAY, BYWEEKNO, BYHOUR...) and
the INTERVAL combinations that could hide one.

Occurrences are generated in the calendar's wall-clock time (a naive DTSTART), so "Fridays
15:00" stays 15:00 local across daylight-saving changes; the caller localises them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
PARTS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "WKST")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# The longest each month can be (February in a leap year).
MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
MAX_COUNT = 10_000
MAX_INTERVAL = 1000
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL = re.compile(r"^(\d{8})(T(\d{6})(Z?))?$")


def _ints(values: list[str], key: str, low: int, high: int, text: str) -> list[int]:
    numbers = []
    for value in values:
        if not re.fullmatch(r"[+-]?\d{1,3}", value) or not low <= abs(int(value)) <= high or int(value) == 0:
            raise ValueError(f"rrule {text!r}: {key}={value} is not a number from {low} to {high}")
        numbers.append(int(value))
    return numbers


def normalise(text: str, zone: ZoneInfo) -> str:
    """`text` checked against the accepted subset, with a UTC `UNTIL` turned into the calendar's
    wall-clock time (dateutil wants UNTIL as naive as DTSTART); ValueError naming the problem."""
    if not isinstance(text, str) or not text.strip() or len(text) > 500:
        raise ValueError(f"rrule: expected an RFC 5545 rule like 'FREQ=WEEKLY;BYDAY=FR', got {str(text)[:80]!r}")
    rule = text.strip().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for item in rule.split(";"):
        key, sep, value = item.partition("=")
        key = key.strip().upper()
        if not sep or not value.strip():
            raise ValueError(f"rrule {text!r}: expected KEY=VALUE parts separated by ';', got {item!r}")
        if key not in PARTS:
            raise ValueError(f"rrule {text!r}: {key} is not supported; use {', '.join(PARTS)} "
                             "(rules that can never occur are refused, docs/configuration.md)")
        if key in parts:
            raise ValueError(f"rrule {text!r}: {key} is given twice")
        parts[key] = value.strip().upper()
    frequency = parts.get("FREQ")
    if frequency not in FREQUENCIES:
        raise ValueError(f"rrule {text!r}: FREQ must be one of {', '.join(FREQUENCIES)}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValueError(f"rrule {text!r}: give COUNT or UNTIL, not both (RFC 5545)")
    for key, most in (("COUNT", MAX_COUNT), ("INTERVAL", MAX_INTERVAL)):
        if key in parts and not (parts[key].isdigit() and 1 <= int(parts[key]) <= most):
            raise ValueError(f"rrule {text!r}: {key}={parts[key]} is not a number from 1 to {most}")
    if "WKST" in parts and parts["WKST"] not in WEEKDAYS:
        raise ValueError(f"rrule {text!r}: WKST={parts['WKST']} is not a weekday (MO..SU)")
    months = _ints(parts["BYMONTH"].split(","), "BYMONTH", 1, 12, text) if "BYMONTH" in parts else []
    if any(m < 0 for m in months):
        raise ValueError(f"rrule {text!r}: BYMONTH takes months 1 to 12")
    monthdays = _ints(parts["BYMONTHDAY"].split(","), "BYMONTHDAY", 1, 31, text) if "BYMONTHDAY" in parts else []
    ordinals = _check_byday(parts, frequency, bool(months), text)
    possible = [(day, month) for day in monthdays for month in months or range(1, 13)]
    if monthdays and not any(abs(day) <= MONTH_DAYS[month - 1] for day, month in possible):
        raise ValueError(f"rrule {text!r}: no month of BYMONTH has the day of BYMONTHDAY; the rule never occurs")
    if ordinals and monthdays:
        raise ValueError(f"rrule {text!r}: a numbered BYDAY (e.g. -1FR) with BYMONTHDAY may never occur; use one")
    filters = [key for key in ("BYDAY", "BYMONTHDAY", "BYMONTH") if key in parts]
    if "INTERVAL" in parts:
        interval = int(parts["INTERVAL"])
        # Every N periods plus a filter can miss the filter forever (every 7 days from a Tuesday
        # is never a Monday); every N weeks on listed weekdays always recurs.
        if interval > 1 and filters and not (frequency == "WEEKLY" and filters == ["BYDAY"] and not ordinals):
            raise ValueError(f"rrule {text!r}: INTERVAL above 1 is accepted only alone or as WEEKLY with BYDAY "
                             "(other combinations can miss their filter forever)")
    if "UNTIL" in parts:
        parts["UNTIL"] = _local_until(parts["UNTIL"], zone, text)
    return ";".join(f"{key}={value}" for key, value in parts.items())


def _check_byday(parts: dict[str, str], frequency: str, by_month: bool, text: str) -> list[int]:
    ordinals: list[int] = []
    for value in parts.get("BYDAY", "").split(",") if "BYDAY" in parts else []:
        match = _BYDAY.match(value)
        if not match:
            raise ValueError(f"rrule {text!r}: BYDAY={value} is not a weekday like FR or -1FR")
        if match[1]:
            number = int(match[1])
            if frequency not in ("MONTHLY", "YEARLY"):
                raise ValueError(f"rrule {text!r}: a numbered BYDAY ({value}) needs FREQ=MONTHLY or YEARLY")
            limit = 5 if frequency == "MONTHLY" or by_month else 53
            if number == 0 or abs(number) > limit:
                raise ValueError(f"rrule {text!r}: BYDAY={value}: a {'month' if limit == 5 else 'year'} has at most "
                                 f"{limit} of each weekday")
            ordinals.append(number)
    return ordinals


def _local_until(value: str, zone: ZoneInfo, text: str) -> str:
    match = _UNTIL.match(value)
    if not match:
        raise ValueError(f"rrule {text!r}: UNTIL={value} is not a date (20271231) or date-time (20271231T235959Z)")
    if not match[4]:
        return value
    try:
        instant = datetime.strptime(match[1] + match[3], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"rrule {text!r}: UNTIL={value} is not a real date-time") from None
    return instant.astimezone(zone).strftime("%Y%m%dT%H%M%S")


def build(text: str, start: datetime) -> rrule:
    """The dateutil rule of a normalised RRULE from the naive local `start` (ValueError when
    dateutil refuses it or it never occurs)."""
    try:
        rule = rrulestr(text, dtstart=start)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"rrule {text!r}: {exc}") from None
    assert isinstance(rule, rrule)  # a single RRULE, never a set
    if next(iter(rule), None) is None:
        raise ValueError(f"rrule {text!r}: never occurs after {start.isoformat()} (UNTIL or COUNT ends it first)")
    return rule


def occurrences(rule: rrule, exdates: tuple[datetime, ...], low: datetime, high: datetime) -> list[datetime]:
    """Naive local starts of `rule` in [low, high], EXDATEs left out."""
    return [start for start in rule.between(low, high, inc=True) if start not in exdates]
