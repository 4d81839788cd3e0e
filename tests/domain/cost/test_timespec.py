"""Instants typed by people (devops/domain/timespec.py): `--at`, `--until`, `--month`, and the
dates of the `cost:` block, as aware UTC instants."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from devops.domain.timespec import month_bounds, parse_instant, parse_month, parse_until, resolve_until, to_instant
from devops.errors import BadInput

KOLKATA = ZoneInfo("Asia/Kolkata")
BERLIN = ZoneInfo("Europe/Berlin")


def test_to_instant_reads_dates_and_date_times_in_the_zone() -> None:
    assert to_instant("2026-11-26", KOLKATA) == datetime(2026, 11, 25, 18, 30, tzinfo=UTC)
    assert to_instant(" 2026-11-26 ", KOLKATA, end_of_day=True) == datetime(2026, 11, 26, 18, 30, tzinfo=UTC)
    assert to_instant("2026-11-26T09:00", KOLKATA) == datetime(2026, 11, 26, 3, 30, tzinfo=UTC)
    assert to_instant("2026-11-26T09:00+00:00", KOLKATA) == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="2000..2100"):
        to_instant("1999-12-31", KOLKATA)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25T20:00:00+05:30", datetime(2026, 11, 25, 14, 30, tzinfo=UTC)),
    ("2026-11-25T20:00:00Z", datetime(2026, 11, 25, 20, 0, tzinfo=UTC)),
    ("2026-11-25T20:00", datetime(2026, 11, 25, 20, 0, tzinfo=UTC)),  # no offset: UTC
])
def test_instants(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected and parse_instant(text).tzinfo is UTC


def test_bad_instants_name_the_option() -> None:
    with pytest.raises(ValueError, match=r"^--at: expected ISO-8601 like 2026-11-25T20:00:00\+05:30, got 'tonight'$"):
        parse_instant("tonight", "--at")
    with pytest.raises(ValueError, match=r"^expected ISO-8601"):
        parse_instant("tonight")
    with pytest.raises(ValueError, match="--at: date"):
        parse_instant("2101-01-01T00:00Z", "--at")


def test_until_is_a_time_of_day_or_a_date_time() -> None:
    assert parse_until("2:05") == time(2, 5)
    assert parse_until("2026-11-26T02:00") == datetime(2026, 11, 26, 2, 0)
    assert parse_until("2026-11-26T02:00Z") == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"^--until: '25:00' is not a time of day$"):
        parse_until("25:00", "--until")
    with pytest.raises(ValueError, match="'12:60' is not a time of day"):
        parse_until("12:60")
    with pytest.raises(ValueError, match=r"expected HH:MM or ISO-8601 like 2026-11-26T02:00, got 'soon'"):
        parse_until("soon")
    with pytest.raises(ValueError, match="date"):
        parse_until("1990-01-01T00:00")


def test_resolving_until() -> None:
    at = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)  # 23:00 in Kolkata
    assert resolve_until(time(2, 0), at, KOLKATA) == datetime(2026, 11, 25, 20, 30, tzinfo=UTC)  # next 02:00
    assert resolve_until(time(23, 30), at, KOLKATA) == datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # today still
    assert resolve_until(time(23, 0), at, KOLKATA) == datetime(2026, 11, 26, 17, 30, tzinfo=UTC)  # now: tomorrow
    assert resolve_until(datetime(2026, 11, 26, 8, 0), at, KOLKATA) == datetime(2026, 11, 26, 2, 30, tzinfo=UTC)
    aware = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert resolve_until(aware, at, KOLKATA) == aware
    with pytest.raises(BadInput, match=r"^--until: 2026-11-25T23:00:00 is not after now \(2026-11-25 17:30Z\)$"):
        resolve_until(datetime(2026, 11, 25, 23, 0), at, KOLKATA)


def test_months() -> None:
    assert parse_month("2026-11") == (2026, 11)
    for bad in ("2026-13", "2026-00", "26-11", "November"):
        with pytest.raises(ValueError, match=r"^--month: expected YYYY-MM like 2026-11"):
            parse_month(bad, "--month")
    with pytest.raises(ValueError, match="month"):
        parse_month("2101-01")
    start, end = month_bounds(2026, 3, BERLIN)
    assert (start, end) == (datetime(2026, 2, 28, 23, 0, tzinfo=UTC), datetime(2026, 3, 31, 22, 0, tzinfo=UTC))
    assert (end - start).total_seconds() / 3600 == 743
    assert month_bounds(2026, 12, KOLKATA)[1] == datetime(2026, 12, 31, 18, 30, tzinfo=UTC)  # into next year
