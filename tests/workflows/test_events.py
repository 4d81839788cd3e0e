"""The event fields ci.yml reads exist in a real pull_request payload (shared fixtures: a pull
request from the fork crazy-max/test-docker-action to docker/test-docker-action), and the fork
guard of the Terraform plan job keeps that pull request away from the OIDC role."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.workflows.hardening import Workflow


def _resolve(payload: dict[str, Any], dotted: str) -> Any:
    value: Any = payload
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            raise KeyError(dotted)
        value = value[key]
    return value


@pytest.fixture(scope="module")
def pull_request_event(shared_fixtures: Path) -> dict[str, Any]:
    return json.loads((shared_fixtures / "github" / "event_pull_request.json").read_text())


def test_every_event_field_ci_reads_exists(workflows: dict[str, Workflow], pull_request_event: dict[str, Any]) -> None:
    fields = set(re.findall(r"github\.event\.([A-Za-z0-9_.]+[A-Za-z0-9_])", workflows["ci.yml"].text))
    assert "pull_request.head.repo.full_name" in fields
    missing = []
    for field in sorted(fields):
        try:
            _resolve(pull_request_event, field)
        except KeyError:
            missing.append(field)
    assert not missing, f"ci.yml reads event fields a pull_request payload does not have: {missing}"


def test_the_fork_guard_skips_the_terraform_plan_of_a_fork(workflows: dict[str, Workflow],
                                                          pull_request_event: dict[str, Any]) -> None:
    condition = workflows["ci.yml"].jobs["infra-plan"]["if"]
    match = re.search(r"github\.event\.([\w.]+) == github\.repository", condition)
    assert match, condition
    head = _resolve(pull_request_event, match.group(1))
    repository = pull_request_event["repository"]["full_name"]  # what github.repository is
    assert (head, repository) == ("crazy-max/test-docker-action", "docker/test-docker-action")
    assert head != repository  # a fork: the guard is false, the job (and its id-token) is skipped
    same_repo = json.loads(json.dumps(pull_request_event))
    same_repo["pull_request"]["head"]["repo"]["full_name"] = repository
    assert _resolve(same_repo, match.group(1)) == repository
