"""The `--json` results of `devops release`, `rollback`, `status`, `verify` and `gitops set-image`.

Frozen pydantic models whose field names are the JSON keys (a stable interface: docs/cli.md,
"Machine output"; schemas in docs/schemas/). Keys that today's output leaves out rather than
writing null (`verification` of a release, `recorded` of a verify without `--record`, a check's
`value`) are declared in `OMIT_UNSET` and written only when the builder gives them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, RootModel, SerializerFunctionWrapHandler, model_serializer

from devops.domain.gitops.change import PublishResult
from devops.domain.gitops.repository import HistoryEntry
from devops.domain.release.evidence import iso
from devops.domain.release.results import EnvironmentStatus, ReleaseReport, ServiceRelease, ServiceStatus
from devops.domain.release.verification import Check, Verification, VerifyOutcome


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)
    # Fields written only when the builder set them (absent, not null, otherwise).
    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _leave_out_unset(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        # No return annotation on purpose: pydantic then publishes the fields' own schema.
        data = handler(self)
        for name in self.OMIT_UNSET - self.model_fields_set:
            data.pop(name, None)
        return data


# -- gitops set-image ------------------------------------------------------------------------


class ServiceChangeModel(_Result):
    service: str
    old: str = Field(description='"repository:tag@digest" before; "" when the values file held no image')
    new: str


class PublishModel(_Result):
    """What one publish to the GitOps repository did (`devops gitops set-image --json`)."""

    outcome: str = Field(description="committed, pull-request, noop or dry-run")
    changes: list[ServiceChangeModel]
    commit: str | None = Field(description="the commit on the target branch, or on the pull request's branch")
    branch: str
    pull_request_url: str | None = None
    pull_request_state: str | None = Field(None, description="opened, reused, or SKIPPED: <reason>")
    attempts: int = Field(0, description="push attempts used")
    diff: str = Field("", description="unified diff of the files changed")
    git_operations: int = Field(0, description="git commands run")
    remote: str = Field("", description="the GitOps repository, credentials shown as ***@")
    files: list[str] = Field(default_factory=list, description="files changed, relative to the repository")

    @classmethod
    def of(cls, result: PublishResult) -> PublishModel:
        return cls(outcome=result.outcome, changes=_changes(result), commit=result.commit, branch=result.branch,
                   pull_request_url=result.pull_request_url, pull_request_state=result.pull_request_state,
                   attempts=result.attempts, diff=result.diff, git_operations=result.git_operations,
                   remote=result.remote, files=list(result.files))


def _changes(result: PublishResult) -> list[ServiceChangeModel]:
    return [ServiceChangeModel(service=c.service, old=c.old, new=c.new) for c in result.changes]


# -- verify ----------------------------------------------------------------------------------


class CheckModel(_Result):
    OMIT_UNSET = frozenset({"value", "threshold"})

    name: str = Field(description="health, ready, up, traffic, availability, latency or coverage")
    verdict: str = Field(description="PASSED or FAILED")
    detail: str
    value: float | None = Field(None, description="what was measured (left out when nothing was)")
    threshold: float | None = Field(None, description="what it was held against (left out when nothing)")

    @classmethod
    def of(cls, check: Check) -> CheckModel:
        extra: dict[str, Any] = {}
        if check.value is not None:
            extra["value"] = round(check.value, 6)
        if check.threshold is not None:
            extra["threshold"] = check.threshold
        return cls(name=check.name, verdict=check.verdict, detail=check.detail, **extra)


class ServiceVerificationModel(_Result):
    OMIT_UNSET = frozenset({"digest"})

    service: str
    verdict: str
    checks: list[CheckModel]
    digest: str | None = Field(None, description="the digest checked (its values file's); left out without "
                                                 "--record, null when the values file names none")


class VerifyModel(_Result):
    """`devops verify --json`: the verdict per service and check, and what was recorded."""

    OMIT_UNSET = frozenset({"recorded", "record_error"})

    environment: str
    verdict: str = Field(description="PASSED only when every service passed every check")
    window: str
    prometheus: str
    verified_at: str
    services: list[ServiceVerificationModel]
    recorded: str | None = Field(None, description="with --record: what was written into the release record; "
                                                   "null when nothing could be")
    record_error: str | None = Field(None, description="why the verdict could not be recorded (only then)")

    @classmethod
    def of(cls, outcome: VerifyOutcome) -> VerifyModel:
        verification: Verification = outcome.verification
        services = []
        for checked in verification.services:
            extra = {"digest": verification.digests[checked.service] or None} \
                if checked.service in verification.digests else {}
            services.append(ServiceVerificationModel(service=checked.service, verdict=checked.verdict,
                                                     checks=[CheckModel.of(c) for c in checked.checks], **extra))
        recording: dict[str, Any] = {}
        if outcome.recording:
            recording["recorded"] = outcome.recorded
            if outcome.record_error is not None:
                recording["record_error"] = outcome.record_error
        return cls(environment=verification.environment, verdict=verification.verdict, window=verification.window,
                   prometheus=verification.prometheus, verified_at=iso(verification.verified_at),
                   services=services, **recording)


# -- release, promote, rollback --------------------------------------------------------------


class ServiceReleaseModel(_Result):
    OMIT_UNSET = frozenset({"signatures"})

    service: str
    status: str = Field(description="unchanged, released, would-release or refused")
    repository: str
    tag: str | None
    digest: str | None
    previous_digest: str | None
    note: str | None
    scan: dict[str, Any] | None = Field(description="the scan evidence written to the release record")
    sonar: dict[str, Any] | None = Field(description="the Sonar evidence written to the release record")
    signatures: dict[str, Any] | None = Field(
        None, description="promote only: {verdict: PASSED, policy, bundles: {kind: referrer digest}} as written to "
                          "the record, or {verdict: SKIPPED, reason} when the environment sets no signatures policy")

    @classmethod
    def of(cls, item: ServiceRelease) -> ServiceReleaseModel:
        extra = {"signatures": item.signatures} if item.signatures is not None else {}
        return cls(service=item.service, status=item.status, repository=item.repository, tag=item.tag or None,
                   digest=item.digest or None, previous_digest=item.previous_digest or None, note=item.note or None,
                   scan=item.scan, sonar=item.sonar, **extra)


class GitOpsModel(_Result):
    outcome: str = Field(description="committed, pull-request, noop or dry-run")
    commit: str | None
    branch: str
    pull_request_url: str | None
    pull_request_state: str | None
    attempts: int
    git_operations: int
    changes: list[ServiceChangeModel]
    diff: str

    @classmethod
    def of(cls, result: PublishResult) -> GitOpsModel:
        return cls(outcome=result.outcome, commit=result.commit, branch=result.branch,
                   pull_request_url=result.pull_request_url, pull_request_state=result.pull_request_state,
                   attempts=result.attempts, git_operations=result.git_operations, changes=_changes(result),
                   diff=result.diff)


class VerificationUnavailable(_Result):
    verdict: str = Field(description="UNAVAILABLE: the verification could not run (the release stands)")
    error: str


class ReleaseModel(_Result):
    """`devops release --json` (and `devops rollback --json`)."""

    OMIT_UNSET = frozenset({"verification"})

    environment: str
    action: str = Field(description="release, promote or rollback")
    source: str | None = Field(description="promote: the environment promoted from")
    dry_run: bool
    services: list[ServiceReleaseModel]
    gitops: GitOpsModel | None = Field(description="what was written to the GitOps repository; null: nothing to")
    verification: VerifyModel | VerificationUnavailable | None = Field(
        None, description="`devops verify` after a committed release, when the environment configures it")

    @classmethod
    def of(cls, report: ReleaseReport) -> ReleaseModel:
        extra: dict[str, Any] = {}
        if report.verification is not None:
            extra["verification"] = VerifyModel.of(report.verification)
        elif report.verification_error is not None:
            extra["verification"] = VerificationUnavailable(verdict="UNAVAILABLE", error=report.verification_error)
        return cls(environment=report.environment, action=report.action, source=report.source,
                   dry_run=report.dry_run, services=[ServiceReleaseModel.of(s) for s in report.services],
                   gitops=GitOpsModel.of(report.publish) if report.publish is not None else None, **extra)


class ReleaseEntry(_Result):
    commit: str
    date: str = Field(description="committer date, ISO 8601")
    subject: str


class ReleaseListModel(_Result):
    """`devops rollback --list --json`: the releases `--to` can name, newest first."""

    environment: str
    releases: list[ReleaseEntry]

    @classmethod
    def of(cls, environment: str, history: list[HistoryEntry]) -> ReleaseListModel:
        return cls(environment=environment,
                   releases=[ReleaseEntry(commit=h.commit, date=h.date, subject=h.subject) for h in history])


class RollbackModel(RootModel[ReleaseModel | ReleaseListModel]):
    """`devops rollback --json`: the rollback (as `devops release`), or with --list the releases."""

    model_config = ConfigDict(frozen=True)


# -- status ----------------------------------------------------------------------------------


class ServiceStatusModel(_Result):
    service: str
    tag: str | None
    digest: str | None
    source_commit: str | None
    released_at: str | None
    age: str | None
    scan: str | None
    sonar: str | None
    promotion: str | None = Field(description="what a promotion from the source environment would do")
    verification: str | None = Field(description="the `devops verify` verdict recorded for this digest")

    @classmethod
    def of(cls, s: ServiceStatus) -> ServiceStatusModel:
        return cls(service=s.service, tag=s.tag or None, digest=s.digest or None,
                   source_commit=s.source_commit or None, released_at=s.released_at or None, age=s.age or None,
                   scan=s.scan or None, sonar=s.sonar or None, promotion=s.promotion or None,
                   verification=s.verification or None)


class PromotionChange(_Result):
    from_: str | None = Field(alias="from", description="the digest the environment runs now")
    to: str = Field(description="the digest a promotion would write")


class EnvironmentStatusModel(_Result):
    environment: str
    gitops_commit: str
    promote_from: str | None
    released_at: str | None
    released_by: str | None
    services: list[ServiceStatusModel]
    promotion: dict[str, PromotionChange] = Field(description="per service, what a promotion would change")

    @classmethod
    def of(cls, status: EnvironmentStatus) -> EnvironmentStatusModel:
        return cls(environment=status.environment, gitops_commit=status.gitops_commit,
                   promote_from=status.promote_from, released_at=status.released_at or None,
                   released_by=status.released_by or None,
                   services=[ServiceStatusModel.of(s) for s in status.services],
                   promotion={service: PromotionChange(from_=old or None, to=new)
                              for service, (old, new) in status.pending.items()})


class StatusModel(_Result):
    """`devops status --json`."""

    environments: list[EnvironmentStatusModel]

    @classmethod
    def of(cls, statuses: list[EnvironmentStatus]) -> StatusModel:
        return cls(environments=[EnvironmentStatusModel.of(s) for s in statuses])
