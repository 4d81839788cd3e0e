"""A real Prometheus watching the real shop containers, for the observability end-to-end test.

Started once per test module (the shop, `api_stack`, is module-scoped):

- the product, cart and order containers of tests/services/conftest.py, scraped at their
  published 127.0.0.1 ports with the target labels their ServiceMonitor adds;
- kube-state-metrics and the kubelet's cAdvisor, which need a Kubernetes cluster: a small local
  HTTP server replays RECORDED exposition text (tests/observability/e2e/recorded/), shaped
  exactly like kube-state-metrics v2 and cAdvisor output, timestamps set to now on every scrape;
- a real Pushgateway (`prometheus-pushgateway`) holding the `devops_cost_*` metrics, pushed by
  the adapter `devops cost schedule` pushes with (prometheus_client), scraped with honor_labels;
- a real blackbox exporter (`prometheus-blackbox-exporter`) probing a local HTTPS server with a
  self-signed certificate (the frontend's stand-in: the frontend has no /metrics);
- every rule file of gitops/platform/observability/rules/ that `promtool check rules` accepts
  (the others are reported by a test), evaluated every second.

A background thread sends API traffic (catalogue reads, cart additions, orders) for as long
as the module runs, so rates over a one-minute window always have samples.
"""

from __future__ import annotations

import datetime as dt
import http.server
import os
import re
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.services.conftest import Stack, api_images, api_stack  # noqa: F401  (pytest fixtures)
from tests.support.daemons import Proc
from tests.support.stack import free_port, unavailable

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
RECORDED = HERE / "recorded"
RULES_DIR = REPO / "gitops" / "platform" / "observability" / "rules"
DASHBOARDS_DIR = REPO / "gitops" / "platform" / "observability" / "dashboards"
APIS = ("product", "cart", "order")
# The Kubernetes pods the three containers play: the pod names of the recorded
# kube-state-metrics and cAdvisor data, so joins on `pod` between them and the services'
# metrics work as in the cluster.
PODS = {
    "product": "product-6b7d9c8f5-4kq2m",
    "cart": "cart-58c9d7b6f4-x7tnp",
    "order": "order-7f5d8c9b6d-q2w8r",
}
NODES = {
    "node-a": "ip-10-0-1-57.ap-south-1.compute.internal",
    "node-b": "ip-10-0-2-143.ap-south-1.compute.internal",
}
COST_TARGET = {"target": "dev", "cluster": "techitfactory-dev"}
TOOLS = {
    "prometheus": "/usr/bin/prometheus",
    "promtool": "/usr/bin/promtool",
    "pushgateway": "/usr/bin/prometheus-pushgateway",
    "blackbox": "/usr/bin/prometheus-blackbox-exporter",
}


def tool(name: str) -> str:
    path = shutil.which(Path(TOOLS[name]).name) or TOOLS[name]
    if not Path(path).exists():
        unavailable(f"{TOOLS[name]} not installed (apt-get install prometheus prometheus-pushgateway "
                    "prometheus-blackbox-exporter)")
    return path


# --- processes ----------------------------------------------------------------------------------


# --- recorded exporters -------------------------------------------------------------------------

_SAMPLE = re.compile(r"^(?P<series>[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?)\s+(?P<value>\S+)(?:\s+(?P<ts>-?\d+))?\s*$")


def replay(text: str, elapsed: float, advance_counters: bool) -> str:
    """Recorded exposition text as a live exporter would serve it now.

    Recorded sample timestamps (cAdvisor writes them) become the current time, or Prometheus
    would drop the samples as too old; with `advance_counters` every counter grows with the
    elapsed time (CPU seconds keep being consumed), so rate() sees a live container.
    """
    now_ms = str(int(time.time() * 1000))
    counters: set[str] = set()
    lines = []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            if kind == "counter":
                counters.add(name)
        match = _SAMPLE.match(line) if not line.startswith("#") else None
        if match:
            series, value = match.group("series"), match.group("value")
            name = series.split("{", 1)[0]
            if advance_counters and name in counters:
                value = repr(float(value) + elapsed * 0.05)
            line = f"{series} {value}" + (f" {now_ms}" if match.group("ts") else "")
        lines.append(line)
    return "\n".join(lines) + "\n"


