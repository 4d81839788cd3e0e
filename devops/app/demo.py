"""The demo run: start the embedded defaults, run the real `devops` commands as a user would,
summarise, and stop everything it started (unless kept).

The outside world comes in through ports (`DemoPorts`, wired in devops/wiring/demo.py):
the registry check, the containers, the GitOps remote, the servers (moto, Prometheus), the
stand-in Argo CD, the traffic, the steps themselves and the SIGTERM guard. What runs in which
order and what each step sees is devops/domain/demo.py. The steps never see the user's tokens:
$SONAR_TOKEN, Docker Hub and GitHub variables and AWS settings are removed, and only the cost
steps get moto's endpoint with dummy credentials.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from pathlib import Path

from devops.app import demo_config as configgen
from devops.app.demo_ports import ArgoCD, DemoOptions, DemoPorts, Server, StepCall, StepOutcome, TrafficSource
from devops.domain import demo as rules
from devops.domain.demo import DemoResult, DemoState, Layout, Step
from devops.domain.retry import RetryPolicy, retrying
from devops.errors import BadInput

__all__ = ["Demo", "DemoOptions", "DemoPorts", "StepCall", "StepOutcome", "run_id", "stop"]


def run_id(workdir: Path) -> str:
    """Stable per working folder: a second run (and --stop) finds the same names."""
    return rules.run_id(str(workdir.resolve()))


class Demo:
    """One run. `run()` returns the result; everything started is stopped unless `keep`."""

    def __init__(self, options: DemoOptions, ports: DemoPorts, echo: Callable[[str], None]) -> None:
        self.options = options
        self.ports = ports
        self.echo = echo
        self.workdir = options.workdir.resolve()
        self.id = run_id(self.workdir)
        self.network = rules.network_name(self.id)
        self.remote = self.workdir / "gitops.git"
        self.result = DemoResult(self.workdir, self.remote, options.registry, run_id=self.id)
        self.servers: dict[str, Server] = {}
        self.argocd: ArgoCD | None = None
        self.traffic: TrafficSource | None = None
        self.config_path = self.workdir / "pipelines" / "devops.yaml"
        self.moto_url = ""

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> DemoResult:
        clock, root = self.ports.clock, self.options.repo_root
        started = clock.monotonic()
        if not (root / "gitops").is_dir() or not (root / "services").is_dir():
            raise BadInput(f"{root}: no gitops/ and services/ here; devops demo runs from a "
                           "checkout of the repository (pip install -e .)")
        self.ports.check_registry(self.options.registry)
        self.ports.containers.check_engine()
        self.workdir.mkdir(parents=True, exist_ok=True)
        stop(self.workdir, self.ports)   # what an earlier --keep run left running
        with self.ports.interrupts() as shield:
            try:
                self._prepare()
                self._steps()
            except KeyboardInterrupt:
                self.echo("demo: interrupted; stopping everything it started")
                raise
            finally:
                shield()   # a second SIGTERM must not cut the cleanup short
                self.result.seconds = clock.monotonic() - started
                self._collect()
                if self.options.keep:
                    # Containers, Prometheus and moto outlive the command (`devops demo --stop`);
                    # the stand-in Argo CD and the traffic are threads of this process and end here.
                    self.stop_threads()
                    self.result.kept = True
                else:
                    self.cleanup()
        return self.result

    def _prepare(self) -> None:
        opts, result, ports = self.options, self.result, self.ports
        if ports.gitops.ensure(self.remote, opts.repo_root / "gitops"):
            self.echo(f"demo: GitOps remote created at {self.remote} (seeded from gitops/)")
        result.commits_before = ports.gitops.commit_count(self.remote)
        if not opts.build_args:
            result.notes.append("no stand-in base images (.devops-standins.env): the Dockerfiles' official "
                                "bases are used, which needs Docker Hub")
        layout = Layout(self.id, self.network, {service: ports.servers.free_port() for service in rules.ORDER})
        result.frontend_url = layout.url("frontend")

        self.echo("demo: starting moto server with the demo EKS cluster "
                  f"{configgen.DEMO_CLUSTER} ({configgen.DEMO_REGION})")
        moto, self.moto_url = ports.servers.start_moto(self.workdir / "logs", configgen.DEMO_CLUSTER,
                                                       configgen.DEMO_REGION)
        self.servers["moto"] = moto
        ports.containers.ensure_network(self.network, self.id)
        result.mongo = ports.containers.start_mongo(self.id, self.network, opts.repo_root, opts.build_args)
        rule_files = sorted((opts.repo_root / "gitops" / "platform" / "observability" / "rules").glob("*.yaml"))
        prometheus, result.prometheus_url = ports.servers.start_prometheus(self.workdir / "prometheus",
                                                                           layout.ports, rule_files)
        self.servers["prometheus"] = prometheus
        self.echo(f"demo: prometheus on {result.prometheus_url} scraping product, cart, order"
                  f" ({len(rule_files)} rule file(s) loaded)")

        cache = opts.trivy_cache
        # A key pair of its own signs dev's evidence and prod's policy names its public half
        # (docs/supply-chain.md): the demo promotes only what it signed.
        signing_key, signing_public = ports.signing_key(self.workdir / configgen.SIGNING_FOLDER)
        inputs = configgen.DemoConfigInputs(
            repo_root=opts.repo_root, workdir=self.workdir, registry=opts.registry, gitops_remote=self.remote,
            frontend_url=result.frontend_url, prometheus_url=result.prometheus_url, trivy_cache_dir=cache,
            settle_seconds=opts.settle_seconds, signing_key=signing_key, signing_public=signing_public)
        result.scanners = configgen.scanners(inputs)
        configgen.write(inputs)
        self.echo(f"demo: config {self.config_path} (Trivy scanners: {', '.join(result.scanners)}"
                  f"{'' if cache else '; no vulnerability DB in the Trivy cache, so no vuln scanning'})")

        argocd = self.argocd = ports.start_argocd(self.remote, rules.DEV_PATH, layout)
        self.traffic = ports.start_traffic(layout.url, argocd.all_healthy)
        result.pids = {name: server.pid for name, server in self.servers.items()}
        (self.workdir / rules.STATE_FILE).write_text(DemoState(self.id, self.network, result.pids).dumps())

    def _steps(self) -> None:
        opts = self.options
        env = rules.step_environment(opts.environ, opts.build_args)
        aws = rules.step_environment(opts.environ, opts.build_args, rules.aws_env(self.moto_url))
        self.result.steps = [Step(spec.name, ["devops", *spec.args]) for spec in rules.STEPS]
        for step, spec in zip(self.result.steps, rules.STEPS, strict=True):
            if step.name == rules.VERIFY_STEP:
                missing = rules.unverified(self.ports.gitops.record(self.remote, rules.DEV_PATH))
                if not missing:
                    step.verdict, step.detail = "SKIPPED", "dev's digests are already verified (release recorded it)"
                    self.echo(f"\n== {step.name}: SKIPPED ({step.detail})")
                    continue
                step.detail = f"not verified yet: {', '.join(missing)}"
                self._wait_for_traffic()
            self._run_step(step, spec, aws if spec.aws else env)
            if step.verdict == "FAILED":
                break

    def _wait_for_traffic(self, requests: int = 60, seconds: float = 25) -> None:
        """Before a verify of its own: the shop is up and has served traffic long enough for
        Prometheus to see it (a counter needs several scrapes, 5 s apart, to show an increase).
        Bounded by settle_seconds plus that time; then the verification judges what there is."""
        self.echo(f"demo: waiting for the shop to serve {requests} requests over {seconds:g} s before verifying")
        clock = self.ports.clock
        policy = RetryPolicy(attempts=10_000, base_seconds=0.5, max_seconds=1.0,
                             deadline_seconds=self.options.settle_seconds + seconds)

        class NotYet(Exception):
            pass

        try:
            for attempt in retrying(policy, retry_on=lambda error: isinstance(error, NotYet), sleep=clock.sleep,
                                    clock=clock.monotonic):
                with attempt:
                    traffic = self.traffic
                    if not (traffic and traffic.total >= requests and traffic.flowing_for() >= seconds):
                        raise NotYet
        except NotYet:
            pass

    def _run_step(self, step: Step, spec: rules.StepSpec, env: Mapping[str, str]) -> None:
        self.echo(f"\n== {step.name}: {shlex.join(step.command)}")

        def show(name: str, line: str) -> None:
            if not (spec.json_mode and name == "stdout"):
                self.echo(f"   {line}")

        gitops = self.ports.gitops
        before = gitops.commit_count(self.remote)
        call = StepCall(spec.args, self.config_path, self.options.repo_root.resolve(), self.workdir, env)
        done = self.ports.run_step(call, show)
        step.code, step.seconds = done.code, done.seconds
        step.verdict = "PASSED" if done.code == 0 else "FAILED"
        if spec.json_mode and done.stdout.strip():
            built = rules.built_services(done.stdout)
            if built is not None:
                self.result.built = built
                step.detail = rules.build_detail(built)
        if step.name.startswith(("release", "verify")):
            written = rules.commits_detail(gitops.commit_count(self.remote) - before)
            step.detail = f"{step.detail}; {written}" if step.detail else written
        elif step.name == "scan":
            step.detail = f"Trivy scanners: {', '.join(self.result.scanners)}"
        if done.code != 0:
            step.detail = rules.failure_detail(done.code, done.stdout, done.stderr)
        self.echo(f"== {step.name}: {step.verdict} (exit {step.code}, {step.seconds:.1f} s)")

    def _collect(self) -> None:
        result, gitops = self.result, self.ports.gitops
        try:
            result.commits_after = gitops.commit_count(self.remote)
            rules.summarize_records(result, {"dev": gitops.record(self.remote, rules.DEV_PATH),
                                             "prod": gitops.record(self.remote, rules.PROD_PATH)})
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
        self.ports.servers.forget_metrics(self.workdir / "prometheus")
        removed = self.ports.containers.remove_all(self.id, self.network)
        (self.workdir / rules.STATE_FILE).unlink(missing_ok=True)
        self.echo("demo: stopped moto, prometheus, the stand-in Argo CD and the traffic; "
                  f"removed {len(removed)} container(s)")


def stop(workdir: Path, ports: DemoPorts) -> list[str]:
    """End what a `--keep` run in `workdir` left running: servers, containers, network."""
    workdir = workdir.resolve()
    state_file = workdir / rules.STATE_FILE
    try:
        state = DemoState.loads(state_file.read_text())
    except OSError:
        state = None
    ident = state.run_id if state else run_id(workdir)
    stopped = []
    if state:
        for name, pid in state.pids.items():
            if ports.servers.stop_pid(pid, expect=rules.SERVER_COMMANDS.get(name, name)):
                stopped.append(name)
    network = state.network if state else rules.network_name(ident)
    stopped += ports.containers.remove_all(ident, network)
    state_file.unlink(missing_ok=True)
    return stopped
