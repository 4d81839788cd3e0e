"""Calendars as instants: whole days in the calendar's zone, periods, recurring periods across
daylight-saving changes, and when a run of touching freeze windows really ends."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from devops.domain.calendars.model import HORIZON, Calendar, entry, holiday_entry, parse_moment

BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")
UTC = dt.UTC


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def test_a_date_is_a_whole_day_of_the_calendars_zone() -> None:
    calendar = Calendar.build("india", "Asia/Kolkata", [entry("Diwali", "holiday", dt.date(2026, 11, 8), None, KOLKATA)])
    [window] = calendar.windows("holiday", at(2026, 11, 1), at(2026, 11, 30))
    assert (window.start, window.end) == (at(2026, 11, 7, 18, 30), at(2026, 11, 8, 18, 30))
    assert calendar.at("holiday", at(2026, 11, 8, 18, 29)) and not calendar.at("holiday", at(2026, 11, 8, 18, 30))
    assert calendar.at("freeze", at(2026, 11, 8, 12)) == []  # kinds are separate


def test_ranges_of_dates_include_the_last_day() -> None:
    item = holiday_entry("2026-12-24..2026-12-26")
    assert (item.start, item.end) == (dt.datetime(2026, 12, 24), dt.datetime(2026, 12, 27))
    assert item.length == dt.timedelta(days=3)


def test_a_weekly_freeze_keeps_its_wall_clock_time_across_daylight_saving() -> None:
    weekend = entry("weekend", "freeze", dt.datetime(2026, 1, 2, 15), dt.datetime(2026, 1, 5, 8), BERLIN,
                    rrule="FREQ=WEEKLY")
    calendar = Calendar.build("releases", "Europe/Berlin", [weekend])
    [window] = calendar.at("freeze", at(2026, 3, 28, 12))  # the weekend of the spring change
    assert (window.start, window.end) == (at(2026, 3, 27, 14), at(2026, 3, 30, 6))  # 15:00 CET to 08:00 CEST
    assert calendar.at("freeze", at(2026, 3, 30, 6)) == []


def test_until_merges_touching_windows_into_one_freeze() -> None:
    calendar = Calendar.build("releases", "UTC", [
        entry("first", "freeze", dt.datetime(2026, 12, 1), dt.datetime(2026, 12, 2), ZoneInfo("UTC")),
        entry("second", "freeze", dt.datetime(2026, 12, 2), dt.datetime(2026, 12, 3), ZoneInfo("UTC")),
        entry("inside", "freeze", dt.datetime(2026, 12, 2, 6), dt.datetime(2026, 12, 2, 7), ZoneInfo("UTC")),
        entry("later", "freeze", dt.datetime(2026, 12, 10), dt.datetime(2026, 12, 11), ZoneInfo("UTC")),
    ])
    window = calendar.until("freeze", at(2026, 12, 1, 12))
    assert window is not None and (window.name, window.start, window.end) == ("first", at(2026, 12, 1),
                                                                              at(2026, 12, 3))
    assert calendar.until("freeze", at(2026, 12, 5)) is None


def test_until_stops_at_the_horizon_for_a_freeze_that_never_ends() -> None:
    always = entry("always", "freeze", dt.date(2026, 1, 1), None, ZoneInfo("UTC"), rrule="FREQ=DAILY")
    window = Calendar.build("x", "UTC", [always]).until("freeze", at(2026, 6, 1, 12))
    assert window is not None and window.end == at(2026, 6, 1, 12) + HORIZON


def test_a_window_crossing_new_year_is_found_from_either_side() -> None:
    calendar = Calendar.build("x", "UTC", [entry("ny", "freeze", dt.date(2026, 12, 30), dt.date(2027, 1, 2),
                                                 ZoneInfo("UTC"), rrule="FREQ=YEARLY")])
    assert [w.name for w in calendar.at("freeze", at(2027, 1, 1, 12))] == ["ny"]
    assert [w.start for w in calendar.windows("freeze", at(2027, 12, 1), at(2028, 2, 1))] == [at(2027, 12, 30)]


def test_the_digest_changes_with_any_entry() -> None:
    one = Calendar.build("x", "UTC", [holiday_entry("2026-12-25")])
    two = Calendar.build("x", "UTC", [holiday_entry("2026-12-26")])
    assert one.digest != two.digest and len(one.digest) == 12 and one.digest == Calendar.build(
        "x", "UTC", [holiday_entry("2026-12-25")]).digest


@pytest.mark.parametrize(("start", "end", "rrule", "why"), [
    (dt.datetime(2026, 1, 1, 9), None, "", "'to' is required when 'from' has a time of day"),
    (dt.date(2026, 1, 2), dt.date(2026, 1, 1), "", "'to' (2026-01-02T00:00:00) must be after 'from'"),
    (dt.date(2026, 1, 1), dt.date(2027, 6, 1), "", "lasts 517 days; an entry lasts at most 366"),
    (dt.date(2026, 1, 1), None, "FREQ=SECONDLY", "FREQ must be one of"),
    (dt.date(2150, 1, 1), None, "", "from"),
])
def test_bad_entries_are_refused_naming_them(start: dt.date, end: dt.date | None, rrule: str, why: str) -> None:
    with pytest.raises(ValueError) as refused:
        entry("x", "freeze", start, end, ZoneInfo("UTC"), rrule=rrule)
    assert why in str(refused.value)


def test_a_holiday_range_longer_than_a_year_is_refused() -> None:
    with pytest.raises(ValueError, match="lasts more than 366 days"):
        holiday_entry("2026-01-01..2027-06-01")


def test_aware_moments_are_taken_into_the_calendars_zone() -> None:
    item = entry("x", "freeze", dt.datetime(2026, 6, 1, 12, tzinfo=UTC), dt.datetime(2026, 6, 1, 14, tzinfo=UTC),
                 BERLIN, exdates=[dt.date(2026, 6, 8)])
    assert (item.start, item.end, item.exdates) == (dt.datetime(2026, 6, 1, 14), dt.datetime(2026, 6, 1, 16),
                                                   (dt.datetime(2026, 6, 8),))


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-12-24", dt.date(2026, 12, 24)),
    ("2026-12-24T18:00", dt.datetime(2026, 12, 24, 18)),
    ("2026-12-24T18:00Z", dt.datetime(2026, 12, 24, 18, tzinfo=UTC)),
    (dt.date(2026, 1, 1), dt.date(2026, 1, 1)),
])
def test_moments_as_the_config_gives_them(value: object, expected: object) -> None:
    assert parse_moment(value, "from") == expected


def test_a_moment_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="from: expected a date"):
        parse_moment("tomorrow", "from")


def test_too_many_entries_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 5000"):
        Calendar.build("x", "UTC", [holiday_entry("2026-12-25")] * 5001)
