"""A real Prometheus scraping exporters these tests drive, and a project configured to verify.

The exporters are `prometheus_client` HTTP servers with the services' metric names and labels
(the real services are scraped in tests/observability/e2e); driving the counters from the
test gives exact error and latency ratios, so each objective's boundary can be tested.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from tests.support.project import make_project
from tests.support.prometheus import free_port, running_prometheus

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


@dataclass
class Exporter:
    """One service's /metrics: http_requests_total and http_request_duration_seconds."""

    port: int
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        labels = ["method", "route", "status"]
        self.requests = Counter("http_requests_total", "requests", labels, registry=self.registry)
        self.duration = Histogram("http_request_duration_seconds", "latency", labels, buckets=BUCKETS,
                                  registry=self.registry)
        self.server, self.thread = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)

    def serve(self, count: int, status: int = 200, seconds: float = 0.01, route: str = "/api/alpha") -> None:
        for _ in range(count):
            self.requests.labels("GET", route, str(status)).inc()
            self.duration.labels("GET", route, str(status)).observe(seconds)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b'{"status":"ok"}')

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class HealthServer:
    url: str
    handler: type[_Health]

    def answer(self, status: int) -> None:
        self.handler.status = status


@pytest.fixture
def health_server() -> Iterator[HealthServer]:
    handler = type("Handler", (_Health,), {"status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield HealthServer(f"http://127.0.0.1:{server.server_address[1]}", handler)
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Monitored:
    exporter: Exporter
    prometheus: str


@pytest.fixture
def monitored(tmp_path: Path) -> Iterator[Monitored]:
    """A real Prometheus scraping the `alpha` exporter every second as job alpha."""
    exporter = Exporter(free_port())
    scrape = [{"job_name": "alpha", "static_configs": [{"targets": [f"127.0.0.1:{exporter.port}"],
                                                         "labels": {"namespace": "shop", "pod": "alpha-0"}}]}]
    try:
        with running_prometheus(tmp_path / "prometheus", scrape) as url:
            yield Monitored(exporter, url)
    finally:
        exporter.stop()


def verify_project(root: Path, prometheus: str, *, health: str | None = None, window: str = "1m",
                   min_requests: int = 10, extra_verify: str = "") -> Path:
    """A project whose dev environment verifies `alpha` (an SLO) through `prometheus`."""
    health_block = f"\n      health_urls: {{beta: \"{health}\"}}" if health else ""
    environments = f"""\
environments:
  dev:
    url: http://localhost:8080
    cluster: {{name: test-dev}}
    gitops: {{path: gitops/environments/dev}}
    verify:
      prometheus: {{url: "{prometheus}", timeout_seconds: 2}}
      window: {window}
      min_requests: {min_requests}
      health_timeout_seconds: 1{health_block}{extra_verify}
observability:
  slos:
    alpha: {{availability: 99.0, latency: {{threshold_seconds: 0.25, objective: 95.0}}}}
"""
    from tests.support.project import config_text

    make_project(root, commit=False)
    (root / "pipelines" / "devops.yaml").write_text(config_text(environments=environments))
    return root
