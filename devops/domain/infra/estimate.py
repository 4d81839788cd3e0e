"""Monthly cost of what a plan creates or deletes, from the shared price table.

Priced: NAT gateways, EKS control planes, managed node groups (instance type x desired size),
EC2 instances, load balancers and Route53 zones. A month is the price table's 730 hours.
Creates add, deletes subtract, updates count the difference (a node group resized), and a
replacement nets to zero but is listed. Anything the table has no price for is listed as
unpriced rather than guessed; free resources (VPC, subnets, IAM, ...) are simply not listed.
Prices that are ap-south-1's standing in for the plan's region are named in `warnings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devops.domain.cost.pricing import PriceTable
from devops.domain.infra.plan_summary import PlanSummary, ResourceChange


@dataclass(frozen=True)
class CostLine:
    address: str
    type: str
    action: str
    what: str
    monthly: float | None  # change in USD/month; None = no price known

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "type": self.type,
            "action": self.action,
            "what": self.what,
            "monthly_usd": self.monthly,
        }


@dataclass(frozen=True)
class CostEstimate:
    lines: tuple[CostLine, ...]
    region: str
    hours_per_month: float
    warnings: tuple[str, ...] = ()

    @property
    def monthly_delta(self) -> float:
        return round(sum((line.monthly or 0.0 for line in self.lines), 0.0), 2)

    @property
    def unpriced(self) -> tuple[CostLine, ...]:
        return tuple(line for line in self.lines if line.monthly is None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "monthly_delta_usd": self.monthly_delta,
            "region": self.region,
            "hours_per_month": self.hours_per_month,
            "lines": [line.to_dict() for line in self.lines],
            "unpriced": [line.address for line in self.unpriced],
            "warnings": list(self.warnings),
        }


def _first(value: Any) -> Any:
    """Blocks are lists of one object in the plan JSON (`scaling_config`)."""
    if isinstance(value, list):
        return value[0] if value else {}
    return value if value is not None else {}


def _hourly(values: Mapping[str, Any], rtype: str, prices: PriceTable,
            used: set[str] | None = None) -> tuple[str, float | None]:
    """What one resource with `values` is, and its price per hour (None = unknown).

    The name of each price used (as under `cost.prices.<region>`) is added to `used`.
    """
    used = set() if used is None else used
    if rtype == "aws_nat_gateway":
        used.add("nat_gateway")
        return "NAT gateway", prices.nat_gateway_hourly
    if rtype == "aws_eks_cluster":
        used.add("eks_control_plane")
        return "EKS control plane", prices.eks_control_plane_hourly
    if rtype == "aws_eks_node_group":
        types = values.get("instance_types") or ["t3.medium"]  # EKS's own default
        instance = str(types[0]) if isinstance(types, list) and types else str(types)
        desired = _first(values.get("scaling_config")).get("desired_size")
        if not isinstance(desired, int):
            return f"node group of {instance} (desired size unknown)", None
        try:
            hourly = desired * prices.instance(instance)
            used.add(f"instances.{instance}")
            return f"{desired} x {instance}", hourly
        except KeyError:
            return f"{desired} x {instance} (no price)", None
    if rtype == "aws_instance":
        instance = str(values.get("instance_type") or "?")
        try:
            hourly = prices.instance(instance)
            used.add(f"instances.{instance}")
            return f"1 x {instance}", hourly
        except KeyError:
            return f"1 x {instance} (no price)", None
    if rtype in ("aws_lb", "aws_alb"):
        kind = values.get("load_balancer_type") or "application"
        # The table carries the ALB hourly rate; NLB and GWLB are priced at it as well.
        used.add("alb")
        return f"{kind} load balancer", prices.alb_hourly
    if rtype == "aws_route53_zone":
        return "Route53 hosted zone", prices.route53_zone_monthly / prices.hours_per_month
    raise LookupError(rtype)


PRICED_TYPES = frozenset(
    {
        "aws_nat_gateway",
        "aws_eks_cluster",
        "aws_eks_node_group",
        "aws_instance",
        "aws_lb",
        "aws_alb",
        "aws_route53_zone",
    }
)


def _monthly(hourly: float | None, prices: PriceTable) -> float | None:
    return None if hourly is None else round(hourly * prices.hours_per_month, 2)


def _line(change: ResourceChange, prices: PriceTable, used: set[str]) -> CostLine | None:
    if change.type not in PRICED_TYPES:
        return None
    if change.action == "create":
        what, hourly = _hourly(change.after, change.type, prices, used)
        return CostLine(change.address, change.type, "create", what, _monthly(hourly, prices))
    if change.action == "delete":
        what, hourly = _hourly(change.before, change.type, prices, used)
        monthly = _monthly(hourly, prices)
        return CostLine(change.address, change.type, "delete", what, None if monthly is None else -monthly)
    if change.action in ("update", "replace"):
        what_before, before = _hourly(change.before, change.type, prices, used)
        what_after, after = _hourly(change.after, change.type, prices, used)
        if before is None or after is None:
            return CostLine(change.address, change.type, change.action, f"{what_before} -> {what_after}", None)
        if change.action == "update" and before == after:
            return None  # a tag change costs nothing
        what = what_after if what_before == what_after else f"{what_before} -> {what_after}"
        return CostLine(
            change.address,
            change.type,
            change.action,
            what,
            round((after - before) * prices.hours_per_month, 2),
        )
    return None


def estimate(summary: PlanSummary, prices: PriceTable | None = None) -> CostEstimate:
    """The monthly cost change of a plan, one line per priced resource."""
    table = prices or PriceTable()
    used: set[str] = set()
    lines = tuple(line for change in summary.changes if (line := _line(change, table, used)) is not None)
    warning = table.stand_in_warning(used)
    return CostEstimate(lines, table.region, table.hours_per_month, (warning,) if warning else ())
