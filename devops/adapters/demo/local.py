"""The embedded defaults the demo starts itself: moto server with the demo EKS cluster, a real
Prometheus scraping the services and the MongoDB stand-in; and the check that the local
registry answers."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devops.adapters import daemon
from devops.adapters.daemon import free_port, port_open, wait_until
from devops.adapters.demo import docker
from devops.adapters.process import run
from devops.domain.demo import STACK_HINT, aws_env
from devops.errors import ExternalError, ToolMissing

PROMETHEUS = "/usr/bin/prometheus"
MONGO_STANDIN = "devops-demo/mongo-standin:local"
MONGO_IMAGE_ENV = "DEVOPS_DEMO_MONGO_IMAGE"
SCRAPED = ("product", "cart", "order")   # frontend (nginx) has no /metrics


def check_registry(registry: str) -> None:
    """The local registry answers /v2/, or exit 3 with one line saying what to run."""
    from devops.adapters.http import RetryPolicy as HttpRetry
    from devops.adapters.http import request, session
    from devops.errors import HttpError

    try:
        request(session(HttpRetry(total=1, timeout=3, backoff_factor=0.2)), "GET", f"http://{registry}/v2/",
                what=f"the local registry at http://{registry}/v2/")
    except HttpError as exc:
        raise ExternalError(exc.message.splitlines()[0], hint=STACK_HINT) from None


def start_moto(logs: Path, cluster: str, region: str) -> tuple[daemon.Background, str]:
    """`python -m moto.server` on a free port, with the demo cluster and its node groups."""
    try:
        import moto  # noqa: F401  (only to say how to install it)
    except ImportError:
        raise ToolMissing("moto server is not installed (python -m moto.server)",
                          hint="pip install -e '.[demo]' (or `bash scripts/local-stack.sh up`)") from None
    port = free_port()
    server = daemon.spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                          log=logs / "moto.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: port_open(port), 30, f"moto server on {url}", server)
        run([sys.executable, "-m", "devops.adapters.demo.seed_cluster", cluster, region], env=aws_env(url), timeout=120)
    except BaseException:
        server.stop()
        raise
    return server, url


def prometheus_config(ports: Mapping[str, int], rule_files: list[Path]) -> dict[str, Any]:
    """Scrape each API with the target labels the chart's ServiceMonitor gives it."""
    scrape = [{
        "job_name": service,
        "metrics_path": "/metrics",
        "static_configs": [{"targets": [f"127.0.0.1:{ports[service]}"],
                            "labels": {"namespace": "shop", "service": service, "container": service,
                                       "endpoint": "http", "pod": f"{service}-demo"}}],
    } for service in SCRAPED]
    # 5 s: twelve samples in the 1-minute verification window, and a timeout a busy laptop meets.
    return {"global": {"scrape_interval": "5s", "evaluation_interval": "5s", "scrape_timeout": "4s"},
            "rule_files": [str(p) for p in rule_files], "scrape_configs": scrape}


def start_prometheus(folder: Path, ports: Mapping[str, int], rule_files: list[Path]) -> tuple[daemon.Background, str]:
    """The Debian package's Prometheus on a free port with its own data folder."""
    binary = PROMETHEUS if Path(PROMETHEUS).exists() else "prometheus"
    folder.mkdir(parents=True, exist_ok=True)
    # A fresh TSDB every run: series of an earlier run (other ports, never marked stale because
    # that Prometheus was stopped) would otherwise count as targets that are down.
    shutil.rmtree(folder / "data", ignore_errors=True)
    config = folder / "prometheus.yml"
    config.write_text(json.dumps(prometheus_config(ports, rule_files), indent=2))  # JSON is YAML
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = daemon.spawn([binary, f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
                           f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                           "--storage.tsdb.retention.time=1d"],
                          log=folder / "prometheus.log",
                          install_hint="apt-get install prometheus (scripts/local-stack.sh up installs it)")
    try:
        wait_until(lambda: _ready(url), 30, f"prometheus on {url}", server)
    except BaseException:
        server.stop()
        raise
    return server, url


def forget_metrics(folder: Path) -> None:
    """Remove a stopped Prometheus's data (it is per run; the log stays for reading)."""
    shutil.rmtree(folder / "data", ignore_errors=True)


def _ready(url: str) -> bool:
    from devops.adapters.http import RetryPolicy, request, session
    from devops.errors import HttpError

    try:
        request(session(RetryPolicy(total=0, timeout=2)), "GET", f"{url}/-/ready")
    except HttpError:
        return False
    return True


def mongo_image(repo_root: Path, build_args: Mapping[str, str], chosen: str | None = None) -> tuple[str, str]:
    """(image, what it is): `chosen` ($DEVOPS_DEMO_MONGO_IMAGE), else the stand-in built from this repository."""
    if chosen:
        if not docker.image_exists(chosen):
            docker.pull(chosen)
        return chosen, f"{chosen} ($DEVOPS_DEMO_MONGO_IMAGE)"
    node = build_args.get("NODE_IMAGE")
    if not node:
        raise ExternalError("no NODE_IMAGE to build the MongoDB stand-in with (no stand-in base images)",
                            hint="run `bash scripts/local-stack.sh up` or set $DEVOPS_DEMO_MONGO_IMAGE")
    docker.build(repo_root / "tests" / "services" / "mongo-standin", MONGO_STANDIN, {"NODE_IMAGE": node})
    return MONGO_STANDIN, "MongoDB stand-in (tests/services/mongo-standin; the official image cannot be pulled here)"


class LocalServers:
    """The demo's servers port (devops/app/demo_ports.py: Servers): moto, Prometheus, free ports."""

    def free_port(self) -> int:
        return free_port()

    def start_moto(self, logs: Path, cluster: str, region: str) -> tuple[daemon.Background, str]:
        return start_moto(logs, cluster, region)

    def start_prometheus(self, folder: Path, ports: Mapping[str, int],
                         rules: list[Path]) -> tuple[daemon.Background, str]:
        return start_prometheus(folder, ports, rules)

    def forget_metrics(self, folder: Path) -> None:
        forget_metrics(folder)

    def stop_pid(self, pid: int, expect: str) -> bool:
        return daemon.stop_pid(pid, expect=expect)


@dataclass(frozen=True)
class DemoContainers:
    """The demo's containers port (devops/app/demo_ports.py: Containers), all labelled with the run."""

    mongo_image: str | None = None   # $DEVOPS_DEMO_MONGO_IMAGE: a real MongoDB where Docker Hub is reachable

    def check_engine(self) -> None:
        docker.check_engine()

    def ensure_network(self, name: str, run_id: str) -> None:
        docker.ensure_network(name, run_id)

    def start_mongo(self, run_id: str, network: str, repo_root: Path, build_args: Mapping[str, str]) -> str:
        image, what = mongo_image(repo_root, build_args, self.mongo_image)
        docker.run_container(f"devops-demo-{run_id}-mongo", image, network=network, alias="mongo", run_id=run_id,
                             env={"HOST": "0.0.0.0", "PORT": "27017"})
        return what

    def remove_all(self, run_id: str, network: str) -> list[str]:
        return docker.remove_all(run_id, network)
