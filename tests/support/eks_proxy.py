"""A loopback HTTP proxy in front of moto_server that makes moto's EKS clusters answer where a
test's Kubernetes API stand-in listens.

moto's DescribeCluster gives a made-up endpoint (https://<random>.<region>.eks.amazonaws.com) and
random bytes as the CA. For the clusters registered here, this proxy rewrites exactly those two
fields of moto's answer to the stand-in's URL and its CA (base64 PEM, as EKS sends it); every
other request and field passes through unchanged. Point AWS_ENDPOINT_URL at it: `devops` then
finds the stand-in through EKS as it finds EKS's API server, with no switch in product code.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

DESCRIBE = re.compile(r"^/clusters/([^/?]+)$")


class EksProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.clusters: dict[str, tuple[str, bytes]] = {}  # name -> (server URL, CA PEM)
        self.described: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                found = DESCRIBE.match(urlsplit(self.path).path)
                if self.command == "GET" and found and answer.status == 200 and found[1] in proxy.clusters:
                    server, ca = proxy.clusters[found[1]]
                    document = json.loads(data)
                    document["cluster"]["endpoint"] = server
                    document["cluster"]["certificateAuthority"] = {"data": base64.b64encode(ca).decode()}
                    data = json.dumps(document).encode()
                    proxy.described.append(found[1])
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_DELETE = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def serve(self, cluster: str, server: str, ca_pem: bytes) -> None:
        self.clusters[cluster] = (server, ca_pem)

    def start(self) -> EksProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
