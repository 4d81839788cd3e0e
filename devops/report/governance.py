"""How `devops freeze` and `devops unfreeze` show what they did, and their `--json` result."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from devops.domain.release.evidence import iso
from devops.domain.release.freeze import FreezeResult
from devops.report.console import Reporter
from devops.report.release_models import FreezeModel, GitOpsModel


class FreezeResultModel(BaseModel):
    """`devops freeze --json` and `devops unfreeze --json`."""

    model_config = ConfigDict(frozen=True)

    environment: str
    action: str = Field(description="freeze or unfreeze")
    dry_run: bool
    written: dict[str, Any] | None = Field(description="the freeze file written (docs/release.md); null: nothing")
    gitops: GitOpsModel | None = Field(description="the commit or pull request; null when nothing was written")
    freezes: list[FreezeModel] = Field(description="every freeze in force afterwards (calendars included)")

    @classmethod
    def of(cls, result: FreezeResult) -> FreezeResultModel:
        return cls(environment=result.environment, action=result.action, dry_run=result.dry_run,
                   written=result.document if result.publish is not None else None,
                   gitops=GitOpsModel.of(result.publish) if result.publish is not None else None,
                   freezes=[FreezeModel(name=f.name, source=f.source, until=iso(f.until) if f.until else None,
                                        reason=f.reason or None, by=f.by or None) for f in result.active])


def render_freeze(reporter: Reporter, result: FreezeResult) -> None:
    publish = result.publish
    env = result.environment
    if publish is None:
        line = f"{env}: not frozen by `devops freeze`; nothing to lift (no commit)"
    elif publish.outcome == "noop":
        line = f"{env}: the freeze file already says this (no commit)"
    elif publish.outcome == "dry-run":
        line = f"{env}: dry run, nothing written"
        reporter.console.print(publish.diff, markup=False, highlight=False)
    elif publish.outcome == "pull-request":
        line = f"{env}: {result.action} proposed in pull request {publish.pull_request_url or publish.branch} " \
               f"({publish.pull_request_state or ''})"
    else:
        line = f"{env}: {result.action} committed {(publish.commit or '')[:12]} to {publish.branch}"
    reporter.info(line)
    for freeze in result.active:
        reporter.info(f"{env} is frozen: {freeze.describe()}")
    if not result.active:
        reporter.info(f"{env}: releases are open")
    reporter.github.summary(f"### {result.action.capitalize()} {env}\n\n{line}\n")
    reporter.result(FreezeResultModel.of(result))
