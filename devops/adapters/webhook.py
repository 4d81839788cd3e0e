"""Notification channels over HTTP: Slack incoming webhooks and a generic JSON webhook signed
with HMAC-SHA256 (the body and headers are devops/domain/notify/payload.py's).

The URL is a secret (Slack's path is the credential): it is checked before anything is sent
(https, or http to a loopback receiver; devops/domain/notify/url.py) and shown only as its
origin. Requests go through the shared session factory with urllib3's own retries off (the
dispatcher's one retry policy decides, devops/app/notify.py), a timeout per attempt, TLS
certificates verified, and redirects not followed (the body, and a signature or a URL that is
a credential, go only to the configured URL).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from devops.domain.notify.event import DeliveryFailed, Event
from devops.domain.notify.payload import EVENT_HEADER, json_body, signed_headers, slack_body
from devops.domain.notify.url import shown, url_problem

if TYPE_CHECKING:
    import requests

RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


class WebhookChannel:
    """One channel: `send(event)` or DeliveryFailed (retryable for 5xx, 429, timeouts, resets)."""

    def __init__(self, name: str, url: str, *, kind: Literal["slack", "webhook"], project: str,
                 secret: str | None = None, timeout: float = 5.0, verify: bool | str = True,
                 clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.kind = kind
        self.project = project
        self._url = url
        self._secret = secret
        self._timeout = timeout
        self._verify = verify  # True: the system's trust store; a path: that CA bundle (a private CA)
        self._clock = clock
        self._session: requests.Session | None = None

    @property
    def shown(self) -> str:
        return shown(self._url)

    def _http(self) -> requests.Session:
        if self._session is None:
            from devops.adapters.http import RetryPolicy, session

            self._session = session(RetryPolicy(total=0, timeout=self._timeout))
        return self._session

    def send(self, event: Event) -> None:
        import requests

        problem = url_problem(self._url)
        if problem:
            raise DeliveryFailed(f"the URL of channel {self.name} ({self.shown}) {problem}; not sent", retryable=False)
        if self.kind == "webhook" and not self._secret:
            raise DeliveryFailed(f"channel {self.name} has no signing secret; an unsigned webhook is not sent",
                                 retryable=False)
        body = slack_body(event, self.project) if self.kind == "slack" else json_body(event, self.project)
        headers = {"Content-Type": "application/json"}
        if self.kind == "webhook" and self._secret:
            headers.update(signed_headers(self._secret, int(self._clock()), body, event.kind))
        else:
            headers[EVENT_HEADER] = event.kind
        where = f"{self.name} ({self.shown})"
        try:
            response = self._http().post(self._url, data=body, headers=headers, allow_redirects=False,
                                         verify=self._verify, timeout=self._timeout)
        except requests.exceptions.SSLError:
            raise DeliveryFailed(f"{where}: the TLS certificate could not be verified; not sent",
                                 retryable=False) from None
        except (requests.exceptions.Timeout, requests.exceptions.RetryError):
            raise DeliveryFailed(f"{where}: no answer within {self._timeout:g}s", retryable=True) from None
        except requests.exceptions.ConnectionError as exc:
            reason = self._redacted(str(exc.args[0] if exc.args else exc))
            if "timed out" in reason.lower():
                raise DeliveryFailed(f"{where}: no answer within {self._timeout:g}s", retryable=True) from None
            raise DeliveryFailed(f"{where}: cannot connect ({_first_line(reason)[:150]})", retryable=True) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        if 300 <= status < 400:
            raise DeliveryFailed(f"{where}: answered a redirect (HTTP {status}), not followed; configure the final "
                                 "URL", retryable=False)
        raise DeliveryFailed(f"{where}: HTTP {status} {_first_line(response.text)[:120]}",
                             retryable=status in RETRYABLE)

    def _redacted(self, text: str) -> str:
        """`text` without the URL or its path (urllib3 names the path it failed on)."""
        from urllib.parse import urlsplit

        parts = urlsplit(self._url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        text = text.replace(self._url, self.shown)
        return text.replace(path, "/…") if len(path) > 1 else text

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:200]
