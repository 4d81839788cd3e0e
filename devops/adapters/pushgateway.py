"""Push metrics to a Prometheus Pushgateway with `prometheus_client` (its own HTTP client).

One push replaces the whole group (job + grouping key), so node groups that disappeared from
the config do not linger as stale series.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from devops.errors import HttpError


class Sample(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def labels(self) -> dict[str, str]: ...

    @property
    def value(self) -> float: ...


def push(url: str, job: str, samples: Sequence[Sample], help_texts: Mapping[str, str], *,
         timeout: float = 10.0, username_env: str | None = None, password_env: str | None = None) -> None:
    """PUT `samples` as group `job` on the Pushgateway at `url`; HttpError naming it on failure."""
    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
    from prometheus_client.exposition import basic_auth_handler, default_handler

    registry = CollectorRegistry()
    gauges: dict[str, Any] = {}
    for sample in samples:
        if sample.name not in gauges:
            gauges[sample.name] = Gauge(sample.name, help_texts.get(sample.name, sample.name),
                                        sorted(sample.labels), registry=registry)
        gauges[sample.name].labels(**sample.labels).set(sample.value)
    username = os.environ.get(username_env) if username_env else None
    password = os.environ.get(password_env) if password_env else None

    def handler(url: str, method: str, timeout: float | None, headers: list[tuple[str, str]], data: bytes) -> Any:
        if username and password:
            return basic_auth_handler(url, method, timeout, headers, data, username, password)
        return default_handler(url, method, timeout, headers, data)

    try:
        push_to_gateway(url, job=job, registry=registry, timeout=timeout, handler=handler)
    except OSError as exc:  # urllib's URLError/HTTPError and socket errors are OSErrors
        raise HttpError(f"Pushgateway {url}: {exc}", hint="check cost.metrics.pushgateway_url") from None
