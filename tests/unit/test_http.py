"""The HTTP session factory against recorded answers: retries, Retry-After, bounded failure."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest
import responses

from devops.adapters.http import RetryPolicy, request, session
from devops.errors import HttpError

FAST = RetryPolicy(total=3, backoff_factor=0.01, backoff_jitter=0.0, max_retry_after=2, timeout=5)
URL = "https://api.example.test/thing"


@responses.activate
def test_429_then_success_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)
    responses.get(URL, status=429, headers={"Retry-After": "1"})
    responses.get(URL, json={"ok": True})
    answer = request(session(FAST), "GET", URL)
    assert answer.json() == {"ok": True}
    assert len(responses.calls) == 2


def test_retry_after_is_read_from_the_answer() -> None:
    from urllib3 import HTTPResponse

    from devops.adapters.http import _capped_retry_class

    retry = _capped_retry_class()(total=2)
    answer = HTTPResponse(status=429, headers={"Retry-After": "2"})
    assert retry.get_retry_after(answer) == 2


@responses.activate
def test_5xx_forever_gives_up_with_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)
    responses.get(URL, status=503)
    with pytest.raises(HttpError, match=r"GET https://api.example.test/thing: (still failing|HTTP 503) after retries"):
        request(session(FAST), "GET", URL)
    assert len(responses.calls) == FAST.total + 1


class Scripted(http.server.BaseHTTPRequestHandler):
    """A real HTTP server answering a scripted list of (status, headers), then 200."""

    script: list[tuple[int, dict[str, str]]] = []
    seen: list[float] = []

    def do_GET(self) -> None:  # noqa: N802
        Scripted.seen.append(time.monotonic())
        status, headers = Scripted.script.pop(0) if Scripted.script else (200, {})
        body = b'{"ok": true}'
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    Scripted.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/x"
    server.shutdown()


def test_real_server_retry_after_is_waited_for(scripted: str) -> None:
    Scripted.script = [(429, {"Retry-After": "1"})]
    assert request(session(FAST), "GET", scripted).json() == {"ok": True}
    assert len(Scripted.seen) == 2
    assert Scripted.seen[1] - Scripted.seen[0] >= 0.95


def test_real_server_retry_after_too_long_stops_at_once(scripted: str) -> None:
    Scripted.script = [(429, {"Retry-After": "3600"})]
    with pytest.raises(HttpError, match=r"asked to retry after 3600 s"):
        request(session(FAST), "GET", scripted)
    assert len(Scripted.seen) == 1


@responses.activate
def test_client_error_is_not_retried() -> None:
    responses.get(URL, status=401, body="bad token")
    with pytest.raises(HttpError, match=r"HTTP 401: bad token"):
        request(session(FAST), "GET", URL, hint="check SONAR_TOKEN")
    assert len(responses.calls) == 1


def test_connection_refused_names_the_url() -> None:
    with pytest.raises(HttpError, match=r"GET http://127.0.0.1:9/x: (cannot connect|still failing)"):
        request(session(FAST), "GET", "http://127.0.0.1:9/x")
