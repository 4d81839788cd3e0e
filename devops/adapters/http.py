"""The one HTTP session factory: timeouts, retries with backoff on 429/5xx honouring Retry-After.

Every HTTP call of `devops` (registry API, Sonar, Docker Hub, GitHub, Prometheus) goes through
a session made here and `request()`, so retry and error behaviour is the same everywhere.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from devops import __version__
from devops.errors import HttpError

if TYPE_CHECKING:
    import requests

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    total: int = 5
    backoff_factor: float = 0.5
    backoff_max: float = 30.0
    backoff_jitter: float = 0.3
    # A server asking for a longer wait than this is treated as "not coming back soon".
    max_retry_after: float = 60.0
    timeout: float = 30.0


def session(policy: RetryPolicy = RetryPolicy(), *, token: str | None = None) -> requests.Session:
    """A `requests.Session` with retries on 429/5xx/connection resets for every method."""
    import requests
    from requests.adapters import HTTPAdapter

    retry = _capped_retry_class()(
        total=policy.total,
        connect=policy.total,
        read=policy.total,
        status=policy.total,
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        backoff_jitter=policy.backoff_jitter,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,  # retry every method: our writes are idempotent PUT/POSTs
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.max_retry_after = policy.max_retry_after
    http = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    http.headers["User-Agent"] = f"devops/{__version__}"
    if token:
        http.headers["Authorization"] = f"Bearer {token}"
    http.request = _with_default_timeout(http.request, policy.timeout)  # type: ignore[method-assign]
    return http


def request(
    http: requests.Session,
    method: str,
    url: str,
    *,
    ok: Collection[int] = (200,),
    what: str = "",
    hint: str | None = None,
    **kwargs: Any,
) -> requests.Response:
    """Send a request; raise `HttpError` naming the URL unless the status is in `ok`."""
    import requests

    label = what or f"{method} {url}"
    try:
        response = http.request(method, url, **kwargs)
    except requests.exceptions.RetryError as exc:
        raise HttpError(f"{label}: still failing after retries ({_reason(exc)})", hint=hint) from None
    except requests.exceptions.Timeout:
        raise HttpError(f"{label}: timed out", hint=hint or "check the service is up") from None
    except requests.exceptions.ConnectionError as exc:
        raise HttpError(
            f"{label}: cannot connect ({_reason(exc)})", hint=hint or "check the URL and the network"
        ) from None
    if response.status_code not in ok:
        detail = f"HTTP {response.status_code}"
        if response.status_code in RETRY_STATUSES:
            detail += " after retries"
        raise HttpError(f"{label}: {detail}: {response.text[:200].strip()}", hint=hint)
    return response


def _reason(exc: Exception) -> str:
    inner = exc.args[0] if exc.args else exc
    reason = getattr(inner, "reason", None)
    return str(reason or inner).splitlines()[0][:200]


def _with_default_timeout(send: Any, timeout: float) -> Any:
    def request(method: str, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", timeout)
        return send(method, url, **kwargs)

    return request


_CAPPED: type | None = None


def _capped_retry_class() -> type:
    """urllib3's Retry, but a Retry-After longer than `max_retry_after` ends the retries."""
    global _CAPPED
    if _CAPPED is None:
        from urllib3.util.retry import Retry

        class CappedRetry(Retry):
            max_retry_after: float = 60.0

            def new(self, **kw: Any) -> CappedRetry:
                fresh: CappedRetry = super().new(**kw)
                fresh.max_retry_after = self.max_retry_after
                return fresh

            def get_retry_after(self, response: Any) -> float | None:
                wait = super().get_retry_after(response)
                if wait is not None and wait > self.max_retry_after:
                    from urllib3.exceptions import MaxRetryError, ResponseError

                    reason = ResponseError(f"the server asked to retry after {wait:g} s")
                    raise MaxRetryError(None, response.geturl() or "", reason)  # type: ignore[arg-type]
                return wait

        _CAPPED = CappedRetry
    return _CAPPED
