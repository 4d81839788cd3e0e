"""HTTP servers on loopback that record every request they get (method, path, query, headers).

`RecordingServer` answers every request with a canned status and body: a hostile token realm,
registry or any other host a credential must never reach; the test reads `requests` to prove
nothing (or exactly what) arrived.

`TokenServer` is a registry token service shaped like Docker Hub's (auth.docker.io/token, the
distribution "token authentication" specification): `GET /token?service=...&scope=...` with
Basic auth answers `{"token", "access_token", "expires_in", "issued_at"}`, a JWT signed by the
test key (RS256, the certificate in the `x5c` header) that grants exactly the asked actions the
user holds on each asked repository, nothing more. A wrong password is 401 as on Docker Hub;
no credentials at all gets a token with no access (Docker Hub's anonymous token of a private
repository).
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Recorded:
    """One request as it reached the server."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    @property
    def authorization(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "authorization"), "")

    @property
    def basic_user(self) -> tuple[str, str] | None:
        """(username, password) of a Basic Authorization header, or None."""
        scheme, _, value = self.authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        user, _, password = base64.b64decode(value).decode().partition(":")
        return user, password

    def contains(self, secret: str) -> bool:
        """Whether `secret` appears anywhere in what was received (also inside Basic auth)."""
        basic = self.basic_user
        seen = json.dumps([self.path, self.query, self.headers]) + self.body.decode("latin-1")
        return secret in seen or (basic is not None and secret in basic)


class RecordingServer:
    """Answers every request with `status` and `body`; records each one first."""

    def __init__(self, host: str = "127.0.0.1", *, status: int = 200,
                 body: Mapping[str, Any] | None = None) -> None:
        self.status = status
        self.body = dict(body if body is not None else {"token": "stolen", "access_token": "stolen"})
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                recorded = Recorded(self.command, parts.path, parse_qs(parts.query),
                                    dict(self.headers.items()), self.rfile.read(length) if length else b"")
                with server._lock:
                    server.requests.append(recorded)
                status, headers, payload = server.answer(recorded)
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(key, value)
                data = json.dumps(payload).encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _any

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._httpd = ThreadingHTTPServer((host, 0), Handler)
        self._httpd.daemon_threads = True
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self.address = f"{host}:{self.port}"
        self.url = f"http://{self.address}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def answer(self, request: Recorded) -> tuple[int, dict[str, str], Any]:
        return self.status, {}, self.body

    def start(self) -> RecordingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> RecordingServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def received(self, secret: str) -> list[Recorded]:
        """The requests that carried `secret` anywhere."""
        with self._lock:
            return [r for r in self.requests if r.contains(secret)]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()


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


class TokenServer(RecordingServer):
    """The registry's token realm: JWTs for exactly the scopes asked and granted."""

    def __init__(self, signer: Signer, users: Mapping[str, User], *, service: str, issuer: str,
                 host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.signer = signer
        self.users = dict(users)
        self.service = service
        self.issuer = issuer
        self.realm = f"{self.url}/token"
        self.issued: list[dict[str, Any]] = []  # the claims of every token handed out

    def answer(self, request: Recorded) -> tuple[int, dict[str, str], Any]:
        if request.method != "GET" or request.path != "/token":
            return 404, {}, {"details": "not found"}
        if request.query.get("service") != [self.service]:
            return 400, {}, {"details": f"unknown service {request.query.get('service')}"}
        basic = request.basic_user
        user: User | None = None
        subject = ""
        if basic is not None:
            user = self.users.get(basic[0])
            if user is None or user.password != basic[1]:
                return 401, {"WWW-Authenticate": 'Basic realm="token"'}, {"details": "incorrect username or password"}
            subject = basic[0]
        access = []
        for scope in (s for item in request.query.get("scope", []) for s in item.split()):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or not name:
                continue
            granted = user.allowed(name) if user else frozenset()
            given = [a for a in actions.split(",") if a in granted]
            if given:
                access.append({"type": "repository", "name": name, "actions": given})
        now = int(dt.datetime.now(dt.UTC).timestamp())
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "exp": now + 300, "nbf": now - 5,
                  "iat": now, "jti": uuid.uuid4().hex, "access": access}
        with self._lock:
            self.issued.append(claims)
        token = self.signer.jwt(claims)
        return 200, {}, {"token": token, "access_token": token, "expires_in": 300,
                         "issued_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}

    def clear(self) -> None:
        super().clear()
        with self._lock:
            self.issued.clear()

    def scopes_asked(self, user: str | None = None, agent: str = "") -> list[list[str]]:
        """The `scope` parameters of each token request, in order; only those of `user` and of
        a client whose User-Agent starts with `agent` when given (devops: `devops/`, the Docker
        engine: `docker/`)."""
        with self._lock:
            return [r.query.get("scope", []) for r in self.requests
                    if r.path == "/token" and (user is None or (r.basic_user or ("",))[0] == user)
                    and r.headers.get("User-Agent", "").startswith(agent)]
