"""Applying a ChangeSet to files as they are (devops/domain/gitops/merge.py): the edits, the
three-way record merge, and every compare-and-swap conflict, on plain texts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devops.domain.gitops import record as records
from devops.domain.gitops.change import ChangeSet, ConcurrentChange, ImageRef, ImageUpdate
from devops.domain.gitops.merge import (
    Baseline,
    apply_change,
    check_expected_digests,
    check_values_unchanged,
    entry_image,
    merge_record,
    record_or_empty,
    record_state,
    unified_diff,
)
from devops.domain.gitops.repository import GitOpsLayout
from devops.errors import BadInput, ExitCode
from tests.domain.gitops.test_record import full_record
from tests.gitops.conftest import BETA_VALUES, DIGEST_A, DIGEST_B, DIGEST_C, SOURCE, empty_record

LAYOUT = GitOpsLayout("gitops/environments/dev/")
ALPHA_PATH = "gitops/environments/dev/values/alpha.yaml"
BETA_PATH = "gitops/environments/dev/values/beta.yaml"
RECORD_PATH = "gitops/environments/dev/release.json"
ALPHA_VALUES = BETA_VALUES.replace("beta", "alpha")
ALPHA = ImageUpdate("alpha", "docker.io/test/alpha", "sha-aaaaaaa", DIGEST_A)
ALPHA_C = ImageUpdate("alpha", "docker.io/test/alpha", "sha-ccccccc", DIGEST_C)


def files(**extra: str | None) -> dict[str, str | None]:
    texts: dict[str, str | None] = {ALPHA_PATH: ALPHA_VALUES, BETA_PATH: BETA_VALUES, RECORD_PATH: empty_record("dev")}
    texts.update({k.replace("_", "/"): v for k, v in extra.items()})
    return texts


def apply(change: ChangeSet, texts: dict[str, str | None], baseline: Baseline | None = None) -> Any:
    base = baseline or Baseline(record_or_empty(texts.get(RECORD_PATH), "r", "dev"))
    return apply_change(change, texts.get, LAYOUT, base, remote="file:///g.git", branch="main")


def release(*updates: ImageUpdate, **digests: str) -> ChangeSet:
    data = full_record(**digests) if digests else None
    return ChangeSet("dev", updates, record=data, source_commit=SOURCE, action="release")


def test_layout_names_the_files_of_an_environment() -> None:
    layout = GitOpsLayout("/gitops/environments/prod/", "charts/{service}/values.yaml", "records/release.json")
    assert layout.values_path("cart") == "gitops/environments/prod/charts/cart/values.yaml"
    assert layout.record_path == "gitops/environments/prod/records/release.json"


def test_the_first_apply_edits_values_and_record_and_diffs_them() -> None:
    applied = apply(release(ALPHA, alpha=DIGEST_A), files())
    assert applied.files == (ALPHA_PATH, RECORD_PATH) and applied.record_changed
    assert [(c.service, c.old, c.new) for c in applied.changes] == [("alpha", "", str(ALPHA.ref))]
    edits = dict(applied.edits)
    assert f"digest: '{DIGEST_A}'" in edits[ALPHA_PATH] and json.loads(edits[RECORD_PATH]) == full_record(alpha=DIGEST_A)
    assert f"+++ b/{ALPHA_PATH}" in applied.diff and f"--- a/{RECORD_PATH}" in applied.diff


def test_a_missing_values_file_is_bad_input_naming_it() -> None:
    with pytest.raises(BadInput, match=f"file:///g.git: {ALPHA_PATH}: the values file of alpha does not exist in main"):
        apply(release(ALPHA), files(**{ALPHA_PATH.replace("/", "_"): None}))


def test_a_values_file_changed_by_someone_else_is_a_concurrent_change() -> None:
    baseline = Baseline(records.ReleaseRecord.empty("dev"), {"alpha": None})
    theirs = apply(release(ALPHA_C), files()).edits[0][1]  # alpha released with digest C meanwhile
    with pytest.raises(ConcurrentChange) as caught:
        apply(release(ALPHA), files(**{ALPHA_PATH.replace("/", "_"): theirs}), baseline)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert str(caught.value).startswith(f"alpha: file:///g.git: {ALPHA_PATH}: changed since this run read it: "
                                        f"expected (no image), found docker.io/test/alpha:sha-ccccccc@{DIGEST_C}")
    # Control: what we write ourselves (the same change landed first) is no conflict, and no edit.
    ours = apply(release(ALPHA), files()).edits[0][1]
    again = apply(release(ALPHA), files(**{ALPHA_PATH.replace("/", "_"): ours}), baseline)
    assert again.files == () and again.changes == ()


def test_check_values_unchanged() -> None:
    image = ImageRef("r", "t", DIGEST_A)
    check_values_unchanged("alpha", "w", image, image, ALPHA.ref)  # what was read
    check_values_unchanged("alpha", "w", None, ALPHA.ref, ALPHA.ref)  # what we write
    with pytest.raises(ConcurrentChange, match="expected r:t@sha256:a+, found \\(no image\\)"):
        check_values_unchanged("alpha", "w", image, None, ALPHA.ref)


def test_a_record_that_differs_only_in_who_and_when_is_no_change() -> None:
    texts = files(**{RECORD_PATH.replace("/", "_"): records.validate(full_record(alpha=DIGEST_A), "r").to_json()})
    again = full_record(alpha=DIGEST_A)
    again["released_at"] = "2026-12-01T00:00:00Z"
    again["released_by"] = {"actor": "bob", "via": "cli", "run_url": None}
    assert apply(ChangeSet("dev", (), record=again, action="release"), texts).files == ()
    # ... but with a values change in the same commit, the record says who did it.
    assert apply(ChangeSet("dev", (ALPHA,), record=again, action="release"), texts).record_changed
    assert record_state(records.validate(again, "r")) == record_state(records.validate(full_record(alpha=DIGEST_A),
                                                                                       "r"))


def test_a_malformed_record_is_replaced_not_a_reason_to_stop() -> None:
    broken = '{"schema": 1, "environment": "dev", "services": {"alpha": {"digest": "x"}}}\n'
    assert record_or_empty(broken, "r", "dev").services == {}
    assert record_or_empty(None, "r", "dev") == records.ReleaseRecord.empty("dev")
    applied = apply(release(ALPHA, alpha=DIGEST_A), files(**{RECORD_PATH.replace("/", "_"): broken}))
    assert json.loads(dict(applied.edits)[RECORD_PATH]) == full_record(alpha=DIGEST_A)


def test_a_record_file_that_does_not_exist_yet_is_created() -> None:
    applied = apply(release(alpha=DIGEST_A), files(**{RECORD_PATH.replace("/", "_"): None}))
    assert applied.files == (RECORD_PATH,) and "--- a/" in applied.diff


@pytest.mark.parametrize(("expected", "action", "message", "hint"), [
    ((("alpha", DIGEST_B),), "verify", f"alpha: verify checked {DIGEST_B}, but r holds {DIGEST_A}",
     "rerun `devops verify --env dev`"),
    ((("alpha", ""),), "verify", "checked (no digest: the values file names none)", "rerun `devops verify"),
    ((("beta", DIGEST_B),), "promote", "but r holds (no entry for it)", "rerun against what is released now"),
])
def test_expected_digests_bind_evidence_to_what_was_checked(expected: tuple[tuple[str, str], ...], action: str,
                                                           message: str, hint: str) -> None:
    current = records.validate(full_record(alpha=DIGEST_A), "r")
    change = ChangeSet("dev", (), record=full_record(alpha=DIGEST_A), action=action, expected_digests=expected)
    with pytest.raises(ConcurrentChange, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        check_expected_digests(current, change, "r")
    assert hint in (caught.value.hint or "")
    control = ChangeSet("dev", (), record=full_record(alpha=DIGEST_A), action=action,
                        expected_digests=(("alpha", DIGEST_A),))
    check_expected_digests(current, control, "r")


def rec(**digests: str) -> records.ReleaseRecord:
    return records.validate(full_record(**digests), "r")


def test_merge_takes_the_callers_changes_and_the_tips_others() -> None:
    base = rec(alpha=DIGEST_A, beta=DIGEST_A, gamma=DIGEST_A)
    tip = rec(alpha=DIGEST_A, beta=DIGEST_B, gamma=DIGEST_A, delta=DIGEST_C)  # beta released, delta added
    ours = full_record(alpha=DIGEST_C, beta=DIGEST_A)  # alpha released; gamma removed by the caller
    merged = merge_record(base, tip, ChangeSet("dev", (), record=ours), "r").to_dict()["services"]
    assert {name: e["digest"] for name, e in merged.items()} == {"alpha": DIGEST_C, "beta": DIGEST_B,
                                                                  "delta": DIGEST_C}


def test_merge_refuses_an_entry_the_tip_changed_to_another_image() -> None:
    with pytest.raises(ConcurrentChange, match=r"r: services.alpha: changed since this run read it: expected "
                                               rf"docker.io/test/alpha:sha-1234567@{DIGEST_A}, found "
                                               rf"docker.io/test/alpha:sha-1234567@{DIGEST_B}"):
        merge_record(rec(alpha=DIGEST_A), rec(alpha=DIGEST_B), ChangeSet("dev", (), record=full_record(
            alpha=DIGEST_C)), "r")
    # A service the caller removed that someone released meanwhile is not silently dropped either.
    with pytest.raises(ConcurrentChange, match="services.alpha"):
        merge_record(rec(alpha=DIGEST_A), rec(alpha=DIGEST_B), ChangeSet("dev", (), record=full_record()), "r")


def test_merge_needs_a_record_and_validates_it() -> None:
    with pytest.raises(ValueError, match="needs a change that writes the release record"):
        merge_record(rec(), rec(), ChangeSet("dev", ()), "r")
    bad = full_record(alpha=DIGEST_A)
    bad["services"]["alpha"]["digest"] = "sha256:nope"
    with pytest.raises(BadInput, match=r"r \(new content\): services.alpha.digest"):
        merge_record(rec(), rec(), ChangeSet("dev", (), record=bad), "r")


def test_entry_image() -> None:
    assert entry_image(None) == "(no entry)"
    assert entry_image({"repository": "r", "digest": DIGEST_A}) == f"r@{DIGEST_A}"
    assert entry_image({"repository": "r", "tag": "v1", "digest": DIGEST_A}) == f"r:v1@{DIGEST_A}"


def test_unified_diff_says_when_a_file_has_no_final_newline() -> None:
    diff = unified_diff("f.yaml", "a: 1\n", "a: 2")
    assert diff.endswith("+a: 2\n\\ No newline at end of file\n") and diff.startswith("--- a/f.yaml\n")
    assert unified_diff("f", "same\n", "same\n") == ""
