"""Ignore files in Trivy's plain and YAML forms, with real reports from ../shared/fixtures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from devops.domain.gates.findings import Finding, parse_report
from devops.domain.gates.ignore import (
    IgnoreEntry,
    IgnoreRules,
    is_yaml_form,
    parse_plain_ignore,
    parse_yaml_ignore,
    purl_matches,
    rules_from_bytes,
)
from devops.errors import BadInput

TODAY = dt.date(2026, 6, 1)


def test_trivy_action_yaml_example_ignores_its_two_ids(shared_fixtures: Path) -> None:
    path = shared_fixtures / "trivy" / "trivyignore-example.yaml"
    rules = rules_from_bytes(path.read_bytes(), str(path), yaml=True)
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


# -- every branch of the rules, on findings written here ------------------------------------

def _finding(**fields: object) -> Finding:
    base: dict[str, object] = {"kind": "vulnerability", "id": "CVE-1", "severity": "HIGH", "target": "img"}
    return Finding(**{**base, **fields})  # type: ignore[arg-type]


def test_entries_match_by_kind_id_alias_path_and_purl() -> None:
    entry = IgnoreEntry(id="CVE-1", source="f:1", kind="vulnerability", paths=("opt/app/*",),
                        purls=("pkg:deb/debian/zlib",))
    hit = _finding(path="/opt/app/x", purl="pkg:deb/debian/zlib@1")
    assert entry.matches(hit)
    assert not entry.matches(_finding(kind="secret", path="/opt/app/x", purl="pkg:deb/debian/zlib@1"))
    assert not entry.matches(_finding(id="CVE-2", path="/opt/app/x", purl="pkg:deb/debian/zlib@1"))
    assert not entry.matches(_finding(path="/srv/x", target="srv", purl="pkg:deb/debian/zlib@1"))
    assert not entry.matches(_finding(path="/opt/app/x", purl="pkg:deb/debian/perl@1"))
    assert IgnoreEntry(id="DS-0002", source="f:2").matches(_finding(kind="misconfiguration", id="DS002",
                                                                       aliases=("DS-0002",)))
    # a folder matches what is below it; an empty path never matches
    assert IgnoreEntry(id="CVE-1", source="f", paths=("./opt/",)).matches(_finding(path="opt/app/x"))
    assert IgnoreEntry(id="CVE-1", source="f", paths=("opt",)).matches(_finding(path="", target="opt"))
    assert not IgnoreEntry(id="CVE-1", source="f", paths=("opt",)).matches(_finding(path="", target=""))


def test_an_active_entry_wins_over_an_expired_one_and_reasons_say_why() -> None:
    today = dt.date(2026, 6, 1)
    expired = IgnoreEntry(id="CVE-1", source="f:1", expired_at=dt.date(2026, 1, 1))
    active = IgnoreEntry(id="CVE-1", source="f:2", statement="patched", expired_at=dt.date(2027, 1, 1))
    other = IgnoreEntry(id="CVE-9", source="f:3", expired_at=dt.date(2020, 1, 1))
    assert IgnoreRules((expired, active)).match(_finding(), today) == (active, None)
    assert IgnoreRules((expired, other)).match(_finding(), today) == (None, expired)
    assert IgnoreRules((expired, expired)).match(_finding(), today) == (None, expired)
    assert IgnoreRules((other,)).match(_finding(), today) == (None, None)
    assert IgnoreRules((expired, active, other)).expired_entries(today) == (expired, other)
    assert active.reason() == "ignored by f:2: patched (until 2027-01-01)"
    assert IgnoreEntry(id="CVE-1", source="f:4").reason() == "ignored by f:4"


def test_rules_from_bytes_choose_the_form_and_hash_the_bytes() -> None:
    plain = rules_from_bytes(b"CVE-1\n", "a", yaml=False)
    yaml = rules_from_bytes(b"vulnerabilities:\n  - id: CVE-1\n", "b", yaml=True)
    assert (plain.entries[0].kind, yaml.entries[0].kind, plain.path) == (None, "vulnerability", "a")
    assert plain.digest != yaml.digest and len(plain.digest) == 64
    assert is_yaml_form(Path("x/.trivyignore.YML")) and not is_yaml_form(Path(".trivyignore"))
    with pytest.raises(BadInput, match="^a: "):
        rules_from_bytes(b"\xff\xfe", "a", yaml=False)


@pytest.mark.parametrize(("text", "message"), [
    ("- CVE-1\n", r"^f: expected a mapping of sections"),
    ("vulnerabilities: CVE-1\n", r"^f:1: vulnerabilities: expected a list of entries"),
    ("vulnerabilities:\n  - CVE-1\n", r"^f:2: vulnerabilities\[0\]: expected a mapping with at least `id`"),
    ("vulnerabilities:\n  - id: ' '\n", r"`id` is missing or empty"),
    ("vulnerabilities:\n  - id: CVE-1\n    paths: [1]\n", r"paths: expected a list of strings"),
    ("vulnerabilities:\n  - id: CVE-1\n    expired_at: 9999-12-31\n", r"^f:2: vulnerabilities\[0\]\.expired_at"),
    ("vulnerabilities: [\n", r"^f:2: not valid YAML"),
    ("vulnerabilities: []\nvulnerabilities: []\n", r"^f:2: not valid YAML"),  # composes, fails to load
])
def test_yaml_shapes_that_are_not_an_ignore_file(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_yaml_ignore(text, "f")


def test_yaml_values_in_every_accepted_spelling() -> None:
    entries = parse_yaml_ignore(
        "vulnerabilities:\n"
        "  - id: 1234\n    paths: opt/app\n    purls: [pkg:deb/debian/zlib]\n    expired_at: 2026-12-31\n"
        "secrets:\n"
        "misconfigurations:\n  - {id: DS002, statement: ' root is fine here '}\n", "f")
    assert [(e.id, e.kind) for e in entries] == [("1234", "vulnerability"), ("DS002", "misconfiguration")]
    assert entries[0].paths == ("opt/app",) and entries[0].expired_at == dt.date(2026, 12, 31)
    assert entries[1].statement == "root is fine here" and entries[1].paths == ()
    assert parse_yaml_ignore("", "f") == ()


def test_purls_that_are_not_purls_never_match() -> None:
    assert not purl_matches("pkg:deb/debian/zlib", "")
    assert not purl_matches("pkg:deb/debian/zlib", "zlib")


def test_line_numbers_fall_back_when_the_document_has_none() -> None:
    from devops.domain.gates.ignore import _item_line, _line

    assert _line({"a": 1}, "a") == 1 and _item_line([1], 0) is None
