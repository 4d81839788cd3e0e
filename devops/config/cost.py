"""The `cost:` block: schedules, targets and price overrides for the cost optimizer.

Layout (see docs/cost.md for the reference):

```yaml
cost:
  opt_out_tag: devops.cost.opt-out       # "true" on a cluster or node group: never touched
  schedules:
    office-hours:
      timezone: Asia/Kolkata
      uptime: ["Mon-Fri 08:00-20:00"]    # kube-downscaler form; several allowed
      holidays: ["2026-12-25", "2026-12-31..2027-01-01"]
      overrides:
        - {from: "2026-11-27T20:00", to: "2026-11-28T02:00", state: up, reason: release night}
  targets:
    dev:
      cluster: techitfactory-dev
      region: ap-south-1
      schedule: office-hours
      nodegroups: {include: ["*"], exclude: []}
  prices:
    ap-south-1: {instances: {t3.medium: 0.0416}, eks_control_plane: 0.10}
```

The grammar of uptime periods lives in `devops.domain.schedule` (one parser for config
validation and for run time), so an error here and an error there read the same. The sections
build the domain's objects (`ScheduleConfig.schedule`, `CostConfig.resolve_targets`,
`CostConfig.readback_policy`): the domain never imports the config.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from devops.config.base import NAME_PATTERN, Section, check_names
from devops.config.cost_cluster import WorkloadsConfig
from devops.domain.cost.target import Capacity as DomainCapacity
from devops.domain.cost.target import FixedCounts, Selector, Target
from devops.domain.environments import is_production
from devops.domain.retry import RetryPolicy
from devops.domain.schedule import OverrideSpec, Schedule, load_zone, parse_holiday, parse_period
from devops.domain.types import Bool, Float, HttpUrl, Int, Line, check_year

if typing.TYPE_CHECKING:
    from devops.domain.calendars.model import Calendar


REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"
# EKS names: letters, digits, hyphens and underscores, starting with a letter or digit.
CLUSTER_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$"
TAG_KEY = r"^[A-Za-z0-9 _.:/=+@-]{1,100}$"
# USD per hour: finite, not negative, and below any instance AWS sells (u-24tb1 is ~220).
Price = Annotated[Float, Field(ge=0, le=10_000)]
INSTANCE_TYPE = r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$"
# The longest wait between two read-backs, in seconds (the interval's own bound).
READBACK_MAX_WAIT = 60.0


class Override(Section):
    """A one-off absolute range that forces the schedule up or down (local time of the schedule
    unless the timestamp carries an offset)."""

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    state: Literal["up", "down"] = "up"
    reason: Line = ""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _yaml_timestamps(cls, value: object) -> object:
        return _iso(value)

    @model_validator(mode="after")
    def _range(self) -> Override:
        start = _parse_local(self.start, "from")
        end = _parse_local(self.end, "to")
        # A date-only `to` includes that whole day.
        stop = _comparable(end) + (timedelta(days=1) if not isinstance(end, datetime) else timedelta())
        if stop <= _comparable(start):
            raise ValueError(f"override 'to' {self.end!r} must be after 'from' {self.start!r}")
        return self

    def spec(self) -> OverrideSpec:
        return OverrideSpec(self.start, self.end, self.state, self.reason)


class ScheduleConfig(Section):
    """When node groups run: an IANA zone, uptime periods, holidays and one-off overrides."""

    timezone: str = "UTC"
    uptime: tuple[str, ...] = Field(min_length=1)
    # Whole local days that are down (dates or `first..last` ranges), e.g. public holidays.
    holidays: tuple[str, ...] = ()
    # Calendars (`calendars:`) whose holidays are down too (whole days of each calendar's zone).
    calendars: tuple[str, ...] = ()
    overrides: tuple[Override, ...] = ()
    description: str = ""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        load_zone(value)  # raises ValueError naming the zone
        return value

    @field_validator("uptime")
    @classmethod
    def _periods(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            parse_period(text)  # raises ValueError naming the bad period
        return value

    @field_validator("holidays", mode="before")
    @classmethod
    def _yaml_dates(cls, value: object) -> object:
        # Unquoted `- 2026-12-25` is a date to YAML; keep the text form.
        return [_iso(item) for item in value] if isinstance(value, list | tuple) else value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            parse_holiday(str(text))
        return tuple(str(text) for text in value)

    def schedule(self, name: str, calendars: Mapping[str, Calendar] | None = None) -> Schedule:
        """The domain's schedule for this section (already checked: it cannot fail); `calendars`
        by name, as `Config.calendar` builds them."""
        return Schedule.build(name, timezone=self.timezone, uptime=self.uptime, holidays=self.holidays,
                              overrides=[item.spec() for item in self.overrides],
                              calendars=[(calendars or {})[c] for c in self.calendars])


class NodegroupSelector(Section):
    """Which node groups of the cluster the schedule applies to (shell-style patterns)."""

    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()

    def selector(self) -> Selector:
        return Selector(self.include, self.exclude)


class Capacity(Section):
    """A node group as the report should price it when AWS is not asked (`report --offline`)."""

    instance_type: str = Field(pattern=INSTANCE_TYPE)
    count: Int = Field(ge=0, le=1000)


class FixedCosts(Section):
    """What keeps running while the nodes sleep (counts; prices come from `cost.prices`)."""

    eks_control_planes: Annotated[Int, Field(ge=0, le=1000)] = 1
    nat_gateways: Annotated[Int, Field(ge=0, le=1000)] = 1
    load_balancers: Annotated[Int, Field(ge=0, le=1000)] = 1


class TargetConfig(Section):
    """One EKS cluster that a schedule scales."""

    cluster: str = Field(pattern=CLUSTER_NAME)
    region: Annotated[str, Field(pattern=REGION)] = "ap-south-1"
    schedule: str = Field(pattern=NAME_PATTERN)
    # A label; `prod`/`production` (or a cluster named like one) marks the target production.
    environment: str | None = None
    # Production is never scaled unless this is true (on purpose, in review).
    allow_production: Bool = False
    nodegroups: NodegroupSelector = NodegroupSelector()
    # Not touched at all until this local date/time of the schedule (e.g. a load-test week).
    exclude_until: str | None = None
    # Keep everything up (restore saved sizes), whatever the schedule says.
    force_up: Bool = False
    # For the report: node groups by name, when AWS is not asked.
    capacity: dict[str, Capacity] = Field(default_factory=dict)
    fixed: FixedCosts = FixedCosts()
    # Scaled to zero with the node groups (needs the cluster's Kubernetes API).
    workloads: WorkloadsConfig = WorkloadsConfig()
    # Karpenter NodePools limited to zero off-hours (autoscaler: karpenter).
    nodepools: NodegroupSelector = NodegroupSelector()

    @field_validator("exclude_until", mode="before")
    @classmethod
    def _until(cls, value: object) -> object:
        value = _iso(value)
        if value is not None:
            _parse_local(str(value), "exclude_until")
        return value

    @property
    def production(self) -> bool:
        """True when the label or the cluster name says production (devops/domain/environments.py)."""
        return is_production(self.environment or "", cluster=self.cluster)

    def target(self, name: str, schedule: Schedule, opt_out_tag: str,
               production_clusters: Iterable[str] = (), autoscaler: str = "none") -> Target:
        """The domain's target; production also when its cluster is a production environment's;
        `autoscaler` that of the environment whose cluster it is."""
        return Target(
            name=name,
            cluster=self.cluster,
            region=self.region,
            schedule=schedule,
            production=self.production or self.cluster in set(production_clusters),
            opt_out_tag=opt_out_tag,
            allow_production=self.allow_production,
            nodegroups=self.nodegroups.selector(),
            exclude_until=self.exclude_until,
            force_up=self.force_up,
            capacity=tuple(DomainCapacity(group, c.instance_type, c.count, "config")
                           for group, c in sorted(self.capacity.items())),
            fixed=FixedCounts(self.fixed.eks_control_planes, self.fixed.nat_gateways, self.fixed.load_balancers),
            autoscaler=autoscaler,
            workloads=self.workloads.workloads(),
            nodepools=self.nodepools.selector(),
        )


class RegionPrices(Section):
    """Price overrides for one region (USD per hour); unset values keep the seed's prices."""

    instances: dict[str, Price] = Field(default_factory=dict)
    eks_control_plane: Price | None = None
    nat_gateway: Price | None = None
    alb: Price | None = None


