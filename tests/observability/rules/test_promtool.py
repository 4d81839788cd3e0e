"""Every rule file passes the real `promtool check rules`, and every alert has a unit test.

The unit tests live in tests/observability/rules/promtool/*_test.yaml (`promtool test rules`
format): synthetic series shaped like the services', kube-state-metrics', the blackbox
exporter's and the cost schedule's, for which each alert must fire (labels and annotations
checked) and stay silent when healthy.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.observability.rules.conftest import (
    PROMTOOL_TESTS,
    RULES_DIR,
    Promtool,
    alerts_of,
    load_yaml,
    promtool_tests,
    rule_files,
)


def test_the_rule_files_exist() -> None:
    names = {path.name for path in rule_files()}
    assert {"slo.yaml", "platform.yaml"} <= names


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.name)
def test_rule_file_passes_promtool_check(promtool: Promtool, path: Path) -> None:
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    count = sum(len(group["rules"]) for group in load_yaml(path)["groups"])
    assert f"SUCCESS: {count} rules found" in result.stdout


MALFORMED = {
    # A PromQL syntax error: the missing parenthesis.
    "bad-promql": (
        "groups:\n  - name: g\n    rules:\n      - alert: Broken\n"
        "        expr: sum(rate(http_requests_total{job=\"product\"}[5m])\n",
        "parse error",
    ),
    # A duration Prometheus does not know.
    "bad-for": (
        "groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: up == 0\n        for: 5 minutes\n",
        "not a valid duration string",
    ),
    # A rule that is both a recording and an alerting rule.
    "record-and-alert": (
        "groups:\n  - name: g\n    rules:\n      - alert: Broken\n        record: broken:up\n        expr: up\n",
        "only one of 'record' and 'alert' must be set",
    ),
    # A key rule files do not have (a typo of `annotations`).
    "unknown-field": (
        "groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: up == 0\n"
        "        anotations: {summary: x}\n",
        "field anotations not found",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_rule_file_fails_promtool_check(promtool: Promtool, tmp_path: Path, case: str) -> None:
    text, message = MALFORMED[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text, encoding="utf-8")
    result = promtool("check", "rules", str(path))
    assert result.returncode == 1
    assert message in result.stdout + result.stderr
    assert "SUCCESS" not in result.stdout


@pytest.mark.parametrize("path", promtool_tests(), ids=lambda p: p.name)
def test_promtool_unit_tests_pass(promtool: Promtool, path: Path) -> None:
    result = promtool("test", "rules", path.name, cwd=path.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def _copy_with_rules(tmp_path: Path, test_file: str, mutate: tuple[str, ...]) -> Path:
    """The unit test file and the rule files in tmp_path, one rule file changed by `mutate`
    (every occurrence: the generated file repeats a pattern once per window)."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    name, *pairs = mutate
    text = (rules / name).read_text(encoding="utf-8")
    for old, new in zip(pairs[::2], pairs[1::2], strict=True):
        assert old in text
        text = text.replace(old, new)
    (rules / name).write_text(text, encoding="utf-8")
    test = (PROMTOOL_TESTS / test_file).read_text(encoding="utf-8")
    test = test.replace("../../../../gitops/platform/observability/rules/", "rules/")
    (tmp_path / test_file).write_text(test, encoding="utf-8")
    return tmp_path / test_file


