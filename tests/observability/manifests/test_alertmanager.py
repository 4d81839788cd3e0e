"""Alertmanager's configuration as kube-prometheus-stack deploys it (alertmanager.config in
gitops/platform/kube-prometheus-stack/values.yaml), checked by the real amtool: it loads, it
routes by severity (critical -> PagerDuty, warning -> Slack, info -> nowhere), and every receiver
credential comes from the mounted Secret, never from git."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.gitops_manifests.manifests import load_values
from tests.observability.manifests.catalogue import REPO_ROOT, RULES

VALUES = REPO_ROOT / "gitops" / "platform" / "kube-prometheus-stack" / "values.yaml"
SECRET = "alertmanager-receivers"
SECRET_DIR = f"/etc/alertmanager/secrets/{SECRET}/"
# Fields that carry a credential inline; their *_file twins read it from the Secret instead.
INLINE_SECRETS = {"api_url", "routing_key", "service_key", "url", "password", "bearer_token", "auth_password"}


@pytest.fixture(scope="module")
def am_config() -> dict[str, Any]:
    config: dict[str, Any] = load_values(VALUES)["alertmanager"]["config"]
    return config


def write(config: dict[str, Any], folder: Path) -> Path:
    path = folder / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def check_config(amtool: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True, timeout=60, check=False)


def route(amtool: str, path: Path, *labels: str) -> list[str]:
    """The receivers `amtool config routes test` picks for an alert with these labels."""
    result = subprocess.run([amtool, "config", "routes", "test", f"--config.file={path}", *labels],
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.strip().split(",")


def test_amtool_accepts_the_config(amtool: str, am_config: dict[str, Any], tmp_path: Path) -> None:
    result = check_config(amtool, write(am_config, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_amtool_rejects_a_route_to_an_undefined_receiver(amtool: str, am_config: dict[str, Any],
                                                        tmp_path: Path) -> None:
    """Control: a broken route fails the same check, naming the receiver."""
    broken = copy.deepcopy(am_config)
    [pager] = [r for r in broken["route"]["routes"] if r["receiver"] == "pagerduty"]
    pager["receiver"] = "pagerduty-typo"
    result = check_config(amtool, write(broken, tmp_path))
    assert result.returncode == 1
    assert 'undefined receiver "pagerduty-typo" used in route' in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["severity=critical", "alertname=ShopServiceDown"], ["pagerduty", "slack"]),
        (["severity=warning", "alertname=ShopTargetDown"], ["slack"]),
        (["severity=info", "alertname=KubeletTooManyPods"], ["null"]),
        (["severity=none", "alertname=Watchdog"], ["null"]),
        (["severity=none", "alertname=InfoInhibitor"], ["null"]),
        # An alert without a known severity (a chart's rule) is not lost: the default, Slack.
        (["alertname=SomethingNew"], ["slack"]),
    ],
    ids=["critical", "warning", "info", "watchdog", "info-inhibitor", "no-severity"],
)
def test_alerts_route_by_severity(amtool: str, am_config: dict[str, Any], tmp_path: Path,
                                  labels: list[str], receivers: list[str]) -> None:
    assert route(amtool, write(am_config, tmp_path), *labels) == receivers


def test_the_routing_test_would_catch_a_missing_pager_route(amtool: str, am_config: dict[str, Any],
                                                            tmp_path: Path) -> None:
    """Control: without the critical route, critical alerts would only reach Slack."""
    changed = copy.deepcopy(am_config)
    changed["route"]["routes"] = [r for r in changed["route"]["routes"] if r["receiver"] != "pagerduty"]
    assert route(amtool, write(changed, tmp_path), "severity=critical") == ["slack"]


def test_every_severity_the_rules_use_is_routed(amtool: str, am_config: dict[str, Any], tmp_path: Path) -> None:
    """The chart's alert rules only use severities the routing knows."""
    severities: set[str] = set()
    for path in RULES.glob("*.yaml"):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                if "alert" in rule:
                    severities.add(rule["labels"]["severity"])
    if not severities:
        pytest.skip("no alert rules in gitops/platform/observability/rules yet")
    assert severities <= {"critical", "warning", "info"}, severities
    config = write(am_config, tmp_path)
    expected = {"critical": ["pagerduty", "slack"], "warning": ["slack"], "info": ["null"]}
    for severity in severities:
        assert route(amtool, config, f"severity={severity}", "alertname=Any") == expected[severity]


def _walk(node: Any, path: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((f"{path}.{key}", value))
            found += _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _walk(value, f"{path}[{index}]")
    return found


def test_receiver_credentials_come_from_the_mounted_secret(am_config: dict[str, Any]) -> None:
    spec = load_values(VALUES)["alertmanager"]["alertmanagerSpec"]
    # The operator mounts each listed Secret at /etc/alertmanager/secrets/<name>/.
    assert spec["secrets"] == [SECRET]
    files = []
    for path, value in _walk(am_config["receivers"]):
        key = path.rsplit(".", 1)[-1]
        assert key not in INLINE_SECRETS, f"alertmanager.config.receivers{path}: inline credential, use {key}_file"
        if key.endswith("_file"):
            assert str(value).startswith(SECRET_DIR), f"receivers{path}: {value} is not in the mounted Secret"
            files.append(value)
    assert sorted(files) == [f"{SECRET_DIR}pagerduty-routing-key", f"{SECRET_DIR}slack-webhook-url"]


def test_inhibition_silences_lower_severities_of_the_same_problem(am_config: dict[str, Any]) -> None:
    rules = am_config["inhibit_rules"]
    critical = next(r for r in rules if r["source_matchers"] == ['severity="critical"'])
    assert critical["target_matchers"] == ['severity=~"warning|info"']
    assert "alertname" in critical["equal"]
    assert any(r["source_matchers"] == ['alertname="InfoInhibitor"'] for r in rules)
