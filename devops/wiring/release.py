"""The outside world of `devops release`, `status`, `rollback` and `verify`: adapters wired from
the configuration and the environment (RuntimeSettings), never from the CLI's context.

`devops.app.release/promote/status/rollback/verify_run` decide; this module only does what they
ask (build, pull, scan, ask Sonar, push, open the GitOps repository, query Prometheus) and shows
progress.
"""

from __future__ import annotations

import getpass
import os
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from devops.app.release import Delivered, MayPush, ScanOutcome, SonarResult
from devops.app.verify_run import VerifyPorts
from devops.config import Config
from devops.domain.release.evidence import EvidenceSettings
from devops.errors import GateFailed
from devops.report.console import Reporter
from devops.wiring import adapters as wiring
from devops.wiring.gitops import GitOpsClones, open_gitops
from devops.wiring.release_trivy import ReleaseTrivy, scan_outcome, serves
from devops.wiring.settings import RuntimeSettings

# Trivy processes of a release at once (each scan starts as its image is built): two where the
# machine has the cores, so a scan does not wait for the one before it.
SCANS_AT_ONCE = 2 if (os.cpu_count() or 1) >= 2 else 1
# `docker push` processes of a release at once: one, so the base layers the images share are
# compressed and uploaded once, and mounted by the pushes after it.
PUSHES_AT_ONCE = 1

if TYPE_CHECKING:
    from devops.adapters.docker import DockerEngine
    from devops.adapters.registry import RegistryClient
    from devops.adapters.trivy import Trivy
    from devops.app.base_images import BaseResolver
    from devops.app.gitops_publish import GitOpsSession
    from devops.app.images import ImagesReport
    from devops.app.notify import Notifier
    from devops.app.plan import ServicePlan
    from devops.app.scan import ImageTarget, ScanRun
    from devops.app.verify import MetricsSource
    from devops.config.observability import PrometheusEndpoint
    from devops.domain.images.results import BuildResult, PushResult


class ImageSteps(Protocol):
    """Building and logging in, as `devops build` / `devops push` do them (devops/app/images_run.py)."""

    def build(self, plans: Sequence[ServicePlan], engine: DockerEngine,
              on_built: Callable[[BuildResult], None] = ...) -> ImagesReport: ...

    def login(self, engine: DockerEngine) -> None: ...


