"""Signed evidence in the registry, as the use cases need it: find the bundles of a digest and
check each against a policy's signer (promotion, `devops verify-signatures`); list what is
already there, read an image's labels, sign and attach statements (`devops attest`).

`RegistryAttestations` works on the configured registry only: a repository of another host is
refused before anything is asked (the registry credentials never follow a record's data).
Signers are `KeySigner` (a local P-256 key) and `keyless.KeylessSigner` (Fulcio + Rekor); both
sign statements into v0.3 bundles and make cosign's classic `.sig` layer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from devops.adapters.registry import RegistryClient
from devops.adapters.sigstore.bundle import SignedBundle, read_bundle
from devops.adapters.sigstore.errors import BundleInvalid, SignatureRefused
from devops.adapters.sigstore.keys import key_hint, sign_blob_with_key, sign_statement_with_key
from devops.adapters.sigstore.oci import (
    OCI_INDEX,
    AttestationStore,
    ClassicLayer,
    classic_attestation_layer,
    classic_signature_layer,
    simple_signing_payload,
)
from devops.adapters.sigstore.verify import Policy, verify_statement
from devops.domain.attestation.errors import AttestationRefused
from devops.domain.attestation.policy import FoundBundle
from devops.domain.attestation.statement import Statement, parse_statement
from devops.errors import HttpError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec
    from sigstore.models import ClientTrustConfig, TrustedRoot

# More bundles than this on one digest is not a release's doing (six kinds, a few re-runs): the
# rest are not fetched, so a registry cannot make a check fetch without end.
MAX_BUNDLES = 256
MAX_CONFIG_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Existing:
    """A bundle already attached, read WITHOUT verifying it (only to avoid signing twice)."""

    referrer: str
    signer: str          # certificate identity (SAN), or "key:<hint>"
    statement: Statement


@dataclass(frozen=True)
class Attachment:
    referrer: str        # digest of the referrer manifest written
    via: str             # referrers-api or fallback-tag
    index_writes: int
    classic: str = ""    # the classic tag written too ("" none)


class Signer(Protocol):
    identity: str

    def sign(self, statement: Statement) -> SignedBundle: ...

    def classic_signature(self, payload: bytes) -> ClassicLayer: ...


class RegistryAttestations:
    """Bundles of images in the registry `client` talks to."""

    def __init__(self, client: RegistryClient) -> None:
        self.client = client

    def _store(self, repository: str) -> AttestationStore:
        prefix = f"{self.client.host}/"
        if not repository.startswith(prefix):
            raise SignatureRefused(f"{repository[:200]!r} is not in the configured registry {self.client.host}; "
                                   "not asked")
        return AttestationStore(self.client, repository.removeprefix(prefix))

    # -- verify
    def found(self, repository: str, digest: str, policy: Policy,
              trusted_root: TrustedRoot | None) -> list[FoundBundle]:
        """Every bundle referring to `digest`, each checked against `policy` (a bundle that does not
        verify is kept with the reason: it is missing evidence, never an error of the run)."""
        store = self._store(repository)
        referrers = store.referrers(digest)
        out: list[FoundBundle] = []
        for referrer in referrers[:MAX_BUNDLES]:
            where = f"bundle {referrer.digest[:19]}…"
            try:
                data = store.fetch_bundle(digest, referrer)
                verified = verify_statement(data, policy, trusted_root=trusted_root, where=where)
            except (BundleInvalid, SignatureRefused, AttestationRefused) as exc:
                out.append(FoundBundle(referrer.digest, referrer.predicate_type, None, exc.message))
                continue
            out.append(FoundBundle(referrer.digest, referrer.predicate_type, verified.statement))
        if len(referrers) > MAX_BUNDLES:
            out.append(FoundBundle(f"{len(referrers) - MAX_BUNDLES} more", "", None,
                                   f"more than {MAX_BUNDLES} referrers; the rest were not read"))
        return out

    # -- sign
    def existing(self, repository: str, digest: str) -> list[Existing]:
        """What is attached already, read but not verified (anyone can write a referrer: this only
        decides what not to sign again; a planted one can at worst make promotion refuse)."""
        store = self._store(repository)
        out = []
        for referrer in store.referrers(digest)[:MAX_BUNDLES]:
            try:
                parts = read_bundle(store.fetch_bundle(digest, referrer))
                statement = parse_statement(parts.payload, payload_type=parts.payload_type)
            except (BundleInvalid, AttestationRefused):
                continue
            if parts.content != "dsse-envelope":
                continue
            signer = f"key:{parts.key_hint}" if parts.material == "public-key" else _san(parts.certificate_der)
            out.append(Existing(referrer.digest, signer, statement))
        return out

    def image_labels(self, repository: str, digest: str) -> dict[str, str]:
        """The labels of the image `digest` names (its config; for an index, the linux/amd64 one)."""
        store = self._store(repository)
        path, where = store.repository, f"{repository}@{digest}"
        manifest = self._json(self.client.get_manifest(path, digest), where)
        if manifest.get("mediaType") == OCI_INDEX or "manifests" in manifest:
            chosen = _platform_manifest(manifest.get("manifests"), where)
            manifest = self._json(self.client.get_manifest(path, chosen), f"{repository}@{chosen}")
        config = manifest.get("config")
        config_digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(config_digest, str):
            raise HttpError(f"{where}: the manifest names no config")
        data = json.loads(self.client.get_blob(path, config_digest, max_bytes=MAX_CONFIG_BYTES))
        labels = (data.get("config") or {}).get("Labels") if isinstance(data, dict) else None
        return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}

    def attach(self, repository: str, digest: str, bundle: SignedBundle, *, classic: bool = False) -> Attachment:
        """Store `bundle` as a referrer of `digest` (and as a layer of the classic `.att` tag)."""
        store = self._store(repository)
        attached = store.attach(digest, bundle)
        tag = ""
        if classic:
            store.attach_classic(digest, "att", classic_attestation_layer(bundle))
            tag = f"{digest.replace(':', '-', 1)}.att"
        return Attachment(attached.referrer.digest, attached.via, attached.index_writes, tag)

    def attach_classic_signature(self, repository: str, digest: str, signer: Signer) -> str:
        """cosign's classic image signature: the simple-signing payload signed, under `.sig`."""
        store = self._store(repository)
        payload = simple_signing_payload(repository, digest)
        store.attach_classic(digest, "sig", signer.classic_signature(payload))
        return f"{digest.replace(':', '-', 1)}.sig"

    @staticmethod
    def _json(found: Any, where: str) -> dict[str, Any]:
        if found is None:
            raise HttpError(f"{where}: no such image in the registry", hint="attest after the image is pushed")
        try:
            data = json.loads(found.content)
        except ValueError:
            raise HttpError(f"{where}: the manifest is not JSON") from None
        if not isinstance(data, dict):
            raise HttpError(f"{where}: the manifest is not a JSON object")
        return data


