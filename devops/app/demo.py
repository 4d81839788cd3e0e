"""The demo run: start the embedded defaults, run the real `devops` commands as a user would,
summarise, and stop everything it started (unless kept).

Each step is the installed CLI run as a subprocess (`python -m devops --config <generated>`),
its output shown as it comes; a step's exit code is the demo's when it fails. The steps never
see the user's tokens: $SONAR_TOKEN, Docker Hub and GitHub variables and AWS settings are
removed, and only the cost steps get moto's endpoint with dummy credentials.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devops.adapters import daemon
from devops.adapters.demo import docker, gitops, local
from devops.adapters.demo.argocd import ORDER, Layout, StandInArgoCD
from devops.adapters.demo.traffic import Traffic
from devops.app import demo_config as configgen
from devops.config.paths import SOURCE_ROOT_ENV
from devops.errors import BadInput, ExternalError

DEFAULT_REGISTRY = "127.0.0.1:5000"
DEV_PATH, PROD_PATH = "gitops/environments/dev", "gitops/environments/prod"
STATE_FILE = "demo-state.json"
STACK_HINT = "run `bash scripts/local-stack.sh up` first (Docker engine and the local registry)"
# Variables a user may have set that would point the steps elsewhere or authenticate them.
_SCRUBBED_PREFIXES = ("AWS_", "DEVOPS_", "GITHUB_", "SONAR_", "DOCKERHUB_", "PROMETHEUS_TOKEN", "TRIVY_")
# What the command line of each recorded server contains (checked before `--stop` kills a PID).
SERVER_COMMANDS = {"moto": "moto.server", "prometheus": "prometheus"}
DOCS = ("docs/demo.md", "docs/release.md", "docs/observability.md", "docs/cost.md")


@dataclass(frozen=True)
class DemoOptions:
    repo_root: Path
    workdir: Path
    keep: bool = False
    registry: str = DEFAULT_REGISTRY
    settle_seconds: int = 60


@dataclass
class Step:
    name: str
    command: list[str]
    code: int | None = None
    seconds: float = 0.0
    verdict: str = "NOT RUN"     # PASSED | FAILED | SKIPPED | NOT RUN
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "command": " ".join(self.command), "exit_code": self.code,
                "seconds": round(self.seconds, 1), "verdict": self.verdict, "detail": self.detail}


@dataclass
class DemoResult:
    workdir: Path
    gitops_remote: Path
    registry: str
    steps: list[Step] = field(default_factory=list)
    scanners: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    digests: dict[str, dict[str, str]] = field(default_factory=dict)
    verification: dict[str, str] = field(default_factory=dict)
    commits_before: int = 0
    commits_after: int = 0
    prometheus_url: str = ""
    frontend_url: str = ""
    mongo: str = ""
    kept: bool = False
    traffic: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        failed = [s for s in self.steps if s.verdict == "FAILED"]
        return (failed[0].code or 1) if failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code, "seconds": round(self.seconds, 1), "workdir": str(self.workdir),
            "steps": [s.to_dict() for s in self.steps], "built": self.built, "scanners": self.scanners,
            "digests": self.digests, "verification": self.verification,
            "gitops": {"remote": str(self.gitops_remote), "commits_before": self.commits_before,
                       "commits_after": self.commits_after, "new_commits": self.commits_after - self.commits_before},
            "registry": f"http://{self.registry}", "prometheus": self.prometheus_url if self.kept else None,
            "frontend": self.frontend_url if self.kept else None,
            "pids": self.pids if self.kept else {}, "mongo": self.mongo, "kept": self.kept,
            "traffic": self.traffic, "notes": self.notes, "docs": list(DOCS),
        }


def run_id(workdir: Path) -> str:
    """Stable per working folder: a second run (and --stop) finds the same names."""
    return hashlib.sha1(str(workdir.resolve()).encode()).hexdigest()[:8]


def check_registry(registry: str) -> None:
    """The local registry answers /v2/, or exit 3 with one line saying what to run."""
    from devops.adapters.http import RetryPolicy, request, session
    from devops.errors import HttpError

    try:
        request(session(RetryPolicy(total=1, timeout=3, backoff_factor=0.2)), "GET", f"http://{registry}/v2/",
                what=f"the local registry at http://{registry}/v2/")
    except HttpError as exc:
        raise ExternalError(exc.message.splitlines()[0], hint=STACK_HINT) from None


def trivy_db_cache() -> Path | None:
    """Trivy's cache folder when it already holds a vulnerability DB (nothing is downloaded)."""
    cache = Path(os.environ.get("TRIVY_CACHE_DIR") or Path.home() / ".cache" / "trivy")
    return cache if (cache / "db" / "trivy.db").is_file() and (cache / "db" / "metadata.json").is_file() else None


