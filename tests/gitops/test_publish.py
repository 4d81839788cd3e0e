"""Publishing with real git and bare remotes in temp dirs: commits, no-ops, compare-and-swap
retries against a remote whose branch moves, refusals, unreachable remotes, two processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from devops.adapters.git.credentials import auth_env
from devops.config import Config, load_config
from devops.domain.gitops.change import ChangeSet, ImageRef, ImageUpdate
from devops.errors import BadInput, ExitCode, ExternalError
from tests.domain.gitops.test_record import full_record
from tests.gitops.conftest import ALPHA_VALUES, DIGEST_A, DIGEST_B, DIGEST_C, SOURCE, Remote, git, open_repo
from tests.support.cli import run_cli

ALPHA = ImageUpdate("alpha", "docker.io/test/alpha", "sha-aaaaaaa", DIGEST_A)
BETA = ImageUpdate("beta", "docker.io/test/beta", "sha-bbbbbbb", DIGEST_B)
VALUES = "gitops/environments/dev/values/{}.yaml"
RECORD = "gitops/environments/dev/release.json"

# Another writer lands while our push is received: moves the branch to a new commit (same tree)
# for the first N pushes, so the server refuses our ref update ("failed to update ref").
ADVANCE_HOOK = """#!/bin/sh
n=$(cat "$GIT_DIR/pushes" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$GIT_DIR/pushes"
if [ "$n" -le {times} ]; then
  unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
  tip=$(git rev-parse refs/heads/main)
  new=$(GIT_AUTHOR_NAME=other GIT_AUTHOR_EMAIL=o@example.com GIT_COMMITTER_NAME=other \\
        GIT_COMMITTER_EMAIL=o@example.com git commit-tree "$tip^{{tree}}" -p "$tip" -m "other writer $n")
  git update-ref refs/heads/main "$new" "$tip"
fi
exit 0
"""


def change(*updates: ImageUpdate, record: dict[str, Any] | None = None, action: str = "release") -> ChangeSet:
    return ChangeSet("dev", updates, record=record, source_commit=SOURCE, action=action)


def test_one_commit_with_message_trailers_and_author(config: Config, remote: Remote) -> None:
    before = remote.tip()
    with open_repo(config) as repo:
        result = repo.publish(change(ALPHA, BETA))
    assert result.outcome == "committed" and result.attempts == 1
    assert remote.log()[0].split()[0] == result.commit and len(remote.log()) == 2
    assert git(remote.bare, "rev-parse", "main^").strip() == before
    message = git(remote.bare, "log", "-1", "--format=%B", "main")
    assert message.startswith("release(dev): alpha sha-aaaaaaa, beta sha-bbbbbbb\n\n")
    assert f"alpha: (none) -> docker.io/test/alpha:sha-aaaaaaa@{DIGEST_A}" in message
    trailers = git(remote.bare, "log", "-1", "--format=%(trailers:key=Devops-Image,valueonly)", "main").split()
    assert trailers == [f"alpha=docker.io/test/alpha@{DIGEST_A}", f"beta=docker.io/test/beta@{DIGEST_B}"]
    assert git(remote.bare, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "main").strip() == \
        "devops-bot <bot@example.com>|devops-bot <bot@example.com>"
    assert [c.service for c in result.changes] == ["alpha", "beta"] and result.changes[0].old == ""
    assert result.git_operations == 6  # clone, rev-parse, add, commit, rev-parse, push
    assert "+    digest: \"sha256:" in result.diff


def test_values_file_bytes_untouched_outside_the_image_scalars(config: Config, remote: Remote) -> None:
    with open_repo(config) as repo:
        repo.publish(change(ALPHA))
    written = remote.show(VALUES.format("alpha")).decode()
    assert written == ALPHA_VALUES.replace('tag: ""        #', 'tag: "sha-aaaaaaa"        #').replace(
        'digest: ""     #', f'digest: "{DIGEST_A}"     #')
    assert remote.show(VALUES.format("beta")) == b"image:\n  repository: docker.io/test/beta\n  tag: ''\n" \
                                                  b"  digest: ''\nreplicaCount: 1\n"  # not named: untouched


def test_same_change_twice_is_a_noop_without_commit(config: Config, remote: Remote) -> None:
    with open_repo(config) as repo:
        assert repo.publish(change(ALPHA, record=full_record(alpha=DIGEST_A))).outcome == "committed"
    tip = remote.tip()
    again = full_record(alpha=DIGEST_A)
    again["released_at"] = "2026-11-26T09:00:00Z"  # a new act, the same state
    again["released_by"] = {"actor": "bob", "via": "github-actions", "run_url": "https://example.com/run/2"}
    with open_repo(config) as repo:
        result = repo.publish(change(ALPHA, record=again))
    assert result.outcome == "noop" and result.commit is None and result.changes == ()
    assert remote.tip() == tip


def test_record_written_canonically_and_read_back(config: Config, remote: Remote) -> None:
    with open_repo(config) as repo:
        result = repo.publish(change(ALPHA, record=full_record(alpha=DIGEST_A)))
    assert RECORD in result.files
    assert json.loads(remote.show(RECORD)) == full_record(alpha=DIGEST_A)
    assert remote.show(RECORD).decode() == json.dumps(full_record(alpha=DIGEST_A), indent=2) + "\n"
    with open_repo(config) as repo:
        assert repo.read_record().services["alpha"].digest == DIGEST_A
        assert repo.read_values("alpha") == ImageRef("docker.io/test/alpha", "sha-aaaaaaa", DIGEST_A)
        history = repo.history()
        assert [h.commit for h in history] == [result.commit, git(remote.bare, "rev-parse", "main^").strip()]
        assert repo.read_record_at(history[1].commit).services == {}


def test_dry_run_shows_the_diff_and_writes_nothing(config: Config, remote: Remote) -> None:
    tip = remote.tip()
    with open_repo(config) as repo:
        result = repo.publish(change(ALPHA), dry_run=True)
    assert result.outcome == "dry-run" and result.commit is None
    assert f'+    digest: "{DIGEST_A}"     # the chart pulls repository@digest' in result.diff
    assert remote.tip() == tip


def test_rejected_twice_succeeds_on_the_third_attempt(config: Config, remote: Remote) -> None:
    remote.hook("pre-receive", ADVANCE_HOOK.format(times=2))
    with open_repo(config) as repo:
        result = repo.publish(change(ALPHA))
    assert result.outcome == "committed" and result.attempts == 3
    subjects = [line.split(" ", 1)[1] for line in remote.log()]
    assert subjects == ["release(dev): alpha sha-aaaaaaa", "other writer 2", "other writer 1", "initial"]
    assert git(remote.bare, "rev-list", "--merges", "main").strip() == ""  # linear, nothing forced
    assert f'digest: "{DIGEST_A}"' in remote.show(VALUES.format("alpha")).decode()


def test_reapplies_the_change_on_the_new_tip_not_a_text_rebase(config: Config, remote: Remote) -> None:
    # Between our clone and our push, someone else releases beta: our change re-applied on their
    # tip keeps their beta and adds our alpha; their record entry for beta survives ours.
    with open_repo(config) as repo:
        with open_repo(config) as other:
            other.publish(change(BETA, record=full_record(beta=DIGEST_B)))
        result = repo.publish(change(ALPHA, record=full_record(alpha=DIGEST_A)))
    assert result.outcome == "committed" and result.attempts == 2
    assert f'digest: "{DIGEST_A}"' in remote.show(VALUES.format("alpha")).decode()
    assert f"digest: '{DIGEST_B}'" in remote.show(VALUES.format("beta")).decode()
    assert sorted(json.loads(remote.show(RECORD))["services"]) == ["alpha", "beta"]


def test_attempts_exhausted_is_exit_3_naming_remote_and_branch(config: Config, remote: Remote) -> None:
    remote.hook("pre-receive", ADVANCE_HOOK.format(times=99))
    with open_repo(config) as repo, pytest.raises(ExternalError) as caught:
        repo.publish(change(ALPHA))
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert f"push to file://{remote.bare} (main) still rejected after 3 attempts" in str(caught.value)
    assert not any("release(dev)" in line for line in remote.log())


def test_refusal_that_no_retry_fixes_is_not_retried(config: Config, remote: Remote) -> None:
    remote.hook("pre-receive", "#!/bin/sh\necho 'GitLab: You are not allowed to push code to protected branches "
                               "on this project.' >&2\nexit 1\n")
    with open_repo(config) as repo, pytest.raises(ExternalError) as caught:
        repo.publish(change(ALPHA))
    assert "refused: the branch is protected on GitLab; use mode: pull-request" in str(caught.value)
    assert (remote.bare / "hooks").exists() and len(remote.log()) == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/gitops.git", "file:///nonexistent/gitops.git"])
def test_unreachable_remote_is_exit_3_and_nothing_is_left(url: str, config_path: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("DEVOPS_GITOPS_REPO", url)
    result = run_cli("--config", str(config_path), "gitops", "set-image", "--env", "dev",
                     f"alpha=docker.io/test/alpha:v1@{DIGEST_A}")
    assert result.code == 3
    assert result.err.startswith(f"devops: error: cannot clone the GitOps repository {url} (main): ")
    assert len(result.err.strip().splitlines()) == 1
    assert list(scratch.iterdir()) == []  # the temporary clone is gone


def test_missing_local_repository_is_exit_3(config_path: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVOPS_GITOPS_REPO", str(tmp_path / "nope.git"))
    result = run_cli("--config", str(config_path), "gitops", "set-image", "--env", "dev",
                     f"alpha=docker.io/test/alpha:v1@{DIGEST_A}")
    assert result.code == 3 and f"GitOps repository {tmp_path / 'nope.git'}" in result.err


def test_missing_branch_is_exit_2(config_path: Path, remote: Remote) -> None:
    text = config_path.read_text().replace("      mode: commit\n", "      mode: commit\n      branch: release\n")
    config_path.write_text(text)
    result = run_cli("--config", str(config_path), "gitops", "set-image", "--env", "dev",
                     f"alpha=docker.io/test/alpha:v1@{DIGEST_A}")
    assert result.code == 2
    assert "environments.dev.gitops.branch: branch 'release' does not exist in file://" in result.err


def test_clone_is_removed_on_exceptions_and_interrupts(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RuntimeError), open_repo(config) as repo:
        workdir = repo.repo.workdir  # type: ignore[attr-defined]
        assert (workdir / "repo" / ".git").is_dir()
        raise RuntimeError("boom")
    assert not workdir.exists()

    import devops.adapters.git.runner as runner
    import devops.adapters.scratch as module

    created: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(**kwargs: Any) -> str:
        created.append(real_mkdtemp(**kwargs))
        return created[-1]

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(module.tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(runner, "git_run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        open_repo(config)
    assert created and not Path(created[0]).exists()


def test_a_temporary_folder_that_cannot_be_made_is_exit_3_and_nothing_is_written(
        config_path: Path, remote: Remote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full or unwritable temporary folder (injected: TMPDIR names a file): the clone cannot be
    made, the CLI says where and what to do, exit 3, the GitOps remote unchanged."""
    before = git(remote.bare, "rev-parse", "main")
    not_a_folder = tmp_path / "tmp-is-a-file"
    not_a_folder.write_text("")
    monkeypatch.setattr("tempfile.tempdir", str(not_a_folder))
    outcome = run_cli("--config", str(config_path), "gitops", "set-image", "--env", "dev",
                      f"alpha=docker.io/test/alpha:v1@{DIGEST_A}")
    assert outcome.code == 3, outcome.err
    assert f"cannot make a temporary folder in {not_a_folder}" in outcome.err and "TMPDIR" in outcome.err
    assert "internal error" not in outcome.err
    assert git(remote.bare, "rev-parse", "main") == before


def test_values_file_missing_is_bad_input(config: Config, remote: Remote) -> None:
    git(remote.seed, "rm", "-q", VALUES.format("beta"))
    git(remote.seed, "-c", "user.name=s", "-c", "user.email=s@e", "commit", "-qm", "drop beta")
    git(remote.seed, "push", "-q", "origin", "HEAD:main")
    with open_repo(config) as repo, pytest.raises(BadInput) as caught:
        repo.publish(change(BETA))
    assert f"{VALUES.format('beta')}: the values file of beta does not exist in main" in str(caught.value)


def test_dot_means_the_origin_of_the_project(tmp_path: Path, remote: Remote) -> None:
    from tests.gitops.conftest import write_project

    config_path = write_project(tmp_path / "app")
    project = config_path.parent.parent
    no_origin = run_cli("--config", str(config_path), "gitops", "set-image", "--env", "dev",
                        f"alpha=docker.io/test/alpha:v1@{DIGEST_A}")
    assert no_origin.code == 2
    assert "environments.dev.gitops.repo is '.', but" in no_origin.err and "has no 'origin' remote" in no_origin.err
    git(project, "remote", "add", "origin", str(remote.bare))
    status_before = git(project, "status", "--porcelain")
    with_origin = run_cli("--json", "--config", str(config_path), "gitops", "set-image", "--env", "dev",
                          f"alpha=docker.io/test/alpha:v1@{DIGEST_A}")
    assert with_origin.code == 0, with_origin.err
    assert with_origin.json()["commit"] == remote.tip()  # type: ignore[index]
    assert git(project, "status", "--porcelain") == status_before  # the work tree is never touched


def test_two_processes_at_the_same_moment_both_land(config_path: Path, remote: Remote, tmp_path: Path) -> None:
    # The hook holds each push until both have arrived, so both are received against the same
    # tip: exactly one ref update wins and the other must fetch, re-apply and push again.
    remote.hook("pre-receive", """#!/bin/sh
touch "$GIT_DIR/arrived.$$"
i=0
while [ "$(ls "$GIT_DIR" | grep -c '^arrived\\.')" -lt 2 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
exit 0
""")
    env = {**os.environ, "DEVOPS_GITOPS_REPO": str(remote.bare)}
    procs = [
        subprocess.Popen([sys.executable, "-m", "devops", "--json", "--config", str(config_path), "gitops",
                          "set-image", "--env", "dev", spec], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for spec in (f"alpha=docker.io/test/alpha:sha-aaaaaaa@{DIGEST_A}",
                     f"beta=docker.io/test/beta:sha-bbbbbbb@{DIGEST_C}")
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    results = [json.loads(out) for out, _ in outputs]
    assert sorted(r["attempts"] for r in results) == [1, 2]
    assert git(remote.bare, "rev-list", "--merges", "main").strip() == ""
    assert len(remote.log()) == 3  # initial + one commit per process, in some order
    assert f'digest: "{DIGEST_A}"' in remote.show(VALUES.format("alpha")).decode()
    assert f"digest: '{DIGEST_C}'" in remote.show(VALUES.format("beta")).decode()


def test_auth_header_only_for_github_https_and_never_on_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIT_CONFIG_COUNT", raising=False)
    env, secrets = auth_env("https://github.com/techitfactory/gitops.git", "ghs_secret", "https://api.github.com")
    assert env["GIT_CONFIG_COUNT"] == "2"
    assert env["GIT_CONFIG_KEY_0"] == "http.https://github.com/.extraheader"
    # A redirect would carry the header to another host: not followed where it is sent.
    assert (env["GIT_CONFIG_KEY_1"], env["GIT_CONFIG_VALUE_1"]) == ("http.https://github.com/.followRedirects", "false")
    assert env["GIT_CONFIG_VALUE_0"].startswith("AUTHORIZATION: basic ") and "ghs_secret" in secrets
    assert auth_env("https://gitlab.com/o/r.git", "ghs_secret", "https://api.github.com") == ({}, ())
    assert auth_env("git@github.com:o/r.git", "ghs_secret", "https://api.github.com") == ({}, ())
    assert auth_env("https://github.com/o/r.git", None, "https://api.github.com") == ({}, ())
    ghes, _ = auth_env("https://git.corp.example/o/r.git", "t", "https://git.corp.example/api/v3")
    assert ghes["GIT_CONFIG_KEY_0"] == "http.https://git.corp.example/.extraheader"


def test_token_never_appears_in_errors(config_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # git really uses the header (GIT_CONFIG_*) against an unreachable https GitHub URL; the
    # error line must not carry the token or its base64 form.
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_topsecret123")
    monkeypatch.setenv("DEVOPS_GITOPS_REPO", "https://github.com:1/techitfactory/gitops.git")
    result = run_cli("-v", "--config", str(config_path), "gitops", "set-image", "--env", "dev",
                     f"alpha=docker.io/test/alpha:v1@{DIGEST_A}")
    assert result.code == 3
    assert "ghs_topsecret123" not in result.err + result.out


def test_unknown_service_in_a_changeset(config: Config) -> None:
    with open_repo(config) as repo, pytest.raises(BadInput, match=r"unknown service 'alpah'.*did you mean 'alpha'"):
        repo.publish(change(ImageUpdate("alpah", "r", "t", DIGEST_A)))


def test_load_config_sees_the_override(config_path: Path, remote: Remote) -> None:
    assert load_config(config_path, environ=os.environ).environments["dev"].gitops.repo == str(remote.bare)


def test_history_and_old_records_from_a_shallow_clone(config: Config, remote: Remote) -> None:
    commits = []
    for digest in (DIGEST_A, DIGEST_B, DIGEST_C):
        with open_repo(config) as repo:
            update = ImageUpdate("alpha", "docker.io/test/alpha", f"sha-{digest[7:14]}", digest)
            commits.append(repo.publish(change(update, record=full_record(alpha=digest))).commit)
    with open_repo(config, depth=1) as repo:
        assert (repo.repo.clone_dir / ".git" / "shallow").exists()  # type: ignore[attr-defined]
        assert repo.read_record_at(commits[0][:10]).services["alpha"].digest == DIGEST_A  # fetches the rest
        assert [h.commit for h in repo.history()][:3] == commits[::-1]
        assert repo.history()[0].subject == "release(dev): alpha sha-ccccccc"
        with pytest.raises(BadInput, match=r"deadbeef: no such commit in file://"):
            repo.read_record_at("deadbeef")


def test_push_that_landed_but_reported_a_network_error_is_not_pushed_twice(
        config: Config, remote: Remote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A git on PATH that really pushes, then reports the connection dropped (the classic "did it
    # land?" case). The engine fetches, finds its commit on the remote and stops: no duplicate.
    import shutil

    real_git = shutil.which("git")
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "git").write_text(f"""#!/bin/sh
for arg in "$@"; do
  if [ "$arg" = push ] && [ ! -e "{tmp_path}/dropped" ]; then
    touch "{tmp_path}/dropped"
    "{real_git}" "$@" >/dev/null 2>&1
    echo "fatal: the remote end hung up unexpectedly" >&2
    exit 128
  fi
done
exec "{real_git}" "$@"
""")
    (shim / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")
    with open_repo(config) as repo:
        result = repo.publish(change(ALPHA))
    assert (tmp_path / "dropped").exists()
    assert result.outcome == "committed" and result.attempts == 1 and result.commit == remote.tip()
    assert len(remote.log()) == 2


def test_malformed_record_is_replaced_by_a_valid_one(config: Config, remote: Remote) -> None:
    (remote.seed / RECORD).write_text('{"schema": 1, "environment": "dev", "services": {"alpha": {"digest": "x"}}}\n')
    git(remote.seed, "-c", "user.name=s", "-c", "user.email=s@e", "commit", "-qam", "break the record")
    git(remote.seed, "push", "-q", "origin", "HEAD:main")
    with open_repo(config) as repo:
        with pytest.raises(BadInput, match=r"release.json: services.alpha.repository: Field required"):
            repo.read_record()
        result = repo.publish(change(ALPHA, record=full_record(alpha=DIGEST_A)))
    assert result.outcome == "committed"
    assert json.loads(remote.show(RECORD)) == full_record(alpha=DIGEST_A)


def test_record_merge_is_three_way_per_service() -> None:
    from devops.domain.gitops import record as records
    from devops.domain.gitops.merge import merge_record

    def rec(**entries: str) -> records.ReleaseRecord:
        return records.validate(full_record(**entries), "r.json")

    base = rec(alpha=DIGEST_A, beta=DIGEST_A)
    tip = rec(alpha=DIGEST_A, beta=DIGEST_B, gamma=DIGEST_C)  # someone released beta and added gamma
    ours = full_record(alpha=DIGEST_C, beta=DIGEST_A)  # we release alpha; beta as we read it
    ours["services"]["beta"]["scan"]["counts"]["LOW"] = 1  # unchanged from base: theirs must win
    merged = merge_record(base, tip, ChangeSet("dev", (), record=ours), "r.json").to_dict()["services"]
    assert list(merged) == ["alpha", "beta", "gamma"]
    assert [merged[s]["digest"] for s in merged] == [DIGEST_C, DIGEST_B, DIGEST_C]
    # Evidence refreshed for a service whose digest did not change is the caller's change: kept.
    refreshed = full_record(alpha=DIGEST_A, beta=DIGEST_A)
    refreshed["services"]["beta"]["scan"]["checked_at"] = "2026-12-01T00:00:00Z"
    merged = merge_record(base, base, ChangeSet("dev", (), record=refreshed), "r.json").to_dict()["services"]
    assert merged["beta"]["scan"]["checked_at"] == "2026-12-01T00:00:00Z"


def test_record_only_change_is_committed(config: Config, remote: Remote) -> None:
    with open_repo(config) as repo:
        repo.publish(change(ALPHA, record=full_record(alpha=DIGEST_A)))
    refreshed = full_record(alpha=DIGEST_A)
    refreshed["services"]["alpha"]["scan"]["checked_at"] = "2026-12-01T00:00:00Z"
    with open_repo(config) as repo:
        result = repo.publish(change(record=refreshed, action="promote"))
    assert result.outcome == "committed" and result.changes == () and result.files == (RECORD,)
    assert git(remote.bare, "log", "-1", "--format=%s", "main").strip() == "promote(dev): release record"


def test_crlf_values_file_survives_a_users_global_autocrlf(config: Config, remote: Remote, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    crlf = ALPHA_VALUES.replace("\n", "\r\n").encode()
    (remote.seed / VALUES.format("alpha")).write_bytes(crlf)
    git(remote.seed, "-c", "core.autocrlf=false", "-c", "user.name=s", "-c", "user.email=s@e", "commit", "-qam",
        "crlf")
    git(remote.seed, "push", "-q", "origin", "HEAD:main")
    global_config = tmp_path / "gitconfig"
    global_config.write_text("[core]\n\tautocrlf = true\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(global_config))
    with open_repo(config) as repo:
        repo.publish(change(ALPHA))
    written = remote.show(VALUES.format("alpha"))
    assert written == crlf.replace(b'tag: ""        #', b'tag: "sha-aaaaaaa"        #').replace(
        b'digest: ""     #', f'digest: "{DIGEST_A}"     #'.encode())
