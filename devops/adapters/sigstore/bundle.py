"""The Sigstore bundle JSON (protobuf-specs `Bundle`, v0.1 to v0.3) read without trusting it.

`read_bundle` checks the shape a verifier needs (media type, one DSSE envelope or message
signature, one kind of verification material) and decodes the parts; it verifies nothing.
`SignedBundle` is what the signers return: the bundle text plus what was signed, so callers
can store it (oci.py) without parsing it again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from devops.adapters.sigstore.errors import BundleInvalid

BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
BUNDLE_MEDIA_TYPES = frozenset({
    BUNDLE_V03,
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
})
# Bundles carry their statement; an SBOM predicate of a large image is a few MiB (x4/3 base64).
MAX_BUNDLE_BYTES = 64 * 1024 * 1024

Content = Literal["dsse-envelope", "message-signature"]
Material = Literal["certificate", "x509-chain", "public-key"]


@dataclass(frozen=True)
class BundleParts:
    media_type: str
    content: Content
    material: Material
    key_hint: str  # public-key bundles only
    certificate_der: bytes  # leaf certificate (keyless bundles only)
    payload_type: str  # DSSE only
    payload: bytes  # DSSE only
    signature: bytes
    tlog_entries: int


@dataclass(frozen=True)
class SignedBundle:
    """A bundle a signer produced: `text` is the JSON as it is stored and verified."""

    text: str
    predicate_type: str
    subject_digests: tuple[str, ...]
    signer: str  # the certificate identity (keyless) or "key:<hint>"

    @property
    def media_type(self) -> str:
        return str(json.loads(self.text)["mediaType"])

    @property
    def data(self) -> bytes:
        return self.text.encode()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what a DSSE signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def read_bundle(raw: bytes | str, *, where: str = "bundle") -> BundleParts:
    """The parts of a bundle; `BundleInvalid` (exit 1) naming `where` and what is wrong."""
    data_bytes = raw.encode() if isinstance(raw, str) else raw
    if len(data_bytes) > MAX_BUNDLE_BYTES:
        raise BundleInvalid(f"{where}: {len(data_bytes)} bytes, over the {MAX_BUNDLE_BYTES}-byte limit")
    try:
        data = json.loads(data_bytes)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleInvalid(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BundleInvalid(f"{where}: expected a JSON object")
    media_type = data.get("mediaType")
    if media_type not in BUNDLE_MEDIA_TYPES:
        raise BundleInvalid(f"{where}: mediaType {str(media_type)[:80]!r} is not a Sigstore bundle")
    material = data.get("verificationMaterial")
    if not isinstance(material, dict):
        raise BundleInvalid(f"{where}: no verificationMaterial")
    kind, key_hint, cert = _material(material, where)
    entries = material.get("tlogEntries", [])
    if not isinstance(entries, list):
        raise BundleInvalid(f"{where}: verificationMaterial.tlogEntries must be a list")
    if "dsseEnvelope" in data and "messageSignature" not in data:
        envelope = data["dsseEnvelope"]
        if not isinstance(envelope, dict):
            raise BundleInvalid(f"{where}: dsseEnvelope must be an object")
        signatures = envelope.get("signatures")
        if not isinstance(signatures, list) or len(signatures) != 1 or not isinstance(signatures[0], dict):
            raise BundleInvalid(f"{where}: a bundle's DSSE envelope carries exactly one signature")
        payload_type = envelope.get("payloadType")
        if not isinstance(payload_type, str):
            raise BundleInvalid(f"{where}: dsseEnvelope.payloadType missing")
        return BundleParts(str(media_type), "dsse-envelope", kind, key_hint, cert, payload_type,
                           _b64(envelope.get("payload"), f"{where}: dsseEnvelope.payload"),
                           _b64(signatures[0].get("sig"), f"{where}: dsseEnvelope.signatures[0].sig"), len(entries))
    if "messageSignature" in data and "dsseEnvelope" not in data:
        message = data["messageSignature"]
        if not isinstance(message, dict):
            raise BundleInvalid(f"{where}: messageSignature must be an object")
        return BundleParts(str(media_type), "message-signature", kind, key_hint, cert, "", b"",
                           _b64(message.get("signature"), f"{where}: messageSignature.signature"), len(entries))
    raise BundleInvalid(f"{where}: expected exactly one of dsseEnvelope and messageSignature")


def _material(material: dict[str, Any], where: str) -> tuple[Material, str, bytes]:
    present = [k for k in ("certificate", "x509CertificateChain", "publicKey") if k in material]
    if len(present) != 1:
        raise BundleInvalid(f"{where}: verificationMaterial needs exactly one of certificate, "
                            "x509CertificateChain, publicKey")
    if present[0] == "publicKey":
        hint = material["publicKey"].get("hint") if isinstance(material["publicKey"], dict) else None
        if not isinstance(hint, str) or not hint:
            raise BundleInvalid(f"{where}: verificationMaterial.publicKey has no hint")
        return "public-key", hint, b""
    if present[0] == "certificate":
        cert = material["certificate"]
        raw = cert.get("rawBytes") if isinstance(cert, dict) else None
        return "certificate", "", _b64(raw, f"{where}: verificationMaterial.certificate.rawBytes")
    chain = material["x509CertificateChain"]
    certs = chain.get("certificates") if isinstance(chain, dict) else None
    if not isinstance(certs, list) or not certs or not isinstance(certs[0], dict):
        raise BundleInvalid(f"{where}: verificationMaterial.x509CertificateChain is empty")
    return "x509-chain", "", _b64(certs[0].get("rawBytes"), f"{where}: x509CertificateChain.certificates[0]")


def _b64(value: Any, where: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise BundleInvalid(f"{where}: missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BundleInvalid(f"{where}: not base64") from None
