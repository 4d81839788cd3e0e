"""A registry WITH the OCI 1.1 referrers API, for the branch the local one (distribution 2.x from
Debian) cannot exercise: a loopback proxy in front of the real registry that, as
distribution-spec v1.1 describes ("Pushing Manifests with Subject", "Listing Referrers"),
answers `OCI-Subject` to a manifest PUT that has a `subject` and serves
`GET /v2/<name>/referrers/<digest>` as an image index of those manifests' descriptors. Storage
stays the real registry's. Stand-in, not a real implementation: say so where it is used."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

_REFERRERS = re.compile(r"^/v2/(?P<name>.+)/referrers/(?P<digest>sha256:[0-9a-f]{64})$")
_MANIFEST = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/?]+)$")


@contextmanager
def referrers_registry(upstream: str) -> Iterator[tuple[str, list[str]]]:
    """host:port of the proxy, and the list of paths it served (to see which calls were made)."""
    index: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            served.append(f"{self.command} {self.path}")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            found = _REFERRERS.match(self.path.split("?")[0])
            if self.command == "GET" and found:
                manifests = list(index.get((found["name"], found["digest"]), {}).values())
                self._answer(200, json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                              "manifests": manifests}).encode(),
                             {"Content-Type": "application/vnd.oci.image.index.v1+json"})
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            upstream_answer = requests.request(self.command, f"http://{upstream}{self.path}", data=body,
                                               headers=headers, allow_redirects=False, timeout=30)
            extra: dict[str, str] = {}
            manifest = _MANIFEST.match(self.path.split("?")[0])
            if self.command == "PUT" and manifest and upstream_answer.status_code == 201:
                doc = json.loads(body)
                subject = doc.get("subject") if isinstance(doc, dict) else None
                if isinstance(subject, dict):
                    digest = "sha256:" + hashlib.sha256(body).hexdigest()
                    entry = {"mediaType": doc.get("mediaType"), "digest": digest, "size": len(body),
                             "artifactType": doc.get("artifactType") or doc.get("config", {}).get("mediaType"),
                             "annotations": doc.get("annotations", {})}
                    index.setdefault((manifest["name"], subject["digest"]), {})[digest] = entry
                    extra["OCI-Subject"] = subject["digest"]
            out = {k: v for k, v in upstream_answer.headers.items()
                   if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding")}
            out.update(extra)
            if "Location" in out:
                out["Location"] = out["Location"].replace(upstream, f"{self.server.server_address[0]}:"
                                                                    f"{self.server.server_address[1]}")
            self._answer(upstream_answer.status_code, upstream_answer.content, out)

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
