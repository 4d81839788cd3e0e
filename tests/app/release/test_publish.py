"""Publishing (devops/app/gitops_publish.py, gitops_pull_request.py) on the in-memory GitOps
repository: commits, no-ops, every refusal, and the compare-and-swap re-apply path with races
injected while a push is on its way (tests/gitops has the same against real git)."""

from __future__ import annotations

import pytest

from devops.app.gitops_pull_request import PullRequestsUnavailable, branch_name
from devops.domain.gitops.change import ChangeSet, ConcurrentChange, ImageUpdate
from devops.domain.gitops.message import parse_trailers
from devops.errors import BadInput, ExitCode, ExternalError, UnknownName
from tests.app.release.conftest import (
    DIGEST_A,
    DIGEST_B,
    DIGEST_C,
    RECORD,
    REPOSITORY,
    SOURCE,
    VALUES,
    Gitops,
    entry,
    record,
    values_text,
)
from tests.fakes.gitops import DENIED, FakePullRequests

ALPHA = ImageUpdate("alpha", REPOSITORY.format(service="alpha"), "sha-aaaaaaa", DIGEST_A)
ALPHA_C = ImageUpdate("alpha", REPOSITORY.format(service="alpha"), "sha-ccccccc", DIGEST_C)
BETA = ImageUpdate("beta", REPOSITORY.format(service="beta"), "sha-bbbbbbb", DIGEST_B)
ALPHA_VALUES = VALUES.format(env="dev", service="alpha")
BETA_VALUES = VALUES.format(env="dev", service="beta")
DEV_RECORD = RECORD.format(env="dev")


def change(*updates: ImageUpdate, with_record: bool = True, env: str = "dev") -> ChangeSet:
    data = record(env, **{u.service: entry(u.service, u.digest) for u in updates}) if with_record else None
    return ChangeSet(env, updates, record=data, source_commit=SOURCE, action="release")


def test_one_commit_with_values_record_and_trailers(gitops: Gitops) -> None:
    with gitops.session() as repo:
        result = repo.publish(change(ALPHA, BETA))
        assert repo.commit == result.commit  # the tip is now ours
    assert (result.outcome, result.attempts, result.branch) == ("committed", 1, "main")
    assert result.commit == gitops.remote.branches["main"] and gitops.commits() == 2
    assert f'digest: "{DIGEST_A}"' in (gitops.file(ALPHA_VALUES) or "")
    assert sorted(gitops.record("dev")["services"]) == ["alpha", "beta"]
    assert result.files == (ALPHA_VALUES, BETA_VALUES, DEV_RECORD)
    assert result.git_operations == 6  # as git: clone, rev-parse, add, commit, rev-parse, push
    message = gitops.remote.commits[result.commit or ""].message
    assert parse_trailers(message)["Devops-Image"] == [f"alpha={ALPHA.repository}@{DIGEST_A}",
                                                       f"beta={BETA.repository}@{DIGEST_B}"]
    assert gitops.opened[0].closed


def test_the_same_change_twice_is_a_noop(gitops: Gitops) -> None:
    with gitops.session() as repo:
        repo.publish(change(ALPHA))
    with gitops.session() as repo:
        again = repo.publish(change(ALPHA))
    assert again.outcome == "noop" and again.commit is None and again.attempts == 0 and gitops.commits() == 2


def test_dry_run_pushes_nothing_and_shows_the_diff(gitops: Gitops) -> None:
    with gitops.session() as repo:
        result = repo.publish(change(ALPHA), dry_run=True)
    assert result.outcome == "dry-run" and gitops.commits() == 1 and gitops.opened[0].pushes == []
    assert f'+  digest: "{DIGEST_A}"' in result.diff


def test_a_race_is_re_applied_on_the_new_tip_keeping_the_other_release(gitops: Gitops) -> None:
    theirs = {BETA_VALUES: values_text("beta", "sha-bbbbbbb", DIGEST_B),
              DEV_RECORD: __import__("json").dumps(record("dev", beta=entry("beta", DIGEST_B)), indent=2) + "\n"}
    with gitops.session() as repo:
        gitops.opened[0].before_push.append(lambda: gitops.remote.land("main", theirs))
        result = repo.publish(change(ALPHA))
    assert result.outcome == "committed" and result.attempts == 2
    assert sorted(gitops.record("dev")["services"]) == ["alpha", "beta"]  # merged per service
    assert f'digest: "{DIGEST_B}"' in (gitops.file(BETA_VALUES) or "")
    assert len(gitops.sleeps) == 1 and 0 <= gitops.sleeps[0] <= 0.5  # full jitter under base_seconds
    assert gitops.opened[0].pushes == ["main", "main"]


