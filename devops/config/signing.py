"""The supply-chain keys: `signing:` (how `devops attest` signs) and
`environments.<env>.signatures:` (which signed evidence a promotion into, or
`devops verify-signatures` of, that environment requires). docs/supply-chain.md and
docs/configuration.md describe them."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from devops.config.base import Section, Variables, variable
from devops.domain.attestation.policy import ALL_KINDS, KeylessIdentity, NamedKey, SignaturePolicy, required_kinds
from devops.domain.types import Bool, EnvVar, HttpUrl, Line, MachinePath

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
KIND_NAMES = tuple(k.value for k in ALL_KINDS)
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")


class SigningConfig(Section):
    """How `devops attest` signs the evidence of a release."""

    # keyless: a short-lived Fulcio certificate for an OIDC identity, logged in Rekor (GitHub
    # Actions: the workflow's own token). key: a local P-256 key pair (development, the demo).
    method: Literal["keyless", "key"] = "keyless"
    # keyless: a variable holding an OIDC token to use instead of GitHub Actions' own.
    identity_token_env: EnvVar = "SIGSTORE_ID_TOKEN"
    # keyless: a Sigstore client trust config (Fulcio, Rekor, their keys) for a private Sigstore
    # instance; null: Sigstore's public-good instance (its trust root refreshed through TUF).
    trust_config: MachinePath | None = None
    # key: the PEM private key (P-256), and the variable holding its password (null: none).
    key: MachinePath | None = None
    key_password_env: EnvVar | None = None
    # Also write cosign's classic `sha256-<hex>.sig`/`.att` tags (older verifiers, the admission policy).
    classic_tags: Bool = False

    @model_validator(mode="after")
    def _key_needs_a_file(self) -> SigningConfig:
        if self.method == "key" and not self.key:
            raise ValueError("signing.key: method key needs the PEM private key file")
        if self.method == "keyless" and (self.key or self.key_password_env):
            raise ValueError("signing.key: set only with method: key (keyless signing has no key file)")
        return self

    def key_password(self, environ: Variables) -> str | None:
        return variable(environ, self.key_password_env)


class KeylessPolicyConfig(Section):
    """Keyless signer a policy accepts: matched exactly, as Fulcio writes it in the certificate."""

    issuer: HttpUrl = GITHUB_ISSUER
    # For GitHub Actions: https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/heads/main
    identity: Line = Field(min_length=1, max_length=1000)
    # owner/name: also checked on the certificate's source repository extension.
    repository: str | None = None
    # The trusted root (protobuf-specs TrustedRoot, or a client trust config holding one) of a
    # private Sigstore; null: Sigstore's public-good root, refreshed through TUF.
    trusted_root: MachinePath | None = None

    @field_validator("identity")
    @classmethod
    def _identity_is_exact(cls, value: str) -> str:
        if any(ch in value for ch in "*?[]"):
            raise ValueError("the identity is matched exactly; patterns are not supported")
        return value

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str | None) -> str | None:
        if value is not None and not _REPOSITORY.fullmatch(value):
            raise ValueError(f"expected owner/name like techitfactory/techitfactory-shop, got {value!r}")
        return value


class SignaturesConfig(Section):
    """`environments.<env>.signatures`: the signed evidence its digests must carry."""

    # Evidence kinds required (signature, provenance, sbom, vulnerabilities, sonar, verification);
    # null: all of them, `verification` only when promotion requires a verification in the record.
    required: tuple[str, ...] | None = None
    keyless: KeylessPolicyConfig | None = None
    # A PEM public key (P-256): bundles signed by exactly this key are accepted (local, demo).
    key: MachinePath | None = None

    @field_validator("required")
    @classmethod
    def _known_kinds(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return value
        if not value:
            raise ValueError(f"expected at least one of {', '.join(KIND_NAMES)} (or null for all)")
        required_kinds(value, verification_required=True)  # ValueError naming the unknown kind
        return value

    @model_validator(mode="after")
    def _one_signer(self) -> SignaturesConfig:
        if (self.keyless is None) == (self.key is None):
            raise ValueError("set exactly one of keyless (an identity) and key (a public key file)")
        return self

    def policy(self, *, verification_required: bool, allow_skipped_sonar: bool) -> SignaturePolicy:
        """The domain's policy (the key named by its path as written)."""
        keyless = self.keyless
        return SignaturePolicy(
            required=required_kinds(self.required, verification_required=verification_required),
            keyless=KeylessIdentity(keyless.issuer, keyless.identity, keyless.repository) if keyless else None,
            key=NamedKey(self.key) if self.key else None,
            allow_skipped_sonar=allow_skipped_sonar)
