"""DORA's four keys from release-record snapshots (devops/domain/release/dora.py): every rule on
small hand-made histories whose figures are worked out in the comments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from devops.domain.release.dora import (
    Deployment,
    Median,
    Snapshot,
    deployments,
    dora,
    incidents,
    window,
)
from devops.errors import BadInput

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
D = {c: "sha256:" + c * 64 for c in "abcdef"}


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def entry(digest: str, *, source: str = "1" * 40, made: float | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"digest": digest, "source_commit": source, **extra}
    if made is not None:
        data["source_committed_at"] = at(made).strftime("%Y-%m-%dT%H:%M:%SZ")
    return data


def snap(commit: str, hours: float, rolled: str | None = None, **services: dict[str, Any]) -> Snapshot:
    return Snapshot(commit * 40 if len(commit) == 1 else commit, at(hours), services, rolled)


def failed_check(digest: str | None, env: str = "prod") -> dict[str, Any]:
    return {"verdict": "FAILED", "environment": env, "digest": digest}


def test_a_deployment_is_a_change_of_digests_and_evidence_commits_are_not() -> None:
    history = [
        snap("0", 0),                                                     # the empty record: nothing runs
        snap("1", 10, cart=entry(D["a"], made=4)),                        # deploy: lead 6 h
        snap("2", 11, cart=entry(D["a"], made=4, verification={"verdict": "PASSED", "environment": "prod"})),
        snap("3", 20, cart=entry(D["a"]), shop=entry(D["b"], source="2" * 40, made=18)),  # shop added: lead 2 h
        snap("4", 30, shop=entry(D["b"])),                                # cart removed: a deployment too
    ]
    found = deployments(history, "prod")
    assert [d.commit[0] for d in found] == ["1", "3", "4"]
    assert [d.changed for d in found] == [{"cart": D["a"]}, {"shop": D["b"]}, {}]
    assert [d.lead_times for d in found] == [[6 * 3600.0], [2 * 3600.0], []]
    assert not any(d.failed or d.rollback for d in found)


def test_lead_time_counts_each_source_commit_once_and_never_a_negative_or_unknown_time() -> None:
    history = [snap("1", 10, a=entry(D["a"], made=4), b=entry(D["b"], made=4),  # one source commit: one sample
                    c=entry(D["c"], source="", made=8),                       # no commit: keyed by service
                    d=entry(D["d"], source="3" * 40, made=12),                # after the deployment: left out
                    e=entry(D["e"], source="4" * 40))]                        # no time: left out
    assert sorted(deployments(history, "prod")[0].lead_times) == [2 * 3600.0, 6 * 3600.0]


def test_a_rollback_fails_the_deployments_after_the_commit_it_restored() -> None:
    history = [
        snap("1", 0, cart=entry(D["a"])),
        snap("2", 10, cart=entry(D["b"])),        # undone by 4
        snap("3", 20, cart=entry(D["c"])),        # undone by 4
        snap("4", 30, "1" * 40, cart=entry(D["a"])),
        snap("5", 40, "1" * 40, cart=entry(D["a"], verification={"verdict": "PASSED"})),  # carried: no rollback
        snap("6", 50, "1" * 40, cart=entry(D["d"])),  # rolled_back_to carried over: a release, not a rollback
    ]
    found = deployments(history, "prod")
    assert [(d.commit[0], d.rollback, d.failed) for d in found] == [
        ("1", False, False), ("2", False, True), ("3", False, True), ("4", True, False), ("6", False, False)]
    assert found[1].failed_by == f"rolled back by {'4' * 12}" and found[3].restored == "1" * 40
    assert found[3].lead_times == []  # a rollback restores old code: no lead time


def test_a_rollback_to_an_unknown_commit_fails_only_the_deployment_before_it() -> None:
    history = [snap("1", 0, cart=entry(D["a"])), snap("2", 10, cart=entry(D["b"])),
               snap("3", 20, "f" * 40, cart=entry(D["a"]))]
    assert [d.failed for d in deployments(history, "prod")] == [False, True, False]
    # A rollback as the very first deployment has nothing to undo.
    assert [d.failed for d in deployments([snap("3", 20, "f" * 40, cart=entry(D["a"]))], "prod")] == [False]


def test_the_full_history_places_a_restored_commit_older_than_the_snapshots() -> None:
    # Snapshots start at "2"; the rollback restores "0", older still: both deployments since are undone.
    history = [snap("2", 10, cart=entry(D["b"])), snap("3", 20, cart=entry(D["c"])),
               snap("4", 30, "0" * 40, cart=entry(D["a"]))]
    order = ["0" * 40, "1" * 40, "2" * 40, "3" * 40, "4" * 40]
    assert [d.failed for d in deployments(history, "prod", order)] == [True, True, False]


def test_a_failed_verification_in_this_environment_of_the_deployed_digest_fails_the_deployment() -> None:
    history = [
        snap("1", 0, cart=entry(D["a"], verification=failed_check(D["a"], "dev"))),  # dev's verdict, carried
        snap("2", 10, cart=entry(D["b"])),
        snap("3", 11, cart=entry(D["b"], verification=failed_check(D["b"]))),          # prod: FAILED -> 2 failed
        snap("4", 20, cart=entry(D["c"], verification="FAILED")),                       # not a verification block
        snap("5", 30, cart=entry(D["d"], verification=failed_check(None))),            # no digest named: this one
        snap("6", 40, cart=entry(D["e"], verification=failed_check(D["a"]))),          # about another digest
    ]
    found = deployments(history, "prod")
    assert [(d.commit[0], d.failed) for d in found] == [("1", False), ("2", True), ("4", False), ("5", True),
                                                        ("6", False)]
    assert found[1].failed_by == f"verification FAILED (cart, {'3' * 12})"


def test_a_deployment_failed_by_verification_and_then_rolled_back_keeps_the_first_reason() -> None:
    history = [snap("1", 0, cart=entry(D["a"])),
               snap("2", 10, cart=entry(D["b"], verification=failed_check(D["b"]))),
               snap("3", 20, "1" * 40, cart=entry(D["a"]))]
    assert deployments(history, "prod")[1].failed_by.startswith("verification FAILED")


def test_unreadable_snapshots_are_passed_over() -> None:
    history = [snap("1", 0, cart=entry(D["a"])), Snapshot("2" * 40, at(5), None, error="malformed"),
               snap("3", 10, cart=entry(D["a"]))]
    assert [d.commit[0] for d in deployments(history, "prod")] == ["1"]


def test_incidents_run_from_the_first_failure_to_the_next_deployment_that_did_not_fail() -> None:
    def dep(commit: str, hours: float, failed: bool) -> Deployment:
        return Deployment(commit, at(hours), {}, False, failed_by="x" if failed else "")

    found = [dep("a", 0, False), dep("b", 10, True), dep("c", 12, True), dep("d", 15, False), dep("e", 20, True)]
    first, second = incidents(found, at(30))
    assert (first.commits, first.restored_by, first.seconds) == (("b", "c"), "d", 5 * 3600.0)
    assert (second.commits, second.restored_by, second.seconds) == (("e",), None, 10 * 3600.0)
    assert incidents([dep("a", 0, False)], at(1)) == []
    # Clocks that disagree never give a negative time to restore.
    assert incidents([dep("b", 10, True), dep("c", 9, False)], at(11))[0].seconds == 0.0


def test_the_report_counts_the_window_only() -> None:
    history = [
        snap("0", -48, cart=entry(D["a"])),                          # before the window: the baseline
        snap("1", 10, cart=entry(D["b"], made=8)),                  # lead 2 h, failed (verification)
        snap("2", 11, cart=entry(D["b"], made=8, verification=failed_check(D["b"]))),
        snap("3", 14, "0" * 40, cart=entry(D["a"])),                 # rollback: restores after 4 h
        snap("4", 30, cart=entry(D["c"], made=26)),                 # lead 4 h
        Snapshot("5" * 40, at(40), None, error="malformed"),        # skipped, in the window
        snap("6", 200, cart=entry(D["d"])),                          # after `now`: not counted
    ]
    report = dora(history, "prod", since=dt.timedelta(days=2), now=at(48))
    assert [d.commit[0] for d in report.deployments] == ["1", "3", "4"]
    assert report.days == 2 and report.per_day == 1.5
    assert len(report.changes) == 2 and report.change_failure_rate == 0.5
    assert report.lead_time == Median(3 * 3600.0, 2) and report.without_lead_time == 0
    assert report.time_to_restore == Median(4 * 3600.0, 1) and report.open_incidents == []
    assert report.skipped == (("5" * 40, "malformed"),)


def test_an_empty_window_has_no_rates() -> None:
    report = dora([snap("0", -100, cart=entry(D["a"]))], "prod", since=dt.timedelta(days=1), now=at(0))
    assert report.deployments == () and report.change_failure_rate is None
    assert report.lead_time == Median(None, 0) and report.time_to_restore == Median(None, 0)
    assert report.without_lead_time == 0


def test_changes_without_a_source_time_are_counted_apart() -> None:
    report = dora([snap("1", 1, cart=entry(D["a"]))], "prod", since=dt.timedelta(days=1), now=at(2))
    assert report.without_lead_time == 1 and report.lead_time.samples == 0


def test_an_open_incident_is_reported_apart() -> None:
    history = [snap("1", 0, cart=entry(D["a"])), snap("2", 1, cart=entry(D["b"], verification=failed_check(D["b"])))]
    report = dora(history, "prod", since=dt.timedelta(days=1), now=at(5))
    assert [i.seconds for i in report.open_incidents] == [4 * 3600.0]
    assert report.time_to_restore.samples == 0


@pytest.mark.parametrize(("text", "days"), [("90d", 90), ("1d", 1), ("2w", 14), ("24h", 1)])
def test_since_is_a_duration_of_at_least_a_day(text: str, days: int) -> None:
    assert window(text) == dt.timedelta(days=days)


@pytest.mark.parametrize(("text", "said"), [("12h", "at least 1d"), ("ninety", "expected a duration"),
                                            ("500d", "400 days"), ("0d", "expected a duration")])
def test_a_bad_since_is_bad_input_naming_it(text: str, said: str) -> None:
    with pytest.raises(BadInput, match="--since") as caught:
        window(text)
    assert said in caught.value.message


def test_the_record_checks_source_committed_at_and_leaves_it_out_when_absent() -> None:
    from devops.domain.gitops.record import validate

    base = {"schema": 1, "environment": "prod",
            "services": {"cart": {"repository": "r/cart", "digest": D["a"], "source_committed_at": None}}}
    assert "source_committed_at" not in validate(base, "f").to_dict()["services"]["cart"]
    base["services"]["cart"]["source_committed_at"] = "2026-01-01T00:00:00Z"
    assert validate(base, "f").to_dict()["services"]["cart"]["source_committed_at"] == "2026-01-01T00:00:00Z"
    base["services"]["cart"]["source_committed_at"] = "last tuesday"
    with pytest.raises(BadInput, match="source_committed_at"):
        validate(base, "f")
