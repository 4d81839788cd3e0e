"""`devops scan` on an in-memory Trivy, cache and engine: every target judged, cache hits only for
the same image, DB and policy, and nothing broken ever passes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from devops.app.scan import PathKind, scan_configs, scan_images
from devops.domain.gates.ignore import IgnoreEntry, IgnoreRules
from devops.domain.gates.policy import Policy
from devops.domain.gates.scan import CacheEntry, CacheKey, ConfigTarget, ImageTarget
from devops.errors import GateUnavailable, ToolFailed
from tests.fakes.trivy import FakeTrivy, MemoryCache, Vuln, image_report

TODAY = dt.date(2026, 6, 1)
HIGH = Policy(("CRITICAL", "HIGH"), False, ("vuln", "secret"))
APP = "registry.test/acme/alpha:in-1"
IMAGE_ID = "sha256:" + "1" * 64
VULNS = [Vuln("CVE-2099-1001", "glibc", "CRITICAL"), Vuln("CVE-2099-1003", "zlib", "MEDIUM", fixed="2")]


def ids(image_ids: dict[str, str]):  # type: ignore[no-untyped-def]
    """The engine's image IDs, asked once for every target (as the real engine is)."""
    return lambda refs: {ref: image_ids[ref] for ref in refs if ref in image_ids}


def test_a_scan_is_judged_cached_and_reused_for_the_same_image_db_and_policy() -> None:
    trivy, cache = FakeTrivy(images={APP: (IMAGE_ID, VULNS)}), MemoryCache()
    target = ImageTarget(APP, HIGH, service="alpha", location="services/alpha/Dockerfile")
    seen: list[str] = []
    first = scan_images([target], trivy, cache, ids({APP: IMAGE_ID}), today=TODAY, progress=seen.append)
    [scan] = first.scans
    assert not first.passed and first.exit_code == 1 and [j.finding.id for j in scan.verdict.failing] == \
        ["CVE-2099-1001"]
    assert (scan.cached, scan.cache_note, scan.image_id) == (False, "scanned; cached for the next run", IMAGE_ID)
    assert first.trivy_version == "0.76.0" and first.db == "v2@2026-05-01T00:00:00Z/2026-05-01T01:00:00Z"
    second = scan_images([target], trivy, cache, ids({APP: IMAGE_ID}), today=TODAY, progress=seen.append)
    assert second.scans[0].cached and second.scans[0].cache_note.startswith("cache hit")
    assert second.trivy_seconds == 0 and len(trivy.scans) == 1 and cache.puts == 1
    assert seen[0] == f"{APP}: trivy image (vuln, secret)" and seen[-1].startswith(f"{APP}: cache hit")
    # another policy is another key
    scan_images([ImageTarget(APP, Policy(("LOW",), False, ("vuln",)), service="alpha")], trivy, cache,
                ids({APP: IMAGE_ID}), today=TODAY)
    assert len(trivy.scans) == 2


def test_an_expired_ignore_entry_stops_suppressing_on_a_cache_hit_too() -> None:
    trivy, cache = FakeTrivy(images={APP: (IMAGE_ID, VULNS)}), MemoryCache()
    entry = IgnoreEntry(id="CVE-2099-1001", source=".trivyignore:1", expired_at=dt.date(2026, 3, 1))
    policy = Policy(("CRITICAL",), False, ("vuln",), IgnoreRules((entry,), ".trivyignore", "d"))
    before = scan_images([ImageTarget(APP, policy)], trivy, cache, ids({APP: IMAGE_ID}), today=dt.date(2026, 2, 1))
    after = scan_images([ImageTarget(APP, policy)], trivy, cache, ids({APP: IMAGE_ID}), today=TODAY)
    assert before.passed and after.scans[0].cached and not after.passed and after.scans[0].verdict.expired == (entry,)


def test_an_unreadable_or_foreign_cache_entry_is_a_miss_and_is_overwritten() -> None:
    trivy, cache = FakeTrivy(images={APP: (IMAGE_ID, [])}), MemoryCache()
    key = CacheKey(IMAGE_ID, "trivy 0.76.0, DB v2@2026-05-01T00:00:00Z/2026-05-01T01:00:00Z", HIGH.hash)
    for raw in ("{not json", image_report("registry.test/acme/other:1", IMAGE_ID)):
        cache.entries[key.digest] = CacheEntry(raw, 9.0, 0.0)
        run = scan_images([ImageTarget(APP, HIGH)], trivy, cache, ids({APP: IMAGE_ID}))
        assert not run.scans[0].cached and run.passed
        assert cache.entries[key.digest].raw != raw
    assert len(trivy.scans) == 2


