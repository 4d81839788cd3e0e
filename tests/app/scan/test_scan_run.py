"""`devops scan` as one use case: the request's options, the targets, the ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.app.scan_run import ScanPorts, ScanRequest, run_scan
from devops.domain.gates.ignore import IgnoreRules
from devops.errors import BadInput
from tests.app.config import ROOT, make_config
from tests.fakes.docker import FakeBases, FakeInputs
from tests.fakes.trivy import FakeTrivy, MemoryCache, Vuln

CONFIG = make_config(services=("alpha",))


def ports(trivy: FakeTrivy, image_ids: dict[str, str]) -> ScanPorts:
    inputs = FakeInputs()
    inputs.put(ROOT / "services" / "alpha", ("app.txt", "alpha"))
    return ScanPorts(trivy=trivy, load_ignore=lambda path, shown: IgnoreRules(), reader=inputs,
                     cache=MemoryCache, bases=FakeBases,
                     image_ids=lambda: lambda refs: {r: image_ids[r] for r in refs if r in image_ids},
                     path_kind=lambda path: "file" if path.name == "Dockerfile" else "missing")


def test_images_of_services_under_the_command_lines_policy() -> None:
    from devops.app.plan import service_image_ref

    trivy = FakeTrivy()
    world = ports(trivy, {})
    ref = service_image_ref(CONFIG, "alpha", {}, world.reader, FakeBases())
    trivy.images[ref] = ("sha256:" + "1" * 64, [Vuln("CVE-1", "zlib", "MEDIUM")])
    world = ports(trivy, {ref: "sha256:" + "1" * 64})
    assert run_scan(CONFIG, ScanRequest(), world).passed
    stricter = run_scan(CONFIG, ScanRequest(severity="medium", scanners="vuln", ignore_unfixed=False), world)
    assert not stricter.passed and stricter.scans[0].target.policy.severities == ("MEDIUM",)


def test_configuration_is_scanned_with_trivy_config() -> None:
    trivy = FakeTrivy(configs={ROOT / "services" / "alpha" / "Dockerfile": [("Dockerfile", "DS002", "", "HIGH")]})
    run = run_scan(CONFIG, ScanRequest(config_scan=True), ports(trivy, {}))
    assert run.kind == "config" and not run.passed and len(run.skipped) == 3  # charts, gitops, infra are absent


def test_config_and_image_together_or_a_bad_list_are_bad_input() -> None:
    for request, message in [(ScanRequest(images=["x:1"], config_scan=True), "cannot be combined with --image"),
                             (ScanRequest(severity="SEVERE"), "unknown severity"),
                             (ScanRequest(scanners="sbom"), "unknown scanner")]:
        with pytest.raises(BadInput, match=message):
            run_scan(CONFIG, request, ports(FakeTrivy(), {}))


def test_sboms_go_where_the_request_says(tmp_path: Path) -> None:
    run = run_scan(CONFIG, ScanRequest(images=["x:1"], sbom_dir=tmp_path),
                   ports(FakeTrivy(images={"x:1": ("sha256:" + "2" * 64, [])}), {}))
    assert run.scans[0].sbom == tmp_path / "x_1.cdx.json"
