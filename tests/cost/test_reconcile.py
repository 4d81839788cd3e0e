"""`devops cost schedule|down|up` against the real moto server (EKS), time given with --at."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cost.conftest import DEFAULT_COST, Eks, Run

NIGHT = "2026-11-25T23:00:00+05:30"  # Wednesday, after office hours in Asia/Kolkata
MORNING = "2026-11-26T09:00:00+05:30"  # Thursday, office hours
SATURDAY = "2026-11-28T12:00:00+05:30"
NEXT_NIGHT = "2026-11-26T23:00:00+05:30"
CLUSTER = "techitfactory-dev"


def dev_cluster(eks: Eks, **kwargs: object) -> None:
    eks.cluster(CLUSTER, {"general": (2, 3, 5), "spot": (1, 1, 4), "keep-system": (1, 2, 2)}, **kwargs)  # type: ignore[arg-type]


def test_down_saves_sizes_then_up_restores_them(eks: Eks, cli: Callable[..., Run]) -> None:
    dev_cluster(eks)
    eks.cluster("not-a-target", {"general": (2, 3, 5)})
    run = cli("cost", "schedule", "--at", NIGHT)
    assert run.code == 0, run.err
    assert run.json["schedules"] == [
        {
            "target": "dev",
            "schedule": "office-hours",
            "state": "down",
            "reason": "outside uptime (Asia/Kolkata Wed 23:00)",
            "next_change": "2026-11-26T02:30:00Z",
        }
    ]
    # Never touched: a cluster outside the targets.
    assert eks.size("not-a-target", "general") == (2, 3, 5)
    assert eks.state("not-a-target") == {}
    assert {r["cluster"] for r in run.json["nodegroups"]} == {CLUSTER}
    rows = run.rows()
    assert rows[f"{CLUSTER}/general"]["action"] == "scale-down"
    assert eks.size(CLUSTER, "general") == (0, 0, 5)  # max kept: EKS needs max >= 1
    assert eks.size(CLUSTER, "spot") == (0, 0, 4)
    assert eks.size(CLUSTER, "keep-system") == (1, 2, 2)  # excluded by pattern: never touched
    assert f"{CLUSTER}/keep-system" not in rows
    state = eks.state(CLUSTER)
    assert state["devops.cost/general"].startswith("phase=down min=2 max=5 desired=3 at=2026-11-25T17:30:00Z")
    assert "schedule=office-hours hash=" in state["devops.cost/general"]
    assert eks.tags(CLUSTER)["team"] == "platform"  # other tags untouched

    # Idempotent: the same instant again makes no write call at all, and reads little.
    again = cli("cost", "schedule", "--at", NIGHT)
    assert again.code == 0
    assert again.writes == 0, again.json["api_calls"]
    assert again.json["api_calls"] == {"DescribeCluster": 1, "ListNodegroups": 1}
    assert {r["action"] for r in again.json["nodegroups"]} == {"none"}

    up = cli("cost", "schedule", "--at", MORNING)
    assert up.code == 0, up.err
    assert up.rows()[f"{CLUSTER}/general"]["action"] == "restore"
    assert eks.size(CLUSTER, "general") == (2, 3, 5)
    assert eks.size(CLUSTER, "spot") == (1, 1, 4)
    assert eks.state(CLUSTER) == {}
    again = cli("cost", "schedule", "--at", MORNING)
    assert again.writes == 0
    assert again.json["api_calls"] == {"DescribeCluster": 1, "ListNodegroups": 1}


def test_a_missed_run_corrects_itself(eks: Eks, cli: Callable[..., Run]) -> None:
    """No run happened on Friday evening: Saturday noon's run scales down all the same."""
    dev_cluster(eks)
    assert cli("cost", "schedule", "--at", "2026-11-27T10:00:00+05:30").writes == 0  # Friday office hours
    run = cli("cost", "schedule", "--at", SATURDAY)
    assert run.code == 0
    assert eks.size(CLUSTER, "general") == (0, 0, 5)
    # Monday morning, late (11:47): restores.
    cli("cost", "schedule", "--at", "2026-11-30T11:47:00+05:30")
    assert eks.size(CLUSTER, "general") == (2, 3, 5)


