"""A local webhook receiver for notification tests: records every request, answers from a script
of statuses, can hold an answer past the client's timeout, and can speak TLS with a self-signed
certificate (which a client must refuse unless told to trust it)."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devops.domain.notify.payload import verify_signature
from tests.support.recording_http import Answer, Recorded, RecordingServer


class Receiver:
    def __init__(self, statuses: list[int] | None = None, *, hold: float = 0.0, location: str | None = None,
                 tls: tuple[Path, Path] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.hold = hold
        self.location = location
        self._release = threading.Event()
        self.answered: list[int] = []  # the status each request got, in order
        self.server = RecordingServer("127.0.0.1", self._answer)
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.server._server.socket = context.wrap_socket(self.server._server.socket, server_side=True)
            self.server.url = self.server.url.replace("http://", "https://")

    def _answer(self, request: Recorded) -> Answer:
        if self.hold:
            self._release.wait(self.hold)  # a receiver slower than the client's timeout
        status = self.statuses.pop(0) if self.statuses else 200
        self.answered.append(status)
        headers = {"Content-Type": "text/plain"}
        if self.location:
            headers["Location"] = self.location
        return Answer(status, headers, b"ok\n" if status < 300 else b"receiver says no\n")

    @property
    def url(self) -> str:
        return f"{self.server.url}/hooks/T000/B000/secret-path"

    @property
    def requests(self) -> list[Recorded]:
        return self.server.requests

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests]

    def verified(self, secret: str, now: float) -> list[bool]:
        """What a receiver following docs/release.md concludes about each request."""
        return [verify_signature(secret, r.headers.get("X-Devops-Timestamp", ""), r.body,
                                 r.headers.get("X-Devops-Signature", ""), now) for r in self.requests]

    def stop(self) -> None:
        self._release.set()
        self.server.stop()


@contextmanager
def receiving(statuses: list[int] | None = None, **options: Any) -> Iterator[Receiver]:
    receiver = Receiver(statuses, **options)
    receiver.server.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (no public CA vouches for it)."""
    from tests.observability.e2e.conftest import self_signed as make

    return make(folder)
