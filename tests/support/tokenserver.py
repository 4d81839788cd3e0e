"""A registry token service shaped like Docker Hub's, and helpers to read what reached a
recording server (tests/support/recording_http.py).

`TokenServer` answers `GET /token?service=...&scope=...` (Basic auth) with `{"token",
"access_token", "expires_in", "issued_at"}` as auth.docker.io/token does (the distribution
"token authentication" specification): a JWT signed by the test key (RS256, its certificate in
the `x5c` header, the registry's `rootcertbundle`) that grants exactly the asked actions the user
holds on each asked repository, nothing more. A wrong password is 401 as on Docker Hub; no
credentials at all gets a token with no access (Docker Hub's anonymous token of a private
repository). Every request is recorded (headers included) by the RecordingServer underneath.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.recording_http import Answer, Recorded, RecordingServer


def query(request: Recorded) -> dict[str, list[str]]:
    """The query parameters of a recorded request."""
    return parse_qs(urlsplit(request.path).query)


def basic_user(request: Recorded) -> tuple[str, str] | None:
    """(username, password) of a Basic Authorization header, or None."""
    scheme, _, value = (request.authorization or "").partition(" ")
    if scheme != "basic":
        return None
    user, _, password = base64.b64decode(value).decode().partition(":")
    return user, password


def carried(server: RecordingServer, secret: str) -> list[Recorded]:
    """The requests that reached `server` carrying `secret` anywhere (also inside Basic auth)."""
    found = []
    for request in server.requests:
        seen = json.dumps([request.path, request.headers]) + request.body.decode("latin-1")
        basic = basic_user(request)
        if secret in seen or (basic is not None and secret in basic):
            found.append(request)
    return found


def json_answer(body: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Answer:
    return Answer(status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode())


def address(server: RecordingServer) -> str:
    return f"{server.host}:{server.port}"


@dataclass
class User:
    password: str
    # repository pattern (fnmatch, e.g. "*" or "team/*") -> the actions it may get
    grants: dict[str, frozenset[str]] = field(default_factory=dict)

    def allowed(self, repository: str) -> frozenset[str]:
        actions: set[str] = set()
        for pattern, granted in self.grants.items():
            if fnmatch.fnmatchcase(repository, pattern):
                actions |= granted
        return frozenset(actions)


@dataclass(frozen=True)
class Signer:
    """An RSA key and its self-signed certificate (PEM), the registry's `rootcertbundle`."""

    key: Any
    cert_pem: bytes
    cert_der: bytes

    @classmethod
    def create(cls, name: str = "devops test token issuer") -> Signer:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        return cls(key, cert.public_bytes(serialization.Encoding.PEM), cert.public_bytes(serialization.Encoding.DER))

    def jwt(self, claims: Mapping[str, Any]) -> str:
        """A compact JWS (RS256) carrying the certificate in `x5c`, as distribution verifies it."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT (no verification: the registry does that)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


class TokenServer:
    """The registry's token realm: JWTs for exactly the scopes asked and granted."""

    def __init__(self, signer: Signer, users: Mapping[str, User], *, service: str, issuer: str,
                 host: str = "127.0.0.1") -> None:
        self.signer = signer
        self.users = dict(users)
        self.service = service
        self.issuer = issuer
        self.server = RecordingServer(host, self._answer)
        self.realm = f"{self.server.url}/token"
        self.issued: list[dict[str, Any]] = []  # the claims of every token handed out
        self._lock = threading.Lock()

    @property
    def requests(self) -> list[Recorded]:
        return self.server.requests

    def start(self) -> TokenServer:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def clear(self) -> None:
        with self._lock:
            self.server.requests.clear()
            self.issued.clear()

    def _answer(self, request: Recorded) -> Answer:
        asked = query(request)
        if request.method != "GET" or urlsplit(request.path).path != "/token":
            return json_answer({"details": "not found"}, 404)
        if asked.get("service") != [self.service]:
            return json_answer({"details": f"unknown service {asked.get('service')}"}, 400)
        basic = basic_user(request)
        user: User | None = None
        if basic is not None:
            user = self.users.get(basic[0])
            if user is None or user.password != basic[1]:
                return json_answer({"details": "incorrect username or password"}, 401,
                                   {"WWW-Authenticate": 'Basic realm="token"'})
        access = []
        for scope in (s for item in asked.get("scope", []) for s in item.split()):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or not name:
                continue
            granted = user.allowed(name) if user else frozenset()
            given = [a for a in actions.split(",") if a in granted]
            if given:
                access.append({"type": "repository", "name": name, "actions": given})
        now = int(dt.datetime.now(dt.UTC).timestamp())
        claims = {"iss": self.issuer, "sub": basic[0] if basic else "", "aud": self.service, "exp": now + 300,
                  "nbf": now - 5, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        with self._lock:
            self.issued.append(claims)
        token = self.signer.jwt(claims)
        return json_answer({"token": token, "access_token": token, "expires_in": 300,
                            "issued_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})

    def scopes_asked(self, user: str | None = None, agent: str = "") -> list[list[str]]:
        """The `scope` parameters of each token request, in order; only those of `user` and of
        a client whose User-Agent starts with `agent` when given (devops: `devops/`, the Docker
        engine: `docker/`)."""
        with self._lock:
            return [query(r).get("scope", []) for r in self.requests
                    if (user is None or (basic_user(r) or ("",))[0] == user)
                    and r.headers.get("User-Agent", "").startswith(agent)]
