"""`devops verify` as a use case (devops/app/verify_run.py, verify.py) on fakes: a Prometheus that
answers the SLO queries with given numbers, a health probe with scripted answers, a clock that
only moves when the use case sleeps, and the in-memory GitOps repository for the evidence."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devops.app.gitops_publish import GitOpsSession
from devops.app.verify_run import VerifyPorts, verify_environment, verify_release
from devops.config import Config, load_config
from devops.config.observability import PrometheusEndpoint
from devops.domain.gitops.change import PublishResult
from devops.domain.release.results import ReleaseReport
from devops.errors import BadInput, ConfigError, ExitCode, ExternalError, GateFailed, GateUnavailable
from tests.app.release.conftest import DIGEST_A, DIGEST_B, RECORD, VALUES, Gitops, entry, record_text, values_text
from tests.support.project import config_text, make_project

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
ENVIRONMENTS = """\
environments:
  dev:
    url: http://dev.example
    cluster: {{name: test-dev}}
    gitops: {{path: env/dev}}
{verify}
observability:
  slos:
    alpha: {{availability: 99.0, latency: {{threshold_seconds: 0.25, objective: 95.0}}}}
"""
VERIFY = """\
    verify:
      prometheus: {url: "http://prometheus.example"}
      window: 10m
      min_requests: 10
      settle_seconds: 30
      health_timeout_seconds: 10
      health_urls: {beta: "{url}/beta"}