class CostMetricsConfig(Section):
    """Where cost runs push their metrics (docs/cost.md, "Metrics"); nothing is pushed when unset."""

    pushgateway_url: HttpUrl | None = None
    job: Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_-]*$")] = "devops-cost"
    timeout_seconds: Annotated[Float, Field(gt=0, le=120)] = 10.0
    # Basic auth for a Pushgateway behind a proxy: the names of the variables holding it.
    username_env: Annotated[str | None, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = None
    password_env: Annotated[str | None, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = None


class CostConfig(Section):
    """Schedules, the clusters they apply to, and the prices used to report savings."""

    opt_out_tag: Annotated[str, Field(pattern=TAG_KEY)] = "devops.cost.opt-out"
    # Clusters reconciled at once; each is independent, so threads hide API latency.
    concurrency: Annotated[Int, Field(ge=1, le=64)] = 8
    # After an update the node group is read back; while EKS says UPDATING, this often, this long.
    readback_attempts: Annotated[Int, Field(ge=1, le=20)] = 3
    readback_interval_seconds: Annotated[Float, Field(ge=0, le=60)] = 2.0
    schedules: dict[str, ScheduleConfig] = Field(default_factory=dict)
    targets: dict[str, TargetConfig] = Field(default_factory=dict)
    prices: dict[str, RegionPrices] = Field(default_factory=dict)
    metrics: CostMetricsConfig = CostMetricsConfig()

    @field_validator("prices")
    @classmethod
    def _regions(cls, value: dict[str, RegionPrices]) -> dict[str, RegionPrices]:
        for region, prices in value.items():
            if not re.fullmatch(REGION, region):
                raise ValueError(f"{region!r}: expected an AWS region like ap-south-1")
            for name in prices.instances:
                if not re.fullmatch(INSTANCE_TYPE, name):
                    raise ValueError(f"{region}.instances: {name!r} is not an instance type like t3.medium")
        return value

    @field_validator("schedules", "targets")
    @classmethod
    def _names(cls, value: dict[str, object]) -> dict[str, object]:
        check_names(value, "office-hours")
        return value

    @field_validator("opt_out_tag")
    @classmethod
    def _own_prefix(cls, value: str) -> str:
        # Those prefixes hold saved sizes and holds (devops/domain/cost/state.py).
        if value.startswith(("devops.cost/", "devops.cost.hold/")):
            raise ValueError(f"{value!r} is reserved for saved sizes; use e.g. 'devops.cost.opt-out'")
        return value

    def resolve_targets(self, production_clusters: Iterable[str] = (),
                        names: Iterable[str] | None = None,
                        autoscalers: Mapping[tuple[str, str], str] | None = None,
                        calendars: Mapping[str, Calendar] | None = None) -> list[Target]:
        """The targets (all, or those named), by name, with their schedules built; `autoscalers`
        maps (cluster, region) to the autoscaler of the environment that owns that cluster,
        `calendars` the calendars the schedules name (as `Config.calendar` builds them)."""
        prod = set(production_clusters)
        wanted = set(names) if names is not None else None
        modes = autoscalers or {}
        schedules = {name: cfg.schedule(name, calendars) for name, cfg in self.schedules.items()}
        return [cfg.target(name, schedules[cfg.schedule], self.opt_out_tag, prod,
                           modes.get((cfg.cluster, cfg.region), "none"))
                for name, cfg in sorted(self.targets.items()) if wanted is None or name in wanted]

    def readback_policy(self) -> RetryPolicy:
        """How the node group is read back after an update while EKS says UPDATING: the one
        retry policy (devops/domain/retry.py), waits growing from `readback_interval_seconds`."""
        return RetryPolicy(attempts=self.readback_attempts, base_seconds=self.readback_interval_seconds,
                           max_seconds=READBACK_MAX_WAIT)

    @model_validator(mode="after")
    def _references(self) -> CostConfig:
        seen: dict[tuple[str, str], str] = {}
        for name, target in self.targets.items():
            if target.schedule not in self.schedules:
                known = ", ".join(sorted(self.schedules)) or "none defined"
                raise ValueError(f"targets.{name}.schedule: unknown schedule {target.schedule!r} (known: {known})")
            key = (target.cluster, target.region)
            if key in seen:
                raise ValueError(
                    f"targets.{name}: cluster {target.cluster} in {target.region} is already "
                    f"target {seen[key]!r}; one schedule per cluster"
                )
            seen[key] = name
        return self


def _iso(value: object) -> object:
    """YAML turns unquoted dates and timestamps into objects: back to ISO text (naive stays naive)."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes") if not value.second else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _parse_local(text: str, key: str) -> date | datetime:
    """A date or an ISO date-time (naive = the schedule's zone); ValueError names the key."""
    text = str(text).strip()
    try:
        parsed: date | datetime = (date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)
                                   else datetime.fromisoformat(text))
    except ValueError:
        raise ValueError(f"{key}: expected a date (2026-12-24) or date-time (2026-12-24T20:00), got {text!r}") from None
    return check_year(parsed, key)


def _comparable(value: date | datetime) -> datetime:
    """Naive wall time for ordering `from`/`to`; aware values are compared in UTC."""

    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value
    return datetime(value.year, value.month, value.day)