def test_a_size_changed_by_hand_is_respected(eks: Eks, cli: Callable[..., Run]) -> None:
    dev_cluster(eks)
    cli("cost", "schedule", "--at", NIGHT)
    eks.resize(CLUSTER, "general", 1, 1, 5)  # someone needed a node at night
    eks.resize(CLUSTER, "spot", 0, 0, 8)  # and raised the max of another while it slept
    run = cli("cost", "schedule", "--at", MORNING)
    rows = run.rows()
    assert rows[f"{CLUSTER}/general"]["action"] == "clear-state"
    assert "resized by hand to 1/1/5" in rows[f"{CLUSTER}/general"]["message"]
    assert eks.size(CLUSTER, "general") == (1, 1, 5)
    assert eks.size(CLUSTER, "spot") == (1, 1, 8)  # restored, with the hand-set max
    assert eks.state(CLUSTER) == {}


def test_zero_size_is_never_saved_and_nothing_is_scaled_up_without_a_saved_size(
    eks: Eks, cli: Callable[..., Run]
) -> None:
    eks.cluster(CLUSTER, {"idle": (0, 0, 3)})
    night = cli("cost", "schedule", "--at", NIGHT)
    assert night.rows()[f"{CLUSTER}/idle"]["action"] == "none"
    assert "no saved size" in night.rows()[f"{CLUSTER}/idle"]["message"]
    assert eks.state(CLUSTER) == {}
    assert night.writes == 0
    morning = cli("cost", "schedule", "--at", MORNING)
    assert morning.writes == 0
    assert eks.size(CLUSTER, "idle") == (0, 0, 3)
    # By hand it is refused, and said so: exit 1 with the node group named.
    manual = cli("cost", "up", "--cluster", CLUSTER, "--at", MORNING)
    assert manual.code == 1
    assert f"devops: error: {CLUSTER}/idle: refused: no saved size for {CLUSTER}/idle" in manual.err
    assert manual.err.count("devops: error:") == 1


def test_opt_out_tags_on_cluster_and_node_group(
    eks: Eks, cli: Callable[..., Run], write_config: Callable[[str], Path]
) -> None:
    eks.cluster(CLUSTER, {"general": (2, 3, 5), "gpu": (1, 1, 2)}, ng_tags={"gpu": {"devops.cost.opt-out": "true"}})
    run = cli("cost", "schedule", "--at", NIGHT)
    rows = run.rows()
    assert rows[f"{CLUSTER}/gpu"]["action"] == "skipped"
    assert eks.size(CLUSTER, "gpu") == (1, 1, 2)
    assert eks.size(CLUSTER, "general") == (0, 0, 5)
    assert "devops.cost/gpu" not in eks.state(CLUSTER)

    eks.cluster("other", {"general": (1, 2, 3)}, tags={"devops.cost.opt-out": "yes"})
    cost = (
        DEFAULT_COST
        + """\
    other:
      cluster: other
      schedule: office-hours
"""
    )
    run = cli("cost", "schedule", "--at", NIGHT, config=write_config(cost))
    assert run.rows()["other/*"]["action"] == "skipped"
    assert "cluster tagged devops.cost.opt-out=yes" in run.rows()["other/*"]["message"]
    assert eks.size("other", "general") == (1, 2, 3)


PROD_COST = """\
cost:
  schedules:
    office-hours:
      timezone: Asia/Kolkata
      uptime: ["Mon-Fri 08:00-20:00"]
  targets:
    live:
      cluster: shop-live
      schedule: office-hours
    labelled:
      cluster: shop-main
      environment: prod
      schedule: office-hours
"""


