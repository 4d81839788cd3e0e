"""Every workflow validates against the GitHub workflow JSON schema, the composite action
against the GitHub action schema (PyPI check-jsonschema, vendored schemas: offline)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from devops.adapters.process import run
from tests.workflows.conftest import ACTIONS, ROOT, WORKFLOWS


def check_jsonschema(schema: str, *files: Path) -> tuple[int, str]:
    result = run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
                 cwd=ROOT, timeout=120, check=False)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_github_workflow_schema(path: Path) -> None:
    code, output = check_jsonschema("vendor.github-workflows", path)
    assert code == 0, output


@pytest.mark.parametrize("path", ACTIONS, ids=lambda p: p.parent.name)
def test_composite_action_matches_the_github_action_schema(path: Path) -> None:
    code, output = check_jsonschema("vendor.github-actions", path)
    assert code == 0, output


def test_the_workflow_schema_rejects_a_broken_workflow(tmp_path: Path) -> None:
    """Control: a job without runs-on and with a misspelt key fails the same check."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\npermissions: {}\njobs:\n  build:\n    timeout-minutes: 5\n"
                   "    stepz:\n      - run: echo hi\n")
    code, output = check_jsonschema("vendor.github-workflows", bad)
    assert code == 1
    assert "bad.yml" in output and "jobs.build" in output


def test_the_action_schema_rejects_a_composite_step_without_shell(tmp_path: Path) -> None:
    bad = tmp_path / "action.yml"
    bad.write_text("name: x\ndescription: x\nruns:\n  using: composite\n  steps:\n    - run: echo hi\n")
    code, output = check_jsonschema("vendor.github-actions", bad)
    assert code == 1, output
