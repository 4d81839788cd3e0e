"""A real GitHub Actions bundle (Sigstore's production Fulcio and Rekor; shipped in
sigstore-python's test data, ../shared/fixtures/SOURCES.md) verified offline against the
production trusted root that sigstore-python embeds: no network, nothing mocked."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.adapters.sigstore.errors import SignatureRefused
from devops.adapters.sigstore.trust import production_trusted_root
from devops.adapters.sigstore.verify import GITHUB_ISSUER, IdentityPolicy, verify_blob, verify_statement
from devops.errors import ExitCode

IDENTITY = "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"


@pytest.fixture(scope="module")
def fixture(shared_fixtures: Path) -> tuple[bytes, bytes]:
    folder = shared_fixtures / "sigstore"
    return (folder / "bundle_v3_github.whl.sigstore").read_bytes(), (folder / "bundle_v3_github.whl").read_bytes()


def test_the_real_bundle_verifies_offline_for_its_workflow(fixture: tuple[bytes, bytes]) -> None:
    bundle, wheel = fixture
    policy = IdentityPolicy(GITHUB_ISSUER, IDENTITY, repository="trailofbits/rfc8785.py")
    assert verify_blob(bundle, wheel, policy, trusted_root=production_trusted_root()) == IDENTITY


@pytest.mark.parametrize("policy", [
    IdentityPolicy(GITHUB_ISSUER, IDENTITY.replace("v0.1.2", "v0.1.3")),
    IdentityPolicy(GITHUB_ISSUER, IDENTITY.replace("release.yml", "ci.yml")),
    IdentityPolicy("https://accounts.google.com", IDENTITY),
    IdentityPolicy(GITHUB_ISSUER, IDENTITY, repository="trailofbits/other"),
], ids=["other-tag", "other-workflow", "other-issuer", "other-repository"])
def test_a_wrong_identity_fails(fixture: tuple[bytes, bytes], policy: IdentityPolicy) -> None:
    bundle, wheel = fixture
    with pytest.raises(SignatureRefused) as refused:
        verify_blob(bundle, wheel, policy, trusted_root=production_trusted_root())
    assert refused.value.exit_code == ExitCode.GATE_FAILED


def test_a_changed_file_fails(fixture: tuple[bytes, bytes]) -> None:
    bundle, wheel = fixture
    changed = wheel[:-1] + bytes([wheel[-1] ^ 1])
    with pytest.raises(SignatureRefused):
        verify_blob(bundle, changed, IdentityPolicy(GITHUB_ISSUER, IDENTITY), trusted_root=production_trusted_root())


def test_a_message_signature_is_not_accepted_as_a_signed_statement(fixture: tuple[bytes, bytes]) -> None:
    bundle, _ = fixture
    with pytest.raises(SignatureRefused, match="not a signed statement"):
        verify_statement(bundle, IdentityPolicy(GITHUB_ISSUER, IDENTITY), trusted_root=production_trusted_root())


def test_the_embedded_root_is_read_without_touching_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = production_trusted_root()
    assert root.get_fulcio_certs(), "the production root names Fulcio's CA"
    assert list(tmp_path.iterdir()) == []
