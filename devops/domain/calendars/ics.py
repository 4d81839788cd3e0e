"""Calendar entries from an iCalendar file (RFC 5545), read with the `icalendar` library.

Each VEVENT is one entry: SUMMARY names it, DTSTART/DTEND (or DURATION) give the period (an
all-day event is whole local days), RRULE and EXDATE repeat it (the subset of
devops/domain/calendars/recurrence.py), and an event with RECURRENCE-ID moves one occurrence of
its series (that occurrence is left out of the series and the moved one added). Cancelled
events are skipped. Times with a TZID or in UTC are converted to the calendar's zone; floating
times are the calendar's own. Anything else (RDATE, an unreadable file) is refused naming the
file and the event, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from devops.domain.calendars.model import MAX_ENTRIES, Entry, Kind, entry
from devops.errors import BadInput


def _moments(prop: Any) -> list[date | datetime]:
    """The dates of an EXDATE / RECURRENCE-ID property (one value or a list of them)."""
    found: list[date | datetime] = []
    for item in prop if isinstance(prop, list) else [prop]:
        dts = getattr(item, "dts", None)
        if dts is not None:
            found += [d.dt for d in dts]
        elif hasattr(item, "dt"):
            found.append(item.dt)
    return found


def entries(text: str, shown: str, kind: Kind, zone: ZoneInfo) -> list[Entry]:
    """The entries of the iCalendar document `text` (file `shown`); BadInput naming the file
    and the event when something is not understood."""
    from icalendar import Calendar as ICalendar

    try:
        document = ICalendar.from_ical(text)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise BadInput(f"{shown}: not an iCalendar file ({str(exc).splitlines()[0][:120] if str(exc) else exc!r})",
                       hint="export it as .ics (RFC 5545)") from None
    events = list(document.walk("VEVENT"))
    if len(events) > MAX_ENTRIES:
        raise BadInput(f"{shown}: {len(events)} events; at most {MAX_ENTRIES} are read")
    moved: dict[str, list[date | datetime]] = {}
    for event in events:
        if "RECURRENCE-ID" in event:
            moved.setdefault(str(event.get("UID", "")), []).extend(_moments(event["RECURRENCE-ID"]))
    found = []
    for index, event in enumerate(events):
        name = str(event.get("SUMMARY") or f"event {index + 1}").strip().splitlines()[0][:200] or f"event {index + 1}"
        try:
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            found.append(_entry(event, name, kind, zone, moved.get(str(event.get("UID", "")), [])))
        except (ValueError, TypeError, KeyError) as exc:
            raise BadInput(f"{shown}: event {name!r}: {exc}",
                           hint="fix the event or leave it out of the file") from None
    return found


def _moment(value: Any, prop: str) -> date | datetime:
    """A decoded DTSTART/DTEND; icalendar leaves a value it could not parse as text."""
    if not isinstance(value, date):
        raise ValueError(f"{prop} {str(value)[:60]!r} is not a date or a date-time")
    return value


def _entry(event: Any, name: str, kind: Kind, zone: ZoneInfo, moved: Iterable[date | datetime]) -> Entry:
    if "DTSTART" not in event:
        raise ValueError("no DTSTART")
    if "RDATE" in event:
        raise ValueError("RDATE is not supported; use RRULE or one event per date")
    start = _moment(event.decoded("DTSTART"), "DTSTART")
    if "DTEND" in event:
        end: date | datetime | None = _moment(event.decoded("DTEND"), "DTEND")
    elif "DURATION" in event:
        end = start + event.decoded("DURATION")
    else:
        end = start if isinstance(start, datetime) else None  # RFC 5545: a timed event without an end ends at once
    if isinstance(end, date) and not isinstance(end, datetime):
        end = end - timedelta(days=1)  # iCalendar's all-day DTEND is exclusive; ours includes the day
        if isinstance(start, date) and not isinstance(start, datetime) and end < start:
            end = start
    rrule = ""
    if "RRULE" in event:
        rule = event["RRULE"]
        rrule = (rule[0] if isinstance(rule, list) else rule).to_ical().decode()
    exdates = list(_moments(event["EXDATE"])) if "EXDATE" in event else []
    if "RECURRENCE-ID" not in event:
        exdates += list(moved)
    return entry(name, kind, start, end, zone, rrule=rrule, exdates=exdates)
