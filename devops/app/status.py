"""`devops status`: what each environment runs, with its evidence, and what a promotion would change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from devops.app.promote import promotion_preview
from devops.app.release import GitOpsRepository
from devops.domain.gitops.change import ImageRef
from devops.domain.release.evidence import parse_iso


class StatusSteps(Protocol):
    def open_repo(self, environment: str) -> AbstractContextManager[GitOpsRepository]: ...


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    tag: str
    digest: str
    source_commit: str
    released_at: str
    age: str
    scan: str
    sonar: str
    promotion: str  # what a promotion from the source environment would do: "", "→ sha-…", "no release"
    verification: str = ""  # `devops verify` verdict recorded for this digest, "" when none

    def to_dict(self) -> dict[str, Any]:
        return {"service": self.service, "tag": self.tag or None, "digest": self.digest or None,
                "source_commit": self.source_commit or None, "released_at": self.released_at or None,
                "age": self.age or None, "scan": self.scan or None, "sonar": self.sonar or None,
                "promotion": self.promotion or None, "verification": self.verification or None}


@dataclass
class EnvironmentStatus:
    environment: str
    gitops_commit: str
    promote_from: str | None
    released_at: str
    released_by: str
    services: list[ServiceStatus] = field(default_factory=list)
    pending: dict[str, tuple[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "gitops_commit": self.gitops_commit,
                "promote_from": self.promote_from, "released_at": self.released_at or None,
                "released_by": self.released_by or None,
                "services": [s.to_dict() for s in self.services],
                "promotion": {service: {"from": old or None, "to": new}
                              for service, (old, new) in self.pending.items()}}


def age(moment: dt.datetime | None, now: dt.datetime) -> str:
    """Human age: 45s, 12m, 3h, 4d."""
    if moment is None:
        return ""
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def environment_status(environments: Sequence[str], promote_from: Mapping[str, str | None],
                       services: Sequence[str], steps: StatusSteps, *, now: dt.datetime) -> list[EnvironmentStatus]:
    """Read each environment's values and record (one clone each) and compare promotion sources."""
    read: dict[str, tuple[str, dict[str, ImageRef | None], dict[str, Any]]] = {}
    needed = list(dict.fromkeys([*environments, *(s for e in environments if (s := promote_from.get(e)))]))
    for name in needed:
        with steps.open_repo(name) as repo:
            values = {}
            for service in services:
                ref = repo.read_values(service)
                values[service] = ref
            read[name] = (repo.commit, values, repo.read_record().to_dict())
    result = []
    for name in environments:
        commit, values, record = read[name]
        entries: dict[str, dict[str, Any]] = record["services"]
        source = promote_from.get(name)
        pending: dict[str, tuple[str, str]] = {}
        if source:
            digests = {s: ref.digest if (ref := values[s]) is not None else "" for s in services}
            pending = promotion_preview(read[source][2]["services"], digests)
        by = record.get("released_by") or {}
        status = EnvironmentStatus(name, commit, source, str(record.get("released_at") or ""),
                                   str(by.get("actor") or "") if isinstance(by, Mapping) else "", pending=pending)
        for service in services:
            ref, entry = values[service], entries.get(service, {})
            digest, tag = (ref.digest, ref.tag) if ref is not None else ("", "")
            # The record speaks for the digest it names; a values file edited by hand has no evidence.
            matches = entry.get("digest") == digest and bool(digest)
            released = parse_iso(entry.get("built_at")) if matches else None
            scan = (entry.get("scan") or {}).get("verdict", "") if matches else ("no evidence" if digest else "")
            sonar = (entry.get("sonar") or {}).get("verdict", "") if matches else ""
            verified = entry.get("verification") or {}
            # A verdict speaks only for the digest it names (devops verify --record writes it).
            verified_this = matches and isinstance(verified, Mapping) and verified.get("digest") == digest
            verification = str(verified.get("verdict", "")) if verified_this else ""
            if verification and verified.get("environment") not in (None, name):
                verification += f" in {verified['environment']}"
            promotion = ""
            if service in pending:
                new = pending[service][1]
                promotion = f"-> {new[:19]}"
            status.services.append(ServiceStatus(
                service, tag, digest, str(entry.get("source_commit") or "") if matches else "",
                str(entry.get("built_at") or "") if matches else "", age(released, now), scan, sonar, promotion,
                verification))
        result.append(status)
    return result
