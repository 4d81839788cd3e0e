"""Fixtures: the MongoDB stand-in as a real process (tests/services/mongo-standin, over the
wire with pymongo), a TCP proxy in front of it that cuts connections on demand (a real network
fault, mid-request), cart and product services answering as the contract says (so faults can
be injected there; the real ones run with this service in tests/services/test_images.py), and
the app on a real threaded HTTP server."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from order_service import Config, create_app
from order_service.app import close, create_indexes
from order_service.observability import Metrics
from werkzeug.serving import make_server

STANDIN = Path(
    os.environ.get(
        "MONGO_STANDIN_SCRIPT",
        Path(__file__).resolve().parents[3] / "tests" / "services" / "mongo-standin" / "standin.mjs",
    )
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Standin:
    """The CongoDB stand-in (in memory) as a child process."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None or not STANDIN.is_file():
            pytest.fail(f"the MongoDB stand-in needs node and {STANDIN} (npm ci in its folder)")
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [node, str(STANDIN), "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 20
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("mongodb://"):
                self.uri = line.strip()
                break
            if not line and self.proc.poll() is not None:
                pytest.fail(f"the MongoDB stand-in exited with {self.proc.returncode}")
        else:
            pytest.fail("the MongoDB stand-in did not start in 20 s")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Proxy:
    """TCP proxy to the stand-in. `cut_on(b"insert")` drops the first client packet holding
    that marker and kills every connection; new connections are refused until `heal()`."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.down = False
        self.armed: bytes | None = None
        self.delay: tuple[bytes, float] | None = None
        self.lock = threading.Lock()
        self.conns: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        pair = {client: upstream, upstream: client}
        try:
            while True:
                ready, _, _ = select.select(list(pair), [], [], 0.5)
                if self.down:
                    break
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        raise OSError("closed")
                    if sock is client and self.armed and self.armed in data:
                        self.armed = None
                        self.cut()
                        raise OSError("cut")
                    if sock is client and self.delay and self.delay[0] in data:
                        seconds = self.delay[1]
                        self.delay = None
                        time.sleep(seconds)  # a slow database, for this connection only
                    pair[sock].sendall(data)
        except OSError:
            pass
        finally:
            for sock in pair:
                sock.close()
            with self.lock:
                self.conns -= set(pair)

    def cut(self) -> None:
        self.down = True
        with self.lock:
            for sock in self.conns:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.conns.clear()

    def cut_on(self, marker: bytes) -> None:
        self.armed = marker

    def delay_on(self, marker: bytes, seconds: float) -> None:
        self.delay = (marker, seconds)

    def heal(self) -> None:
        self.down = False
        self.armed = None

    def close(self) -> None:
        self.cut()
        self.server.close()


@dataclass
class Shop:
    """Cart and product services as the contract describes them, with fault hooks."""

    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    carts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    cart_fault: str | None = None  # "error" | "unavailable" | "hang" | "garbage"
    product_fault: str | None = None
    before_cart_answer: Callable[[], None] | None = None
    deletes: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    url: str = ""

    def add(self, user: str, product_id: str, quantity: int) -> None:
        p = self.products[product_id]
        self.carts.setdefault(user, []).append(
            {"id": f"item{len(self.carts.get(user, []))}", "productId": product_id, "name": p["name"],
             "price": p["price"], "quantity": quantity, "lineTotal": round(p["price"] * quantity, 2)}
        )


def _shop_handler(shop: Shop) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any = None) -> None:
            raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _fault(self, fault: str | None) -> bool:
            if fault == "hang":
                time.sleep(3)
                return True
            if fault == "error":
                self._send(500, {"error": {"code": "internal_error", "message": "boom", "field": None}})
                return True
            if fault == "unavailable":
                self._send(503, {"error": {"code": "unavailable", "message": "db gone", "field": None}})
                return True
            if fault == "garbage":
                self._send(200, b'{"items": [{"price": "free"}]}')
                return True
            return False

        def do_GET(self) -> None:  # noqa: N802
            shop.request_ids.append(self.headers.get("X-Request-Id", ""))
            user = self.headers.get("X-User-Id", "")
            if self.path == "/cart":
                if shop.before_cart_answer:
                    shop.before_cart_answer()
                if self._fault(shop.cart_fault):
                    return
                items = shop.carts.get(user, [])
                total = round(sum(i["price"] * i["quantity"] for i in items), 2)
                self._send(200, {"userId": user, "items": items, "total": total})
                return
            m = re.fullmatch(r"/products/([0-9a-f]{24})", self.path)
            if m:
                if self._fault(shop.product_fault):
                    return
                p = shop.products.get(m.group(1))
                if p is None:
                    self._send(404, {"error": {"code": "not_found", "message": "no product", "field": "id"}})
                else:
                    self._send(200, p)
                return
            self._send(404, {"error": {"code": "not_found", "message": "no route", "field": None}})

        def do_DELETE(self) -> None:  # noqa: N802
            user = self.headers.get("X-User-Id", "")
            if self.path == "/cart":
                shop.deletes.append(user)
                shop.carts.pop(user, None)
                self._send(204)
                return
            self._send(404)

    return Handler


@pytest.fixture(scope="session")
def standin() -> Iterator[Standin]:
    s = Standin()
    yield s
    s.stop()


@pytest.fixture
def proxy(standin: Standin) -> Iterator[Proxy]:
    p = Proxy(standin.port)
    yield p
    p.close()


@pytest.fixture
def shop() -> Iterator[Shop]:
    s = Shop()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _shop_handler(s))
    s.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield s
    server.shutdown()
    server.server_close()


@dataclass
class Running:
    url: str
    app: Any
    db: Any


@pytest.fixture
def service(proxy: Proxy, shop: Shop, request: pytest.FixtureRequest) -> Iterator[Running]:
    db_name = re.sub(r"\W", "_", request.node.name)[:40]
    reprice = request.node.get_closest_marker("reprice") is not None
    config = Config(
        mongodb_uri=f"mongodb://127.0.0.1:{proxy.port}/{db_name}",
        cart_service_url=shop.url,
        product_service_url=shop.url if reprice else None,
        db_timeout_ms=1500,
        upstream_timeout_ms=1000,
    )
    app = create_app(config, metrics=Metrics())
    db = app.extensions["order_db"]
    create_indexes(db)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield Running(f"http://127.0.0.1:{server.server_port}", app, db)
    server.shutdown()
    close(app)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reprice: the order service re-prices from the product service")
