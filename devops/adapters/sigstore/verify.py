"""Verify a bundle against a policy and return the statement it signs.

Two kinds of policy, never mixed:
- `IdentityPolicy` (keyless): the certificate chains to the trusted root's Fulcio, was logged
  in Rekor (inclusion proof, checkpoint and SET), has an SCT from a trusted CT log, and names
  the OIDC issuer, the exact identity (for GitHub Actions the workflow file and ref,
  `https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/heads/main`) and, when set,
  the source repository. Done by sigstore-python's Verifier.
- `KeyPolicy`: a public-key bundle whose hint is that key's, with a valid ECDSA signature over
  the DSSE PAE. A key bundle has no transparency log entry, so it is accepted only by a policy
  that names its key; an identity policy refuses it and a key policy refuses keyless bundles.

The statement is then parsed (devops.domain.attestation); whether it is about the right digest
and says PASSED is for the caller (`evidence()`/`require_pass()` there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from devops.adapters.sigstore.bundle import pae, read_bundle
from devops.adapters.sigstore.errors import BundleInvalid, SignatureRefused
from devops.adapters.sigstore.keys import key_hint, load_public_key
from devops.domain.attestation.statement import Statement, parse_statement

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot
    from sigstore.verify.policy import VerificationPolicy

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


@dataclass(frozen=True)
class IdentityPolicy:
    """Who may have signed: OIDC issuer, exact certificate identity, optional `owner/repo`."""

    issuer: str
    identity: str
    repository: str | None = None

    def describe(self) -> str:
        repo = f", repository {self.repository}" if self.repository else ""
        return f"identity {self.identity} from {self.issuer}{repo}"


@dataclass(frozen=True)
class KeyPolicy:
    """Signed by exactly this P-256 public key (PEM); `name` labels it in messages."""

    public_key_pem: bytes
    name: str = "the configured key"

    @property
    def hint(self) -> str:
        return key_hint(load_public_key(self.public_key_pem, where=self.name))

    def describe(self) -> str:
        return f"key {self.name} ({self.hint[:16]}…)"


Policy = IdentityPolicy | KeyPolicy


@dataclass(frozen=True)
class VerifiedStatement:
    statement: Statement
    method: Literal["keyless", "key"]
    signer: str  # certificate identity, or the key's hint
    issuer: str | None


def verify_statement(bundle: bytes | str, policy: Policy, *, trusted_root: TrustedRoot | None = None,
                     where: str = "bundle") -> VerifiedStatement:
    """The in-toto statement `bundle` signs, once the signature and signer satisfy `policy`.

    SignatureRefused/BundleInvalid/StatementInvalid (all exit 1) otherwise, naming `where`."""
    parts = read_bundle(bundle, where=where)
    if parts.content != "dsse-envelope":
        raise SignatureRefused(f"{where}: a message signature, not a signed statement (DSSE)")
    if isinstance(policy, KeyPolicy):
        if parts.material != "public-key":
            raise SignatureRefused(f"{where}: signed keyless, but the policy accepts only {policy.describe()}")
        expected = policy.hint
        if parts.key_hint != expected:
            raise SignatureRefused(f"{where}: signed by key {parts.key_hint[:16]}…, the policy accepts only "
                                   f"{policy.describe()}")
        _verify_ecdsa(policy, pae(parts.payload_type, parts.payload), parts.signature, where)
        statement = parse_statement(parts.payload, payload_type=parts.payload_type)
        return VerifiedStatement(statement, "key", expected, None)
    if parts.material == "public-key":
        raise SignatureRefused(f"{where}: signed with a local key (hint {parts.key_hint[:16]}…); only a policy "
                               "that names that key accepts it, this one requires " + policy.describe())
    if trusted_root is None:
        raise SignatureRefused(f"{where}: keyless verification needs a trusted root")
    payload_type, payload = _verify_keyless(bundle, policy, trusted_root, where, dsse=True)
    return VerifiedStatement(parse_statement(payload, payload_type=payload_type), "keyless",
                             policy.identity, policy.issuer)


def verify_blob(bundle: bytes | str, artifact: bytes, policy: IdentityPolicy, *, trusted_root: TrustedRoot,
                where: str = "bundle") -> str:
    """Verify a message-signature bundle of `artifact`; returns the verified identity."""
    parts = read_bundle(bundle, where=where)
    if parts.material == "public-key":
        raise SignatureRefused(f"{where}: signed with a local key; this policy requires {policy.describe()}")
    _verify_keyless(bundle, policy, trusted_root, where, dsse=False, artifact=artifact)
    return policy.identity


def _verify_keyless(bundle: bytes | str, policy: IdentityPolicy, trusted_root: TrustedRoot, where: str, *,
                    dsse: bool, artifact: bytes = b"") -> tuple[str, bytes]:
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle, InvalidBundle
    from sigstore.verify import Verifier

    try:
        parsed = Bundle.from_json(bundle)
    except InvalidBundle as exc:
        raise BundleInvalid(f"{where}: {_line(exc)}") from None
    verifier = Verifier(trusted_root=trusted_root)
    try:
        if dsse:
            payload_type, payload = verifier.verify_dsse(parsed, _sigstore_policy(policy))
            return payload_type, payload
        verifier.verify_artifact(artifact, parsed, _sigstore_policy(policy))
        return "", b""
    except SigstoreError as exc:
        raise SignatureRefused(f"{where}: does not verify for {policy.describe()}: {_line(exc)}") from None
    except ValueError as exc:  # malformed certificate or log entry
        raise BundleInvalid(f"{where}: {_line(exc)}") from None


def _sigstore_policy(policy: IdentityPolicy) -> VerificationPolicy:
    from sigstore.verify import policy as sp

    checks: list[sp.VerificationPolicy] = [sp.Identity(identity=policy.identity, issuer=policy.issuer)]
    if policy.repository:
        # Fulcio writes the repository twice: as the source repository URI (v2 extension) and,
        # on older certificates only, as the legacy GitHub repository extension.
        checks.append(sp.AnyOf([sp.OIDCSourceRepositoryURI(f"https://github.com/{policy.repository}"),
                                sp.GitHubWorkflowRepository(policy.repository)]))
    return sp.AllOf(checks)


def _verify_ecdsa(policy: KeyPolicy, data: bytes, signature: bytes, where: str) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = load_public_key(policy.public_key_pem, where=policy.name)
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SignatureRefused(f"{where}: the signature does not verify with {policy.describe()}") from None


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
