"""`devops rescan` on real components: the Docker engine pulls the recorded digests from the local
registry, the real Trivy scans them with a planted DB, the evidence goes to a bare GitOps remote.

A release passes with the clean DB; a new advisory is planted in a newer DB (as the nightly DB
update brings one); the rescan turns dev's record FAILED and the promotion to prod is refused.
The clock of the CLI runs is frozen ten days after the release: the release's evidence has
expired (scan_max_age_days 7) and a passing rescan renews it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.gates.trivydb import Advisory, build_db
from tests.release.conftest import Shop
from tests.support.cli import run_cli
from tests.support.project import git

pytestmark = pytest.mark.docker
PLANTED = Advisory("CVE-2099-3001", "glibc", "CRITICAL", title="glibc: planted after the release")
CLEAN = Advisory("CVE-2099-2001", "zlib", "MEDIUM", "1:1.2.13.dfsg-1+deb12u1", title="zlib: planted medium")


def remove_local_images(shop: Shop) -> None:
    """Forget the release's images in the engine, so the rescan has to pull them by digest."""
    def mine() -> list[str]:
        # By name, never by image ID: another test's shop may hold an image of the same content
        # (same ID) under its own namespace, and `rmi -f ID` would delete it under that test.
        listed = subprocess.run(["docker", "images", "--digests", "--format",
                                 "{{.Repository}}:{{.Tag}} {{.Repository}}@{{.Digest}}"],
                                capture_output=True, text=True, check=True).stdout.split()
        return [ref for ref in listed if f"/{shop.namespace}/" in ref and not ref.endswith((":<none>", "@<none>"))]

    subprocess.run(["docker", "rmi", *set(mine())], capture_output=True)
    assert not mine(), "the release's images are gone from the engine"


def test_a_new_advisory_turns_the_record_failed_and_blocks_promotion(shop: Shop, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("release", "--env", "dev", cwd=shop.root).code == 0
    released = shop.record("dev")
    # The release recorded when its source commit was made (DORA's lead time starts there).
    made = dt.datetime.fromisoformat(git(shop.root, "log", "-1", "--format=%cI").strip()).astimezone(dt.UTC)
    assert {e["source_committed_at"] for e in released["services"].values()} == {made.strftime("%Y-%m-%dT%H:%M:%SZ")}
    frozen = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=10)
    monkeypatch.setattr("devops.domain.release.evidence.utc_now", lambda: frozen)
    stamp = frozen.strftime("%Y-%m-%dT%H:%M:%SZ")
    remove_local_images(shop)

    # The same DB: every digest passes; the expired evidence is renewed as of the rescan.
    passing = run_cli("--json", "rescan", "--env", "dev", cwd=shop.root)
    assert passing.code == 0, passing.err
    result: Any = passing.json()
    assert [s["verdict"] for s in result["services"]] == ["PASSED", "PASSED"]
    assert result["gitops"]["outcome"] == "committed"
    renewed = shop.record("dev")
    for service, entry in renewed["services"].items():
        assert entry["digest"] == released["services"][service]["digest"]
        assert entry["scan"]["checked_at"] == stamp and entry["scan"]["verdict"] == "PASSED"
    subject = git(shop.remote, "log", "-1", "--format=%s", "main").strip()
    assert subject == "rescan(dev): release record"
    pulled = subprocess.run(["docker", "images", "--digests", "--format", "{{.Repository}}@{{.Digest}}"],
                            capture_output=True, text=True, check=True).stdout.split()
    for entry in renewed["services"].values():
        assert f"{entry['repository']}@{entry['digest']}" in pulled, "pulled by digest from the registry"
    # Control: with renewed evidence the promotion passes without rescanning.
    control = run_cli("release", "--env", "prod", "--dry-run", cwd=shop.root)
    assert control.code == 0 and "rescanning" not in control.err, control.err

    # A new advisory arrives with a newer DB.
    newer = build_db(tmp_path / "trivy-newer", [CLEAN, PLANTED], updated_at=frozen - dt.timedelta(hours=2))
    shop.config(trivy_cache=newer)
    sarif = shop.root / "reports" / "rescan.sarif"
    before = shop.commits()
    failing = run_cli("--json", "rescan", "--env", "dev", "--sarif", str(sarif), cwd=shop.root)
    assert failing.code == 1, failing.err
    assert "CVE-2099-3001" in failing.err and "promotion" in failing.err
    result = failing.json()
    assert result["verdict"] == "FAILED" and result["db_updated_at"]
    assert {s["service"]: (s["verdict"], s["newly_failed"]) for s in result["services"]} == {
        "alpha": ("FAILED", True), "beta": ("FAILED", True)}
    assert len(shop.commits()) == len(before) + 1, "one commit: the FAILED evidence"
    failed = shop.record("dev")
    for entry in failed["services"].values():
        scan = entry["scan"]
        assert scan["verdict"] == "FAILED" and scan["counts"]["CRITICAL"] >= 1 and scan["checked_at"] == stamp
        assert scan["trivy_version"] and scan["db_updated_at"].startswith((frozen - dt.timedelta(hours=2))
                                                                          .strftime("%Y-%m-%dT%H:%M"))
    document = json.loads(sarif.read_text())
    rules = {r["ruleId"] for r in document["runs"][0]["results"]}
    assert rules == {"CVE-2099-3001"}
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in document["runs"][0]["results"]} == {"services/alpha/Dockerfile", "services/beta/Dockerfile"}

    prod_before = shop.record("prod")
    refused = run_cli("release", "--env", "prod", cwd=shop.root)
    assert refused.code == 1, refused.err
    assert "scan verdict is FAILED" in refused.err and "alpha" in refused.err and "beta" in refused.err
    assert shop.record("prod") == prod_before, "nothing written to prod"


def test_a_record_naming_another_registry_is_refused_before_any_pull(shop: Shop) -> None:
    assert run_cli("release", "--env", "dev", cwd=shop.root).code == 0
    record = shop.record("dev")
    record["services"]["alpha"]["repository"] = "127.0.0.2:5000/elsewhere/alpha"
    shop.push_to_remote({"gitops/environments/dev/release.json": json.dumps(record, indent=2) + "\n"}, "tamper")
    before = shop.commits()
    outcome = run_cli("rescan", "--env", "dev", cwd=shop.root)
    assert outcome.code == 1 and "127.0.0.2:5000/elsewhere/alpha" in outcome.err, outcome.err
    assert "pulling" not in outcome.err and shop.commits() == before


def test_without_a_trivy_db_the_rescan_is_exit_3_and_writes_nothing(shop: Shop, tmp_path: Path) -> None:
    assert run_cli("release", "--env", "dev", cwd=shop.root).code == 0
    empty = tmp_path / "no-db"
    empty.mkdir()
    shop.config(trivy_cache=empty)
    before = shop.commits()
    outcome = run_cli("--json", "rescan", "--env", "dev", cwd=shop.root)
    assert outcome.code == 3, outcome.err
    assert {s["verdict"] for s in outcome.json()["services"]} == {"UNAVAILABLE"}  # type: ignore[index]
    assert shop.commits() == before
    shutil.rmtree(empty)
