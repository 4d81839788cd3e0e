"""`devops gitops set-image`: bad input is exit 2 with one line; results as JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitops.conftest import DIGEST_A, Remote
from tests.support.cli import run_cli

GOOD = f"alpha=docker.io/test/alpha:sha-aaaaaaa@{DIGEST_A}"


def set_image(config_path: Path, *args: str) -> object:
    return run_cli("--config", str(config_path), "gitops", "set-image", *args)


@pytest.mark.parametrize(("args", "message"), [
    (("--env", "dev", "alpha=docker.io/test/alpha:v1"),
     "devops: error: 'alpha=docker.io/test/alpha:v1': the digest is missing; expected SERVICE=REPOSITORY:TAG@sha256:"),
    (("--env", "dev", "alpha=docker.io/test/alpha:v1@sha256:abc123"),
     "devops: error: 'alpha=docker.io/test/alpha:v1@sha256:abc123': digest 'sha256:abc123' has 6 hex characters, "
     "expected 64"),
    (("--env", "dev", f"alpah=docker.io/test/alpha:v1@{DIGEST_A}"),
     "unknown service 'alpah'; known: alpha, beta (did you mean 'alpha'?)"),
    (("--env", "prdo", GOOD), "unknown environment 'prdo'; known: dev, prod (did you mean 'prod'?)"),
    (("--env", "dev", "alpha"), "devops: error: 'alpha': expected SERVICE=REPOSITORY:TAG@sha256:<64 hex>"),
])
def test_bad_input_is_exit_2_with_one_line(config_path: Path, remote: Remote, args: tuple[str, ...],
                                           message: str) -> None:
    result = set_image(config_path, *args)
    assert result.code == 2, result.err  # type: ignore[attr-defined]
    assert message in result.err and len(result.err.strip().splitlines()) == 1  # type: ignore[attr-defined]
    assert len(remote.log()) == 1  # nothing written


def test_missing_arguments_are_usage_errors(config_path: Path) -> None:
    assert set_image(config_path, GOOD).code == 2  # type: ignore[attr-defined]
    assert set_image(config_path, "--env", "dev").code == 2  # type: ignore[attr-defined]


def test_json_result_then_noop(config_path: Path, remote: Remote) -> None:
    first = run_cli("--json", "--config", str(config_path), "gitops", "set-image", "--env", "dev", GOOD)
    assert first.code == 0, first.err
    data = first.json()
    assert isinstance(data, dict)
    assert data["outcome"] == "committed" and data["commit"] == remote.tip() and data["attempts"] == 1
    assert data["changes"] == [{"service": "alpha", "old": "", "new": f"docker.io/test/alpha:sha-aaaaaaa@{DIGEST_A}"}]
    assert data["git_operations"] == 6
    second = run_cli("--config", str(config_path), "gitops", "set-image", "--env", "dev", GOOD)
    assert second.code == 0 and "nothing to change" in second.out and len(remote.log()) == 2


def test_dry_run_prints_the_diff(config_path: Path, remote: Remote) -> None:
    result = set_image(config_path, "--env", "dev", "--dry-run", GOOD)
    assert result.code == 0  # type: ignore[attr-defined]
    assert f'+    digest: "{DIGEST_A}"' in result.out and len(remote.log()) == 1  # type: ignore[attr-defined]


def test_mode_option_overrides_the_environment(config_path: Path, remote: Remote) -> None:
    result = run_cli("--json", "--config", str(config_path), "gitops", "set-image", "--env", "dev",
                     "--mode", "pull-request", GOOD)
    assert result.code == 0, result.err
    data = result.json()
    assert isinstance(data, dict) and data["outcome"] == "pull-request"
    assert data["branch"] in remote.branches() and len(remote.log()) == 1
    assert data["pull_request_state"].startswith("SKIPPED: ")
