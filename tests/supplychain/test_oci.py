"""Bundles as OCI 1.1 referrers in the real local registry (CNCF distribution from Debian, which
has no referrers API, so the `sha256-<hex>` fallback index is used), two writers racing on that
index, bundles attached by npm @sigstore/oci found and verified by devops, and cosign's classic
`.sig` tag checked with openssl."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
from pathlib import Path

import pytest

from devops.adapters.registry import RegistryClient
from devops.adapters.sigstore.bundle import BUNDLE_V03, SignedBundle
from devops.adapters.sigstore.errors import BundleInvalid
from devops.adapters.sigstore.keyless import keyless_signer
from devops.adapters.sigstore.keys import generate_key_pair, load_private_key, sign_statement_with_key
from devops.adapters.sigstore.oci import (
    OCI_INDEX,
    AttestationStore,
    classic_attestation_layer,
    classic_signature_layer,
    fallback_tag,
    simple_signing_payload,
)
from devops.adapters.sigstore.verify import GITHUB_ISSUER, IdentityPolicy, KeyPolicy, verify_statement
from devops.domain.attestation import EvidenceKind, evidence, require_pass, signature_statement, sonar_statement
from devops.errors import HttpError
from tests.supplychain.conftest import Image
from tests.support.sigstore import MockSigstore, run_node

pytestmark = pytest.mark.docker

KEY = generate_key_pair()


def key_bundle(digest: str, project: str = "cart") -> SignedBundle:
    statement = sonar_statement(digest, name="cart", verdict="PASSED", project_key=project, quality_gate="OK")
    return sign_statement_with_key(statement, load_private_key(KEY.private_pem))


def index_digests(image: Image) -> set[str]:
    found = image.client.get_manifest(image.repository, fallback_tag(image.digest))
    assert found is not None
    return {d["digest"] for d in json.loads(found.content)["manifests"]}


def test_the_registry_has_no_referrers_api(image: Image) -> None:
    assert image.client.referrers(image.repository, image.digest) is None


def test_a_bundle_is_stored_as_a_referrer_and_found_again(image: Image) -> None:
    store = AttestationStore(image.client, image.repository)
    bundle = key_bundle(image.digest)
    attached = store.attach(image.digest, bundle)
    assert attached.via == "fallback-tag" and attached.index_writes == 1
    manifest = json.loads(image.client.get_manifest(image.repository, attached.referrer.digest).content)
    assert manifest["artifactType"] == BUNDLE_V03 and manifest["subject"]["digest"] == image.digest
    assert manifest["annotations"]["dev.sigstore.bundle.predicateType"].endswith("#sonar-gate-v1")
    assert manifest["annotations"]["dev.sigstore.bundle.content"] == "dsse-envelope"
    assert index_digests(image) == {attached.referrer.digest}
    [(referrer, data)] = store.bundles(image.digest)
    verified = verify_statement(data, KeyPolicy(KEY.public_pem))
    assert require_pass(evidence(verified.statement, image.digest, EvidenceKind.SONAR)).passed
    # attaching the same bundle again changes nothing
    again = store.attach(image.digest, bundle, created=manifest["annotations"]["org.opencontainers.image.created"])
    assert again.referrer.digest == referrer.digest and again.index_writes == 0


def test_an_image_with_no_bundles_has_no_referrers(image: Image) -> None:
    assert AttestationStore(image.client, image.repository).referrers(image.digest) == []


class ForcedInterleaving(RegistryClient):
    """Both writers read the index before either writes it (a barrier on the first read), the
    interleaving that loses an update without a compare-and-swap."""

    barrier: threading.Barrier | None = None

    def get_manifest(self, repository, reference, accept=None):  # type: ignore[no-untyped-def,override]
        found = super().get_manifest(repository, reference)
        if reference.startswith("sha256-") and "." not in reference and self.barrier is not None:
            barrier, self.barrier = self.barrier, None
            barrier.wait(timeout=30)
        return found


def race(image: Image, write) -> list[str]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def writer(project: str) -> None:
        client = ForcedInterleaving(host=image.host, insecure=True)
        client.barrier = barrier
        try:
            results.append(write(client, project))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(p,)) for p in ("cart", "order")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_without_a_merge_loop_racing_writers_lose_an_entry(image: Image) -> None:
    """Control: the hazard is real in this registry (no If-Match): a plain read-append-write
    under the forced interleaving keeps only the last writer's entry."""
    from tests.supplychain.conftest import push_image

    def naive(client: RegistryClient, project: str) -> str:
        tag = fallback_tag(image.digest)
        digest = push_image(client, image.repository, project)  # an index may only list existing manifests
        found = client.get_manifest(image.repository, tag)
        index = json.loads(found.content) if found else {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
        size = len(client.get_manifest(image.repository, digest).content)
        index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
                                   "size": size, "artifactType": BUNDLE_V03})
        client.put_manifest(image.repository, tag, json.dumps(index).encode(), OCI_INDEX)
        return digest

    written = race(image, naive)
    assert len(index_digests(image)) == 1 < len(set(written))


