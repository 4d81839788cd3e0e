"""The policy engine on real Trivy reports (../shared/fixtures/trivy): verdicts, SARIF, hash."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from devops.adapters.ignore_files import load_ignore_file
from devops.config.gates import GatesConfig
from devops.domain.gates.findings import parse_report
from devops.domain.gates.ignore import IgnoreRules, parse_yaml_ignore
from devops.domain.gates.policy import (
    Policy,
    PolicyOverride,
    evaluate,
    parse_scanners,
    parse_severities,
    resolve_policy,
)
from devops.errors import BadInput, ConfigError
from devops.report.sarif import SarifTarget, sarif_document

TODAY = dt.date(2026, 6, 1)


def _report(shared: Path, name: str):  # type: ignore[no-untyped-def]
    return parse_report((shared / "trivy" / name).read_text())


def test_critical_fixed_fails_and_low_unfixed_is_below(shared_fixtures: Path) -> None:
    verdict = evaluate(
        _report(shared_fixtures, "debian-buster.json"),
        Policy(severities=("CRITICAL", "HIGH"), ignore_unfixed=False, scanners=("vuln",)),
        today=TODAY,
    )
    assert not verdict.passed
    assert [j.finding.id for j in verdict.failing] == ["CVE-2019-18224"]
    assert [j.finding.id for j in verdict.below] == ["CVE-2019-18276"]
    assert verdict.counts()["CRITICAL"] == 1 and verdict.counts("fail")["LOW"] == 0


def test_ignore_unfixed_keeps_what_trivys_own_ignore_unfixed_keeps(shared_fixtures: Path) -> None:
    """Trivy's golden `--ignore-unfixed` report is the oracle for which findings remain."""
    policy = Policy(severities=("CRITICAL", "HIGH", "MEDIUM", "LOW"), ignore_unfixed=True, scanners=("vuln",))
    verdict = evaluate(_report(shared_fixtures, "debian-buster.json"), policy, today=TODAY)
    oracle = _report(shared_fixtures, "debian-buster-ignore-unfixed.json")
    assert sorted(j.finding.id for j in verdict.failing) == sorted(f.id for f in oracle.findings)
    [suppressed] = verdict.suppressed
    assert suppressed.finding.id == "CVE-2019-18276"
    assert suppressed.reason == "no fixed version (affected); ignore_unfixed is on"


def test_medium_only_alpine_passes_high_policy_and_fails_medium(shared_fixtures: Path) -> None:
    report = _report(shared_fixtures, "alpine-310.json")
    high = Policy(severities=("CRITICAL", "HIGH"), ignore_unfixed=False, scanners=("vuln",))
    medium = Policy(severities=("MEDIUM",), ignore_unfixed=False, scanners=("vuln",))
    assert evaluate(report, high, today=TODAY).passed
    assert len(evaluate(report, medium, today=TODAY).failing) == 4


def test_expired_yaml_entry_no_longer_suppresses_and_is_reported(shared_fixtures: Path) -> None:
    entries = parse_yaml_ignore(
        "vulnerabilities:\n"
        "  - id: CVE-2019-18224\n    expired_at: 2026-05-31\n    statement: waiting for the vendor\n"
        "  - id: CVE-2019-18276\n    expired_at: 2026-12-31\n    statement: bash is not reachable\n",
        ".trivyignore.yaml",
    )
    policy = Policy(
        severities=("CRITICAL", "HIGH", "LOW"),
        ignore_unfixed=False,
        scanners=("vuln",),
        ignore=IgnoreRules(entries=entries, path=".trivyignore.yaml", digest="x"),
    )
    verdict = evaluate(_report(shared_fixtures, "debian-buster.json"), policy, today=TODAY)
    [failing] = verdict.failing
    assert failing.finding.id == "CVE-2019-18224"
    assert failing.expired_rule is not None and "expired on 2026-05-31" in failing.reason
    [suppressed] = verdict.suppressed
    assert suppressed.reason == "ignored by .trivyignore.yaml:5: bash is not reachable (until 2026-12-31)"
    assert [e.id for e in verdict.expired] == ["CVE-2019-18224"]
    # the day before it expires, the entry still suppresses
    assert evaluate(_report(shared_fixtures, "debian-buster.json"), policy, today=dt.date(2026, 5, 30)).passed


