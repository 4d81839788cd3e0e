"""Cost-optimizer fixtures: EKS clusters on the real moto server, a config file, the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cost.faultproxy import FaultProxy
from tests.support.cli import Outcome, check_json_output

ROLE = "arn:aws:iam::123456789012:role/eks-nodes"

BASE_CONFIG = """\
project: shop
services:
  cart: {path: services/cart, port: 3002, language: javascript}
environments:
  dev:
    url: https://dev.example.com
    cluster: {name: techitfactory-dev, region: ap-south-1}
    gitops: {path: gitops/environments/dev}
  prod:
    url: https://example.com
    cluster: {name: shop-live, region: ap-south-1}
    gitops: {path: gitops/environments/prod}
"""

DEFAULT_COST = """\
cost:
  schedules:
    office-hours:
      timezone: Asia/Kolkata
      uptime: ["Mon-Fri 08:00-20:00"]
      holidays: ["2026-12-25"]
  targets:
    dev:
      cluster: techitfactory-dev
      schedule: office-hours
      nodegroups: {include: ["*"], exclude: ["keep-*"]}
"""


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    def rows(self) -> dict[str, dict[str, Any]]:
        return {f"{r['cluster']}/{r['nodegroup']}": r for r in self.json["nodegroups"]}

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.json["api_calls"].items() if not op.startswith(("Describe", "List")))


class Eks:
    """Test setup and inspection through plain boto3 (not the code under test)."""

    def __init__(self, region: str = "ap-south-1") -> None:
        import boto3

        self.client = boto3.client("eks", region_name=region)

    def cluster(
        self,
        name: str,
        nodegroups: dict[str, tuple[int, int, int]],
        *,
        tags: dict[str, str] | None = None,
        ng_tags: dict[str, dict[str, str]] | None = None,
        instance_type: str = "t3.medium",
    ) -> None:
        self.client.create_cluster(
            name=name,
            roleArn=ROLE,
            resourcesVpcConfig={"subnetIds": ["subnet-1"]},
            tags=tags or {"team": "platform"},
        )
        for ng, (lo, desired, hi) in nodegroups.items():
            self.client.create_nodegroup(
                clusterName=name,
                nodegroupName=ng,
                nodeRole=ROLE,
                subnets=["subnet-1"],
                scalingConfig={"minSize": lo, "desiredSize": desired, "maxSize": hi},
                instanceTypes=[instance_type],
                tags=(ng_tags or {}).get(ng, {"team": "platform"}),
            )

    def size(self, cluster: str, ng: str) -> tuple[int, int, int]:
        sc = self.client.describe_nodegroup(clusterName=cluster, nodegroupName=ng)["nodegroup"]["scalingConfig"]
        return sc["minSize"], sc["desiredSize"], sc["maxSize"]

    def resize(self, cluster: str, ng: str, lo: int, desired: int, hi: int) -> None:
        self.client.update_nodegroup_config(
            clusterName=cluster,
            nodegroupName=ng,
            scalingConfig={"minSize": lo, "desiredSize": desired, "maxSize": hi},
        )

    def tags(self, cluster: str) -> dict[str, str]:
        return dict(self.client.describe_cluster(name=cluster)["cluster"].get("tags") or {})

    def state(self, cluster: str) -> dict[str, str]:
        return {k: v for k, v in self.tags(cluster).items() if k.startswith("devops.cost")}


@pytest.fixture
def eks(aws_env: str) -> Eks:
    return Eks()


@pytest.fixture
def config_file(tmp_path: Path) -> Callable[[str], Path]:
    """Write pipelines/devops.yaml with the given cost block (default: office hours on dev)."""

    def write(cost: str = DEFAULT_COST) -> Path:
        folder = tmp_path / "pipelines"
        folder.mkdir(exist_ok=True)
        path = folder / "devops.yaml"
        path.write_text(BASE_CONFIG + cost, encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write another config file (base config + this cost block) in the test's folder."""
    count = iter(range(1000))

    def write(cost: str) -> Path:
        path = tmp_path / f"devops-{next(count)}.yaml"
        path.write_text(BASE_CONFIG + cost, encoding="utf-8")
        return path

    return write


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], config_file: Callable[[str], Path]) -> Callable[..., Run]:
    """Run `devops --config <file> --json ...` in process; returns exit code, stdout, stderr."""
    from devops.cli.main import main

    state: dict[str, Path] = {}

    def run(*args: str, config: Path | None = None, json_mode: bool = True) -> Run:
        path = config or state.setdefault("path", config_file())
        capsys.readouterr()
        argv = ["--config", str(path), *(["--json"] if json_mode else []), *args]
        code = main(argv)
        captured = capsys.readouterr()
        # Every --json result is checked against its published schema (docs/schemas/cost-*.json).
        check_json_output(tuple(argv), Outcome(code, captured.out, captured.err))
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def fault_proxy(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of moto_server; the AWS SDK is pointed at it."""
    proxy = FaultProxy(aws_env).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    yield proxy
    proxy.stop()
