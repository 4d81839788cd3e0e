"""`devops cost schedule|down|up|report`: scale EKS node groups off-hours, by hand, and report savings.

Options here; the runs are devops/app/cost_run.py and devops/app/cost_report.py, the output
devops/report/cost.py, the adapters devops/wiring/cost.py.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.cli.results import json_result

if TYPE_CHECKING:
    from devops.domain.cost.outcome import CostRun
    from devops.domain.schedule import State


@click.group("cost")
def cli() -> None:
    """Scale EKS node groups to zero off-hours and back (schedules in pipelines/devops.yaml)."""


def _show(app: AppContext, run: CostRun) -> None:
    from devops.report.cost import render_run

    render_run(app.reporter, run)
    from devops.report.cost_results import run_result

    app.reporter.result(run_result(run))
    if run.failure is not None:
        raise run.failure


@json_result("devops.report.cost_results:CostScheduleResult")
@cli.command("schedule")
@click.option("--at", type=params.INSTANT, help="Decide as if it were this instant [default: now].")
@click.option("--target", "names", multiple=True, type=params.NAME,
              help="Only this target of cost.targets (repeatable).")
@dry_run_option
@json_option
@pass_app
def schedule(app: AppContext, at: datetime | None, names: tuple[str, ...], dry_run: bool) -> None:
    """Scale every target node group up or down as its schedule says now (run it from cron)."""
    from devops.app import cost_run
    from devops.wiring.cost import run_ports

    ports = run_ports(app.config, app.settings, app.reporter)
    _show(app, cost_run.schedule(app.config, ports, at=at, names=names, dry_run=dry_run))


def _by_hand(app: AppContext, state: State, cluster: str, nodegroup: str | None, until: time | datetime | None,
             at: datetime | None, dry_run: bool) -> None:
    from devops.app import cost_run
    from devops.wiring.cost import run_ports

    ports = run_ports(app.config, app.settings, app.reporter)
    _show(app, cost_run.by_hand(app.config, ports, state, cluster, nodegroup=nodegroup, until=until,
                                at=at, dry_run=dry_run))


@json_result("devops.report.cost_results:CostRunResult")
@cli.command("down")
@click.option("--cluster", required=True, type=params.NAME, help="Cluster (or target name) from cost.targets.")
@click.option("--nodegroup", type=params.NAME, help="Only this node group [default: every selected one].")
@click.option("--until", type=params.UNTIL, help="Keep it down until then (HH:MM or ISO-8601, schedule zone).")
@click.option("--at", type=params.INSTANT, hidden=True)
@dry_run_option
@json_option
@pass_app
def down(app: AppContext, cluster: str, nodegroup: str | None, until: time | datetime | None, at: datetime | None,
         dry_run: bool) -> None:
    """Scale node groups to zero now, saving their size (for incidents and demos)."""
    _by_hand(app, "down", cluster, nodegroup, until, at, dry_run)


@json_result("devops.report.cost_results:CostRunResult")
@cli.command("up")
@click.option("--cluster", required=True, type=params.NAME, help="Cluster (or target name) from cost.targets.")
@click.option("--nodegroup", type=params.NAME, help="Only this node group [default: every selected one].")
@click.option("--until", type=params.UNTIL, help="Keep it up until then (HH:MM or ISO-8601, schedule zone).")
@click.option("--at", type=params.INSTANT, hidden=True)
@dry_run_option
@json_option
@pass_app
def up(app: AppContext, cluster: str, nodegroup: str | None, until: time | datetime | None, at: datetime | None,
       dry_run: bool) -> None:
    """Restore saved sizes now (refuses node groups with no saved size)."""
    _by_hand(app, "up", cluster, nodegroup, until, at, dry_run)


@json_result("devops.report.cost_results:CostReportResult")
@cli.command("report")
@click.option("--schedule", "schedule_name", type=params.NAME, help="Only targets using this schedule.")
@click.option("--month", type=params.MONTH, help="Calendar month in the schedule's zone [default: this month].")
@click.option("--target", "names", multiple=True, type=params.NAME, help="Only this target (repeatable).")
@json_option
@pass_app
def report(app: AppContext, schedule_name: str | None, month: tuple[int, int] | None,
           names: tuple[str, ...]) -> None:
    """Monthly cost with and without the schedules (730 h/month), and the saving."""
    from devops.app.cost_report import report as cost_report
    from devops.report.cost import render_report
    from devops.wiring.cost import cost_ports

    result = cost_report(app.config, cost_ports(app.config), schedule=schedule_name, month=month, names=names)
    render_report(app.reporter, result)
    from devops.report.cost_results import report_result

    app.reporter.result(report_result(result))