def test_misconfiguration_ignored_by_its_old_id(shared_fixtures: Path) -> None:
    entries = parse_yaml_ignore(
        "misconfigurations:\n  - id: AVD-DS-0002\n    paths: [Dockerfile]\n", "i.yaml"
    )
    policy = Policy(
        severities=("HIGH",),
        ignore_unfixed=False,
        scanners=("misconfig",),
        ignore=IgnoreRules(entries=entries, path="i.yaml", digest="y"),
    )
    verdict = evaluate(_report(shared_fixtures, "dockerfile.json"), policy, today=TODAY)
    assert verdict.passed and len(verdict.suppressed) == 1


def test_sarif_holds_exactly_the_failing_findings(shared_fixtures: Path) -> None:
    """Trivy's own SARIF (the golden file) lists every finding; ours only the policy's."""
    trivy_sarif = json.loads((shared_fixtures / "trivy" / "alpine-310.sarif").read_text())
    assert len(trivy_sarif["runs"][0]["results"]) == 8  # Trivy: no severity filter at all
    report = _report(shared_fixtures, "alpine-310.json")
    policy = Policy(
        severities=("MEDIUM",),
        ignore_unfixed=False,
        scanners=("vuln",),
        ignore=IgnoreRules(
            entries=parse_yaml_ignore("vulnerabilities:\n  - id: CVE-2019-1549\n", "i.yaml"),
            path="i.yaml",
            digest="z",
        ),
    )
    verdict = evaluate(report, policy, today=TODAY)
    doc = sarif_document(
        [SarifTarget("alpine:3.10", [j.finding for j in verdict.failing], "services/x/Dockerfile", "0.76.0")]
    )
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0"
    assert sorted((r["ruleId"], r["level"]) for r in run["results"]) == [
        ("CVE-2019-1551", "warning"),
        ("CVE-2019-1551", "warning"),
    ]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["CVE-2019-1551"]
    assert run["tool"]["driver"]["rules"][0]["properties"]["security-severity"] == "5.5"
    location = run["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "services/x/Dockerfile"
    assert "fixed in 1.1.1d-r2" in run["results"][0]["message"]["text"]


def test_layers_service_override_and_command_line(tmp_path: Path) -> None:
    (tmp_path / ".trivyignore").write_text("CVE-1\n")
    gates = GatesConfig.model_validate(
        {
            "scan": {"severities": ["critical"], "ignore_file": ".trivyignore"},
            "services": {"cart": {"scan": {"severities": ["HIGH", "CRITICAL"], "ignore_unfixed": True}}},
        }
    ).policy_layers()
    base = resolve_policy(gates, tmp_path, load_ignore=load_ignore_file, known_services=("cart", "order"))
    cart = resolve_policy(gates, tmp_path, load_ignore=load_ignore_file, service="cart", known_services=("cart", "order"))
    cli = resolve_policy(
        gates,
        tmp_path,
        load_ignore=load_ignore_file,
        service="cart",
        known_services=("cart", "order"),
        override=PolicyOverride(severities=("LOW",), ignore_unfixed=False),
    )
    assert (base.severities, base.ignore_unfixed, base.ignore.path) == (("CRITICAL",), False, ".trivyignore")
    assert (cart.severities, cart.ignore_unfixed) == (("HIGH", "CRITICAL"), True)
    assert (cli.severities, cli.ignore_unfixed) == (("LOW",), False)
    assert len({base.hash, cart.hash, cli.hash}) == 3
    # the hash follows the ignore file's content, not only its name
    before = base.hash
    (tmp_path / ".trivyignore").write_text("CVE-1\nCVE-2\n")
    assert resolve_policy(gates, tmp_path, load_ignore=load_ignore_file, known_services=("cart", "order")).hash != before
    with pytest.raises(ConfigError, match=r"^gates.services.cart: unknown service; known: order$"):
        resolve_policy(gates, tmp_path, load_ignore=load_ignore_file, known_services=("order",))


def test_command_line_lists_are_checked() -> None:
    assert parse_severities("critical, HIGH,high") == ("CRITICAL", "HIGH")
    assert parse_scanners("vuln,licence") == ("vuln", "license")
    with pytest.raises(BadInput, match=r"^--severity: unknown severity 'SEVERE'; expected a comma-separated"):
        parse_severities("HIGH,SEVERE")
    with pytest.raises(BadInput, match=r"^--scanners: unknown scanner 'sbom'"):
        parse_scanners("vuln,sbom")
