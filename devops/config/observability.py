"""The `observability:` block and `environments.<env>.verify`: SLO targets and release verification.

```yaml
observability:
  slo_period: 30d                      # the error budget's period (burn rates are relative to it)
  api_routes: "/api/.*"                # the routes an SLO counts (probes and /metrics excluded)
  slos:
    product: {availability: 99.5, latency: {threshold_seconds: 0.25, objective: 99.0}}

environments:
  dev:
    verify:
      prometheus: {url: https://prometheus.dev.example.com, token_env: PROMETHEUS_TOKEN}
      window: 10m
      min_requests: 20
      health_urls: {frontend: "{url}"}
```

One set of targets feeds the generated alert rules (`devops observability rules`) and
`devops verify`, so what pages people and what blocks a promotion can never disagree.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from devops.config.base import Section

# `duration_seconds` and `DURATION` are the domain's, named here too for the config's users.
from devops.domain.observability.durations import DURATION, duration_seconds
from devops.domain.observability.slo import LatencyTarget, ServiceTargets, SloDefinitions
from devops.domain.types import Float, HttpUrl, Int, check_http_url, check_template

__all__ = ["DURATION", "LatencyObjective", "ObservabilityConfig", "PrometheusEndpoint", "ServiceSlo", "VerifyConfig",
           "duration_seconds"]

NAME = r"^[a-z][a-z0-9-]{0,62}$"
ENV_VAR = r"^[A-Za-z_][A-Za-z0-9_]*$"
# The services' histogram buckets (services/*/src/common.js, services/order/order_service/
# observability.py): a latency threshold must be one of them, or `le` selects nothing.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class LatencyObjective(Section):
    # A request is good when it finishes within this many seconds (a histogram bucket bound).
    threshold_seconds: Float = Field(gt=0, le=60)
    # Percent of requests that must be good.
    objective: Float = Field(gt=0, lt=100)

    @field_validator("threshold_seconds")
    @classmethod
    def _a_bucket(cls, value: float) -> float:
        if value not in LATENCY_BUCKETS:
            bounds = ", ".join(f"{b:g}" for b in LATENCY_BUCKETS)
            raise ValueError(f"must be one of the services' histogram buckets ({bounds}), got {value:g}")
        return value


class ServiceSlo(Section):
    # Percent of API requests that must not fail with a 5xx.
    availability: Float = Field(gt=0, lt=100)
    latency: LatencyObjective | None = None
    # The Prometheus `job` of the service's targets; the service name (the ServiceMonitor's
    # Service) when unset.
    job: str | None = Field(None, pattern=NAME)


class ObservabilityConfig(Section):
    slo_period: str = Field("30d", pattern=DURATION)
    api_routes: str = Field("/api/.*", min_length=1)
    slos: dict[str, ServiceSlo] = Field(default_factory=dict)

    @field_validator("slo_period")
    @classmethod
    def _period(cls, value: str) -> str:
        duration_seconds(value)
        return value

    @field_validator("api_routes")
    @classmethod
    def _a_regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if '"' in value or "\\" in value:
            raise ValueError("must not contain quotes or backslashes (it is pasted into PromQL)")
        return value

    def definitions(self, source: str = "pipelines/devops.yaml") -> SloDefinitions:
        """The objectives as the domain's types (rules, `devops verify`); `source` names the file."""
        return SloDefinitions(
            period=self.slo_period,
            api_routes=self.api_routes,
            services=tuple(
                ServiceTargets(service, slo.availability,
                               LatencyTarget(slo.latency.threshold_seconds, slo.latency.objective)
                               if slo.latency is not None else None, slo.job)
                for service, slo in self.slos.items()),
            source=source,
        )


class PrometheusEndpoint(Section):
    url: HttpUrl
    # Bearer token for a Prometheus behind an authenticating proxy; none when unset.
    token_env: str | None = Field(None, pattern=ENV_VAR)
    timeout_seconds: Float = Field(10.0, gt=0, le=300)


class VerifyConfig(Section):
    """`devops verify --env E` and the verification step of `devops release`."""

    prometheus: PrometheusEndpoint
    # The look-back of every SLO query.
    window: str = Field("10m", pattern=DURATION)
    # Fewer API requests than this in the window: not enough to judge, so not verified.
    min_requests: Int = Field(20, ge=1, le=1_000_000_000)
    # Service -> base URL whose health and readiness paths are fetched; "{url}" is the
    # environment's URL. Services not listed are judged by their Prometheus targets (`up`).
    health_urls: dict[str, str] = Field(default_factory=dict)
    # Seconds to wait after a release before checking (Argo CD sync and rollout).
    settle_seconds: Float = Field(0, ge=0, le=3600)
    # Seconds to keep retrying health checks that fail, before judging.
    health_timeout_seconds: Float = Field(60, ge=0, le=3600)

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        if duration_seconds(value) < 60:
            raise ValueError("must be at least 1m (two scrapes at the default 30s interval)")
        return value

    @field_validator("health_urls")
    @classmethod
    def _urls(cls, value: dict[str, str]) -> dict[str, str]:
        for service, url in value.items():
            if not re.fullmatch(NAME, service):
                raise ValueError(f"expected a service name, got {service!r}")
            try:
                if url.startswith("{url}"):
                    # `{url}` is the only placeholder; what follows it is a path.
                    check_template(url, {"url"})
                    check_http_url(url.format(url="https://host"))
                else:
                    check_template(url, ())
                    check_http_url(url)
            except ValueError as exc:
                raise ValueError(f"{service}: {exc}") from None
        return value
