"""One clone of a GitOps repository per run (issue 18), on real git: environments on the same
repository and branch read one clone; a clone a publish wrote to is not handed out again, so an
environment never reads another one's uncommitted edits or a pull-request branch."""

from __future__ import annotations

from devops.config import Config
from devops.domain.gitops.change import ChangeSet, ImageUpdate
from devops.wiring.gitops import GitOpsClones, open_gitops
from devops.wiring.settings import RuntimeSettings
from tests.gitops.conftest import DIGEST_A, SOURCE, Remote


def session(config: Config, env: str, clones: GitOpsClones):  # type: ignore[no-untyped-def]
    return open_gitops(config, env, RuntimeSettings.from_environ(), clones=clones)


def test_environments_on_one_branch_share_one_clone_until_one_is_written(config: Config, remote: Remote) -> None:
    clones = GitOpsClones()
    with session(config, "dev", clones) as dev, session(config, "prod", clones) as prod:
        assert clones.made == 1
        assert dev.repo.clone_dir == prod.repo.clone_dir  # type: ignore[attr-defined]
        assert dev.read_record().environment == "dev" and prod.read_record().environment == "prod"
        assert dev.commit == prod.commit == remote.tip()
    with session(config, "dev", clones) as again:
        assert clones.made == 1, "closed views keep the run's clone"
        written = again.repo.clone_dir  # type: ignore[attr-defined]
        change = ChangeSet(environment="dev", updates=(ImageUpdate("alpha", "docker.io/test/alpha", "t", DIGEST_A),),
                           source_commit=SOURCE)
        assert again.publish(change).outcome == "committed"
    with session(config, "prod", clones) as prod:
        assert clones.made == 2, "a written clone is not shared again"
        assert prod.commit == remote.tip(), "the new clone has the pushed commit"
        folder = prod.repo.clone_dir  # type: ignore[attr-defined]
    assert not written.exists(), "the written clone went with its last view"
    assert folder.exists()
    clones.close()
    assert not folder.exists(), "close() removes the run's clones"


def test_without_the_run_s_clones_every_session_clones(config: Config, remote: Remote) -> None:
    # Control: `clones` not given (one-off commands such as `gitops set-image`) clones each time.
    with open_gitops(config, "dev", RuntimeSettings.from_environ()) as dev, \
            open_gitops(config, "prod", RuntimeSettings.from_environ()) as prod:
        assert dev.repo.clone_dir != prod.repo.clone_dir  # type: ignore[attr-defined]
