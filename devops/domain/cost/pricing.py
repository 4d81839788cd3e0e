"""On-demand prices used by `devops cost report` and `devops infra` cost estimates.

The embedded table is the seed's, and it is ap-south-1's. A month is 730 hours, as Infracost
counts. Prices are set per region in `pipelines/devops.yaml` (`cost.prices.<region>`). For
another region, every price its own table does not give is ap-south-1's figure standing in,
and the report says so (`PriceTable.stand_in_warning`) instead of passing it off as that
region's price. Route53 hosted zones cost the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

HOURS_PER_MONTH = 730.0
# The region the embedded prices are for.
SEED_REGION = "ap-south-1"

# USD per hour. Instance prices for the sizes the platform uses; extend through config.
DEFAULT_INSTANCE_HOURLY: Mapping[str, float] = {
    "t3.small": 0.0208,
    "t3.medium": 0.0416,
    "t3.large": 0.0832,
    "t3.xlarge": 0.1664,
    "m5.large": 0.096,
    "m5.xlarge": 0.192,
}
EKS_CONTROL_PLANE_HOURLY = 0.10
NAT_GATEWAY_HOURLY = 0.045
ALB_HOURLY = 0.0225
ROUTE53_ZONE_MONTHLY = 0.50


@dataclass(frozen=True)
class PriceTable:
    region: str = "ap-south-1"
    instance_hourly: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_INSTANCE_HOURLY))
    eks_control_plane_hourly: float = EKS_CONTROL_PLANE_HOURLY
    nat_gateway_hourly: float = NAT_GATEWAY_HOURLY
    alb_hourly: float = ALB_HOURLY
    route53_zone_monthly: float = ROUTE53_ZONE_MONTHLY
    hours_per_month: float = HOURS_PER_MONTH
    # The prices this region's own table gives, named as under `cost.prices.<region>`
    # ("nat_gateway", "instances.t3.medium", ...); in another region than SEED_REGION every
    # other price is ap-south-1's standing in.
    own: frozenset[str] = frozenset()

    def is_stand_in(self, name: str) -> bool:
        """True when the price `name` is ap-south-1's figure used for another region."""
        return self.region != SEED_REGION and name not in self.own

    def stand_in_warning(self, names: Iterable[str]) -> str | None:
        """One line naming the prices among `names` that stand in for this region's; None when none do."""
        assumed = sorted({name for name in names if self.is_stand_in(name)})
        if not assumed:
            return None
        which = "has no price table" if not self.own else "has only part of a price table"
        return (f"region {self.region} {which}: {', '.join(assumed)} priced at {SEED_REGION}'s rates, not "
                f"{self.region}'s; add them under cost.prices.{self.region} in pipelines/devops.yaml")

    def instance(self, instance_type: str) -> float:
        """Hourly price of one instance; KeyError names the type so config can add it."""
        try:
            return self.instance_hourly[instance_type]
        except KeyError:
            raise KeyError(
                f"no price for instance type {instance_type!r} in region {self.region}; "
                "add it under cost.prices in pipelines/devops.yaml"
            ) from None

    def monthly(self, hourly: float) -> float:
        return round(hourly * self.hours_per_month, 2)


def price_table(region: str, overrides: Mapping[str, object] | None = None) -> PriceTable:
    """The seed's prices with `cost.prices.<region>` from pipelines/devops.yaml applied.

    `overrides` is `CostConfig.prices` (region -> RegionPrices); unset values keep the seed's
    (ap-south-1's), which `PriceTable.own` records so the report can say so."""
    override = (overrides or {}).get(region)
    if override is None:
        return PriceTable(region=region)
    given = dict(getattr(override, "instances", {}) or {})
    instances = dict(DEFAULT_INSTANCE_HOURLY)
    instances.update(given)
    own = {f"instances.{name}" for name in given}
    own |= {name for name in ("eks_control_plane", "nat_gateway", "alb") if getattr(override, name, None) is not None}

    def pick(name: str, default: float) -> float:
        value = getattr(override, name, None)
        return default if value is None else float(value)

    return PriceTable(
        region=region,
        instance_hourly=instances,
        eks_control_plane_hourly=pick("eks_control_plane", EKS_CONTROL_PLANE_HOURLY),
        nat_gateway_hourly=pick("nat_gateway", NAT_GATEWAY_HOURLY),
        alb_hourly=pick("alb", ALB_HOURLY),
        own=frozenset(own),
    )
