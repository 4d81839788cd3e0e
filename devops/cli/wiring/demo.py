"""Builds what `devops demo` needs: its options from the settings (stand-in base images, Trivy's
cache) and its ports from the demo's adapters (devops/adapters/demo/).

The steps are the installed CLI run as subprocesses (`python -m devops --config <generated>
--source-root <repository> ...`), their output shown as it comes, each with its own scrubbed
environment: the cost steps need moto's endpoint in theirs, which only a process of its own
can have. `config validate` runs in this process (the use case of devops/app/config_check.py);
the others follow as their areas expose use cases that take their settings as values.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devops.app.demo_ports import ArgoCD, DemoOptions, DemoPorts, Server, StepCall, StepOutcome, TrafficSource
from devops.cli.wiring.settings import RuntimeSettings
from devops.domain.demo import Layout, parse_build_args
from devops.errors import DevopsError

STANDINS_FILE = ".devops-standins.env"
STEP_TIMEOUT = 1800


def standin_build_args(settings: RuntimeSettings, repo_root: Path) -> dict[str, str]:
    """$DEVOPS_BUILD_ARGS, else the stand-in base images local-stack.sh wrote down."""
    text = settings.get("DEVOPS_BUILD_ARGS")
    if not text:
        env_file = repo_root / STANDINS_FILE
        text = env_file.read_text() if env_file.is_file() else ""
    return parse_build_args(text)


def trivy_db_cache(settings: RuntimeSettings) -> Path | None:
    """Trivy's cache folder when it already holds a vulnerability DB (nothing is downloaded)."""
    cache = Path(settings.get("TRIVY_CACHE_DIR") or Path.home() / ".cache" / "trivy")
    return cache if (cache / "db" / "trivy.db").is_file() and (cache / "db" / "metadata.json").is_file() else None


def demo_options(settings: RuntimeSettings, *, repo_root: Path, workdir: Path, keep: bool, registry: str,
                 settle_seconds: int) -> DemoOptions:
    return DemoOptions(repo_root=repo_root, workdir=workdir, keep=keep, registry=registry,
                       settle_seconds=settle_seconds, build_args=standin_build_args(settings, repo_root),
                       trivy_cache=trivy_db_cache(settings), environ=settings.environ)


def demo_ports(settings: RuntimeSettings, echo: Callable[[str], None]) -> DemoPorts:
    from devops.adapters.demo import local
    from devops.adapters.demo.signals import terminate_as_interrupt

    return DemoPorts(check_registry=local.check_registry, containers=_Containers(settings.get(local.MONGO_IMAGE_ENV)),
                     gitops=_GitOps(), servers=_Servers(), start_argocd=_argocd(echo), start_traffic=_traffic,
                     run_step=run_step, interrupts=terminate_as_interrupt, clock=time)


def run_step(call: StepCall, on_line: Callable[[str, str], None]) -> StepOutcome:
    if call.args == ("config", "validate"):
        return _validate_in_process(call, on_line)
    from devops.adapters.daemon import stream

    command = [sys.executable, "-m", "devops", "--config", str(call.config), "--source-root", str(call.source_root),
               *call.args]
    done = stream(command, on_line=on_line, cwd=call.cwd, env=call.env, replace_env=True, timeout=STEP_TIMEOUT)
    return StepOutcome(done.returncode, done.seconds, done.stdout, done.stderr)


def _validate_in_process(call: StepCall, on_line: Callable[[str, str], None]) -> StepOutcome:
    """`devops config validate` as the use case, with the step's environment as its settings."""
    from devops.app.config_check import validate

    started = time.monotonic()
    try:
        line = validate(call.config, call.env, [call.source_root]).line()
    except DevopsError as exc:
        message = f"devops: error: {exc}"
        on_line("stderr", message)
        return StepOutcome(int(exc.exit_code), time.monotonic() - started, "", message + "\n")
    on_line("stdout", line)
    return StepOutcome(0, time.monotonic() - started, line + "\n", "")


@dataclass(frozen=True)
class _Containers:
    mongo_image: str | None   # $DEVOPS_DEMO_MONGO_IMAGE: a real MongoDB where Docker Hub is reachable

    def check_engine(self) -> None:
        from devops.adapters.demo import docker

        docker.check_engine()

    def ensure_network(self, name: str, run_id: str) -> None:
        from devops.adapters.demo import docker

        docker.ensure_network(name, run_id)

    def start_mongo(self, run_id: str, network: str, repo_root: Path, build_args: Mapping[str, str]) -> str:
        from devops.adapters.demo import docker, local

        image, what = local.mongo_image(repo_root, build_args, self.mongo_image)
        docker.run_container(f"devops-demo-{run_id}-mongo", image, network=network, alias="mongo", run_id=run_id,
                             env={"HOST": "0.0.0.0", "PORT": "27017"})
        return what

    def remove_all(self, run_id: str, network: str) -> list[str]:
        from devops.adapters.demo import docker

        return docker.remove_all(run_id, network)


class _GitOps:
    def ensure(self, remote: Path, source: Path) -> bool:
        from devops.adapters.demo import gitops

        return gitops.ensure_remote(remote, source)

    def commit_count(self, remote: Path) -> int:
        from devops.adapters.demo import gitops

        return gitops.commit_count(remote)

    def record(self, remote: Path, env_path: str) -> dict[str, Any]:
        from devops.adapters.demo import gitops

        return gitops.record(remote, env_path)


class _Servers:
    def free_port(self) -> int:
        from devops.adapters.demo import local

        return local.free_port()

    def start_moto(self, logs: Path, cluster: str, region: str) -> tuple[Server, str]:
        from devops.adapters.demo import local

        return local.start_moto(logs, cluster, region)

    def start_prometheus(self, folder: Path, ports: Mapping[str, int], rules: list[Path]) -> tuple[Server, str]:
        from devops.adapters.demo import local

        return local.start_prometheus(folder, ports, rules)

    def forget_metrics(self, folder: Path) -> None:
        from devops.adapters.demo import local

        local.forget_metrics(folder)

    def stop_pid(self, pid: int, expect: str) -> bool:
        from devops.adapters.daemon import stop_pid

        return stop_pid(pid, expect=expect)


def _argocd(echo: Callable[[str], None]) -> Callable[[Path, str, Layout], ArgoCD]:
    def start(remote: Path, env_path: str, layout: Layout) -> ArgoCD:
        from devops.adapters.demo.argocd import StandInArgoCD
        from devops.adapters.http import RetryPolicy, request, session
        from devops.errors import HttpError

        probe_http = session(RetryPolicy(total=0, timeout=2))

        def probe(url: str) -> bool:
            try:
                request(probe_http, "GET", url)
            except HttpError:
                return False
            return True

        argocd = StandInArgoCD(remote, env_path, layout, probe, log=echo)
        argocd.start()
        return argocd

    return start


def _traffic(urls: Callable[[str], str], ready: Callable[[], bool]) -> TrafficSource:
    from devops.adapters.demo.traffic import Traffic

    traffic = Traffic(urls, ready)
    traffic.start()
    return traffic
