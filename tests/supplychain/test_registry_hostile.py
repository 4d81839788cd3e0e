"""The registry calls the Sigstore storage added (blob upload, manifests by digest, blobs)
against a hostile registry: a recording fake on 127.0.0.1 that demands a token (as Docker Hub
does), sends the upload to another host, or serves content that does not match its digest. A
second recording server on 127.0.0.2 stands for "another host" and must receive nothing."""

from __future__ import annotations

import hashlib
import json

import pytest

from devops.adapters.registry import RegistryClient
from devops.errors import HttpError
from tests.support.recording_http import Answer, Recorded, serving

TOKEN = "t0ken-for-the-registry"
REPO = "shop/cart"


def registry(other_origin: str, *, blob: bytes = b"", manifest: bytes = b""):  # type: ignore[no-untyped-def]
    def handler(request: Recorded) -> Answer:
        if request.path.startswith("/token"):
            return Answer(200, {"Content-Type": "application/json"}, json.dumps({"token": TOKEN}).encode())
        if request.authorization != f"bearer {TOKEN}":
            host = request.headers.get("Host", "")
            return Answer(401, {"WWW-Authenticate": f'Bearer realm="http://{host}/token",service="fake",'
                                                    f'scope="repository:{REPO}:pull,push"'})
        if request.method == "HEAD" and "/blobs/" in request.path:
            return Answer(404)
        if request.method == "POST" and request.path.endswith("/blobs/uploads/"):
            return Answer(202, {"Location": f"{other_origin}/v2/{REPO}/blobs/uploads/stolen"})
        if request.method == "GET" and "/blobs/" in request.path:
            return Answer(200, {"Content-Type": "application/octet-stream"}, blob)
        if request.method == "GET" and "/manifests/" in request.path:
            return Answer(200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, manifest)
        return Answer(404)
    return handler


def test_an_upload_sent_to_another_host_is_refused_and_gets_nothing() -> None:
    with serving("127.0.0.2") as other, serving("127.0.0.1", registry("http://127.0.0.2")) as fake:
        fake.handler = registry(other.url)
        client = RegistryClient(host=f"127.0.0.1:{fake.port}", insecure=True, username="bot", token="hub-token")
        with pytest.raises(HttpError, match="another host"):
            client.put_blob(REPO, b"bundle bytes")
    assert other.requests == []
    assert f"bearer {TOKEN}" in fake.authorizations()  # control: the registry itself got the token


def test_a_blob_that_does_not_match_its_digest_is_refused() -> None:
    wanted = b"the bundle"
    digest = "sha256:" + hashlib.sha256(wanted).hexdigest()
    with serving("127.0.0.1", registry("http://127.0.0.1:1", blob=b"something else")) as fake:
        client = RegistryClient(host=f"127.0.0.1:{fake.port}", insecure=True)
        with pytest.raises(HttpError, match="does not match"):
            client.get_blob(REPO, digest, max_bytes=1024)
        fake.handler = registry("http://127.0.0.1:1", blob=wanted)
        assert client.get_blob(REPO, digest, max_bytes=1024) == wanted  # control
        with pytest.raises(HttpError, match="limit"):
            client.get_blob(REPO, digest, max_bytes=4)


def test_a_manifest_fetched_by_digest_must_match_it() -> None:
    content = b'{"schemaVersion":2}'
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    with serving("127.0.0.1", registry("http://127.0.0.1:1", manifest=b'{"schemaVersion":2,"evil":1}')) as fake:
        client = RegistryClient(host=f"127.0.0.1:{fake.port}", insecure=True)
        with pytest.raises(HttpError, match="digest"):
            client.get_manifest(REPO, digest)
        fake.handler = registry("http://127.0.0.1:1", manifest=content)
        found = client.get_manifest(REPO, digest)
        assert found is not None and found.digest == digest  # control
