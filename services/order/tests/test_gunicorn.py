"""The image's server: gunicorn with gunicorn.conf.py and order_service.wsgi, as a process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import _free_port

ROOT = Path(__file__).resolve().parents[1]


def _start(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "order_service.wsgi:app"],
        cwd=ROOT, env={**os.environ, "PORT": str(port), **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    pytest.fail(f"gunicorn did not start: {proc.communicate()[0][-2000:]}")


def test_sigterm_finishes_the_in_flight_request_and_exits_0(proxy, shop):
    proc, url = _start({"MONGODB_URI": f"mongodb://127.0.0.1:{proxy.port}/gunicorn_test",
                        "CART_SERVICE_URL": shop.url})
    assert requests.get(f"{url}/ready", timeout=10).status_code == 200
    proxy.delay_on(b"find", 1.0)
    result: dict[str, requests.Response] = {}
    started = time.monotonic()
    worker = threading.Thread(
        target=lambda: result.setdefault("r", requests.get(f"{url}/orders", headers={"X-User-Id": "u"}, timeout=15)))
    worker.start()
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    worker.join(15)
    assert result["r"].status_code == 200
    assert result["r"].json() == {"items": []}
    assert time.monotonic() - started >= 0.9
    assert proc.wait(15) == 0
    out = proc.stdout.read() if proc.stdout else ""
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]  # all JSON
    messages = [line["msg"] for line in lines]
    assert "Handling signal: term" in messages
    served = next(i for i, line in enumerate(lines) if line.get("route") == "/orders")
    assert served > messages.index("Handling signal: term")
    assert messages[-1] == "Shutting down: Master"


def test_bad_configuration_exits_nonzero_naming_the_variable():
    proc = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "order_service.wsgi:app"],
        cwd=ROOT, env={**os.environ, "PORT": str(_free_port()), "CART_SERVICE_URL": "cart:3002"},
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 2
    assert "CART_SERVICE_URL must be an http(s) URL" in proc.stdout + proc.stderr
