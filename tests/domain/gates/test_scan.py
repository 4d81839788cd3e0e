"""What a scan run is made of: the identity rules of a report, relocation, the cache key."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.domain.gates.findings import Finding, ScanReport
from devops.domain.gates.policy import Judged, Policy, Verdict
from devops.domain.gates.scan import (
    CacheKey,
    ImageScan,
    ImageTarget,
    ScanRun,
    TrivyVersion,
    check_identity,
    relocate,
    sbom_file_name,
)
from devops.errors import ToolFailed

POLICY = Policy(("HIGH",), False, ("vuln",))


def test_a_report_about_another_image_never_passes() -> None:
    report = ScanReport("img:1", "container_image", (), image_id="sha256:aa")
    check_identity(report, "img:1", "sha256:aa", "trivy")
    check_identity(report, "img:1", None, "trivy")  # no local ID to compare: the name must do
    check_identity(ScanReport("img:1", "", ()), "img:1", "sha256:aa", "trivy")  # no ID in the report
    with pytest.raises(ToolFailed, match=r"^trivy: the report is for 'img:2', not 'img:1'"):
        check_identity(ScanReport("img:2", "container_image", ()), "img:1", None, "trivy")
    with pytest.raises(ToolFailed, match="is for image ID sha256:aa, but img:1 is sha256:bb"):
        check_identity(report, "img:1", "sha256:bb", "trivy")
    with pytest.raises(ToolFailed, match="the report is a filesystem scan, not an image scan"):
        check_identity(ScanReport("img:1", "filesystem", ()), "img:1", None, "trivy")


def test_paths_are_made_relative_to_the_project() -> None:
    finding = Finding("misconfiguration", "DS002", "HIGH", "Dockerfile", path="templates/deploy.yaml")
    bare = Finding("misconfiguration", "DS001", "LOW", "values.yaml")
    report = ScanReport("/abs/charts/shop", "filesystem", (finding, bare))
    moved = relocate(report, "charts/shop/", single_file=False)
    assert moved.artifact_name == "charts/shop/"
    assert [(f.path, f.target) for f in moved.findings] == [("charts/shop/templates/deploy.yaml",) * 2,
                                                            ("charts/shop/values.yaml",) * 2]
    assert [f.path for f in relocate(report, ".", single_file=False).findings] == ["templates/deploy.yaml",
                                                                                   "values.yaml"]
    assert {f.path for f in relocate(report, "services/a/Dockerfile", single_file=True).findings} == \
        {"services/a/Dockerfile"}


def test_cache_keys_differ_by_every_part() -> None:
    key = CacheKey("sha256:aa", "trivy 0.76", "p1")
    others = [CacheKey("sha256:bb", "trivy 0.76", "p1"), CacheKey("sha256:aa", "trivy 0.77", "p1"),
              CacheKey("sha256:aa", "trivy 0.76", "p2"), CacheKey("sha256:aa", "trivy 0.76", "p1", kind="config")]
    assert len({key.digest, *(k.digest for k in others)}) == 5
    assert key.fields() == {"kind": "image", "image_id": "sha256:aa", "db": "trivy 0.76", "policy": "p1"}


def test_the_db_fingerprint_names_the_db_or_its_absence() -> None:
    assert TrivyVersion("0.76.0").db_fingerprint == "no-db" and not TrivyVersion("0.76.0").has_db
    version = TrivyVersion("0.76.0", 2, "2026-05-01", "2026-05-02")
    assert version.has_db and version.db_fingerprint == "v2@2026-05-01/2026-05-02"


def _scan(ref: str, failing: bool, *, cached: bool = False, seconds: float = 2.0) -> ImageScan:
    finding = Finding("vulnerability", f"CVE-{ref}", "HIGH", ref)
    judged = (Judged(finding, "fail" if failing else "pass", "why"),)
    target = ImageTarget(ref, POLICY)
    return ImageScan(target, ScanReport(ref, "container_image", (finding,)), Verdict(ref, POLICY, judged), "",
                     cached, seconds)


def test_a_run_passes_when_every_target_does() -> None:
    good, bad = _scan("a", False), _scan("b", True, cached=True)
    assert ScanRun((good,)).passed and ScanRun((good,)).exit_code == 0
    run = ScanRun((good, bad))
    assert not run.passed and run.exit_code == 1
    assert run.trivy_seconds == 2.0  # a cached scan took no Trivy time in this run
    assert run.failing_ids() == [("b", ["CVE-b"])]


def test_sbom_files_are_named_safely() -> None:
    assert sbom_file_name(ImageTarget("reg:5000/ns/app:in-1", POLICY)) == "reg_5000_ns_app_in-1.cdx.json"
    assert sbom_file_name(ImageTarget("x", POLICY, service="cart")) == "cart.cdx.json"
    assert Path(sbom_file_name(ImageTarget("../../etc/passwd", POLICY))).name == ".._.._etc_passwd.cdx.json"
