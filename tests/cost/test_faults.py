"""Faults injected for real: throttling and 5xx over HTTP, a killed job, EKS not doing what it said."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cost.conftest import Eks, Run
from tests.cost.faultproxy import FaultProxy

NIGHT = "2026-11-25T23:00:00+05:30"
MORNING = "2026-11-26T09:00:00+05:30"
NEXT_NIGHT = "2026-11-26T23:00:00+05:30"
CLUSTER = "techitfactory-dev"
REPO = Path(__file__).resolve().parents[2]


def test_throttling_is_retried_by_botocore(eks: Eks, fault_proxy: FaultProxy, cli: Callable[..., Run]) -> None:
    eks.cluster(CLUSTER, {"general": (2, 3, 5)})
    fault_proxy.fail("UpdateNodegroupConfig", 2, status=429)
    run = cli("cost", "schedule", "--at", NIGHT)
    assert run.code == 0, run.err
    assert fault_proxy.injected["UpdateNodegroupConfig"] == 2
    assert run.json["api_calls"]["UpdateNodegroupConfig"] == 1
    assert run.json["http_attempts"]["UpdateNodegroupConfig"] == 3  # two throttled, then through
    assert eks.size(CLUSTER, "general") == (0, 0, 5)
    # What the client counted is what the server saw.
    assert fault_proxy.requests["UpdateNodegroupConfig"] == 3
    assert fault_proxy.requests["DescribeNodegroup"] == run.json["api_calls"]["DescribeNodegroup"]


def test_persistent_5xx_exits_3_and_leaves_things_consistent(
    eks: Eks, fault_proxy: FaultProxy, cli: Callable[..., Run]
) -> None:
    eks.cluster(CLUSTER, {"general": (2, 3, 5)})
    fault_proxy.fail("UpdateNodegroupConfig", 100, status=503)
    run = cli("cost", "schedule", "--at", NIGHT)
    assert run.code == 3
    last = run.err.strip().splitlines()[-1]
    assert last.startswith("devops: error: techitfactory-dev/general (ap-south-1): failed: EKS UpdateNodegroupConfig")
    assert last.endswith("saved size kept, the next run retries")
    # botocore's `max_attempts` (5 in devops.adapters.aws.client) counts retries: 6 attempts in all.
    assert run.json["http_attempts"]["UpdateNodegroupConfig"] == 6
    assert fault_proxy.injected["UpdateNodegroupConfig"] == 6
    # Consistent: the node group is untouched and its size is saved (phase=saving).
    assert eks.size(CLUSTER, "general") == (2, 3, 5)
    assert eks.state(CLUSTER)["devops.cost/general"].startswith("phase=saving min=2 max=5 desired=3")

    fault_proxy.fail("UpdateNodegroupConfig", 0)
    rerun = cli("cost", "schedule", "--at", NIGHT)
    assert rerun.code == 0
    assert eks.size(CLUSTER, "general") == (0, 0, 5)
    assert eks.state(CLUSTER)["devops.cost/general"].startswith("phase=down min=2 max=5 desired=3")
    assert cli("cost", "schedule", "--at", MORNING).code == 0
    assert eks.size(CLUSTER, "general") == (2, 3, 5)


def test_a_restore_that_fails_keeps_the_saved_size(eks: Eks, fault_proxy: FaultProxy, cli: Callable[..., Run]) -> None:
    eks.cluster(CLUSTER, {"general": (2, 3, 5)})
    assert cli("cost", "schedule", "--at", NIGHT).code == 0
    fault_proxy.fail("UpdateNodegroupConfig", 100, status=500)
    assert cli("cost", "schedule", "--at", MORNING).code == 3
    assert eks.size(CLUSTER, "general") == (0, 0, 5)
    assert "min=2 max=5 desired=3" in eks.state(CLUSTER)["devops.cost/general"]
    fault_proxy.fail("UpdateNodegroupConfig", 0)
    assert cli("cost", "schedule", "--at", MORNING).code == 0
    assert eks.size(CLUSTER, "general") == (2, 3, 5)
    assert eks.state(CLUSTER) == {}


def test_read_back_mismatch_is_reported(eks: Eks, fault_proxy: FaultProxy, cli: Callable[..., Run]) -> None:
    eks.cluster(CLUSTER, {"general": (2, 3, 5)})
    fault_proxy.lie_after_update = True
    run = cli("cost", "schedule", "--at", NIGHT)
    assert run.code == 3
    row = run.rows()[f"{CLUSTER}/general"]
    assert row["action"] == "mismatch"
    assert row["message"] == "asked for 0/0/5, EKS shows 0/1/5; the next run checks again"
    assert run.err.strip().splitlines()[-1] == (
        "devops: error: techitfactory-dev/general (ap-south-1): mismatch: asked for 0/0/5, EKS shows 0/1/5; "
        "the next run checks again"
    )
    # Not marked down: the next run looks again instead of trusting it.
    assert eks.state(CLUSTER)["devops.cost/general"].startswith("phase=saving")
    fault_proxy.lie_after_update = False
    assert cli("cost", "schedule", "--at", NIGHT).code == 0
    assert eks.state(CLUSTER)["devops.cost/general"].startswith("phase=down")


def _killed_run(config: Path, at: str, pause: str) -> None:
    """Start `devops cost schedule` as a real process, SIGKILL it when it reaches `pause`
    (tests/support/cost_checkpoint.py wires a checkpoint that pauses there for 60 s)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.cost_checkpoint", pause, "60",
         "--config", str(config), "cost", "schedule", "--at", at],
        cwd=REPO,  # `-m` finds tests.support and devops from here
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if f"devops: paused at {pause}" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "".join(seen)