def released_by(settings: RuntimeSettings, user: Callable[[], str] = getpass.getuser) -> dict[str, Any]:
    """The Actions actor and run when in GitHub Actions, else the local user on the CLI."""
    if settings.in_github_actions:
        server, repo, run = (settings.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
        run_url = f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None
        return {"actor": settings.get("GITHUB_ACTOR") or "github-actions", "via": "github-actions", "run_url": run_url}
    try:
        name = user()
    except (KeyError, OSError):
        name = "unknown"
    return {"actor": name, "via": "cli", "run_url": None}


def evidence_policy(config: Config, environment: str) -> EvidenceSettings:
    """What a promotion into `environment` accepts; `require_verification` unset means required
    exactly when the source environment verifies."""
    target = config.environment(environment)
    policy = target.evidence
    require = policy.require_verification
    if require is None:
        require = target.promote_from is not None and config.environment(target.promote_from).verify is not None
    return EvidenceSettings(policy.scan_max_age_days, policy.require_sonar, require, policy.min_soak_seconds)


def verify_ports(config: Config, settings: RuntimeSettings, reporter: Reporter,
                 notifier: Notifier | None = None) -> VerifyPorts:
    """Prometheus (its token from the variable the config names), the health probe, the GitOps
    repository, and who hears of a failed verification (the run's notifier when not given)."""
    from devops.adapters.health import HttpHealthProbe
    from devops.wiring.notify import notifier as make_notifier

    def metrics(endpoint: PrometheusEndpoint) -> MetricsSource:
        from devops.adapters.prometheus import Prometheus

        return Prometheus(endpoint.url, token=settings.get(endpoint.token_env), timeout=endpoint.timeout_seconds)

    return VerifyPorts(metrics=metrics, probe=HttpHealthProbe(),
                       open_repo=lambda environment: open_gitops(config, environment, settings),
                       info=reporter.info, debug=reporter.debug,
                       notifier=notifier if notifier is not None else make_notifier(config, settings, reporter))


class CliSteps:
    """Implements ReleaseSteps, PromotionSteps, StatusSteps and RollbackSteps for the CLI."""

    def __init__(self, config: Config, settings: RuntimeSettings, reporter: Reporter, *,
                 build_args: Mapping[str, str] | None = None, images: ImageSteps | None = None,
                 reads_only: bool = False) -> None:
        self.config = config
        self.settings = settings
        self.reporter = reporter
        self.build_args = dict(build_args or {})
        self.images = images
        self._images: ImagesReport | None = None
        self._sonar: dict[str, SonarResult] = {}
        # One clone per GitOps repository and branch for the whole run (status, promotion).
        self.clones = GitOpsClones()
        # A run that only reads (status) clones without a checkout: files come from git's objects.
        self.reads_only = reads_only
        weakref.finalize(self, self.clones.close)

    def close(self) -> None:
        """Remove the run's GitOps clones (the command calls it when it ends)."""
        self.clones.close()

    # -- adapters, made on first use so `status` never needs Docker
    @cached_property
    def engine(self) -> DockerEngine:
        return wiring.docker_engine()

    @cached_property
    def registry(self) -> RegistryClient:
        return wiring.registry_client(self.config)

    @cached_property
    def bases(self) -> BaseResolver:
        from devops.wiring.images import base_resolver

        return base_resolver(self.config, self.settings, lambda: self.engine)

    @cached_property
    def revision(self) -> Any:
        return wiring.revision(self.config)

    @cached_property
    def trivy(self) -> Trivy:
        from devops.wiring.scan import trivy

        # Scans of a release go through one `trivy server` (devops/wiring/release_trivy.py); a rescan runs alone.
        return trivy(self.config)

    def released_by(self) -> dict[str, Any]:
        return released_by(self.settings)

    # -- GitOps
    @contextmanager
    def open_repo(self, environment: str) -> Iterator[GitOpsSession]:
        self.reporter.debug(f"{environment}: reading the GitOps repository")
        with open_gitops(self.config, environment, self.settings, clones=self.clones,
                         checkout=not self.reads_only) as repo:
            yield repo

    # -- release
    def plan(self, services: Sequence[str]) -> list[ServicePlan]:
        from devops.wiring.images import plan

        # No engine lookup: a release decides by the record and the registry, not local images.
        return plan(self, services, self.build_args, bases=self.bases).services

    def registry_digest(self, plan: ServicePlan) -> str | None:
        return self.registry.manifest_digest(wiring.registry_path(self.config, plan.service), plan.inputs.tag)

    def human_tag(self, plan: ServicePlan) -> str:
        revision = self.revision
        if revision.version_tag:
            return str(revision.version_tag)
        return f"sha-{revision.short}" if revision.commit else plan.inputs.tag

    def source_commit(self) -> str | None:
        return self.revision.commit or None

    def source_committed_at(self) -> str | None:
        from devops.domain.release.evidence import iso, parse_iso

        moment = parse_iso(self.revision.committed_at)
        return iso(moment) if moment is not None else None

    def deliver(self, plans: Sequence[ServicePlan], known: Mapping[str, str | None],
                may_push: MayPush) -> list[Delivered]:
        """Pull what the registry already has (the exact digest), build the rest; scan each image as
        soon as it is ready and push it under its identity tag only, as soon as `may_push` says its
        gates passed (devops/wiring/release_images.py)."""
        from devops.domain.images.plan import push_first_order
        from devops.wiring.release_images import ImagePipeline

        if self.images is None:
            raise AssertionError("CliSteps(images=...) is needed to build")
        # Before anything is built: a push must not wait for it, and credentials that do not
        # work stop the run before any build.
        self.images.login(self.engine)
        pulled = set()
        wanted = [p for p in plans if known.get(p.service)]
        present = self.engine.existing([p.image for p in wanted]) if wanted else set()
        for plan in wanted:
            digest = known[plan.service]
            if plan.image not in present:
                self.reporter.info(f"{plan.service}: pulling {plan.repository}@{(digest or '')[:19]}… (same inputs)")
                self.engine.pull(f"{plan.repository}@{digest}")
                self.engine.tag(f"{plan.repository}@{digest}", plan.image)
                pulled.add(plan.service)
        by_image = {p.image: p for p in plans}
        scanner = ReleaseTrivy(self.trivy, serve=serves([self._policy(p.service).scanners for p in plans]))
        pipeline = ImagePipeline(scan=lambda plan, image: self._scan_service(plan, image, scanner.client()),
                                 push=self._push_identity, may_push=may_push,
                                 scans_at_once=SCANS_AT_ONCE, pushes_at_once=PUSHES_AT_ONCE)

        def built(result: BuildResult) -> None:
            if not result.error and result.image in by_image:
                pipeline.start(by_image[result.image], result)

        try:  # images that bring new base layers first: their pushes overlap the builds that reuse them
            self._images = self.images.build(push_first_order(list(plans)), self.engine, on_built=built)
            for outcome in self._images.outcomes:  # found or pulled, not built: they start now
                if outcome.build is not None:
                    pipeline.start(outcome.plan, outcome.build)
        finally:
            outcomes = self._images.outcomes if self._images is not None else []
            how = {o.plan.service: "pulled" if o.plan.service in pulled else (str(o.build.status) if o.build else "")
                   for o in outcomes}
            errors = {o.plan.service: o.build.error for o in outcomes if o.build and o.build.error}
            try:
                delivered = pipeline.wait(plans, how, errors)
            finally:
                scanner.stop()
        return delivered

    def _scan_service(self, plan: ServicePlan, image: str, trivy: Trivy) -> ScanOutcome:
        from devops.app.scan import ImageTarget

        target = ImageTarget(ref=image, policy=self._policy(plan.service), service=plan.service,
                             location=str(self.config.dockerfile(plan.service)))
        run = self._scan([target], trivy)
        return scan_outcome(run.scans[0], run)

    def _push_identity(self, plan: ServicePlan, build: BuildResult) -> PushResult:
        """`docker push` of the identity tag alone (the human tags wait for every gate: tag_release)."""
        from dataclasses import replace

        from devops.app.images import push_outcomes
        from devops.domain.images.results import ServiceOutcome

        config = self.config
        outcome = ServiceOutcome(plan, replace(build, tags=[f"{plan.repository}:{plan.inputs.tag}"]))
        push_outcomes([outcome], self.engine, self.registry, lambda s: wiring.registry_path(config, s),
                      wiring.retry_settings(config), on_event=lambda item, message: self.reporter.info(
                          f"push {item}: {message}"))
        assert outcome.push is not None, "push_outcomes pushes every image whose build did not fail"
        return outcome.push

    def tag_release(self, plans: Sequence[ServicePlan], digests: Mapping[str, str]) -> None:
        from devops.domain.images.results import image_tags

        revision = self.revision
        for plan in plans:
            path = wiring.registry_path(self.config, plan.service)
            for tag in image_tags(plan, revision)[1:]:
                self.registry.tag(path, digests[plan.service], tag)

    def sonar(self, service: str) -> SonarResult:
        from devops.app.sonar_gate import report_task_candidates
        from devops.wiring.sonar import evaluate_sonar

        existing = [c for c in report_task_candidates(self.config, service) if c.is_file()]
        key = str(existing[0].resolve()) if existing else "<none>"
        if key not in self._sonar:  # one analysis answers for every service that shares it
            outcome = evaluate_sonar(self, service)  # CliSteps is a run: config, settings, reporter
            verdict = outcome.verdict
            reason = outcome.reason
            if verdict is not None and verdict.status in ("WARN", "NONE"):
                reason = f"quality gate {verdict.status}: treated as {verdict.outcome} " \
                         f"(gates.sonar.on_{verdict.status.lower()})"
            self._sonar[key] = SonarResult(
                outcome.status, reason, verdict.dashboard_url if verdict else "",
                "; ".join(c.describe() for c in verdict.failing) if verdict else "", outcome=outcome.outcome)
        return self._sonar[key]

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
        self.reporter.info(f"{service}: scan evidence expired; rescanning {reference[:60]}…")
        self.engine.pull(reference)
        run = self._scan([ImageTarget(ref=reference, policy=self._policy(service), location=reference)])
        return scan_outcome(run.scans[0], run)

    # -- helpers
    def _policy(self, service: str) -> Any:
        from devops.wiring.scan import policy

        return policy(self.config, service)

    def _scan(self, targets: Sequence[ImageTarget], trivy: Trivy | None = None) -> ScanRun:
        from devops.adapters.scan_cache import ScanCache
        from devops.app.scan import scan_images

        cache = ScanCache(self.config.root / self.config.gates.cache_dir)
        return scan_images(targets, trivy or self.trivy, cache, self.engine.image_ids, progress=self.reporter.debug)
