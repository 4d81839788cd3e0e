"""RFC 5545 recurrence rules of calendar entries: the accepted subset, and refusal of what may never occur."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from devops.domain.calendars.recurrence import build, normalise, occurrences

BERLIN = ZoneInfo("Europe/Berlin")
START = dt.datetime(2026, 1, 2, 15, 0)  # a Friday


@pytest.mark.parametrize("text", [
    "FREQ=WEEKLY", "RRULE:FREQ=WEEKLY;BYDAY=FR", "freq=monthly;byday=-1fr", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR", "FREQ=DAILY;COUNT=3", "FREQ=MONTHLY;BYMONTHDAY=-1;WKST=MO",
    "FREQ=YEARLY;BYDAY=20MO", "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=YEARLY;INTERVAL=4",
    "FREQ=DAILY;UNTIL=20261231",
])
def test_rules_of_the_subset_are_accepted(text: str) -> None:
    rule = normalise(text, BERLIN)
    assert rule.startswith("FREQ=") and next(iter(build(rule, START)), None) is not None


@pytest.mark.parametrize(("text", "why"), [
    ("", "expected an RFC 5545 rule"),
    ("FREQ", "expected KEY=VALUE parts"),
    ("FREQ=WEEKLY;BYSETPOS=1", "BYSETPOS is not supported"),
    ("FREQ=WEEKLY;FREQ=DAILY", "FREQ is given twice"),
    ("FREQ=HOURLY", "FREQ must be one of DAILY, WEEKLY, MONTHLY, YEARLY"),
    ("FREQ=DAILY;COUNT=2;UNTIL=20270101", "give COUNT or UNTIL, not both"),
    ("FREQ=DAILY;COUNT=0", "COUNT=0 is not a number from 1 to 10000"),
    ("FREQ=DAILY;INTERVAL=x", "INTERVAL=X is not a number from 1 to 1000"),
    ("FREQ=DAILY;WKST=XX", "WKST=XX is not a weekday"),
    ("FREQ=YEARLY;BYMONTH=13", "BYMONTH=13 is not a number from 1 to 12"),
    ("FREQ=YEARLY;BYMONTH=-2", "BYMONTH takes months 1 to 12"),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "the rule never occurs"),
    ("FREQ=MONTHLY;BYMONTH=4,6;BYMONTHDAY=31,-31", "the rule never occurs"),
    ("FREQ=WEEKLY;BYDAY=XY", "BYDAY=XY is not a weekday"),
    ("FREQ=WEEKLY;BYDAY=1FR", "a numbered BYDAY (1FR) needs FREQ=MONTHLY or YEARLY"),
    ("FREQ=MONTHLY;BYDAY=6FR", "a month has at most 5"),
    ("FREQ=YEARLY;BYMONTH=3;BYDAY=6FR", "a month has at most 5"),
    ("FREQ=YEARLY;BYDAY=54MO", "a year has at most 53"),
    ("FREQ=MONTHLY;BYDAY=0FR", "a month has at most 5"),
    ("FREQ=MONTHLY;BYDAY=5FR;BYMONTHDAY=1", "with BYMONTHDAY may never occur"),
    ("FREQ=DAILY;INTERVAL=7;BYDAY=MO", "INTERVAL above 1 is accepted only alone or as WEEKLY with BYDAY"),
    ("FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31", "INTERVAL above 1"),
    ("FREQ=DAILY;UNTIL=2026", "UNTIL=2026 is not a date"),
    ("FREQ=DAILY;UNTIL=20261399T000000Z", "is not a real date-time"),
    ("x" * 501, "expected an RFC 5545 rule"),
])
def test_rules_outside_the_subset_or_that_never_occur_are_refused(text: str, why: str) -> None:
    with pytest.raises(ValueError) as refused:
        normalise(text, BERLIN)
    assert why in str(refused.value)


def test_a_utc_until_is_turned_into_the_calendars_wall_clock() -> None:
    assert normalise("FREQ=DAILY;UNTIL=20261231T230000Z", BERLIN) == "FREQ=DAILY;UNTIL=20270101T000000"


def test_a_rule_that_ends_before_it_starts_never_occurs() -> None:
    with pytest.raises(ValueError, match="never occurs after 2026-01-02T15:00:00"):
        build(normalise("FREQ=DAILY;UNTIL=20251231", BERLIN), START)


def test_dateutil_refusals_are_reported_as_the_rule() -> None:
    with pytest.raises(ValueError, match="rrule 'FREQ=WEEKLY;BYDAY=FR;UNTIL=20260101T000000Z'"):
        build("FREQ=WEEKLY;BYDAY=FR;UNTIL=20260101T000000Z", START)  # not normalised: UTC UNTIL, naive start


def test_occurrences_leave_out_exdates_and_stay_in_wall_clock_time() -> None:
    rule = build(normalise("FREQ=WEEKLY;BYDAY=FR", BERLIN), START)
    found = occurrences(rule, (dt.datetime(2026, 3, 27, 15, 0),), dt.datetime(2026, 3, 20), dt.datetime(2026, 4, 4))
    assert found == [dt.datetime(2026, 3, 20, 15, 0), dt.datetime(2026, 4, 3, 15, 0)]  # 15:00 on both sides of DST
