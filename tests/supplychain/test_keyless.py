"""Keyless signing against a local Fulcio and Rekor (@sigstore/mock served over HTTP), and
verification of the result by devops (sigstore-python) and by npm @sigstore/verify; bundles made
by npm @sigstore/sign verified by devops. The mock does not check the OIDC token's signature
(real Fulcio does): that part of the trust chain is not exercised here."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from devops.adapters.sigstore.bundle import BUNDLE_V03, SignedBundle, read_bundle
from devops.adapters.sigstore.errors import IdentityTokenInvalid, SignatureRefused, SigningFailed
from devops.adapters.sigstore.keyless import keyless_signer
from devops.adapters.sigstore.trust import load_trust_config
from devops.adapters.sigstore.verify import GITHUB_ISSUER, IdentityPolicy, verify_statement
from devops.domain.attestation import EvidenceKind, evidence, provenance_statement, require_pass, sonar_statement
from devops.errors import ExitCode
from tests.support.sigstore import MockSigstore, npm_verify, run_node

DIGEST = "sha256:" + "ab" * 32
REPO = "techitfactory/techitfactory-shop"


def provenance(digest: str = DIGEST):  # type: ignore[no-untyped-def]
    return provenance_statement(digest, name="docker.io/techitfactory/cart", repository=REPO, commit="c0ffee" * 6 + "ab12",
                                workflow_path=".github/workflows/release.yml", ref="refs/heads/main",
                                inputs_sha256="sha256:" + "12" * 32, builder_id="https://github.com/actions/runner")


@pytest.fixture(scope="module")
def signed(mock_sigstore: MockSigstore, trust_config) -> SignedBundle:  # type: ignore[no-untyped-def]
    with keyless_signer(mock_sigstore.token(), trust_config) as signer:
        return signer.sign(provenance())


def policy(mock: MockSigstore, **kw: str) -> IdentityPolicy:
    return IdentityPolicy(issuer=kw.get("issuer", GITHUB_ISSUER), identity=kw.get("identity", mock.identity()),
                          repository=kw.get("repository", REPO))


def test_sigstore_python_signs_a_dsse_statement_keyless_into_a_v03_bundle(signed: SignedBundle,
                                                                         mock_sigstore: MockSigstore) -> None:
    parts = read_bundle(signed.text)
    assert parts.media_type == BUNDLE_V03
    assert (parts.content, parts.material, parts.tlog_entries) == ("dsse-envelope", "certificate", 1)
    assert parts.payload_type == "application/vnd.in-toto+json"
    assert signed.signer == mock_sigstore.identity()
    entry = json.loads(signed.text)["verificationMaterial"]["tlogEntries"][0]
    assert entry["kindVersion"] == {"kind": "dsse", "version": "0.0.1"}
    assert entry["inclusionProof"]["hashes"], "a real Merkle audit path, not a one-entry log"


def test_devops_verifies_it_and_reads_the_statement(signed: SignedBundle, mock_sigstore: MockSigstore,
                                                    mock_root) -> None:  # type: ignore[no-untyped-def]
    verified = verify_statement(signed.text, policy(mock_sigstore), trusted_root=mock_root)
    assert verified.method == "keyless" and verified.signer == mock_sigstore.identity()
    found = require_pass(evidence(verified.statement, DIGEST, EvidenceKind.PROVENANCE))
    assert found.details["commit"] == "c0ffee" * 6 + "ab12"
    assert found.details["inputs_sha256"] == "sha256:" + "12" * 32


@pytest.mark.parametrize("change", [
    {"identity": "https://github.com/techitfactory/techitfactory-shop/.github/workflows/other.yml@refs/heads/main"},
    {"identity": "https://github.com/techitfactory/techitfactory-shop/.github/workflows/release.yml@refs/heads/dev"},
    {"issuer": "https://accounts.google.com"},
    {"repository": "someone/else"},
], ids=["other-workflow", "other-ref", "other-issuer", "other-repository"])
def test_devops_refuses_another_signer(signed: SignedBundle, mock_sigstore: MockSigstore, mock_root,  # type: ignore[no-untyped-def]
                                       change: dict[str, str]) -> None:
    with pytest.raises(SignatureRefused) as refused:
        verify_statement(signed.text, policy(mock_sigstore, **change), trusted_root=mock_root)
    assert refused.value.exit_code == ExitCode.GATE_FAILED


def test_a_tampered_statement_does_not_verify(signed: SignedBundle, mock_sigstore: MockSigstore, mock_root) -> None:  # type: ignore[no-untyped-def]
    import base64

    data = json.loads(signed.text)
    payload = base64.b64decode(data["dsseEnvelope"]["payload"]).replace(b"ab" * 32, b"cd" * 32)
    data["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()
    with pytest.raises(SignatureRefused):
        verify_statement(json.dumps(data), policy(mock_sigstore), trusted_root=mock_root)


def test_another_sigstore_root_does_not_trust_it(signed: SignedBundle, mock_sigstore: MockSigstore) -> None:
    from devops.adapters.sigstore.trust import production_trusted_root

    with pytest.raises(SignatureRefused):
        verify_statement(signed.text, policy(mock_sigstore), trusted_root=production_trusted_root())


def test_npm_sigstore_verify_accepts_the_bundle_for_the_identity(signed: SignedBundle, mock_sigstore: MockSigstore,
                                                                 tmp_path: Path) -> None:
    bundle = tmp_path / "provenance.sigstore.json"
    bundle.write_text(signed.text)
    ok = npm_verify(bundle, mock_sigstore.trusted_root_path, identity=mock_sigstore.identity(), issuer=GITHUB_ISSUER)
    assert ok["verified"] is True, ok
    assert json.loads(__import__("base64").b64decode(ok["payload"]))["subject"][0]["digest"]["sha256"] == "ab" * 32
    wrong = npm_verify(bundle, mock_sigstore.trusted_root_path,
                       identity=mock_sigstore.identity(ref="refs/heads/dev"), issuer=GITHUB_ISSUER)
    assert wrong["verified"] is False and wrong["code"] == "UNTRUSTED_SIGNER_ERROR"
    other_issuer = npm_verify(bundle, mock_sigstore.trusted_root_path, identity=mock_sigstore.identity(),
                              issuer="https://accounts.google.com")
    assert other_issuer["verified"] is False


def test_a_bundle_signed_by_npm_sigstore_sign_verifies_in_devops(mock_sigstore: MockSigstore, mock_root,  # type: ignore[no-untyped-def]
                                                                 tmp_path: Path) -> None:
    statement = sonar_statement(DIGEST, name="docker.io/techitfactory/cart", verdict="PASSED", project_key="cart",
                                quality_gate="OK")
    (tmp_path / "statement.json").write_bytes(statement.to_json())
    (tmp_path / "token").write_text(mock_sigstore.token())
    run = run_node("sign.js", "--fulcio", mock_sigstore.fulcio_url, "--rekor", mock_sigstore.rekor_url,
                   "--token-file", str(tmp_path / "token"), "--statement", str(tmp_path / "statement.json"))
    assert run.returncode == 0, run.stderr
    verified = verify_statement(run.stdout, policy(mock_sigstore), trusted_root=mock_root, where="sign.js bundle")
    assert require_pass(evidence(verified.statement, DIGEST, EvidenceKind.SONAR)).summary == "Sonar PASSED"
    with pytest.raises(SignatureRefused):
        verify_statement(run.stdout, policy(mock_sigstore, identity=mock_sigstore.identity(ref="refs/tags/v1")),
                         trusted_root=mock_root)


def test_an_expired_token_is_bad_input(mock_sigstore: MockSigstore, trust_config) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IdentityTokenInvalid) as refused, keyless_signer(mock_sigstore.token(lifetime=-60), trust_config):
        pass
    assert refused.value.exit_code == ExitCode.BAD_INPUT


def test_a_token_for_another_audience_is_bad_input(mock_sigstore: MockSigstore, trust_config) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IdentityTokenInvalid), keyless_signer(mock_sigstore.token(audience="npm"), trust_config):
        pass


def test_fulcio_unreachable_is_an_external_failure(mock_sigstore: MockSigstore, tmp_path: Path) -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = json.loads(mock_sigstore.trust_config_path.read_text())
    config["signingConfig"]["caUrls"][0]["url"] = dead
    path = tmp_path / "dead.json"
    path.write_text(json.dumps(config))
    with pytest.raises(SigningFailed) as failed, keyless_signer(mock_sigstore.token(), load_trust_config(path)):
        pass
    assert failed.value.exit_code == ExitCode.EXTERNAL and dead in str(failed.value)


def test_rekor_unreachable_fails_the_signing_not_the_certificate(mock_sigstore: MockSigstore, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = json.loads(mock_sigstore.trust_config_path.read_text())
    config["signingConfig"]["rekorTlogUrls"][0]["url"] = dead
    path = tmp_path / "dead-rekor.json"
    path.write_text(json.dumps(config))
    with keyless_signer(mock_sigstore.token(), load_trust_config(path)) as signer:
        assert signer.identity == mock_sigstore.identity()  # Fulcio answered
        with pytest.raises(SigningFailed) as failed:
            signer.sign(provenance())
    assert failed.value.exit_code == ExitCode.EXTERNAL
