"""The demo's closing summary: what ran, each step's result and time, the digests, where to look;
and its `--json` (docs/demo.md, docs/schemas/demo.json)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, RootModel

from devops.domain.demo import DOCS, DemoResult, Step

_FROZEN = ConfigDict(frozen=True, extra="forbid")


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


def where_to_look(result: DemoResult) -> list[str]:
    remote, run_id = result.gitops_remote, result.run_id
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


def verdict_line(result: DemoResult) -> str:
    verdict = "every step passed" if result.exit_code == 0 else f"failed (exit {result.exit_code})"
    return f"demo: {verdict} in {result.seconds:.0f} s"


# -- --json ------------------------------------------------------------------------------------
class StepJson(BaseModel):
    model_config = _FROZEN
    name: str = Field(description='The step, e.g. "release dev".')
    command: str = Field(description="The command as a user types it.")
    exit_code: int | None = Field(description="Its exit code; null when it did not run.")
    seconds: float
    verdict: str = Field(description="PASSED, FAILED, SKIPPED or NOT RUN.")
    detail: str

    @classmethod
    def of(cls, step: Step) -> StepJson:
        return cls(name=step.name, command=" ".join(step.command), exit_code=step.code,
                   seconds=round(step.seconds, 1), verdict=step.verdict, detail=step.detail)


class GitOpsJson(BaseModel):
    model_config = _FROZEN
    remote: str = Field(description="The bare GitOps remote in the work folder.")
    commits_before: int
    commits_after: int
    new_commits: int = Field(description="Commits this run made (0 on a second run).")


class DemoRunJson(BaseModel):
    """`devops demo --json`: the run's steps and what they left in the GitOps remote."""

    model_config = _FROZEN
    exit_code: int = Field(description="0 when every step passed, else the failing step's exit code.")
    seconds: float
    workdir: str
    steps: list[StepJson]
    built: list[str] = Field(description="Services `build --push` built (empty when the registry had them).")
    scanners: list[str] = Field(description="Trivy scanners: secret, and vuln when a DB was in the cache.")
    digests: dict[str, dict[str, str]] = Field(description="service -> environment -> recorded digest.")
    verification: dict[str, str] = Field(description="service -> dev's recorded verification verdict.")
    gitops: GitOpsJson
    registry: str
    prometheus: str | None = Field(description="Prometheus's URL when kept running (--keep), else null.")
    frontend: str | None = Field(description="The shop's URL when kept running (--keep), else null.")
    pids: dict[str, int] = Field(description="Servers kept running (--keep): name -> PID.")
    mongo: str = Field(description="Which MongoDB ran (the stand-in or $DEVOPS_DEMO_MONGO_IMAGE).")
    kept: bool
    traffic: dict[str, int] = Field(description='Requests sent, by "service status-class".')
    notes: list[str]
    docs: list[str]


class DemoStoppedJson(BaseModel):
    """`devops demo --stop --json`: what was stopped."""

    model_config = _FROZEN
    stopped: list[str] = Field(description="Servers and containers stopped (empty when nothing ran).")


class DemoJson(RootModel[DemoRunJson | DemoStoppedJson]):
    """`devops demo --json`: a run, or with --stop what was stopped."""

    model_config = ConfigDict(frozen=True)


def as_json(result: DemoResult) -> DemoRunJson:
    kept = result.kept
    return DemoRunJson(
        exit_code=result.exit_code, seconds=round(result.seconds, 1), workdir=str(result.workdir),
        steps=[StepJson.of(s) for s in result.steps], built=result.built, scanners=result.scanners,
        digests=result.digests, verification=result.verification,
        gitops=GitOpsJson(remote=str(result.gitops_remote), commits_before=result.commits_before,
                          commits_after=result.commits_after,
                          new_commits=result.commits_after - result.commits_before),
        registry=f"http://{result.registry}", prometheus=result.prometheus_url if kept else None,
        frontend=result.frontend_url if kept else None, pids=result.pids if kept else {}, mongo=result.mongo,
        kept=kept, traffic=result.traffic, notes=result.notes, docs=list(DOCS))