def standin_build_args(repo_root: Path) -> dict[str, str]:
    """$DEVOPS_BUILD_ARGS, else the stand-in base images local-stack.sh wrote down."""
    text = os.environ.get("DEVOPS_BUILD_ARGS")
    if not text:
        env_file = repo_root / ".devops-standins.env"
        text = env_file.read_text() if env_file.is_file() else ""
    return dict(part.split("=", 1) for part in text.split() if "=" in part)


def step_env(build_args: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES) and k != "CI"}
    env.setdefault("GIT_AUTHOR_NAME", "devops demo")
    env.setdefault("GIT_AUTHOR_EMAIL", "demo@devops.local")
    env.setdefault("GIT_COMMITTER_NAME", env["GIT_AUTHOR_NAME"])
    env.setdefault("GIT_COMMITTER_EMAIL", env["GIT_AUTHOR_EMAIL"])
    env["PYTHONUNBUFFERED"] = "1"
    if build_args:
        env["DEVOPS_BUILD_ARGS"] = " ".join(f"{k}={v}" for k, v in build_args.items())
    return {**env, **(extra or {})}


class Demo:
    """One run. `run()` returns the result; everything started is stopped unless `keep`."""

    def __init__(self, options: DemoOptions, echo: Callable[[str], None]) -> None:
        self.options = options
        self.echo = echo
        workdir = options.workdir.resolve()
        self.workdir = workdir
        self.id = run_id(workdir)
        self.network = f"devops-demo-{self.id}"
        self.remote = workdir / "gitops.git"
        self.result = DemoResult(workdir, self.remote, options.registry)
        self.servers: dict[str, daemon.Background] = {}
        self.argocd: StandInArgoCD | None = None
        self.traffic: Traffic | None = None
        self.config_path = workdir / "pipelines" / "devops.yaml"
        self.moto_url = ""

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> DemoResult:
        started = time.monotonic()
        if not (self.options.repo_root / "gitops").is_dir() or not (self.options.repo_root / "services").is_dir():
            raise BadInput(f"{self.options.repo_root}: no gitops/ and services/ here; devops demo runs from a "
                           "checkout of the repository (pip install -e .)")
        check_registry(self.options.registry)
        docker.check_engine()
        self.workdir.mkdir(parents=True, exist_ok=True)
        stop(self.workdir, quiet=True)   # what an earlier --keep run left running
        previous = _terminate_as_interrupt()
        try:
            build_args = self._prepare()
            self._steps(build_args)
        except KeyboardInterrupt:
            self.echo("demo: interrupted; stopping everything it started")
            raise
        finally:
            if previous is not None:   # a second SIGTERM must not cut the cleanup short
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self.result.seconds = time.monotonic() - started
            self._collect()
            if self.options.keep:
                # Containers, Prometheus and moto outlive the command (`devops demo --stop`);
                # the stand-in Argo CD and the traffic are threads of this process and end here.
                self.stop_threads()
                self.result.kept = True
            else:
                self.cleanup()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        return self.result

    def _prepare(self) -> dict[str, str]:
        opts, result = self.options, self.result
        if gitops.ensure_remote(self.remote, opts.repo_root / "gitops"):
            self.echo(f"demo: GitOps remote created at {self.remote} (seeded from gitops/)")
        result.commits_before = gitops.commit_count(self.remote)
        build_args = standin_build_args(opts.repo_root)
        if not build_args:
            result.notes.append("no stand-in base images (.devops-standins.env): the Dockerfiles' official "
                                "bases are used, which needs Docker Hub")
        cache = trivy_db_cache()
        ports = {service: local.free_port() for service in ORDER}
        layout = Layout(self.id, self.network, ports)
        result.frontend_url = layout.url("frontend")

        self.echo("demo: starting moto server with the demo EKS cluster "
                  f"{configgen.DEMO_CLUSTER} ({configgen.DEMO_REGION})")
        moto, moto_url = local.start_moto(self.workdir / "logs", configgen.DEMO_CLUSTER, configgen.DEMO_REGION)
        self.servers["moto"] = moto
        self.moto_url = moto_url
        docker.ensure_network(self.network, self.id)
        image, result.mongo = local.mongo_image(opts.repo_root, build_args)
        docker.run_container(f"devops-demo-{self.id}-mongo", image, network=self.network, alias="mongo",
                             run_id=self.id, env={"HOST": "0.0.0.0", "PORT": "27017"})
        rules = sorted((opts.repo_root / "gitops" / "platform" / "observability" / "rules").glob("*.yaml"))
        prometheus, result.prometheus_url = local.start_prometheus(self.workdir / "prometheus", ports, rules)
        self.servers["prometheus"] = prometheus
        self.echo(f"demo: prometheus on {result.prometheus_url} scraping product, cart, order"
                  f" ({len(rules)} rule file(s) loaded)")

        inputs = configgen.DemoConfigInputs(
            repo_root=opts.repo_root, workdir=self.workdir, registry=opts.registry, gitops_remote=self.remote,
            frontend_url=result.frontend_url, prometheus_url=result.prometheus_url, trivy_cache_dir=cache,
            settle_seconds=opts.settle_seconds)
        result.scanners = configgen.scanners(inputs)
        configgen.write(inputs)
        self.echo(f"demo: config {self.config_path} (Trivy scanners: {', '.join(result.scanners)}"
                  f"{'' if cache else '; no vulnerability DB in the Trivy cache, so no vuln scanning'})")

        from devops.adapters.http import RetryPolicy, session

        probe_http = session(RetryPolicy(total=0, timeout=2))

        def probe(url: str) -> bool:
            from devops.adapters.http import request
            from devops.errors import HttpError

            try:
                request(probe_http, "GET", url)
            except HttpError:
                return False
            return True

        self.argocd = StandInArgoCD(self.remote, DEV_PATH, layout, probe, log=self.echo)
        self.argocd.start()
        self.traffic = Traffic(layout.url, self.argocd.all_healthy)
        self.traffic.start()
        self.result.pids = {name: server.pid for name, server in self.servers.items()}
        local.State(self.id, self.network, self.result.pids).save(self.workdir / STATE_FILE)
        return build_args

    def _steps(self, build_args: dict[str, str]) -> None:
        # The generated config lives in the work folder and names this repository's services:
        # paths may resolve inside the repository (devops/config/paths.py).
        source = {SOURCE_ROOT_ENV: str(self.options.repo_root.resolve())}
        env = step_env(build_args, source)
        aws = step_env(build_args, {**local.aws_env(self.moto_url), **source})
        plan: list[tuple[str, list[str], dict[str, str]]] = [
            ("config validate", ["config", "validate"], env),
            ("plan", ["plan"], env),
            ("build --push", ["--json", "build", "--push"], env),
            ("scan", ["scan"], env),
            ("release dev", ["release", "--env", "dev"], env),
            ("verify dev", ["verify", "--env", "dev"], env),
            ("release prod", ["release", "--env", "prod"], env),
            ("status", ["status"], env),
            ("cost schedule", ["cost", "schedule", "--dry-run"], aws),
            ("cost report", ["cost", "report"], aws),
        ]
        self.result.steps = [Step(name, ["devops", *args]) for name, args, _ in plan]
        for step, (_, args, step_environment) in zip(self.result.steps, plan, strict=True):
            if step.name == "verify dev":
                missing = self._unverified()
                if not missing:
                    step.verdict, step.detail = "SKIPPED", "dev's digests are already verified (release recorded it)"
                    self.echo(f"\n== {step.name}: SKIPPED ({step.detail})")
                    continue
                step.detail = f"not verified yet: {', '.join(missing)}"
                self._wait_for_traffic()
            self._run_step(step, args, step_environment)
            if step.verdict == "FAILED":
                break

    def _wait_for_traffic(self, requests: int = 60, seconds: float = 25) -> None:
        """Before a verify of its own: the shop is up and has served traffic long enough for
        Prometheus to see it (a counter needs several scrapes, 5 s apart, to show an increase).
        Bounded by settle_seconds plus that time."""
        deadline = time.monotonic() + self.options.settle_seconds + seconds
        self.echo(f"demo: waiting for the shop to serve {requests} requests over {seconds:g} s before verifying")
        while time.monotonic() < deadline:
            traffic = self.traffic
            if traffic and traffic.total >= requests and traffic.flowing_for() >= seconds:
                return
            time.sleep(1)

    def _run_step(self, step: Step, args: list[str], env: dict[str, str]) -> None:
        self.echo(f"\n== {step.name}: {shlex.join(step.command)}")
        command = [sys.executable, "-m", "devops", "--config", str(self.config_path), *args]
        json_mode = "--json" in args

        def show(name: str, line: str) -> None:
            if not (json_mode and name == "stdout"):
                self.echo(f"   {line}")

        before = gitops.commit_count(self.remote)
        done = daemon.stream(command, on_line=show, cwd=self.workdir, env=env, replace_env=True, timeout=1800)
        step.code, step.seconds = done.returncode, done.seconds
        step.verdict = "PASSED" if done.returncode == 0 else "FAILED"
        if json_mode and done.stdout.strip():
            self._read_build(step, done.stdout)
        if step.name.startswith(("release", "verify")):
            new = gitops.commit_count(self.remote) - before
            written = f"{new} new GitOps commit(s)" if new else "nothing to change (no GitOps commit)"
            step.detail = f"{step.detail}; {written}" if step.detail else written
        elif step.name == "scan":
            step.detail = f"Trivy scanners: {', '.join(self.result.scanners)}"
        if done.returncode != 0:
            last = (done.stderr.strip() or done.stdout.strip()).splitlines()
            step.detail = (last[-1] if last else f"exited {done.returncode}")[:300]
        self.echo(f"== {step.name}: {step.verdict} (exit {step.code}, {step.seconds:.1f} s)")

    def _read_build(self, step: Step, stdout: str) -> None:
        try:
            data = json.loads(stdout)
        except json.JSONDecodeError:
            return
        built: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("status") == "built" and isinstance(node.get("service"), str):
                    built.append(node["service"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(data)
        self.result.built = sorted(set(built))
        step.detail = (f"built: {', '.join(self.result.built)}" if built
                       else "nothing rebuilt (registry has every digest)")

    def _unverified(self) -> list[str]:
        """dev services whose recorded digest has no PASSED verification of that digest."""
        services = gitops.record(self.remote, DEV_PATH).get("services") or {}
        missing = []
        for name, entry in services.items():
            check = entry.get("verification") or {}
            if check.get("verdict") != "PASSED" or check.get("digest", entry.get("digest")) != entry.get("digest"):
                missing.append(name)
        return sorted(missing)

    def _collect(self) -> None:
        result = self.result
        try:
            result.commits_after = gitops.commit_count(self.remote)
            for env, path in (("dev", DEV_PATH), ("prod", PROD_PATH)):
                for name, entry in (gitops.record(self.remote, path).get("services") or {}).items():
                    result.digests.setdefault(name, {})[env] = str(entry.get("digest") or "")
                    if env == "dev":
                        result.verification[name] = str((entry.get("verification") or {}).get("verdict") or "none")
        except Exception as exc:  # the summary must still print
            result.notes.append(f"could not read the GitOps remote: {exc}")
        if self.traffic:
            result.traffic = dict(sorted(self.traffic.counts.items()))
        if self.argocd:
            result.notes.extend(self.argocd.errors[-3:])

    def stop_threads(self) -> None:
        for worker in (self.traffic, self.argocd):
            if worker is not None:
                worker.stop()

    def cleanup(self) -> None:
        """Stop the threads, the servers and the containers (each step tolerates the others failing)."""
        self.stop_threads()
        for server in self.servers.values():
            server.stop()
        local.forget_metrics(self.workdir / "prometheus")
        removed = docker.remove_all(self.id, self.network)
        (self.workdir / STATE_FILE).unlink(missing_ok=True)
        self.echo("demo: stopped moto, prometheus, the stand-in Argo CD and the traffic; "
                  f"removed {len(removed)} container(s)")


def _terminate_as_interrupt() -> Any:
    """SIGTERM (a cancelled CI job, `kill`) cleans up like Ctrl-C; returns the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def stop(workdir: Path, *, quiet: bool = False) -> list[str]:
    """End what a `--keep` run in `workdir` left running: servers, containers, network."""
    workdir = workdir.resolve()
    state = local.State.load(workdir / STATE_FILE)
    ident = state.run_id if state else run_id(workdir)
    stopped = []
    if state:
        for name, pid in state.pids.items():
            if daemon.stop_pid(pid, expect=SERVER_COMMANDS.get(name, name)):
                stopped.append(name)
    network = state.network if state else f"devops-demo-{ident}"
    stopped += docker.remove_all(ident, network)
    (workdir / STATE_FILE).unlink(missing_ok=True)
    return stopped
