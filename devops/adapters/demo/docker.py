"""The Docker CLI calls of the demo that the engine adapter does not have (network, containers,
the MongoDB stand-in image), through `process.run`; engine check, pulls and image lookups are
`devops.adapters.docker.DockerEngine`'s. Everything the demo creates carries the label
`devops-demo=<run id>`, so cleanup (and `devops demo --stop`) removes exactly that and nothing of anyone else's."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from devops.adapters.docker import DockerEngine
from devops.adapters.process import run
from devops.errors import ExternalError

LABEL = "devops-demo"
HINT = "run `bash scripts/local-stack.sh up` (starts the Docker engine and the local registry)"


def docker(*args: str, check: bool = True, timeout: float = 300) -> str:
    return run(["docker", *args], check=check, timeout=timeout, install_hint=HINT).stdout


def check_engine() -> None:
    """The engine answers, or exit 3 saying how to get one (the demo's hint: local-stack.sh)."""
    try:
        DockerEngine().check()
    except ExternalError as exc:
        raise exc.retold(exc.message, hint=HINT) from None


def ensure_network(name: str, run_id: str) -> None:
    if run(["docker", "network", "inspect", name], check=False, timeout=30).ok:
        return
    docker("network", "create", "--label", f"{LABEL}={run_id}", name)


def run_container(name: str, image: str, *, network: str, alias: str, run_id: str,
                  env: Mapping[str, str] | None = None, publish: tuple[int, int] | None = None) -> str:
    """(Re)start one container: an older one of the same name is replaced."""
    docker("rm", "-f", "-v", name, check=False, timeout=60)
    args = ["run", "-d", "--name", name, "--network", network, "--network-alias", alias,
            "--label", f"{LABEL}={run_id}", "--restart", "no"]
    for key, value in (env or {}).items():
        args += ["-e", f"{key}={value}"]
    if publish:
        host_port, container_port = publish
        args += ["-p", f"127.0.0.1:{host_port}:{container_port}"]
    return docker(*args, image).strip()


def pull(reference: str) -> None:
    DockerEngine().pull(reference, timeout=600)


def image_exists(reference: str) -> bool:
    return DockerEngine().image_exists(reference)


def build(context: Path, tag: str, build_args: Mapping[str, str]) -> None:
    args = ["build", "-q", "-t", tag, "--label", f"{LABEL}=image"]
    for key, value in build_args.items():
        args += ["--build-arg", f"{key}={value}"]
    docker(*args, str(context), timeout=900)


def logs(name: str, lines: int = 30) -> str:
    result = run(["docker", "logs", "--tail", str(lines), name], check=False, timeout=30)
    return (result.stdout + result.stderr).strip()


def labelled(run_id: str) -> list[str]:
    """Names of the containers of this demo (running or not)."""
    out = docker("ps", "-a", "--filter", f"label={LABEL}={run_id}", "--format", "{{.Names}}", check=False)
    return [line for line in out.split() if line]


def remove_all(run_id: str, network: str) -> list[str]:
    """Remove this demo's containers and network; return the names removed."""
    names = labelled(run_id)
    if names:
        docker("rm", "-f", "-v", *names, check=False, timeout=120)
    docker("network", "rm", network, check=False, timeout=60)
    return names
