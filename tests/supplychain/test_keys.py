"""Signing with a local P-256 key pair (development, the demo): a v0.3 bundle with a public-key
hint, checked against protobuf-specs' own models (sigstore-models) and verified by npm
@sigstore/verify with the key, by devops with a policy naming that key, and refused otherwise."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from devops.adapters.sigstore.bundle import BUNDLE_V03, read_bundle
from devops.adapters.sigstore.errors import KeyInvalid, SignatureRefused
from devops.adapters.sigstore.keyless import keyless_signer
from devops.adapters.sigstore.keys import (
    generate_key_pair,
    key_hint,
    load_private_key,
    load_public_key,
    sign_statement_with_key,
)
from devops.adapters.sigstore.verify import GITHUB_ISSUER, IdentityPolicy, KeyPolicy, verify_statement
from devops.domain.attestation import EvidenceKind, evidence, require_pass, verification_statement
from devops.errors import ExitCode
from tests.support.sigstore import MockSigstore, npm_verify

DIGEST = "sha256:" + "5e" * 32


@pytest.fixture(scope="module")
def pair():  # type: ignore[no-untyped-def]
    return generate_key_pair(b"demo-password")


@pytest.fixture(scope="module")
def bundle(pair):  # type: ignore[no-untyped-def]
    key = load_private_key(pair.private_pem, b"demo-password")
    statement = verification_statement(DIGEST, name="localhost:5000/shop/cart", result="PASSED", environment="dev",
                                       passed=["health", "slo-availability"])
    return sign_statement_with_key(statement, key)


def test_the_bundle_has_the_protobuf_specs_shape(bundle, pair) -> None:  # type: ignore[no-untyped-def]
    from sigstore_models.bundle.v1 import Bundle

    parsed = Bundle.from_json(bundle.text)  # protobuf-specs' pydantic models: camelCase JSON, one oneOf each
    assert parsed.media_type == BUNDLE_V03
    assert parsed.verification_material.public_key is not None and parsed.dsse_envelope is not None
    parts = read_bundle(bundle.text)
    assert (parts.material, parts.content, parts.tlog_entries) == ("public-key", "dsse-envelope", 0)
    assert parts.key_hint == key_hint(load_public_key(pair.public_pem)) == bundle.signer.removeprefix("key:")


def test_npm_sigstore_verify_accepts_it_with_the_key_and_refuses_another(bundle, pair, mock_sigstore: MockSigstore,  # type: ignore[no-untyped-def]
                                                                         tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text(bundle.text)
    (tmp_path / "key.pub").write_bytes(pair.public_pem)
    hint = bundle.signer.removeprefix("key:")
    ok = npm_verify(tmp_path / "b.json", mock_sigstore.trusted_root_path, key=tmp_path / "key.pub", key_hint=hint)
    assert ok["verified"] is True, ok
    assert json.loads(base64.b64decode(ok["payload"]))["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1"
    (tmp_path / "other.pub").write_bytes(generate_key_pair().public_pem)
    wrong = npm_verify(tmp_path / "b.json", mock_sigstore.trusted_root_path, key=tmp_path / "other.pub", key_hint=hint)
    assert wrong["verified"] is False and wrong["code"] == "SIGNATURE_ERROR"


def test_devops_verifies_it_with_a_policy_naming_the_key(bundle, pair) -> None:  # type: ignore[no-untyped-def]
    verified = verify_statement(bundle.text, KeyPolicy(pair.public_pem, name="demo key"))
    assert verified.method == "key"
    assert require_pass(evidence(verified.statement, DIGEST, EvidenceKind.VERIFICATION)).passed


def test_another_key_is_refused(bundle) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SignatureRefused, match="signed by key") as refused:
        verify_statement(bundle.text, KeyPolicy(generate_key_pair().public_pem, name="prod key"))
    assert refused.value.exit_code == ExitCode.GATE_FAILED


def test_a_forged_hint_does_not_help(bundle, pair) -> None:  # type: ignore[no-untyped-def]
    """A bundle signed by another key that claims the trusted key's hint fails on the signature."""
    other = load_private_key(generate_key_pair().private_pem)
    forged = json.loads(sign_statement_with_key(verification_statement(
        DIGEST, name="x", result="PASSED", environment="dev"), other).text)
    forged["verificationMaterial"]["publicKey"]["hint"] = bundle.signer.removeprefix("key:")
    with pytest.raises(SignatureRefused, match="does not verify"):
        verify_statement(json.dumps(forged), KeyPolicy(pair.public_pem))


def test_an_identity_policy_never_accepts_a_key_bundle(bundle, mock_root) -> None:  # type: ignore[no-untyped-def]
    policy = IdentityPolicy(GITHUB_ISSUER, "https://github.com/o/r/.github/workflows/release.yml@refs/heads/main")
    with pytest.raises(SignatureRefused, match="local key"):
        verify_statement(bundle.text, policy, trusted_root=mock_root)


def test_a_key_policy_never_accepts_a_keyless_bundle(pair, mock_sigstore: MockSigstore, trust_config) -> None:  # type: ignore[no-untyped-def]
    with keyless_signer(mock_sigstore.token(), trust_config) as signer:
        keyless = signer.sign(verification_statement(DIGEST, name="x", result="PASSED", environment="dev"))
    with pytest.raises(SignatureRefused, match="signed keyless"):
        verify_statement(keyless.text, KeyPolicy(pair.public_pem))


def test_a_failing_verification_is_refused_as_evidence(pair) -> None:  # type: ignore[no-untyped-def]
    key = load_private_key(pair.private_pem, b"demo-password")
    failed = sign_statement_with_key(verification_statement(DIGEST, name="x", result="FAILED", environment="dev",
                                                            failed=["slo-latency"]), key)
    found = evidence(verify_statement(failed.text, KeyPolicy(pair.public_pem)).statement, DIGEST,
                     EvidenceKind.VERIFICATION)
    with pytest.raises(Exception, match="slo-latency") as refused:
        require_pass(found)
    assert getattr(refused.value, "exit_code", None) == ExitCode.GATE_FAILED


@pytest.mark.parametrize("pem,password,message", [
    (b"not a key", None, "not a PEM private key"),
    (None, b"wrong", "password is wrong"),
    (None, None, "encrypted"),
], ids=["garbage", "wrong-password", "missing-password"])
def test_bad_key_files_are_bad_input(pair, pem, password, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KeyInvalid, match=message) as refused:
        load_private_key(pem or pair.private_pem, password, where="keys/demo.key")
    assert refused.value.exit_code == ExitCode.BAD_INPUT and "keys/demo.key" in str(refused.value)


def test_a_p384_key_is_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(KeyInvalid, match="P-256"):
        load_private_key(pem)
    assert load_private_key(generate_key_pair().private_pem)  # control: a P-256 key loads
