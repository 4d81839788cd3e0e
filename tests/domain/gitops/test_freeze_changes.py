"""Freeze files through the GitOps engine's pure part: applying a freeze compare-and-swap, its
commit subject and trailers, and extra trailers of other changes (break-glass, rollbacks)."""

from __future__ import annotations

import json

import pytest

from devops.domain.gitops.change import ChangeSet, ConcurrentChange, ServiceChange
from devops.domain.gitops.merge import Baseline, apply_change, record_or_empty
from devops.domain.gitops.message import commit_message, parse_trailers
from devops.domain.gitops.repository import GitOpsLayout
from devops.errors import BadInput

LAYOUT = GitOpsLayout("env/prod")
PATH = "env/prod/freeze.json"
BY = {"actor": "alice", "via": "cli", "run_url": None}


def document(**changes: object) -> dict[str, object]:
    return {"schema": 1, "environment": "prod", "frozen": True, "until": "2026-11-27T09:00:00Z", "reason": "incident",
            "by": BY, "at": "2026-11-26T09:00:00Z", **changes}


def text(**changes: object) -> str:
    return json.dumps(document(**changes), indent=2) + "\n"


def freeze_change(**changes: object) -> ChangeSet:
    return ChangeSet("prod", (), freeze=document(**changes), action="freeze", title="until 2026-11-27T09:00:00Z",
                     trailers=(("Devops-Freeze-Until", "2026-11-27T09:00:00Z"),))


def apply(change: ChangeSet, files: dict[str, str], baseline: Baseline) -> object:
    return apply_change(change, files.get, LAYOUT, baseline, remote="g.git", branch="main")


def test_a_freeze_is_written_and_the_same_freeze_again_is_no_edit() -> None:
    files: dict[str, str] = {}
    baseline = Baseline(record_or_empty(None, "r", "prod"))
    applied = apply(freeze_change(), files, baseline)
    assert applied.files == (PATH,) and applied.edits[0][1] == text() and "+  \"frozen\": true," in applied.diff  # type: ignore[attr-defined]
    assert baseline.freeze is None  # what the first apply found: no file
    assert apply(freeze_change(), {PATH: text()}, Baseline(record_or_empty(None, "r", "prod"))).files == ()  # type: ignore[attr-defined]


def test_a_re_apply_over_another_freeze_is_a_concurrent_change() -> None:
    baseline = Baseline(record_or_empty(None, "r", "prod"))
    apply(freeze_change(), {PATH: text(reason="old")}, baseline)
    with pytest.raises(ConcurrentChange, match="env/prod/freeze.json: changed since this run read it"):
        apply(freeze_change(), {PATH: text(reason="someone else's")}, baseline)
    # Ours landing first (the same content) is not a conflict: nothing left to edit.
    assert apply(freeze_change(), {PATH: text()}, baseline).files == ()  # type: ignore[attr-defined]


def test_the_new_freeze_content_is_checked_in_full() -> None:
    with pytest.raises(BadInput, match=r"freeze.json \(new content\): until: expected an ISO 8601"):
        apply(freeze_change(until="soon"), {}, Baseline(record_or_empty(None, "r", "prod")))


def test_the_freeze_commit_says_what_and_until_when() -> None:
    message = commit_message(freeze_change(), ())
    assert message.splitlines()[0] == "freeze(prod): until 2026-11-27T09:00:00Z"
    trailers = parse_trailers(message)
    assert trailers["Devops-Action"] == ["freeze"] and trailers["Devops-Freeze-Until"] == ["2026-11-27T09:00:00Z"]


def test_extra_trailers_are_one_line_and_named_devops() -> None:
    change = ChangeSet("prod", (), record=None, action="promote", trailers=(("Devops-Break-Glass", "x " * 200),))
    line = dict(parse_trailers(commit_message(change, (ServiceChange("a", "", "b"),))))["Devops-Break-Glass"][0]
    assert len(line) <= 300 and line.startswith("x x") and "\n" not in line
    for bad in (("Break-Glass", "x"), ("Devops-Break-Glass", "a\nDevops-Image: forged"), ("Devops-x", "y")):
        with pytest.raises(BadInput, match="a trailer is Devops-<Name> with a one-line value"):
            ChangeSet("prod", (), action="promote", trailers=(bad,))
    assert GitOpsLayout("env/prod", freeze_file="stop.json").freeze_path == "env/prod/stop.json"