class RecordedExporters:
    """Serves recorded/*.prom: /kube-state-metrics/metrics and /kubelet/<node>/metrics/cadvisor."""

    def __init__(self) -> None:
        self.port = free_port()
        self.started = time.monotonic()
        routes = {"/kube-state-metrics/metrics": (RECORDED / "kube-state-metrics.prom", False)}
        for short in NODES:
            routes[f"/kubelet/{short}/metrics/cadvisor"] = (RECORDED / f"cadvisor-{short}.prom", True)
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                route = routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self.send_error(404)
                    return
                body = replay(route[0].read_text(), time.monotonic() - owner.started, route[1]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> RecordedExporters:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the HTTPS frontend stand-in ----------------------------------------------------------------


def self_signed(folder: Path, days: int = 90) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost (the blackbox probe trusts it as its CA)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "frontend.crt", folder / "frontend.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class HttpsFrontend:
    """A TLS server answering the shop's index page: what the blackbox exporter probes."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.port = free_port()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = b"<!doctype html><title>techitfactory shop</title><div id=root></div>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def start(self) -> HttpsFrontend:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- API traffic --------------------------------------------------------------------------------


class Traffic:
    """Customers in a background thread: browse, add to cart, order (one round a second)."""

    def __init__(self, stack: Stack, interval: float = 1.0) -> None:
        self.stack = stack
        self.interval = interval
        self.rounds = 0
        self.orders = 0
        self.statuses: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._http = requests.Session()
        self._http.trust_env = False  # 127.0.0.1 only: never through a proxy

    def start(self) -> Traffic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def count(self, key: str) -> None:
        with self._lock:
            self.statuses[key] = self.statuses.get(key, 0) + 1

    def summary(self) -> dict[str, int]:
        """Answers so far by service and status (shown when a wait times out)."""
        with self._lock:
            return dict(self.statuses)

    def _call(self, method: str, service: str, path: str, **kwargs: Any) -> requests.Response | None:
        try:
            response = self._http.request(method, self.stack.url(service) + path, timeout=5, **kwargs)
        except requests.RequestException:
            self.count(f"{service} error")
            return None
        self.count(f"{service} {response.status_code}")
        return response

    def one_round(self) -> None:
        """One customer: catalogue, a product, an unknown product (404), cart, order, orders."""
        self.rounds += 1
        user = {"X-User-Id": f"o3-e2e-{os.getpid()}-{self.rounds}"}
        listing = self._call("GET", "product", "/api/products?limit=20")
        items = []
        if listing is not None and listing.status_code == 200:
            items = listing.json().get("items", [])
        if not items and listing is not None and listing.status_code == 200:
            # An empty catalogue (the database was restarted empty): sell something again.
            self._call("POST", "product", "/api/products", json={
                "name": "Trail runner", "description": "", "price": 49.5, "stock": 500, "category": "shoes"})
            return
        self._call("GET", "product", "/api/products/000000000000000000000000")
        if not items:
            self._call("GET", "cart", "/api/cart", headers=user)
            self._call("GET", "order", "/api/orders", headers=user)
            return
        product = items[self.rounds % len(items)]
        self._call("GET", "product", f"/api/products/{product['id']}")
        added = self._call("POST", "cart", "/api/cart", headers=user, json={"productId": product["id"], "quantity": 1})
        cart = self._call("GET", "cart", "/api/cart", headers=user)
        if added is not None and added.status_code in (200, 201) and cart is not None and cart.status_code == 200:
            lines = cart.json().get("items", [])
            if lines:
                self._call("PATCH", "cart", f"/api/cart/{lines[0]['id']}", headers=user, json={"quantity": 2})
        order = self._call("POST", "order", "/api/orders", headers=user, json={
            "shipping": {"name": "E2E Customer", "address": "1 Test Street"}})
        if order is not None and order.status_code == 201:
            self.orders += 1
            self._call("GET", "order", f"/api/orders/{order.json()['id']}", headers=user)
        self._call("GET", "order", "/api/orders", headers=user)
        for service in APIS:  # the kubelet's probes
            self._call("GET", service, "/health")

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.one_round()
            except Exception as exc:  # keep customers coming whatever one answer looked like
                self.count(f"round failed: {type(exc).__name__}")
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))


# --- rules --------------------------------------------------------------------------------------


def checked_rule_files(promtool: str, dest: Path) -> tuple[list[Path], list[str]]:
    """Copy the rule files `promtool check rules` accepts into `dest`; report the others.

    A broken file would stop Prometheus from starting and hide every other result; it is
    reported by test_rule_files_load instead.
    """
    dest.mkdir(parents=True, exist_ok=True)
    loaded: list[Path] = []
    problems: list[str] = []
    for path in sorted(RULES_DIR.glob("*.yaml")):
        done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            problems.append(f"{path.relative_to(REPO)}: promtool check rules failed:\n{done.stdout}{done.stderr}")
            continue
        shutil.copy(path, dest / path.name)
        loaded.append(path)
    return loaded, problems


def rules_in(paths: list[Path]) -> list[dict[str, Any]]:
    """Every rule of the files, each with its `group` and `file` added."""
    found = []
    for path in paths:
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                found.append({**rule, "group": group["name"], "file": path.name})
    return found


# --- Prometheus ---------------------------------------------------------------------------------


def prometheus_config(stack: Stack, recorded: RecordedExporters, pushgateway: str, blackbox: str,
                      probe_url: str, rules_dir: Path) -> dict[str, Any]:
    scrape: list[dict[str, Any]] = []
    for service in APIS:
        address = stack.url(service).removeprefix("http://")
        # This static config stands in for the service's ServiceMonitor (charts/service): no
        # Kubernetes runs here, so the labels the operator's relabelling would add are set by hand.
        scrape.append({
            "job_name": service,
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [address], "labels": {
                "namespace": "shop", "service": service, "container": service, "pod": PODS[service],
                "endpoint": "http"}}],
        })
    # kube-prometheus-stack scrapes kube-state-metrics and the kubelet with honorLabels: true,
    # so the exporters' own namespace/pod/container labels win over the target's.
    scrape.append({
        "job_name": "kube-state-metrics",
        "honor_labels": True,
        "metrics_path": "/kube-state-metrics/metrics",
        "static_configs": [{"targets": [recorded.address], "labels": {
            "namespace": "monitoring", "service": "kube-prometheus-stack-kube-state-metrics",
            "container": "kube-state-metrics", "endpoint": "http",
            "pod": "kube-prometheus-stack-kube-state-metrics-7d9c6b8f5-2xk9p"}}],
    })
    for short, node in NODES.items():
        scrape.append({
            "job_name": f"kubelet-{short}",
            "honor_labels": True,
            "honor_timestamps": True,
            "metrics_path": f"/kubelet/{short}/metrics/cadvisor",
            "static_configs": [{"targets": [recorded.address], "labels": {
                "node": node, "metrics_path": "/metrics/cadvisor", "namespace": "kube-system",
                "service": "kube-prometheus-stack-kubelet", "endpoint": "https-metrics"}}],
            # Both nodes share one job name, as the kubelet ServiceMonitor's targets do.
            "relabel_configs": [{"target_label": "job", "replacement": "kubelet"}],
        })
    scrape.append({
        "job_name": "pushgateway",
        "honor_labels": True,  # the pushed job="devops-cost" is kept
        "static_configs": [{"targets": [pushgateway], "labels": {"namespace": "monitoring"}}],
    })
    scrape.append({
        "job_name": "blackbox",
        "metrics_path": "/probe",
        "params": {"module": ["http_2xx"]},
        "static_configs": [{"targets": [probe_url]}],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": blackbox},
        ],
    })
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(rules_dir / "*.yaml")],
        "scrape_configs": scrape,
    }


@dataclass
class Observed:
    """The running observability stack around the running shop."""

    prometheus: str
    stack: Stack
    pushgateway: str
    probe_url: str
    traffic: Traffic
    rule_files: list[Path]
    rule_problems: list[str]
    procs: dict[str, Proc] = field(default_factory=dict)

    def api(self, path: str, **params: str) -> Any:
        response = requests.get(f"{self.prometheus}{path}", params=params, timeout=30)
        body = response.json()
        if body.get("status") != "success":
            raise AssertionError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str) -> tuple[list[dict[str, Any]] | None, str]:
        """(result, "") on success, (None, error) when Prometheus refuses the expression."""
        response = requests.get(f"{self.prometheus}/api/v1/query", params={"query": expr}, timeout=30)
        try:
            body = response.json()
        except ValueError:
            return None, f"HTTP {response.status_code}: {response.text[:200]}"
        if body.get("status") != "success":
            return None, f"{body.get('errorType')}: {body.get('error')}"
        data = body["data"]
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}], ""
        return data["result"], ""

    def format(self, expr: str) -> tuple[str | None, str]:
        response = requests.get(f"{self.prometheus}/api/v1/format_query", params={"query": expr}, timeout=30)
        body = response.json()
        if body.get("status") != "success":
            return None, f"{body.get('errorType')}: {body.get('error')}"
        return str(body["data"]), ""

    def wait_for(self, expr: str, timeout: float = 60, what: str = "",
                 until: Callable[[list[dict[str, Any]]], bool] = bool) -> list[dict[str, Any]]:
        """Poll `expr` until its result satisfies `until` (default: at least one series)."""
        deadline = time.monotonic() + timeout
        result: list[dict[str, Any]] | None = None
        error = ""
        while time.monotonic() < deadline:
            result, error = self.query(expr)
            if result is not None and until(result):
                return result
            time.sleep(0.5)
        raise TimeoutError(f"{what or expr}: not there after {timeout} s (last: {error or result}); "
                           f"traffic so far: {self.traffic.summary()}")


def push_cost_metrics(pushgateway: str) -> None:
    """The cost schedule's metrics, pushed by the code `devops cost schedule` pushes them with.

    devops/adapters/pushgateway.py (prometheus_client's push_to_gateway) with the names and
    help texts of devops/domain/cost/metrics.py and the default job of `cost.metrics`: what a run
    that wants node group `general` of the dev cluster up (2 nodes) pushes.
    """
    from devops.adapters.pushgateway import push
    from devops.config.cost import CostMetricsConfig
    from devops.domain.cost.metrics import DESIRED_NODES, DESIRED_UP, HELP, LAST_RUN, MetricSample

    group = {**COST_TARGET, "nodegroup": "general"}
    samples = [
        MetricSample(DESIRED_UP, group, 1.0),
        MetricSample(DESIRED_NODES, group, 2.0),
        MetricSample(LAST_RUN, dict(COST_TARGET), time.time()),
    ]
    push(f"http://{pushgateway}", CostMetricsConfig().job, samples, HELP, timeout=10)


@pytest.fixture(scope="module")
def observed(api_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:  # noqa: F811
    """Prometheus, Pushgateway, blackbox exporter and recorded exporters around the running shop."""
    paths = {name: tool(name) for name in TOOLS}
    work = tmp_path_factory.mktemp("o11y-e2e")
    procs: dict[str, Proc] = {}
    servers: list[RecordedExporters | HttpsFrontend] = []
    traffic = Traffic(api_stack)
    try:
        recorded = RecordedExporters().start()
        servers.append(recorded)
        cert, key = self_signed(work)
        frontend = HttpsFrontend(cert, key).start()
        servers.append(frontend)

        push_port = free_port()
        # Debian's build persists to /var/lib/prometheus/pushgateway.data by default: every
        # instance would load (and later overwrite) the groups other runs pushed there.
        procs["pushgateway"] = Proc("pushgateway", [
            paths["pushgateway"], f"--web.listen-address=127.0.0.1:{push_port}",
            f"--persistence.file={work / 'pushgateway.data'}",
        ], work / "pushgateway.log").start()

        blackbox_port = free_port()
        blackbox_config = work / "blackbox.yml"
        blackbox_config.write_text(yaml.safe_dump({"modules": {"http_2xx": {
            "prober": "http", "timeout": "5s",
            "http": {"preferred_ip_protocol": "ip4", "tls_config": {"ca_file": str(cert)}},
        }}}))
        procs["blackbox"] = Proc("blackbox exporter", [
            paths["blackbox"], f"--config.file={blackbox_config}", f"--web.listen-address=127.0.0.1:{blackbox_port}",
        ], work / "blackbox.log").start()

        procs["pushgateway"].wait_ready(f"http://127.0.0.1:{push_port}/-/ready")
        procs["blackbox"].wait_ready(f"http://127.0.0.1:{blackbox_port}/-/healthy")
        push_cost_metrics(f"127.0.0.1:{push_port}")

        rules_dir = work / "rules"
        rule_files, rule_problems = checked_rule_files(paths["promtool"], rules_dir)
        config = prometheus_config(api_stack, recorded, f"127.0.0.1:{push_port}", f"127.0.0.1:{blackbox_port}",
                                   frontend.url, rules_dir)
        (work / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        prom_port = free_port()
        procs["prometheus"] = Proc("prometheus", [
            paths["prometheus"], f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom_port}",
            "--storage.tsdb.retention.time=1d", "--log.level=warn",
        ], work / "prometheus.log").start()
        procs["prometheus"].wait_ready(f"http://127.0.0.1:{prom_port}/-/ready", timeout=60)

        traffic.start()
        observed = Observed(f"http://127.0.0.1:{prom_port}", api_stack, f"http://127.0.0.1:{push_port}",
                            frontend.url, traffic, rule_files, rule_problems, procs)
        _wait_until_scraped(observed)
        yield observed
    finally:
        # Each step on its own: one failing must not leave the others running.
        for stop in [traffic.stop, *(p.stop for p in procs.values()), *(s.stop for s in servers)]:
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 (teardown goes on; the error is shown)
                print(f"teardown: {exc!r}")


def _wait_until_scraped(observed: Observed) -> None:
    """Every target up, and the series the test relies on present (bounded polling)."""
    deadline = time.monotonic() + 90
    down: list[str] = []
    while time.monotonic() < deadline:
        targets = observed.api("/api/v1/targets", state="active")["activeTargets"]
        down = [f"{t['labels'].get('job')} {t['scrapeUrl']}: {t['health']} {t.get('lastError', '')}"
                for t in targets if t["health"] != "up"]
        if targets and not down:
            break
        time.sleep(0.5)
    else:
        raise TimeoutError("targets not up after 90 s:\n" + "\n".join(down) + "\n"
                           + observed.procs["prometheus"].tail())
    observed.wait_for('http_requests_total{job="order",method="POST",route="/api/orders",status="201"}',
                      what="an order created through POST /api/orders")
    observed.wait_for('http_requests_total{job="cart",method="POST",route="/api/cart"}', what="a cart addition")
    observed.wait_for('probe_success{job="blackbox"} == 1', what="the blackbox probe of the HTTPS frontend succeeding")
    observed.wait_for('devops_cost_nodegroup_desired_up{job="devops-cost"}', what="the pushed cost metrics")
    # rate() needs two samples of every counter in its window.
    observed.wait_for('count(rate(http_requests_total{job=~"product|cart|order"}[1m]) > 0) by (job)',
                      until=lambda result: len(result) == 3, what="request rates of all three APIs")
