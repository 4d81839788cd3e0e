"""A local stand-in for Argo CD: watches dev's values files in the GitOps remote and (re)starts
the services' containers at exactly the `repository@digest` they name.

What Argo CD does in the cluster, reduced to what the demo shows: a commit to the GitOps remote
is what deploys. It polls (every `interval` seconds, as Argo CD polls a repository), pulls each
image by digest from the registry and replaces a service's container when its digest changes.
It does not render the Helm charts (no Kubernetes here); the containers get the environment
the charts would give them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devops.adapters.demo import docker, gitops
from devops.domain.demo import ORDER, Layout
from devops.domain.retry import RetryPolicy, retrying
from devops.errors import DevopsError

__all__ = ["CONTAINER_PORTS", "ORDER", "Deployed", "Layout", "StandInArgoCD", "service_env", "start_argocd"]

CONTAINER_PORTS = {"product": 3001, "cart": 3002, "order": 3003, "frontend": 80}
MONGODB_URI = "mongodb://mongo:27017/shop"


def service_env(service: str) -> dict[str, str]:
    """The environment charts/values/<service>.yaml gives the pod, with in-network addresses."""
    common = {"MONGODB_URI": MONGODB_URI, "LOG_LEVEL": "info", "PORT": str(CONTAINER_PORTS[service])}
    if service == "product":
        return {**common, "SEED_CATALOG": "true"}
    if service == "cart":
        return {**common, "PRODUCT_SERVICE_URL": "http://product:3001"}
    if service == "order":
        return {**common, "CART_SERVICE_URL": "http://cart:3002", "PRODUCT_SERVICE_URL": "http://product:3001"}
    return {"PRODUCT_API_URL": "http://product:3001", "CART_API_URL": "http://cart:3002",
            "ORDER_API_URL": "http://order:3003"}


@dataclass
class Deployed:
    image: gitops.ImageRef
    healthy: bool = False
    detail: str = ""


@dataclass
class StandInArgoCD:
    remote: Path
    env_path: str                      # e.g. gitops/environments/dev
    layout: Layout
    probe: Callable[[str], bool]       # GET url answers 200
    interval: float = 2.0
    ready_timeout: float = 120.0
    log: Callable[[str], None] = print
    deployed: dict[str, Deployed] = field(default_factory=dict)
    synced_commit: str = ""
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="devops-demo-argocd", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=60)

    def all_healthy(self) -> bool:
        with self._lock:
            return len(self.deployed) == len(ORDER) and all(d.healthy for d in self.deployed.values())

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync_once()
            except DevopsError as exc:
                self._note(f"argocd (stand-in): sync failed: {exc}")
            except Exception as exc:  # a bug here must not silently stop deployments: say so, go on
                self._note(f"argocd (stand-in): sync failed: {type(exc).__name__}: {exc}")
            self._stop.wait(self.interval)

    def sync_once(self) -> bool:
        """One poll: deploy what changed since the last synced commit. True when it deployed."""
        commit = gitops.head(self.remote)
        if not commit or commit == self.synced_commit:
            return False
        changed = False
        for service in ORDER:
            if self._stop.is_set():
                return changed
            wanted = gitops.image_of(self.remote, self.env_path, service, commit)
            current = self.deployed.get(service)
            if wanted is None or (current and current.image.digest == wanted.digest and current.healthy):
                continue
            self._deploy(service, wanted)
            changed = True
        self.synced_commit = commit
        return changed

    def _deploy(self, service: str, image: gitops.ImageRef) -> None:
        layout = self.layout
        self._note(f"argocd (stand-in): {service} -> {image.tag or '?'} {image.digest[:19]}…")
        docker.pull(image.pull)
        docker.run_container(layout.container(service), image.pull, network=layout.network, alias=service,
                             run_id=layout.run_id, env=service_env(service),
                             publish=(layout.ports[service], CONTAINER_PORTS[service]))
        path = "/health" if service == "frontend" else "/ready"
        healthy = self._wait(f"{layout.url(service)}{path}")
        with self._lock:
            self.deployed[service] = Deployed(image, healthy, "Healthy" if healthy else "Degraded")
        if healthy:
            self._note(f"argocd (stand-in): {service} Healthy on {layout.url(service)}")
        else:
            tail = docker.logs(layout.container(service), 10)
            self._note(f"argocd (stand-in): {service} not ready after {self.ready_timeout:g} s:\n{tail}")

    def _wait(self, url: str) -> bool:
        """Probe `url` until it answers, `ready_timeout` passes or the stand-in is stopped."""

        class NotReady(Exception):
            pass

        policy = RetryPolicy(attempts=1_000_000, base_seconds=0.25, max_seconds=0.5,
                             deadline_seconds=self.ready_timeout)
        def pause(seconds: float) -> None:
            self._stop.wait(seconds)   # stopping the stand-in ends the wait at once

        def again(error: BaseException) -> bool:
            return isinstance(error, NotReady) and not self._stop.is_set()

        try:
            for attempt in retrying(policy, retry_on=again, sleep=pause):
                with attempt:
                    if not self.probe(url):
                        raise NotReady
        except NotReady:
            return False
        return True

    def _note(self, line: str) -> None:
        if "failed" in line or "not ready" in line:
            self.errors.append(line)
        self.log(line)


def start_argocd(remote: Path, env_path: str, layout: Layout, log: Callable[[str], None]) -> StandInArgoCD:
    """The stand-in, polling in a thread of its own; its health probe is one GET without retries."""
    from devops.adapters.http import RetryPolicy as HttpRetry
    from devops.adapters.http import request, session
    from devops.errors import HttpError

    probe_http = session(HttpRetry(total=0, timeout=2))

    def probe(url: str) -> bool:
        try:
            request(probe_http, "GET", url)
        except HttpError:
            return False
        return True

    argocd = StandInArgoCD(remote, env_path, layout, probe, log=log)
    argocd.start()
    return argocd
