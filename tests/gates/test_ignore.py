"""Ignore files in Trivy's plain and YAML forms, with real reports from ../shared/fixtures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from devops.domain.gates.findings import parse_report
from devops.domain.gates.ignore import load_ignore_file, parse_plain_ignore, parse_yaml_ignore, purl_matches
from devops.errors import BadInput

TODAY = dt.date(2026, 6, 1)


def test_trivy_action_yaml_example_ignores_its_two_ids(shared_fixtures: Path) -> None:
    rules = load_ignore_file(shared_fixtures / "trivy" / "trivyignore-example.yaml")
    assert [(e.id, e.kind) for e in rules.entries] == [
        ("CVE-2018-14618", "vulnerability"),
        ("CVE-2018-16839", "vulnerability"),
    ]
    assert rules.entries[0].source.endswith("trivyignore-example.yaml:2")
    assert len(rules.digest) == 64


def test_plain_form_ids_comments_and_expiry() -> None:
    entries = parse_plain_ignore("# header\nCVE-1\n\nCVE-2 exp:2026-01-31  # old\nDS002\n", ".trivyignore")
    assert [(e.id, e.expired_at, e.source) for e in entries] == [
        ("CVE-1", None, ".trivyignore:2"),
        ("CVE-2", dt.date(2026, 1, 31), ".trivyignore:4"),
        ("DS002", None, ".trivyignore:5"),
    ]
    assert entries[1].expired(TODAY) and not entries[0].expired(TODAY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("CVE-1 exp:2026-13-01\n", r"^\.trivyignore:1: exp: expected a date YYYY-MM-DD, got '2026-13-01'$"),
        ("CVE-1 because\n", r"^\.trivyignore:1: unexpected 'because' after the id"),
    ],
)
def test_plain_form_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_plain_ignore(text, ".trivyignore")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "vulnerabilites:\n  - id: CVE-1\n",
            r"^i.yaml:1: unknown section 'vulnerabilites'; "
            r"expected one of vulnerabilities, misconfigurations",
        ),
        (
            "vulnerabilities:\n  - id: CVE-1\n    expired_at: 2026-02-30\n",
            r"^i.yaml:2: vulnerabilities\[0\].expired_at: expected a date YYYY-MM-DD, got '2026-02-30'$",
        ),
        (
            "vulnerabilities:\n  - id: CVE-1\n    expired_at: soon\n",
            r"^i.yaml:2: vulnerabilities\[0\].expired_at: expected a date YYYY-MM-DD, got 'soon'$",
        ),
        (
            "vulnerabilities:\n  - id: CVE-1\n    statment: typo\n",
            r"^i.yaml:2: vulnerabilities\[0\]: unknown key 'statment'",
        ),
        ("vulnerabilities:\n  - paths: [a]\n", r"^i.yaml:2: vulnerabilities\[0\]: `id` is missing or empty$"),
        ("secrets: aws\n", r"^i.yaml:1: secrets: expected a list of entries$"),
        ("- CVE-1\n", r"^i.yaml: expected a mapping of sections"),
        ("vulnerabilities: [\n", r"^i.yaml:\d+: not valid YAML"),
    ],
)
def test_yaml_form_errors_name_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_yaml_ignore(text, "i.yaml")


def test_yaml_entries_match_by_kind_path_and_purl(shared_fixtures: Path) -> None:
    report = parse_report((shared_fixtures / "trivy" / "alpine-310.json").read_text())
    openssl = next(f for f in report.findings if f.pkg_name == "libssl1.1")
    rules = parse_yaml_ignore(
        f"""
vulnerabilities:
  - id: {openssl.id}
    purls: ["pkg:apk/alpine/libcrypto1.1"]
  - id: {openssl.id}
    paths: ["some/other/place"]
  - id: {openssl.id}
    paths: ["testdata/fixtures/images/*"]
  - id: {openssl.id}
    purls: ["pkg:apk/alpine/libssl1.1"]
    statement: not reachable in our image
misconfigurations:
  - id: {openssl.id}
""",
        "i.yaml",
    )
    assert not rules[0].matches(openssl)  # other package
    assert not rules[1].matches(openssl)  # other path
    assert rules[2].matches(openssl)  # glob over the target
    assert rules[3].matches(openssl)  # versionless purl matches every version
    assert not rules[4].matches(openssl)  # other kind
    assert rules[3].reason() == "ignored by i.yaml:9: not reachable in our image"


def test_purl_version_and_qualifiers_must_agree_when_given() -> None:
    have = "pkg:deb/debian/libc6@2.36-9+deb12u14?arch=amd64&distro=debian-12.15"
    assert purl_matches("pkg:deb/debian/libc6", have)
    assert purl_matches("pkg:deb/debian/libc6@2.36-9+deb12u14", have)
    assert not purl_matches("pkg:deb/debian/libc6@2.36-9+deb12u13", have)
    assert purl_matches("pkg:deb/debian/libc6?arch=amd64", have)
    assert not purl_matches("pkg:deb/debian/libc6?arch=arm64", have)
    assert not purl_matches("pkg:deb/debian/libc-bin", have)
    assert not purl_matches("libc6", have)


def test_missing_ignore_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(
        BadInput, match=r"^nope/.trivyignore: ignore file not found \(fix gates.scan.ignore_file"
    ):
        load_ignore_file(tmp_path / "nope" / ".trivyignore", "nope/.trivyignore")
