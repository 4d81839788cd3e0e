"""Signing with a local P-256 key pair (development and the demo; no Fulcio, no Rekor).

The bundle is a v0.3 Sigstore bundle whose verification material is a public-key hint (the
hex SHA-256 of the key's DER SubjectPublicKeyInfo) and whose content is a DSSE envelope of the
in-toto statement, signed with ECDSA P-256 / SHA-256 over the DSSE PAE: the shape
protobuf-specs defines and @sigstore/verify accepts with the key. It has no transparency log
entry, so its time is unproven; that is why a key bundle is accepted only when a policy names
that exact key (verify.KeyPolicy), never by an identity policy.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from devops.adapters.sigstore.bundle import BUNDLE_V03, SignedBundle, pae
from devops.adapters.sigstore.errors import KeyInvalid
from devops.domain.attestation.statement import PAYLOAD_TYPE, Statement


@dataclass(frozen=True)
class KeyPair:
    private_pem: bytes
    public_pem: bytes


def generate_key_pair(password: bytes | None = None) -> KeyPair:
    """A new P-256 key pair in PEM (PKCS#8, encrypted when a password is given)."""
    key = ec.generate_private_key(ec.SECP256R1())
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return KeyPair(private, public_pem(key.public_key()))


def load_private_key(pem: bytes, password: bytes | None = None, *,
                     where: str = "private key") -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except TypeError as exc:  # password given for an unencrypted key, or missing for an encrypted one
        raise KeyInvalid(f"{where}: {exc}") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyInvalid(f"{where}: not a PEM private key (or the password is wrong)") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyInvalid(f"{where}: expected an ECDSA P-256 key")
    return key


def load_public_key(pem: bytes, *, where: str = "public key") -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyInvalid(f"{where}: not a PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyInvalid(f"{where}: expected an ECDSA P-256 public key")
    return key


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_hint(key: ec.EllipticCurvePublicKey) -> str:
    """The hint a bundle names its key by: hex SHA-256 of the DER SubjectPublicKeyInfo."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def sign_statement_with_key(statement: Statement, key: ec.EllipticCurvePrivateKey) -> SignedBundle:
    """A v0.3 bundle of `statement` signed by `key` (DSSE, public-key hint, no tlog entry)."""
    payload = statement.to_json()
    signature = key.sign(pae(PAYLOAD_TYPE, payload), ec.ECDSA(hashes.SHA256()))
    hint = key_hint(key.public_key())
    bundle = {
        "mediaType": BUNDLE_V03,
        "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": []},
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": base64.b64encode(signature).decode()}],
        },
    }
    return SignedBundle(json.dumps(bundle, separators=(",", ":")), statement.predicate_type,
                        statement.digests, f"key:{hint}")


def sign_blob_with_key(data: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    """A raw ECDSA P-256 / SHA-256 signature (DER) of `data`: cosign's classic `.sig` layer."""
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def read_key_file(path: Path, *, key: str) -> bytes:
    """The bytes of a PEM key file a configuration key names; KeyInvalid (exit 2) naming both."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyInvalid(f"{key}: {path}: cannot be read ({exc.strerror})") from None
    if len(data) > 64 * 1024:
        raise KeyInvalid(f"{key}: {path}: {len(data)} bytes is not a PEM key")
    return data


def read_public_key(path: Path, *, key: str) -> bytes:
    """A P-256 public key file, checked (KeyInvalid, exit 2, naming the key and the file)."""
    data = read_key_file(path, key=key)
    load_public_key(data, where=f"{key}: {path}")
    return data


def ensure_key_pair(folder: Path, name: str = "signing") -> tuple[Path, Path]:
    """`<name>.key` (PKCS#8, unencrypted, owner-only) and `<name>.pub` in `folder`: the pair found
    there, or a new P-256 pair (the demo's local signer; never for production)."""
    private, public = folder / f"{name}.key", folder / f"{name}.pub"
    if private.is_file() and public.is_file():
        key = load_private_key(private.read_bytes(), where=str(private))
        if key_hint(key.public_key()) == key_hint(load_public_key(public.read_bytes(), where=str(public))):
            return private, public
    folder.mkdir(parents=True, exist_ok=True)
    pair = generate_key_pair()
    private.touch(mode=0o600)
    private.chmod(0o600)
    private.write_bytes(pair.private_pem)
    public.write_bytes(pair.public_pem)
    return private, public
