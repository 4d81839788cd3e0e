"""`devops scan --config`: real `trivy config` with its embedded checks (no bundle download)."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.slow]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
        - name: app
          image: 127.0.0.1:5000/gates-test/app:1
          securityContext:
            privileged: true
"""


def test_dockerfile_without_user_fails_on_ds002_and_missing_folders_are_skipped(
    project, run_cli, trivy_bin
) -> None:  # type: ignore[no-untyped-def]
    (project.root / "charts").mkdir()  # empty: skipped, with the reason
    sarif = project.root / "config.sarif"
    result = run_cli("--config", str(project.config), "scan", "--config", "--json", "--sarif", str(sarif))
    assert result.code == 1, result.err
    data = result.json()
    assert data["kind"] == "config"
    [target] = data["targets"]
    assert target["image"] == "services/app/Dockerfile"
    failing = [(f["id"], f["severity"], f["path"]) for f in target["findings"] if f["status"] == "fail"]
    assert failing == [("DS-0002", "HIGH", "services/app/Dockerfile")]
    assert {(s["target"], s["reason"]) for s in data["skipped"]} == {
        ("charts", "folder is empty"),
        ("gitops", "not found"),
        ("infra", "not found"),
    }
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results
    ] == [("DS-0002", "services/app/Dockerfile")]


def test_old_check_id_in_yaml_ignore_suppresses_ds002(project, run_cli, trivy_bin) -> None:  # type: ignore[no-untyped-def]
    (project.root / ".trivyignore.yaml").write_text(
        "misconfigurations:\n  - id: DS002\n    paths: [services/app/Dockerfile]\n"
        "    statement: the base image drops root at runtime\n"
    )
    project.write_config("  scan:\n    ignore_file: .trivyignore.yaml\n")
    result = run_cli("--config", str(project.config), "scan", "--config", "--json")
    assert result.code == 0, result.err
    [target] = result.json()["targets"]
    [suppressed] = [f for f in target["findings"] if f["status"] == "suppressed"]
    assert suppressed["id"] == "DS-0002" and "drops root at runtime" in suppressed["reason"]


def test_kubernetes_manifest_in_gitops_is_scanned_with_lines(project, run_cli, trivy_bin) -> None:  # type: ignore[no-untyped-def]
    (project.root / "gitops" / "apps").mkdir(parents=True)
    (project.root / "gitops" / "apps" / "deploy.yaml").write_text(DEPLOYMENT)
    result = run_cli(
        "--config", str(project.config), "scan", "--config", "--severity", "HIGH,CRITICAL", "--json"
    )
    assert result.code == 1
    gitops = next(t for t in result.json()["targets"] if t["image"] == "gitops")
    privileged = next(f for f in gitops["findings"] if f["id"] == "KSV-0017")
    assert (privileged["status"], privileged["path"], privileged["start_line"]) == (
        "fail",
        "gitops/apps/deploy.yaml",
        13,
    )


def test_nothing_configured_is_skipped_not_passed(project, run_cli) -> None:  # type: ignore[no-untyped-def]
    (project.root / "services" / "app" / "Dockerfile").unlink()
    result = run_cli("--config", str(project.config), "scan", "--config", "--json")
    assert result.code == 0
    data = result.json()
    assert data["targets"] == []
    assert all(s["status"] == "SKIPPED" for s in data["skipped"]) and len(data["skipped"]) == 4


CHART_REQUIRING_A_DIGEST = {
    "Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "values.yaml": "image:\n  digest: \"\"\n",
    "templates/deployment.yaml": DEPLOYMENT.replace(
        "image: 127.0.0.1:5000/gates-test/app:1",
        'image: "repo@{{ required "image.digest is empty" .Values.image.digest }}"',
    ).replace("privileged: true", "privileged: false"),
}


def test_a_chart_trivy_cannot_render_fails_closed_until_gates_helm_set_gives_its_values(
    project, run_cli, trivy_bin
) -> None:  # type: ignore[no-untyped-def]
    """Trivy only warns when it skips a chart; an unrendered chart was not checked: exit 3."""
    for rel, text in CHART_REQUIRING_A_DIGEST.items():
        path = project.root / "charts" / "web" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (project.root / "services" / "app" / "Dockerfile").write_text("FROM scratch\nUSER 1000\n")
    blind = run_cli("--config", str(project.config), "scan", "--config")
    assert blind.code == 3, blind.err
    assert "could not render Helm chart 'web'" in blind.err and "gates.helm_set" in blind.err
    project.write_config('  helm_set: {charts: {image.digest: "sha256:' + "0" * 64 + '"}}\n')
    rendered = run_cli("--config", str(project.config), "scan", "--config", "--json")
    assert rendered.code in (0, 1), rendered.err  # judged now: findings or not, it was checked
    charts = next(t for t in rendered.json()["targets"] if t["image"] == "charts")
    assert any(f["path"].startswith("charts/web/templates/") for f in charts["findings"])