def test_killed_between_saving_and_scaling_down(
    eks: Eks, cli: Callable[..., Run], config_file: Callable[..., Path]
) -> None:
    eks.cluster(CLUSTER, {"general": (2, 3, 5), "spot": (1, 2, 4)})
    config = config_file()
    _killed_run(config, NIGHT, "after-save")
    # Killed: sizes saved, nothing scaled yet.
    assert eks.size(CLUSTER, "general") == (2, 3, 5)
    assert eks.state(CLUSTER)["devops.cost/spot"].startswith("phase=saving min=1 max=4 desired=2")
    run = cli("cost", "schedule", "--at", "2026-11-25T23:30:00+05:30", config=config)  # the next cron run
    assert run.code == 0
    assert eks.size(CLUSTER, "general") == (0, 0, 5)
    assert eks.size(CLUSTER, "spot") == (0, 0, 4)
    assert cli("cost", "schedule", "--at", MORNING, config=config).code == 0
    assert eks.size(CLUSTER, "general") == (2, 3, 5)
    assert eks.size(CLUSTER, "spot") == (1, 2, 4)
    assert eks.state(CLUSTER) == {}


@pytest.mark.parametrize("next_run", [MORNING, NEXT_NIGHT])
def test_killed_between_scaling_up_and_clearing_state(
    eks: Eks, cli: Callable[..., Run], config_file: Callable[..., Path], next_run: str
) -> None:
    eks.cluster(CLUSTER, {"general": (2, 3, 5)})
    config = config_file()
    assert cli("cost", "schedule", "--at", NIGHT, config=config).code == 0
    _killed_run(config, MORNING, "after-scale-up")
    assert eks.size(CLUSTER, "general") == (2, 3, 5)
    assert eks.state(CLUSTER)["devops.cost/general"].startswith("phase=restoring min=2 max=5 desired=3")
    run = cli("cost", "schedule", "--at", next_run, config=config)
    assert run.code == 0
    if next_run == MORNING:
        assert run.rows()[f"{CLUSTER}/general"]["action"] == "clear-state"
        assert eks.state(CLUSTER) == {}
        assert eks.size(CLUSTER, "general") == (2, 3, 5)
    else:
        # The next run is already at night: down again, and the saved size is still the right one.
        assert eks.size(CLUSTER, "general") == (0, 0, 5)
        cli("cost", "schedule", "--at", "2026-11-27T09:00:00+05:30", config=config)
        assert eks.size(CLUSTER, "general") == (2, 3, 5)


def test_an_update_still_in_progress_is_confirmed_by_the_next_run(
    eks: Eks, fault_proxy: FaultProxy, cli: Callable[..., Run], write_config: Callable[[str], Path]
) -> None:
    from tests.cost.conftest import DEFAULT_COST

    eks.cluster(CLUSTER, {"general": (2, 3, 5)})
    config = write_config(DEFAULT_COST.replace("cost:\n", "cost:\n  readback_interval_seconds: 0\n"))
    fault_proxy.lie_after_update, fault_proxy.lie_status = True, "UPDATING"
    run = cli("cost", "schedule", "--at", NIGHT, config=config)
    assert run.code == 0, run.err  # not a failure: EKS is still applying it
    row = run.rows()[f"{CLUSTER}/general"]
    assert row["action"] == "scale-down"
    assert row["message"] == "EKS is still updating (shows 0/1/5); the next run confirms"
    assert run.json["api_calls"]["DescribeNodegroup"] == 1 + 3  # the first read, then 3 read-backs
    assert eks.state(CLUSTER)["devops.cost/general"].startswith("phase=saving")
    fault_proxy.lie_after_update = False
    run = cli("cost", "schedule", "--at", NIGHT, config=config)
    assert run.rows()[f"{CLUSTER}/general"]["action"] == "confirm"
    assert run.json["api_calls"].get("UpdateNodegroupConfig") is None
    assert eks.state(CLUSTER)["devops.cost/general"].startswith("phase=down")
