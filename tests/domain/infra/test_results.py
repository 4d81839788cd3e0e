"""What the infra use cases return (pure values)."""

from __future__ import annotations

from devops.domain.infra.results import UnlockReport


def test_a_lock_is_released_only_when_held_and_not_a_dry_run() -> None:
    assert UnlockReport("dev", "id", held=True).released is True
    assert UnlockReport("dev", "id", held=True, dry_run=True).released is False
    assert UnlockReport("dev", "id", held=False).released is False
