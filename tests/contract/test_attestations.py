"""The signed-evidence ports: the same assertions against tests/fakes/attestations.py and the real
registry at 127.0.0.1:5000 through devops/adapters/sigstore/attestor.py with local P-256 keys
(bundles stored as referrers in the fallback index, verified with the named key)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from devops.domain.attestation.policy import FoundBundle
from devops.domain.attestation.predicates import EvidenceKind, sbom_statement, signature_statement
from devops.domain.attestation.statement import Statement
from devops.errors import ExternalError
from tests.fakes.attestations import FakeAttestations

REAL = pytest.param("real", marks=[pytest.mark.docker, pytest.mark.slow])
BOM = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}


@dataclass
class Side:
    repository: str                                          # host/namespace/name
    digest: str                                              # an image in it
    attach: Callable[[str, Statement, str], str]             # (digest, statement, signer) -> referrer
    found: Callable[[str, str], list[FoundBundle]]           # (digest, signer the policy accepts)
    existing: Callable[[str], list[Any]]
    signer_id: Callable[[str], str]                          # how a signer name shows in `existing`
    labels: Callable[[str], dict[str, str]]


@pytest.fixture(params=["fake", REAL])
def side(request: pytest.FixtureRequest) -> Iterator[Side]:
    if request.param == "fake":
        fake = FakeAttestations()
        repository, digest = "127.0.0.1:5000/contract/app", "sha256:" + uuid.uuid4().hex * 2
        fake.labels_of[(repository, digest)] = {"marker": "m"}
        yield Side(repository, digest,
                   lambda d, s, who: fake.attach(repository, d, s, f"key:{who}").referrer,
                   lambda d, who: fake.found(repository, d, f"key:{who}"),
                   lambda d: fake.existing(repository, d), lambda who: f"key:{who}",
                   lambda d: fake.labels(repository, d))
        return
    from devops.adapters.registry import RegistryClient
    from devops.adapters.sigstore.attestor import KeySigner, RegistryAttestations
    from devops.adapters.sigstore.keys import generate_key_pair, load_private_key
    from devops.adapters.sigstore.verify import KeyPolicy
    from tests.supplychain.conftest import push_image

    host = request.getfixturevalue("registry")
    client = RegistryClient(host, insecure=True)
    path = f"contract-{uuid.uuid4().hex[:10]}/app"
    digest = push_image(client, path, "m")
    keys = {who: generate_key_pair() for who in ("alice", "bob")}
    signers = {who: KeySigner(load_private_key(pair.private_pem)) for who, pair in keys.items()}
    real = RegistryAttestations(client)
    repository = f"{host}/{path}"
    yield Side(repository, digest,
               lambda d, s, who: real.attach(repository, d, signers[who].sign(s)).referrer,
               lambda d, who: real.found(repository, d, KeyPolicy(keys[who].public_pem, who), None),
               lambda d: real.existing(repository, d), lambda who: signers[who].identity,
               lambda d: real.image_labels(repository, d))


def test_nothing_attached_finds_nothing(side: Side) -> None:
    assert side.found(side.digest, "alice") == [] and side.existing(side.digest) == []


def test_a_bundle_by_the_accepted_signer_is_found_with_its_statement(side: Side) -> None:
    statement = signature_statement(side.digest, name=side.repository)
    referrer = side.attach(side.digest, statement, "alice")
    [found] = side.found(side.digest, "alice")
    assert (found.referrer, found.statement, found.problem) == (referrer, statement, "")
    assert found.predicate_type == EvidenceKind.SIGNATURE.predicate_type


def test_a_bundle_by_another_signer_is_found_without_its_statement_and_with_why(side: Side) -> None:
    side.attach(side.digest, sbom_statement(side.digest, name=side.repository, bom=BOM), "bob")
    [found] = side.found(side.digest, "alice")
    assert found.statement is None and found.problem
    assert found.predicate_type == EvidenceKind.SBOM.predicate_type


def test_existing_lists_every_bundle_with_its_signer_unverified(side: Side) -> None:
    first = signature_statement(side.digest, name=side.repository)
    second = sbom_statement(side.digest, name=side.repository, bom=BOM)
    refs = [side.attach(side.digest, first, "alice"), side.attach(side.digest, second, "bob")]
    existing = side.existing(side.digest)
    assert sorted((e.referrer, e.signer, e.statement.predicate_type) for e in existing) == sorted([
        (refs[0], side.signer_id("alice"), first.predicate_type), (refs[1], side.signer_id("bob"), second.predicate_type)])


def test_the_image_labels_are_read_by_digest(side: Side) -> None:
    assert side.labels(side.digest) == {"marker": "m"}


def test_a_repository_of_another_registry_is_never_asked() -> None:
    from devops.adapters.registry import RegistryClient
    from devops.adapters.sigstore.attestor import RegistryAttestations
    from devops.adapters.sigstore.keys import generate_key_pair
    from devops.adapters.sigstore.verify import KeyPolicy

    real = RegistryAttestations(RegistryClient("127.0.0.1:9", insecure=True))
    with pytest.raises(Exception, match="not in the configured registry 127.0.0.1:9; not asked") as refused:
        real.found("evil.example/shop/app", "sha256:" + "a" * 64, KeyPolicy(generate_key_pair().public_pem), None)
    assert not isinstance(refused.value, ExternalError)
