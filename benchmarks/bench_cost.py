"""Benchmark: reconcile 50 clusters x 4 node groups against a real moto_server.

Prints, for a run that changes everything (down at night, up in the morning) and a run that
changes nothing (the same instant again): wall time, and AWS API calls per node group
(reads and writes, counted with botocore event hooks). Target for the no-change run: no
writes, at most one read per node group. Run: `python benchmarks/bench_cost.py`.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CLUSTERS = 50
NODEGROUPS = 4
ROLE = "arn:aws:iam::123456789012:role/eks-nodes"
NIGHT = datetime.fromisoformat("2026-11-25T23:00:00+05:30")
MORNING = datetime.fromisoformat("2026-11-26T09:00:00+05:30")


def main() -> int:
    from tests.support.stack import MotoServer

    server = MotoServer().start()
    try:
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": server.url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "ap-south-1",
            }
        )
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        return run()
    finally:
        server.stop()


def run() -> int:
    import boto3

    from devops.adapters.aws.eks import CallCounter, EksAdapter
    from devops.app.cost_reconcile import reconcile
    from devops.config.cost import CostConfig

    raw = boto3.client("eks", region_name="ap-south-1")
    for c in range(CLUSTERS):
        raw.create_cluster(name=f"bench-{c:02d}", roleArn=ROLE, resourcesVpcConfig={})
        for n in range(NODEGROUPS):
            raw.create_nodegroup(
                clusterName=f"bench-{c:02d}",
                nodegroupName=f"ng-{n}",
                nodeRole=ROLE,
                subnets=["s"],
                instanceTypes=["t3.medium"],
                scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 2},
            )
    cost = CostConfig.model_validate(
        {
            "schedules": {"office-hours": {"timezone": "Asia/Kolkata", "uptime": ["Mon-Fri 08:00-20:00"]}},
            "targets": {
                f"t{c:02d}": {"cluster": f"bench-{c:02d}", "schedule": "office-hours"} for c in range(CLUSTERS)
            },
        }
    )
    targets = cost.resolve_targets()
    groups = CLUSTERS * NODEGROUPS

    def measure(label: str, at: datetime, concurrency: int) -> float:
        counter = CallCounter()
        start = time.perf_counter()
        result = reconcile(targets, at, lambda region: EksAdapter(region, counter), concurrency=concurrency)
        wall = time.perf_counter() - start
        broken = result.having("failed", "mismatch", "refused")
        assert not broken, broken[:3]
        print(
            f"{label:<34} {wall:7.2f} s  {len(result.changed):4d} changed  "
            f"{counter.reads / groups:5.2f} reads/ng  {counter.writes / groups:5.2f} writes/ng  "
            f"{sum(counter.calls.values()) / groups:5.2f} calls/ng"
        )
        return wall

    print(
        f"{CLUSTERS} clusters x {NODEGROUPS} node groups = {groups} node groups, "
        f"moto_server {os.environ['AWS_ENDPOINT_URL']}"
    )
    down = measure("down (changes everything), 8 thr", NIGHT, 8)
    idle_down = measure("down again (changes nothing)", NIGHT, 8)
    up = measure("up (changes everything), 8 thr", MORNING, 8)
    idle_up = measure("up again (changes nothing)", MORNING, 8)
    serial = measure("up again, 1 thread", MORNING, 1)
    print(
        f"ratios: change-nothing/change-everything wall time: night {idle_down / down:.2f}, "
        f"morning {idle_up / up:.2f}; 8 threads vs 1 on a no-change run: {serial / idle_up:.1f}x faster"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
