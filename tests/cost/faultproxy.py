"""A tiny real HTTP proxy on loopback in front of moto_server that injects faults.

Point `AWS_ENDPOINT_URL` at it: every request is forwarded to moto unchanged, except that
the next `fail_count` requests matching `fail_match` (e.g. UpdateNodegroupConfig) get
`fail_status` (429 ThrottlingException or a 5xx) without reaching moto, exactly as AWS
answers them. It also counts requests per EKS operation, as the server saw them.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# EKS is REST-JSON: the operation is the method plus the path shape.
OPERATIONS = [
    ("POST", re.compile(r"^/clusters/[^/]+/node-groups/[^/]+/update-config$"), "UpdateNodegroupConfig"),
    ("GET", re.compile(r"^/clusters/[^/]+/node-groups/[^/]+$"), "DescribeNodegroup"),
    ("GET", re.compile(r"^/clusters/[^/]+/node-groups$"), "ListNodegroups"),
    ("GET", re.compile(r"^/clusters/[^/]+$"), "DescribeCluster"),
    ("POST", re.compile(r"^/tags/.+$"), "TagResource"),
    ("DELETE", re.compile(r"^/tags/.+$"), "UntagResource"),
]


def operation(method: str, path: str) -> str:
    path = urlsplit(path).path
    for verb, pattern, name in OPERATIONS:
        if verb == method and pattern.match(path):
            return name
    return f"{method} {path}"


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.requests: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self.fail_match = ""
        self.fail_count = 0
        self.fail_status = 429
        # After an update, answer DescribeNodegroup with desiredSize+1: EKS "did not do it".
        self.lie_after_update = False
        # ... and with this status instead of ACTIVE (e.g. UPDATING: EKS still applying it).
        self.lie_status: str | None = None
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                op = operation(self.command, self.path)
                with proxy._lock:
                    proxy.requests[op] += 1
                    inject = op == proxy.fail_match and proxy.fail_count > 0
                    if inject:
                        proxy.fail_count -= 1
                        proxy.injected[op] += 1
                if inject:
                    self._fault()
                    return
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                lie = proxy.lie_after_update and proxy.requests["UpdateNodegroupConfig"]
                if op == "DescribeNodegroup" and lie:
                    data = re.sub(rb'"desiredSize":\s*(\d+)', lambda m: b'"desiredSize": %d' % (int(m[1]) + 1), data)
                    if proxy.lie_status:
                        data = data.replace(b'"status": "ACTIVE"', b'"status": "%s"' % proxy.lie_status.encode())
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in (
                        "transfer-encoding",
                        "connection",
                        "content-length",
                        "server",
                        "date",
                    ):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            def _fault(self) -> None:
                status = proxy.fail_status
                if status == 429:
                    kind, payload = "ThrottlingException", {"message": "Rate exceeded"}
                else:
                    kind, payload = "ServerException", {"message": "Service unavailable, try again"}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("x-amzn-ErrorType", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def fail(self, op: str, count: int, status: int = 429) -> None:
        with self._lock:
            self.fail_match, self.fail_count, self.fail_status = op, count, status

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
