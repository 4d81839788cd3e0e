"""The embedded defaults the demo starts itself: moto server with the demo EKS cluster, a real
Prometheus scraping the services, the MongoDB stand-in, and the state file `--stop` reads."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devops.adapters import daemon
from devops.adapters.demo import docker
from devops.adapters.process import run
from devops.errors import ExternalError, ToolMissing

PROMETHEUS = "/usr/bin/prometheus"
MONGO_STANDIN = "devops-demo/mongo-standin:local"
SCRAPED = ("product", "cart", "order")   # frontend (nginx) has no /metrics
AWS_DUMMY = {"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_DEFAULT_REGION": "ap-south-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Any, timeout: float, what: str, server: daemon.Background | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and not server.alive():
            raise ExternalError(f"{what}: exited ({server.returncode}): {server.log_tail(400).strip()}",
                                hint=f"see {server.log}")
        if check():
            return
        time.sleep(0.3)
    raise ExternalError(f"{what}: not ready after {timeout:g} s", hint=f"see {server.log}" if server else None)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def aws_env(url: str) -> dict[str, str]:
    """What the steps that talk to AWS get: moto's endpoint and dummy credentials, nothing else."""
    return {"AWS_ENDPOINT_URL": url, **AWS_DUMMY}


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


def prometheus_config(ports: dict[str, int], rule_files: list[Path]) -> dict[str, Any]:
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


def start_prometheus(folder: Path, ports: dict[str, int], rule_files: list[Path]) -> tuple[daemon.Background, str]:
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


def mongo_image(repo_root: Path, build_args: dict[str, str]) -> tuple[str, str]:
    """(image, what it is): $DEVOPS_DEMO_MONGO_IMAGE, else the stand-in built from this repository."""
    chosen = os.environ.get("DEVOPS_DEMO_MONGO_IMAGE")
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


@dataclass
class State:
    """What a `--keep` run leaves running, for `devops demo --stop`."""

    run_id: str
    network: str
    pids: dict[str, int]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"run_id": self.run_id, "network": self.network, "pids": self.pids}, indent=2))

    @classmethod
    def load(cls, path: Path) -> State | None:
        try:
            data = json.loads(path.read_text())
            return cls(str(data["run_id"]), str(data["network"]), {k: int(v) for k, v in data["pids"].items()})
        except (OSError, ValueError, KeyError, TypeError):
            return None
