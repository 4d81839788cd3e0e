"""What `devops cluster values|bootstrap|status` show: tables, the dry run's objects, the job
summary. The `--json` models are devops/report/cluster_models.py."""

from __future__ import annotations

from ruamel.yaml import YAML

from devops.domain.cluster.results import BootstrapResult, StatusResult, ValuesResult
from devops.report.console import Reporter
from devops.report.github import markdown_table
from devops.report.gitops import render_publish


def render_values(reporter: Reporter, result: ValuesResult) -> None:
    reporter.info(f"{result.environment} ({result.cluster}, autoscaler {result.autoscaler}): "
                  f"{len(result.edits)} value(s) from terraform output")
    render_publish(reporter, result.publish)
    from devops.report.cluster_models import ClusterValuesResult

    reporter.result(ClusterValuesResult.of(result))


def _yaml(manifest: object) -> str:
    import io

    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(manifest, out)
    return out.getvalue()


def render_bootstrap(reporter: Reporter, result: BootstrapResult) -> None:
    chart = result.chart
    rows = [(o.action, o.ref, o.source) for o in result.objects]
    mode = " (dry run: nothing applied)" if result.dry_run else ""
    reporter.table(f"bootstrap of {result.environment} ({result.cluster}){mode}", ["action", "object", "from"], rows)
    reporter.info(f"Argo CD: chart {chart.chart} {chart.version} from {chart.repo} ({chart.origin}), release "
                  f"{chart.release} in {chart.namespace}, values {', '.join(chart.value_files)}")
    verb = "would apply" if result.dry_run else "applied"
    reporter.info(f"{verb} {len(result.applied)} object(s); {len(result.objects) - len(result.applied)} unchanged")
    if result.dry_run and not reporter.json_mode:
        for item in result.applied:
            reporter.info(f"--- # {item.action}: {item.ref} ({item.source})\n{_yaml(item.manifest).rstrip()}")
    reporter.github.summary(f"### devops cluster bootstrap {result.environment}{mode}\n\n"
                            + markdown_table(["action", "object", "from"], rows))
    reporter.github.output("applied", str(len(result.applied)))
    from devops.report.cluster_models import ClusterBootstrapResult

    reporter.result(ClusterBootstrapResult.of(result))


def render_status(reporter: Reporter, result: StatusResult) -> None:
    apps = [(a.wave, a.name, a.project, a.sync, a.health, a.revision) for a in result.applications]
    reporter.table(f"Argo CD Applications of {result.environment} ({result.cluster})",
                   ["wave", "application", "project", "sync", "health", "revision"], apps)
    groups = [(g.name, f"{g.min}/{g.desired}/{g.max}", g.nodes, "yes" if g.protected else "",
               ",".join(g.instance_types), g.status, g.saved) for g in result.nodegroups]
    reporter.table(f"node groups (autoscaler: {result.autoscaler}; sizes min/desired/max)",
                   ["node group", "size", "nodes", "protected", "instances", "status", "saved by devops cost"], groups)
    if result.nodepools:
        pools = [(p.name, ", ".join(f"{k}={v}" for k, v in sorted(p.limits.items())), p.nodes,
                  ", ".join(f"{k}={v}" for k, v in sorted((p.saved or {}).items()))) for p in result.nodepools]
        reporter.table("Karpenter NodePools", ["nodepool", "limits", "nodes", "saved by devops cost"], pools)
    for window in result.cost_windows:
        reporter.info(f"devops cost holds a deny sync window: {window}")
    waiting = [a.name for a in result.applications if not a.ready]
    reporter.info("every Application Synced and Healthy" if result.ready else
                  f"not Synced/Healthy yet: {', '.join(waiting) or 'no Applications'}")
    reporter.github.summary(f"### devops cluster status {result.environment}\n\n"
                            + markdown_table(["wave", "application", "project", "sync", "health", "revision"], apps))
    from devops.report.cluster_models import ClusterStatusResult

    reporter.result(ClusterStatusResult.of(result))
