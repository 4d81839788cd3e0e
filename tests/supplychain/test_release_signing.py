"""Signing after a release and verifying before promotion, end to end: `devops release --env dev`
on the real Docker engine, local registry (no referrers API: the fallback index), Trivy with a
planted DB and a bare git GitOps remote; `devops attest` signs keyless against the local
Fulcio/Rekor (@sigstore/mock over HTTP, tests/support/sigstore) or with a local P-256 key; npm
@sigstore/verify (not written here) checks what devops wrote; `devops release --env prod` and
`devops verify-signatures` verify it. Every refusal has its control.

The mock does not verify the OIDC token's signature (real Fulcio does): that part of the chain is
not exercised here (docs/supply-chain.md, "What could not be checked here")."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devops.adapters.registry import RegistryClient
from devops.adapters.sigstore.keys import KeyPair, generate_key_pair, load_private_key, sign_statement_with_key
from devops.adapters.sigstore.oci import AttestationStore, fallback_tag
from devops.domain.attestation.predicates import EvidenceKind, sbom_statement, sonar_statement
from tests.release.conftest import SERVICES, Shop, clean_db, make_gitops_remote  # noqa: F401 - clean_db: a fixture
from tests.support.cli import Outcome, run_cli
from tests.support.project import commit_all, config_text, git, make_project
from tests.support.sigstore import GITHUB_ISSUER, MockSigstore, npm_verify

pytestmark = [pytest.mark.docker, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
ALL = [k.value for k in EvidenceKind]


@dataclass
class Released:
    shop: Shop
    digests: dict[str, str]
    key: KeyPair
    keys: Path
    mock: MockSigstore
    env: dict[str, str]

    def write_config(self, *, signing: str = "keyless", policy: str | None = "keyless", **policy_args: Any) -> None:
        prod = textwrap.indent(self.policy(policy, **policy_args), " " * 4) if policy else ""
        environments = textwrap.dedent(f"""\
            environments:
              dev:
                url: http://dev.localhost
                cluster: {{name: test-dev}}
                gitops: {{repo: "{self.shop.remote}", branch: main, path: gitops/environments/dev}}
              prod:
                url: http://prod.localhost
                cluster: {{name: test-prod}}
                gitops: {{repo: "{self.shop.remote}", branch: main, path: gitops/environments/prod, mode: commit}}
                promote_from: dev
                auto_sync: false
                evidence: {{scan_max_age_days: null, require_verification: true}}
            """) + prod + textwrap.dedent(f"""\
            gates:
              cache_dir: .devops/cache/scan
              scan: {{severities: [CRITICAL, HIGH], scanners: [vuln]}}
              trivy: {{cache_dir: "{self.shop.trivy_cache}", offline: true, timeout_seconds: 120}}
            """)
        signing_block = (f'signing: {{method: keyless, trust_config: "{self.mock.trust_config_path}"}}\n'
                         if signing == "keyless" else f'signing: {{method: key, key: "{self.keys / "signing.key"}"}}\n')
        text = config_text(namespace=self.shop.namespace, services=SERVICES, registry=self.shop.registry,
                           environments=environments, extra=signing_block)
        (self.shop.root / "pipelines" / "devops.yaml").write_text(text)

    def policy(self, kind: str, *, identity: str | None = None, required: list[str] | None = None) -> str:
        lines = ["signatures:"]
        if required is not None:
            lines.append(f"  required: [{', '.join(required)}]")
        if kind == "keyless":
            lines += ["  keyless:", f"    issuer: {GITHUB_ISSUER}",
                      f"    identity: {identity or self.mock.identity()}",
                      "    repository: techitfactory/techitfactory-shop",
                      f'    trusted_root: "{self.mock.trusted_root_path}"']
        else:
            lines.append(f'  key: "{self.keys / "signing.pub"}"')
        return "\n".join(lines) + "\n"

    def cli(self, *args: str) -> Outcome:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in {**self.env, "SIGSTORE_ID_TOKEN": self.mock.token()}.items():
                patch.setenv(name, value)
            patch.delenv("SONAR_TOKEN", raising=False)
            return run_cli(*args, cwd=self.shop.root)

    def repository(self, service: str) -> str:
        return f"{self.shop.registry}/{self.shop.namespace}/{service}"

    def store(self, service: str) -> AttestationStore:
        return AttestationStore(RegistryClient(self.shop.registry, insecure=True), f"{self.shop.namespace}/{service}")


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory, registry: str, standin_build_args: dict[str, str],
             clean_db: Path, mock_sigstore: MockSigstore) -> Iterator[Released]:  # noqa: F811 - the fixture
    tmp = tmp_path_factory.mktemp("signing")
    namespace = f"s{uuid.uuid4().hex[:10]}"
    root = make_project(tmp / "shop", namespace=namespace, registry=registry, services=SERVICES, commit=False)
    shop = Shop(root, make_gitops_remote(tmp, registry, namespace), namespace, registry, clean_db)
    keys = tmp / "keys"
    keys.mkdir()
    key = generate_key_pair()
    (keys / "signing.key").write_bytes(key.private_pem)
    (keys / "signing.pub").write_bytes(key.public_pem)
    env = {"DEVOPS_BUILD_ARGS": f"DEBIAN_IMAGE={standin_build_args['DEBIAN_IMAGE']}", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = Released(shop, {}, key, keys, mock_sigstore, env)
    done.write_config()
    (root / ".gitignore").write_text(".devops/\n")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "initial")
    release = done.cli("--json", "release", "--env", "dev")
    assert release.code == 0, release.err
    done.digests = {s["service"]: s["digest"] for s in release.json()["services"]}  # type: ignore[index]
    yield done
    images = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True,
                            text=True).stdout.split()
    mine = [image for image in images if f"/{namespace}/" in image]
    if mine:
        subprocess.run(["docker", "rmi", "-f", *mine], capture_output=True)


def verified_in_dev(released: Released) -> None:
    """What `devops verify --env dev --record` writes after a PASSED verification."""
    record = released.shop.record("dev")
    for service, digest in released.digests.items():
        record["services"][service]["verification"] = {
            "verdict": "PASSED", "verified_at": record["released_at"], "window": "10m", "failing": [],
            "environment": "dev", "digest": digest}
    released.shop.push_to_remote({"gitops/environments/dev/release.json": json.dumps(record, indent=2) + "\n"},
                                 "verify(dev): PASSED")


def kinds(outcome: Outcome, service: str) -> dict[str, str]:
    result: Any = outcome.json()
    found = next(s for s in result["services"] if s["service"] == service)
    return {k["kind"]: k["status"] for k in found["kinds"]}


def index_digests(released: Released, service: str) -> set[str]:
    """The fallback index as other readers (cosign, @sigstore/oci) see it: the tag only, no anchors."""
    store = released.store(service)
    found = store.client.get_manifest(store.repository, fallback_tag(released.digests[service]))
    assert found is not None
    return {d["digest"] for d in json.loads(found.content)["manifests"]}


# -- keyless, end to end ------------------------------------------------------------------------


def test_attest_signs_every_kind_keyless_and_the_verification_once_recorded(released: Released) -> None:
    first = released.cli("--json", "attest", "--env", "dev", "--services", "alpha")
    assert first.code == 0, first.err
    statuses = kinds(first, "alpha")
    assert statuses == {**{k: "signed" for k in ALL if k != "verification"}, "verification": "skipped"}
    assert first.json()["signer"] == released.mock.identity()  # type: ignore[index]
    verified_in_dev(released)
    second = released.cli("--json", "attest", "--env", "dev", "--services", "alpha")
    assert second.code == 0, second.err
    assert kinds(second, "alpha") == {**{k: "present" for k in ALL if k != "verification"}, "verification": "signed"}
    assert len(index_digests(released, "alpha")) == 6


def test_npm_sigstore_verify_accepts_every_bundle_devops_wrote(released: Released, tmp_path: Path) -> None:
    digest = released.digests["alpha"]
    found = released.store("alpha").bundles(digest)
    assert len(found) == 6
    for referrer, data in found:
        path = tmp_path / f"{referrer.digest[7:19]}.json"
        path.write_bytes(data)
        verdict = npm_verify(path, released.mock.trusted_root_path, identity=released.mock.identity(),
                             issuer=GITHUB_ISSUER)
        assert verdict["verified"] is True, verdict
        statement = json.loads(base64.b64decode(verdict["payload"]))
        assert statement["subject"][0]["digest"]["sha256"] == digest.removeprefix("sha256:")
        assert statement["predicateType"] == referrer.predicate_type
    other = npm_verify(path, released.mock.trusted_root_path,
                       identity=released.mock.identity(workflow=".github/workflows/other.yml"), issuer=GITHUB_ISSUER)
    assert other["verified"] is False  # the control: another identity is refused by @sigstore/verify too


def test_prod_promotion_verifies_the_bundles_and_records_them(released: Released) -> None:
    before = released.shop.commits()
    refused = released.cli("release", "--env", "prod", "--services", "alpha", "--dry-run")
    assert refused.code == 0, refused.err  # dry run: checks everything, writes nothing
    assert released.shop.commits() == before
    promoted = released.cli("--json", "release", "--env", "prod", "--services", "alpha")
    assert promoted.code == 0, promoted.err
    entry = released.shop.record("prod")["services"]["alpha"]
    assert entry["signatures"]["verdict"] == "PASSED" and set(entry["signatures"]["bundles"]) == set(ALL)
    assert set(entry["signatures"]["bundles"].values()) == index_digests(released, "alpha")
    assert released.mock.identity() in entry["signatures"]["policy"]
    service: Any = next(s for s in promoted.json()["services"] if s["service"] == "alpha")  # type: ignore[index]
    assert service["signatures"] == entry["signatures"]
    checked = released.cli("--json", "verify-signatures", "--env", "prod")
    assert checked.code == 0, checked.err
    result: Any = checked.json()
    assert result["verdict"] == "PASSED" and [s["service"] for s in result["services"]] == ["alpha"]
    assert result["skipped"] == [{"service": "beta", "reason": "nothing deployed (its values file names no digest)"}]


def test_another_workflow_identity_is_refused(released: Released) -> None:
    other = released.mock.identity(workflow=".github/workflows/other.yml")
    released.write_config(identity=other)
    try:
        before = released.shop.commits()
        refused = released.cli("release", "--env", "prod", "--services", "alpha", "--dry-run")
        assert refused.code == 1, refused.err
        digest = released.digests["alpha"]
        assert f"alpha {digest}: signature:" in refused.err and f"does not verify for identity {other}" in refused.err
        assert released.shop.commits() == before
        dev = released.cli("verify-signatures", "--env", "dev", "--policy", "prod", "--services", "alpha")
        assert dev.code == 1 and "provenance:" in dev.err
    finally:
        released.write_config()


# -- a local key: refusals with their controls, classic tags, racing signers --------------------


def test_key_signing_with_classic_tags_and_the_refusals_of_a_partial_set(released: Released, tmp_path: Path) -> None:
    released.write_config(signing="key", policy="key")
    beta, digest = "beta", released.digests["beta"]
    try:
        signed = released.cli("--json", "attest", "--env", "dev", "--services", beta, "--classic-tags",
                              "--kind", "signature", "--kind", "provenance", "--kind", "vulnerabilities",
                              "--kind", "verification")
        assert signed.code == 0, signed.err
        assert set(kinds(signed, beta).values()) == {"signed"}
        tags = released.store(beta).client.tags(f"{released.shop.namespace}/{beta}")
        assert {f"{fallback_tag(digest)}.sig", f"{fallback_tag(digest)}.att"} <= set(tags)
        check_classic_tags(released, beta, tmp_path)

        # missing evidence kinds: named, nothing written
        before = released.shop.commits()
        missing = released.cli("release", "--env", "prod", "--services", beta)
        assert missing.code == 1
        assert f"beta {digest}: sbom: no sbom attestation signed by key" in missing.err
        assert "sonar: no sonar attestation" in missing.err
        assert released.shop.commits() == before

        # an attestation about another digest, and one whose subject was tampered with
        store, key = released.store(beta), load_private_key(released.key.private_pem)
        alpha_digest = released.digests["alpha"]
        store.attach(digest, sign_statement_with_key(
            sonar_statement(alpha_digest, name=released.repository(beta), verdict="SKIPPED", project_key="p"), key))
        good = sign_statement_with_key(sbom_statement(alpha_digest, name=released.repository(beta),
                                                      bom={"bomFormat": "CycloneDX", "specVersion": "1.6"}), key)
        store.attach(digest, tampered(good, alpha_digest, digest))
        refused = released.cli("release", "--env", "prod", "--services", beta)
        assert refused.code == 1
        assert f"is about sha256:{alpha_digest[7:19]}" in refused.err and f"not {digest}" in refused.err
        assert "sbom: bundle sha256:" in refused.err and "the signature does not verify" in refused.err

        # control: the missing kinds signed properly, the key policy accepts beta
        rest = released.cli("attest", "--env", "dev", "--services", beta, "--kind", "sbom", "--kind", "sonar")
        assert rest.code == 0, rest.err
        promoted = released.cli("release", "--env", "prod", "--services", beta)
        assert promoted.code == 0, promoted.err
        assert released.shop.record("prod")["services"][beta]["signatures"]["policy"].startswith("key ")

        # the same key bundles, offered to a keyless-only policy
        released.write_config(signing="key", policy="keyless")
        keyless_only = released.cli("verify-signatures", "--env", "prod", "--services", beta)
        assert keyless_only.code == 1 and "signed with a local key" in keyless_only.err
        control = released.cli("verify-signatures", "--env", "prod", "--services", "alpha")
        assert control.code == 0, control.err
    finally:
        released.write_config()


def tampered(bundle: Any, old: str, new: str) -> Any:
    """The bundle with its statement's subject digest replaced (the signature left as it was)."""
    data = json.loads(bundle.text)
    payload = base64.b64decode(data["dsseEnvelope"]["payload"]).replace(old[7:].encode(), new[7:].encode())
    data["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()
    return type(bundle)(json.dumps(data), bundle.predicate_type, (new,), bundle.signer)


def check_classic_tags(released: Released, service: str, tmp_path: Path) -> None:
    """cosign's `.sig`: the simple-signing payload's ECDSA signature checks with openssl and the
    public key; `.att`: one DSSE envelope per signed kind."""
    store, digest = released.store(service), released.digests[service]
    client = store.client
    sig = json.loads(client.get_manifest(store.repository, f"{fallback_tag(digest)}.sig").content)  # type: ignore[union-attr]
    [layer] = sig["layers"]
    payload = client.get_blob(store.repository, layer["digest"], max_bytes=4096)
    assert json.loads(payload)["critical"]["image"]["docker-manifest-digest"] == digest
    (tmp_path / "payload").write_bytes(payload)
    (tmp_path / "sig").write_bytes(base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"]))
    (tmp_path / "pub.pem").write_bytes(released.key.public_pem)
    ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "payload"],
                        cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0 and "Verified OK" in ok.stdout
    (tmp_path / "payload").write_bytes(payload.replace(digest[7:].encode(), b"0" * 64))
    bad = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "payload"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0  # the control: another digest does not verify
    att = json.loads(client.get_manifest(store.repository, f"{fallback_tag(digest)}.att").content)  # type: ignore[union-attr]
    assert [x["mediaType"] for x in att["layers"]] == ["application/vnd.dsse.envelope.v1+json"] * 4
    assert {x["annotations"]["predicateType"] for x in att["layers"]} == {
        EvidenceKind(k).predicate_type for k in ("signature", "provenance", "vulnerabilities", "verification")}


def test_two_attest_commands_racing_on_the_fallback_index_lose_nothing(released: Released) -> None:
    released.write_config(signing="key", policy="key")
    try:
        env = {**os.environ, **released.env, "PYTHONPATH": str(ROOT)}
        env.pop("SONAR_TOKEN", None)
        commands = [[sys.executable, "-m", "devops", "--json", "attest", "--env", "dev", "--services", "alpha",
                     "--force", *[arg for kind in group for arg in ("--kind", kind)]]
                    for group in (ALL[:3], ALL[3:])]
        processes = [subprocess.Popen(c, cwd=released.shop.root, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for c in commands]
        outputs = [p.communicate(timeout=300) for p in processes]
        assert [p.returncode for p in processes] == [0, 0], [err for _, err in outputs]
        written = {k["referrer"] for out, _ in outputs for k in json.loads(out)["services"][0]["kinds"]}
        assert len(written) == 6
        assert written <= index_digests(released, "alpha"), "a racing writer's entry was lost from the index"
    finally:
        released.write_config()


def test_a_registry_that_cannot_be_read_is_exit_3(released: Released) -> None:
    from tests.support.stack import free_port

    released.env["DEVOPS_REGISTRY_HOST"] = f"127.0.0.1:{free_port()}"
    try:
        down = released.cli("verify-signatures", "--env", "prod", "--services", "alpha")
        assert down.code == 3, down.err
        assert released.env["DEVOPS_REGISTRY_HOST"] in down.err and "cannot connect" in down.err
    finally:
        del released.env["DEVOPS_REGISTRY_HOST"]
    assert released.cli("verify-signatures", "--env", "prod", "--services", "alpha").code == 0  # the control
