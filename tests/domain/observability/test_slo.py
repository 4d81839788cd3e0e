"""The SLO queries: one PromQL per objective, shared by the alert rules and `devops verify`."""

from __future__ import annotations

import pytest

from devops.domain.observability.slo import (
    LatencyTarget,
    Objective,
    ServiceTargets,
    SloDefinitions,
    le_matcher,
    objectives,
    service_objectives,
    up,
)

ROUTES = "/api/.*"
DEFINITIONS = SloDefinitions(
    period="30d", api_routes=ROUTES,
    services=(ServiceTargets("product", 99.5, LatencyTarget(0.25, 99.0)),
              ServiceTargets("cart", 99.9, job="cart-api"),
              ServiceTargets("order", 99.0, LatencyTarget(1.0, 95.0))),
)


def test_every_service_gives_availability_and_latency_when_it_has_a_latency_target() -> None:
    found = [(o.name, o.job, o.target_percent, o.threshold_seconds) for o in objectives(DEFINITIONS)]
    assert found == [
        ("product-availability", "product", 99.5, None),
        ("product-latency", "product", 99.0, 0.25),
        ("cart-availability", "cart-api", 99.9, None),   # the job named in the targets
        ("order-availability", "order", 99.0, None),
        ("order-latency", "order", 95.0, 1.0),
    ]
    assert DEFINITIONS.service_names() == ["product", "cart", "order"]


def test_objectives_of_some_services_only() -> None:
    assert [o.name for o in objectives(DEFINITIONS, ["order", "nope"])] == ["order-availability", "order-latency"]
    assert objectives(DEFINITIONS, []) == []
    assert objectives(SloDefinitions()) == []


def test_budget_and_description() -> None:
    availability, latency = service_objectives(ServiceTargets("x", 99.5, LatencyTarget(0.25, 99.0)), ROUTES)
    assert availability.budget == 0.005 and latency.budget == 0.01
    assert availability.describe() == "99.5% of API requests without a 5xx"
    assert latency.describe() == "99% of API requests within 0.25s"


def test_the_availability_ratio_counts_no_5xx_series_as_zero_errors() -> None:
    objective = Objective("cart", "cart", "availability", 99.9, ROUTES)
    total = 'sum(rate(http_requests_total{job="cart",route=~"/api/.*"}[5m]))'
    errors = 'sum(rate(http_requests_total{job="cart",route=~"/api/.*",status=~"5.."}[5m]))'
    assert objective.ratio("5m") == f"(({errors}) or (0 * {total})) / {total}"
    assert objective.requests("10m") == 'sum(increase(http_requests_total{job="cart",route=~"/api/.*"}[10m]))'


def test_the_latency_ratio_reads_the_threshold_bucket_as_both_client_libraries_write_it() -> None:
    objective = Objective("order", "order", "latency", 99.0, ROUTES, 0.5)
    ratio = objective.ratio("1h")
    assert ratio.startswith('1 - (sum(rate(http_request_duration_seconds_bucket{job="order",route=~"/api/.*",'
                            'le=~"0[.]50*"}[1h]))')
    assert ratio.endswith('/ sum(rate(http_request_duration_seconds_count{job="order",route=~"/api/.*"}[1h])))')


@pytest.mark.parametrize(("bound", "regex"), [(0.25, "0[.]250*"), (1.0, "1([.]0+)?"), (10.0, "10([.]0+)?")])
def test_le_matcher(bound: float, regex: str) -> None:
    assert le_matcher(bound) == regex


def test_up_selects_the_scrape_targets_of_a_job() -> None:
    assert up("cart") == 'up{job="cart"}'
