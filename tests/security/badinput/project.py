"""The base project of the bad-input cases: what `devops config validate` accepts (a control
case checks it), so that each case changes exactly one thing."""

from __future__ import annotations

from pathlib import Path

from tests.support.project import commit_all, git, make_project

ENVIRONMENTS = """\
environments:
  dev:
    url: http://localhost:8080
    cluster: {name: test-dev}
    gitops: {path: gitops/environments/dev}
  prod:
    url: https://shop.example.com
    cluster: {name: test-prod}
    gitops: {path: gitops/environments/prod, mode: commit}
    promote_from: dev
"""

RELEASE_RECORD = """\
{
  "schema": 1,
  "environment": "dev",
  "released_at": null,
  "released_by": null,
  "source_commit": null,
  "promoted_from": null,
  "services": {}
}
"""


def write_base_project(root: Path) -> Path:
    """Two services (alpha, beta), dev and prod environments, GitOps folders, one git commit."""
    make_project(root, commit=False)
    config = root / "pipelines" / "devops.yaml"
    text = config.read_text()
    head, _, _ = text.partition("environments:\n")
    config.write_text(head + ENVIRONMENTS)
    for env in ("dev", "prod"):
        folder = root / "gitops" / "environments" / env
        (folder / "values").mkdir(parents=True)
        (folder / "release.json").write_text(RELEASE_RECORD.replace('"dev"', f'"{env}"'))
        for service in ("alpha", "beta"):
            (folder / "values" / f"{service}.yaml").write_text(
                f"image:\n  repository: 127.0.0.1:5000/test/{service}\n  tag: ''\n  digest: ''\n")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "initial")
    return root
