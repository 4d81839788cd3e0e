"""Release governance keys of `environments.<env>` (freezes, the evidence a promotion accepts,
soak time included, automatic rollback) and the references between the new blocks (calendars,
notification channels) and the rest of the file."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

from devops.config.base import Section
from devops.domain.observability.durations import duration_seconds
from devops.domain.types import Bool, Int


def _duration(value: str) -> str:
    duration_seconds(value)  # ValueError: expected a duration like 5m, 1h or 30d
    return value


# A Prometheus-style duration (30m, 2h, 1d), at most 400 days.
Duration = Annotated[str, AfterValidator(_duration)]


class FreezeConfig(Section):
    """When releases to the environment stop, besides `devops freeze` (docs/release.md, "Freezes")."""

    # Calendars (`calendars:`) whose freezes stop releases to this environment.
    calendars: tuple[str, ...] = ()
    # Their holidays stop them too.
    holidays: Bool = True


def check_references(config: Any) -> None:  # the Config of devops/config/model.py, which imports this
    """ValueError naming the key of the first name that points nowhere, or of a governance key
    that cannot work where it is set."""
    known = ", ".join(sorted(config.calendars)) or "none defined"
    for name, schedule in config.cost.schedules.items():
        for calendar in schedule.calendars:
            if calendar not in config.calendars:
                raise ValueError(f"cost.schedules.{name}.calendars: unknown calendar {calendar!r} (known: {known})")
    for name, env in config.environments.items():
        for calendar in env.freeze.calendars:
            if calendar not in config.calendars:
                raise ValueError(f"environments.{name}.freeze.calendars: unknown calendar {calendar!r} "
                                 f"(known: {known})")
        if env.auto_rollback and env.verify is None:
            raise ValueError(f"environments.{name}.auto_rollback: needs environments.{name}.verify "
                             "(a rollback follows a failed verification)")
        if env.evidence.min_soak is not None and env.promote_from is None:
            raise ValueError(f"environments.{name}.evidence.min_soak: only an environment with promote_from "
                             "promotes; set it there")
    for name, channel in config.notifications.channels.items():
        for env_name in channel.environments:
            if env_name not in config.environments:
                raise ValueError(f"notifications.channels.{name}.environments: unknown environment "
                                 f"{env_name!r}; known: {', '.join(sorted(config.environments))}")


class VerifyEvidencePolicy(Section):
    """What a promotion accepts as evidence from the environment it promotes from."""

    # Scan verdicts older than this are re-checked by a rescan of the same digest; null: never expire.
    scan_max_age_days: Int | None = Field(7, ge=1, le=3650)
    # Promotion refuses digests whose Sonar verdict was SKIPPED when this is true.
    require_sonar: Bool = False
    # Promotion refuses digests without a PASSED `devops verify` in the source environment.
    # Null: required exactly when the source environment configures `verify`.
    require_verification: Bool | None = None
    # A digest is promoted only after it ran verified this long in the source environment
    # (a duration: 30m, 2h, 1d); null: no minimum.
    min_soak: Duration | None = None

    @property
    def min_soak_seconds(self) -> int | None:
        return duration_seconds(self.min_soak) if self.min_soak else None
