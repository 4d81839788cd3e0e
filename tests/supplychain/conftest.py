"""Fixtures of the supply-chain tests: the local Sigstore (mock Fulcio/Rekor over HTTP, npm
verifier and signer) and images in the real local registry."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devops.adapters.registry import RegistryClient
from tests.support import stack
from tests.support.sigstore import MockSigstore, NodeToolMissing, start_mock


@pytest.fixture(scope="session")
def mock_sigstore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockSigstore]:
    """Fulcio and Rekor (@sigstore/mock) on free loopback ports, with their trust material."""
    try:
        mock = start_mock(tmp_path_factory.mktemp("sigstore"))
    except NodeToolMissing as exc:
        stack.unavailable(str(exc))
    yield mock
    mock.stop()


@pytest.fixture(scope="session")
def trust_config(mock_sigstore: MockSigstore):  # type: ignore[no-untyped-def]
    from devops.adapters.sigstore.trust import load_trust_config

    return load_trust_config(mock_sigstore.trust_config_path)


@pytest.fixture(scope="session")
def mock_root(mock_sigstore: MockSigstore):  # type: ignore[no-untyped-def]
    from devops.adapters.sigstore.trust import load_trusted_root

    return load_trusted_root(mock_sigstore.trusted_root_path)


@dataclass
class Image:
    """A tiny OCI image pushed straight through the registry API (no Docker build needed)."""

    client: RegistryClient
    host: str
    repository: str
    digest: str

    @property
    def reference(self) -> str:
        return f"{self.host}/{self.repository}"


def push_image(client: RegistryClient, repository: str, marker: str) -> str:
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"marker": marker}},
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config_digest = client.put_blob(repository, config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": config_digest, "size": len(config)},
                           "layers": []}).encode()
    stored = client.put_manifest(repository, "v1", manifest, "application/vnd.oci.image.manifest.v1+json")
    assert stored.digest == "sha256:" + hashlib.sha256(manifest).hexdigest()
    return stored.digest


@pytest.fixture
def image(registry: str) -> Image:
    """A fresh image in a namespace of its own in the real local registry (no referrers API)."""
    client = RegistryClient(host=registry, insecure=True)
    repository = f"i19test/{uuid.uuid4().hex[:12]}/app"
    return Image(client, registry, repository, push_image(client, repository, uuid.uuid4().hex))


@pytest.fixture
def write_json(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path
    return write
