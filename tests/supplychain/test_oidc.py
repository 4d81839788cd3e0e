"""The GitHub Actions OIDC token request of keyless signing (devops/adapters/sigstore/oidc.py)
against a local stand-in of the runner's token service over TLS (a self-signed certificate the
test trusts through REQUESTS_CA_BUNDLE): the request token goes only there, over https, and
only a well-formed answer is a token. The real service is GitHub's (docs.github.com, "About
security hardening with OpenID Connect": GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=...,
`Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answer `{"value": "<JWT>"}`)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devops.adapters.http import RetryPolicy
from devops.adapters.sigstore.errors import IdentityTokenInvalid
from devops.adapters.sigstore.oidc import github_actions_token
from devops.errors import ExitCode, HttpError
from tests.support.recording_http import Answer, Recorded, RecordingServer

REQUEST_TOKEN = "runner-request-token-canary"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJzaWdzdG9yZSJ9.c2ln"
FAST = RetryPolicy(total=0, timeout=5)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


@contextmanager
def token_service(tls: tuple[Path, Path], answer: Callable[[Recorded], Answer],
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingServer]:
    server = RecordingServer("127.0.0.1", answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tls[0]), str(tls[1]))
    server._server.socket = context.wrap_socket(server._server.socket, server_side=True)  # noqa: SLF001
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls[0]))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def url(server: RecordingServer) -> str:
    return f"https://127.0.0.1:{server.port}/_apis/distributedtask/token?api-version=2.0"


def test_the_token_is_asked_for_the_sigstore_audience_with_the_request_token(
        tls: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    with token_service(tls, lambda r: Answer(200, {"Content-Type": "application/json"},
                                             json.dumps({"value": JWT}).encode()), monkeypatch) as server:
        assert github_actions_token(url(server), REQUEST_TOKEN, policy=FAST) == JWT
    [request] = server.requests
    assert request.path.endswith("api-version=2.0&audience=sigstore")
    assert request.authorization == f"bearer {REQUEST_TOKEN}"


@pytest.mark.parametrize("body", [b"{}", b'{"value": "not-a-jwt"}', b"[1]", b"<html>"],
                         ids=["no-value", "not-a-jwt", "array", "html"])
def test_an_answer_without_a_token_is_exit_3(tls: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
                                             body: bytes) -> None:
    with (token_service(tls, lambda r: Answer(200, {"Content-Type": "application/json"}, body), monkeypatch) as server,
          pytest.raises(HttpError, match="answered no token") as failed):
        github_actions_token(url(server), REQUEST_TOKEN, policy=FAST)
    assert failed.value.exit_code == ExitCode.EXTERNAL


def test_a_redirect_is_not_followed_with_the_request_token(tls: tuple[Path, Path],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with (RecordingServer("127.0.0.2") as elsewhere,
          token_service(tls, lambda r: Answer(302, {"Location": f"{elsewhere.url}/steal"}), monkeypatch) as server,
          pytest.raises(HttpError, match="HTTP 302")):
        github_actions_token(url(server), REQUEST_TOKEN, policy=FAST)
    assert elsewhere.requests == []


def test_without_the_runner_variables_or_over_http_nothing_is_sent() -> None:
    with RecordingServer() as server:
        for request_url, token in ((None, REQUEST_TOKEN), (f"{server.url}/token", None), ("", "")):
            with pytest.raises(IdentityTokenInvalid, match="id-token: write") as refused:
                github_actions_token(request_url, token, policy=FAST)
            assert refused.value.exit_code == ExitCode.BAD_INPUT
        with pytest.raises(IdentityTokenInvalid, match="not https"):
            github_actions_token(f"{server.url}/token", REQUEST_TOKEN, policy=FAST)
    assert server.requests == []
