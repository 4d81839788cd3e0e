"""The OIDC token keyless signing exchanges for a certificate: GitHub Actions' own, for a job
with `permissions: id-token: write`.

The runner gives such a job `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`;
a GET of the URL with `audience=sigstore` and the request token as bearer answers
`{"value": "<JWT>"}` (docs.github.com, "About security hardening with OpenID Connect"; what
sigstore-python's `detect_credential` and actions/toolkit's `getIDToken` do). The request token
goes only to that URL, over https.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from devops.adapters.http import RetryPolicy, request, session
from devops.adapters.sigstore.errors import IdentityTokenInvalid
from devops.errors import HttpError

AUDIENCE = "sigstore"


def github_actions_token(request_url: str | None, request_token: str | None, *, audience: str = AUDIENCE,
                         policy: RetryPolicy | None = None) -> str:
    """The job's OIDC token for `audience`; IdentityTokenInvalid (exit 2) when the job may not
    have one, HttpError (exit 3) when the runner's token service fails."""
    if not request_url or not request_token:
        raise IdentityTokenInvalid("no OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL is not set",
                                   hint="give the signing job `permissions: id-token: write`, or set the "
                                        "variable signing.identity_token_env names")
    if urlsplit(request_url).scheme != "https":
        raise IdentityTokenInvalid(f"ACTIONS_ID_TOKEN_REQUEST_URL is not https ({request_url[:80]!r}); "
                                   "the request token is not sent there")
    url = f"{request_url}{'&' if '?' in request_url else '?'}{urlencode({'audience': audience})}"
    http = session(policy or RetryPolicy(), token=request_token)
    answer = request(http, "GET", url, what="the GitHub Actions OIDC token", allow_redirects=False,
                     hint="the job needs `permissions: id-token: write`")
    try:
        value = answer.json().get("value")
    except (ValueError, AttributeError):
        value = None
    if not isinstance(value, str) or value.count(".") != 2:
        raise HttpError("the GitHub Actions OIDC token service answered no token")
    return value