def test_races_until_the_attempts_run_out_are_exit_3_and_write_nothing(gitops: Gitops) -> None:
    with gitops.session() as repo:
        fake = gitops.opened[0]
        fake.before_push.extend(lambda n=n: gitops.remote.land("main", {"env/dev/other": str(n)}) for n in range(5))
        with pytest.raises(ExternalError) as caught:
            repo.publish(change(ALPHA))
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert str(caught.value).startswith("push to fake://gitops.git (main) still rejected after 3 attempts: "
                                        "the remote branch moved")
    assert "raise environments.dev.gitops.push.attempts" in (caught.value.hint or "")
    assert len(fake.pushes) == 3 and len(gitops.sleeps) == 2
    assert all(0 <= wait <= cap for wait, cap in zip(gitops.sleeps, (0.5, 1.0), strict=True))  # growing, capped
    assert DIGEST_A not in (gitops.file(ALPHA_VALUES) or "")


def test_a_refusal_no_retry_fixes_is_not_retried(gitops: Gitops) -> None:
    with gitops.session() as repo:
        gitops.opened[0].refusals.append(DENIED)
        with pytest.raises(ExternalError, match=r"refused: the branch is protected on GitLab; use mode: "
                                                r"pull-request: ! \[remote rejected\]"):
            repo.publish(change(ALPHA))
    assert gitops.opened[0].pushes == ["main"] and gitops.sleeps == [] and gitops.commits() == 1


def test_a_push_that_landed_but_reported_unreachable_is_not_pushed_twice(gitops: Gitops) -> None:
    with gitops.session() as repo:
        gitops.opened[0].land_then_fail = True
        result = repo.publish(change(ALPHA))
    assert result.outcome == "committed" and result.attempts == 1 and gitops.commits() == 2
    assert result.commit == gitops.remote.branches["main"]


def test_the_same_service_released_meanwhile_is_a_concurrent_change(gitops: Gitops) -> None:
    theirs = {ALPHA_VALUES: values_text("alpha", "sha-bbbbbbb", DIGEST_B)}
    with gitops.session() as repo:
        gitops.opened[0].before_push.append(lambda: gitops.remote.land("main", theirs))
        with pytest.raises(ConcurrentChange) as caught:
            repo.publish(change(ALPHA_C, with_record=False))
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert "alpha: fake://gitops.git: env/dev/values/alpha.yaml: changed since this run read it" in str(caught.value)
    assert f"found {REPOSITORY.format(service='alpha')}:sha-bbbbbbb@{DIGEST_B}" in str(caught.value)
    assert gitops.file(ALPHA_VALUES) == theirs[ALPHA_VALUES]


def test_the_same_change_landing_first_makes_ours_a_noop(gitops: Gitops) -> None:
    same = {ALPHA_VALUES: values_text("alpha", "sha-aaaaaaa", DIGEST_A)}
    with gitops.session() as repo:
        gitops.opened[0].before_push.append(lambda: gitops.remote.land("main", same))
        result = repo.publish(change(ALPHA, with_record=False))
    assert result.outcome == "noop" and result.commit is None and result.attempts == 1


@pytest.mark.parametrize(("bad", "error", "message"), [
    (ChangeSet("prod", (ALPHA,)), BadInput, "change for 'prod' given to the GitOps repository of 'dev'"),
    (ChangeSet("dev", (ImageUpdate("gamma", "r", "", DIGEST_A),)), UnknownName, "unknown service 'gamma'"),
])
def test_a_change_for_another_environment_or_service_is_refused(gitops: Gitops, bad: ChangeSet,
                                                                  error: type[Exception], message: str) -> None:
    with gitops.session() as repo, pytest.raises(error, match=message):
        repo.publish(bad)
    assert gitops.opened[0].pushes == []


def test_an_unknown_mode_is_bad_input(gitops: Gitops) -> None:
    with gitops.session() as repo, pytest.raises(BadInput, match="--mode rsync: expected commit or pull-request"):
        repo.publish(change(ALPHA), mode="rsync")


def test_a_missing_values_file_is_bad_input(gitops: Gitops) -> None:
    gitops.remote.land("main", {}, "nothing")
    files = gitops.remote.files("main")
    del files[BETA_VALUES]
    gitops.remote.branches["main"] = gitops.remote.commit(files, "drop beta", gitops.remote.branches["main"])
    with gitops.session() as repo, pytest.raises(BadInput, match="values file of beta does not exist in main"):
        repo.publish(change(BETA))


def test_history_and_earlier_records(gitops: Gitops) -> None:
    with gitops.session() as repo:
        first = repo.publish(change(ALPHA)).commit
    with gitops.session() as repo:
        repo.publish(change(ALPHA_C))
        history = repo.history()
        assert [h.commit for h in history][1] == first and len(history) == 3
        assert repo.read_record_at(first or "").services["alpha"].digest == DIGEST_A
        assert repo.read_record().services["alpha"].digest == DIGEST_C
        assert repo.read_values("alpha") is not None
    gitops.remote.land("main", {}, "x")
    files = gitops.remote.files("main")
    del files[DEV_RECORD]
    gitops.remote.branches["main"] = gitops.remote.commit(files, "no record", gitops.remote.branches["main"])
    with gitops.session() as repo:
        assert repo.read_record().services == {}  # no file yet: an empty record
        with pytest.raises(BadInput, match="env/dev/release.json: not present at commit"):
            repo.read_record_at(gitops.remote.branches["main"][:10])