def test_what_is_not_cached_says_why() -> None:
    pushed = "registry.test/acme/alpha@sha256:" + "2" * 64
    trivy = FakeTrivy(images={pushed: ("sha256:" + "2" * 64, []), APP: (IMAGE_ID, [])}, has_db=False)
    secrets_only = Policy(("HIGH",), False, ("secret",))
    remote = scan_images([ImageTarget(pushed, secrets_only)], trivy, MemoryCache(), ids({}))
    assert remote.scans[0].cache_note == "not cached: the image is not in the local Docker engine"
    assert remote.scans[0].image_id == "sha256:" + "2" * 64  # from the report
    # Without a DB a secret scan is still cached (it needs none); a vulnerability scan is not
    # cached, and here Trivy then fails for want of the DB.
    cache = MemoryCache()
    local = scan_images([ImageTarget(APP, secrets_only)], trivy, cache, ids({APP: IMAGE_ID}))
    assert local.scans[0].cache_note == "scanned; cached for the next run" and cache.puts == 1
    with pytest.raises(GateUnavailable, match="no Trivy vulnerability DB"):
        scan_images([ImageTarget(APP, HIGH)], trivy, cache, ids({APP: IMAGE_ID}))
    assert cache.puts == 1


def test_a_service_image_that_was_not_built_is_unavailable_not_skipped() -> None:
    with pytest.raises(GateUnavailable, match=r"the image of service alpha is not in the local Docker engine"):
        scan_images([ImageTarget(APP, HIGH, service="alpha")], FakeTrivy(), MemoryCache(), ids({}))


def test_a_report_about_another_image_or_no_report_fails_closed() -> None:
    foreign = FakeTrivy(images={APP: (IMAGE_ID, [])}, answer_for="registry.test/acme/evil:1")
    with pytest.raises(ToolFailed, match="the report is for 'registry.test/acme/evil:1'"):
        scan_images([ImageTarget(APP, HIGH)], foreign, MemoryCache(), ids({APP: IMAGE_ID}))
    broken = FakeTrivy(images={APP: (IMAGE_ID, [])}, broken='{"SchemaVersion": 2, "ArtifactNa')
    cache = MemoryCache()
    with pytest.raises(ToolFailed, match="not valid JSON"):
        scan_images([ImageTarget(APP, HIGH)], broken, cache, ids({APP: IMAGE_ID}))
    assert cache.entries == {}  # nothing cached from a broken run


def test_sboms_are_written_per_image(tmp_path: Path) -> None:
    trivy = FakeTrivy(images={APP: (IMAGE_ID, [])})
    run = scan_images([ImageTarget(APP, HIGH, service="alpha")], trivy, MemoryCache(), ids({APP: IMAGE_ID}),
                      sbom_dir=tmp_path)
    assert run.scans[0].sbom == tmp_path / "alpha.cdx.json" and run.scans[0].sbom.is_file()


KINDS: dict[Path, PathKind] = {Path("/p/services/a/Dockerfile"): "file", Path("/p/charts"): "folder",
                               Path("/p/gitops"): "empty"}


def kind_of(path: Path) -> PathKind:
    return KINDS.get(path, "missing")


def test_configuration_targets_are_scanned_or_skipped_with_the_reason() -> None:
    policy = Policy(("HIGH",), False, ("misconfig",))
    dockerfile, charts = Path("/p/services/a/Dockerfile"), Path("/p/charts")
    trivy = FakeTrivy(configs={dockerfile: [("Dockerfile", "DS002", "AVD-DS-0002", "HIGH")],
                               charts: [("shop/templates/deploy.yaml", "KSV001", "", "LOW")]})
    targets = [ConfigTarget("services/a/Dockerfile", dockerfile, policy, service="a"),
               ConfigTarget("charts", charts, policy, helm_set={"image.tag": "x"}),
               ConfigTarget("gitops", Path("/p/gitops"), policy), ConfigTarget("infra", Path("/p/infra"), policy)]
    seen: list[str] = []
    run = scan_configs(targets, trivy, kind_of, today=TODAY, progress=seen.append)
    assert run.kind == "config" and run.db == "embedded checks" and not run.passed
    assert [(s.name, s.reason) for s in run.skipped] == [("gitops", "folder is empty"), ("infra", "not found")]
    dockerfile_scan, charts_scan = run.scans
    assert [f.path for f in dockerfile_scan.report.findings] == ["services/a/Dockerfile"]
    assert [f.path for f in charts_scan.report.findings] == ["charts/shop/templates/deploy.yaml"]
    assert dockerfile_scan.target.location == "services/a/Dockerfile" and dockerfile_scan.target.service == "a"
    assert seen == ["services/a/Dockerfile: trivy config", "charts: trivy config"]


def test_nothing_to_scan_at_all_is_unavailable_and_everything_skipped_is_a_pass() -> None:
    with pytest.raises(GateUnavailable, match="nothing to scan"):
        scan_configs([], FakeTrivy(), kind_of)
    run = scan_configs([ConfigTarget("infra", Path("/p/infra"), HIGH)], FakeTrivy(), kind_of)
    assert run.passed and run.scans == () and len(run.skipped) == 1
