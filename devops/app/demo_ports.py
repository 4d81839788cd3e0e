"""The ports of `devops demo` (devops/app/demo.py): what the run needs from the outside world,
implemented by devops/adapters/demo/ and wired in devops/wiring/demo.py; tests/fakes/demo.py
holds in-memory fakes of them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from devops.domain.demo import DEFAULT_REGISTRY, Layout


class Server(Protocol):
    """A background server this run started (moto, Prometheus)."""

    @property
    def pid(self) -> int: ...

    def stop(self) -> None: ...


class ArgoCD(Protocol):
    """The stand-in Argo CD, running: deploys dev's values files as containers."""

    @property
    def errors(self) -> Sequence[str]:
        """What went wrong so far (failed syncs, services that never became ready)."""
        ...

    def all_healthy(self) -> bool: ...

    def stop(self) -> None: ...


class TrafficSource(Protocol):
    """Shoppers' requests against the running shop."""

    @property
    def counts(self) -> Mapping[str, int]:
        """Requests per "service status class" (`cart 2xx`), and `unreachable`."""
        ...

    @property
    def total(self) -> int: ...

    def flowing_for(self) -> float: ...

    def stop(self) -> None: ...


class Containers(Protocol):
    def check_engine(self) -> None: ...

    def ensure_network(self, name: str, run_id: str) -> None: ...

    def start_mongo(self, run_id: str, network: str, repo_root: Path, build_args: Mapping[str, str]) -> str:
        """Start the MongoDB container (its stand-in built from `repo_root`); returns what it is."""
        ...

    def remove_all(self, run_id: str, network: str) -> list[str]: ...


class GitOpsRemote(Protocol):
    def ensure(self, remote: Path, source: Path) -> bool:
        """Create the bare remote seeded from `source` unless it exists; True when created now."""
        ...

    def commit_count(self, remote: Path) -> int: ...

    def record(self, remote: Path, env_path: str) -> dict[str, Any]: ...


class Servers(Protocol):
    def free_port(self) -> int: ...

    def start_moto(self, logs: Path, cluster: str, region: str) -> tuple[Server, str]: ...

    def start_prometheus(self, folder: Path, ports: Mapping[str, int], rules: list[Path]) -> tuple[Server, str]: ...

    def forget_metrics(self, folder: Path) -> None: ...

    def stop_pid(self, pid: int, expect: str) -> bool: ...


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


@dataclass(frozen=True)
class StepCall:
    """`devops --config <config> <args>` with the config's paths allowed in `source_root`."""

    args: tuple[str, ...]
    config: Path
    source_root: Path
    cwd: Path
    env: Mapping[str, str]   # the step's whole environment


@dataclass(frozen=True)
class StepOutcome:
    code: int
    seconds: float
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class DemoPorts:
    check_registry: Callable[[str], None]
    containers: Containers
    gitops: GitOpsRemote
    servers: Servers
    start_argocd: Callable[[Path, str, Layout], ArgoCD]
    start_traffic: Callable[[Callable[[str], str], Callable[[], bool]], TrafficSource]
    run_step: Callable[[StepCall, Callable[[str, str], None]], StepOutcome]
    # SIGTERM raises KeyboardInterrupt inside; the yielded callable ignores it from then on.
    interrupts: Callable[[], AbstractContextManager[Callable[[], None]]]
    clock: Clock
    # The demo's local signing key pair in a folder (kept across runs): (private, public) files.
    signing_key: Callable[[Path], tuple[Path, Path]]


@dataclass(frozen=True)
class DemoOptions:
    repo_root: Path
    workdir: Path
    keep: bool = False
    registry: str = DEFAULT_REGISTRY
    settle_seconds: int = 60
    build_args: Mapping[str, str] = field(default_factory=dict)   # the stand-in base images
    trivy_cache: Path | None = None       # a Trivy cache that holds a vulnerability DB
    environ: Mapping[str, str] = field(default_factory=dict)      # the caller's, scrubbed per step
