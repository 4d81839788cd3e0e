"""Is a released environment healthy? Health endpoints and SLO queries, judged fail-closed.

Per service, every check that applies:
- `health` / `ready`: GET <base>/<health_path> and <readiness_path> answer 200, for services
  with a base URL in `verify.health_urls` (retried until `health_timeout_seconds`, since a
  rollout may still be finishing);
- `up`: the service's Prometheus targets exist and all are up (services with an SLO);
- `traffic`: at least `min_requests` API requests in the window: fewer is not enough to judge,
  so the service is NOT verified (a quiet window is not a healthy one);
- one check per objective of `observability.slos` (availability, latency): the bad ratio over
  the window must not exceed the error budget, i.e. the budget burns no faster than it may
  over the whole SLO period. No sample (0/0) fails.
A service with nothing to check fails: unverified is not verified.

Evidence binds to what was checked: the digest of each service is read from its values file
(what Argo CD deploys) before the checks, and `record_evidence` writes the verdict only while
the release record's entry still holds that digest (compare-and-swap: checked again on every
re-apply after a rejected push); otherwise ConcurrentChange (exit 3) and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from devops.app.release import ReleaseRepository, current_digests
from devops.config.model import Config
from devops.domain.gitops.change import ChangeSet, PublishResult
from devops.domain.observability.slo import Objective, objectives, up
from devops.domain.release.verification import FAILED, PASSED, Check, ServiceVerification, Verification
from devops.domain.retry import RetryPolicy, retrying


class Sample(Protocol):
    @property
    def labels(self) -> dict[str, str]: ...

    @property
    def value(self) -> float: ...


class MetricsSource(Protocol):
    url: str

    def query(self, expr: str) -> Sequence[Sample]: ...


class HealthProbe(Protocol):
    def check(self, url: str) -> tuple[bool, str]:
        """(answered 200, a short description of what came back)."""
        ...


# The health poll stops at its deadline (health_timeout_seconds); this only bounds a zero poll.
POLL_ATTEMPTS = 100_000


class _Unhealthy(Exception):
    """Some health endpoint did not answer 200 yet (internal to the poll)."""


@dataclass(frozen=True)
class VerifySettings:
    window: str
    min_requests: int
    health_urls: dict[str, str]
    health_timeout_seconds: float
    poll_seconds: float = 2.0


def verify(config: Config, environment: str, services: Sequence[str], metrics: MetricsSource,
           probe: HealthProbe, settings: VerifySettings, *, now: Callable[[], dt.datetime],
           sleep: Callable[[float], None] = time.sleep,
           clock: Callable[[], float] = time.monotonic,
           digests: Mapping[str, str] | None = None) -> Verification:
    """Check `services` of `environment` (see the module docstring); nothing is written here.

    `digests` (from `deployed_digests`, read before the checks) is what the verdict is about.
    """
    env_url = config.environment(environment).url.rstrip("/")
    goals = objectives(config.slo_definitions(), list(services))
    health = _health(config, services, env_url, probe, settings, sleep, clock)
    result = Verification(environment, settings.window, metrics.url, now(), digests=dict(digests or {}))
    for service in services:
        checks = list(health.get(service, []))
        mine = [o for o in goals if o.service == service]
        if mine:
            checks.append(_up_check(metrics, mine[0].job))
            checks.append(_traffic_check(metrics, mine[0], settings))
            checks.extend(_objective_check(metrics, o, settings.window) for o in mine)
        if not checks:
            checks.append(Check("coverage", FAILED, f"nothing checks {service}: add observability.slos.{service} "
                                                     f"or environments.{environment}.verify.health_urls.{service}"))
        result.services.append(ServiceVerification(service, checks))
    return result


def _health(config: Config, services: Sequence[str], env_url: str, probe: HealthProbe,
            settings: VerifySettings, sleep: Callable[[float], None],
            clock: Callable[[], float]) -> dict[str, list[Check]]:
    """Health and readiness of the services with a base URL, retried until all pass or time is up."""
    urls: dict[tuple[str, str], str] = {}
    for service in services:
        base = settings.health_urls.get(service)
        if base is None:
            continue
        base = base.replace("{url}", env_url).rstrip("/")
        spec = config.service(service)
        urls[(service, "health")] = base + spec.health_path
        urls[(service, "ready")] = base + spec.readiness_path
    results: dict[tuple[str, str], tuple[bool, str]] = {}
    pending = list(urls)
    # A poll: each wait is at most poll_seconds (full jitter below it), health_timeout_seconds in all.
    policy = RetryPolicy(attempts=POLL_ATTEMPTS, base_seconds=settings.poll_seconds,
                         max_seconds=settings.poll_seconds, deadline_seconds=settings.health_timeout_seconds)
    try:
        for attempt in retrying(policy, retry_on=lambda error: isinstance(error, _Unhealthy), sleep=sleep,
                                clock=clock):
            with attempt:
                for key in pending:
                    results[key] = probe.check(urls[key])
                pending = [key for key in pending if not results[key][0]]
                if pending:
                    raise _Unhealthy
    except _Unhealthy:
        pass  # time is up: the failing answers are the verdict
    checks: dict[str, list[Check]] = {}
    for (service, name), (ok, detail) in results.items():
        checks.setdefault(service, []).append(
            Check(name, PASSED if ok else FAILED, f"GET {urls[(service, name)]}: {detail}"))
    return checks


def _up_check(metrics: MetricsSource, job: str) -> Check:
    samples = metrics.query(up(job))
    if not samples:
        return Check("up", FAILED, f"Prometheus has no targets for job {job!r} (is its ServiceMonitor selected?)")
    down = [s for s in samples if s.value != 1]
    detail = f"{len(samples) - len(down)} of {len(samples)} targets up"
    if down:
        names = ", ".join(sorted(s.labels.get("pod") or s.labels.get("instance", "?") for s in down))
        return Check("up", FAILED, f"{detail}; down: {names}", float(len(samples) - len(down)), float(len(samples)))
    return Check("up", PASSED, detail, float(len(samples)), float(len(samples)))


def _single(samples: Sequence[Sample]) -> float | None:
    values = [s.value for s in samples if not math.isnan(s.value)]
    return values[0] if values else None


def _traffic_check(metrics: MetricsSource, objective: Objective, settings: VerifySettings) -> Check:
    count = _single(metrics.query(objective.requests(settings.window)))
    seen = 0.0 if count is None else count
    threshold = float(settings.min_requests)
    if seen < threshold:
        return Check("traffic", FAILED, f"{seen:.0f} API requests in {settings.window}, fewer than min_requests "
                                        f"{settings.min_requests}: not enough to judge", seen, threshold)
    return Check("traffic", PASSED, f"{seen:.0f} API requests in {settings.window}", seen, threshold)


def _objective_check(metrics: MetricsSource, objective: Objective, window: str) -> Check:
    ratio = _single(metrics.query(objective.ratio(window)))
    what = "errors" if objective.kind == "availability" else f"slower than {objective.threshold_seconds:g}s"
    if ratio is None:
        return Check(objective.kind, FAILED, f"no samples in {window} for {objective.describe()}",
                     None, objective.budget)
    detail = (f"{ratio:.2%} {what} in {window} (budget {objective.budget:.2%} for {objective.describe()})")
    verdict = PASSED if ratio <= objective.budget else FAILED
    return Check(objective.kind, verdict, detail, ratio, objective.budget)


def deployed_digests(repo: ReleaseRepository, services: Sequence[str]) -> dict[str, str]:
    """The digest each service's values file names now: what the checks that follow are about."""
    return current_digests(repo, services)


