"""The files of gitops/environments/ are what the GitOps engine (devops.gitops) reads and writes:
its parser accepts them, its writer produces them byte for byte, and a release's edit of a
values file changes only the image lines and still renders."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from devops.config.model import Config
from tests.gitops_manifests.test_environments import _image_block

record = pytest.importorskip("devops.domain.gitops.record")
values = pytest.importorskip("devops.domain.gitops.values")
change = pytest.importorskip("devops.domain.gitops.change")

DIGEST = "sha256:" + "cd" * 32


def test_the_engine_reads_the_initial_records_and_writes_them_identically(
    gitops: Path, environments: list[str], config: Config
) -> None:
    for env in environments:
        path = gitops / "environments" / env / config.environments[env].gitops.record_file
        text = path.read_text()
        parsed = record.parse(text, str(path), environment=env)
        if parsed.services:
            pytest.skip(f"{env} has been released since")
        assert record.ReleaseRecord.empty(env).to_json() == text, f"{path} is not the engine's empty record"


def test_a_release_edits_only_the_tag_and_digest_lines(gitops: Path, environments: list[str], config: Config) -> None:
    for env in environments:
        for service in config.services:
            path = gitops / "environments" / env / "values" / f"{service}.yaml"
            before = path.read_text()
            image = change.ImageRef(f"docker.io/techitfactory/{service}", "sha-abc1234", DIGEST)
            after = values.set_image(before, str(path), image)
            changed = [
                line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
                if line[:1] in "+-" and not line.startswith(("+++", "---"))
            ]
            assert [line[1:].split(":")[0].strip() for line in changed] == ["tag", "digest", "tag", "digest"], changed
            assert _image_block(service, env).match(after)
            assert values.read_image(after, str(path)) == image
