"""The cost use cases on the in-memory EKS of tests/fakes/eks.py: targets, configs and ports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import yaml

from devops.app.cost_run import CostPorts
from devops.config import Config
from devops.domain.cost.target import Selector, Target
from devops.domain.schedule import Schedule
from tests.fakes.eks import EksWorld

NIGHT = datetime.fromisoformat("2026-11-25T23:00:00+05:30")  # Wednesday, after office hours in Kolkata
MORNING = datetime.fromisoformat("2026-11-26T09:00:00+05:30")  # Thursday, office hours
CLUSTER = "techitfactory-dev"
OFFICE_HOURS = Schedule.build("office-hours", timezone="Asia/Kolkata", uptime=["Mon-Fri 08:00-20:00"])

BASE = """\
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
cost:
  readback_interval_seconds: 0
  schedules:
    office-hours:
      timezone: Asia/Kolkata
      uptime: ["Mon-Fri 08:00-20:00"]
  targets:
    dev:
      cluster: techitfactory-dev
      schedule: office-hours
      nodegroups: {include: ["*"], exclude: ["keep-*"]}
"""


def target(name: str = "dev", cluster: str = CLUSTER, **fields: Any) -> Target:
    fields.setdefault("nodegroups", Selector(exclude=("keep-*",)))
    return Target(name=name, cluster=cluster, region=fields.pop("region", "ap-south-1"),
                  schedule=fields.pop("schedule", OFFICE_HOURS), **fields)


def config(extra_targets: str = "", *, cost: str | None = None) -> Config:
    """The base config, with more targets under cost.targets, or another cost block."""
    text = BASE + extra_targets if cost is None else BASE[: BASE.index("cost:\n")] + cost
    return Config.model_validate(yaml.safe_load(text))


def dev_cluster(world: EksWorld, **kwargs: Any) -> None:
    world.cluster(CLUSTER, {"general": (2, 3, 5), "spot": (1, 1, 4), "keep-system": (1, 2, 2)}, **kwargs)


class Killed(BaseException):
    """The process died at a checkpoint (SIGKILL): nothing after it runs, not even `except Exception`."""


@pytest.fixture
def world() -> EksWorld:
    return EksWorld()


@pytest.fixture
def ports(world: EksWorld) -> Callable[..., CostPorts]:
    def make(**kwargs: Any) -> CostPorts:
        # A fresh count per run, as the CLI makes one CallCounter per run.
        world.calls.clear()
        world.attempts.clear()
        kwargs.setdefault("sleep", lambda _s: None)
        return CostPorts(eks_for=world.port, counts=world, **kwargs)

    return make
