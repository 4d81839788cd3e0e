"""`devops status`: what each environment runs, with its evidence, and what a promotion would change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from devops.app.release import ReleaseRepository
from devops.domain.gitops.change import ImageRef
from devops.domain.release.evidence import parse_iso
from devops.domain.release.freeze import ActiveFreeze, FreezePolicy
from devops.domain.release.results import EnvironmentStatus, ServiceStatus
from devops.domain.release.rules import age, promotion_preview


class StatusSteps(Protocol):
    def open_repo(self, environment: str) -> AbstractContextManager[ReleaseRepository]: ...


def environment_status(environments: Sequence[str], promote_from: Mapping[str, str | None],
                       services: Sequence[str], steps: StatusSteps, *, now: dt.datetime,
                       freezes: Mapping[str, FreezePolicy] | None = None) -> list[EnvironmentStatus]:
    """Read each environment's values and record (one clone each) and compare promotion sources;
    with `freezes`, also what freezes each environment now (its freeze file and calendars)."""
    read: dict[str, tuple[str, dict[str, ImageRef | None], dict[str, Any]]] = {}
    frozen: dict[str, list[ActiveFreeze]] = {}
    needed = list(dict.fromkeys([*environments, *(s for e in environments if (s := promote_from.get(e)))]))
    for name in needed:
        with steps.open_repo(name) as repo:
            values = {}
            for service in services:
                ref = repo.read_values(service)
                values[service] = ref
            read[name] = (repo.commit, values, repo.read_record().to_dict())
            if freezes is not None and name in freezes:
                frozen[name] = freezes[name].active(repo.read_freeze(), now)
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
                                   str(by.get("actor") or "") if isinstance(by, Mapping) else "", pending=pending,
                                   freezes=frozen.get(name, []))
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
