"""`devops observability rules`: generate the SLO alert rules from pipelines/devops.yaml."""

from __future__ import annotations

from pathlib import Path

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app
from devops.errors import BadInput, GateFailed


@click.group("observability")
def cli() -> None:
    """Observability as code: rule files generated from `observability` in pipelines/devops.yaml."""


@cli.command("rules")
@click.option("--output", "output", type=params.file_path(path_type=Path), default=None,
              help="Rule file to write or check (default: gitops/platform/observability/rules/slo.yaml).")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 when the file differs from what the configuration generates (CI).")
@json_option
@pass_app
def rules(app: AppContext, output: Path | None, check: bool) -> None:
    """Write the SLO recording rules and burn-rate alerts (docs/observability.md)."""
    from devops.domain.observability.rules import DEFAULT_PATH, compare, render_slo_rules
    from devops.domain.observability.slo import objectives

    config = app.config
    path = output if output is not None else config.root / DEFAULT_PATH
    generated = render_slo_rules(config)
    shown = _shown(path, config.root)
    if check:
        try:
            committed = path.read_text(encoding="utf-8") if path.exists() else None
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"{shown}: cannot read: {exc}") from None
        drift = compare(committed, generated, shown)
        app.reporter.result({"path": shown, "exists": drift.exists, "up_to_date": drift.matches})
        if not drift.exists:
            raise GateFailed(f"{shown}: missing; run `devops observability rules` and commit it")
        if not drift.matches:
            raise GateFailed(
                f"{shown}: differs from what {_shown(config.source, config.root)} (observability.slos) generates; "
                "run `devops observability rules` and commit it"
            )
        app.reporter.info(f"{shown}: up to date")
        return
    try:
        previous = path.read_text(encoding="utf-8") if path.exists() else None
        path.parent.mkdir(parents=True, exist_ok=True)
        if previous != generated:
            path.write_text(generated, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{shown}: cannot write: {exc}") from None
    count = len(objectives(config))
    state = "unchanged" if previous == generated else "wrote"
    app.reporter.info(f"{state} {shown} ({count} objectives, {len(config.observability.slos)} services)")
    app.reporter.result({"path": shown, "changed": previous != generated, "objectives": count})


def _shown(path: Path, root: Path) -> str:
    """The path as a reviewer reads it: relative to the project root when inside it."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