class KeySigner:
    """Signs with a local P-256 key: bundles with a public-key hint, no transparency log."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self.identity = f"key:{key_hint(key.public_key())}"

    def sign(self, statement: Statement) -> SignedBundle:
        return sign_statement_with_key(statement, self._key)

    def classic_signature(self, payload: bytes) -> ClassicLayer:
        return classic_signature_layer(payload, signature=sign_blob_with_key(payload, self._key))


class KeylessClassic:
    """A keyless signer (keyless.KeylessSigner) with cosign's classic signature layer."""

    def __init__(self, signer: Any) -> None:
        self._signer = signer
        self.identity: str = signer.identity

    def sign(self, statement: Statement) -> SignedBundle:
        result: SignedBundle = self._signer.sign(statement)
        return result

    def classic_signature(self, payload: bytes) -> ClassicLayer:
        return classic_signature_layer(payload, bundle=self._signer.sign_blob(payload))


@contextmanager
def keyless(identity_token: str, trust_config: ClientTrustConfig) -> Iterator[Signer]:
    """A keyless signer: one Fulcio certificate for the whole session."""
    from devops.adapters.sigstore.keyless import keyless_signer

    with keyless_signer(identity_token, trust_config) as signer:
        yield KeylessClassic(signer)


def _san(certificate_der: bytes) -> str:
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(certificate_der)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return ""
    names = san.get_values_for_type(x509.UniformResourceIdentifier) + san.get_values_for_type(x509.RFC822Name)
    return str(names[0]) if names else ""


def _platform_manifest(manifests: Any, where: str) -> str:
    entries = [m for m in manifests if isinstance(m, dict)] if isinstance(manifests, list) else []

    def platform(entry: Mapping[str, Any]) -> tuple[str, str]:
        found = entry.get("platform")
        return (str(found.get("os")), str(found.get("architecture"))) if isinstance(found, dict) else ("", "")

    chosen = [m for m in entries if platform(m) == ("linux", "amd64")] or entries
    digest = chosen[0].get("digest") if chosen else None
    if not isinstance(digest, str) or not digest.startswith("sha256:"):
        raise HttpError(f"{where}: an image index without a usable manifest")
    return digest


__all__ = ["MAX_BUNDLES", "Attachment", "Existing", "KeySigner", "KeylessClassic", "RegistryAttestations", "Signer",
           "keyless"]
