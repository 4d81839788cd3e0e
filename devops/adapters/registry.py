"""The OCI distribution (registry v2) HTTP API: manifest digests, tags, deletes.

Works with the local registry (plain HTTP, no auth) and with Docker Hub (token auth from the
`WWW-Authenticate: Bearer` challenge, with the username and access token). All calls go
through the shared HTTP session factory, so 429/5xx are retried with backoff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devops.adapters.http import RetryPolicy, request, session
from devops.errors import HttpError

if TYPE_CHECKING:
    import requests

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)
DOCKER_HUB_API = "registry-1.docker.io"


@dataclass
class RegistryClient:
    host: str
    insecure: bool = False
    username: str | None = None
    token: str | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    _http: requests.Session | None = field(default=None, repr=False)
    _bearer: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def base_url(self) -> str:
        api_host = DOCKER_HUB_API if self.host in {"docker.io", "index.docker.io"} else self.host
        scheme = "http" if self.insecure else "https"
        return f"{scheme}://{api_host}/v2"

    @property
    def http(self) -> requests.Session:
        if self._http is None:
            self._http = session(self.policy)
        return self._http

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """`sha256:...` of `repository:reference`, or None when the registry does not have it."""
        url = f"{self.base_url}/{repository}/manifests/{reference}"
        response = self._send("HEAD", url, repository, ok=(200, 404))
        if response.status_code == 404:
            return None
        digest = response.headers.get("Docker-Content-Digest")
        if not digest:
            raise HttpError(f"HEAD {url}: the registry sent no Docker-Content-Digest header")
        return digest

    def exists(self, repository: str, reference: str) -> bool:
        return self.manifest_digest(repository, reference) is not None

    def tags(self, repository: str) -> list[str]:
        url = f"{self.base_url}/{repository}/tags/list"
        response = self._send("GET", url, repository, ok=(200, 404))
        if response.status_code == 404:
            return []
        return list(response.json().get("tags") or [])

    def tag(self, repository: str, digest: str, tag: str) -> bool:
        """Point `tag` at the manifest `digest` (as `crane tag` does, no layers move).
        Returns False when the tag already pointed there."""
        if self.manifest_digest(repository, tag) == digest:
            return False
        source = f"{self.base_url}/{repository}/manifests/{digest}"
        manifest = self._send("GET", source, repository, ok=(200,), scope_action="pull,push")
        media_type = manifest.headers.get("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
        target = f"{self.base_url}/{repository}/manifests/{tag}"
        self._send("PUT", target, repository, ok=(201,), scope_action="pull,push",
                   data=manifest.content, content_type=media_type)
        return True

    def delete(self, repository: str, digest: str) -> None:
        url = f"{self.base_url}/{repository}/manifests/{digest}"
        self._send("DELETE", url, repository, ok=(202, 404), scope_action="delete")

    def _send(self, method: str, url: str, repository: str, *, ok: tuple[int, ...],
              scope_action: str = "pull", data: bytes | None = None, content_type: str | None = None) -> Any:
        headers = {"Accept": MANIFEST_TYPES}
        if content_type:
            headers["Content-Type"] = content_type
        bearer = self._bearer.get(repository)
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        hint = f"check that {self.host} is up and reachable"
        response = request(self.http, method, url, ok=(*ok, 401), headers=headers, hint=hint, data=data)
        if response.status_code == 401:
            challenge = response.headers.get("WWW-Authenticate", "")
            if bearer or not challenge.lower().startswith("bearer"):
                raise HttpError(
                    f"{method} {url}: HTTP 401 unauthorized",
                    hint="check DOCKERHUB_USERNAME/DOCKERHUB_TOKEN (a read/write access token)",
                )
            self._bearer[repository] = self._token(challenge, repository, scope_action)
            return self._send(method, url, repository, ok=ok, scope_action=scope_action,
                              data=data, content_type=content_type)
        return response

    def _token(self, challenge: str, repository: str, action: str) -> str:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", "")
        if not realm:
            raise HttpError(f"{self.host}: 401 with a Bearer challenge that has no realm: {challenge[:120]}")
        params.setdefault("scope", f"repository:{repository}:{action}")
        auth = (self.username, self.token) if self.username and self.token else None
        response = request(self.http, "GET", realm, params=params, auth=auth,
                           what=f"token from {realm}", hint="check DOCKERHUB_USERNAME/DOCKERHUB_TOKEN")
        body = response.json()
        token = body.get("token") or body.get("access_token")
        if not token:
            raise HttpError(f"GET {realm}: answer has no token")
        return str(token)
