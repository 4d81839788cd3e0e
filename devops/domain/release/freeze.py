"""Release freezes: is an environment frozen now, until when, and what a break-glass records.

Two kinds of freeze stop `devops release --env E` (exit 1, naming each freeze and when
releases resume): the freeze file `devops freeze` writes into the GitOps repository (every
runner and laptop sees it), and the calendars of `environments.<env>.freeze` (their freeze
periods, and their holidays unless `holidays: false`). `--break-glass "reason"` releases
through them; the reason, who and which freezes go into the release record, a commit trailer
and the notification. Break-glass passes freezes only: evidence (scans, Sonar, verification,
soak) is never waived.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devops.domain.calendars.model import Calendar
from devops.domain.gitops.change import PublishResult
from devops.domain.gitops.freeze import FreezeFile
from devops.domain.release.evidence import iso
from devops.domain.release.soak import human

MANUAL = "devops freeze"


@dataclass(frozen=True)
class ActiveFreeze:
    name: str                     # MANUAL, or the calendar entry's name
    source: str                   # "the GitOps repository" or "calendar <name>"
    until: dt.datetime | None     # when it ends (touching windows merged); None: no end given
    reason: str = ""
    by: str = ""

    def describe(self) -> str:
        until = f" until {iso(self.until)}" if self.until else ""
        why = f": {self.reason}" if self.reason else ""
        who = f" (by {self.by})" if self.by else ""
        return f"{self.name} ({self.source}){until}{who}{why}"


@dataclass(frozen=True)
class FreezePolicy:
    """What freezes an environment besides its freeze file (`environments.<env>.freeze`)."""

    environment: str
    calendars: tuple[Calendar, ...] = ()
    holidays: bool = True

    def active(self, manual: FreezeFile | None, now: dt.datetime) -> list[ActiveFreeze]:
        """Every freeze in force at `now`, the freeze file's first."""
        found = []
        if manual is not None and manual.active(now):
            by = manual.by.actor if manual.by else ""
            found.append(ActiveFreeze(MANUAL, "the GitOps repository", manual.until_instant, manual.reason or "", by))
        kinds = ("freeze", "holiday") if self.holidays else ("freeze",)
        for calendar in self.calendars:
            for kind in kinds:
                window = calendar.until(kind, now)  # type: ignore[arg-type]
                if window is not None:
                    found.append(ActiveFreeze(window.name, f"calendar {calendar.name}, {kind}", window.end))
        return found


def resumes_at(freezes: Sequence[ActiveFreeze]) -> dt.datetime | None:
    """When the last of `freezes` ends (None: one of them has no end)."""
    ends = [f.until for f in freezes]
    return None if not ends or any(end is None for end in ends) else max(e for e in ends if e is not None)


def refusal(environment: str, freezes: Sequence[ActiveFreeze], now: dt.datetime) -> str:
    """The exit-1 line: each freeze, and when releases resume."""
    end = resumes_at(freezes)
    when = f"releases resume at {iso(end)} (in {human((end - now).total_seconds())})" if end else \
        "until `devops unfreeze`"
    return f"{environment} is frozen: {'; '.join(f.describe() for f in freezes)}; {when}"


def break_glass(reason: str, by: Mapping[str, Any], now: dt.datetime,
                freezes: Sequence[ActiveFreeze]) -> dict[str, Any]:
    """The record's `break_glass` block (devops/domain/gitops/record.py::BreakGlass)."""
    return {"reason": " ".join(reason.split()), "by": dict(by), "at": iso(now),
            "freezes": [f.describe()[:500] for f in freezes]}


def freeze_document(environment: str, *, frozen: bool, until: dt.datetime | None, reason: str | None,
                    by: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The content `devops freeze` / `devops unfreeze` writes (devops/domain/gitops/freeze.py)."""
    return {"schema": 1, "environment": environment, "frozen": frozen,
            "until": iso(until) if frozen and until else None,
            "reason": " ".join(reason.split()) if frozen and reason else None, "by": dict(by), "at": iso(now)}


def parse_until(text: str) -> dt.datetime | dt.timedelta:
    """`--until` of `devops freeze`: an ISO 8601 instant (no offset: UTC) or a duration from now
    (`90m`, `4h`, `2d`, at most 400 days); ValueError in user words otherwise."""
    from devops.domain.observability.durations import DURATION, duration_seconds
    from devops.domain.timespec import parse_instant

    if re.fullmatch(DURATION, text.strip()):
        return dt.timedelta(seconds=duration_seconds(text.strip()))
    try:
        return parse_instant(text.strip())
    except ValueError:
        raise ValueError(f"expected an ISO 8601 time like 2026-12-27T09:00Z or a duration like 4h or 2d, "
                         f"got {text[:80]!r}") from None


def until_instant(value: dt.datetime | dt.timedelta, now: dt.datetime) -> dt.datetime:
    return now + value if isinstance(value, dt.timedelta) else value


@dataclass
class FreezeResult:
    environment: str
    action: str                          # freeze, unfreeze
    before: FreezeFile | None            # the freeze file as it was
    document: dict[str, Any] | None      # what was written (None: nothing)
    publish: PublishResult | None
    active: list[ActiveFreeze]           # every freeze in force once written (calendars included)
    dry_run: bool = False
