"""`devops release --env E` as one use case: the freeze check, the release (or promotion), the
verification after it, the automatic rollback when that verification fails, and the
notifications of each step.

The order is the guarantee: a freeze (devops/app/freeze.py::admission) stops the run before
anything is built, scanned or asked of a registry; the release and promotion decide alone
what reaches the GitOps repository (devops/app/release.py, promote.py); the verification and
the rollback only ever follow a commit that deploys (devops/app/verify_run.py,
auto_rollback.py). Notifications are told what happened and never change the outcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from devops.app.freeze import admission
from devops.app.notify import NO_NOTIFIER, Notifier
from devops.app.release import ReleaseSteps, release
from devops.domain.release.evidence import EvidencePolicy, utc_now
from devops.domain.release.freeze import FreezePolicy
from devops.domain.release.results import ReleaseReport
from devops.errors import DevopsError

if TYPE_CHECKING:  # what only some runs need is imported when they need it (a no-op release stays cheap)
    from devops.app.promote import PromotionSteps
    from devops.app.rollback import RollbackRepository, RollbackSteps
    from devops.app.signatures import SignatureGate
    from devops.app.verify_run import VerifyPorts
    from devops.config.model import Config


def _quiet(_message: str) -> None:
    """A warning nobody asked to see."""


if TYPE_CHECKING:
    class ReleaseRunSteps(ReleaseSteps, PromotionSteps, RollbackSteps, Protocol):
        """Everything a release run may need of the outside world (devops/wiring/release.py::CliSteps)."""

        def open_repo(self, environment: str) -> AbstractContextManager[RollbackRepository]: ...


@dataclass(frozen=True)
class ReleaseRequest:
    environment: str
    services: Sequence[str] = ()          # chosen by the user; empty: all
    dry_run: bool = False
    mode: str | None = None
    break_glass: str | None = None        # --break-glass "reason"


@dataclass(frozen=True)
class Governance:
    """The rules and ports around a release (devops/wiring/governance.py builds them)."""

    evidence: EvidencePolicy              # what a promotion accepts (soak included)
    freezes: FreezePolicy                 # the calendars that freeze the environment
    notifier: Notifier = NO_NOTIFIER
    clock: Callable[[], dt.datetime] = utc_now
    warn: Callable[[str], None] = field(default=_quiet)
    signatures: SignatureGate | None = None  # the target's signature policy (promotion only; None: not checked)


def run_release(config: Config, request: ReleaseRequest, steps: ReleaseRunSteps, verify: VerifyPorts,
                governance: Governance) -> tuple[ReleaseReport, DevopsError | None]:
    """Release (or promote) as the module docstring says; the report, and the error to raise
    once it is shown (a failed verification, exit 1; a verification or rollback that could not
    run or be written, exit 3)."""
    environment = request.environment
    target = config.environment(environment)
    order = list(config.services)
    chosen = list(request.services)
    now = governance.clock()
    admit = admission(environment, governance.freezes, request.break_glass, steps.released_by, now, governance.warn)
    if target.promote_from:
        from devops.app.promote import promote

        report = promote(environment, target.promote_from, chosen, order, steps, governance.evidence, now=now,
                         dry_run=request.dry_run, mode=request.mode, admit=admit, signatures=governance.signatures)
    else:
        report = release(environment, chosen or order, order, steps, now=now, dry_run=request.dry_run,
                         mode=request.mode, admit=admit)
    from devops.app.verify_run import verify_release
    from devops.domain.notify.release_events import break_glass_event, release_event
    from devops.domain.release.verification import FAILED

    for event in (release_event(report, now), break_glass_event(report, now)):
        if event is not None:
            governance.notifier.notify(event)
    error = verify_release(report, config, chosen or order, verify, now=governance.clock)
    verdict = report.verification.verification.verdict if report.verification is not None else None
    if verdict == FAILED and target.auto_rollback:
        from devops.app.auto_rollback import auto_rollback

        error = auto_rollback(report, order, steps, now=governance.clock(), notifier=governance.notifier) or error
    return report, error
