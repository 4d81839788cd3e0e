"""Hostile (and honest) HTTP servers for credential tests: each records what reached it.

`RecordingServer` listens on a loopback address of your choice (127.0.0.1 for the configured
host, 127.0.0.2 for "another host": Linux routes all of 127.0.0.0/8 to lo), answers through a
handler function, and keeps every request: method, path, headers, body. A test then asserts
which Authorization headers reached which host. `GitBackend` is a handler that serves bare
repositories with the real `git http-backend` (smart HTTP, clone and push), optionally
demanding HTTP Basic credentials. While a request is being served the server can take a
snapshot of every process's command line (/proc/<pid>/cmdline), so a test sees what the git
client processes were started with while they ran.
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def authorization(self) -> str | None:
        """The Authorization header, its scheme in lower case (schemes are case-insensitive:
        git sends `basic`, requests `Basic`)."""
        for name, value in self.headers.items():
            if name.lower() == "authorization":
                scheme, _, rest = value.partition(" ")
                return f"{scheme.lower()} {rest}"
        return None


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Handler = Callable[[Recorded], Answer]


def _not_found(_request: Recorded) -> Answer:
    return Answer(404, {"Content-Type": "text/plain"}, b"nothing here\n")


class RecordingServer:
    """A threaded HTTP server on `host` that records every request and answers with `handler`."""

    def __init__(self, host: str = "127.0.0.1", handler: Handler = _not_found, *,
                 snapshot_processes: bool = False) -> None:
        self.host = host
        self.handler = handler
        self.requests: list[Recorded] = []
        self.cmdlines: list[str] = []  # every process's command line, taken while serving
        self.snapshot_processes = snapshot_processes
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = self._read_chunked()
                else:
                    body = self.rfile.read(length) if length else b""
                request = Recorded(self.command, self.path, dict(self.headers.items()), body)
                with server._lock:
                    server.requests.append(request)
                    if server.snapshot_processes:
                        server.cmdlines.extend(_all_cmdlines())
                answer = server.handler(request)
                self.send_response(answer.status)
                headers = {"Content-Length": str(len(answer.body)), **answer.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            def _read_chunked(self) -> bytes:
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()

            do_GET = do_POST = do_PUT = do_PATCH = do_HEAD = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
                pass

        self._server = ThreadingHTTPServer((host, 0), _Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> RecordingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RecordingServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def authorizations(self) -> list[str]:
        """Every Authorization header that reached this server."""
        return [r.authorization for r in self.requests if r.authorization]


@contextmanager
def serving(host: str = "127.0.0.1", handler: Handler = _not_found, **kw: bool) -> Iterator[RecordingServer]:
    server = RecordingServer(host, handler, **kw).start()
    try:
        yield server
    finally:
        server.stop()


def _all_cmdlines() -> list[str]:
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # the process ended meanwhile
        if raw:
            found.append(raw.replace(b"\0", b" ").decode(errors="replace").strip())
    return found


def basic(user: str, password: str) -> str:
    """An Authorization value as `Recorded.authorization` shows it."""
    return "basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class GitBackend:
    """`git http-backend` (CGI) over the bare repositories under `root`: clone and push.

    With `credentials` set, a request without exactly that Basic header is answered 401 with
    a Basic challenge, as a git host does."""

    def __init__(self, root: Path, credentials: tuple[str, str] | None = None) -> None:
        self.root = root
        self.expected = basic(*credentials) if credentials else None

    def __call__(self, request: Recorded) -> Answer:
        if self.expected is not None and request.authorization != self.expected:
            return Answer(401, {"WWW-Authenticate": 'Basic realm="git"', "Content-Type": "text/plain"},
                          b"authentication required\n")
        path, _, query = request.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": request.method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(request.body)),
            "HTTP_CONTENT_ENCODING": request.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": request.headers.get("Git-Protocol", ""),
            "REMOTE_USER": "tester",  # http-backend allows receive-pack (push) for a known user
            "REMOTE_ADDR": "127.0.0.1",
        }
        done = subprocess.run(["git", "http-backend"], input=request.body, env=env, capture_output=True,
                              check=False, timeout=60)
        head, _, body = done.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, body = done.stdout.partition(b"\n\n")
        status, headers = 200, {}
        for line in head.decode(errors="replace").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers[name.strip()] = value.strip()
        return Answer(status, headers, body)
