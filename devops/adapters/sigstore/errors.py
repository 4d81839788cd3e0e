"""The errors of the Sigstore adapters, each with its exit code (devops/errors.py)."""

from __future__ import annotations

from devops.errors import BadInput, ExternalError, GateFailed


class SigningFailed(ExternalError):
    """Fulcio, Rekor or the identity provider failed or answered something unusable (exit 3)."""


class IdentityTokenInvalid(BadInput):
    """The OIDC token is malformed, expired or lacks the claims Fulcio needs (exit 2)."""


class TrustConfigInvalid(BadInput):
    """A trusted root or client trust config file cannot be used (exit 2)."""


class KeyInvalid(BadInput):
    """A key file is not a P-256 key in PEM, or the password is wrong (exit 2)."""


class BundleInvalid(GateFailed):
    """A bundle found in the registry is not a Sigstore bundle we can read (exit 1: missing evidence)."""


class SignatureRefused(GateFailed):
    """A bundle does not verify, or verifies for a signer the policy does not name (exit 1)."""


class RegistryConflict(ExternalError):
    """Writers kept overwriting the referrers index; gave up after the retries (exit 3)."""


class TrustRootUnavailable(ExternalError):
    """Sigstore's trusted root or signing config could not be refreshed through TUF (exit 3)."""
