"""`devops release`, promotion, `status` and `rollback` on real components: the Docker engine,
the local registry, Trivy with a planted DB, git with a bare GitOps remote. Sonar is not
configured here (SKIPPED) except where its recorded API answers are served by `responses`.

Everything is read back from the outside: the registry's HTTP API, the remote's git history
and files, never only from devops' own output."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import requests

from tests.release.conftest import SERVICES, Shop
from tests.support.cli import run_cli
from tests.support.project import git
from tests.support.toollog import ToolLog

pytestmark = pytest.mark.docker
ACCEPT = {"Accept": "application/vnd.docker.distribution.manifest.v2+json"}
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def registry_digest(shop: Shop, service: str, reference: str) -> str | None:
    answer = requests.head(f"http://{shop.registry}/v2/{shop.namespace}/{service}/manifests/{reference}",
                           headers=ACCEPT, timeout=10)
    return answer.headers["Docker-Content-Digest"] if answer.status_code == 200 else None


def registry_tags(shop: Shop, service: str) -> list[str]:
    """Every tag of the service's repository in the registry (none when it was never pushed)."""
    answer = requests.get(f"http://{shop.registry}/v2/{shop.namespace}/{service}/tags/list", timeout=10)
    return [] if answer.status_code == 404 else list(answer.json().get("tags") or [])


def local_images(shop: Shop) -> list[str]:
    out = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True,
                         text=True, check=True).stdout.split()
    return [image for image in out if f"/{shop.namespace}/" in image]


def values_digest(shop: Shop, env: str, service: str) -> str:
    text = shop.remote_file(f"gitops/environments/{env}/values/{service}.yaml")
    match = re.search(r'digest: "?([^"\s]*)"?', text)
    assert match
    return match.group(1)


