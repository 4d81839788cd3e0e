"""The PromQL of every service level objective (`observability.slos`, as `SloDefinitions`).

One module writes these queries for the generated burn-rate alerts and for `devops verify`,
so a release is judged by exactly what pages people. Metrics come from the services
(docs/services.md): `http_requests_total` and `http_request_duration_seconds` with the labels
method, route (the route template) and status; Prometheus adds `job` (the Service's name,
through its ServiceMonitor).

Every ratio is a "bad" ratio (errors, or requests slower than the threshold), 0..1, compared
with the error budget `1 - objective/100`. A window with no API requests has no ratio at all
(0/0 gives no sample): callers treat that as "not enough data", never as healthy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["availability", "latency"]

REQUESTS = "http_requests_total"
DURATION = "http_request_duration_seconds"


@dataclass(frozen=True)
class LatencyTarget:
    """`objective` percent of API requests finish within `threshold_seconds` (a histogram bucket)."""

    threshold_seconds: float
    objective: float


@dataclass(frozen=True)
class ServiceTargets:
    """The objectives of one service, as `observability.slos.<service>` declares them."""

    service: str
    availability: float
    latency: LatencyTarget | None = None
    job: str | None = None   # the Prometheus job; the service name when unset


@dataclass(frozen=True)
class SloDefinitions:
    """Every service level objective of the project: what the rules and `devops verify` judge.

    Built by the configuration (`ObservabilityConfig.definitions()`); `source` names the file
    they come from, for the errors that name a key of it."""

    period: str = "30d"
    api_routes: str = "/api/.*"
    services: tuple[ServiceTargets, ...] = ()
    source: str = "pipelines/devops.yaml"

    def service_names(self) -> list[str]:
        return [target.service for target in self.services]


@dataclass(frozen=True)
class Objective:
    """One SLO of one service: `ratio(window)` must stay at or below `budget`."""

    service: str
    job: str
    kind: Kind
    target_percent: float
    routes: str
    threshold_seconds: float | None = None

    @property
    def name(self) -> str:
        return f"{self.service}-{self.kind}"

    @property
    def budget(self) -> float:
        """The error budget as a ratio: 99.5 % -> 0.005."""
        return round(1 - self.target_percent / 100, 10)

    def describe(self) -> str:
        if self.kind == "availability":
            return f"{self.target_percent:g}% of API requests without a 5xx"
        return f"{self.target_percent:g}% of API requests within {self.threshold_seconds:g}s"

    def selector(self, extra: str = "") -> str:
        labels = f'job="{self.job}",route=~"{self.routes}"'
        return "{" + labels + (f",{extra}" if extra else "") + "}"

    def ratio(self, window: str) -> str:
        """PromQL for the bad ratio over `window`; no sample when there was no traffic."""
        total = f"sum(rate({REQUESTS}{self.selector()}[{window}]))"
        if self.kind == "availability":
            # No 5xx series at all must read as 0 errors, not as "no data".
            errors = f'sum(rate({REQUESTS}{self.selector(_STATUS_5XX)}[{window}]))'
            return f"(({errors}) or (0 * {total})) / {total}"
        assert self.threshold_seconds is not None
        bucket = self.selector('le=~"' + le_matcher(self.threshold_seconds) + '"')
        good = f"sum(rate({DURATION}_bucket{bucket}[{window}]))"
        count = f"sum(rate({DURATION}_count{self.selector()}[{window}]))"
        return f"1 - ({good} / {count})"

    def requests(self, window: str) -> str:
        """PromQL for the number of API requests in `window` (the sample size)."""
        return f"sum(increase({REQUESTS}{self.selector()}[{window}]))"


_STATUS_5XX = 'status=~"5.."'


def le_matcher(bound: float) -> str:
    """A regex for a bucket's `le` as either client library writes it.

    prom-client writes `1`, prometheus_client `1.0`; both write `0.25`. `[.]` instead of `\\.`
    keeps backslashes out of YAML and PromQL strings.
    """
    text = format(bound, "g")
    if "." in text:
        return text.replace(".", "[.]") + "0*"
    return text + "([.]0+)?"


def up(job: str) -> str:
    """PromQL for the scrape health of a service's targets (one sample per target)."""
    return f'up{{job="{job}"}}'


def objectives(definitions: SloDefinitions, services: Iterable[str] | None = None) -> list[Objective]:
    """Every objective of `definitions`, in service order, optionally for some services only."""
    wanted = None if services is None else set(services)
    found: list[Objective] = []
    for targets in definitions.services:
        if wanted is not None and targets.service not in wanted:
            continue
        found.extend(service_objectives(targets, definitions.api_routes))
    return found


def service_objectives(targets: ServiceTargets, routes: str) -> list[Objective]:
    """Availability always, latency when the service has a latency target."""
    service, job = targets.service, targets.job or targets.service
    found = [Objective(service, job, "availability", targets.availability, routes)]
    if targets.latency is not None:
        found.append(Objective(service, job, "latency", targets.latency.objective, routes,
                               targets.latency.threshold_seconds))
    return found
