"""Health endpoints over HTTP: one GET, no retries (the caller polls), a short timeout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devops.adapters.http import RetryPolicy, request, session
from devops.errors import HttpError

if TYPE_CHECKING:
    import requests


class HttpHealthProbe:
    """`check(url)` -> (answered 200, what came back), never raising for an unhealthy answer."""

    def __init__(self, timeout: float = 5.0) -> None:
        self._policy = RetryPolicy(total=0, timeout=timeout)
        self._http: requests.Session | None = None

    def check(self, url: str) -> tuple[bool, str]:
        if self._http is None:
            self._http = session(self._policy)
        try:
            response = request(self._http, "GET", url, ok=range(100, 600), what=f"GET {url}")
        except HttpError as exc:
            return False, exc.message.removeprefix(f"GET {url}: ")
        if response.status_code == 200:
            return True, "200"
        return False, f"HTTP {response.status_code} {response.text[:80].strip()}".rstrip()