def test_two_writers_racing_on_the_fallback_index_lose_nothing(image: Image) -> None:
    def attach(client: RegistryClient, project: str) -> str:
        return AttestationStore(client, image.repository).attach(image.digest, key_bundle(image.digest, project)).referrer.digest

    written = race(image, attach)
    assert len(set(written)) == 2
    assert index_digests(image) == set(written)
    assert {r.digest for r in AttestationStore(image.client, image.repository).referrers(image.digest)} == set(written)


def test_many_writers_in_processes_lose_nothing(image: Image, tmp_path: Path) -> None:
    """Four processes, three bundles each, no forced order: the index ends with all twelve."""
    script = tmp_path / "writer.py"
    script.write_text(
        "import sys\n"
        "from devops.adapters.registry import RegistryClient\n"
        "from devops.adapters.sigstore.oci import AttestationStore\n"
        "from tests.supplychain.test_oci import key_bundle\n"
        "host, repo, digest, who = sys.argv[1:]\n"
        "store = AttestationStore(RegistryClient(host=host, insecure=True), repo)\n"
        "for n in range(3):\n"
        "    print(store.attach(digest, key_bundle(digest, f'{who}-{n}')).referrer.digest)\n")
    root = Path(__file__).resolve().parents[2]
    procs = [subprocess.Popen(["python", str(script), image.host, image.repository, image.digest, str(w)],
                              cwd=root, env={**__import__("os").environ, "PYTHONPATH": str(root)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(4)]
    written = set()
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        written.update(out.split())
    assert len(written) == 12
    assert index_digests(image) == written


def test_a_referrer_listed_for_another_image_is_refused(image: Image, registry: str) -> None:
    """A hostile index entry pointing at a bundle of another digest is not taken as evidence."""
    from tests.supplychain.conftest import push_image

    store = AttestationStore(image.client, image.repository)
    other = push_image(image.client, image.repository, "other")
    foreign = store.attach(other, key_bundle(other)).referrer
    tag = fallback_tag(image.digest)
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [foreign.descriptor()]}
    image.client.put_manifest(image.repository, tag, json.dumps(index).encode(), OCI_INDEX)
    [listed] = store.referrers(image.digest)
    with pytest.raises(BundleInvalid, match="subject"):
        store.fetch_bundle(image.digest, listed)
    assert store.fetch_bundle(other, foreign)  # control: fine for its own image


def test_a_tag_that_is_not_an_index_is_not_overwritten(image: Image) -> None:
    tag = fallback_tag(image.digest)
    original = image.client.get_manifest(image.repository, "v1")
    image.client.put_manifest(image.repository, tag, original.content, original.media_type)
    with pytest.raises(HttpError, match="not a referrers index"):
        AttestationStore(image.client, image.repository).attach(image.digest, key_bundle(image.digest))
    assert image.client.get_manifest(image.repository, tag).digest == original.digest


def test_bundles_attached_by_npm_sigstore_oci_are_found_and_verified(image: Image, mock_sigstore: MockSigstore,
                                                                     mock_root, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # devops attaches one first, so @sigstore/oci must merge into an existing index
    store = AttestationStore(image.client, image.repository)
    ours = store.attach(image.digest, key_bundle(image.digest)).referrer
    statement = signature_statement(image.digest, name=image.reference)
    (tmp_path / "statement.json").write_bytes(statement.to_json())
    (tmp_path / "token").write_text(mock_sigstore.token())
    signed = run_node("sign.js", "--fulcio", mock_sigstore.fulcio_url, "--rekor", mock_sigstore.rekor_url,
                      "--token-file", str(tmp_path / "token"), "--statement", str(tmp_path / "statement.json"))
    assert signed.returncode == 0, signed.stderr
    (tmp_path / "bundle.json").write_text(signed.stdout)
    attached = run_node("attach.js", "--image", image.reference, "--digest", image.digest,
                        "--bundle", str(tmp_path / "bundle.json"), "--predicate-type", statement.predicate_type)
    assert attached.returncode == 0, attached.stderr
    theirs = json.loads(attached.stdout)["digest"]
    referrers = {r.digest: r for r in store.referrers(image.digest)}
    assert set(referrers) == {ours.digest, theirs}
    assert referrers[theirs].predicate_type == "https://sigstore.dev/cosign/sign/v1"
    policy = IdentityPolicy(GITHUB_ISSUER, mock_sigstore.identity(), repository="techitfactory/techitfactory-shop")
    verified = verify_statement(store.fetch_bundle(image.digest, referrers[theirs]), policy, trusted_root=mock_root)
    assert evidence(verified.statement, image.digest, EvidenceKind.SIGNATURE).passed


def test_classic_sig_tag_verifies_with_openssl(image: Image, mock_sigstore: MockSigstore, trust_config,  # type: ignore[no-untyped-def]
                                               tmp_path: Path) -> None:
    store = AttestationStore(image.client, image.repository)
    payload = simple_signing_payload(image.reference, image.digest)
    with keyless_signer(mock_sigstore.token(), trust_config) as signer:
        layer = classic_signature_layer(payload, signer.sign_blob(payload))
        attestation = classic_attestation_layer(signer.sign(signature_statement(image.digest, name=image.reference)))
    store.attach_classic(image.digest, "sig", layer)
    store.attach_classic(image.digest, "att", attestation)
    store.attach_classic(image.digest, "sig", layer)  # idempotent
    sig = json.loads(image.client.get_manifest(image.repository, f"{fallback_tag(image.digest)}.sig").content)
    [entry] = sig["layers"]
    assert entry["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    assert json.loads(image.client.get_blob(image.repository, entry["digest"], max_bytes=4096))["critical"]["image"] == {
        "docker-manifest-digest": image.digest}
    bundle_annotation = json.loads(entry["annotations"]["dev.sigstore.cosign/bundle"])
    assert {"SignedEntryTimestamp", "Payload"} <= set(bundle_annotation)
    (tmp_path / "payload").write_bytes(image.client.get_blob(image.repository, entry["digest"], max_bytes=4096))
    (tmp_path / "sig").write_bytes(base64.b64decode(entry["annotations"]["dev.cosignproject.cosign/signature"]))
    (tmp_path / "cert.pem").write_text(entry["annotations"]["dev.sigstore.cosign/certificate"])
    subprocess.run(["openssl", "x509", "-in", "cert.pem", "-pubkey", "-noout", "-out", "pub.pem"], cwd=tmp_path,
                   check=True)
    ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "payload"],
                        cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0 and "Verified OK" in ok.stdout
    (tmp_path / "payload").write_bytes(payload.replace(image.digest.encode(), ("sha256:" + "0" * 64).encode()))
    bad = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "payload"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0
    att = json.loads(image.client.get_manifest(image.repository, f"{fallback_tag(image.digest)}.att").content)
    [att_layer] = att["layers"]
    assert att_layer["mediaType"] == "application/vnd.dsse.envelope.v1+json"
    assert att_layer["annotations"]["predicateType"] == "https://sigstore.dev/cosign/sign/v1"


def test_with_a_referrers_api_no_fallback_index_is_written(image: Image) -> None:
    """Against a stand-in registry that has the referrers API (referrers_registry.py: the real
    registry behind a proxy implementing distribution-spec 1.1's OCI-Subject and referrers
    endpoint), the bundle is found through the API and neither the index nor an anchor is written."""
    from tests.supplychain.referrers_registry import referrers_registry

    with referrers_registry(image.host) as (host, served):
        client = RegistryClient(host=host, insecure=True)
        store = AttestationStore(client, image.repository)
        bundle = key_bundle(image.digest)
        attached = store.attach(image.digest, bundle)
        assert attached.via == "referrers-api" and attached.index_writes == 0
        [found] = store.referrers(image.digest)
        assert found.digest == attached.referrer.digest and found.predicate_type == bundle.predicate_type
        assert verify_statement(store.fetch_bundle(image.digest, found), KeyPolicy(KEY.public_pem))
    assert image.client.get_manifest(image.repository, fallback_tag(image.digest)) is None
    assert not [t for t in image.client.tags(image.repository) if t.startswith(fallback_tag(image.digest))]
    assert any("/referrers/" in path for path in served)