@pytest.mark.parametrize(
    ("test_file", "mutate", "alert"),
    [
        # A probe that must fail for 50 minutes instead of 5: the unit test must notice.
        ("platform_test.yaml", ("platform.yaml", "for: 5m\n        labels:\n          severity: critical",
                                "for: 50m\n        labels:\n          severity: critical"), "FrontendProbeFailing"),
        # Node groups counted under a label that does not exist: the alert would always fire.
        ("platform_test.yaml", ("platform.yaml", 'label_eks_amazonaws_com_nodegroup!=""',
                                'label_nodegroup!=""'), "NodeGroupAtZeroInUptime"),
        # The page thresholds of product's availability doubled, one window pair at a time.
        ("slo_test.yaml", ("slo.yaml", "> (14.4 * 0.005)", "> (28.8 * 0.005)"), "ApiAvailabilityBudgetBurn"),
        ("slo_test.yaml", ("slo.yaml", "> (6 * 0.005)", "> (12 * 0.005)"), "ApiAvailabilityBudgetBurn"),
        # Both ticket pairs of availability made four times as tolerant.
        ("slo_test.yaml", ("slo.yaml", "> (3 * 0.005)", "> (12 * 0.005)", "> (1 * 0.005)", "> (4 * 0.005)"),
         "ApiAvailabilityBudgetBurn"),
        # The latency SLI reading the wrong bucket.
        ("slo_test.yaml", ("slo.yaml", 'job="cart",route=~"/api/.*",le=~"0[.]250*"',
                           'job="cart",route=~"/api/.*",le=~"0[.]50*"'), "ApiLatencyBudgetBurn"),
    ],
    ids=["for-too-long", "wrong-label", "slo-page-1h", "slo-page-6h", "slo-ticket", "slo-bucket"],
)
def test_unit_tests_catch_a_broken_rule(
    promtool: Promtool, tmp_path: Path, test_file: str, mutate: tuple[str, ...], alert: str
) -> None:
    """Control: the unit tests fail when a rule is wrong, so their passing means something."""
    path = _copy_with_rules(tmp_path, test_file, mutate)
    result = promtool("test", "rules", path.name, cwd=tmp_path)
    assert result.returncode == 1
    assert "FAILED" in result.stdout + result.stderr
    assert f"alertname: {alert}" in result.stdout + result.stderr


def _referenced_rule_files(test_path: Path) -> list[Path]:
    return [(test_path.parent / name).resolve() for name in load_yaml(test_path)["rule_files"]]


def test_every_rule_file_has_a_unit_test_file() -> None:
    referenced = {path for test in promtool_tests() for path in _referenced_rule_files(test)}
    missing = [path.name for path in rule_files() if path.resolve() not in referenced]
    assert not missing, f"rule files without a promtool test file in {PROMTOOL_TESTS}: {missing}"


@pytest.mark.parametrize("test_path", promtool_tests(), ids=lambda p: p.name)
def test_every_alert_has_a_unit_test(test_path: Path) -> None:
    """Each alert of the tested rule files fires in some case and stays silent in another."""
    alerts = {rule["alert"] for path in _referenced_rule_files(test_path) for rule in alerts_of(path)}
    firing: set[str] = set()
    silent: set[str] = set()
    for case in load_yaml(test_path)["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    assert alerts, f"{test_path.name} tests no alert"
    assert not alerts - firing, f"{test_path.name}: no case where these fire: {sorted(alerts - firing)}"
    assert not alerts - silent, f"{test_path.name}: no case where these stay silent: {sorted(alerts - silent)}"
    unknown = (firing | silent) - alerts
    assert not unknown, f"{test_path.name} tests alerts no rule file defines: {sorted(unknown)}"


def test_the_coverage_check_notices_a_new_alert(tmp_path: Path) -> None:
    """Control: an alert added to a rule file without a unit test fails the check above."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    with (rules / "platform.yaml").open("a", encoding="utf-8") as handle:
        handle.write(
            "  - name: extra\n    rules:\n      - alert: UntestedAlert\n        expr: vector(1)\n"
            "        labels: {severity: info}\n"
        )
    test = (PROMTOOL_TESTS / "platform_test.yaml").read_text(encoding="utf-8")
    (tmp_path / "platform_test.yaml").write_text(
        test.replace("../../../../gitops/platform/observability/rules/", "rules/"), encoding="utf-8"
    )
    with pytest.raises(AssertionError, match=re.escape("no case where these fire: ['UntestedAlert']")):
        test_every_alert_has_a_unit_test(tmp_path / "platform_test.yaml")
