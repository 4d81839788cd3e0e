"""Cost schedules take holidays from calendars: down on a calendar holiday (a whole day of the
calendar's zone), runs cut exactly at its edges, and a digest that changes with the calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from devops.domain.calendars.model import Calendar, entry, holiday_entry
from devops.domain.schedule import Schedule

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")


def schedule(*calendars: Calendar) -> Schedule:
    return Schedule.build("office", timezone="Asia/Kolkata", uptime=["Mon-Fri 08:00-20:00"], calendars=calendars)


def test_a_calendar_holiday_is_down_in_the_calendars_own_zone() -> None:
    # Thursday 2026-12-24 in Berlin: 23:00 UTC on the 23rd to 23:00 UTC on the 24th.
    calendar = Calendar.build("berlin", "Europe/Berlin", [entry("Heiligabend", "holiday", dt.date(2026, 12, 24), None,
                                                                 BERLIN)])
    office = schedule(calendar)
    assert office.decide(dt.datetime(2026, 12, 24, 6, tzinfo=UTC)).reason == "holiday Heiligabend (calendar berlin)"
    assert office.decide(dt.datetime(2026, 12, 24, 6, tzinfo=UTC)).state == "down"
    assert office.decide(dt.datetime(2026, 12, 23, 6, tzinfo=UTC)).state == "up"  # the day before: office hours
    # The holiday takes the whole office day of the 24th; the 25th's office hours start as usual.
    runs = office.segments(dt.datetime(2026, 12, 24, 2, tzinfo=UTC), dt.datetime(2026, 12, 25, 3, tzinfo=UTC))
    assert [(left, decision.state) for left, _right, decision in runs] == [
        (dt.datetime(2026, 12, 24, 2, tzinfo=UTC), "down"), (dt.datetime(2026, 12, 25, 2, 30, tzinfo=UTC), "up")]


def test_freeze_periods_of_a_calendar_do_not_make_holidays() -> None:
    calendar = Calendar.build("c", "UTC", [entry("freeze", "freeze", dt.date(2026, 12, 24), None, ZoneInfo("UTC"))])
    assert schedule(calendar).decide(dt.datetime(2026, 12, 24, 6, tzinfo=UTC)).state == "up"


def test_the_segments_change_exactly_at_a_calendar_holiday_edge() -> None:
    # A holiday starting at 00:00 in a zone a quarter hour off the grid of UTC (Kathmandu, +05:45).
    nepal = Calendar.build("np", "Asia/Kathmandu", [holiday_entry("2026-12-24")])
    office = Schedule.build("always", timezone="UTC", uptime=["always"], calendars=[nepal])
    runs = office.segments(dt.datetime(2026, 12, 23, 12, tzinfo=UTC), dt.datetime(2026, 12, 24, 12, tzinfo=UTC))
    assert [(left, decision.state) for left, _right, decision in runs] == [
        (dt.datetime(2026, 12, 23, 12, tzinfo=UTC), "up"), (dt.datetime(2026, 12, 23, 18, 15, tzinfo=UTC), "down")]


def test_the_digest_keeps_its_value_without_calendars_and_follows_them_with() -> None:
    plain = Schedule.build("office", timezone="Asia/Kolkata", uptime=["Mon-Fri 08:00-20:00"])
    assert schedule().digest == plain.digest  # saved sizes of existing schedules stay valid
    one = schedule(Calendar.build("c", "UTC", [holiday_entry("2026-12-25")]))
    two = schedule(Calendar.build("c", "UTC", [holiday_entry("2026-12-26")]))
    assert len({plain.digest, one.digest, two.digest}) == 3
