"""Keyless signing with sigstore-python: an OIDC token buys a short-lived Fulcio certificate for
an ephemeral key; each statement is signed as a DSSE envelope and logged in Rekor; the result
is a v0.3 bundle. In GitHub Actions the token is the workflow's (`id-token: write`, audience
`sigstore`), so the certificate names the workflow file and ref, the repository and the run.

One `KeylessSigner` signs many statements with one certificate (one Fulcio round trip per
release job, one Rekor entry per statement). The Fulcio and Rekor URLs come from the client
trust config (trust.load_trust_config), never from the data being signed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from devops.adapters.sigstore.bundle import SignedBundle
from devops.adapters.sigstore.errors import IdentityTokenInvalid, SigningFailed
from devops.domain.attestation.statement import Statement

if TYPE_CHECKING:
    from sigstore.models import ClientTrustConfig


class KeylessSigner:
    """Signs statements with the identity of one OIDC token (see `keyless_signer`)."""

    def __init__(self, signer: Any, identity: str, where: str) -> None:
        self._signer = signer
        self.identity = identity
        self._where = where

    def sign(self, statement: Statement) -> SignedBundle:
        """A v0.3 bundle (DSSE) of `statement`, logged in Rekor."""
        from sigstore import dsse
        from sigstore.errors import Error as SigstoreError

        try:
            bundle = self._signer.sign_dsse(dsse.Statement(statement.to_json()))
        except Exception as exc:
            if not isinstance(exc, SigstoreError) and not _external(exc):
                raise
            raise SigningFailed(f"signing the {statement.predicate_type} statement at {self._where}: {_line(exc)}",
                                hint="check that Fulcio and Rekor are reachable") from None
        return SignedBundle(bundle.to_json(), statement.predicate_type, statement.digests, self.identity)

    def sign_blob(self, data: bytes) -> SignedBundle:
        """A message-signature bundle of `data` (a hashedrekord entry): cosign's classic `.sig`."""
        from sigstore.errors import Error as SigstoreError

        try:
            bundle = self._signer.sign_artifact(data)
        except Exception as exc:
            if not isinstance(exc, SigstoreError) and not _external(exc):
                raise
            raise SigningFailed(f"signing a blob at {self._where}: {_line(exc)}",
                                hint="check that Rekor is reachable") from None
        return SignedBundle(bundle.to_json(), "", (), self.identity)


@contextmanager
def keyless_signer(identity_token: str, trust_config: ClientTrustConfig) -> Iterator[KeylessSigner]:
    """A signer for `identity_token` against the Fulcio and Rekor `trust_config` names.

    IdentityTokenInvalid (exit 2) for a token that is malformed, expired or not for the
    `sigstore` audience; SigningFailed (exit 3) when Fulcio refuses or cannot be reached."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.oidc import ExpiredIdentity, IdentityError, IdentityToken
    from sigstore.sign import SigningContext

    try:
        token = IdentityToken(identity_token.strip())
    except IdentityError as exc:
        raise IdentityTokenInvalid(f"OIDC token: {_line(exc)}",
                                   hint="in GitHub Actions the job needs `permissions: id-token: write`") from None
    try:
        context = SigningContext.from_trust_config(trust_config)
    except (SigstoreError, ValueError) as exc:
        raise SigningFailed(f"client trust config: {_line(exc)}") from None
    where = context._fulcio.url  # noqa: SLF001 - named in messages only
    try:
        with context.signer(token, cache=True) as signer:
            yield KeylessSigner(signer, _certificate_identity(signer), where)
    except ExpiredIdentity:
        raise IdentityTokenInvalid("OIDC token: expired before the certificate was issued") from None
    except (IdentityTokenInvalid, SigningFailed):
        raise
    except SigstoreError as exc:
        raise SigningFailed(f"Fulcio at {where}: {_line(exc)}", hint="check that Fulcio is reachable") from None
    except Exception as exc:
        if _external(exc):
            raise SigningFailed(f"Fulcio at {where}: {type(exc).__name__}: {_line(exc)}",
                                hint="check that Fulcio is reachable and accepts the token") from None
        raise


def _certificate_identity(signer: Any) -> str:
    """The SAN of the certificate Fulcio issued (what verifiers will match)."""
    from cryptography import x509

    cert = signer._signing_cert()  # noqa: SLF001 - cached: no second request
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = san.get_values_for_type(x509.UniformResourceIdentifier) + san.get_values_for_type(x509.RFC822Name)
    return str(names[0]) if names else ""


def _external(exc: BaseException) -> bool:
    """An error of the services or the transport (sigstore-python's Fulcio/Rekor clients raise
    their own exception types, not all under sigstore.errors.Error), not a bug of ours."""
    return type(exc).__module__.startswith(("sigstore", "requests", "urllib3"))


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
