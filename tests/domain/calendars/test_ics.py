"""Calendar entries imported from iCalendar (RFC 5545) text, read with the `icalendar` library."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from devops.domain.calendars.ics import entries
from devops.domain.calendars.model import Calendar
from devops.errors import BadInput

KOLKATA = ZoneInfo("Asia/Kolkata")


def ics(*events: str) -> str:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip().replace(chr(10), chr(13) + chr(10))}\r\nEND:VEVENT\r\n" for e in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n"


def test_all_day_events_timed_events_and_rules() -> None:
    text = ics(
        "UID:1\nSUMMARY:Diwali\nDTSTART;VALUE=DATE:20261108\nDTEND;VALUE=DATE:20261109",
        "UID:2\nSUMMARY:Year end\nDTSTART;VALUE=DATE:20261224\nDTEND;VALUE=DATE:20270102",
        "UID:3\nSUMMARY:Quarter close\nDTSTART;TZID=Europe/Berlin:20260330T180000\nDURATION:PT12H\n"
        "RRULE:FREQ=MONTHLY;INTERVAL=3;UNTIL=20271231T000000Z",
        "UID:4\nSUMMARY:Republic Day\nDTSTART;VALUE=DATE:20270126\nRRULE:FREQ=YEARLY",
        "UID:5\nSUMMARY:Dropped\nSTATUS:CANCELLED\nDTSTART;VALUE=DATE:20261201",
        "UID:6\nDTSTART:20261201T100000Z\nDTEND:20261201T120000Z",
    )
    found = {e.name: e for e in entries(text, "holidays.ics", "holiday", KOLKATA)}
    assert sorted(found) == ["Diwali", "Quarter close", "Republic Day", "Year end", "event 6"]
    assert (found["Diwali"].start, found["Diwali"].end) == (dt.datetime(2026, 11, 8), dt.datetime(2026, 11, 9))
    assert found["Year end"].end == dt.datetime(2027, 1, 2)  # DTEND of an all-day event is exclusive
    close = found["Quarter close"]
    assert (close.start, close.end) == (dt.datetime(2026, 3, 30, 21, 30), dt.datetime(2026, 3, 31, 9, 30))
    assert close.rrule == "FREQ=MONTHLY;UNTIL=20271231T053000;INTERVAL=3"
    assert found["event 6"].start == dt.datetime(2026, 12, 1, 15, 30)  # UTC into Kolkata time
    calendar = Calendar.build("india", "Asia/Kolkata", list(found.values()))
    assert [w.name for w in calendar.at("holiday", dt.datetime(2028, 1, 26, 6, tzinfo=dt.UTC))] == ["Republic Day"]


def test_a_moved_occurrence_replaces_the_one_of_its_series() -> None:
    text = ics(
        "UID:w\nSUMMARY:Weekly freeze\nDTSTART:20261204T150000\nDTEND:20261204T180000\nRRULE:FREQ=WEEKLY\n"
        "EXDATE:20261218T150000",
        "UID:w\nSUMMARY:Weekly freeze (moved)\nRECURRENCE-ID:20261211T150000\nDTSTART:20261212T090000\n"
        "DTEND:20261212T120000",
    )
    series, moved = entries(text, "f.ics", "freeze", KOLKATA)
    assert set(series.exdates) == {dt.datetime(2026, 12, 18, 15), dt.datetime(2026, 12, 11, 15)}
    assert moved.start == dt.datetime(2026, 12, 12, 9) and moved.rrule == ""
    calendar = Calendar.build("c", "Asia/Kolkata", [series, moved])
    starts = [w.start.astimezone(KOLKATA).replace(tzinfo=None)
              for w in calendar.windows("freeze", dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
                                        dt.datetime(2026, 12, 31, tzinfo=dt.UTC))]
    assert starts == [dt.datetime(2026, 12, 4, 15), dt.datetime(2026, 12, 12, 9), dt.datetime(2026, 12, 25, 15)]


def test_an_all_day_event_without_an_end_is_one_day() -> None:
    [one] = entries(ics("UID:1\nSUMMARY:x\nDTSTART;VALUE=DATE:20261225"), "f.ics", "holiday", KOLKATA)
    assert one.end - one.start == dt.timedelta(days=1)


def test_an_all_day_end_equal_to_its_start_is_one_day() -> None:
    [one] = entries(ics("UID:1\nSUMMARY:x\nDTSTART;VALUE=DATE:20261225\nDTEND;VALUE=DATE:20261225"), "f.ics",
                    "holiday", KOLKATA)
    assert one.end - one.start == dt.timedelta(days=1)


@pytest.mark.parametrize(("text", "why"), [
    ("this is not a calendar", "f.ics: not an iCalendar file"),
    (ics("UID:1\nSUMMARY:No start"), "f.ics: event 'No start': no DTSTART"),
    (ics("UID:1\nSUMMARY:R\nDTSTART:20261201T100000\nRDATE:20261202T100000"), "RDATE is not supported"),
    (ics("UID:1\nSUMMARY:Instant\nDTSTART:20261201T100000"), "'to' (2026-12-01T10:00:00) must be after 'from'"),
    (ics("UID:1\nSUMMARY:Odd\nDTSTART;VALUE=DATE:20260101\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"),
     "the rule never occurs"),
])
def test_what_is_not_understood_is_refused_naming_the_file_and_the_event(text: str, why: str) -> None:
    with pytest.raises(BadInput) as refused:
        entries(text, "f.ics", "holiday", KOLKATA)
    assert why in str(refused.value)


def test_too_many_events_are_refused() -> None:
    text = ics(*(f"UID:{i}\nSUMMARY:e\nDTSTART;VALUE=DATE:20261201" for i in range(5001)))
    with pytest.raises(BadInput, match="5001 events; at most 5000"):
        entries(text, "f.ics", "holiday", KOLKATA)


def test_a_date_that_is_not_one_names_the_file_event_and_property() -> None:
    text = ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Broken\r\nDTSTART;VALUE=DATE:2026-99-99\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")
    with pytest.raises(BadInput, match=r"calendars/x.ics: event 'Broken': DTSTART '.*' is not a date"):
        entries(text, "calendars/x.ics", "holiday", ZoneInfo("UTC"))
