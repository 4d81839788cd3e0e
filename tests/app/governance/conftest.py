"""Release governance use cases on in-memory fakes: the GitOps remote of tests/app/release (dev and
prod), the release steps that record what they were asked, a Prometheus answering with given
numbers, a notifier that keeps what it was told, and a clock that stands still."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from devops.app.gitops_publish import GitOpsSession
from devops.app.release_run import Governance, ReleaseRequest, run_release
from devops.app.verify_run import VerifyPorts
from devops.config.model import Config
from devops.config.observability import PrometheusEndpoint
from devops.domain.notify.event import Event
from devops.domain.release.evidence import EvidenceSettings
from devops.domain.release.freeze import FreezePolicy
from devops.domain.release.results import ReleaseReport
from devops.errors import DevopsError
from tests.app.config import make_config
from tests.app.release.conftest import Gitops
from tests.app.release.conftest import gitops as gitops  # the fixture, shared with tests/app/release
from tests.app.release.test_release import Steps
from tests.app.release.test_verify import FakeProbe, FakePrometheus

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
SLO = {"availability": 99.0, "latency": {"threshold_seconds": 0.25, "objective": 95.0}}


def governance_config(*, auto_rollback: bool = True, min_soak: str | None = None, prod_verify: bool = False,
                      calendars: dict[str, Any] | None = None, prod_freeze: dict[str, Any] | None = None) -> Config:
    verify = {"prometheus": {"url": "http://prometheus.example"}, "window": "10m", "min_requests": 10,
              "settle_seconds": 0, "health_timeout_seconds": 0}
    prod: dict[str, Any] = {"url": "http://prod.example", "cluster": {"name": "prod"}, "gitops": {"path": "env/prod"},
                            "promote_from": "dev", "evidence": {"min_soak": min_soak},
                            "freeze": prod_freeze or {}}
    if prod_verify:
        prod["verify"] = verify
    return make_config(
        registry={"host": "127.0.0.1:5000", "namespace": "shop"},
        environments={"dev": {"url": "http://dev.example", "cluster": {"name": "dev"}, "gitops": {"path": "env/dev"},
                              "verify": verify, "auto_rollback": auto_rollback},
                      "prod": prod},
        observability={"slos": {"alpha": SLO, "beta": SLO}},
        calendars=calendars or {})


@dataclass
class Told:
    """A notifier that keeps every event."""

    events: list[Event] = field(default_factory=list)

    def notify(self, event: Event) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


@dataclass
class World:
    gitops: Gitops
    steps: Steps
    told: Told = field(default_factory=Told)
    prometheus: FakePrometheus = field(default_factory=FakePrometheus)
    warnings: list[str] = field(default_factory=list)
    config: Config = field(default_factory=governance_config)

    @contextmanager
    def open_repo(self, environment: str) -> Iterator[GitOpsSession]:
        with self.gitops.open_repo(environment) as repo:
            yield repo

    def verify_ports(self) -> VerifyPorts:
        def metrics(endpoint: PrometheusEndpoint) -> FakePrometheus:
            return self.prometheus

        return VerifyPorts(metrics=metrics, probe=FakeProbe(), open_repo=self.open_repo, sleep=lambda _s: None,
                           clock=lambda: 0.0, notifier=self.told)

    def governance(self, environment: str, *, freezes: FreezePolicy | None = None,
                   evidence: EvidenceSettings | None = None) -> Governance:
        policy = evidence or EvidenceSettings(scan_max_age_days=None, require_verification=True,
                                              min_soak_seconds=self.config.environment(environment).evidence
                                              .min_soak_seconds)
        return Governance(evidence=policy, freezes=freezes or FreezePolicy(environment), notifier=self.told,
                          clock=lambda: NOW, warn=self.warnings.append)

    def release(self, environment: str = "dev", *, break_glass: str | None = None, freezes: FreezePolicy | None = None,
                services: tuple[str, ...] = ()) -> tuple[ReleaseReport, DevopsError | None]:
        return run_release(self.config, ReleaseRequest(environment, services, break_glass=break_glass), self.steps,
                           self.verify_ports(), self.governance(environment, freezes=freezes))


@pytest.fixture
def world(gitops: Gitops) -> World:
    return World(gitops, Steps(gitops))


def verification(digest: str, verified_at: str = "2026-11-26T06:00:00Z", verdict: str = "PASSED",
                 **extra: Any) -> dict[str, Any]:
    return {"verdict": verdict, "verified_at": verified_at, "window": "10m", "failing": [], "environment": "dev",
            "digest": digest, **extra}


def verified_release(gitops: Gitops, env: str, verified_at: str = "2026-11-26T06:00:00Z", **digests: str) -> str:
    """`env` runs `digests`, released and verified PASSED at `verified_at`; the commit."""
    from tests.app.release.conftest import RECORD, VALUES, entry, record_text, values_text

    files = {VALUES.format(env=env, service=s): values_text(s, f"sha-{d[7:14]}", d) for s, d in digests.items()}
    files[RECORD.format(env=env)] = record_text(env, **{
        s: entry(s, d, verification=verification(d, verified_at)) for s, d in digests.items()})
    return gitops.remote.land("main", files, f"verify({env})")
