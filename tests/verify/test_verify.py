"""`devops verify` against a real Prometheus: verdicts, fail-closed windows, faults, bad input."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.faultproxy import FaultProxy, Rule
from tests.verify.conftest import HealthServer, Monitored, verify_project


def query(prometheus: str, expr: str) -> list[dict[str, object]]:
    data = urllib.parse.urlencode({"query": expr}).encode()
    with urllib.request.urlopen(f"{prometheus}/api/v1/query", data=data, timeout=5) as response:
        return json.load(response)["data"]["result"]  # type: ignore[no-any-return]


def wait_until(check: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def traffic(monitored: Monitored, *, ok: int, errors: int = 0, slow: int = 0) -> None:
    """Serve requests in small batches (same mix each time) until Prometheus has counted `total`.

    Batches keep coming until then because Prometheus's first scrape of a new target takes a
    few seconds, and `increase` needs two scrapes that see the counter grow.
    """
    total = ok + errors + slow
    expr = 'sum(increase(http_requests_total{job="alpha",route=~"/api/.*"}[1m]))'
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        monitored.exporter.serve(ok // 10, 200)
        monitored.exporter.serve(errors // 10, 500)
        monitored.exporter.serve(slow // 10, 200, seconds=2.0)
        time.sleep(0.5)
        if any(float(r["value"][1]) >= total for r in query(monitored.prometheus, expr)):
            return
    raise AssertionError("Prometheus never counted the requests")


def verify(root: Path, *args: str) -> tuple[int, dict[str, object], str]:
    outcome = run_cli("--json", "verify", "--env", "dev", "--no-record", *args, cwd=root)
    data = json.loads(outcome.out) if outcome.out.strip() else {}
    return outcome.code, data, outcome.err


def checks(data: dict[str, object], service: str = "alpha") -> dict[str, dict[str, object]]:
    services = {s["service"]: s for s in data["services"]}  # type: ignore[index, union-attr]
    return {c["name"]: c for c in services[service]["checks"]}  # type: ignore[index]


def test_healthy_service_passes_every_objective(tmp_path: Path, monitored: Monitored) -> None:
    root = verify_project(tmp_path / "p", monitored.prometheus)
    traffic(monitored, ok=200)
    code, data, err = verify(root, "--service", "alpha")
    assert code == 0, err
    assert data["verdict"] == "PASSED"
    found = checks(data)
    assert {name: c["verdict"] for name, c in found.items()} == {
        "up": "PASSED", "traffic": "PASSED", "availability": "PASSED", "latency": "PASSED"}
    assert found["availability"]["value"] == 0
    assert found["availability"]["threshold"] == pytest.approx(0.01)


def test_errors_over_the_budget_fail_naming_service_and_objective(tmp_path: Path, monitored: Monitored) -> None:
    root = verify_project(tmp_path / "p", monitored.prometheus)
    traffic(monitored, ok=180, errors=20)  # 10 % errors against a 1 % budget
    code, data, err = verify(root, "--service", "alpha")
    assert code == 1
    found = checks(data)
    assert found["availability"]["verdict"] == "FAILED"
    assert found["availability"]["value"] == pytest.approx(0.1, abs=0.03)
    assert found["latency"]["verdict"] == "PASSED"
    assert "alpha: availability" in err and "dev is not healthy" in err


def test_slow_requests_fail_the_latency_objective(tmp_path: Path, monitored: Monitored) -> None:
    root = verify_project(tmp_path / "p", monitored.prometheus)
    traffic(monitored, ok=160, slow=40)  # 20 % slower than 0.25 s against a 5 % budget
    code, data, err = verify(root, "--service", "alpha")
    assert code == 1, err
    found = checks(data)
    assert found["latency"]["verdict"] == "FAILED"
    assert found["availability"]["verdict"] == "PASSED"
    assert "alpha: latency" in err


def test_a_window_without_requests_is_not_healthy(tmp_path: Path, monitored: Monitored) -> None:
    """The target is up but nobody called the API: nothing to judge, so not verified."""
    root = verify_project(tmp_path / "p", monitored.prometheus)
    wait_until(lambda: bool(query(monitored.prometheus, 'up{job="alpha"} == 1')), what="the scrape")
    code, data, err = verify(root, "--service", "alpha")
    assert code == 1
    found = checks(data)
    assert found["up"]["verdict"] == "PASSED"
    assert found["traffic"]["verdict"] == "FAILED" and "not enough to judge" in str(found["traffic"]["detail"])
    assert found["availability"]["verdict"] == "FAILED" and "no samples" in str(found["availability"]["detail"])


def test_too_little_traffic_is_not_enough(tmp_path: Path, monitored: Monitored) -> None:
    root = verify_project(tmp_path / "p", monitored.prometheus, min_requests=1000)
    traffic(monitored, ok=100)
    code, data, _ = verify(root, "--service", "alpha")
    assert code == 1
    assert checks(data)["traffic"]["verdict"] == "FAILED"
    assert checks(data)["availability"]["verdict"] == "PASSED"


def test_a_stopped_target_fails_up(tmp_path: Path, monitored: Monitored) -> None:
    root = verify_project(tmp_path / "p", monitored.prometheus)
    traffic(monitored, ok=100)
    monitored.exporter.stop()
    wait_until(lambda: bool(query(monitored.prometheus, 'up{job="alpha"} == 0')), what="the target down")
    code, data, err = verify(root, "--service", "alpha")
    assert code == 1
    assert checks(data)["up"]["verdict"] == "FAILED"
    assert "0 of 1 targets up" in str(checks(data)["up"]["detail"]) and "alpha-0" in err


def test_health_endpoints_are_checked_through_the_url(tmp_path: Path, monitored: Monitored,
                                                      health_server: HealthServer) -> None:
    root = verify_project(tmp_path / "p", monitored.prometheus, health=health_server.url)
    code, data, err = verify(root, "--service", "beta")
    assert code == 0, err
    assert {n: c["verdict"] for n, c in checks(data, "beta").items()} == {"health": "PASSED", "ready": "PASSED"}
    health_server.answer(503)
    code, data, err = verify(root, "--service", "beta")
    assert code == 1
    assert checks(data, "beta")["ready"]["verdict"] == "FAILED"
    assert "HTTP 503" in err and f"{health_server.url}/ready" in err


def test_a_service_nothing_checks_is_not_verified(tmp_path: Path, monitored: Monitored) -> None:
    root = verify_project(tmp_path / "p", monitored.prometheus)
    code, data, err = verify(root, "--service", "beta")
    assert code == 1
    assert checks(data, "beta")["coverage"]["verdict"] == "FAILED"
    assert "observability.slos.beta" in err


def test_prometheus_answering_503_is_exit_3(tmp_path: Path, monitored: Monitored) -> None:
    upstream = monitored.prometheus.removeprefix("http://")
    with FaultProxy(upstream) as proxy:
        proxy.add(Rule("POST", r"^/api/v1/query", status=503))
        root = verify_project(tmp_path / "p", f"http://{proxy.address}")
        code, _, err = verify(root, "--service", "alpha")
    assert code == 3
    assert f"http://{proxy.address}" in err and "503" in err


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: a Prometheus stuck on a heavy query."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        sock.close()


def test_prometheus_timing_out_is_exit_3(tmp_path: Path, silent_server: str) -> None:
    root = verify_project(tmp_path / "p", silent_server)
    started = time.monotonic()
    code, _, err = verify(root, "--service", "alpha")
    assert code == 3
    assert silent_server in err and ("timed out" in err or "after retries" in err)
    assert time.monotonic() - started < 60  # bounded by timeout_seconds x attempts, not hanging


def test_not_prometheus_is_exit_3(tmp_path: Path, health_server: HealthServer) -> None:
    """A login page or a proxy answering 200 with something else is not a verdict."""
    root = verify_project(tmp_path / "p", health_server.url)
    code, _, err = verify(root, "--service", "alpha")
    assert code == 3
    assert health_server.url in err


@pytest.mark.parametrize(("args", "needle"), [
    (("--window", "30s"), "--window 30s"),
    (("--window", "ten"), "--window ten"),
    (("--service", "gamma"), "unknown service 'gamma'"),
])
def test_bad_arguments_are_exit_2(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    root = verify_project(tmp_path / "p", "http://127.0.0.1:9")
    code, _, err = verify(root, *args)
    assert code == 2
    assert needle in err


def test_environment_without_verify_is_exit_2(tmp_path: Path) -> None:
    root = verify_project(tmp_path / "p", "http://127.0.0.1:9")
    text = (root / "pipelines" / "devops.yaml").read_text()
    start = text.index("    verify:")
    end = text.index("observability:")
    (root / "pipelines" / "devops.yaml").write_text(text[:start] + text[end:])
    code, _, err = verify(root)
    assert code == 2
    assert "environments.dev.verify is not set" in err and "--prometheus-url" in err


@pytest.mark.parametrize(("bad", "needle"), [
    ("threshold_seconds: 0.25", "threshold_seconds: 0.3"),
    ("availability: 99.0", "availability: 100"),
])
def test_bad_slo_settings_are_exit_2_naming_the_key(tmp_path: Path, bad: str, needle: str) -> None:
    root = verify_project(tmp_path / "p", "http://127.0.0.1:9")
    path = root / "pipelines" / "devops.yaml"
    path.write_text(path.read_text().replace(bad, needle))
    code, _, err = verify(root)
    assert code == 2
    assert "observability.slos.alpha" in err


def test_unknown_service_in_slos_is_exit_2(tmp_path: Path) -> None:
    root = verify_project(tmp_path / "p", "http://127.0.0.1:9")
    path = root / "pipelines" / "devops.yaml"
    path.write_text(path.read_text().replace("    alpha: {availability", "    gamma: {availability"))
    code, _, err = verify(root)
    assert code == 2
    assert "observability.slos.gamma: unknown service" in err


def test_a_verdict_that_cannot_be_recorded_is_still_shown_and_exit_3(tmp_path: Path, monitored: Monitored) -> None:
    """The GitOps repository cannot be reached: the verdict is printed, the reason named, exit 3."""
    root = verify_project(tmp_path / "p", monitored.prometheus)
    path = root / "pipelines" / "devops.yaml"
    missing = tmp_path / "no-such-gitops.git"
    path.write_text(path.read_text().replace("gitops: {path: gitops/environments/dev}",
                                             f'gitops: {{repo: "{missing}", path: gitops/environments/dev}}'))
    traffic(monitored, ok=100)
    outcome = run_cli("--json", "verify", "--env", "dev", "--service", "alpha", cwd=root)
    assert outcome.code == 3
    data = json.loads(outcome.out)
    assert data["verdict"] == "PASSED" and data["recorded"] is None
    assert str(missing) in data["record_error"]
    assert "verified PASSED, but the verdict could not be recorded" in outcome.err and str(missing) in outcome.err