# -- pull-request mode -----------------------------------------------------------------------


def pr_change(*updates: ImageUpdate) -> ChangeSet:
    return ChangeSet("prod", updates, record=record("prod", **{u.service: entry(u.service, u.digest) for u in updates}),
                     source_commit=SOURCE, action="promote")


@pytest.fixture
def pr(gitops: Gitops) -> Gitops:
    gitops.mode["prod"] = "pull-request"
    return gitops


def test_without_a_provider_the_branch_is_pushed_and_the_pull_request_skipped(pr: Gitops) -> None:
    pr.pull_requests = PullRequestsUnavailable("$GITHUB_TOKEN is not set")
    with pr.session("prod") as repo:
        result = repo.publish(pr_change(ALPHA))
    branch = branch_name("devops/release", pr_change(ALPHA))
    assert result.outcome == "pull-request" and result.branch == branch and result.pull_request_url is None
    assert result.pull_request_state == f"SKIPPED: $GITHUB_TOKEN is not set; branch {branch} was pushed"
    assert pr.remote.branches[branch] == result.commit and pr.commits() == 1  # main untouched


def test_twice_one_branch_one_pull_request_with_labels(pr: Gitops) -> None:
    provider = FakePullRequests()
    pr.pull_requests = provider
    with pr.session("prod") as repo:
        first = repo.publish(pr_change(ALPHA, BETA))
    assert (first.pull_request_state, first.attempts) == ("opened", 1)
    pull = provider.open[0]
    assert pull.title == "promote(prod): alpha sha-aaaaaaa, beta sha-bbbbbbb" and pull.draft and pull.base == "main"
    assert pull.labels == ("release",) and f"GitOps commit: {first.commit}" in pull.body
    with pr.session("prod") as repo:
        second = repo.publish(pr_change(ALPHA, BETA))
    assert (second.pull_request_state, second.attempts, second.commit) == ("reused", 0, first.commit)
    assert [c.split()[0] for c in provider.calls] == ["find", "create", "label", "find"]  # nothing written again


def test_a_changed_body_is_updated_on_the_open_pull_request(pr: Gitops) -> None:
    provider = FakePullRequests()
    pr.pull_requests = provider
    with pr.session("prod") as repo:
        repo.publish(pr_change(ALPHA))
    provider.open[0].body = "edited by hand"
    with pr.session("prod") as repo:
        result = repo.publish(pr_change(ALPHA))
    assert result.pull_request_state == "reused" and "update #1" in provider.calls
    assert provider.open[0].body.startswith("**promote** of `prod`")


def test_a_branch_lacking_part_of_the_change_gets_it_on_top(pr: Gitops) -> None:
    branch = branch_name("devops/release", pr_change(ALPHA, BETA))
    pr.remote.branches[branch] = pr.remote.commit({**pr.remote.files("main"), "env/prod/NOTES.md": "reviewed\n"},
                                                  "review note", pr.remote.branches["main"])
    reviewed = pr.remote.branches[branch]
    with pr.session("prod") as repo:
        result = repo.publish(pr_change(ALPHA, BETA))
    assert result.attempts == 1 and pr.remote.commits[result.commit or ""].parent == reviewed
    assert [c.service for c in result.changes] == ["alpha", "beta"]


def test_pull_request_mode_noop_and_dry_run(pr: Gitops) -> None:
    with pr.session("prod") as repo:
        assert repo.publish(pr_change(ALPHA), dry_run=True).outcome == "dry-run"
    assert list(pr.remote.branches) == ["main"]
    with pr.session("prod") as repo:
        assert repo.publish(pr_change(ALPHA), mode="commit").outcome == "committed"
    with pr.session("prod") as repo:
        assert repo.publish(pr_change(ALPHA)).outcome == "noop"
    assert list(pr.remote.branches) == ["main"]


def test_a_base_other_than_the_target_is_where_the_pull_request_goes(pr: Gitops) -> None:
    pr.base = "release"
    pr.remote.branches["release"] = pr.remote.commit({**pr.remote.files("main"), "env/prod/BASE": "x"}, "base",
                                                     pr.remote.branches["main"])
    provider = FakePullRequests()
    pr.pull_requests = provider
    with pr.session("prod") as repo:
        result = repo.publish(pr_change(ALPHA))
    assert provider.open[0].base == "release"
    assert pr.remote.files(result.branch)["env/prod/BASE"] == "x"  # branched from the base
