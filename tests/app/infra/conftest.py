"""The infra workflow on in-memory fakes: a project in tmp_path (config and Terraform root
folders), `FakeTerraform` roots and a `FakeAws` account behind `FakeProbe`
(tests/fakes/, kept honest by tests/contract/test_terraform.py). No process, no server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devops.app.infra import InfraPorts
from devops.config import Config, load_config
from tests.fakes.aws_probe import ACCOUNT, FakeAws, FakeProbe
from tests.fakes.terraform import FakeTerraformFactory

BUCKET, TABLE = f"shop-tfstate-{ACCOUNT}", "shop-tflock"


@dataclass
class World:
    root: Path
    aws: FakeAws = field(default_factory=FakeAws)
    infra: dict[str, Any] = field(default_factory=dict)
    clusters: dict[str, str] = field(default_factory=lambda: {"dev": "shop-dev", "prod": "shop-prod"})
    endpoint: str | None = None
    clusters_region: str = "ap-south-1"

    def __post_init__(self) -> None:
        self.factory = FakeTerraformFactory(self.aws)
        self.probe = FakeProbe(self.aws)
        for folder in ("infra/dev", "infra/prod", "infra/bootstrap"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self.infra = {"environments": {"dev": {"root": "infra/dev"},
                                       "prod": {"root": "infra/prod", "protected": True}}}

    @property
    def config(self) -> Config:
        data = {
            "project": "shop",
            "services": {"cart": {"path": "services/cart", "port": 3002, "language": "javascript"}},
            "environments": {env: {"url": f"https://{env}.example.test",
                                   "cluster": {"name": cluster, "region": self.clusters_region},
                                   "gitops": {"path": f"gitops/environments/{env}"}}
                             for env, cluster in self.clusters.items()},
            "infra": self.infra,
        }
        path = self.root / "pipelines" / "devops.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(data))
        return load_config(path)

    @property
    def ports(self) -> InfraPorts:
        return InfraPorts(self.factory, self.probe, self.endpoint)

    def variables(self, env: str, **values: Any) -> None:
        self.infra["environments"][env]["variables"] = values

    def bootstrapped(self) -> World:
        self.aws.create_backend(BUCKET, TABLE)
        return self

    def work(self, env: str) -> Path:
        return self.root / ".devops" / "infra" / env

    def state(self, env: str) -> dict[str, Any] | None:
        return self.aws.buckets.get(BUCKET, {}).get(f"{env}/terraform.tfstate")


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path / "shop")
