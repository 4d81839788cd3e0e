"""The OCI distribution (registry v2) HTTP API: manifest digests, tags, deletes.

Works with the local registry (plain HTTP, no auth) and with registries that use token auth
as Docker Hub does: a request without a good enough token gets `401` with a
`WWW-Authenticate: Bearer realm=...,service=...,scope=...` challenge; the client asks the realm
for a token of exactly that scope (with the username and access token in Basic auth), caches it
per (repository, scope) and retries once. All calls go through the shared HTTP session
factory, so 429/5xx are retried with backoff honouring Retry-After.

The credentials go to a realm only when it is allowed for the configured registry: Docker Hub's
own token service, the registry's own origin, or a realm listed in `registry.token_realms`;
https only, except on loopback. A challenge naming any other realm is refused before anything
is sent to it (exit 3): a registry answer is data, not an instruction to hand out the token.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devops.adapters.http import RetryPolicy, request, session
from devops.domain.images.reference import ImageReference
from devops.domain.urls import Origin, origin, service_url_problem
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
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
DOCKER_HUB_API = "registry-1.docker.io"
# Docker Hub's token service: the one realm its registry names (docs.docker.com, "Token authentication").
DOCKER_HUB_REALM = "https://auth.docker.io/token"
_CHALLENGE_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))')
_TOKEN = re.compile(r"^[A-Za-z0-9._~+/=-]{1,8192}$")


@dataclass(frozen=True)
class Manifest:
    content: bytes
    media_type: str
    digest: str
    subject: str | None = None  # OCI-Subject answered to a PUT


@dataclass
class RegistryClient:
    host: str
    insecure: bool = False
    username: str | None = None
    token: str | None = None
    # More realms that may receive the credentials (`registry.token_realms`).
    token_realms: tuple[str, ...] = ()
    # What to check when the registry or a realm refuses the credentials (names the variables).
    credentials_hint: str = "check DOCKERHUB_USERNAME/DOCKERHUB_TOKEN (an access token with Read & Write)"
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    _http: requests.Session | None = field(default=None, repr=False)
    # (repository, scope) -> bearer token issued for exactly that scope
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    @property
    def is_docker_hub(self) -> bool:
        return self.host in DOCKER_HUB_HOSTS

    @property
    def base_url(self) -> str:
        api_host = DOCKER_HUB_API if self.is_docker_hub else self.host
        scheme = "http" if self.insecure and not self.is_docker_hub else "https"
        return f"{scheme}://{api_host}/v2"

    @property
    def http(self) -> requests.Session:
        if self._http is None:
            self._http = session(self.policy)
        return self._http

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """`sha256:...` of `repository:reference`, or None when the registry does not have it."""
        url = f"{self.base_url}/{repository}/manifests/{reference}"
        response = self._send("HEAD", url, repository, ok=(200, 404), action="pull")
        if response.status_code == 404:
            return None
        digest = response.headers.get("Docker-Content-Digest")
        if not digest:
            raise HttpError(f"HEAD {url}: the registry sent no Docker-Content-Digest header")
        return str(digest)

    def exists(self, repository: str, reference: str) -> bool:
        return self.manifest_digest(repository, reference) is not None

    def tags(self, repository: str) -> list[str]:
        url = f"{self.base_url}/{repository}/tags/list"
        response = self._send("GET", url, repository, ok=(200, 404), action="pull")
        if response.status_code == 404:
            return []
        return list(response.json().get("tags") or [])

    def tag(self, repository: str, digest: str, tag: str) -> bool:
        """Point `tag` at the manifest `digest` (as `crane tag` does, no layers move).
        Returns False when the tag already pointed there."""
        if self.manifest_digest(repository, tag) == digest:
            return False
        source = f"{self.base_url}/{repository}/manifests/{digest}"
        manifest = self._send("GET", source, repository, ok=(200,), action="pull")
        media_type = manifest.headers.get("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
        target = f"{self.base_url}/{repository}/manifests/{tag}"
        self._send("PUT", target, repository, ok=(201,), action="pull,push",
                   data=manifest.content, content_type=media_type)
        return True

    def delete(self, repository: str, digest: str) -> None:
        url = f"{self.base_url}/{repository}/manifests/{digest}"
        self._send("DELETE", url, repository, ok=(202, 404), action="delete")

    # -- content: OCI artifacts such as Sigstore bundles stored as referrers (adapters/sigstore/oci.py)
    def get_manifest(self, repository: str, reference: str, accept: str = MANIFEST_TYPES) -> Manifest | None:
        """The manifest `reference` names (bytes, media type, digest), or None when absent (404)."""
        url = f"{self.base_url}/{repository}/manifests/{reference}"
        response = self._send("GET", url, repository, ok=(200, 404), action="pull", accept=accept)
        if response.status_code == 404:
            return None
        content = bytes(response.content)
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        if reference.startswith("sha256:") and digest != reference:
            raise HttpError(f"GET {url}: the registry sent content whose digest is {digest}, not {reference}")
        return Manifest(content, response.headers.get("Content-Type", "").split(";")[0].strip(), digest)

    def put_manifest(self, repository: str, reference: str, content: bytes, media_type: str) -> Manifest:
        """PUT a manifest (any media type) under a tag or its digest; `subject` is the OCI-Subject
        header the registry answered with (present when it indexes referrers itself)."""
        url = f"{self.base_url}/{repository}/manifests/{reference}"
        response = self._send("PUT", url, repository, ok=(201,), action="pull,push", data=content,
                              content_type=media_type)
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        sent = response.headers.get("Docker-Content-Digest")
        if sent and sent != digest:
            raise HttpError(f"PUT {url}: the registry stored digest {sent}, expected {digest}")
        return Manifest(content, media_type, digest, subject=response.headers.get("OCI-Subject"))

    def has_blob(self, repository: str, digest: str) -> bool:
        url = f"{self.base_url}/{repository}/blobs/{digest}"
        return bool(self._send("HEAD", url, repository, ok=(200, 404), action="pull").status_code == 200)

    def put_blob(self, repository: str, data: bytes) -> str:
        """Upload `data` (monolithic: POST then PUT ?digest=) unless present; returns its digest."""
        from urllib.parse import urljoin

        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if self.has_blob(repository, digest):
            return digest
        start = f"{self.base_url}/{repository}/blobs/uploads/"
        response = self._send("POST", start, repository, ok=(202,), action="pull,push")
        location = urljoin(start, response.headers.get("Location", ""))
        if origin(location) != origin(self.base_url):  # the upload (and the token) stays on this registry
            raise HttpError(f"POST {start}: the registry sent the upload to {location[:200]!r}, another host")
        target = f"{location}{'&' if '?' in location else '?'}digest={digest}"
        self._send("PUT", target, repository, ok=(201,), action="pull,push", data=data,
                   content_type="application/octet-stream")
        return digest

    def get_blob(self, repository: str, digest: str, *, max_bytes: int) -> bytes:
        """A blob, refused when larger than `max_bytes` or not matching its digest."""
        url = f"{self.base_url}/{repository}/blobs/{digest}"
        response = self._send("GET", url, repository, ok=(200,), action="pull")
        content = bytes(response.content)
        if len(content) > max_bytes:
            raise HttpError(f"GET {url}: {len(content)} bytes, over the {max_bytes}-byte limit")
        if "sha256:" + hashlib.sha256(content).hexdigest() != digest:
            raise HttpError(f"GET {url}: the content does not match its digest")
        return content

    def referrers(self, repository: str, digest: str) -> dict[str, Any] | None:
        """The OCI 1.1 referrers index of `digest`, or None when the registry has no referrers API
        (a registry that has it never answers 404, distribution-spec "Listing Referrers")."""
        url = f"{self.base_url}/{repository}/referrers/{digest}"
        response = self._send("GET", url, repository, ok=(200, 404), action="pull",
                              accept="application/vnd.oci.image.index.v1+json")
        if response.status_code == 404:
            return None
        try:
            body = response.json()
        except ValueError:
            raise HttpError(f"GET {url}: the referrers answer is not JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("manifests"), list):
            raise HttpError(f"GET {url}: the referrers answer is not an image index")
        return body

    # -- token auth
    def _send(self, method: str, url: str, repository: str, *, ok: tuple[int, ...], action: str,
              data: bytes | None = None, content_type: str | None = None, accept: str = MANIFEST_TYPES) -> Any:
        """Send with the best token held for `repository`; on a Bearer challenge get exactly the
        scope it names and retry once."""
        wanted = f"repository:{repository}:{action}"
        held = self._tokens.get((repository, wanted)) or self._any_token(repository)
        response = self._request(method, url, ok, held, data, content_type, accept)
        if response.status_code != 401:
            return response
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            raise HttpError(f"{method} {url}: HTTP 401 unauthorized (no Bearer challenge to answer)",
                            hint=self.credentials_hint)
        scope = challenge.get("scope") or wanted
        self._check_scope(scope, repository, url)
        fresh = self._fetch_token(challenge, scope)
        self._tokens[(repository, scope)] = fresh
        self._tokens[(repository, wanted)] = fresh
        response = self._request(method, url, ok, fresh, data, content_type, accept)
        if response.status_code == 401:
            who = f"user {self.username!r}" if self.username else "anonymous access"
            raise HttpError(
                f"{method} {url}: HTTP 401 again with a token for scope {scope!r}: the token service did "
                f"not grant {who} that scope",
                hint=self.credentials_hint)
        return response

    def _request(self, method: str, url: str, ok: tuple[int, ...], bearer: str | None,
                 data: bytes | None, content_type: str | None, accept: str = MANIFEST_TYPES) -> Any:
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return request(self.http, method, url, ok=(*ok, 401), headers=headers, data=data,
                       hint=f"check that {self.host} is up and reachable")

    def _any_token(self, repository: str) -> str | None:
        """The newest token held for `repository` (a pull,push token also serves a pull)."""
        for (repo, _scope), value in reversed(list(self._tokens.items())):
            if repo == repository:
                return value
        return None

    def _check_scope(self, scope: str, repository: str, url: str) -> None:
        """Every scope the challenge asks for must be on the repository this request is about."""
        for item in scope.split():
            kind, _, rest = item.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or name != repository or not re.fullmatch(r"[a-z*]+(,[a-z*]+)*", actions):
                raise HttpError(f"{url}: the registry's challenge asks for scope {item[:120]!r}, not one on "
                                f"{repository}; no token requested",
                                hint=f"check that {self.host} is the registry you meant")

    def _fetch_token(self, challenge: dict[str, str], scope: str) -> str:
        realm = challenge.get("realm", "")
        refusal = self.realm_refusal(realm)
        if refusal:
            raise HttpError(
                f"{self.host}: the registry's challenge names the token realm {realm[:200]!r}, which is not "
                f"allowed for {self.host} ({refusal}); nothing was sent to it",
                hint="if it is this registry's own token service, list it in registry.token_realms in "
                     "pipelines/devops.yaml")
        params: dict[str, Any] = {"scope": scope.split()}
        if challenge.get("service"):
            params["service"] = challenge["service"]
        auth = (self.username, self.token) if self.username and self.token else None
        # No redirects: a realm that sends us elsewhere would take the credentials with it.
        response = request(self.http, "GET", realm, params=params, auth=auth, allow_redirects=False,
                           what=f"token for {scope} from {realm}", hint=self.credentials_hint)
        try:
            body = response.json()
        except ValueError:
            raise HttpError(f"GET {realm}: the token service's answer is not JSON") from None
        token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        if not isinstance(token, str) or not _TOKEN.match(token):
            raise HttpError(f"GET {realm}: the token service's answer has no usable token")
        return token

    def realm_refusal(self, realm: str) -> str | None:
        """Why the registry credentials may not go to `realm`; None when they may."""
        if not realm:
            return "the challenge has no realm"
        problem = service_url_problem(realm, what="token realm")
        if problem:
            return problem
        found = origin(realm)
        if found.port == 0:
            return "port 0"
        allowed = [DOCKER_HUB_REALM] if self.is_docker_hub else []
        allowed += list(self.token_realms)
        if any(_realm_matches(realm, found, entry) for entry in allowed):
            return None
        registry = origin(self.base_url)
        if (found.host, found.port) == (registry.host, registry.port):  # the registry's own origin
            return None
        own = f"Docker Hub's token service {DOCKER_HUB_REALM}" if self.is_docker_hub else "the registry's own origin"
        return f"{found} is neither {own} nor in registry.token_realms"


def _realm_matches(realm: str, found: Origin, entry: str) -> bool:
    """An allowed entry is an origin (any path on it) or a full URL (that exact path)."""
    from urllib.parse import urlsplit

    try:
        allowed = origin(entry)
    except ValueError:
        return False
    path = urlsplit(entry).path
    return allowed == found and (path in ("", "/") or path == urlsplit(realm).path)


def parse_challenge(header: str) -> dict[str, str] | None:
    """The parameters of a `Bearer` challenge (realm, service, scope, error), or None."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    params: dict[str, str] = {}
    for key, quoted, bare in _CHALLENGE_PARAM.findall(rest):
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted else bare
        params.setdefault(key.lower(), value)
    return params


class BaseRegistries:
    """Manifest digests of base images, one client per registry host: the configured registry's
    own client (its credentials, token realms and retries) for bases on its host; for any other
    host a client without credentials (https, or plain http only on loopback), with the same
    retries and the same realm rules, so nothing secret leaves for a host it was not meant for."""

    def __init__(self, configured: RegistryClient) -> None:
        self.configured = configured
        self._clients: dict[str, RegistryClient] = {}

    def client(self, host: str) -> RegistryClient:
        if host == self.configured.host or (host in DOCKER_HUB_HOSTS and self.configured.is_docker_hub):
            return self.configured
        if host not in self._clients:
            loopback = host.rsplit(":", 1)[0] in ("localhost", "[::1]") or host.startswith("127.")
            self._clients[host] = RegistryClient(host, insecure=loopback, policy=self.configured.policy,
                                                 credentials_hint=f"{host} is asked without credentials: is the "
                                                                  "image public?")
        return self._clients[host]

    def manifest_digest(self, image: ImageReference) -> str | None:
        return self.client(image.host).manifest_digest(image.repository, image.reference)
