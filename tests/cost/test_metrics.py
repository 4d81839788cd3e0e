"""Cost runs push what the schedule wants to a real Pushgateway (the Debian package's binary)."""

from __future__ import annotations

import datetime as dt
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cost.conftest import DEFAULT_COST, Eks, Run
from tests.cost.test_reconcile import CLUSTER, MORNING, NIGHT, dev_cluster
from tests.support.daemons import Proc, free_port


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("prometheus-pushgateway") or "/usr/bin/prometheus-pushgateway"
    port = free_port()
    # Its own persistence file: Debian's default is shared by every instance on the machine.
    process = Proc("pushgateway", [binary, f"--web.listen-address=127.0.0.1:{port}",
                                   f"--persistence.file={tmp_path / 'pushgateway.data'}"],
                   tmp_path / "pushgateway.log").start()
    url = f"http://127.0.0.1:{port}"
    try:
        process.wait_ready(f"{url}/-/ready", timeout=20)
        yield url
    finally:
        process.stop()


def pushed(url: str) -> dict[str, float]:
    """The devops_cost_* samples the Pushgateway exposes, keyed by name{labels} as written."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = {}
    for line in text.splitlines():
        if line.startswith("devops_cost_"):
            key, value = line.rsplit(" ", 1)
            found[key] = float(value)
    return found


def metrics_block(url: str) -> str:
    return DEFAULT_COST + f"  metrics: {{pushgateway_url: \"{url}\", timeout_seconds: 2}}\n"


def test_schedule_pushes_desired_state_per_node_group(
        eks: Eks, cli: Callable[..., Run], config_file: Callable[[str], Path], pushgateway: str) -> None:
    dev_cluster(eks)
    config = config_file(metrics_block(pushgateway))
    run = cli("cost", "schedule", "--at", NIGHT, config=config)
    assert run.code == 0, run.err
    labels = f'cluster="{CLUSTER}",instance="",job="devops-cost",nodegroup="general",target="dev"'
    night = pushed(pushgateway)
    assert night[f"devops_cost_nodegroup_desired_up{{{labels}}}"] == 0
    assert night[f"devops_cost_nodegroup_desired_nodes{{{labels}}}"] == 0
    stamp = dt.datetime.fromisoformat(NIGHT).timestamp()
    assert night[f'devops_cost_schedule_last_run_timestamp_seconds{{cluster="{CLUSTER}",instance="",'
                 f'job="devops-cost",target="dev"}}'] == pytest.approx(stamp)
    assert not any('nodegroup="keep-system"' in key for key in night)  # excluded: not the schedule's

    assert cli("cost", "schedule", "--at", MORNING, config=config).code == 0
    morning = pushed(pushgateway)
    assert morning[f"devops_cost_nodegroup_desired_up{{{labels}}}"] == 1
    assert morning[f"devops_cost_nodegroup_desired_nodes{{{labels}}}"] == 3


def test_a_dry_run_pushes_nothing(eks: Eks, cli: Callable[..., Run], config_file: Callable[[str], Path],
                                  pushgateway: str) -> None:
    dev_cluster(eks)
    config = config_file(metrics_block(pushgateway))
    assert cli("cost", "schedule", "--at", NIGHT, "--dry-run", config=config).code == 0
    assert pushed(pushgateway) == {}


def test_an_unreachable_pushgateway_warns_and_the_run_still_counts(
        eks: Eks, cli: Callable[..., Run], config_file: Callable[[str], Path]) -> None:
    dev_cluster(eks)
    config = config_file(metrics_block(f"http://127.0.0.1:{free_port()}"))
    run = cli("cost", "schedule", "--at", NIGHT, config=config)
    assert run.code == 0, run.err
    assert "metrics not pushed: Pushgateway http://127.0.0.1:" in run.err
    assert eks.size(CLUSTER, "general") == (0, 0, 5)
