"""Soak time: a digest is promoted only after it ran, verified, long enough in the source
environment (`environments.<target>.evidence.min_soak`).

The soak of a record entry starts when its digest was first verified PASSED there
(`verification.passing_since`, else `verified_at`: consecutive PASSED verdicts keep the first
one) and, in a source environment that does not verify, when the digest was released there
(the entry's `built_at`, the time of that release). A FAILED verdict of the digest means it has
not soaked at all. Time in the future counts as none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from devops.domain.release.moments import iso, parse_iso

PASSED = "PASSED"  # as `devops verify` writes it (evidence.py imports this module: no import back)


def human(seconds: float) -> str:
    """A duration as people read it: 45s, 12m, 1h 12m, 2d 3h."""
    seconds = max(0, int(seconds + 0.999))  # round up: "0s left" while something is left would lie
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m {secs}s" if secs and minutes < 10 else f"{minutes}m"
    return f"{secs}s"


def soak_start(entry: Mapping[str, Any], source: str) -> tuple[dt.datetime | None, str]:
    """When the entry's digest started soaking in `source`, and what says so ("" reason when it
    has not started)."""
    digest = entry.get("digest")
    evidence = entry.get("verification")
    if isinstance(evidence, Mapping) and evidence.get("digest") == digest \
            and evidence.get("environment") in (None, source):
        if evidence.get("verdict") != PASSED:
            return None, f"its verification in {source} is {evidence.get('verdict')}"
        since = parse_iso(evidence.get("passing_since")) or parse_iso(evidence.get("verified_at"))
        return since, "verified"
    return parse_iso(entry.get("built_at")), "released"


def soak_refusal(service: str, entry: Mapping[str, Any], source: str, min_soak_seconds: int,
                 now: dt.datetime) -> str:
    """Why `entry` has not soaked `min_soak_seconds` in `source`; empty when it has."""
    digest = str(entry.get("digest") or "")[:19]
    since, how = soak_start(entry, source)
    need = human(min_soak_seconds)
    if since is None:
        why = f"the record has no time it was {how} there" if how in ("verified", "released") else how
        return f"{service} {digest}: has not started its {need} soak in {source} ({why})"
    soaked = (now - since).total_seconds()
    if soaked >= min_soak_seconds:
        return ""
    ready = since + dt.timedelta(seconds=min_soak_seconds)
    return (f"{service} {digest}: {how} in {source} {human(max(0.0, soaked))} ago (since {iso(since)}), "
            f"min_soak is {need}: {human((ready - now).total_seconds())} left (promotable from {iso(ready)})")
