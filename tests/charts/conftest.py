"""Fixtures of the chart tests: the four services rendered once per session with Helm's engine,
and the CRD schema of ServiceMonitor from ../shared/schemas (skipped, saying why, without it)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.charts.render import SERVICE_MONITOR_SCHEMA, SERVICES, Rendered, env_values, render_service


@pytest.fixture(scope="session")
def rendered_services() -> dict[str, Rendered]:
    """Every service: charts/values/<svc>.yaml + an environment file with a real-looking digest."""
    return {service: render_service(service, env_values(service)) for service in SERVICES}


@pytest.fixture(scope="session")
def service_monitor_schema() -> dict[str, Any]:
    if not SERVICE_MONITOR_SCHEMA.is_file():
        pytest.skip(f"{SERVICE_MONITOR_SCHEMA} is absent (../shared/schemas ships beside the project)")
    schema: dict[str, Any] = json.loads(SERVICE_MONITOR_SCHEMA.read_text(encoding="utf-8"))
    return schema
