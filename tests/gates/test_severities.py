"""Odd severities fail closed: Trivy's five names are trimmed and upper-cased; anything else
(a misspelling, an empty or missing value, a number) counts as over the policy.

The reports are the real Trivy reports of ../shared/fixtures/trivy with one severity edited;
the CLI test runs the real Trivy on a real image and edits its output on the way (a fake
`trivy` in front of the real one, as tests/gates/test_scan_faults.py does).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from devops.domain.gates.findings import UNRECOGNISED, parse_report
from devops.domain.gates.ignore import IgnoreRules, parse_yaml_ignore
from devops.domain.gates.policy import Policy, evaluate

TODAY = dt.date(2026, 6, 1)
HIGH_POLICY = Policy(severities=("CRITICAL", "HIGH"), ignore_unfixed=False, scanners=("vuln", "secret", "misconfig"))
MISSING = object()


def edited(shared: Path, name: str, kind: str, index: int, severity: Any) -> str:
    """The fixture report with the `index`-th finding of `kind` given `severity` (MISSING: no key)."""
    data = json.loads((shared / "trivy" / name).read_text())
    found = [item for result in data["Results"] for item in result.get(kind) or ()]
    if severity is MISSING:
        del found[index]["Severity"]
    else:
        found[index]["Severity"] = severity
    return json.dumps(data)


def low_of_debian(shared: Path, severity: Any) -> Any:
    """debian-buster.json: CVE-2019-18224 CRITICAL (fixed), CVE-2019-18276 LOW -> `severity`."""
    report = parse_report(edited(shared, "debian-buster.json", "Vulnerabilities", 0, severity))
    return {f.id: f for f in report.findings}["CVE-2019-18276"], report


@pytest.mark.parametrize(("given", "severity"), [
    ("HIGH ", "HIGH"), (" high", "HIGH"), ("High", "HIGH"), ("\tCRITICAL\n", "CRITICAL"), ("medium", "MEDIUM"),
])
def test_known_names_are_trimmed_and_upper_cased(shared_fixtures: Path, given: str, severity: str) -> None:
    finding, _ = low_of_debian(shared_fixtures, given)
    assert (finding.severity, finding.severity_given) == (severity, "")


def test_high_with_a_trailing_space_fails_the_high_policy(shared_fixtures: Path) -> None:
    # It used to become UNKNOWN and pass.
    _, report = low_of_debian(shared_fixtures, "HIGH ")
    verdict = evaluate(report, HIGH_POLICY, today=TODAY)
    assert sorted(j.finding.id for j in verdict.failing) == ["CVE-2019-18224", "CVE-2019-18276"]


def test_control_a_normalised_medium_stays_below_the_high_policy(shared_fixtures: Path) -> None:
    _, report = low_of_debian(shared_fixtures, "medium ")
    verdict = evaluate(report, HIGH_POLICY, today=TODAY)
    assert [j.finding.id for j in verdict.failing] == ["CVE-2019-18224"]
    assert [j.finding.id for j in verdict.below] == ["CVE-2019-18276"]


@pytest.mark.parametrize(("given", "shown"), [
    ("SEVERE", "'SEVERE'"), ("", "''"), ("HIGHEST", "'HIGHEST'"), (3, "3"), (None, "None"), (MISSING, "(missing)"),
    (["HIGH"], "['HIGH']"), ("UNKNOWN-ISH", "'UNKNOWN-ISH'"),
])
def test_unrecognised_severities_fail_whatever_the_policy(shared_fixtures: Path, given: Any, shown: str) -> None:
    finding, report = low_of_debian(shared_fixtures, given)
    assert (finding.severity, finding.severity_given) == (UNRECOGNISED, "(missing)" if given is None else shown)
    only_critical = Policy(severities=("CRITICAL",), ignore_unfixed=False, scanners=("vuln",))
    verdict = evaluate(report, only_critical, today=TODAY)
    judged = {j.finding.id: j for j in verdict.judged}["CVE-2019-18276"]
    assert judged.status == "fail"
    assert "is not one of Trivy's (CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN): counted as over the policy" in judged.reason
    assert verdict.counts() == {UNRECOGNISED: 1, "CRITICAL": 1, "HIGH": 0, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 0}
    assert report.findings[0].id == "CVE-2019-18276"  # listed first: it is what fails


def test_control_trivys_own_unknown_is_judged_by_the_policy(shared_fixtures: Path) -> None:
    # UNKNOWN is Trivy's name for "not rated by the vendor": a real severity, not odd data.
    _, report = low_of_debian(shared_fixtures, "UNKNOWN")
    verdict = evaluate(report, HIGH_POLICY, today=TODAY)
    assert [j.finding.id for j in verdict.failing] == ["CVE-2019-18224"]
    assert UNRECOGNISED not in verdict.counts()
    strict = Policy(severities=("CRITICAL", "UNKNOWN"), ignore_unfixed=False, scanners=("vuln",))
    assert len(evaluate(report, strict, today=TODAY).failing) == 2


def test_control_an_explicit_ignore_entry_still_suppresses_it(shared_fixtures: Path) -> None:
    _, report = low_of_debian(shared_fixtures, "SEVERE")
    rules = IgnoreRules(parse_yaml_ignore("vulnerabilities:\n  - id: CVE-2019-18276\n    statement: reviewed\n",
                                          ".trivyignore.yaml"))
    policy = Policy(severities=("CRITICAL",), ignore_unfixed=False, scanners=("vuln",), ignore=rules)
    verdict = evaluate(report, policy, today=TODAY)
    assert {j.finding.id: j.status for j in verdict.judged}["CVE-2019-18276"] == "suppressed"


@pytest.mark.parametrize(("name", "kind"), [("secrets.json", "Secrets"), ("dockerfile.json", "Misconfigurations")])
def test_secrets_and_misconfigurations_fail_closed_too(shared_fixtures: Path, name: str, kind: str) -> None:
    report = parse_report(edited(shared_fixtures, name, kind, 0, "Sev3re"))
    verdict = evaluate(report, Policy(severities=("CRITICAL",), ignore_unfixed=False,
                                      scanners=("secret", "misconfig")), today=TODAY)
    assert any(j.finding.severity == UNRECOGNISED and j.status == "fail" for j in verdict.judged)
    control = parse_report(edited(shared_fixtures, name, kind, 0, "low "))
    assert all(j.finding.severity != UNRECOGNISED for j in evaluate(control, HIGH_POLICY, today=TODAY).judged)


def test_the_json_result_says_what_the_report_said(shared_fixtures: Path) -> None:
    finding, _ = low_of_debian(shared_fixtures, "SEVERE")
    from devops.domain.gates.policy import Judged
    from devops.report.scan_result import finding_result

    shown = finding_result(Judged(finding, "fail", "unreadable severity")).model_dump(mode="json")
    assert shown["severity"] == UNRECOGNISED and shown["severity_given"] == "'SEVERE'"


# -- the CLI on a real image, the real Trivy's output edited on the way ------------------

EDIT_WRAPPER = """
import json, os, subprocess, sys
REAL = {trivy!r}
if len(sys.argv) > 1 and sys.argv[1] == "image":
    out = subprocess.run([REAL, *sys.argv[1:]], capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    for result in data.get("Results") or ():
        for vuln in result.get("Vulnerabilities") or ():
            if vuln["VulnerabilityID"] == "CVE-2099-1003":
                vuln["Severity"] = {severity!r}
    sys.stdout.write(json.dumps(data))
else:
    os.execv(REAL, [REAL, *sys.argv[1:]])
"""


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize(("severity", "code", "reason"), [
    ("SEVERE", 1, "severity 'SEVERE' is not one of Trivy's"), ("HIGH ", 1, "HIGH is in the policy"),
    ("", 1, "severity '' is not one of Trivy's"), ("medium ", 0, "MEDIUM is below the policy")])
def test_devops_scan_fails_closed_on_an_odd_severity_in_trivys_output(
        project, run_cli, gates_images, fake_bin, trivy_bin, severity: str, code: int,
        reason: str) -> None:  # type: ignore[no-untyped-def]
    # The debian stand-in has a planted unfixed CRITICAL (suppressed by --ignore-unfixed), a
    # fixed MEDIUM (CVE-2099-1003, edited here) and a fixed LOW: it passes unless the edit fails it.
    fake_bin("trivy", EDIT_WRAPPER.format(trivy=trivy_bin, severity=severity))
    result = run_cli("--json", "--config", str(project.config), "scan", "--image", gates_images["debian"],
                     "--ignore-unfixed", "--no-cache")
    assert result.code == code, result.err
    findings = {f["id"]: f for scan in result.json()["targets"] for f in scan["findings"]}
    assert findings["CVE-2099-1003"]["status"] == ("fail" if code else "pass")
    assert findings["CVE-2099-1003"]["reason"].startswith(reason)
    if code:
        assert "1 over the policy" in result.err


def test_sarif_reports_an_unrecognised_severity_as_an_error(shared_fixtures: Path) -> None:
    from devops.report.sarif import SarifTarget, sarif_document

    finding, report = low_of_debian(shared_fixtures, "SEVERE")
    only_critical = Policy(severities=("CRITICAL",), ignore_unfixed=False, scanners=("vuln",))
    failing = [j.finding for j in evaluate(report, only_critical, today=TODAY).failing]
    doc = sarif_document([SarifTarget("debian:buster", failing, "services/x/Dockerfile", "0.76.0")])
    levels = {r["ruleId"]: r["level"] for r in doc["runs"][0]["results"]}
    assert levels == {"CVE-2019-18276": "error", "CVE-2019-18224": "error"}
    rules = {r["id"]: r["properties"]["security-severity"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["CVE-2019-18276"] == "8.0"  # ranked like HIGH, never as 0.0
