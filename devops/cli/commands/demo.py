"""`devops demo`: the whole delivery on this machine with nothing configured (docs/demo.md).

Starts moto server (with a demo EKS cluster), a local bare GitOps remote, a stand-in Argo CD,
the shop's containers, a real Prometheus and some traffic, then runs the real commands:
config validate, plan, build --push, scan, release dev (verified), release prod, status,
cost schedule --dry-run and cost report. Exit 0 when every step passed, else the failing
step's exit code; 3 when Docker or the local registry is not running.
"""

from __future__ import annotations

from pathlib import Path

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app
from devops.cli.results import json_result


@json_result("devops.report.demo:DemoJson")
@click.command("demo")
@click.option("--keep", is_flag=True, help="Leave the shop, Prometheus and moto running (stop: --stop).")
@click.option("--workdir", type=params.dir_path(path_type=Path), default=Path(".devops/demo"),
              show_default=True, help="Where the generated config, the GitOps remote and logs live.")
@click.option("--stop", "stop_only", is_flag=True, help="Stop what an earlier --keep run left running, then exit.")
@click.option("--registry", default="127.0.0.1:5000", show_default=True, type=params.HOST_PORT,
              help="The local registry to push to.")
@click.option("--settle-seconds", type=click.IntRange(5, 600), default=60, show_default=True,
              help="Wait after the dev release before verifying (the stand-in Argo CD rolls out).")
@json_option
@pass_app
def cli(app: AppContext, keep: bool, workdir: Path, stop_only: bool, registry: str, settle_seconds: int) -> int:
    """Run plan, build, scan, release, promotion, status and cost on the embedded defaults."""
    from devops.app import demo as flow
    from devops.report import demo as summary
    from devops.wiring import demo as wiring

    reporter = app.reporter

    def echo(line: str) -> None:
        reporter.errors.print(line, markup=False, highlight=False)

    ports = wiring.demo_ports(app.settings, echo)
    if stop_only:
        stopped = flow.stop(workdir, ports)
        reporter.info(f"demo: stopped {', '.join(stopped) if stopped else 'nothing (nothing was running)'}")
        reporter.result(summary.DemoStoppedJson(stopped=stopped))
        return 0
    repo_root = Path(__file__).resolve().parents[3]
    options = wiring.demo_options(app.settings, repo_root=repo_root, workdir=workdir, keep=keep, registry=registry,
                                  settle_seconds=settle_seconds)
    result = flow.Demo(options, ports, echo).run()
    reporter.table("Demo steps", ["step", "result", "exit", "time", "detail"], summary.step_rows(result))
    reporter.table("Digests (from the release records in the GitOps remote)",
                   ["service", "dev digest", "prod", "dev verification"], summary.digest_rows(result))
    for line in summary.where_to_look(result):
        reporter.info(line)
    for note in result.notes:
        reporter.warn(note)
    reporter.info(summary.verdict_line(result))
    reporter.result(summary.as_json(result))
    return result.exit_code
