"""What `devops plan`, `build` and `push` show: tables, the job summary, step outputs, and the
`--json` results (pydantic models; their field names are a stable interface, docs/schemas/)."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from devops.domain.images.plan import Plan, ServicePlan
from devops.domain.images.results import BuildResult, ImagesReport, PushResult, ServiceOutcome
from devops.report.console import Reporter
from devops.report.github import markdown_table


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- devops plan ---------------------------------------------------------------------------------

class MatrixEntry(_Result):
    service: str
    path: str
    tag: str = Field(description="in-<input hash>: the tag the build gives the image")


class PlanResult(_Result):
    """`devops plan --json`: a GitHub Actions matrix of the services to rebuild."""

    include: list[MatrixEntry]


def plan_result(plan: Plan) -> PlanResult:
    return PlanResult(include=[MatrixEntry(service=s.service, path=s.path, tag=s.inputs.tag) for s in plan.changed])


def render_plan(reporter: Reporter, plan: Plan) -> None:
    result = plan_result(plan)
    reporter.github.output("matrix", json.dumps(result.model_dump(mode="json"), separators=(",", ":")))
    reporter.github.output("changed", " ".join(s.service for s in plan.changed))
    if reporter.json_mode:
        reporter.result(result)
        return
    reporter.table(
        f"Plan ({len(plan.changed)} of {len(plan.services)} to build)",
        ["service", "build", "tag", "reason"],
        [(s.service, "yes" if s.changed else "no", s.inputs.tag, s.reason) for s in plan.services],
    )


# -- devops build / push -------------------------------------------------------------------------

class PlannedImage(_Result):
    service: str
    path: str
    input_hash: str = Field(description="sha256 of the build inputs")
    tag: str
    image: str = Field(description="local reference repository:in-<hash>")
    changed: bool
    reason: str
    base_images: list[str]


class DryRunResult(_Result):
    """`--dry-run`: what would be built, nothing built or pushed."""

    dry_run: Literal[True] = True
    services: list[PlannedImage]


class BuildOutcome(_Result):
    service: str
    status: Literal["built", "skipped", "failed"]
    image: str
    tags: list[str]
    seconds: float
    reason: str
    error: str


class PushOutcome(_Result):
    service: str
    repository: str
    tags: list[str]
    digest: str
    reference: str = Field(description="repository@sha256:...: what GitOps records")
    attempts: int
    skipped: str | None = Field(description="why nothing was pushed (already in the registry)")
    error: str | None
    retries: list[str] = Field(description="why each retried attempt failed")


class BuiltImage(_Result):
    """A service built (or found built), not pushed."""

    service: str
    input_hash: str
    image: str
    build: BuildOutcome | None = Field(default=None, exclude_if=lambda value: value is None)


class PushedImage(_Result):
    """A service built and pushed: `digest` and `reference` are null when the push failed."""

    service: str
    input_hash: str
    image: str
    build: BuildOutcome | None = Field(default=None, exclude_if=lambda value: value is None)
    push: PushOutcome
    digest: str | None
    reference: str | None


class ImagesResult(_Result):
    """`devops build` / `devops push`: each service, the count per build status, the failed ones."""

    services: list[PushedImage | BuiltImage]
    summary: dict[str, int]
    failed: list[str]


class ImagesCommandResult(RootModel[ImagesResult | DryRunResult]):
    """`devops build --json` and `devops push --json`."""

    model_config = ConfigDict(frozen=True)


def planned_image(plan: ServicePlan) -> PlannedImage:
    return PlannedImage(service=plan.service, path=plan.path, input_hash=plan.inputs.digest, tag=plan.inputs.tag,
                        image=plan.image, changed=plan.changed, reason=plan.reason,
                        base_images=list(plan.inputs.base_images))


def _build(result: BuildResult) -> BuildOutcome:
    return BuildOutcome(service=result.service, status=result.status.value, image=result.image, tags=result.tags,
                        seconds=round(result.seconds, 2), reason=result.reason, error=result.error)


def _push(result: PushResult) -> PushOutcome:
    return PushOutcome(service=result.service, repository=result.repository, tags=result.tags,
                       digest=result.digest, reference=result.reference, attempts=result.attempts,
                       skipped=result.skipped_reason or None, error=result.error or None, retries=result.retries)


def _outcome(outcome: ServiceOutcome) -> PushedImage | BuiltImage:
    plan = outcome.plan
    build = _build(outcome.build) if outcome.build else None
    if outcome.push is None:
        return BuiltImage(service=plan.service, input_hash=plan.inputs.digest, image=plan.image, build=build)
    return PushedImage(service=plan.service, input_hash=plan.inputs.digest, image=plan.image, build=build,
                       push=_push(outcome.push), digest=outcome.push.digest or None,
                       reference=outcome.push.reference or None)


def images_result(report: ImagesReport) -> ImagesCommandResult:
    return ImagesCommandResult(ImagesResult(services=[_outcome(o) for o in report.outcomes],
                                            summary=report.counts(),
                                            failed=[o.plan.service for o in report.failed]))


def render_dry_run(reporter: Reporter, plan: Plan) -> None:
    rows = [(s.service, "build" if s.changed else "skip", s.image, s.reason) for s in plan.services]
    reporter.table("Dry run: nothing built or pushed", ["service", "action", "image", "reason"], rows)
    reporter.result(ImagesCommandResult(DryRunResult(services=[planned_image(s) for s in plan.services])))


def render_images(reporter: Reporter, report: ImagesReport, pushed: bool) -> None:
    headers = ["service", "build", "tag", "time", "note"] + (["digest"] if pushed else [])
    rows = []
    for o in report.outcomes:
        b = o.build
        note = ""
        if b is not None:
            note = b.reason or (b.error.splitlines()[0] if b.error else "")
        if o.push and o.push.error:
            note = o.push.error.splitlines()[0]
        row = [
            o.plan.service,
            b.status.value if b else "-",
            o.plan.inputs.tag,
            f"{b.seconds:.1f}s" if b and b.seconds else "-",
            note,
        ]
        if pushed:
            row.append(o.push.digest if o.push and o.push.digest else "-")
        rows.append(row)
    reporter.table("Images", headers, rows)
    for o in report.failed:
        message = o.error
        reporter.errors.print(f"{o.plan.service}: {message}", markup=False)
        reporter.github.annotate(
            "error", message.splitlines()[0] if message else "failed", title=f"{o.plan.service} image"
        )
    reporter.github.summary("### Images\n\n" + markdown_table(headers, rows))
    if pushed:
        reporter.github.output("digests", json.dumps(report.digests(), separators=(",", ":")))
    reporter.result(images_result(report))


def render_outcome(reporter: Reporter, plan: Plan, report: ImagesReport | None, *, pushed: bool) -> None:
    """A dry run's plan, or what was built and pushed."""
    if report is None:
        render_dry_run(reporter, plan)
    else:
        render_images(reporter, report, pushed)
