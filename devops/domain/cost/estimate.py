"""Monthly cost with and without the schedules, from the same decision function the scheduler uses.

A month is the real calendar month in the schedule's time zone (local midnight of the 1st to
local midnight of the next 1st, so DST months have 743 or 745 hours). The share of it a
node group is up is measured exactly (`Schedule.segments`) and applied to a normalised
730-hour month, as Infracost counts, so months compare. Node-hours are the real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from devops.domain.cost.pricing import PriceTable
from devops.domain.cost.target import Capacity, Target
from devops.domain.schedule import Decision, Schedule, uptime_fraction
from devops.domain.timespec import month_bounds
from devops.errors import ConfigError

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class NodegroupCost:
    target: str
    cluster: str
    nodegroup: str
    instance_type: str
    count: int
    hourly: float
    node_hours_always: float
    node_hours_scheduled: float
    monthly_always: float
    monthly_scheduled: float
    source: str

    @property
    def saving(self) -> float:
        return round(self.monthly_always - self.monthly_scheduled, 2)


@dataclass(frozen=True)
class FixedCost:
    target: str
    item: str
    count: int
    hourly: float
    monthly: float


@dataclass(frozen=True)
class ScheduleMonth:
    schedule: str
    timezone: str
    month_hours: float
    up_hours: float
    note: str = ""

    @property
    def fraction(self) -> float:
        return self.up_hours / self.month_hours if self.month_hours else 1.0


@dataclass(frozen=True)
class WeekDay:
    label: str
    runs: tuple[tuple[str, str, str], ...]  # (state, "HH:MM", "HH:MM") local
    up_hours: float


@dataclass(frozen=True)
class Week:
    schedule: str
    timezone: str
    start: date
    days: tuple[WeekDay, ...]

    @property
    def up_hours(self) -> float:
        return sum(day.up_hours for day in self.days)


@dataclass
class CostReport:
    month: str
    targets: dict[str, ScheduleMonth] = field(default_factory=dict)
    nodegroups: list[NodegroupCost] = field(default_factory=list)
    fixed: list[FixedCost] = field(default_factory=list)
    weeks: list[Week] = field(default_factory=list)
    # Regions priced (in part) at ap-south-1's rates because cost.prices has no table for them.
    warnings: list[str] = field(default_factory=list)

    @property
    def compute_always(self) -> float:
        return round(sum(n.monthly_always for n in self.nodegroups), 2)

    @property
    def compute_scheduled(self) -> float:
        return round(sum(n.monthly_scheduled for n in self.nodegroups), 2)

    @property
    def fixed_monthly(self) -> float:
        return round(sum(f.monthly for f in self.fixed), 2)

    @property
    def total_always(self) -> float:
        return round(self.compute_always + self.fixed_monthly, 2)

    @property
    def total_scheduled(self) -> float:
        return round(self.compute_scheduled + self.fixed_monthly, 2)

    @property
    def saving(self) -> float:
        return round(self.total_always - self.total_scheduled, 2)

    @property
    def saving_percent(self) -> float:
        return round(100 * self.saving / self.total_always, 1) if self.total_always else 0.0

    @property
    def compute_saving_percent(self) -> float:
        if not self.compute_always:
            return 0.0
        return round(100 * (self.compute_always - self.compute_scheduled) / self.compute_always, 1)


def target_runs(
    target: Target, start: datetime, end: datetime
) -> tuple[list[tuple[datetime, datetime, Decision]], str]:
    """Up/down runs of a target over [start, end), as the scheduler would decide them."""
    if target.held_back:
        return [(start, end, Decision("up", "production, not scheduled"))], "production: not scheduled"
    if target.force_up:
        return [(start, end, Decision("up", "force_up"))], "force_up: always up"
    runs: list[tuple[datetime, datetime, Decision]] = []
    note = ""
    until = target.excluded_until()
    if until is not None and until > start:
        # Not touched until then: counted as running.
        runs.append((start, min(until, end), Decision("up", "excluded")))
        note = f"excluded (counted up) until {target.exclude_until}"
        start = min(until, end)
    if start < end:
        runs += target.schedule.segments(start, end)
    return runs, note


def week_picture(schedule: Schedule, year: int, month: int) -> Week:
    """The first full Monday-to-Sunday week of the month, as local up/down runs per day."""
    first = date(year, month, 1)
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    zone = schedule.zone
    days: list[WeekDay] = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
        runs = schedule.segments(start, end)
        shown = []
        for left, right, decision in runs:
            a = left.astimezone(zone)
            b = right.astimezone(zone)
            end_text = "24:00" if b.date() > day else f"{b:%H:%M}"
            shown.append((decision.state, f"{a:%H:%M}", end_text))
        up, _total = uptime_fraction(runs)
        days.append(WeekDay(f"{WEEKDAYS[day.weekday()]} {day:%d}", tuple(shown), up))
    return Week(schedule.name, zone.key, monday, tuple(days))


def compute_report(
    targets: Iterable[Target],
    year: int,
    month: int,
    prices_for: Callable[[str], PriceTable],
    capacity_for: Callable[[Target], list[Capacity]],
) -> CostReport:
    """Cost of each target's node groups with and without its schedule, plus fixed costs."""
    report = CostReport(month=f"{year:04d}-{month:02d}")
    pictured: set[str] = set()
    used: dict[str, tuple[PriceTable, set[str]]] = {}  # region -> (its table, the prices used)
    for target in targets:
        prices = prices_for(target.region)
        names = used.setdefault(target.region, (prices, set()))[1]
        start, end = month_bounds(year, month, target.schedule.zone)
        runs, note = target_runs(target, start, end)
        up_hours, month_hours = uptime_fraction(runs)
        info = ScheduleMonth(
            target.schedule.name, target.schedule.zone.key, round(month_hours, 4), round(up_hours, 4), note
        )
        report.targets[target.name] = info
        for cap in capacity_for(target):
            try:
                unit = prices.instance(cap.instance_type)
            except KeyError as exc:
                raise ConfigError(f"cost.prices.{target.region}.instances: {exc.args[0]}") from None
            hourly = unit * cap.count
            names.add(f"instances.{cap.instance_type}")
            report.nodegroups.append(
                NodegroupCost(
                    target=target.name,
                    cluster=target.cluster,
                    nodegroup=cap.nodegroup,
                    instance_type=cap.instance_type,
                    count=cap.count,
                    hourly=round(hourly, 6),
                    node_hours_always=round(cap.count * month_hours, 2),
                    node_hours_scheduled=round(cap.count * up_hours, 2),
                    monthly_always=prices.monthly(hourly),
                    monthly_scheduled=prices.monthly(hourly * info.fraction),
                    source=cap.source,
                )
            )
        fixed = target.fixed
        for item, name, count, hourly in (
            ("EKS control plane", "eks_control_plane", fixed.eks_control_planes, prices.eks_control_plane_hourly),
            ("NAT gateway", "nat_gateway", fixed.nat_gateways, prices.nat_gateway_hourly),
            ("ALB", "alb", fixed.load_balancers, prices.alb_hourly),
        ):
            if count:
                names.add(name)
                report.fixed.append(FixedCost(target.name, item, count, hourly, prices.monthly(hourly * count)))
        if target.schedule.name not in pictured:
            pictured.add(target.schedule.name)
            report.weeks.append(week_picture(target.schedule, year, month))
    for table, names in used.values():
        warning = table.stand_in_warning(names)
        if warning:
            report.warnings.append(warning)
    return report
