"""docs/workflows.md names every secret, variable and GitHub environment the workflows need,
so a maintainer can configure the repository from the docs alone."""

from __future__ import annotations

import re

from tests.workflows.conftest import ROOT
from tests.workflows.hardening import Workflow

DOC = ROOT / "docs" / "workflows.md"


def _needed(workflows: dict[str, Workflow]) -> set[str]:
    names: set[str] = set()
    for w in workflows.values():
        names |= set(re.findall(r"\bsecrets\.([A-Za-z0-9_]+)", w.text))
        names |= set(re.findall(r"\bvars\.([A-Za-z0-9_]+)", w.text))
        # vars[matrix.X]: the variable names come from the matrix entries
        names |= set(re.findall(r"role_var:\s*([A-Z0-9_]+)", w.text))
        for job in w.jobs.values():
            env = job.get("environment")
            if env:
                names.add(env["name"] if isinstance(env, dict) else env)
    return names


def test_docs_name_every_secret_variable_and_environment(workflows: dict[str, Workflow]) -> None:
    needed = _needed(workflows)
    assert {"DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN", "SONAR_TOKEN", "AWS_RELEASE_ROLE_ARN_DEV",
            "AWS_RELEASE_ROLE_ARN_PROD", "AWS_COST_ROLE_ARN_DEV", "AWS_PLAN_ROLE_ARN_DEV", "prod"} <= needed
    doc = DOC.read_text(encoding="utf-8")
    missing = sorted(n for n in needed if f"`{n}`" not in doc)
    assert not missing, f"{DOC.relative_to(ROOT)} does not name {missing}"


def test_docs_list_every_workflow(workflows: dict[str, Workflow]) -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert all(f"`{name}`" in doc for name in workflows), sorted(workflows)


def test_the_rotation_runbook_covers_both_tokens() -> None:
    runbook = (ROOT / "docs" / "runbooks" / "rotate-tokens.md").read_text(encoding="utf-8")
    for name in ("DOCKERHUB_TOKEN", "SONAR_TOKEN", "Revoke"):
        assert name in runbook
