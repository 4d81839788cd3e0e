"""The outside world of `devops rescan`: the GitOps repository, the Docker engine that pulls by
digest, the registry it pulls from (only the configured one), Trivy with the configured DB and
the scan cache, the ignore files. Use case: devops/app/rescan.py."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING

from devops.config import Config
from devops.errors import ExternalError, GateFailed
from devops.report.console import Reporter
from devops.wiring.release import CliSteps
from devops.wiring.settings import RuntimeSettings

if TYPE_CHECKING:
    from devops.adapters.trivy import Trivy
    from devops.app.gitops_publish import GitOpsSession
    from devops.app.notify import Notifier
    from devops.app.rescan import FindingNotifier
    from devops.domain.gates.scan import ImageTarget, ScanRun
    from devops.domain.release.rescan import RescanReport, RescanTarget, ServiceRescan


class CliRescanSteps:
    """Implements RescanSteps for the CLI; the release steps give the GitOps repository, the
    engine, the registry client and Trivy, made on first use."""

    def __init__(self, config: Config, settings: RuntimeSettings, reporter: Reporter) -> None:
        self.config = config
        self.settings = settings
        self.reporter = reporter
        self.steps = CliSteps(config, settings, reporter)
        self._logged_in = False

    @contextmanager
    def open_repo(self, environment: str) -> Iterator[GitOpsSession]:
        with self.steps.open_repo(environment) as repo:
            yield repo

    def repository(self, service: str) -> str | None:
        return self.steps.repository(service)

    def image_target(self, service: str, reference: str) -> ImageTarget:
        from devops.app.scan_targets import digest_target
        from devops.wiring.scan import load_ignore

        return digest_target(self.config, service, reference, load_ignore)

    def pull(self, target: RescanTarget) -> None:
        # The record's repository was checked against the configuration (rescan_targets); the
        # host check here keeps the registry credentials on the configured host whatever happens.
        host = self.config.registry.host
        if not target.repository.startswith(f"{host}/"):
            raise GateFailed(f"{target.repository[:200]!r} is not in the configured registry {host}; not pulled")
        if not self.steps.registry_has(target.repository, target.digest):
            raise ExternalError(f"{target.reference[:100]} no longer exists in the registry",
                                hint="release the service again; Argo CD cannot pull it either")
        self._login()
        self.reporter.info(f"{target.service}: pulling {target.repository}@{target.digest[:19]}… to rescan it")
        self.steps.engine.pull(target.reference)

    def _login(self) -> None:
        """`docker login` when the registry credentials are set (a private repository); anonymous otherwise."""
        if self._logged_in:
            return
        from devops.wiring.images import credentials

        login = credentials(self)
        if login.username and login.token:
            self.steps.engine.login(login.host, login.username, login.token)
        self._logged_in = True

    def scan(self, targets: Sequence[ImageTarget]) -> ScanRun:
        from devops.app.scan import scan_images
        from devops.wiring.scan import scan_cache

        return scan_images(targets, self.trivy, scan_cache(self.config), self.steps.engine.image_ids,
                           progress=self.reporter.debug)

    @cached_property
    def trivy(self) -> Trivy:
        from devops.wiring.scan import trivy

        return trivy(self.config)


class RescanFindings:
    """The run's notifier (devops/wiring/notify.py) as the rescan's FindingNotifier: one
    `rescan-finding` event per rescan that turned digests FAILED."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    def rescan_finding(self, report: RescanReport, newly_failed: Sequence[ServiceRescan]) -> None:
        from devops.domain.notify.run_events import rescan_finding_event

        self.notifier.notify(rescan_finding_event(report, newly_failed, report.checked_at))


def notifier(config: Config, settings: RuntimeSettings, reporter: Reporter) -> FindingNotifier:
    """Where a "rescan finding" goes: the channels of `notifications:` that want `rescan-finding`
    (docs/release.md, "Notifications"); nobody but the exit code, the SARIF file and the job
    summary when none is configured."""
    from devops.wiring.notify import notifier as run_notifier

    return RescanFindings(run_notifier(config, settings, reporter))
