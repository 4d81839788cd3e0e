"""The outside world of `devops release`, `status` and `rollback`: adapters wired from the config.

`devops.app.release/promote/status/rollback` decide; this module only does what they ask
(build, pull, scan, ask Sonar, push, open the GitOps repository) and renders progress.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from devops.app.release import Prepared, ScanOutcome, SonarResult
from devops.cli.context import AppContext
from devops.cli.wiring import adapters as wiring
from devops.errors import ExternalError, GateFailed

if TYPE_CHECKING:
    from devops.adapters.docker import DockerEngine
    from devops.adapters.registry import RegistryClient
    from devops.adapters.trivy import Trivy
    from devops.app.images import ImagesReport
    from devops.app.plan import ServicePlan
    from devops.app.scan import ImageTarget, ScanRun


class CliSteps:
    """Implements ReleaseSteps, PromotionSteps, StatusSteps and RollbackSteps for the CLI."""

    def __init__(self, app: AppContext, build_args: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.config = app.config
        self.build_args = dict(build_args or {})
        self._images: ImagesReport | None = None
        self._sonar: dict[str, SonarResult] = {}

    # -- adapters, made on first use so `status` never needs Docker
    @cached_property
    def engine(self) -> DockerEngine:
        return wiring.docker_engine()

    @cached_property
    def registry(self) -> RegistryClient:
        return wiring.registry_client(self.config)

    @cached_property
    def revision(self) -> Any:
        return wiring.revision(self.config)

    @cached_property
    def trivy(self) -> Trivy:
        from devops.cli.wiring.scan import trivy

        return trivy(self.config)

    def released_by(self) -> dict[str, Any]:
        """The Actions actor and run when in GitHub Actions, else the local user on the CLI."""
        env = os.environ
        if env.get("GITHUB_ACTIONS") == "true":
            server, repo, run = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
            run_url = f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None
            return {"actor": env.get("GITHUB_ACTOR") or "github-actions", "via": "github-actions", "run_url": run_url}
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return {"actor": user, "via": "cli", "run_url": None}

    # -- GitOps
    @contextmanager
    def open_repo(self, environment: str) -> Iterator[Any]:
        from devops.adapters.gitops_repo import GitOpsRepo

        self.app.reporter.debug(f"{environment}: reading the GitOps repository")
        with GitOpsRepo.open(self.config, environment) as repo:
            yield repo

    # -- release
    def plan(self, services: Sequence[str]) -> list[ServicePlan]:
        from devops.cli.wiring.images import plan

        return plan(self.app, services, self.build_args, image_exists=self.engine.image_exists).services

    def registry_digest(self, plan: ServicePlan) -> str | None:
        return self.registry.manifest_digest(wiring.registry_path(self.config, plan.service), plan.inputs.tag)

    def human_tag(self, plan: ServicePlan) -> str:
        revision = self.revision
        if revision.version_tag:
            return str(revision.version_tag)
        return f"sha-{revision.short}" if revision.commit else plan.inputs.tag

    def source_commit(self) -> str | None:
        return self.revision.commit or None

    def prepare(self, plans: Sequence[ServicePlan], known: Mapping[str, str | None]) -> list[Prepared]:
        """Pull what the registry already has (the exact digest), build the rest; nothing pushed."""
        from devops.cli.wiring.images import run_images

        pulled = set()
        for plan in plans:
            digest = known.get(plan.service)
            if digest and not self.engine.image_exists(plan.image):
                self.app.reporter.info(f"{plan.service}: pulling {plan.repository}@{digest[:19]}… (same inputs)")
                self.engine.pull(f"{plan.repository}@{digest}")
                self.engine.tag(f"{plan.repository}@{digest}", plan.image)
                pulled.add(plan.service)
        self._images = run_images(self.app, plans, self.engine, None, build=True, push=False)
        prepared = []
        for outcome in self._images.outcomes:
            build = outcome.build
            how = "pulled" if outcome.plan.service in pulled else (str(build.status) if build else "")
            error = build.error if build and build.error else ""
            prepared.append(Prepared(outcome.plan.service, outcome.plan.image, how, error))
        return prepared

    def scan(self, prepared: Sequence[Prepared]) -> dict[str, ScanOutcome]:
        from devops.app.scan import ImageTarget

        targets = [ImageTarget(ref=p.local_ref, policy=self._policy(p.service), service=p.service,
                               location=str(self.config.dockerfile(p.service))) for p in prepared]
        run = self._scan(targets)
        return {scan.target.service or "": _scan_outcome(scan, run) for scan in run.scans}

    def sonar(self, service: str) -> SonarResult:
        from devops.app.sonar_gate import report_task_candidates
        from devops.cli.wiring.sonar import evaluate_sonar

        existing = [c for c in report_task_candidates(self.config, service) if c.is_file()]
        key = str(existing[0].resolve()) if existing else "<none>"
        if key not in self._sonar:  # one analysis answers for every service that shares it
            outcome = evaluate_sonar(self.app, service)
            verdict = outcome.verdict
            reason = outcome.reason
            if verdict is not None and verdict.status in ("WARN", "NONE"):
                reason = f"quality gate {verdict.status}: treated as {verdict.outcome} " \
                         f"(gates.sonar.on_{verdict.status.lower()})"
            self._sonar[key] = SonarResult(
                outcome.status, reason, verdict.dashboard_url if verdict else "",
                "; ".join(c.describe() for c in verdict.failing) if verdict else "", outcome=outcome.outcome)
        return self._sonar[key]

    def push(self, plans: Sequence[ServicePlan]) -> dict[str, str]:
        from devops.app.images import push_outcomes
        from devops.cli.wiring.images import login
        from devops.report.progress import progress

        assert self._images is not None, "prepare() runs before push()"
        config = self.config
        login(self.app, self.engine)
        wanted = {p.service for p in plans}
        outcomes = [o for o in self._images.outcomes if o.plan.service in wanted]
        with progress(self.app.reporter, "push", [o.plan.service for o in outcomes]) as sink:
            push_outcomes(outcomes, self.engine, self.registry, lambda s: wiring.registry_path(config, s),
                          wiring.retry_settings(config), on_event=sink)
        failed = [o for o in outcomes if o.failed or not (o.push and o.push.digest)]
        if failed:
            raise ExternalError("push failed, nothing written to the GitOps repository: " + "; ".join(
                f"{o.plan.service}: {(o.push.error if o.push else 'not pushed').splitlines()[0]}" for o in failed))
        return {o.plan.service: o.push.digest for o in outcomes if o.push}

    # -- promotion and rollback
    def repository(self, service: str) -> str | None:
        return self.config.repository(service) if service in self.config.services else None

    def registry_has(self, repository: str, digest: str) -> bool:
        # Only the configured registry is ever asked (with its credentials); promotion and
        # rollback refuse other repositories before they get here.
        host = self.config.registry.host
        if not repository.startswith(f"{host}/"):
            raise GateFailed(f"{repository[:200]!r} is not in the configured registry {host}; not asked")
        return self.registry.exists(repository.removeprefix(f"{host}/"), digest)

    def rescan(self, service: str, repository: str, digest: str) -> ScanOutcome:
        from devops.app.scan import ImageTarget

        reference = f"{repository}@{digest}"
        self.app.reporter.info(f"{service}: scan evidence expired; rescanning {reference[:60]}…")
        self.engine.pull(reference)
        run = self._scan([ImageTarget(ref=reference, policy=self._policy(service), location=reference)])
        return _scan_outcome(run.scans[0], run)

    # -- helpers
    def _policy(self, service: str) -> Any:
        from devops.cli.wiring.scan import policy

        return policy(self.config, service)

    def _scan(self, targets: Sequence[ImageTarget]) -> ScanRun:
        from devops.adapters.scan_cache import ScanCache
        from devops.app.scan import scan_images

        cache = ScanCache(self.config.root / self.config.gates.cache_dir)
        return scan_images(targets, self.trivy, cache, self.engine.image_id, progress=self.app.reporter.debug)


def _scan_outcome(scan: Any, run: ScanRun) -> ScanOutcome:
    verdict = scan.verdict
    return ScanOutcome(passed=verdict.passed, counts=verdict.counts(), failing=len(verdict.failing),
                       trivy_version=run.trivy_version, db=run.db_updated_at or None)
