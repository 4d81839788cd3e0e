"""Wiring of `devops verify` (and of the verification step of `devops release`).

Builds the Prometheus client and the health probe from `environments.<env>.verify`, runs
`devops.app.verify.verify`, shows the result and, when asked, writes the evidence into
the environment's release record. When recording, the GitOps repository is cloned before the
checks: the digests its values files name then are what the verdict is about, and the same
clone writes it (compare-and-swap), so a release landing during the checks is noticed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from devops.app.verify import Verification, VerifySettings
from devops.cli.context import AppContext
from devops.config.model import Config
from devops.config.observability import DURATION, VerifyConfig, duration_seconds
from devops.errors import BadInput, ConfigError, DevopsError, GateFailed

if TYPE_CHECKING:
    from devops.adapters.gitops_repo import GitOpsRepo


def verify_config(config: Config, environment: str, prometheus_url: str | None) -> VerifyConfig:
    """The environment's `verify` block; `--prometheus-url` may stand in for a missing one."""
    from devops.config.observability import PrometheusEndpoint

    block = config.environment(environment).verify
    if block is None:
        if not prometheus_url:
            raise ConfigError(f"{config.source}: environments.{environment}.verify is not set",
                              hint="add it (docs/observability.md) or pass --prometheus-url")
        return VerifyConfig(prometheus=PrometheusEndpoint(url=prometheus_url))
    if prometheus_url:
        return block.model_copy(update={"prometheus": block.prometheus.model_copy(update={"url": prometheus_url})})
    return block


def run_verification(app: AppContext, environment: str, services: Sequence[str], *, window: str | None = None,
                     prometheus_url: str | None = None, settle: bool = False,
                     before_checks: Callable[[list[str]], dict[str, str]] | None = None) -> Verification:
    """Verify `services` (all when empty) of `environment`; nothing is written.

    `before_checks(services)`, called once the input is valid and the rollout had its settle
    time, returns the digest of each service the checks are about.
    """
    from devops.adapters.health import HttpHealthProbe
    from devops.adapters.prometheus import Prometheus
    from devops.app.verify import verify
    from devops.domain.release.evidence import utc_now

    config = app.config
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
    token = os.environ.get(block.prometheus.token_env) if block.prometheus.token_env else None
    metrics = Prometheus(block.prometheus.url, token=token, timeout=block.prometheus.timeout_seconds)
    settings = VerifySettings(window or block.window, block.min_requests, dict(block.health_urls),
                              block.health_timeout_seconds)
    if settle and block.settle_seconds:
        app.reporter.info(f"{environment}: waiting {block.settle_seconds:g}s for the rollout before verifying")
        time.sleep(block.settle_seconds)
    digests = before_checks(chosen) if before_checks is not None else {}
    app.reporter.debug(f"{environment}: verifying {', '.join(chosen)} against {metrics.url}")
    return verify(config, environment, chosen, metrics, HttpHealthProbe(), settings, now=utc_now, digests=digests)


def verify_and_record(app: AppContext, environment: str, services: Sequence[str], *, record_evidence: bool = True,
                      window: str | None = None, prometheus_url: str | None = None,
                      settle: bool = False) -> tuple[dict[str, object], DevopsError | None]:
    """Verify, show, and record the verdict: (the result document, the error to raise after it).

    Nothing is lost on the way: a verdict that could not be recorded (GitOps repository
    unreachable, push refused) is still shown and returned, with the reason, and becomes the
    error (exit 3) when the verdict itself passed, since promotion needs it recorded. Errors
    of the verification itself (Prometheus unreachable) propagate: there is no verdict to show.
    """
    from devops.adapters.gitops_repo import GitOpsRepo
    from devops.app.verify import deployed_digests

    opened: list[GitOpsRepo] = []
    open_error: list[DevopsError] = []

    def bind(chosen: list[str]) -> dict[str, str]:
        """Clone the GitOps repository and read what the checks are about (when recording)."""
        if not record_evidence:
            return {}
        try:
            repo = GitOpsRepo.open(app.config, environment)
            opened.append(repo)
            return deployed_digests(repo, chosen)
        except DevopsError as exc:  # the verdict is still worth showing; recording will say why not
            open_error.append(exc)
            return {}

    try:
        verification = run_verification(app, environment, services, window=window, prometheus_url=prometheus_url,
                                        settle=settle, before_checks=bind)
        render(app, verification)
        result: dict[str, object] = verification.to_dict()
        error: DevopsError | None = failure(verification) if verification.verdict != "PASSED" else None
        if record_evidence:
            try:
                if open_error:
                    raise open_error[0]
                line = record(opened[0], verification)
            except DevopsError as exc:
                result["recorded"] = None
                result["record_error"] = exc.message
                app.reporter.warn(f"{environment}: the verdict was not recorded in the release record: {exc.message}")
                error = error or exc.retold(f"{environment}: verified {verification.verdict}, but the verdict could "
                                            f"not be recorded: {exc.message}")
            else:
                app.reporter.info(line)
                result["recorded"] = line
        return result, error
    finally:
        for repo in opened:
            repo.close()


def record(repo: GitOpsRepo, verification: Verification) -> str:
    """Write the evidence into the release record through `repo` (the clone the digests were
    read from); a line saying what happened."""
    from devops.app.verify import record_evidence

    result = record_evidence(repo, verification)
    if result is None:
        return f"{verification.environment}: no released service to attach the evidence to (record unchanged)"
    if result.outcome == "noop":
        return f"{verification.environment}: the release record already holds this evidence"
    where = result.pull_request_url or (result.commit or "")[:12] or result.branch
    return f"{verification.environment}: verification recorded in the release record ({result.outcome} {where})"


def render(app: AppContext, verification: Verification) -> None:
    """Table per check, job summary; the JSON document is the caller's (it may add to it)."""
    from devops.report.github import markdown_table

    headers = ["service", "check", "verdict", "detail"]
    rows = [[s.service, c.name, c.verdict, c.detail] for s in verification.services for c in s.checks]
    title = f"Verification of {verification.environment} ({verification.window})"
    app.reporter.table(title, headers, rows)
    line = f"{verification.environment}: {verification.verdict}"
    app.reporter.info(line)
    app.reporter.github.summary(f"### {title}\n\n" + markdown_table(headers, rows) + f"\n{line}\n")
    app.reporter.github.output("verification", verification.verdict)


def failure(verification: Verification) -> GateFailed:
    """The exit-1 error: one clause per failing service naming its failing checks."""
    parts = [f"{s.service}: " + "; ".join(f"{c.name} {c.detail}" for c in s.failing)
             for s in verification.services if s.failing]
    return GateFailed(f"{verification.environment} is not healthy: " + " | ".join(parts),
                      hint="see the Grafana dashboards shop-<service> and docs/runbooks/alerts.md")