def release(shop: Shop, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("--json", "release", *args, cwd=shop.root)


def test_dev_release_builds_gates_pushes_and_writes_one_commit_then_a_rerun_is_a_noop(shop: Shop) -> None:
    before = shop.commits()
    first = release(shop, "--env", "dev")
    assert first.code == 0, first.err
    result = first.json()
    assert [s["status"] for s in result["services"]] == ["released", "released"]  # type: ignore[index]
    commits = shop.commits()
    assert len(commits) == len(before) + 1, "one commit for the whole release"
    record = shop.record("dev")
    for service in SERVICES:
        digest = values_digest(shop, "dev", service)
        assert DIGEST.match(digest)
        in_tag = next(s for s in result["services"] if s["service"] == service)  # type: ignore[index]
        assert registry_digest(shop, service, digest) == digest, "the released digest exists in the registry"
        assert in_tag["digest"] == digest
        entry = record["services"][service]
        assert entry["digest"] == digest
        assert entry["scan"]["verdict"] == "PASSED" and entry["scan"]["counts"]["MEDIUM"] >= 1
        assert entry["sonar"]["verdict"] == "SKIPPED" and "SONAR_TOKEN" in entry["sonar"]["reason"]
        assert entry["source_commit"] == record["source_commit"]
    message = git(shop.remote, "log", "-1", "--format=%B", "main")
    assert "Devops-Environment: dev" in message and "Devops-Action: release" in message
    # comments and hand-edited keys survive
    text = shop.remote_file("gitops/environments/dev/values/alpha.yaml")
    assert "# alpha in dev." in text and "replicaCount: 1  # edited by hand" in text

    again = release(shop, "--env", "dev")
    assert again.code == 0, again.err
    assert [s["status"] for s in again.json()["services"]] == ["unchanged", "unchanged"]  # type: ignore[index]
    assert shop.commits() == commits, "nothing changed: no commit"


def test_only_the_changed_service_is_rebuilt_and_rewritten(shop: Shop) -> None:
    assert release(shop, "--env", "dev").code == 0
    alpha, beta = values_digest(shop, "dev", "alpha"), values_digest(shop, "dev", "beta")
    shop.change_service("beta", "beta v2\n")
    second = release(shop, "--env", "dev")
    assert second.code == 0, second.err
    statuses = {s["service"]: s["status"] for s in second.json()["services"]}  # type: ignore[index]
    assert statuses == {"alpha": "unchanged", "beta": "released"}
    assert values_digest(shop, "dev", "alpha") == alpha
    assert values_digest(shop, "dev", "beta") != beta
    assert shop.record("dev")["services"]["alpha"]["digest"] == alpha, "the unchanged entry is kept"


def identity_tag(shop: Shop, service: str) -> str:
    """The `in-<hash>` tag of the service's local image (what the release pushes first)."""
    return next(image.rsplit(":", 1)[1] for image in local_images(shop)
                if image.startswith(f"{shop.registry}/{shop.namespace}/{service}:in-"))


def test_a_failing_scan_stops_the_release_and_no_failing_image_reaches_the_registry(  # type: ignore[no-untyped-def]
        shop: Shop, dirty_db) -> None:
    shop.config(trivy_cache=dirty_db)
    before = shop.commits()
    outcome = release(shop, "--env", "dev")
    assert outcome.code == 1, outcome.err
    assert "release to dev stopped, nothing released: " in outcome.err and "alpha" in outcome.err
    assert "no image was pushed" in outcome.err
    assert shop.commits() == before
    assert shop.record("dev")["services"] == {}
    assert local_images(shop), "the images were built and scanned"
    assert registry_tags(shop, "alpha") == registry_tags(shop, "beta") == [], "no image reached the registry"


def test_an_image_that_passed_is_kept_under_its_identity_tag_only_when_a_sibling_fails(
        shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """beta's policy also refuses MEDIUM (the planted zlib finding); alpha's does not. alpha is
    pushed as soon as its gates passed, under `in-<hash>` alone; beta never reaches the registry;
    no human tag, no GitOps commit; the next release reuses alpha from the registry (no rebuild)."""
    shop.config(extra="  services: {beta: {scan: {severities: [CRITICAL, HIGH, MEDIUM]}}}\n")
    before = shop.commits()
    outcome = release(shop, "--env", "dev")
    assert outcome.code == 1, outcome.err
    assert "release to dev stopped, nothing released: beta: 1 finding(s) over the scan policy" in outcome.err
    alpha_tag = identity_tag(shop, "alpha")
    assert registry_tags(shop, "alpha") == [alpha_tag], "alpha: its identity tag, no sha-/semver tag"
    assert registry_tags(shop, "beta") == [], "the failing image never reaches the registry"
    assert f"{shop.registry}/{shop.namespace}/alpha:{alpha_tag}" in outcome.err, "the message names what was kept"
    assert shop.commits() == before and shop.record("dev")["services"] == {}

    # The next release, on a fresh machine (no local image) with beta's policy as alpha's, finds
    # alpha by its identity tag: alpha pulled by that digest and scanned, one build (beta's).
    subprocess.run(["docker", "rmi", "-f", *local_images(shop)], capture_output=True, check=True)
    shop.config()
    log = ToolLog(tmp_path / "bin", monkeypatch)
    again = release(shop, "--env", "dev")
    assert again.code == 0, again.err
    docker = log.calls("docker")
    builds = [c for c in docker if c[:1] == ["build"] or c[:2] == ["buildx", "build"]]
    assert len(builds) == 1 and any("/beta:" in arg for arg in builds[0]), builds
    kept = registry_digest(shop, "alpha", alpha_tag)
    assert [c[-1] for c in docker if c[:1] == ["pull"]] == [f"{shop.registry}/{shop.namespace}/alpha@{kept}"]
    assert [c[-1] for c in docker if c[:1] == ["push"]] == [f"{shop.registry}/{shop.namespace}/beta:"
                                                            f"{identity_tag(shop, 'beta')}"], "alpha not pushed again"
    assert registry_digest(shop, "alpha", alpha_tag) == values_digest(shop, "dev", "alpha")
    assert len(registry_tags(shop, "alpha")) == 2, "the human tag is added once every gate passed"


def test_an_unreachable_gitops_repo_is_exit_3_before_anything_is_built(shop: Shop) -> None:
    shop.remote.rename(shop.remote.with_name("moved.git"))
    outcome = release(shop, "--env", "dev")
    assert outcome.code == 3, outcome.err
    assert str(shop.remote) in outcome.err or "gitops" in outcome.err.lower()
    assert local_images(shop) == [], "nothing was built"


def test_promotion_moves_exactly_the_recorded_digests_and_a_second_promotion_is_a_noop(shop: Shop) -> None:
    assert release(shop, "--env", "dev").code == 0
    dev = shop.record("dev")
    dry = release(shop, "--env", "prod", "--dry-run")
    assert dry.code == 0, dry.err
    assert dry.json()["gitops"]["outcome"] == "dry-run"  # type: ignore[index]
    assert dev["services"]["alpha"]["digest"] in dry.json()["gitops"]["diff"]  # type: ignore[index]
    assert shop.record("prod")["services"] == {}, "a dry run writes nothing"

    promoted = release(shop, "--env", "prod")
    assert promoted.code == 0, promoted.err
    prod = shop.record("prod")
    for service in SERVICES:
        assert values_digest(shop, "prod", service) == dev["services"][service]["digest"]
        assert prod["services"][service]["scan"] == dev["services"][service]["scan"], "evidence carried"
    assert prod["promoted_from"]["environment"] == "dev"
    commits = shop.commits()
    again = release(shop, "--env", "prod")
    assert again.code == 0, again.err
    assert shop.commits() == commits


def test_promotion_is_refused_when_a_recorded_digest_was_deleted_from_the_registry(shop: Shop) -> None:
    assert release(shop, "--env", "dev").code == 0
    digest = shop.record("dev")["services"]["beta"]["digest"]
    deleted = requests.delete(f"http://{shop.registry}/v2/{shop.namespace}/beta/manifests/{digest}", timeout=10)
    assert deleted.status_code == 202
    before = shop.commits()
    outcome = release(shop, "--env", "prod")
    assert outcome.code == 1, outcome.err
    assert "beta" in outcome.err and "no longer exists in the registry" in outcome.err
    assert shop.commits() == before


def test_promotion_is_refused_without_a_dev_release_or_with_failed_evidence(shop: Shop) -> None:
    empty = release(shop, "--env", "prod")
    assert empty.code == 1 and "lists no service" in empty.err, empty.err
    assert release(shop, "--env", "dev").code == 0
    record = shop.record("dev")
    record["services"]["alpha"]["scan"]["verdict"] = "FAILED"
    shop.push_to_remote({"gitops/environments/dev/release.json": json.dumps(record, indent=2) + "\n"}, "tamper")
    failed = release(shop, "--env", "prod")
    assert failed.code == 1 and "alpha" in failed.err and "FAILED" in failed.err, failed.err
    shop.push_to_remote({"gitops/environments/dev/release.json": "{not json\n"}, "break")
    malformed = release(shop, "--env", "prod")
    assert malformed.code == 2 and "release.json" in malformed.err, malformed.err


def test_expired_scan_evidence_is_renewed_by_rescanning_the_same_digest(shop: Shop) -> None:
    assert release(shop, "--env", "dev").code == 0
    record = shop.record("dev")
    for entry in record["services"].values():
        entry["scan"]["checked_at"] = "2020-01-01T00:00:00Z"
    shop.push_to_remote({"gitops/environments/dev/release.json": json.dumps(record, indent=2) + "\n"}, "age")
    outcome = release(shop, "--env", "prod")
    assert outcome.code == 0, outcome.err
    prod = shop.record("prod")
    for service in SERVICES:
        assert prod["services"][service]["digest"] == record["services"][service]["digest"]
        assert prod["services"][service]["scan"]["checked_at"] != "2020-01-01T00:00:00Z"


def test_status_and_rollback(shop: Shop) -> None:
    assert release(shop, "--env", "dev").code == 0
    first = {s: values_digest(shop, "dev", s) for s in SERVICES}
    shop.change_service("alpha", "alpha v2\n")
    assert release(shop, "--env", "dev").code == 0
    assert values_digest(shop, "dev", "alpha") != first["alpha"]

    status = run_cli("--json", "status", cwd=shop.root)
    assert status.code == 0, status.err
    envs = {e["environment"]: e for e in status.json()["environments"]}  # type: ignore[index]
    dev_rows = {s["service"]: s for s in envs["dev"]["services"]}
    assert dev_rows["alpha"]["digest"] == values_digest(shop, "dev", "alpha")
    assert dev_rows["alpha"]["scan"] == "PASSED"
    assert set(envs["prod"]["promotion"]) == set(SERVICES), "prod has nothing yet: both would change"

    back = run_cli("--json", "rollback", "--env", "dev", "--to", "previous", cwd=shop.root)
    assert back.code == 0, back.err
    assert values_digest(shop, "dev", "alpha") == first["alpha"]
    assert values_digest(shop, "dev", "beta") == first["beta"]
    assert shop.record("dev")["services"]["alpha"]["digest"] == first["alpha"]
