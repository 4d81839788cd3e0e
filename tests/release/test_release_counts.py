"""What a release, a promotion and `devops status` cost, counted from the outside (issue 18): the
`git`, `docker` and `trivy` processes devops starts (logging shims on PATH), on the real engine,
registry, Trivy and a bare GitOps remote. Counts only, never timings.

- a cold dev release of two services: each image pushed once under its identity tag, one Trivy
  server whose clients are the two scans;
- a dev release of one changed service: 1 build, 1 scan, 1 push, one GitOps commit;
- a release with nothing changed: no build, no scan, no push, no commit;
- status over every environment and a promotion: one clone of the GitOps repository (for status
  without a checkout: one `git cat-file --batch` per environment), and a control where prod lives
  on another branch (two clones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.release.conftest import Shop
from tests.support.cli import run_cli
from tests.support.project import git
from tests.support.toollog import ToolLog

pytestmark = pytest.mark.docker


def builds(log: ToolLog) -> int:
    counts = log.count("docker")
    return counts["build"] + counts["buildx build"]


def test_one_changed_service_costs_one_build_scan_push_and_commit_and_no_change_costs_none(
        shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = ToolLog(tmp_path / "bin", monkeypatch)
    first = run_cli("--json", "release", "--env", "dev", cwd=shop.root)
    assert first.code == 0, first.err
    assert builds(log) == 2 and log.count("docker")["push"] == 2, log.count("docker")  # control: both built
    # Each image pushed once, under its identity tag only (the sha- tag is added in the registry).
    assert all(":in-" in c[-1] for c in log.calls("docker") if c[0] == "push")
    # One Trivy server for the release, its scans its clients: each layer analysed once.
    trivy = log.calls("trivy")
    assert [c[0] for c in trivy if c[0] == "server"] == ["server"], trivy
    scans = [c for c in trivy if c[0] == "image"]
    assert len(scans) == 2 and all("--server" in c and "--cache-backend" not in c for c in scans), scans

    shop.change_service("beta", "beta v2\n")
    commits = shop.commits()
    log.reset()
    second = run_cli("--json", "release", "--env", "dev", cwd=shop.root)
    assert second.code == 0, second.err
    assert {s["service"]: s["status"] for s in second.json()["services"]} == {  # type: ignore[index]
        "alpha": "unchanged", "beta": "released"}
    git_counts = log.count("git")  # before the test's own git calls below
    docker = log.count("docker")
    assert builds(log) == 1, docker
    assert docker["push"] == 1, docker  # one push per image; the other tags through the registry API
    scans = [c for c in log.calls("trivy") if "image" in c]
    assert len(scans) == 1 and any("/beta:" in arg for arg in scans[0]), scans
    assert log.count("trivy")["server"] == 0, "one image: no server to start"
    assert len(shop.commits()) == len(commits) + 1, "one GitOps commit"
    assert git_counts["clone"] == 1
    # The source revision (commit, dirtiness, semver tag) is asked once for the build labels and
    # the record; 16 git processes in all (what one service cost before issue 18: 16).
    assert git_counts["log"] == 1 and git_counts["tag"] == 1 and git_counts["status"] == 1, git_counts
    assert sum(git_counts.values()) <= 16, git_counts

    commits = shop.commits()
    log.reset()
    noop = run_cli("--json", "release", "--env", "dev", cwd=shop.root)
    assert noop.code == 0, noop.err
    assert [s["status"] for s in noop.json()["services"]] == ["unchanged", "unchanged"]  # type: ignore[index]
    docker = log.count("docker")
    assert builds(log) == 0 and docker["push"] == 0, docker
    # Nothing to do: the build identity (two `ls-files`), one clone and its `rev-parse`; no revision
    # lookup (the unchanged rows show the tag the record holds).
    git_counts = log.count("git")
    assert [c for c in log.calls("trivy") if "image" in c] == []
    assert shop.commits() == commits
    assert git_counts["log"] == git_counts["tag"] == git_counts["status"] == 0, git_counts
    assert sum(git_counts.values()) == 4, git_counts
    assert {s["service"]: s["tag"] for s in noop.json()["services"]} == {  # type: ignore[index]
        s["service"]: s["tag"] for s in second.json()["services"]}  # type: ignore[index]


def test_status_and_a_promotion_clone_the_gitops_repository_once(
        shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("release", "--env", "dev", cwd=shop.root).code == 0
    log = ToolLog(tmp_path / "bin", monkeypatch)
    status = run_cli("--json", "status", cwd=shop.root)
    assert status.code == 0, status.err
    assert {e["environment"] for e in status.json()["environments"]} == {"dev", "prod"}  # type: ignore[index]
    git_counts = log.count("git")
    assert git_counts["clone"] == 1, git_counts
    # No checkout: the tree listed once, one `cat-file --batch` per environment folder, nothing
    # written or reset (the files come from git's objects).
    assert git_counts["ls-tree"] == 1 and git_counts["cat-file"] == 2, git_counts
    assert git_counts["reset"] == 0 and git_counts["checkout"] == 0, git_counts
    # --json: the JSON has every row; stderr has one line per environment, no tables.
    assert "prod @ " in status.err and "digest" not in status.err
    human = run_cli("status", cwd=shop.root)
    assert human.code == 0 and "digest" in human.out + human.err, "control: the tables without --json"

    log.reset()
    promoted = run_cli("--json", "release", "--env", "prod", cwd=shop.root)
    assert promoted.code == 0, promoted.err
    assert log.count("git")["clone"] == 1, log.count("git")
    assert shop.record("prod")["services"].keys() == shop.record("dev")["services"].keys()

    # Control: prod on a branch of its own is a second clone (the clone is shared only where the
    # repository and branch are the same), and what status reads there is prod's.
    git(shop.remote, "branch", "prod-branch", "main")
    config = shop.root / "pipelines" / "devops.yaml"
    text = config.read_text()
    marker = "path: gitops/environments/prod, mode: commit"
    assert text.count("branch: main, " + marker) == 1
    config.write_text(text.replace("branch: main, " + marker, "branch: prod-branch, " + marker))
    log.reset()
    split = run_cli("--json", "status", cwd=shop.root)
    assert split.code == 0, split.err
    assert log.count("git")["clone"] == 2, log.count("git")
    envs = {e["environment"]: e for e in split.json()["environments"]}  # type: ignore[index]
    dev = shop.record("dev")["services"]
    assert {s["service"]: s["digest"] for s in envs["prod"]["services"]} == {
        name: entry["digest"] for name, entry in dev.items()}
