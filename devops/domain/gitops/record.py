"""The release record `environments/<env>/release.json`: typed read, canonical write.

The record says what runs in an environment and why it was allowed to: per service the digest,
source commit, build time and the gate evidence, plus who or what released it. Reading checks
its shape and names the file and the key path of anything wrong (exit 2). Writing gives
2-space JSON with the keys in the documented order and a trailing newline, so diffs stay small.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from devops.domain.gitops.model_errors import validated
from devops.domain.types import Bool, Count, Int, Line, check_name, parse_timestamp

SCHEMA_VERSION = 1
OPTIONAL_KEYS = ("break_glass", "rollback")
DIGEST_PATTERN = r"^sha256:[a-f0-9]{64}$"
COMMIT_PATTERN = r"^[0-9a-f]{7,64}$"


class _Model(BaseModel):
    # Unknown keys are kept (a newer devops may add some) and written back unchanged.
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


def _timestamp(value: str | None) -> str | None:
    if value is None:
        return None
    parse_timestamp(value)  # ISO 8601 in 2000..2100, ValueError otherwise
    return value


class ScanEvidence(_Model):
    verdict: Literal["PASSED", "FAILED"]
    counts: dict[str, Count] = Field(default_factory=dict)
    checked_at: str | None = None
    trivy_version: str | None = None
    db_updated_at: str | None = None

    _checked = field_validator("checked_at", "db_updated_at")(_timestamp)


class SonarEvidence(_Model):
    verdict: Literal["PASSED", "FAILED", "SKIPPED"]
    reason: str | None = None
    checked_at: str | None = None

    _checked = field_validator("checked_at")(_timestamp)


class VerificationEvidence(_Model):
    """`devops verify` of this digest in this environment (health and SLO checks)."""

    verdict: Literal["PASSED", "FAILED"]
    verified_at: str | None = None
    window: str | None = None
    failing: list[str] = Field(default_factory=list)
    # PASSED without interruption since (the first of consecutive PASSED verdicts of this digest):
    # where a soak time counts from (docs/release.md, "Soak time").
    passing_since: str | None = None

    _verified = field_validator("verified_at", "passing_since")(_timestamp)


class RolledBackFrom(_Model):
    """On an entry an automatic rollback restored: the digest it replaced, which is not released
    to this environment again until the service changes (no rollback loop)."""

    digest: str = Field(pattern=DIGEST_PATTERN)
    at: str | None = None
    reason: Line | None = Field(None, max_length=500)

    _at = field_validator("at")(_timestamp)


class ServiceRecord(_Model):
    repository: Line = Field(min_length=1, max_length=255)
    tag: Line = Field("", max_length=128)
    digest: str = Field(pattern=DIGEST_PATTERN)
    # The build identity (input hash) the digest was built from: a release with the same inputs
    # knows it has nothing to do without asking the registry.
    inputs: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    source_commit: str | None = Field(None, pattern=COMMIT_PATTERN)
    # When the source commit was made (its committer date): the start of the DORA lead time
    # (docs/dora.md). Written by `devops release` since issue 17; older entries have none.
    source_committed_at: str | None = None
    built_at: str | None = None
    scan: ScanEvidence | None = None
    sonar: SonarEvidence | None = None
    verification: VerificationEvidence | None = None
    rolled_back_from: RolledBackFrom | None = None

    _built = field_validator("built_at", "source_committed_at")(_timestamp)

    @property
    def image(self) -> str:
        """`repository:tag@digest`, as commit messages and `status` show it."""
        tag = f":{self.tag}" if self.tag else ""
        return f"{self.repository}{tag}@{self.digest}"


class ReleasedBy(_Model):
    actor: Line
    via: Line
    run_url: Line | None = None


class PromotedFrom(_Model):
    environment: Line
    gitops_commit: str = Field(pattern=COMMIT_PATTERN)


class BreakGlass(_Model):
    """A release that went through a freeze on purpose (`--break-glass "reason"`)."""

    reason: Line = Field(min_length=1, max_length=500)
    by: ReleasedBy | None = None
    at: str | None = None
    freezes: list[Line] = Field(default_factory=list)  # the freezes it went through

    _at = field_validator("at")(_timestamp)


class RollbackMark(_Model):
    """What a rollback restored and why; `automatic` when a failed verification caused it (such a
    rollback is never rolled back itself)."""

    automatic: Bool = False
    reason: Line | None = Field(None, max_length=500)
    failed_commit: str | None = Field(None, pattern=COMMIT_PATTERN)  # the release whose verification failed
    restored: str = Field(pattern=COMMIT_PATTERN)  # the commit whose record it restored


class ReleaseRecord(_Model):
    schema_version: Int = Field(SCHEMA_VERSION, alias="schema")
    environment: Line
    released_at: str | None = None
    released_by: ReleasedBy | None = None
    source_commit: str | None = Field(None, pattern=COMMIT_PATTERN)
    promoted_from: PromotedFrom | None = None
    services: dict[str, ServiceRecord] = Field(default_factory=dict)
    break_glass: BreakGlass | None = None
    rollback: RollbackMark | None = None

    _released = field_validator("released_at")(_timestamp)

    @field_validator("services")
    @classmethod
    def _service_names(cls, value: dict[str, ServiceRecord]) -> dict[str, ServiceRecord]:
        for name in value:
            check_name(name)  # names become file names (values/{service}.yaml) and commit trailers
        return value

    @field_validator("schema_version")
    @classmethod
    def _known_schema(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"schema {value} is not supported by this devops (expected {SCHEMA_VERSION}); "
                             "upgrade devops")
        return value

    @classmethod
    def empty(cls, environment: str) -> ReleaseRecord:
        """The record of an environment nothing was released to yet."""
        return cls(environment=environment)

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the documented key order (unknown keys kept, after the known ones)."""
        data: dict[str, Any] = self.model_dump(by_alias=True, mode="json")
        for key in OPTIONAL_KEYS:  # written only when they say something (the empty record stays as it was)
            if data.get(key) is None:
                data.pop(key, None)
        for service in data["services"].values():
            for optional in ("inputs", "source_committed_at"):
                if service.get(optional) is None:
                    service.pop(optional, None)  # records written before it existed stay as they were
            # Evidence keys that do not apply (a PASSED Sonar verdict has no reason) are left out.
            for evidence in ("scan", "sonar", "verification", "rolled_back_from"):
                if evidence in ("verification", "rolled_back_from") and service.get(evidence) is None:
                    service.pop(evidence, None)
                if isinstance(service.get(evidence), dict):
                    service[evidence] = {k: v for k, v in service[evidence].items() if v is not None}
        return data

    def to_json(self) -> str:
        return dump(self.to_dict())


def dump(data: dict[str, Any]) -> str:
    """Canonical text: 2-space indent, keys as given, UTF-8, trailing newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# A record is five levels deep (services.<name>.scan.counts); unknown keys a newer devops adds
# may nest a little more, never hundreds of levels.
MAX_DEPTH = 16


def parse(text: str, file: str, *, environment: str | None = None) -> ReleaseRecord:
    """Parse and check a release record; BadInput naming the file and key path when malformed
    (also when nested deeper than MAX_DEPTH, larger than 2 MiB, or holding NaN/Infinity)."""
    from devops.domain.documents import load_json

    return validate(load_json(text, file, max_depth=MAX_DEPTH), file, environment=environment)


def validate(data: Any, file: str, *, environment: str | None = None) -> ReleaseRecord:
    """A record from plain data (what `ChangeSet.record` holds); BadInput naming the key path."""
    return validated(ReleaseRecord, data, file, environment=environment, kind="record",
                     hint="fix the record by hand or restore it with devops rollback")
