"""The Prometheus HTTP API (`/api/v1/query`): instant queries for `devops verify`.

HTTP goes through `devops.adapters.http` (retries on 429/5xx with backoff). An answer that is
not Prometheus's JSON envelope, a query error, a timeout or a 5xx after retries is an exit-3
error naming the URL: what could not be checked did not pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from devops.adapters.http import RetryPolicy, request, session
from devops.errors import GateUnavailable, HttpError

if TYPE_CHECKING:
    import requests


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector: its labels and value (NaN kept as NaN)."""

    labels: dict[str, str]
    value: float


class Prometheus:
    """A client of one Prometheus server (or a compatible API: Thanos, Mimir, AMP's proxy)."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 10.0,
                 policy: RetryPolicy | None = None) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._policy = policy or RetryPolicy(total=3, backoff_factor=0.5, timeout=timeout)
        self._http: requests.Session | None = None

    @property
    def http(self) -> requests.Session:
        if self._http is None:
            self._http = session(self._policy, token=self._token)
        return self._http

    def query(self, expr: str) -> list[Sample]:
        """Evaluate `expr` now; the instant vector's samples (a scalar becomes one sample)."""
        hint = "check environments.<env>.verify.prometheus.url and that Prometheus is up"
        try:
            response = request(self.http, "POST", f"{self.url}/api/v1/query", ok=(200, 400, 422),
                               what=f"Prometheus {self.url}", hint=hint, data={"query": expr})
        except HttpError as exc:
            raise GateUnavailable(exc.message, hint=exc.hint) from None
        body = _json(response, self.url)
        if body.get("status") != "success":
            # 400 bad_data: the query does not parse (a bad observability.api_routes, say).
            raise GateUnavailable(f"Prometheus {self.url} refused a query ({body.get('errorType', '?')}: "
                                  f"{body.get('error', 'no error text')}): {expr}",
                                  hint="check observability.api_routes and the SLO settings")
        return _samples(body.get("data"), self.url)


def _json(response: Any, url: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise GateUnavailable(f"Prometheus {url}: the answer is not JSON (HTTP {response.status_code}): "
                              f"{response.text[:120].strip()!r}",
                              hint="is the URL Prometheus's, not a login page or a proxy's?") from None
    if not isinstance(body, dict):
        raise GateUnavailable(f"Prometheus {url}: unexpected answer {str(body)[:120]!r}")
    return body


def _samples(data: Any, url: str) -> list[Sample]:
    if not isinstance(data, dict):
        raise GateUnavailable(f"Prometheus {url}: the answer has no data")
    kind, result = data.get("resultType"), data.get("result")
    if result is None:
        raise GateUnavailable(f"Prometheus {url}: the answer has no result")
    try:
        if kind == "vector":
            return [Sample(dict(item.get("metric") or {}), _number(item["value"][1])) for item in result]
        if kind == "scalar":
            return [Sample({}, _number(result[1]))]
    except (KeyError, IndexError, TypeError, ValueError):
        pass
    raise GateUnavailable(f"Prometheus {url}: unexpected result {kind!r}: {str(result)[:120]}")


def _number(text: str) -> float:
    # Prometheus writes NaN, +Inf and -Inf as strings that float() reads.
    return float(text)
