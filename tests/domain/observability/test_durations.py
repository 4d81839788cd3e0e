"""Prometheus durations: one unit, at most 400 days."""

from __future__ import annotations

import pytest

from devops.domain.observability.durations import duration_seconds


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("5m", 300), ("1h", 3600), ("30d", 2_592_000),
                                               ("2w", 1_209_600), ("400d", 34_560_000)])
def test_durations(text: str, seconds: int) -> None:
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "0m", "5", "1h30m", "5 m", "-1d", "1y", "1234567890123s"])
def test_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration like 5m, 1h or 30d"):
        duration_seconds(text)


def test_not_a_string_is_not_a_duration() -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        duration_seconds(5)  # type: ignore[arg-type]


def test_longer_than_400_days_is_a_typo() -> None:
    with pytest.raises(ValueError, match="401d is longer than 400 days"):
        duration_seconds("401d")
