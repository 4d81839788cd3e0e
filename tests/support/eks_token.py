"""EKS authentication for the Kubernetes API stand-in (tests/support/kubeapi.py), checked the way
EKS's authenticator (aws-iam-authenticator) checks it, against an STS that answers here (moto).

A token is `k8s-aws-v1.` + base64url(presigned STS GetCallerIdentity URL). The checks, in order,
each one a 401 when it fails: the prefix and the encoding; the URL is on the configured STS
endpoint (never a host the client picked: the authenticator only calls STS); it is a GET of
Action=GetCallerIdentity, signed with AWS4-HMAC-SHA256 and with `host` and `x-k8s-aws-id` among
the signed headers; X-Amz-Expires is at most 900 s and the URL has not expired; then the URL is
called with `x-k8s-aws-id: <cluster>` and must answer 200 with an ARN, which is the identity
(and, when `access_entries` is set, must be one of them, as an EKS access entry maps it).

What moto does not do, so this cannot either: check the signature, so a token signed for another
cluster name (same header, other value) is only caught by the header being signed at all.
"""

from __future__ import annotations

import base64
import re
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

PREFIX = "k8s-aws-v1."


@dataclass
class EksAuth:
    cluster: str
    sts_endpoint: str  # http://127.0.0.1:<moto>
    access_entries: set[str] | None = None
    seen: list[str] = field(default_factory=list)  # identities that authenticated (ARNs)
    rejected: list[str] = field(default_factory=list)  # why tokens were refused
    _cache: dict[str, tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def identity(self, token: str) -> str | None:
        with self._lock:
            cached = self._cache.get(token)
            if cached and cached[1] > time.time():
                return cached[0]
        try:
            arn, expires = self._verify(token)
        except ValueError as exc:
            self.rejected.append(str(exc))
            return None
        with self._lock:
            self._cache[token] = (arn, expires)
            self.seen.append(arn)
        return arn

    def _verify(self, token: str) -> tuple[str, float]:
        if not token.startswith(PREFIX):
            raise ValueError("not an EKS token (k8s-aws-v1.)")
        encoded = token[len(PREFIX):]
        try:
            url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            raise ValueError("token is not base64url") from None
        parts, sts = urlsplit(url), urlsplit(self.sts_endpoint)
        if (parts.scheme, parts.netloc) != (sts.scheme, sts.netloc):
            raise ValueError(f"presigned URL is not on the STS endpoint: {parts.scheme}://{parts.netloc}")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if query.get("Action") != "GetCallerIdentity" or query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            raise ValueError("not a presigned GetCallerIdentity")
        scope = query.get("X-Amz-Credential", "").split("/")
        if len(scope) != 5 or scope[3:] != ["sts", "aws4_request"]:
            raise ValueError("not signed for STS")
        signed = query.get("X-Amz-SignedHeaders", "").split(";")
        if "x-k8s-aws-id" not in signed or "host" not in signed:
            raise ValueError("x-k8s-aws-id is not a signed header")
        expires_in = int(query.get("X-Amz-Expires", "0"))
        if not 0 < expires_in <= 900:
            raise ValueError(f"X-Amz-Expires {expires_in} outside 1..900")
        signed_at = datetime.strptime(query.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        # EKS accepts a token for 15 minutes from its signing, whatever X-Amz-Expires says.
        expires = signed_at + 900
        if not signed_at - 300 <= time.time() <= expires:
            raise ValueError("token expired or from the future")
        # moto_server serves every service on one endpoint and finds the service from a SigV4
        # Authorization header only, never from a presigned query: the same signature is sent in
        # header form as well (moto checks no signature either way; real STS reads the query).
        authorization = (f"AWS4-HMAC-SHA256 Credential={query['X-Amz-Credential']}, "
                         f"SignedHeaders={query['X-Amz-SignedHeaders']}, Signature={query.get('X-Amz-Signature', '')}")
        request = urllib.request.Request(url, headers={"x-k8s-aws-id": self.cluster, "Accept": "application/xml",
                                                       "Authorization": authorization})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the configured STS only
                body = answer.read().decode()
        except OSError as exc:  # HTTPError (STS said no) and URLError
            raise ValueError(f"STS refused the presigned URL: {exc}") from None
        found = re.search(r"<Arn>([^<]+)</Arn>", body)
        if found is None:
            raise ValueError("STS did not answer with an identity")
        arn = found.group(1)
        if self.access_entries is not None and arn not in self.access_entries:
            raise ValueError(f"{arn} has no access entry")
        return arn, expires
