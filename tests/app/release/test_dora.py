"""`devops report dora` as a use case (devops/app/dora.py) on the in-memory GitOps remote: which
commits are read (the window and the one before it), and that an unreadable record at some commit
is skipped with the reason instead of stopping the report."""

from __future__ import annotations

import datetime as dt

from devops.app.dora import dora_report
from devops.domain.gitops.repository import HistoryEntry
from tests.app.release.conftest import DIGEST_A, DIGEST_B, DIGEST_C, RECORD, Gitops, entry, record_text


def land(gitops: Gitops, text: str, message: str) -> str:
    return gitops.remote.land("main", {RECORD.format(env="prod"): text}, message)


def date_of(gitops: Gitops, commit: str) -> dt.datetime:
    return dt.datetime.fromisoformat(gitops.remote.commits[commit].date)


def test_the_window_and_the_commit_before_it_are_read_and_a_broken_record_is_skipped(gitops: Gitops) -> None:
    land(gitops, record_text("prod", alpha=entry("alpha", DIGEST_A)), "promote(prod): alpha a")
    baseline = land(gitops, record_text("prod", alpha=entry("alpha", DIGEST_B)), "promote(prod): alpha b")
    broken = land(gitops, "{broken\n", "a hand edit")
    last = land(gitops, record_text("prod", alpha=entry("alpha", DIGEST_C)), "promote(prod): alpha c")
    read: list[str] = []

    class Steps:
        def open_repo(self, environment: str):  # type: ignore[no-untyped-def]
            session = gitops.session(environment)
            original = session.read_record_at

            def record_at(commit: str):  # type: ignore[no-untyped-def]
                read.append(commit)
                return original(commit)

            session.read_record_at = record_at  # type: ignore[method-assign]
            return session

    now = date_of(gitops, last) + dt.timedelta(seconds=1)
    since = now - date_of(gitops, broken)  # the window opens at the broken commit
    report = dora_report("prod", Steps(), since=since, now=now)
    assert read == [baseline, broken, last]  # the older history is not read
    assert [d.commit for d in report.deployments] == [last]  # compared with the baseline across the broken one
    assert report.skipped == ((broken, report.skipped[0][1]),) and "release.json" in report.skipped[0][1]


def test_commits_without_a_readable_date_are_left_out(gitops: Gitops) -> None:
    class Repo:
        def history(self) -> list[HistoryEntry]:
            return [HistoryEntry("b" * 40, "not a date", "x"), HistoryEntry("a" * 40, "2026-11-25T00:00:00Z", "y")]

        def read_record_at(self, commit: str):  # type: ignore[no-untyped-def]
            from devops.domain.gitops.record import parse

            return parse(record_text("prod", alpha=entry("alpha", DIGEST_A)), "f")

        def __enter__(self) -> Repo:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    class Steps:
        def open_repo(self, environment: str) -> Repo:
            return Repo()

    now = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    report = dora_report("prod", Steps(), since=dt.timedelta(days=2), now=now)
    assert [d.commit for d in report.deployments] == ["a" * 40]


def test_manual_and_automatic_rollbacks_are_both_rollbacks(gitops: Gitops) -> None:
    import json

    first = land(gitops, record_text("prod", alpha=entry("alpha", DIGEST_A)), "promote(prod): a")
    land(gitops, record_text("prod", alpha=entry("alpha", DIGEST_B)), "promote(prod): b")
    manual = json.loads(record_text("prod", alpha=entry("alpha", DIGEST_A)))
    manual["rolled_back_to"] = first
    land(gitops, json.dumps(manual), "rollback(prod): manual")
    land(gitops, record_text("prod", alpha=entry("alpha", DIGEST_C)), "promote(prod): c")
    automatic = json.loads(record_text("prod", alpha=entry("alpha", DIGEST_A)))
    automatic["rollback"] = {"automatic": True, "restored": first, "reason": "verification failed"}
    last = land(gitops, json.dumps(automatic), "rollback(prod): automatic")

    class Steps:
        def open_repo(self, environment: str):  # type: ignore[no-untyped-def]
            return gitops.session(environment)

    now = date_of(gitops, last) + dt.timedelta(seconds=1)
    report = dora_report("prod", Steps(), since=dt.timedelta(days=1), now=now)
    assert [d.rollback for d in report.deployments] == [False, False, True, False, True]
    assert [d.failed for d in report.deployments] == [False, True, False, True, False]
