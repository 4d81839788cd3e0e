"""The scan policy: three layers merged, every finding judged once, fail closed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from devops.domain.gates.findings import UNRECOGNISED, Finding, ScanReport
from devops.domain.gates.ignore import IgnoreEntry, IgnoreRules, rules_from_bytes
from devops.domain.gates.policy import (
    Policy,
    PolicyLayers,
    PolicyOverride,
    PolicySettings,
    evaluate,
    parse_scanners,
    parse_severities,
    resolve_policy,
)
from devops.errors import BadInput, ConfigError

TODAY = dt.date(2026, 6, 1)


class Files:
    """The ignore-file port: files in memory, and which were asked for."""

    def __init__(self, **files: str) -> None:
        self.files = {Path(name): text for name, text in files.items()}
        self.asked: list[tuple[Path, str]] = []

    def __call__(self, path: Path, shown: str) -> IgnoreRules:
        self.asked.append((path, shown))
        if path not in self.files:
            raise BadInput(f"{shown}: ignore file not found")
        return rules_from_bytes(self.files[path].encode(), shown, yaml=False)


LAYERS = PolicyLayers(
    PolicySettings(severities=("CRITICAL",), ignore_file=".trivyignore"),
    {"cart": PolicyOverride(severities=("HIGH", "CRITICAL"), ignore_unfixed=True, ignore_file="cart.ignore",
                            scanners=("vuln",)),
     "order": PolicyOverride()},
)


def test_layers_later_ones_winning_and_the_files_they_name() -> None:
    files = Files(**{"/p/.trivyignore": "CVE-1\n", "/p/cart.ignore": "CVE-2\n", "cli.ignore": "CVE-3\n"})
    root, known = Path("/p"), ("cart", "order")
    base = resolve_policy(LAYERS, root, load_ignore=files, known_services=known)
    order = resolve_policy(LAYERS, root, load_ignore=files, service="order", known_services=known)
    cart = resolve_policy(LAYERS, root, load_ignore=files, service="cart", known_services=known)
    cli = resolve_policy(LAYERS, root, load_ignore=files, service="cart", known_services=known,
                         override=PolicyOverride(severities=("LOW",), ignore_unfixed=False, ignore_file="cli.ignore",
                                                 scanners=("secret",)))
    assert (base.severities, base.ignore_unfixed, base.scanners, base.ignore.path) == \
        (("CRITICAL",), False, ("vuln", "secret"), ".trivyignore")
    assert order == base  # a service that sets nothing keeps the defaults
    assert (cart.severities, cart.ignore_unfixed, cart.scanners, cart.ignore.path) == \
        (("HIGH", "CRITICAL"), True, ("vuln",), "cart.ignore")
    assert (cli.severities, cli.ignore_unfixed, cli.scanners, cli.ignore.path) == (("LOW",), False, ("secret",),
                                                                                  "cli.ignore")
    # the configured file is under the root, the command line's as given
    assert files.asked[-1] == (Path("cli.ignore"), "cli.ignore") and files.asked[0] == (Path("/p/.trivyignore"),
                                                                                        ".trivyignore")
    assert len({base.hash, cart.hash, cli.hash}) == 3


def test_no_ignore_file_reads_nothing_and_unknown_services_are_config_errors() -> None:
    files = Files()
    policy = resolve_policy(PolicyLayers(), Path("/p"), load_ignore=files)
    assert policy.ignore == IgnoreRules() and files.asked == []
    with pytest.raises(ConfigError, match=r"^gates.services.cart: unknown service; known: order$"):
        resolve_policy(LAYERS, Path("/p"), load_ignore=files, known_services=("order",))
    with pytest.raises(BadInput, match="not found"):
        resolve_policy(LAYERS, Path("/p"), load_ignore=files)  # without known services: not checked


def test_the_hash_follows_the_ignore_files_content() -> None:
    one = Policy(("HIGH",), False, ("vuln",), rules_from_bytes(b"CVE-1\n", "f", yaml=False))
    two = Policy(("HIGH",), False, ("vuln",), rules_from_bytes(b"CVE-1\nCVE-2\n", "f", yaml=False))
    assert one.hash != two.hash and one.hash == Policy(("HIGH",), False, ("vuln",), one.ignore).hash
    assert one.describe() == "fail on HIGH, ignore file f"
    assert Policy(("HIGH",), True, ("vuln",)).describe() == "fail on HIGH, unfixed ignored"


def _finding(ident: str, severity: str = "HIGH", **fields: object) -> Finding:
    return Finding(**{"kind": "vulnerability", "id": ident, "severity": severity, "target": "img", **fields})  # type: ignore[arg-type]


def test_every_way_a_finding_is_judged() -> None:
    expired = IgnoreEntry(id="CVE-EXP", source="f:1", expired_at=dt.date(2026, 1, 1))
    rules = IgnoreRules((IgnoreEntry(id="CVE-IGN", source="f:2"), expired), path="f", digest="d")
    policy = Policy(("CRITICAL", "HIGH"), True, ("vuln", "secret"), rules)
    report = ScanReport("img", "container_image", (
        _finding("CVE-IGN"),
        _finding("AWS", kind="misconfiguration"),
        _finding("CVE-UNFIXED", status="affected"),
        _finding("CVE-ODD", UNRECOGNISED, fixed_version="2", severity_given="'SEVERE'"),
        _finding("CVE-EXP", fixed_version="2"),
        _finding("CVE-LOW", "LOW", fixed_version="2"),
        _finding("CVE-UNSTATED", kind="vulnerability"),
    ))
    verdict = evaluate(report, policy, today=TODAY)
    judged = {j.finding.id: j for j in verdict.judged}
    assert (judged["CVE-IGN"].status, judged["CVE-IGN"].reason) == ("suppressed", "ignored by f:2")
    assert (judged["AWS"].status, judged["AWS"].reason) == ("pass", "scanner misconfig is not enabled")
    assert judged["CVE-UNFIXED"].status == "suppressed" and "(affected)" in judged["CVE-UNFIXED"].reason
    assert "(unfixed)" in judged["CVE-UNSTATED"].reason
    assert judged["CVE-ODD"].status == "fail" and "'SEVERE' is not one of Trivy's" in judged["CVE-ODD"].reason
    assert judged["CVE-EXP"].status == "fail" and judged["CVE-EXP"].expired_rule == expired
    assert "ignore entry f:1 expired on 2026-01-01" in judged["CVE-EXP"].reason
    assert (judged["CVE-LOW"].status, judged["CVE-LOW"].reason) == ("pass", "LOW is below the policy")
    assert not verdict.passed and verdict.expired == (expired,) and verdict.target == "img"
    assert [j.finding.id for j in verdict.failing] == ["CVE-ODD", "CVE-EXP"]
    assert len(verdict.suppressed) == 3 and len(verdict.below) == 2
    counts = verdict.counts()
    assert list(counts)[0] == UNRECOGNISED and counts["HIGH"] == 5 and counts["LOW"] == 1
    assert verdict.counts("fail") == {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 0,
                                      UNRECOGNISED: 1}


def test_an_empty_report_passes_today() -> None:
    verdict = evaluate(ScanReport("img", "", ()), Policy(("HIGH",), False, ("vuln",)))
    assert verdict.passed and verdict.counts() == dict.fromkeys(("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"), 0)


def test_command_line_lists() -> None:
    assert parse_severities(" critical,HIGH,high ") == ("CRITICAL", "HIGH")
    assert parse_scanners("vuln,licence,VULN") == ("vuln", "license")
    for bad in ("HIGH,SEVERE", ",", ""):
        with pytest.raises(BadInput, match="^--severity: unknown severity"):
            parse_severities(bad)
    for bad in ("vuln,sbom", " , "):
        with pytest.raises(BadInput, match="^--scanners: unknown scanner"):
            parse_scanners(bad)
