"""A real HTTP proxy in front of moto_server that loses answers on purpose.

For the first `drop` DynamoDB lock writes (PutItem with `attribute_not_exists(LockID)`) it
forwards the request (moto stores the lock item) and then closes the connection without an
answer, exactly as a response lost on the network. The AWS SDK inside Terraform retries the
write, finds its own item and Terraform reports the state as locked by itself.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class LossyProxy:
    def __init__(self, upstream: str, drop: int = 1) -> None:
        self.upstream = urlsplit(upstream)
        self.remaining = drop
        self.dropped = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                upstream.close()
                if proxy._should_drop(self.headers.get("X-Amz-Target", ""), body):
                    self.close_connection = True
                    self.connection.close()  # the write happened; its answer never arrives
                    return
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                # One request per connection: no keep-alive races add faults of their own.
                self.send_header("Connection", "close")
                self.close_connection = True
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _should_drop(self, target: str, body: bytes) -> bool:
        if not target.endswith(".PutItem") or b"attribute_not_exists(LockID)" not in body:
            return False
        with self._lock:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            self.dropped += 1
            return True

    def __enter__(self) -> LossyProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