def record_evidence(repo: ReleaseRepository, verification: Verification) -> PublishResult | None:
    """Write each verified service's verdict into its entry of the environment's release record.

    Only services the record lists get evidence (it belongs to a released digest); None when
    there is nothing to attach it to. The change expects every entry it writes to hold the
    digest that was verified (`verification.digests`), now and on every re-apply after a
    rejected push: a release of the same service landing in between, or a record that names
    another digest than the values file did, is ConcurrentChange (exit 3) and nothing is
    written. One commit, action `verify`, through the environment's configured mode.
    """
    data = repo.read_record().to_dict()
    expected: list[tuple[str, str]] = []
    for checked in verification.services:
        entry = data["services"].get(checked.service)
        if entry is None:
            continue
        digest = verification.digests.get(checked.service, "")
        before = entry.get("verification") or {}
        entry["verification"] = {**verification.evidence(checked.service), "environment": verification.environment,
                                 "digest": digest or None}
        if checked.verdict == PASSED and digest and before.get("verdict") == PASSED and before.get("digest") == digest:
            # Still passing: the soak time (devops/domain/release/soak.py) counts from the first PASSED.
            entry["verification"]["passing_since"] = before.get("passing_since") or before.get("verified_at")
        expected.append((checked.service, digest))
    if not expected:
        return None
    change = ChangeSet(environment=verification.environment, updates=(), record=data, action="verify",
                       expected_digests=tuple(expected))
    return repo.publish(change)
