"""`devops cluster values|bootstrap|status`: the cluster platform from git (docs/platform.md).

Options here; the use cases are devops/app/cluster_values.py, cluster_bootstrap.py and
cluster_status.py, the adapters devops/wiring/cluster.py, the output devops/report/cluster.py.
"""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.cli.results import json_result

ENV_OPTION = click.option("--env", "environment", required=True, type=params.NAME, metavar="ENV",
                          help="Environment (pipelines/devops.yaml).")


@click.group("cluster")
def cli() -> None:
    """The cluster platform from git: Terraform values into the GitOps values, Argo CD bootstrap, status."""


@json_result("devops.report.cluster_models:ClusterValuesResult")
@cli.command("values")
@ENV_OPTION
@click.option("--mode", type=click.Choice(["commit", "pull-request"]), default=None,
              help="Commit to the branch or open a pull request [default: the environment's gitops.mode].")
@dry_run_option
@json_option
@pass_app
def values(app: AppContext, environment: str, mode: str | None, dry_run: bool) -> None:
    """Write the values that come from `terraform output` (role ARNs, cluster name, VPC, zone,
    certificate) into ENV's GitOps values, by gitops/platform/terraform-outputs.yaml.

    Only the mapped scalars change, every other byte is kept; one commit (or pull request),
    compare-and-swap, none when nothing changed. A missing or null output is exit 2 naming it.
    """
    from devops.app.cluster_values import cluster_values
    from devops.report.cluster import render_values
    from devops.wiring.cluster import values_ports

    settings = app.config.environment(environment).gitops
    app.reporter.github.mask(app.settings.get(settings.pull_request.token_env))
    render_values(app.reporter, cluster_values(app.config, environment, values_ports(app.config, environment,
                                                                                     app.settings),
                                               dry_run=dry_run, mode=mode))


@json_result("devops.report.cluster_models:ClusterBootstrapResult")
@cli.command("bootstrap")
@ENV_OPTION
@dry_run_option
@json_option
@pass_app
def bootstrap(app: AppContext, environment: str, dry_run: bool) -> None:
    """Install the pinned Argo CD (the chart, version and values its self-managed Application
    uses) and apply ENV's bootstrap objects, server-side, with an EKS token (no kubeconfig).

    Refuses (exit 1) while a Terraform value in the GitOps repository is still empty. Objects
    already as wanted are not applied: a second run applies nothing. --dry-run prints them.
    """
    from devops.app.cluster_bootstrap import bootstrap as run
    from devops.report.cluster import render_bootstrap
    from devops.wiring.cluster import bootstrap_ports

    render_bootstrap(app.reporter, run(app.config, environment, bootstrap_ports(app.config, environment, app.settings),
                                       dry_run=dry_run))


@json_result("devops.report.cluster_models:ClusterStatusResult")
@cli.command("status")
@ENV_OPTION
@json_option
@pass_app
def status(app: AppContext, environment: str) -> None:
    """Every Argo CD Application's sync and health, the autoscaler, the node groups and their
    sizes (protected ones marked), Karpenter's NodePools and the cost schedule's sync windows."""
    from devops.app.cluster_status import status as run
    from devops.report.cluster import render_status
    from devops.wiring.cluster import status_ports

    render_status(app.reporter, run(app.config, environment, status_ports(app.config, environment)))
