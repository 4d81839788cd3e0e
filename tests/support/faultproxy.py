"""A fault-injecting TCP proxy on loopback, put in front of the real local registry.

Every request is forced onto its own connection (`Connection: close`), so each one can be
inspected: a rule matching its method and path can answer with a status (429 with
Retry-After, 401, 404, 503) or cut the connection after some bytes of the body (an
interrupted push). Everything else is piped to the registry byte for byte, so chunked blob
uploads work as they do against the registry itself.
"""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass, field

REASONS = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
# Registry error codes, so Docker reads the failure as a registry would report it.
CODES = {401: "UNAUTHORIZED", 403: "DENIED", 404: "NAME_UNKNOWN", 429: "TOOMANYREQUESTS",
         500: "UNKNOWN", 502: "UNKNOWN", 503: "UNAVAILABLE"}


@dataclass
class Rule:
    method: str
    path: str  # regular expression, searched in the request path
    status: int | None = None  # answer with this status
    cut_after: int | None = None  # or forward the head and this many body bytes, then cut
    times: int | None = None  # how many matching requests to hit; None = forever
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return method == self.method and re.search(self.path, path) is not None


class FaultProxy:
    def __init__(self, upstream: str = "127.0.0.1:5000") -> None:
        host, port = upstream.split(":")
        self.upstream = (host, int(port))
        self.rules: list[Rule] = []
        self.log: list[tuple[str, str, str]] = []  # (method, path, what happened)
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.close()

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        with client:
            head, rest = _read_head(client)
            if not head:
                return
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, path = (request_line.split(" ") + ["", ""])[:2]
            rule = self._match(method, path)
            if rule is not None and rule.status is not None:
                self._record(method, path, f"answered {rule.status}")
                _answer(client, rule.status, rule.headers)
                return
            upstream = socket.create_connection(self.upstream)
            with upstream:
                upstream.sendall(_force_close(head))
                if rule is not None and rule.cut_after is not None:
                    self._record(method, path, f"cut after {rule.cut_after} body bytes")
                    _forward_some(client, upstream, rest, rule.cut_after)
                    client.shutdown(socket.SHUT_RDWR)
                    return
                self._record(method, path, "forwarded")
                if rest:
                    upstream.sendall(rest)
                # The request body flows in the background; the answer ends the exchange.
                threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
                _pipe(upstream, client)

    def _match(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    return rule
        return None

    def _record(self, method: str, path: str, what: str) -> None:
        with self._lock:
            self.log.append((method, path, what))


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b"", b""
        data += chunk
        if data[:1] == b"\x16":  # a TLS ClientHello: Docker probing for HTTPS; refuse at once
            return b"", b""
    head, _, rest = data.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _force_close(head: bytes) -> bytes:
    lines = [line for line in head.split(b"\r\n") if line and not line.lower().startswith(b"connection:")]
    return b"\r\n".join(lines + [b"Connection: close"]) + b"\r\n\r\n"


def _answer(client: socket.socket, status: int, headers: dict[str, str]) -> None:
    body = ('{"errors":[{"code":"%s","message":"injected by the test proxy","detail":null}]}'
            % CODES.get(status, "UNKNOWN")).encode()
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}", "Content-Type: application/json",
             f"Content-Length: {len(body)}", "Connection: close",
             "Docker-Distribution-Api-Version: registry/2.0"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    client.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def _forward_some(client: socket.socket, upstream: socket.socket, rest: bytes, limit: int) -> None:
    sent = 0
    chunk = rest
    # A client that sends less than `limit` and then waits must not hang the cut: give up
    # waiting after a moment and cut where we are.
    client.settimeout(2.0)
    while sent < limit:
        if not chunk:
            try:
                chunk = client.recv(65536)
            except TimeoutError:
                return
            if not chunk:
                return
        piece = chunk[: limit - sent]
        upstream.sendall(piece)
        sent += len(piece)
        chunk = b""


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass
