"""Sigstore bundles in an OCI registry: OCI 1.1 referrers, the fallback tag index, classic tags.

A bundle is stored as an OCI image manifest that refers to the image (what cosign v3 and
`actions/attest` write, so their readers find ours and ours find theirs):

    {"mediaType": "application/vnd.oci.image.manifest.v1+json",
     "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
     "config": <the empty descriptor>, "layers": [<the bundle JSON>],
     "subject": <the image's descriptor>,
     "annotations": {"dev.sigstore.bundle.content": "dsse-envelope",
                     "dev.sigstore.bundle.predicateType": <type>, "org.opencontainers.image.created": <time>}}

A registry with the referrers API indexes it itself (and says so with `OCI-Subject`). One
without (CNCF distribution 2.x, Docker Hub) needs the client to maintain the fallback index, an
image index tagged `sha256-<hex of the image digest>`, by read-modify-write. Distribution has no
compare-and-swap (ETag/If-Match are not honoured on manifests), so two writers can overwrite each
other's update. What keeps an entry from ever being lost:

1. before touching the index, each writer tags its own referrer manifest
   `sha256-<image hex>.<16 hex of the referrer digest>.sigstore` (a tag nobody else writes);
2. each writer then loops: read the index, list those anchor tags, and if the index lacks any
   anchored referrer (its own or another writer's), write the merged index and look again; it
   stops only after a read that shows every anchored referrer.

The last index write of all is followed by its writer's check, which lists every anchor tag
pushed before it (each writer anchored before its first write), so the final index holds every
entry. Readers (`referrers()`) also merge the anchors, so even an index caught mid-race hides
nothing from devops. Other readers (cosign, Kyverno) read the index only.

Classic tags (`sha256-<hex>.sig` / `.att`, cosign's pre-1.1 layout: one manifest whose layers
are the simple-signing payloads or DSSE envelopes, with the signature, certificate and Rekor
bundle as layer annotations) are written on request for consumers of older verifiers.

Nothing read from the registry is trusted: manifests and blobs are checked against their digest,
descriptors are validated, a referrer must name the image it was listed for, sizes are capped.
"""

from __future__ import annotations

# This module is long because the fallback-index protocol above (anchor tags, the read-merge-
# write loop, readers merging anchors) is only convincing read in one piece next to the argument
# that it never loses an entry, and the classic layout shares its descriptors and digest checks.
import base64
import json
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from devops.adapters.registry import RegistryClient
from devops.adapters.sigstore.bundle import BUNDLE_MEDIA_TYPES, MAX_BUNDLE_BYTES, SignedBundle, read_bundle
from devops.adapters.sigstore.errors import BundleInvalid, RegistryConflict
from devops.errors import HttpError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_BLOB = b"{}"
ANNOTATION_CONTENT = "dev.sigstore.bundle.content"
ANNOTATION_PREDICATE = "dev.sigstore.bundle.predicateType"
ANNOTATION_CREATED = "org.opencontainers.image.created"
# cosign's classic layout (specs/SIGNATURE_SPEC.md)
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
COSIGN_SIGNATURE = "dev.cosignproject.cosign/signature"
COSIGN_CERTIFICATE = "dev.sigstore.cosign/certificate"
COSIGN_CHAIN = "dev.sigstore.cosign/chain"
COSIGN_BUNDLE = "dev.sigstore.cosign/bundle"
COSIGN_PREDICATE = "predicateType"
ANCHOR_SUFFIX = ".sigstore"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")

Via = Literal["referrers-api", "fallback-tag"]


@dataclass(frozen=True)
class Referrer:
    """A descriptor of an artifact that refers to an image."""

    digest: str
    artifact_type: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    media_type: str = OCI_MANIFEST

    @property
    def predicate_type(self) -> str:
        return self.annotations.get(ANNOTATION_PREDICATE, "")

    def descriptor(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size,
                               "artifactType": self.artifact_type}
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


@dataclass(frozen=True)
class Attached:
    referrer: Referrer
    via: Via
    index_writes: int  # fallback index PUTs this writer needed (0 with the referrers API)


@dataclass(frozen=True)
class ClassicLayer:
    """One layer of a classic `.sig`/`.att` manifest."""

    media_type: str
    data: bytes
    annotations: Mapping[str, str]


class AttestationStore:
    """Bundles of the images of one repository (`client`'s registry)."""

    def __init__(self, client: RegistryClient, repository: str, *, retries: int = 20,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.repository = repository
        self.retries = retries
        self._sleep = sleep

    # -- write
    def attach(self, subject_digest: str, bundle: SignedBundle, *, created: str | None = None) -> Attached:
        """Store `bundle` as a referrer of `subject_digest` and make sure readers can list it."""
        _check_digest(subject_digest)
        subject = self._subject(subject_digest)
        parts = read_bundle(bundle.data, where="bundle to attach")
        config = self.client.put_blob(self.repository, EMPTY_BLOB)
        layer = self.client.put_blob(self.repository, bundle.data)
        annotations = {
            ANNOTATION_CONTENT: parts.content,
            ANNOTATION_PREDICATE: bundle.predicate_type,
            ANNOTATION_CREATED: created or _now(),
        }
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": parts.media_type,
            "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": config, "size": len(EMPTY_BLOB)},
            "layers": [{"mediaType": parts.media_type, "digest": layer, "size": len(bundle.data)}],
            "subject": subject,
            "annotations": annotations,
        }
        content = _canonical(manifest)
        stored = self.client.put_manifest(self.repository, "sha256:" + _sha256_hex(content), content, OCI_MANIFEST)
        referrer = Referrer(stored.digest, parts.media_type, len(content), annotations)
        if stored.subject == subject_digest and self.client.referrers(self.repository, subject_digest) is not None:
            return Attached(referrer, "referrers-api", 0)
        self.client.put_manifest(self.repository, _anchor_tag(subject_digest, stored.digest), content, OCI_MANIFEST)
        writes = self._merge_index(subject_digest, [referrer])
        return Attached(referrer, "fallback-tag", writes)

    def _merge_index(self, subject_digest: str, own: Sequence[Referrer]) -> int:
        """Read-merge-write the fallback index until a read shows every anchored referrer."""
        tag = fallback_tag(subject_digest)
        for attempt in range(self.retries):  # `attempt` = index writes done so far
            index, current = self._read_index(subject_digest)
            present = {d["digest"] for d in current}
            wanted = {r.digest: r for r in [*own, *self._anchored(subject_digest, present)]}
            missing = [r.descriptor() for digest, r in wanted.items() if digest not in present]
            if not missing:
                return attempt
            index["manifests"] = current + missing
            self.client.put_manifest(self.repository, tag, _canonical(index), OCI_INDEX)
            # Give a racing writer time to land its write before we look again (correctness does
            # not depend on it, only the number of rounds does).
            self._sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        raise RegistryConflict(f"{self.client.host}/{self.repository}:{tag}: the referrers index kept changing "
                               f"under {self.retries} merges", hint="retry the release step")

    # -- read
    def referrers(self, subject_digest: str, *, bundles_only: bool = True) -> list[Referrer]:
        """What refers to `subject_digest`: the referrers API, else the fallback index merged with
        the anchor tags. Malformed descriptors are skipped (they cannot be fetched by digest)."""
        _check_digest(subject_digest)
        api = self.client.referrers(self.repository, subject_digest)
        if api is not None:
            found = [r for r in (_referrer(d) for d in api["manifests"]) if r]
        else:
            _, current = self._read_index(subject_digest)
            listed = [r for r in (_referrer(d) for d in current) if r]
            present = {r.digest for r in listed}
            found = listed + self._anchored(subject_digest, present)
        unique = list({r.digest: r for r in found}.values())
        if bundles_only:
            unique = [r for r in unique if r.artifact_type in BUNDLE_MEDIA_TYPES]
        return unique

    def fetch_bundle(self, subject_digest: str, referrer: Referrer) -> bytes:
        """The bundle a referrer carries, after checking the manifest refers to `subject_digest`."""
        where = f"{self.client.host}/{self.repository}@{referrer.digest}"
        manifest = self._manifest_json(referrer.digest, where)
        subject = manifest.get("subject")
        if not isinstance(subject, dict) or subject.get("digest") != subject_digest:
            raise BundleInvalid(f"{where}: listed as a referrer of {subject_digest} but its subject is "
                                f"{str(subject.get('digest') if isinstance(subject, dict) else None)[:80]}")
        layers = manifest.get("layers")
        if not isinstance(layers, list) or len(layers) != 1 or not isinstance(layers[0], dict):
            raise BundleInvalid(f"{where}: a bundle manifest has exactly one layer")
        layer = layers[0]
        if layer.get("mediaType") not in BUNDLE_MEDIA_TYPES or not _DIGEST.match(str(layer.get("digest"))):
            raise BundleInvalid(f"{where}: its layer is not a Sigstore bundle")
        size = layer.get("size")
        if not isinstance(size, int) or not 0 < size <= MAX_BUNDLE_BYTES:
            raise BundleInvalid(f"{where}: bundle layer size {size!r} out of range")
        return self.client.get_blob(self.repository, str(layer["digest"]), max_bytes=MAX_BUNDLE_BYTES)

    def bundles(self, subject_digest: str) -> list[tuple[Referrer, bytes]]:
        """Every bundle referring to `subject_digest` (unreadable ones raise BundleInvalid)."""
        return [(r, self.fetch_bundle(subject_digest, r)) for r in self.referrers(subject_digest)]

    # -- classic cosign tags
    def attach_classic(self, subject_digest: str, kind: Literal["sig", "att"], layer: ClassicLayer) -> str:
        """Add `layer` to the `sha256-<hex>.sig`/`.att` manifest (read-merge-write, retried until
        a read shows it). Returns the manifest digest. No anchors here: this layout is for older
        verifiers only and a lost layer is re-added by the next release of the same digest."""
        _check_digest(subject_digest)
        tag = f"{fallback_tag(subject_digest)}.{kind}"
        blob = self.client.put_blob(self.repository, layer.data)
        entry = {"mediaType": layer.media_type, "digest": blob, "size": len(layer.data),
                 "annotations": dict(layer.annotations)}
        for attempt in range(self.retries):
            found = self.client.get_manifest(self.repository, tag)
            layers: list[dict[str, Any]] = []
            if found is not None:
                current = _json_object(found.content, f"{tag}")
                if current.get("mediaType", found.media_type) != OCI_MANIFEST:
                    raise HttpError(f"{self.client.host}/{self.repository}:{tag} holds a {found.media_type}, not "
                                    "cosign's signature manifest; not overwriting it")
                layers = [x for x in current.get("layers", []) if isinstance(x, dict)]
            if any(x.get("digest") == blob and x.get("annotations") == entry["annotations"] for x in layers):
                return found.digest if found else ""
            layers.append(entry)
            config = _classic_config([str(x.get("digest")) for x in layers])
            config_digest = self.client.put_blob(self.repository, config)
            manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                        "config": {"mediaType": OCI_IMAGE_CONFIG, "digest": config_digest, "size": len(config)},
                        "layers": layers}
            self.client.put_manifest(self.repository, tag, _canonical(manifest), OCI_MANIFEST)
            self._sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        raise RegistryConflict(f"{self.client.host}/{self.repository}:{tag}: kept changing under {self.retries} merges")

    # -- helpers
    def _subject(self, digest: str) -> dict[str, Any]:
        found = self.client.get_manifest(self.repository, digest)
        if found is None:
            raise HttpError(f"{self.client.host}/{self.repository}@{digest}: no such image in the registry",
                            hint="attach bundles after the image is pushed")
        return {"mediaType": found.media_type or OCI_MANIFEST, "digest": digest, "size": len(found.content)}

    def _read_index(self, subject_digest: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        tag = fallback_tag(subject_digest)
        # Every manifest type is accepted: distribution answers 404 to a manifest whose type the Accept
        # header does not list, which would read as "no index yet" and overwrite the tag.
        found = self.client.get_manifest(self.repository, tag)
        if found is None:
            return {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}, []
        index = _json_object(found.content, f"{self.repository}:{tag}")
        if index.get("mediaType", found.media_type) != OCI_INDEX:
            raise HttpError(f"{self.client.host}/{self.repository}:{tag} holds a {found.media_type}, not a referrers "
                            "index; not overwriting it", hint="remove the tag if it is not yours")
        manifests = [d for d in index.get("manifests", []) if isinstance(d, dict)]
        return index, manifests

    def _anchored(self, subject_digest: str, present: set[str]) -> list[Referrer]:
        prefix = fallback_tag(subject_digest) + "."
        found = []
        for tag in self.client.tags(self.repository):
            if not (tag.startswith(prefix) and tag.endswith(ANCHOR_SUFFIX)):
                continue
            short = tag[len(prefix):-len(ANCHOR_SUFFIX)]
            if any(d.removeprefix("sha256:").startswith(short) for d in present):
                continue
            manifest = self.client.get_manifest(self.repository, tag)
            if manifest is None or not manifest.digest.removeprefix("sha256:").startswith(short):
                continue
            data = _json_object(manifest.content, f"{self.repository}:{tag}")
            annotations = data.get("annotations") if isinstance(data.get("annotations"), dict) else {}
            referrer = _referrer({"mediaType": OCI_MANIFEST, "digest": manifest.digest, "size": len(manifest.content),
                                  "artifactType": data.get("artifactType"), "annotations": annotations})
            if referrer:
                found.append(referrer)
        return found

    def _manifest_json(self, digest: str, where: str) -> dict[str, Any]:
        found = self.client.get_manifest(self.repository, digest)
        if found is None:
            raise BundleInvalid(f"{where}: listed but not in the registry")
        if len(found.content) > MAX_MANIFEST_BYTES:
            raise BundleInvalid(f"{where}: manifest over {MAX_MANIFEST_BYTES} bytes")
        return _json_object(found.content, where)


# -- classic layers ----------------------------------------------------------------------------

def simple_signing_payload(docker_reference: str, digest: str) -> bytes:
    """The payload `cosign sign` signed before v3 (containers/image simple signing)."""
    _check_digest(digest)
    payload = {"critical": {"identity": {"docker-reference": docker_reference},
                            "image": {"docker-manifest-digest": digest},
                            "type": "cosign container image signature"},
               "optional": None}
    return json.dumps(payload, separators=(",", ":")).encode()


def classic_signature_layer(payload: bytes, bundle: SignedBundle | None = None,
                            signature: bytes | None = None) -> ClassicLayer:
    """A `.sig` layer: `payload` signed keyless (a message-signature `bundle` of it) or with a key
    (`signature`, DER ECDSA)."""
    annotations: dict[str, str] = {}
    if bundle is not None:
        parts = read_bundle(bundle.data, where="classic signature bundle")
        if parts.content != "message-signature":
            raise BundleInvalid("classic signature bundle: expected a message signature of the payload")
        annotations.update(_classic_material(bundle.text, parts.certificate_der))
        signature = parts.signature
    if signature is None:
        raise BundleInvalid("classic signature: neither a bundle nor a signature")
    annotations[COSIGN_SIGNATURE] = base64.b64encode(signature).decode()
    return ClassicLayer(SIMPLE_SIGNING, payload, annotations)


def classic_attestation_layer(bundle: SignedBundle) -> ClassicLayer:
    """An `.att` layer: the bundle's DSSE envelope, with its certificate and Rekor entry."""
    data = json.loads(bundle.text)
    parts = read_bundle(bundle.data, where="classic attestation bundle")
    envelope = data.get("dsseEnvelope")
    if parts.content != "dsse-envelope" or not isinstance(envelope, dict):
        raise BundleInvalid("classic attestation bundle: expected a DSSE envelope")
    dsse = {"payloadType": envelope["payloadType"], "payload": envelope["payload"],
            "signatures": [{"keyid": "", "sig": envelope["signatures"][0]["sig"]}]}
    annotations = {COSIGN_SIGNATURE: "", COSIGN_PREDICATE: bundle.predicate_type}
    annotations.update(_classic_material(bundle.text, parts.certificate_der))
    return ClassicLayer(DSSE_ENVELOPE, json.dumps(dsse, separators=(",", ":")).encode(), annotations)


def _classic_material(text: str, certificate_der: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    if certificate_der:
        body = base64.encodebytes(certificate_der).decode().replace("\n", "")
        lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
        out[COSIGN_CERTIFICATE] = f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n"
    entries = json.loads(text).get("verificationMaterial", {}).get("tlogEntries") or []
    if entries and isinstance(entries[0], dict) and entries[0].get("inclusionPromise"):
        entry = entries[0]
        # cosign's "bundle" annotation: the Rekor SET and what it signs (SIGNATURE_SPEC.md).
        out[COSIGN_BUNDLE] = json.dumps({
            "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
            "Payload": {"body": entry["canonicalizedBody"], "integratedTime": int(entry["integratedTime"]),
                        "logIndex": int(entry["logIndex"]),
                        "logID": base64.b64decode(entry["logId"]["keyId"]).hex()},
        }, separators=(",", ":"))
    return out


def _classic_config(layer_digests: Sequence[str]) -> bytes:
    config = {"architecture": "", "os": "", "config": {}, "created": "0001-01-01T00:00:00Z",
              "history": [{"created": "0001-01-01T00:00:00Z"}],
              "rootfs": {"type": "layers", "diff_ids": list(layer_digests)}}
    return _canonical(config)


# -- small helpers -----------------------------------------------------------------------------

def fallback_tag(digest: str) -> str:
    """The referrers tag schema: `sha256:<hex>` -> `sha256-<hex>` (distribution-spec)."""
    _check_digest(digest)
    return digest.replace(":", "-", 1)


def _anchor_tag(subject_digest: str, referrer_digest: str) -> str:
    return f"{fallback_tag(subject_digest)}.{referrer_digest.removeprefix('sha256:')[:16]}{ANCHOR_SUFFIX}"


def _referrer(descriptor: Any) -> Referrer | None:
    if not isinstance(descriptor, dict):
        return None
    digest, size = descriptor.get("digest"), descriptor.get("size")
    artifact_type = descriptor.get("artifactType")
    if not isinstance(digest, str) or not _DIGEST.match(digest) or not isinstance(size, int) or size < 0:
        return None
    annotations = descriptor.get("annotations")
    clean = {str(k): str(v) for k, v in annotations.items()} if isinstance(annotations, dict) else {}
    return Referrer(digest, artifact_type if isinstance(artifact_type, str) else "", size, clean,
                    str(descriptor.get("mediaType", OCI_MANIFEST)))


def _json_object(content: bytes, where: str) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise BundleInvalid(f"{where}: not JSON") from None
    if not isinstance(data, dict):
        raise BundleInvalid(f"{where}: expected a JSON object")
    return data


def _canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def _sha256_hex(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _check_digest(digest: str) -> None:
    if not _DIGEST.match(digest):
        raise BundleInvalid(f"{digest[:80]!r}: expected an image digest sha256:<64 hex>")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
