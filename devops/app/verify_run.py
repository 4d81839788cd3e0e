"""`devops verify` (and the verification step of `devops release`): check a released environment
and record the verdict as release evidence.

The input is checked first (the `verify` block, `--window`, the services); then the rollout gets
its settle time, the GitOps repository is read (when recording: the digests its values files name
then are what the verdict is about, and the same repository writes it, compare-and-swap, so a
release landing during the checks is noticed), the checks run (devops/app/verify.py) and the
verdict is written. Prometheus, the health probe and the GitOps repository are ports
(`VerifyPorts`, wired in devops/wiring/release.py); nothing is rendered here.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field

from devops.app.notify import NO_NOTIFIER, Notifier
from devops.app.release import ReleaseRepository
from devops.app.verify import HealthProbe, MetricsSource, VerifySettings, deployed_digests, record_evidence, verify
from devops.config.model import Config
from devops.config.observability import DURATION, PrometheusEndpoint, VerifyConfig, duration_seconds
from devops.domain.notify.release_events import verification_failed_event
from devops.domain.release.evidence import utc_now
from devops.domain.release.results import ReleaseReport
from devops.domain.release.verification import PASSED, Verification, VerifyOutcome, failure
from devops.errors import BadInput, ConfigError, DevopsError


def _quiet(_message: str) -> None:
    """Progress nobody asked to see."""


@dataclass(frozen=True)
class VerifyPorts:
    """The outside world of a verification."""

    metrics: Callable[[PrometheusEndpoint], MetricsSource]  # the client of the environment's Prometheus
    probe: HealthProbe
    open_repo: Callable[[str], AbstractContextManager[ReleaseRepository]]  # an environment's GitOps repository
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic  # what the health poll's deadline is measured on
    info: Callable[[str], None] = field(default=_quiet)
    debug: Callable[[str], None] = field(default=_quiet)
    notifier: Notifier = NO_NOTIFIER  # told when a verification fails


def verify_config(config: Config, environment: str, prometheus_url: str | None) -> VerifyConfig:
    """The environment's `verify` block; `--prometheus-url` may stand in for a missing one."""
    block = config.environment(environment).verify
    if block is None:
        if not prometheus_url:
            raise ConfigError(f"{config.source}: environments.{environment}.verify is not set",
                              hint="add it (docs/observability.md) or pass --prometheus-url")
        return VerifyConfig(prometheus=PrometheusEndpoint(url=prometheus_url))
    if prometheus_url:
        return block.model_copy(update={"prometheus": block.prometheus.model_copy(update={"url": prometheus_url})})
    return block


def verify_environment(config: Config, environment: str, services: Sequence[str], ports: VerifyPorts, *,
                       record: bool = True, window: str | None = None, prometheus_url: str | None = None,
                       settle: bool = False, now: Callable[[], dt.datetime] = utc_now,
                       ) -> tuple[VerifyOutcome, DevopsError | None]:
    """Verify `services` (all when empty) of `environment` and, with `record`, write the verdict.

    Returns the outcome and the error to raise once it is shown. Nothing is lost on the way: a
    verdict that could not be recorded (GitOps repository unreachable, push refused) is still
    returned, with the reason, and becomes the error (exit 3) when the verdict itself passed,
    since promotion needs it recorded. Errors of the verification itself (Prometheus
    unreachable) propagate: there is no verdict to show.
    """
    block = verify_config(config, environment, prometheus_url)
    if window is not None:
        try:
            if duration_seconds(window) < 60:
                raise ValueError("must be at least 1m")
        except ValueError as exc:
            raise BadInput(f"--window {window}: {exc}", hint=f"a duration matching {DURATION}") from None
    chosen = list(services) or list(config.services)
    for name in chosen:
        config.service(name)
    metrics = ports.metrics(block.prometheus)
    settings = VerifySettings(window or block.window, block.min_requests, dict(block.health_urls),
                              block.health_timeout_seconds)
    if settle and block.settle_seconds:
        ports.info(f"{environment}: waiting {block.settle_seconds:g}s for the rollout before verifying")
        ports.sleep(block.settle_seconds)
    with ExitStack() as stack:
        repo: ReleaseRepository | None = None
        open_error: DevopsError | None = None
        digests: dict[str, str] = {}
        if record:
            try:
                repo = stack.enter_context(ports.open_repo(environment))
                digests = deployed_digests(repo, chosen)
            except DevopsError as exc:  # the verdict is still worth showing; recording will say why not
                open_error = exc
        ports.debug(f"{environment}: verifying {', '.join(chosen)} against {metrics.url}")
        verification = verify(config, environment, chosen, metrics, ports.probe, settings, now=now,
                              sleep=ports.sleep, clock=ports.clock, digests=digests)
        outcome = VerifyOutcome(verification, recording=record)
        error: DevopsError | None = failure(verification) if verification.verdict != PASSED else None
        if error is not None:
            ports.notifier.notify(verification_failed_event(verification, verification.verified_at))
        if not record:
            return outcome, error
        try:
            if open_error is not None:
                raise open_error
            assert repo is not None
            outcome.recorded = _record(repo, verification)
        except DevopsError as exc:
            outcome.record_error = exc.message
            error = error or exc.retold(f"{environment}: verified {verification.verdict}, but the verdict could "
                                        f"not be recorded: {exc.message}")
        return outcome, error


def _record(repo: ReleaseRepository, verification: Verification) -> str:
    """Write the evidence into the release record through `repo` (the one the digests were read
    from); a line saying what happened."""
    result = record_evidence(repo, verification)
    if result is None:
        return f"{verification.environment}: no released service to attach the evidence to (record unchanged)"
    if result.outcome == "noop":
        return f"{verification.environment}: the release record already holds this evidence"
    where = result.pull_request_url or (result.commit or "")[:12] or result.branch
    return f"{verification.environment}: verification recorded in the release record ({result.outcome} {where})"


def verify_release(report: ReleaseReport, config: Config, services: Sequence[str],
                   ports: VerifyPorts, now: Callable[[], dt.datetime] = utc_now) -> DevopsError | None:
    """Run `devops verify` after a release that committed, when the environment configures it.

    Only a commit deploys anything (a pull request waits for review; a no-op changed nothing,
    and re-verifying it would write new evidence on every idle run). The verdict is recorded in
    the release record and kept on the report; a failure is returned to raise after rendering,
    so the release's own output is never lost. When Prometheus cannot be asked, the release
    still stands (committed) and says it is not verified (exit 3).
    """
    environment, publish = report.environment, report.publish
    if config.environment(environment).verify is None or report.dry_run or publish is None \
            or publish.outcome != "committed":
        return None
    try:
        outcome, error = verify_environment(config, environment, services, ports, settle=True, now=now)
    except DevopsError as exc:
        report.verification_error = exc.message
        return exc.retold(f"{environment}: released (commit {(publish.commit or '')[:12]}) but not verified: "
                          f"{exc.message}", hint=f"run `devops verify --env {environment}` once it can be reached")
    report.verification = outcome
    return error
