"""Every alert carries what on-call needs: a severity Alertmanager routes on, a summary, a
description and a runbook link whose section exists in docs/runbooks/alerts.md."""

from __future__ import annotations

import re

import pytest

from tests.observability.rules.conftest import RUNBOOK, alerts_of, rule_files

RUNBOOK_BASE = "https://github.com/techitfactory/techitfactory-shop/blob/main/docs/runbooks/alerts.md"
SEVERITIES = {"critical", "warning", "info"}


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to -."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def runbook_anchors(text: str) -> dict[str, str]:
    """anchor -> heading of every `## ` section."""
    return {github_anchor(m.group(1)): m.group(1).strip() for m in re.finditer(r"^## (.+)$", text, re.MULTILINE)}


ALERTS = [(path.name, rule) for path in rule_files() for rule in alerts_of(path)]


@pytest.mark.parametrize(("file", "rule"), ALERTS, ids=[f"{f}:{r['alert']}" for f, r in ALERTS])
def test_alert_has_severity_summary_description_and_runbook(file: str, rule: dict) -> None:
    name = rule["alert"]
    labels = rule.get("labels") or {}
    annotations = rule.get("annotations") or {}
    assert labels.get("severity") in SEVERITIES, f"{file}: {name}: severity must be one of {sorted(SEVERITIES)}"
    for key in ("summary", "description", "runbook_url"):
        assert str(annotations.get(key, "")).strip(), f"{file}: {name}: annotation {key} missing"
    assert annotations["runbook_url"] == f"{RUNBOOK_BASE}#{name.lower()}", f"{file}: {name}: runbook_url"


@pytest.mark.parametrize(("file", "rule"), ALERTS, ids=[f"{f}:{r['alert']}" for f, r in ALERTS])
def test_runbook_anchor_exists(file: str, rule: dict) -> None:
    anchors = runbook_anchors(RUNBOOK.read_text(encoding="utf-8"))
    anchor = rule["annotations"]["runbook_url"].rsplit("#", 1)[1]
    assert anchor in anchors, f"{file}: {rule['alert']}: no '## {rule['alert']}' section in {RUNBOOK.name}"
    assert anchors[anchor] == rule["alert"]


def test_every_runbook_section_is_an_alert() -> None:
    """No stale sections: a renamed or removed alert takes its runbook section with it."""
    names = {rule["alert"] for _, rule in ALERTS}
    headings = set(runbook_anchors(RUNBOOK.read_text(encoding="utf-8")).values())
    assert headings == names


def test_every_section_says_what_to_check_fix_and_when_to_escalate() -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    assert sections
    for section in sections:
        title = section.splitlines()[0]
        for part in ("**Means**", "**First checks**", "**Fix**", "**Escalate**"):
            assert part in section, f"{RUNBOOK.name}: {title}: no {part}"


def test_anchor_rules_match_github() -> None:
    assert github_anchor("ApiAvailabilityBudgetBurn") == "apiavailabilitybudgetburn"
    assert github_anchor("Alerts and SLOs") == "alerts-and-slos"
    assert github_anchor("What `up` means?") == "what-up-means"


def test_platform_alerts_watch_every_api_service() -> None:
    """The hand-written target alerts name the jobs; a service with SLOs must be among them."""
    from devops.config import load_config

    services = set(load_config(RUNBOOK.parents[2] / "pipelines" / "devops.yaml").observability.slos)
    platform = {rule["alert"]: rule["expr"] for file, rule in ALERTS if file == "platform.yaml"}
    for alert in ("ShopTargetDown", "ShopServiceDown"):
        jobs = re.search(r'job=~"([^"]+)"', platform[alert])
        assert jobs and set(jobs.group(1).split("|")) == services, alert
    absent = set(re.findall(r'absent\(up\{namespace="shop",job="([^"]+)"\}\)', platform["ShopTargetAbsent"]))
    assert absent == services