def test_production_needs_an_explicit_opt_in(
    eks: Eks, cli: Callable[..., Run], write_config: Callable[[str], Path]
) -> None:
    eks.cluster("shop-live", {"general": (2, 2, 4)})
    eks.cluster("shop-main", {"general": (2, 2, 4)})
    config = write_config(PROD_COST)
    run = cli("cost", "schedule", "--at", NIGHT, config=config)
    assert run.code == 0
    for key in ("shop-live/*", "shop-main/*"):
        assert run.rows()[key]["action"] == "skipped"
        assert "allow_production: true" in run.rows()[key]["message"]
    assert run.json["api_calls"] == {}  # not even read
    assert eks.size("shop-live", "general") == (2, 2, 4)
    manual = cli("cost", "down", "--cluster", "shop-live", "--at", NIGHT, config=config)
    assert manual.code == 1
    assert "devops: error: shop-live: not changed: production cluster: set allow_production: true" in manual.err
    assert eks.size("shop-live", "general") == (2, 2, 4)

    opted = write_config(
        PROD_COST.replace("      cluster: shop-live\n", "      cluster: shop-live\n      allow_production: true\n"),
    )
    cli("cost", "schedule", "--at", NIGHT, config=opted)
    assert eks.size("shop-live", "general") == (0, 0, 4)
    assert eks.size("shop-main", "general") == (2, 2, 4)


def test_exclude_until_and_force_up(eks: Eks, cli: Callable[..., Run], write_config: Callable[[str], Path]) -> None:
    dev_cluster(eks)
    excluded = write_config(DEFAULT_COST + "      exclude_until: 2026-11-26\n")
    run = cli("cost", "schedule", "--at", NIGHT, config=excluded)
    assert run.rows()[f"{CLUSTER}/*"]["action"] == "skipped"
    assert "excluded until 2026-11-26" in run.rows()[f"{CLUSTER}/*"]["message"]
    assert eks.size(CLUSTER, "general") == (2, 3, 5)
    cli("cost", "schedule", "--at", "2026-11-26T23:00:00+05:30", config=excluded)
    assert eks.size(CLUSTER, "general") == (0, 0, 5)

    forced = write_config(DEFAULT_COST + "      force_up: true\n")
    run = cli("cost", "schedule", "--at", "2026-11-26T23:30:00+05:30", config=forced)
    assert run.rows()[f"{CLUSTER}/general"]["reason"] == "force_up in config"
    assert eks.size(CLUSTER, "general") == (2, 3, 5)


def test_dry_run_changes_nothing(eks: Eks, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: rich does not fold the table
    dev_cluster(eks)
    run = cli("cost", "schedule", "--at", NIGHT, "--dry-run")
    assert run.code == 0
    assert run.json["dry_run"] is True
    assert run.rows()[f"{CLUSTER}/general"]["action"] == "scale-down"
    assert run.rows()[f"{CLUSTER}/general"]["after"] == {"min": 0, "max": 5, "desired": 0}
    assert run.writes == 0
    assert eks.size(CLUSTER, "general") == (2, 3, 5)
    assert eks.state(CLUSTER) == {}
    human = cli("cost", "schedule", "--at", NIGHT, "--dry-run", json_mode=False)
    assert "| 2/3/5 -> 0/0/5" in human.out.replace("│", "|")
    assert (
        "dev (techitfactory-dev): schedule office-hours says down (outside uptime (Asia/Kolkata Wed 23:00)); "
        "next change Thu 2026-11-26 08:00 Asia/Kolkata" in human.out
    )
    assert "devops cost schedule at 2026-11-25 17:30Z (dry run: nothing changed)" in human.out
    assert "scale-down" in human.out


def test_down_and_up_by_hand(eks: Eks, cli: Callable[..., Run]) -> None:
    dev_cluster(eks)
    run = cli("cost", "down", "--cluster", CLUSTER, "--nodegroup", "spot", "--at", MORNING)
    assert run.code == 0, run.err
    assert eks.size(CLUSTER, "spot") == (0, 0, 4)
    assert eks.size(CLUSTER, "general") == (2, 3, 5)
    assert "the next 'devops cost schedule' run puts it back" in run.err
    run = cli("cost", "up", "--cluster", "dev", "--nodegroup", "spot", "--at", MORNING)  # target name works too
    assert run.code == 0, run.err
    assert eks.size(CLUSTER, "spot") == (1, 1, 4)
    assert eks.state(CLUSTER) == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cluster", "nope"], "cluster 'nope' is not a target in cost.targets (known: techitfactory-dev)"),
        (
            ["--cluster", CLUSTER, "--nodegroup", "nope"],
            "node group 'nope' not found in cluster techitfactory-dev",
        ),
        (
            ["--cluster", CLUSTER, "--nodegroup", "keep-system"],
            "node group 'keep-system' is not selected by cost.targets.dev.nodegroups",
        ),
        (["--cluster", CLUSTER, "--until", "25:00"], "--until: '25:00' is not a time of day"),
        (["--cluster", CLUSTER, "--at", "yesterday"], "--at: expected ISO-8601"),
    ],
)
def test_bad_requests_by_hand_exit_2(eks: Eks, cli: Callable[..., Run], args: list[str], message: str) -> None:
    dev_cluster(eks)
    run = cli("cost", "down", *args)
    assert run.code == 2, run.err
    assert message in run.err
    assert run.err.strip().count("\n") == 0  # one line
    assert eks.size(CLUSTER, "general") == (2, 3, 5)


