"""Parsing real Trivy reports (../shared/fixtures/trivy) and refusing what is not one."""

from __future__ import annotations

import json
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


# -- every branch of the model, on small reports written here ------------------------------

def _report(results: object, **extra: object) -> str:
    return json.dumps({"SchemaVersion": 2, "ArtifactName": "img:1", "ArtifactType": "container_image",
                       "Results": results, **extra})


def test_a_report_as_bytes_without_results_has_no_findings() -> None:
    report = parse_report(_report(None).encode())
    assert report.findings == () and report.os == "" and report.trivy_version == ""


def test_every_kind_of_finding_with_its_fields() -> None:
    results = [
        {"Target": "img (debian 12)", "Vulnerabilities": [
            {"VulnerabilityID": "CVE-1", "PkgName": "zlib", "InstalledVersion": "1", "FixedVersion": "2",
             "Severity": "HIGH", "Description": "long text", "PkgIdentifier": "not an object", "PkgPath": "usr/lib"},
            {"VulnerabilityID": "CVE-2", "Severity": "LOW", "Title": "t"}]},
        {"Target": "app/.env", "Secrets": [{"RuleID": "aws-key", "Severity": "CRITICAL", "StartLine": 3}]},
        {"Target": "Dockerfile", "MisconfSummary": "not an object", "Misconfigurations": [
            {"ID": "DS002", "AVDID": "AVD-DS-0002", "Severity": "HIGH", "Status": "FAIL", "Resolution": "add USER"},
            {"ID": "DS001", "Severity": "LOW", "Status": "PASS"},
            {"ID": "custom", "Severity": "MEDIUM"}]},
        {"Target": "pkg", "Licenses": [{"Name": "GPL-3.0", "Category": "restricted", "Severity": "HIGH"},
                                       {"Name": "MIT", "Severity": "LOW", "FilePath": "LICENSE"}]},
    ]
    report = parse_report(_report(results, Metadata={"OS": "debian"}, Trivy="0.76"))
    found = {f.id: f for f in report.findings}
    assert found["CVE-1"].has_fix and found["CVE-1"].status == "fixed" and found["CVE-1"].title == "long text"
    assert found["CVE-1"].purl == "" and found["CVE-1"].path == "usr/lib" and found["CVE-1"].scanner == "vuln"
    assert not found["CVE-2"].has_fix and found["CVE-2"].status == "affected"
    assert (found["aws-key"].start_line, found["aws-key"].end_line, found["aws-key"].path) == (3, 0, "app/.env")
    assert set(found["DS002"].aliases) == {"AVD-DS-0002", "DS-0002"} and found["DS002"].resolution == "add USER"
    assert "DS001" not in found  # a passed check is not a finding
    assert found["custom"].aliases == ()
    assert found["GPL-3.0"].title == "restricted licence GPL-3.0" and found["GPL-3.0"].path == "pkg"
    assert found["MIT"].path == "LICENSE" and found["MIT"].scanner == "license"
    assert report.os == "" and report.trivy_version == "" and report.misconf_passed == 0
    # listed most severe first; the key tells two hits of one id apart
    assert [f.severity_rank for f in report.findings] == sorted(f.severity_rank for f in report.findings)
    assert found["CVE-1"].key != found["CVE-2"].key


def test_misconfiguration_ids_get_every_spelling() -> None:
    results = [{"Target": "Dockerfile", "Misconfigurations": [
        {"ID": "AVD-KSV-0001", "Severity": "LOW"}, {"ID": "weird", "AVDID": "AVD-DS-0026", "Severity": "LOW"}]}]
    found = {f.id: f for f in parse_report(_report(results)).findings}
    assert set(found["AVD-KSV-0001"].aliases) == {"KSV-0001", "KSV001"}
    assert set(found["weird"].aliases) == {"AVD-DS-0026", "DS-0026", "DS026"}


def test_an_unrecognised_severity_is_listed_first() -> None:
    results = [{"Target": "t", "Vulnerabilities": [{"VulnerabilityID": "CVE-9", "Severity": 5},
                                                   {"VulnerabilityID": "CVE-8", "Severity": "CRITICAL"}]}]
    first = parse_report(_report(results)).findings[0]
    assert (first.id, first.severity_rank, first.severity_recognised, first.severity_given) == \
        ("CVE-9", -1, False, "5")


@pytest.mark.parametrize(("results", "message"), [
    ({"a": 1}, "Results is dict, expected a list"),
    ([1], r"Results\[0\] is not an object"),
    ([{"Vulnerabilities": [{"Severity": "LOW"}]}], r"Results\[0\] has an unexpected shape"),
])
def test_results_of_the_wrong_shape_are_malformed(results: object, message: str) -> None:
    with pytest.raises(MalformedReport, match=message):
        parse_report(_report(results))


def test_metadata_must_be_an_object() -> None:
    with pytest.raises(MalformedReport, match="Metadata is not an object"):
        parse_report(_report([], Metadata=[1]))
