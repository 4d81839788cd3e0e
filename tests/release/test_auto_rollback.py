"""Automatic rollback end to end: dev releases for real (Docker, registry, Trivy, a bare GitOps
remote), is verified against a real Prometheus scraping an exporter the test drives
(tests/verify/conftest.py), and a release whose verification fails restores the last verified
release exactly once; notifications go to a local receiver. A rollback the remote refuses
(a real pre-receive hook) is exit 3 with the failed verification still reported."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.release.conftest import Shop
from tests.release.test_release_verification import configure
from tests.support.cli import run_cli
from tests.support.project import commit_all, git
from tests.support.receiver import Receiver, receiving
from tests.verify.conftest import HealthServer, Monitored, health_server, monitored  # noqa: F401 (fixtures)
from tests.verify.test_verify import query, traffic, wait_until

NOTIFY = """\
notifications:
  timeout_seconds: 2
  deadline_seconds: 4
  channels:
    team: {kind: slack, url_env: E2E_SLACK}
"""


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with receiving() as running:
        monkeypatch.setenv("E2E_SLACK", running.url)
        yield running


def auto_rollback_dev(shop: Shop, monitored: Monitored, health: HealthServer) -> None:  # noqa: F811
    configure(shop, monitored.prometheus, health.url)
    path = shop.root / "pipelines" / "devops.yaml"
    text = path.read_text().replace("    cluster: {name: test-dev}\n",
                                    "    cluster: {name: test-dev}\n    auto_rollback: true\n", 1)
    path.write_text(text + NOTIFY)
    commit_all(shop.root, "auto rollback in dev")
    wait_until(lambda: bool(query(monitored.prometheus, 'up{job="alpha"} == 1')), what="the first scrape")


def subjects(shop: Shop, count: int) -> list[str]:
    return git(shop.remote, "log", "--format=%s", f"-{count}", "main").splitlines()


def test_a_failed_verification_rolls_back_exactly_once_to_the_verified_release(
        shop: Shop, monitored: Monitored, health_server: HealthServer, receiver: Receiver) -> None:  # noqa: F811
    auto_rollback_dev(shop, monitored, health_server)
    traffic(monitored, ok=100)
    good = run_cli("--json", "release", "--env", "dev", cwd=shop.root)
    assert good.code == 0, good.err
    first = shop.record("dev")["services"]
    assert first["alpha"]["verification"]["verdict"] == "PASSED"
    verified_commit = shop.commits()[0]  # the verify commit: the record with PASSED evidence

    # A new alpha, and alpha's API now fails: the release's verification fails, dev goes back.
    shop.change_service("alpha", "broken version\n")
    traffic(monitored, ok=0, errors=400)
    bad = run_cli("--json", "release", "--env", "dev", cwd=shop.root)
    assert bad.code == 1, bad.err  # the verification's verdict, not the rollback's
    report = json.loads(bad.out)
    assert report["verification"]["verdict"] == "FAILED"
    assert report["auto_rollback"]["outcome"] == "rolled-back"
    assert report["auto_rollback"]["restored"] == verified_commit
    assert subjects(shop, 3)[0].startswith("rollback(dev): alpha")
    assert subjects(shop, 3)[1].startswith("verify(dev)") and subjects(shop, 3)[2].startswith("release(dev)")
    record = shop.record("dev")
    assert record["services"]["alpha"]["digest"] == first["alpha"]["digest"]  # the verified digest is back
    assert record["rollback"]["automatic"] is True and record["rollback"]["restored"] == verified_commit
    assert record["rollback"]["reason"].startswith("verification FAILED: alpha (availability")
    broken_digest = record["services"]["alpha"]["rolled_back_from"]["digest"]
    assert broken_digest != first["alpha"]["digest"]
    values = git(shop.remote, "show", "main:gitops/environments/dev/values/alpha.yaml")
    assert first["alpha"]["digest"] in values
    message = git(shop.remote, "log", "-1", "--format=%B", "main")
    assert "Devops-Automatic-Rollback:" in message and "Devops-Rollback-Reason: verification FAILED" in message
    texts = [body["text"] for body in receiver.bodies()]
    assert [t.split(": ", 1)[1].split(" ", 1)[0] for t in texts] == ["Released", "Released", "Verification",
                                                                     "Automatic"]
    assert "Automatic rollback of dev after a failed verification: alpha" in texts[-1]

    # Never a loop: the same source again holds the broken digest back; nothing is released,
    # verified or rolled back.
    before = shop.commits()
    again = run_cli("--json", "release", "--env", "dev", cwd=shop.root)
    assert again.code == 0, again.err
    alpha = next(s for s in again.json()["services"] if s["service"] == "alpha")
    assert alpha["status"] == "unchanged" and "held" in alpha["note"]
    assert shop.commits() == before
    assert sum(1 for t in (body["text"] for body in receiver.bodies()) if "Automatic rollback" in t) == 1


def test_a_rollback_the_remote_refuses_is_exit_3_with_the_verification_reported(
        shop: Shop, monitored: Monitored, health_server: HealthServer, receiver: Receiver) -> None:  # noqa: F811
    auto_rollback_dev(shop, monitored, health_server)
    traffic(monitored, ok=100)
    assert run_cli("release", "--env", "dev", cwd=shop.root).code == 0
    # The remote declines any push whose commit is a rollback (a real git hook).
    hook = shop.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nwhile read old new ref; do\n"
                    "  git log -1 --format=%s \"$new\" | grep -q '^rollback(' && "
                    "{ echo 'policy: no rollbacks today' >&2; exit 1; }\ndone\nexit 0\n")
    hook.chmod(0o755)
    shop.change_service("alpha", "broken version\n")
    traffic(monitored, ok=0, errors=400)
    bad = run_cli("--json", "release", "--env", "dev", cwd=shop.root)
    assert bad.code == 3, bad.err
    report = json.loads(bad.out)
    assert report["verification"]["verdict"] == "FAILED"  # still reported
    assert report["auto_rollback"]["outcome"] == "failed"
    assert "verification FAILED: alpha (availability" in bad.err
    assert "the automatic rollback could not be written" in bad.err and "devops rollback --env dev" in bad.err
    assert subjects(shop, 1)[0].startswith("verify(dev)")  # nothing rolled back
    assert "rollback" not in shop.record("dev")
    assert "Automatic rollback of dev: failed" in receiver.bodies()[-1]["text"]


def test_an_unverified_release_is_never_the_target(
        shop: Shop, monitored: Monitored, health_server: HealthServer, receiver: Receiver) -> None:  # noqa: F811
    """The first release is never verified (no traffic: FAILED); the next one fails too. Nothing
    earlier has a PASSED verification of its digests, so nothing is rolled back."""
    auto_rollback_dev(shop, monitored, health_server)
    first = run_cli("--json", "release", "--env", "dev", cwd=shop.root)
    assert first.code == 1, first.err
    assert first.json()["auto_rollback"]["outcome"] == "no-target"
    unverified = shop.record("dev")["services"]["alpha"]
    assert unverified["verification"]["verdict"] == "FAILED"

    shop.change_service("alpha", "second version\n")
    second = run_cli("--json", "release", "--env", "dev", cwd=shop.root)
    assert second.code == 1, second.err
    auto = second.json()["auto_rollback"]
    assert auto["outcome"] == "no-target" and "devops rollback --env dev --to REF" in auto["detail"]
    assert not any(s.startswith("rollback(") for s in subjects(shop, 10))
    assert shop.record("dev")["services"]["alpha"]["digest"] != unverified["digest"]  # not restored
    assert "rollback" not in shop.record("dev")