def test_a_hold_keeps_it_up_for_a_late_night(eks: Eks, cli: Callable[..., Run]) -> None:
    dev_cluster(eks)
    cli("cost", "schedule", "--at", NIGHT)
    run = cli("cost", "up", "--cluster", CLUSTER, "--until", "02:00", "--at", NIGHT)
    assert run.code == 0, run.err
    assert eks.size(CLUSTER, "general") == (2, 3, 5)
    assert eks.state(CLUSTER) == {"devops.cost.hold/*": "state=up until=2026-11-25T20:30:00Z"}
    # The hourly run at 01:00 keeps it up, and writes nothing.
    later = cli("cost", "schedule", "--at", "2026-11-26T01:00:00+05:30")
    assert later.writes == 0
    assert later.rows()[f"{CLUSTER}/general"]["reason"].startswith("hold until 2026-11-25 20:30Z")
    # At 02:30 the hold is over: down again, and the expired hold is removed.
    cli("cost", "schedule", "--at", "2026-11-26T02:30:00+05:30")
    assert eks.size(CLUSTER, "general") == (0, 0, 5)
    assert "devops.cost.hold/*" not in eks.state(CLUSTER)
    assert cli("cost", "schedule", "--at", "2026-11-26T02:30:00+05:30").writes == 0


def test_unknown_cluster_is_skipped_not_fatal(aws_env: str, cli: Callable[..., Run]) -> None:
    run = cli("cost", "schedule", "--at", NIGHT)
    assert run.code == 0
    assert "not found" in run.rows()[f"{CLUSTER}/*"]["message"]