"""


def project(root: Path, *, verify: str = VERIFY) -> Config:
    make_project(root, commit=False)
    (root / "pipelines" / "devops.yaml").write_text(config_text(environments=ENVIRONMENTS.format(verify=verify)))
    return load_config(root / "pipelines" / "devops.yaml")


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float


@dataclass
class FakePrometheus:
    url: str = "http://prometheus.example"
    targets: list[float] = field(default_factory=lambda: [1.0])
    requests: float = 500.0
    errors: float = 0.0  # ratio of 5xx
    slow: float = 0.0  # ratio over the latency threshold
    queries: list[str] = field(default_factory=list)

    def query(self, expr: str) -> list[Sample]:
        self.queries.append(expr)
        if expr.startswith("up{"):
            return [Sample({"pod": f"alpha-{i}"}, v) for i, v in enumerate(self.targets)]
        if expr.startswith("sum(increase("):
            return [Sample({}, self.requests)]
        return [Sample({}, self.slow if expr.startswith("1 - (") else self.errors)]


@dataclass
class FakeProbe:
    """Answers per URL, one per poll (the last one repeats)."""

    answers: dict[str, list[tuple[bool, str]]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def check(self, url: str) -> tuple[bool, str]:
        self.asked.append(url)
        script = self.answers.get(url, [(True, "200")])
        return script.pop(0) if len(script) > 1 else script[0]


@dataclass
class World:
    gitops: Gitops
    prometheus: FakePrometheus = field(default_factory=FakePrometheus)
    probe: FakeProbe = field(default_factory=FakeProbe)
    slept: list[float] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    repo_error: Exception | None = None

    @contextmanager
    def open_repo(self, environment: str) -> Iterator[GitOpsSession]:
        if self.repo_error is not None:
            raise self.repo_error
        with self.gitops.open_repo(environment) as repo:
            yield repo

    def metrics(self, endpoint: PrometheusEndpoint) -> FakePrometheus:
        self.prometheus.url = endpoint.url
        return self.prometheus

    def ports(self) -> VerifyPorts:
        return VerifyPorts(metrics=self.metrics, probe=self.probe, open_repo=self.open_repo, sleep=self.slept.append,
                           clock=lambda: sum(self.slept), info=self.lines.append, debug=self.lines.append)


@pytest.fixture
def world(gitops: Gitops) -> World:
    files = {VALUES.format(env="dev", service="alpha"): values_text("alpha", "sha-aaaaaaa", DIGEST_A),
             RECORD.format(env="dev"): record_text("dev", alpha=entry("alpha", DIGEST_A))}
    gitops.remote.land("main", files, "release(dev): alpha")
    return World(gitops)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return project(tmp_path / "shop")


def run(config: Config, world: World, *services: str, **options: object) -> tuple[object, object]:
    return verify_environment(config, "dev", list(services), world.ports(), now=lambda: NOW, **options)  # type: ignore[arg-type]


def checks(outcome: object, service: str = "alpha") -> dict[str, str]:
    found = next(s for s in outcome.verification.services if s.service == service)  # type: ignore[attr-defined]
    return {c.name: c.verdict for c in found.checks}


def test_a_healthy_environment_passes_and_the_verdict_is_recorded_for_the_digest_checked(
        config: Config, world: World) -> None:
    outcome, error = run(config, world)
    assert error is None and outcome.verification.verdict == "PASSED"  # type: ignore[attr-defined]
    assert checks(outcome) == {"up": "PASSED", "traffic": "PASSED", "availability": "PASSED", "latency": "PASSED"}
    assert checks(outcome, "beta") == {"health": "PASSED", "ready": "PASSED"}
    assert world.probe.asked == ["http://dev.example/beta/health", "http://dev.example/beta/ready"]
    assert outcome.recorded.startswith("dev: verification recorded in the release record (committed ")  # type: ignore[attr-defined]
    evidence = world.gitops.record("dev")["services"]["alpha"]["verification"]
    assert (evidence["verdict"], evidence["digest"], evidence["environment"]) == ("PASSED", DIGEST_A, "dev")
    assert "beta" not in world.gitops.record("dev")["services"]  # not released: nothing to attach it to


@pytest.mark.parametrize(("fault", "check", "detail"), [
    ({"errors": 0.1}, "availability", "10.00% errors in 10m"),
    ({"slow": 0.2}, "latency", "20.00% slower than 0.25s"),
    ({"requests": 3.0}, "traffic", "3 API requests in 10m, fewer than min_requests 10: not enough to judge"),
    ({"targets": [1.0, 0.0]}, "up", "1 of 2 targets up; down: alpha-1"),
    ({"targets": []}, "up", "Prometheus has no targets for job 'alpha'"),
    ({"errors": math.nan}, "availability", "no samples in 10m"),
])
def test_each_failing_check_fails_the_service_naming_it(config: Config, world: World, fault: dict[str, object],
                                                        check: str, detail: str) -> None:
    for name, value in fault.items():
        setattr(world.prometheus, name, value)
    outcome, error = run(config, world, "alpha")
    assert isinstance(error, GateFailed) and f"dev is not healthy: alpha: {check} " in str(error)
    assert detail in str(error) and checks(outcome)[check] == "FAILED"
    assert world.gitops.record("dev")["services"]["alpha"]["verification"]["verdict"] == "FAILED"  # recorded too


def test_health_is_polled_until_it_answers_within_the_timeout(config: Config, world: World) -> None:
    world.probe.answers["http://dev.example/beta/ready"] = [(False, "HTTP 503"), (False, "HTTP 503"), (True, "200")]
    outcome, error = run(config, world, "beta", record=False)
    assert error is None and checks(outcome, "beta")["ready"] == "PASSED"
    assert len(world.slept) == 2 and all(0 <= wait <= 2.0 for wait in world.slept)  # poll_seconds, jittered
    assert world.probe.asked.count("http://dev.example/beta/health") == 1  # a passing endpoint is not asked again


def test_health_that_never_answers_fails_when_the_time_is_up(config: Config, world: World) -> None:
    world.probe.answers["http://dev.example/beta/health"] = [(False, "connection refused")]
    outcome, error = run(config, world, "beta", record=False)
    assert isinstance(error, GateFailed) and "GET http://dev.example/beta/health: connection refused" in str(error)
    assert 10 <= sum(world.slept) <= 10 + 2.0  # health_timeout_seconds, give or take one poll


def test_a_service_nothing_checks_is_not_verified(tmp_path: Path, world: World) -> None:
    config = project(tmp_path / "p", verify=VERIFY.replace('      health_urls: {beta: "{url}/beta"}\n', ""))
    outcome, error = run(config, world, "beta", record=False)
    assert checks(outcome, "beta") == {"coverage": "FAILED"} and "observability.slos.beta" in str(error)


def test_without_record_nothing_is_read_or_written(config: Config, world: World) -> None:
    commits = world.gitops.commits()
    outcome, error = run(config, world, record=False)
    assert error is None and not outcome.recording and outcome.verification.digests == {}  # type: ignore[attr-defined]
    assert world.gitops.opened == [] and world.gitops.commits() == commits


def test_settle_waits_before_the_checks(config: Config, world: World) -> None:
    run(config, world, "alpha", record=False, settle=True)
    assert world.slept[0] == 30 and "dev: waiting 30s for the rollout before verifying" in world.lines


def test_a_verdict_that_cannot_be_recorded_is_kept_and_is_exit_3(config: Config, world: World) -> None:
    world.repo_error = ExternalError("cannot clone the GitOps repository file:///nope (main): not found")
    outcome, error = run(config, world, "alpha")
    assert outcome.verification.verdict == "PASSED" and outcome.recorded is None  # type: ignore[attr-defined]
    assert outcome.record_error.startswith("cannot clone")  # type: ignore[attr-defined]
    assert error is not None and error.exit_code == ExitCode.EXTERNAL  # type: ignore[attr-defined]
    assert str(error).startswith("dev: verified PASSED, but the verdict could not be recorded: cannot clone")


def test_a_release_landing_during_the_checks_is_not_given_the_verdict(config: Config, world: World) -> None:
    def another_release() -> None:
        world.gitops.remote.land("main", {
            VALUES.format(env="dev", service="alpha"): values_text("alpha", "sha-bbbbbbb", DIGEST_B),
            RECORD.format(env="dev"): record_text("dev", alpha=entry("alpha", DIGEST_B))})

    world.gitops.on_open.append(lambda repo: repo.before_push.append(another_release))
    outcome, error = run(config, world, "alpha")
    assert "alpha: verify checked" in (outcome.record_error or "")  # type: ignore[attr-defined]
    assert error is not None and error.exit_code == ExitCode.EXTERNAL  # type: ignore[attr-defined]
    assert "verification" not in world.gitops.record("dev")["services"]["alpha"]


@pytest.mark.parametrize(("options", "error", "message"), [
    ({"window": "30s"}, BadInput, "--window 30s: must be at least 1m"),
    ({"window": "ten"}, BadInput, "--window ten"),
])
def test_bad_input_is_refused_before_anything_is_asked(config: Config, world: World, options: dict[str, object],
                                                       error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        run(config, world, **options)
    assert world.prometheus.queries == [] and world.gitops.opened == [] and world.slept == []


def test_an_environment_without_verify_needs_a_prometheus_url(tmp_path: Path, world: World) -> None:
    config = project(tmp_path / "p", verify="")
    with pytest.raises(ConfigError, match="environments.dev.verify is not set"):
        run(config, world)
    outcome, _ = run(config, world, "alpha", record=False, prometheus_url="http://other.example")
    assert outcome.verification.prometheus == "http://other.example"  # type: ignore[attr-defined]


def test_an_unknown_service_is_bad_input(config: Config, world: World) -> None:
    with pytest.raises(BadInput, match="unknown service 'gamma'"):
        run(config, world, "gamma")


# -- after a release -------------------------------------------------------------------------


def committed(outcome: str = "committed", dry_run: bool = False) -> ReleaseReport:
    return ReleaseReport("dev", "release", publish=PublishResult(outcome, (), "c" * 40, "main"), dry_run=dry_run)


@pytest.mark.parametrize("report", [committed("pull-request"), committed("noop"), committed(dry_run=True),
                                    ReleaseReport("dev", "release")])
def test_only_a_committed_release_is_verified(config: Config, world: World, report: ReleaseReport) -> None:
    assert verify_release(report, config, ["alpha"], world.ports()) is None
    assert report.verification is None and world.prometheus.queries == []


def test_a_committed_release_is_verified_and_the_outcome_kept_on_the_report(config: Config, world: World) -> None:
    report = committed()
    assert verify_release(report, config, ["alpha"], world.ports()) is None
    assert report.verification is not None and report.verification.verification.verdict == "PASSED"
    assert world.slept[0] == 30  # the rollout's settle time


def test_a_release_whose_verification_cannot_run_stands_unverified(config: Config, world: World) -> None:
    def down(_expr: str) -> list[Sample]:
        raise GateUnavailable("Prometheus http://prometheus.example: HTTP 503")

    world.prometheus.query = down  # type: ignore[method-assign]
    report = committed()
    error = verify_release(report, config, ["alpha"], world.ports())
    assert report.verification is None and report.verification_error == "Prometheus http://prometheus.example: HTTP 503"
    assert str(error).startswith(f"dev: released (commit {'c' * 12}) but not verified: Prometheus")
