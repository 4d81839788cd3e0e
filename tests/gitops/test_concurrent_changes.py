"""A change re-applied after a rejected push never overwrites a concurrent change of the same
service; a change of another service is kept. Real git: a bare remote, real clones, and the
concurrent release injected either from a second clone between our clone and our push, or
from the remote's pre-receive hook while our push is received (as tests/gitops/test_publish.py
injects rejections)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devops.config import Config
from devops.domain.gitops.change import ChangeSet, ConcurrentChange, ImageUpdate
from devops.errors import ExitCode
from tests.domain.gitops.test_record import full_record
from tests.gitops.conftest import DIGEST_B, DIGEST_C, SOURCE, Remote, git, open_repo

ALPHA_B = ImageUpdate("alpha", "docker.io/test/alpha", "sha-bbbbbbb", DIGEST_B)
ALPHA_C = ImageUpdate("alpha", "docker.io/test/alpha", "sha-ccccccc", DIGEST_C)
BETA_B = ImageUpdate("beta", "docker.io/test/beta", "sha-bbbbbbb", DIGEST_B)
RECORD = "gitops/environments/dev/release.json"
VALUES = "gitops/environments/dev/values/{}.yaml"

# Lands the commit prepared under refs/pending/other on main while the first push is received,
# so the server refuses our ref update and the engine must fetch and re-apply.
LAND_PENDING_HOOK = """#!/bin/sh
n=$(cat "$GIT_DIR/pushes" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$GIT_DIR/pushes"
if [ "$n" -eq 1 ]; then
  unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
  git update-ref refs/heads/main "$(git rev-parse refs/pending/other)" "$(git rev-parse refs/heads/main)"
fi
exit 0
"""


def change(*updates: ImageUpdate, record: dict[str, Any] | None = None, action: str = "release") -> ChangeSet:
    return ChangeSet("dev", updates, record=record, source_commit=SOURCE, action=action)


def record_with(alpha: str | None = None, beta: str | None = None) -> dict[str, Any]:
    return full_record(**{name: digest for name, digest in (("alpha", alpha), ("beta", beta)) if digest})


def pending_release(remote: Remote, update: ImageUpdate, record: dict[str, Any]) -> str:
    """A commit on top of main that releases `update` (values and record), kept off main under
    refs/pending/other until the hook lands it."""
    path = remote.seed / VALUES.format(update.service)
    git(remote.seed, "pull", "-q", "origin", "main")
    text = path.read_text()
    lines = []
    for line in text.splitlines(keepends=True):
        key = line.strip().split(":", 1)[0]
        if key == "tag" and line.startswith(("  tag", "    tag")):
            line = line.split(":", 1)[0] + f': "{update.tag}"\n'
        elif key == "digest" and line.startswith(("  digest", "    digest")):
            line = line.split(":", 1)[0] + f': "{update.digest}"\n'
        lines.append(line)
    path.write_text("".join(lines))
    (remote.seed / RECORD).write_text(json.dumps(record, indent=2) + "\n")
    git(remote.seed, "-c", "user.name=other", "-c", "user.email=o@example.com", "commit", "-qam",
        f"release(dev): {update.service} by another run")
    git(remote.seed, "push", "-q", "origin", "HEAD:refs/pending/other")
    commit = git(remote.seed, "rev-parse", "HEAD").strip()
    git(remote.seed, "reset", "-q", "--hard", "origin/main")
    return commit


def test_same_service_released_between_clone_and_push_is_refused_naming_both_values(
        config: Config, remote: Remote) -> None:
    with open_repo(config) as repo:
        with open_repo(config) as other:
            other.publish(change(ALPHA_B, record=record_with(alpha=DIGEST_B)))
        theirs = remote.tip()
        with pytest.raises(ConcurrentChange) as caught:
            repo.publish(change(ALPHA_C, record=record_with(alpha=DIGEST_C)))
    assert caught.value.exit_code == ExitCode.EXTERNAL
    message = str(caught.value)
    assert message.startswith("alpha: ") and "values/alpha.yaml: changed since this run read it" in message
    assert "expected (no image)" in message and f"found docker.io/test/alpha:sha-bbbbbbb@{DIGEST_B}" in message
    assert "nothing was written" in message
    assert remote.tip() == theirs  # their release stands, ours wrote nothing
    assert json.loads(remote.show(RECORD))["services"]["alpha"]["digest"] == DIGEST_B


def test_same_service_landing_while_the_push_is_received_is_refused(config: Config, remote: Remote) -> None:
    theirs = pending_release(remote, ALPHA_B, record_with(alpha=DIGEST_B))
    remote.hook("pre-receive", LAND_PENDING_HOOK)
    with open_repo(config) as repo, pytest.raises(ConcurrentChange, match=f"found docker.io/test/alpha:sha-bbbbbbb@"
                                                                          f"{DIGEST_B}"):
        repo.publish(change(ALPHA_C, record=record_with(alpha=DIGEST_C)))
    assert (remote.bare / "pushes").read_text().strip() == "1"  # refused on the re-apply, not pushed again
    assert remote.tip() == theirs


def test_record_only_change_of_a_service_released_meanwhile_is_refused(config: Config, remote: Remote) -> None:
    # Our change refreshes alpha's evidence (record only, e.g. a promotion of the same digest);
    # meanwhile alpha was released with another digest: writing ours would put the record back
    # to the old digest while the values run the new one.
    with open_repo(config) as seed:
        seed.publish(change(ALPHA_B, record=record_with(alpha=DIGEST_B)))
    refreshed = record_with(alpha=DIGEST_B)
    refreshed["services"]["alpha"]["scan"]["checked_at"] = "2026-12-01T00:00:00Z"
    with open_repo(config) as repo:
        with open_repo(config) as other:
            other.publish(change(ALPHA_C, record=record_with(alpha=DIGEST_C)))
        theirs = remote.tip()
        with pytest.raises(ConcurrentChange) as caught:
            repo.publish(change(record=refreshed, action="promote"))
    message = str(caught.value)
    assert "release.json: services.alpha: changed since this run read it" in message
    assert f"expected docker.io/test/alpha:sha-1234567@{DIGEST_B}" in message
    assert f"found docker.io/test/alpha:sha-1234567@{DIGEST_C}" in message
    assert remote.tip() == theirs


def test_control_another_services_release_is_kept(config: Config, remote: Remote) -> None:
    theirs = pending_release(remote, BETA_B, record_with(beta=DIGEST_B))
    remote.hook("pre-receive", LAND_PENDING_HOOK)
    with open_repo(config) as repo:
        result = repo.publish(change(ALPHA_C, record=record_with(alpha=DIGEST_C)))
    assert result.outcome == "committed" and result.attempts == 2
    assert git(remote.bare, "rev-parse", "main^").strip() == theirs
    services = json.loads(remote.show(RECORD))["services"]
    assert (services["alpha"]["digest"], services["beta"]["digest"]) == (DIGEST_C, DIGEST_B)
    assert f"'{DIGEST_B}'" in remote.show(VALUES.format("beta")).decode() or \
        f'"{DIGEST_B}"' in remote.show(VALUES.format("beta")).decode()


def test_control_the_same_change_landing_first_is_a_noop(config: Config, remote: Remote) -> None:
    with open_repo(config) as repo:
        with open_repo(config) as other:
            other.publish(change(ALPHA_C, record=record_with(alpha=DIGEST_C)))
        tip = remote.tip()
        ours = record_with(alpha=DIGEST_C)
        ours["released_at"] = "2026-11-26T09:00:00Z"  # another act (so another commit), the same state
        result = repo.publish(change(ALPHA_C, record=ours))
    assert result.outcome == "noop" and result.attempts == 1 and remote.tip() == tip


def test_evidence_only_change_of_the_same_image_is_not_a_conflict(config: Config, remote: Remote) -> None:
    # Someone refreshed alpha's evidence (same digest) meanwhile; our release replaces alpha.
    with open_repo(config) as seed:
        seed.publish(change(ALPHA_B, record=record_with(alpha=DIGEST_B)))
    with open_repo(config) as repo:
        with open_repo(config) as other:
            refreshed = record_with(alpha=DIGEST_B)
            refreshed["services"]["alpha"]["scan"]["checked_at"] = "2026-12-01T00:00:00Z"
            other.publish(change(record=refreshed, action="promote"))
        result = repo.publish(change(ALPHA_C, record=record_with(alpha=DIGEST_C)))
    assert result.outcome == "committed" and result.attempts == 2
    assert json.loads(remote.show(RECORD))["services"]["alpha"]["digest"] == DIGEST_C


def test_cli_set_image_race_is_exit_3_naming_service_and_both_values(
        config_path: Path, remote: Remote) -> None:
    from tests.support.cli import run_cli

    pending_release(remote, ALPHA_B, record_with(alpha=DIGEST_B))
    remote.hook("pre-receive", LAND_PENDING_HOOK)
    outcome = run_cli("--config", str(config_path), "gitops", "set-image", "--env", "dev",
                      f"alpha=docker.io/test/alpha:sha-ccccccc@{DIGEST_C}")
    assert outcome.code == 3, outcome.err
    line = [x for x in outcome.err.splitlines() if x.startswith("devops: error:")]
    assert len(line) == 1 and "alpha:" in line[0] and "expected (no image)" in line[0]
    assert f"found docker.io/test/alpha:sha-bbbbbbb@{DIGEST_B}" in line[0]