def test_github_actions_summary_and_outputs(
    eks: Eks, cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A saved size edited by hand into nonsense: refused, and annotated.
    dev_cluster(eks, tags={"devops.cost/spot": "phase=down min=0 max=4 desired=0 at=2026-11-25T17:30:00Z"})
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    run = cli("cost", "schedule", "--at", NIGHT, json_mode=False)
    assert run.code == 0
    text = summary.read_text()
    assert "### devops cost schedule" in text
    assert "| techitfactory-dev | general | down | scale-down | 2/3/5 | 0/0/5 | 2/3/5 |" in text
    assert output.read_text() == "changed=1\n"
    assert (
        "::warning title=devops cost::techitfactory-dev/spot: refused: saved size 0/0/4 (min/desired/max) "
        "cannot be restored; fix or delete cluster tag devops.cost/spot" in run.out
    )
    assert eks.size(CLUSTER, "spot") == (1, 1, 4)


def test_bad_at_is_bad_input(aws_env: str, cli: Callable[..., Run]) -> None:
    run = cli("cost", "schedule", "--at", "tonight")
    assert run.code == 2
    assert run.err.strip() == "devops: error: --at: expected ISO-8601 like 2026-11-25T20:00:00+05:30, got 'tonight'"


def test_ending_a_late_night_early_removes_the_hold(eks: Eks, cli: Callable[..., Run]) -> None:
    dev_cluster(eks)
    cli("cost", "schedule", "--at", NIGHT)
    assert cli("cost", "up", "--cluster", CLUSTER, "--until", "02:00", "--at", NIGHT).code == 0
    run = cli("cost", "down", "--cluster", CLUSTER, "--at", "2026-11-25T23:30:00+05:30")
    assert run.code == 0, run.err
    assert "removed hold(s) *" in run.rows()[f"{CLUSTER}/*"]["message"]
    assert eks.size(CLUSTER, "general") == (0, 0, 5)
    assert "devops.cost.hold/*" not in eks.state(CLUSTER)
    # The hourly run leaves it down, and nothing of the size was lost.
    assert cli("cost", "schedule", "--at", "2026-11-26T01:00:00+05:30").writes == 0
    cli("cost", "schedule", "--at", MORNING)
    assert eks.size(CLUSTER, "general") == (2, 3, 5)


def test_a_down_hold_keeps_one_node_group_down_in_office_hours(eks: Eks, cli: Callable[..., Run]) -> None:
    dev_cluster(eks)
    run = cli("cost", "down", "--cluster", CLUSTER, "--nodegroup", "spot", "--until", "12:00", "--at", MORNING)
    assert run.code == 0, run.err
    assert eks.state(CLUSTER)["devops.cost.hold/spot"] == "state=down until=2026-11-26T06:30:00Z"
    later = cli("cost", "schedule", "--at", "2026-11-26T11:00:00+05:30")
    assert later.writes == 0
    assert eks.size(CLUSTER, "spot") == (0, 0, 4)
    assert eks.size(CLUSTER, "general") == (2, 3, 5)
    cli("cost", "schedule", "--at", "2026-11-26T12:05:00+05:30")
    assert eks.size(CLUSTER, "spot") == (1, 1, 4)
    assert eks.state(CLUSTER) == {}


def test_node_groups_leaving_the_patterns_are_restored_never_scaled(
    eks: Eks, cli: Callable[..., Run], write_config: Callable[[str], Path]
) -> None:
    dev_cluster(eks)
    eks.client.create_nodegroup(
        clusterName=CLUSTER,
        nodegroupName="temp",
        nodeRole="arn:aws:iam::123456789012:role/eks-nodes",
        subnets=["subnet-1"],
        scalingConfig={"minSize": 1, "desiredSize": 1, "maxSize": 1},
    )
    cli("cost", "schedule", "--at", NIGHT)
    assert eks.size(CLUSTER, "spot") == (0, 0, 4)
    eks.client.delete_nodegroup(clusterName=CLUSTER, nodegroupName="temp")
    # `spot` is excluded from now on: the morning still restores it (never stranded at zero)...
    narrowed = write_config(DEFAULT_COST.replace('exclude: ["keep-*"]', 'exclude: ["keep-*", "spot"]'))
    run = cli("cost", "schedule", "--at", MORNING, config=narrowed)
    assert run.rows()[f"{CLUSTER}/spot"]["action"] == "restore"
    assert run.rows()[f"{CLUSTER}/temp"]["message"] == "node group is gone; clearing its saved size"
    assert eks.size(CLUSTER, "spot") == (1, 1, 4)
    assert eks.state(CLUSTER) == {}
    # ...and the next night leaves it alone.
    cli("cost", "schedule", "--at", NEXT_NIGHT, config=narrowed)
    assert eks.size(CLUSTER, "spot") == (1, 1, 4)
    assert eks.size(CLUSTER, "general") == (0, 0, 5)
