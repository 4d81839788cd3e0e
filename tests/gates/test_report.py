"""Parsing real Trivy reports (../shared/fixtures/trivy) and refusing what is not one."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.domain.gates.findings import MalformedReport, parse_report


def _read(shared: Path, name: str) -> str:
    return (shared / "trivy" / name).read_text()


def test_alpine_report_has_four_medium_fixed_vulnerabilities(shared_fixtures: Path) -> None:
    report = parse_report(_read(shared_fixtures, "alpine-310.json"))
    assert report.artifact_type == "container_image"
    assert report.os == "alpine 3.10.2"
    assert report.image_id.startswith("sha256:9617696764")
    vulns = [f for f in report.findings if f.kind == "vulnerability"]
    assert len(vulns) == 4
    assert {f.severity for f in vulns} == {"MEDIUM"}
    assert all(f.fixed_version and f.status == "fixed" for f in vulns)
    assert all(f.purl.startswith("pkg:apk/alpine/") for f in vulns)


def test_debian_report_separates_fixed_and_unfixed(shared_fixtures: Path) -> None:
    report = parse_report(_read(shared_fixtures, "debian-buster.json"))
    by_id = {f.id: f for f in report.findings}
    assert set(by_id) == {"CVE-2019-18224", "CVE-2019-18276"}
    assert by_id["CVE-2019-18224"].severity == "CRITICAL" and by_id["CVE-2019-18224"].fixed_version
    unfixed = by_id["CVE-2019-18276"]
    assert (unfixed.severity, unfixed.status, unfixed.fixed_version, unfixed.pkg_name) == (
        "LOW",
        "affected",
        "",
        "bash",
    )
    # most severe first
    assert report.findings[0].severity == "CRITICAL"


def test_dockerfile_config_report_has_ds002(shared_fixtures: Path) -> None:
    report = parse_report(_read(shared_fixtures, "dockerfile.json"))
    assert report.artifact_type == "repository"
    assert report.misconf_passed == 26
    [finding] = report.findings
    assert (finding.kind, finding.id, finding.severity, finding.path) == (
        "misconfiguration",
        "DS002",
        "HIGH",
        "Dockerfile",
    )
    # the AVD id and Trivy's newer spelling are aliases an ignore file may use
    assert {"AVD-DS-0002", "DS-0002"} <= set(finding.aliases)
    assert "USER" in finding.resolution


def test_secret_report_has_two_secrets_with_lines(shared_fixtures: Path) -> None:
    report = parse_report(_read(shared_fixtures, "secrets.json"))
    assert [(f.kind, f.id, f.severity, f.path, f.start_line) for f in report.findings] == [
        ("secret", "aws-access-key-id", "CRITICAL", "deploy.sh", 3),
        ("secret", "mysecret", "HIGH", "deploy.sh", 7),
    ]


def test_legacy_array_report_is_a_clear_error(shared_fixtures: Path) -> None:
    with pytest.raises(MalformedReport, match=r"legacy Trivy JSON \(a top-level array, Trivy < 0.20\)"):
        parse_report(_read(shared_fixtures, "alpine-310-ignore-unfixed.json"), origin="old.json")


def test_sarif_is_not_a_trivy_json_report(shared_fixtures: Path) -> None:
    with pytest.raises(MalformedReport, match="unsupported SchemaVersion None"):
        parse_report(_read(shared_fixtures, "alpine-310.sarif"))


@pytest.mark.parametrize("cut", [1, 100, 2000, -3])
def test_truncated_report_is_malformed(shared_fixtures: Path, cut: int) -> None:
    text = _read(shared_fixtures, "debian-buster.json")
    with pytest.raises(MalformedReport, match=r"report.json: not valid JSON \(line \d+, column \d+"):
        parse_report(text[:cut], origin="report.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty, expected a Trivy JSON report"),
        ("   \n", "empty, expected a Trivy JSON report"),
        ('"just a string"', "expected a JSON object, got str"),
        ('{"SchemaVersion": 2}', "missing ArtifactName"),
        ('{"SchemaVersion": 2, "ArtifactName": "x", "Results": {}}', "Results is dict, expected a list"),
        (
            '{"SchemaVersion": 2, "ArtifactName": "x", '
            '"Results": [{"Vulnerabilities": [{"Severity": "HIGH"}]}]}',
            r"Results\[0\] has an unexpected shape",
        ),
    ],
)
def test_bad_reports_name_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(MalformedReport, match=message):
        parse_report(text)
