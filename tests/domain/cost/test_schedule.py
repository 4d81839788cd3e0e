"""The decision function: periods, wrap-around, holidays, overrides, time zones and DST days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from devops.domain.schedule import OverrideSpec, Schedule, parse_holiday, parse_period, uptime_fraction


def schedule(uptime: list[str], zone: str = "UTC", *, holidays: tuple[str, ...] | list[str] = (),
             overrides: tuple[dict[str, str], ...] | list[dict[str, str]] = ()) -> Schedule:
    specs = [OverrideSpec(o["from"], o["to"], o["state"], o.get("reason", "")) for o in overrides]  # type: ignore[arg-type]
    return Schedule.build("s", timezone=zone, uptime=uptime, holidays=holidays, overrides=specs)


def local(zone: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold)  # type: ignore[misc]


def test_period_days_and_wrapping_ranges() -> None:
    assert parse_period("Mon-Fri 08:00-20:00").days == frozenset({0, 1, 2, 3, 4})
    assert parse_period("Fri-Mon 09:00-17:00").days == frozenset({4, 5, 6, 0})
    assert parse_period("sun-tue 09:00-17:00").days == frozenset({6, 0, 1})
    assert parse_period("Mon,Wed-Thu,Sat 07:30-09:00").days == frozenset({0, 2, 3, 5})
    period = parse_period("Sat-Sun 00:00-24:00")
    assert (period.start, period.end) == (0, 1440)
    assert parse_period("always").minutes_per_week == 7 * 1440
    assert parse_period("Mon-Fri 08:00-20:00").minutes_per_week == 5 * 12 * 60


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mon-Fri 8-20", "expected 'Mon-Fri 08:00-20:00'"),
        ("Mon-Fry 08:00-20:00", "unknown weekday 'Fry'"),
        ("Mon-Fri 08:00-25:00", "'25:00' is not a time of day"),
        ("Mon-Fri 08:60-20:00", "'08:60' is not a time of day"),
        ("Mon-Fri 24:00-08:00", "'24:00' is not a time of day"),
        ("Mon-Fri 08:00-08:00", "start and end are the same time"),
        ("weekdays", "expected 'Mon-Fri 08:00-20:00'"),
    ],
)
def test_bad_periods_name_the_value(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_period(text)
    assert repr(text) in str(info.value)


def test_weekday_boundaries_in_the_schedules_zone() -> None:
    s = schedule(["Mon-Fri 08:00-20:00"], "Asia/Kolkata")
    # 2026-11-23 is a Monday. 08:00 IST = 02:30 UTC.
    assert s.decide(local("Asia/Kolkata", 2026, 11, 23, 7, 59)).state == "down"
    assert s.decide(local("Asia/Kolkata", 2026, 11, 23, 8, 0)).state == "up"
    assert s.decide(datetime(2026, 11, 23, 2, 30, tzinfo=UTC)).state == "up"
    assert s.decide(datetime(2026, 11, 23, 2, 29, tzinfo=UTC)).state == "down"
    assert s.decide(local("Asia/Kolkata", 2026, 11, 23, 19, 59)).state == "up"
    assert s.decide(local("Asia/Kolkata", 2026, 11, 23, 20, 0)).state == "down"
    # Friday 19:00 IST is up; Saturday 10:00 is down, although in UTC Saturday has not begun
    # for the first evening hours: the weekday is the local one.
    assert s.decide(local("Asia/Kolkata", 2026, 11, 27, 19, 0)).state == "up"
    assert s.decide(local("Asia/Kolkata", 2026, 11, 28, 10, 0)).state == "down"
    # Monday 05:00 IST is still Sunday 23:30 UTC: down because of the hour, not the UTC day.
    assert s.decide(datetime(2026, 11, 29, 23, 30, tzinfo=UTC)).state == "down"
    # Monday 08:30 IST is Monday 03:00 UTC.
    assert s.decide(datetime(2026, 11, 30, 3, 0, tzinfo=UTC)).state == "up"


def test_overnight_period_and_wrapping_weekdays() -> None:
    s = schedule(["Fri-Mon 22:00-02:00"])
    assert s.decide(datetime(2026, 11, 27, 23, 0, tzinfo=UTC)).state == "up"  # Fri 23:00
    assert s.decide(datetime(2026, 11, 28, 1, 59, tzinfo=UTC)).state == "up"  # Sat 01:59 (Fri's night)
    assert s.decide(datetime(2026, 11, 28, 2, 0, tzinfo=UTC)).state == "down"
    assert s.decide(datetime(2026, 11, 30, 23, 0, tzinfo=UTC)).state == "up"  # Mon night
    assert s.decide(datetime(2026, 12, 1, 1, 0, tzinfo=UTC)).state == "up"  # Tue 01:00 (Mon's night)
    assert s.decide(datetime(2026, 12, 1, 23, 0, tzinfo=UTC)).state == "down"  # Tue night: not listed
    assert s.decide(datetime(2026, 11, 27, 1, 0, tzinfo=UTC)).state == "down"  # Fri 01:00 (Thu's night)


def test_several_periods() -> None:
    s = schedule(["Mon-Fri 08:00-12:00", "Mon-Fri 13:00-18:00", "Sat 10:00-12:00"])
    assert s.decide(datetime(2026, 11, 23, 12, 30, tzinfo=UTC)).state == "down"
    assert s.decide(datetime(2026, 11, 23, 13, 30, tzinfo=UTC)).state == "up"
    assert s.decide(datetime(2026, 11, 28, 11, 0, tzinfo=UTC)).state == "up"
    assert s.decide(datetime(2026, 11, 29, 11, 0, tzinfo=UTC)).state == "down"


def test_holidays_and_overrides() -> None:
    s = schedule(
        ["Mon-Fri 08:00-20:00"],
        "Europe/Berlin",
        holidays=["2026-12-24..2026-12-26", "2026-12-31"],
        overrides=[
            {"from": "2026-12-23T20:00", "to": "2026-12-24T02:00", "state": "up", "reason": "release night"},
            {"from": "2026-12-28", "to": "2026-12-28", "state": "down", "reason": "office closed"},
        ],
    )
    assert s.decide(local("Europe/Berlin", 2026, 12, 24, 10, 0)).reason.startswith("holiday 2026-12-24..")
    assert s.decide(local("Europe/Berlin", 2026, 12, 24, 10, 0)).state == "down"
    assert s.decide(local("Europe/Berlin", 2026, 12, 31, 10, 0)).state == "down"
    assert s.decide(local("Europe/Berlin", 2026, 12, 30, 10, 0)).state == "up"
    # The override wins over the holiday it reaches into, and ends when it says.
    assert s.decide(local("Europe/Berlin", 2026, 12, 23, 23, 0)).state == "up"
    assert s.decide(local("Europe/Berlin", 2026, 12, 24, 1, 59)).reason == "override: release night"
    assert s.decide(local("Europe/Berlin", 2026, 12, 24, 2, 0)).state == "down"
    # A date-only `to` includes that whole day.
    assert s.decide(local("Europe/Berlin", 2026, 12, 28, 23, 59)).state == "down"
    assert s.decide(local("Europe/Berlin", 2026, 12, 29, 8, 0)).state == "up"


def test_holiday_parsing() -> None:
    assert parse_holiday("2026-12-25") == (datetime(2026, 12, 25).date(), datetime(2026, 12, 25).date())
    with pytest.raises(ValueError, match="not a real date"):
        parse_holiday("2026-02-30")
    with pytest.raises(ValueError, match="ends before it starts"):
        parse_holiday("2026-12-26..2026-12-24")


# DST: in the schedule's zone, the wall clock decides; real hours follow the offset changes.
def test_berlin_spring_forward_gap() -> None:
    # 2026-03-29 (Sunday): 02:00 CET jumps to 03:00 CEST.
    s = schedule(["Sun 01:00-04:00", "Mon-Fri 08:00-20:00"], "Europe/Berlin")
    day = s.segments(local("Europe/Berlin", 2026, 3, 29, 0, 0), local("Europe/Berlin", 2026, 3, 30, 0, 0))
    up, total = uptime_fraction(day)
    assert total == 23  # the day is 23 hours long
    assert up == 2  # 01:00-04:00 on the wall clock is two real hours
    assert s.decide(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)).state == "up"  # 01:59 CET
    assert s.decide(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)).state == "up"  # 03:00 CEST
    assert s.decide(datetime(2026, 3, 29, 2, 0, tzinfo=UTC)).state == "down"  # 04:00 CEST
    # Monday 08:00 is 06:00 UTC after the change (07:00 UTC the Monday before).
    assert s.decide(datetime(2026, 3, 30, 6, 0, tzinfo=UTC)).state == "up"
    assert s.decide(datetime(2026, 3, 23, 6, 30, tzinfo=UTC)).state == "down"
    # A period that starts inside the gap starts when the clock lands after it.
    g = schedule(["Sun 02:30-05:00"], "Europe/Berlin")
    runs = g.segments(local("Europe/Berlin", 2026, 3, 29, 0, 0), local("Europe/Berlin", 2026, 3, 30, 0, 0))
    ups = [(a, b) for a, b, d in runs if d.state == "up"]
    assert ups == [(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 3, 29, 3, 0, tzinfo=UTC))]


def test_berlin_fall_back_overlap() -> None:
    # 2026-10-25 (Sunday): 03:00 CEST falls back to 02:00 CET; 02:xx happens twice.
    s = schedule(["Sun 01:00-04:00"], "Europe/Berlin")
    runs = s.segments(local("Europe/Berlin", 2026, 10, 25, 0, 0), local("Europe/Berlin", 2026, 10, 26, 0, 0))
    up, total = uptime_fraction(runs)
    assert total == 25
    assert up == 4
    first = local("Europe/Berlin", 2026, 10, 25, 2, 30, fold=0)
    second = local("Europe/Berlin", 2026, 10, 25, 2, 30, fold=1)
    assert second - first == timedelta(0) or second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    assert s.decide(first).state == s.decide(second).state == "up"
    d = schedule(["Sun 02:30-24:00"], "Europe/Berlin")
    # Up from the first 02:30 on (the repeated hour counts once started).
    assert d.decide(first.astimezone(UTC)).state == "up"
    assert d.decide(datetime(2026, 10, 25, 0, 29, tzinfo=UTC)).state == "down"  # 02:29 CEST


def test_new_york_gap_and_overlap() -> None:
    s = schedule(["Mon-Fri 08:00-20:00", "Sun 00:00-24:00"], "America/New_York")
    march = s.segments(local("America/New_York", 2026, 3, 8, 0, 0), local("America/New_York", 2026, 3, 9, 0, 0))
    assert uptime_fraction(march) == (23, 23)
    nov = s.segments(local("America/New_York", 2026, 11, 1, 0, 0), local("America/New_York", 2026, 11, 2, 0, 0))
    assert uptime_fraction(nov) == (25, 25)
    # Monday 08:00 EST is 13:00 UTC after fall back, 12:00 UTC before it.
    assert s.decide(datetime(2026, 11, 2, 12, 30, tzinfo=UTC)).state == "down"
    assert s.decide(datetime(2026, 11, 2, 13, 0, tzinfo=UTC)).state == "up"
    assert s.decide(datetime(2026, 10, 26, 12, 0, tzinfo=UTC)).state == "up"


def test_kolkata_has_no_dst_and_stays_put() -> None:
    s = schedule(["Mon-Fri 08:00-20:00"], "Asia/Kolkata")
    # The same local hours map to 02:30-14:30 UTC on the European and American DST days.
    for day in (datetime(2026, 3, 9), datetime(2026, 3, 30), datetime(2026, 10, 26), datetime(2026, 11, 2)):
        runs = s.segments(day.replace(tzinfo=UTC), (day + timedelta(days=1)).replace(tzinfo=UTC))
        ups = [(a.time(), b.time()) for a, b, d in runs if d.state == "up"]
        assert ups == [(datetime(2026, 1, 1, 2, 30).time(), datetime(2026, 1, 1, 14, 30).time())], day
    for month in range(1, 13):
        assert local("Asia/Kolkata", 2026, month, 15, 12, 0).utcoffset() == timedelta(hours=5, minutes=30)


def test_month_segments_count_real_hours() -> None:
    s = schedule(["Mon-Fri 08:00-20:00"], "Europe/Berlin")
    march = s.segments(local("Europe/Berlin", 2026, 3, 1, 0, 0), local("Europe/Berlin", 2026, 4, 1, 0, 0))
    up, total = uptime_fraction(march)
    assert total == 743
    assert up == 22 * 12  # 22 weekdays in March 2026
    october = s.segments(local("Europe/Berlin", 2026, 10, 1, 0, 0), local("Europe/Berlin", 2026, 11, 1, 0, 0))
    assert uptime_fraction(october) == (22 * 12, 745)


def test_next_change() -> None:
    s = schedule(["Mon-Fri 08:00-20:00"], "Asia/Kolkata")
    friday_night = local("Asia/Kolkata", 2026, 11, 27, 21, 0)
    assert s.next_change(friday_night) == local("Asia/Kolkata", 2026, 11, 30, 8, 0).astimezone(UTC)


def test_digest_follows_the_schedule() -> None:
    a = schedule(["Mon-Fri 08:00-20:00"], "Asia/Kolkata")
    b = schedule(["Mon-Fri 08:00-20:00"], "Asia/Kolkata")
    c = schedule(["Mon-Fri 08:00-19:00"], "Asia/Kolkata")
    assert a.digest == b.digest != c.digest
    assert len(a.digest) == 12


def test_bad_values_in_schedules_are_refused_naming_them(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match=r"unknown IANA time zone 'Asia'; use a full name"):
        schedule(["always"], "Asia")
    with pytest.raises(ValueError, match=r"uptime: expected a string like 'Mon-Fri 08:00-20:00', got 8"):
        parse_period(8)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"holidays: expected a date \(2026-12-25\) or range"):
        parse_holiday("Christmas")
    with pytest.raises(ValueError, match="needs an aware datetime"):
        schedule(["always"]).decide(datetime(2026, 11, 25, 12, 0))

    # A name in the zone list whose data cannot be read (a broken tzdata install): still one line.
    import devops.domain.schedule as module

    def unreadable(name: str) -> ZoneInfo:
        raise OSError(f"cannot read {name}")

    monkeypatch.setattr(module, "ZoneInfo", unreadable)
    with pytest.raises(ValueError, match=r"unknown IANA time zone 'Europe/Berlin' \(e.g. 'Asia/Kolkata'"):
        module.load_zone("Europe/Berlin")


def test_segments_cut_at_override_edges() -> None:
    s = schedule(["Mon-Fri 08:00-20:00"], overrides=[
        {"from": "2026-11-25T21:10", "to": "2026-11-25T22:20", "state": "up", "reason": "late deploy"}])
    runs = s.segments(datetime(2026, 11, 25, 0, 0, tzinfo=UTC), datetime(2026, 11, 26, 0, 0, tzinfo=UTC))
    assert [(a.strftime("%H:%M"), b.strftime("%H:%M"), d.state) for a, b, d in runs] == [
        ("00:00", "08:00", "down"), ("08:00", "20:00", "up"), ("20:00", "21:10", "down"),
        ("21:10", "22:20", "up"), ("22:20", "00:00", "down")]
    assert s.overrides[0].reason == "late deploy"
    unnamed = schedule(["always"], overrides=[{"from": "2026-12-28", "to": "2026-12-28", "state": "down"}])
    assert unnamed.overrides[0].reason == "override 2026-12-28..2026-12-28"
