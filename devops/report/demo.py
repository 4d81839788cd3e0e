"""The demo's closing summary: what ran, each step's result and time, the digests, where to look."""

from __future__ import annotations

from devops.app.demo import DOCS, DemoResult


def step_rows(result: DemoResult) -> list[tuple[str, str, str, str, str]]:
    return [(s.name, s.verdict, "-" if s.code is None else str(s.code), f"{s.seconds:.1f}s" if s.code is not None
             else "-", s.detail) for s in result.steps]


def digest_rows(result: DemoResult) -> list[tuple[str, str, str, str]]:
    rows = []
    for service, envs in sorted(result.digests.items()):
        dev, prod = envs.get("dev", ""), envs.get("prod", "")
        same = "same" if dev and dev == prod else ("-" if not prod else "differs")
        rows.append((service, dev or "-", same, result.verification.get(service, "none")))
    return rows


def where_to_look(result: DemoResult, run_id: str) -> list[str]:
    remote = result.gitops_remote
    lines = [
        f"GitOps remote: {remote}   (git -C {remote} log --oneline)",
        f"Registry:      http://{result.registry}/v2/_catalog",
        f"Config used:   {result.workdir / 'pipelines' / 'devops.yaml'}",
        f"Logs:          {result.workdir / 'logs'}, {result.workdir / 'prometheus' / 'prometheus.log'}",
        "Sonar:         SKIPPED (not configured: no $SONAR_TOKEN; SonarCloud cannot be reached from here)",
        f"Trivy:         scanners {', '.join(result.scanners) or '-'}"
        + ("" if "vuln" in result.scanners else " (no vulnerability DB in Trivy's cache: vuln not scanned)"),
        f"MongoDB:       {result.mongo or '-'}",
        f"Traffic:       {traffic(result)}",
        f"Docs:          {', '.join(DOCS)}",
    ]
    if result.kept:
        lines += [
            f"Kept running:  shop {result.frontend_url}, Prometheus {result.prometheus_url} "
            "(the stand-in Argo CD and the traffic stopped with this command)",
            f"Stop with:     devops demo --stop --workdir {result.workdir}",
            f"   or:         kill {' '.join(str(p) for p in result.pids.values())}",
            f"               docker rm -f $(docker ps -aq --filter label=devops-demo={run_id}); "
            f"docker network rm devops-demo-{run_id}",
        ]
    return lines


def traffic(result: DemoResult) -> str:
    """`412 requests (product 2xx 120, cart 4xx 3, ...)`."""
    total = sum(result.traffic.values())
    if not total:
        return "none (the shop was not up while the demo ran)"
    return f"{total} requests (" + ", ".join(f"{k} {v}" for k, v in result.traffic.items()) + ")"
