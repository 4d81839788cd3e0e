"""Alert-rule fixtures: the real promtool (Debian `prometheus` package) and the rule files."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

REPO_ROOT = Path(__file__).resolve().parents[3]
RULES_DIR = REPO_ROOT / "gitops" / "platform" / "observability" / "rules"
PROMTOOL_TESTS = Path(__file__).resolve().parent / "promtool"
RUNBOOK = REPO_ROOT / "docs" / "runbooks" / "alerts.md"


@dataclass
class Promtool:
    path: str

    def __call__(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run promtool; its verdicts and messages are what the tests judge."""
        return subprocess.run(
            [self.path, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
        )


@pytest.fixture(scope="session")
def promtool() -> Promtool:
    # Installed from Debian (`apt-get install prometheus`) on this machine and in CI; a missing
    # promtool fails loudly instead of skipping every rule check.
    found = shutil.which("promtool") or ("/usr/bin/promtool" if Path("/usr/bin/promtool").exists() else None)
    if not found:
        pytest.fail("promtool not found: apt-get install prometheus (it ships /usr/bin/promtool)")
    return Promtool(found)


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yaml"))


def promtool_tests() -> list[Path]:
    return sorted(PROMTOOL_TESTS.glob("*_test.yaml"))


def alerts_of(path: Path) -> list[dict[str, Any]]:
    """Every alerting rule of a rule file (several rules may share an alert name)."""
    return [rule for group in load_yaml(path)["groups"] for rule in group["rules"] if "alert" in rule]
