"""What the release wiring makes of the environment (RuntimeSettings) and the config: who released,
which evidence a promotion needs."""

from __future__ import annotations

from pathlib import Path

from devops.config import load_config
from devops.domain.release.evidence import EvidenceSettings
from devops.wiring.release import evidence_policy, released_by
from devops.wiring.settings import RuntimeSettings
from tests.support.project import config_text, make_project


def test_released_by_names_the_actions_run_or_the_local_user() -> None:
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "alice", "GITHUB_SERVER_URL": "https://github.com",
               "GITHUB_REPOSITORY": "techitfactory/shop", "GITHUB_RUN_ID": "42"}
    assert released_by(RuntimeSettings.from_environ(actions)) == {
        "actor": "alice", "via": "github-actions", "run_url": "https://github.com/techitfactory/shop/actions/runs/42"}
    laptop = {k: v for k, v in actions.items() if k != "GITHUB_ACTIONS"}
    assert released_by(RuntimeSettings.from_environ(laptop), user=lambda: "bob") == {
        "actor": "bob", "via": "cli", "run_url": None}

    def no_user() -> str:
        raise KeyError("uid not in passwd")

    assert released_by(RuntimeSettings.from_environ({}), user=no_user)["actor"] == "unknown"


def test_verification_is_required_exactly_when_the_source_verifies(tmp_path: Path) -> None:
    def policy(verify: str, evidence: str = "") -> EvidenceSettings:
        environments = f"""\
environments:
  dev:
    url: http://dev.example
    cluster: {{name: test-dev}}
    gitops: {{path: env/dev}}
{verify}  prod:
    url: http://prod.example
    cluster: {{name: test-prod}}
    gitops: {{path: env/prod}}
    promote_from: dev
{evidence}"""
        root = make_project(tmp_path / str(len(list(tmp_path.iterdir()))), commit=False)
        (root / "pipelines" / "devops.yaml").write_text(config_text(environments=environments))
        return evidence_policy(load_config(root / "pipelines" / "devops.yaml"), "prod")

    verifies = "    verify: {prometheus: {url: 'http://prometheus.example'}}\n"
    assert policy(verifies).require_verification is True
    assert policy("").require_verification is False
    assert policy(verifies, "    evidence: {require_verification: false, require_sonar: true}\n") == \
        EvidenceSettings(scan_max_age_days=7, require_sonar=True, require_verification=False)
