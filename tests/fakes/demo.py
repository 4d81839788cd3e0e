"""In-memory fakes of the ports of `devops demo` (devops/app/demo_ports.py).

They keep the state the real adapters would change (servers running, containers, commits and
release records of the GitOps remote) so a test can assert what the run left behind, and a
scripted step runner plays the commands: exit codes, output, commits, an interrupt.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devops.app.demo_ports import DemoPorts, StepCall, StepOutcome
from devops.domain.demo import Layout


@dataclass
class FakeServer:
    name: str
    pid: int
    running: bool = True

    def stop(self) -> None:
        self.running = False


@dataclass
class FakeServers:
    started: dict[str, FakeServer] = field(default_factory=dict)
    fail_on: str | None = None           # "moto" or "prometheus": starting it raises this error
    error: Exception | None = None
    forgotten: list[Path] = field(default_factory=list)
    stopped_pids: list[tuple[int, str]] = field(default_factory=list)
    live_pids: dict[int, str] = field(default_factory=dict)   # pid -> command line, for stop_pid
    _ports: Iterator[int] = field(default_factory=lambda: itertools.count(41000))
    _pids: Iterator[int] = field(default_factory=lambda: itertools.count(7000))

    def free_port(self) -> int:
        return next(self._ports)

    def _start(self, name: str) -> tuple[FakeServer, str]:
        if self.fail_on == name and self.error is not None:
            raise self.error
        server = self.started[name] = FakeServer(name, next(self._pids))
        return server, f"http://127.0.0.1:{self.free_port()}"

    def start_moto(self, logs: Path, cluster: str, region: str) -> tuple[FakeServer, str]:
        return self._start("moto")

    def start_prometheus(self, folder: Path, ports: Mapping[str, int], rules: list[Path]) -> tuple[FakeServer, str]:
        return self._start("prometheus")

    def forget_metrics(self, folder: Path) -> None:
        self.forgotten.append(folder)

    def stop_pid(self, pid: int, expect: str) -> bool:
        if expect not in self.live_pids.get(pid, ""):
            return False
        self.stopped_pids.append((pid, expect))
        del self.live_pids[pid]
        return True


@dataclass
class FakeContainers:
    engine_error: Exception | None = None
    running: dict[str, set[str]] = field(default_factory=dict)    # run id -> container names
    networks: set[str] = field(default_factory=set)

    def check_engine(self) -> None:
        if self.engine_error is not None:
            raise self.engine_error

    def ensure_network(self, name: str, run_id: str) -> None:
        self.networks.add(name)

    def start_mongo(self, run_id: str, network: str, repo_root: Path, build_args: Mapping[str, str]) -> str:
        self.running.setdefault(run_id, set()).add(f"devops-demo-{run_id}-mongo")
        return "MongoDB stand-in"

    def remove_all(self, run_id: str, network: str) -> list[str]:
        self.networks.discard(network)
        return sorted(self.running.pop(run_id, set()))


@dataclass
class FakeGitOps:
    """A bare remote: a commit count and the release record of each environment path."""

    commits: int = 0
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: bool = False
    broken: bool = False      # reading it fails (the summary notes it)

    def ensure(self, remote: Path, source: Path) -> bool:
        if self.commits:
            return False
        self.commits, self.created = 1, True
        return True

    def commit_count(self, remote: Path) -> int:
        if self.broken:
            raise RuntimeError("the remote is gone")
        return self.commits

    def record(self, remote: Path, env_path: str) -> dict[str, Any]:
        if self.broken:
            raise RuntimeError("the remote is gone")
        return self.records.get(env_path, {})

    def release(self, env_path: str, services: Mapping[str, str], verified: bool) -> None:
        """What `devops release` leaves: a commit, and with a verification a second one."""
        entries = {}
        for name, digest in services.items():
            entries[name] = {"digest": digest}
            if verified:
                entries[name]["verification"] = {"verdict": "PASSED", "digest": digest}
        self.records[env_path] = {"services": entries}
        self.commits += 2 if verified else 1


@dataclass
class FakeArgoCD:
    remote: Path
    env_path: str
    layout: Layout
    healthy: bool = True
    errors: list[str] = field(default_factory=list)
    running: bool = True

    def all_healthy(self) -> bool:
        return self.healthy

    def stop(self) -> None:
        self.running = False


@dataclass
class FakeClock:
    now: float = 1000.0
    slept: float = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


@dataclass
class FakeTraffic:
    """Requests flow from `starts_at` on the fake clock, ten per second."""

    clock: FakeClock
    starts_at: float | None = None     # None: the shop never serves
    running: bool = True

    @property
    def counts(self) -> Mapping[str, int]:
        return Counter({"cart 2xx": self.total})

    @property
    def total(self) -> int:
        return int(self.flowing_for() * 10)

    def flowing_for(self) -> float:
        if self.starts_at is None or self.clock.now < self.starts_at:
            return 0.0
        return self.clock.now - self.starts_at

    def stop(self) -> None:
        self.running = False


Script = Callable[[StepCall, Callable[[str, str], None]], StepOutcome | None]


@dataclass
class FakeSteps:
    """Plays each step: `scripts[" ".join(args)]` may print, change the remote, raise or return an
    outcome; without a script a step passes silently in one second."""

    scripts: dict[str, Script] = field(default_factory=dict)
    calls: list[StepCall] = field(default_factory=list)

    def __call__(self, call: StepCall, on_line: Callable[[str, str], None]) -> StepOutcome:
        self.calls.append(call)
        script = self.scripts.get(" ".join(call.args))
        outcome = script(call, on_line) if script else None
        return outcome or StepOutcome(0, 1.0)

    def ran(self) -> list[str]:
        return [" ".join(call.args) for call in self.calls]


@dataclass
class FakeInterrupts:
    events: list[str] = field(default_factory=list)

    @contextmanager
    def __call__(self) -> Iterator[Callable[[], None]]:
        self.events.append("guarded")
        try:
            yield lambda: self.events.append("shielded")
        finally:
            self.events.append("restored")


@dataclass
class DemoFakes:
    """Every port of the demo, faked, and the `DemoPorts` that carries them."""

    registry_error: Exception | None = None
    containers: FakeContainers = field(default_factory=FakeContainers)
    gitops: FakeGitOps = field(default_factory=FakeGitOps)
    servers: FakeServers = field(default_factory=FakeServers)
    steps: FakeSteps = field(default_factory=FakeSteps)
    clock: FakeClock = field(default_factory=FakeClock)
    interrupts: FakeInterrupts = field(default_factory=FakeInterrupts)
    traffic_starts_after: float | None = 0.0
    argocd: FakeArgoCD | None = None
    traffic: FakeTraffic | None = None
    registry_checked: list[str] = field(default_factory=list)
    keys: list[Path] = field(default_factory=list)

    def check_registry(self, registry: str) -> None:
        self.registry_checked.append(registry)
        if self.registry_error is not None:
            raise self.registry_error

    def start_argocd(self, remote: Path, env_path: str, layout: Layout) -> FakeArgoCD:
        self.argocd = FakeArgoCD(remote, env_path, layout)
        return self.argocd

    def start_traffic(self, urls: Callable[[str], str], ready: Callable[[], bool]) -> FakeTraffic:
        starts = None if self.traffic_starts_after is None else self.clock.now + self.traffic_starts_after
        self.traffic = FakeTraffic(self.clock, starts)
        return self.traffic

    def ports(self) -> DemoPorts:
        return DemoPorts(check_registry=self.check_registry, containers=self.containers, gitops=self.gitops,
                         servers=self.servers, start_argocd=self.start_argocd, start_traffic=self.start_traffic,
                         run_step=self.steps, interrupts=self.interrupts, clock=self.clock,
                         signing_key=self.signing_key)

    def signing_key(self, folder: Path) -> tuple[Path, Path]:
        """Names the demo's key pair without making one (the run's steps are fakes too)."""
        self.keys.append(folder)
        return folder / "signing.key", folder / "signing.pub"
