"""The demo's steps, its result and the rules it applies (docs/demo.md): pure data, no I/O.

`devops.app.demo` runs the steps against ports; `devops.report.demo` renders the result. What is
decided here: which commands run in which order, what environment a step gets (never the
user's tokens), how a step's output becomes the summary, when dev still needs a verification.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_REGISTRY = "127.0.0.1:5000"
DEV_PATH, PROD_PATH = "gitops/environments/dev", "gitops/environments/prod"
STATE_FILE = "demo-state.json"
STACK_HINT = "run `bash scripts/local-stack.sh up` first (Docker engine and the local registry)"
# Variables a user may have set that would point the steps elsewhere or authenticate them.
SCRUBBED_PREFIXES = ("AWS_", "DEVOPS_", "GITHUB_", "SONAR_", "DOCKERHUB_", "PROMETHEUS_TOKEN", "TRIVY_")
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "devops demo", "GIT_AUTHOR_EMAIL": "demo@devops.local"}
# What the command line of each recorded server contains (checked before `--stop` kills a PID).
SERVER_COMMANDS = {"moto": "moto.server", "prometheus": "prometheus"}
DOCS = ("docs/demo.md", "docs/release.md", "docs/observability.md", "docs/cost.md")
# The shop's services in start order: what a service calls must be up first.
ORDER = ("product", "cart", "order", "frontend")
AWS_DUMMY = {"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_DEFAULT_REGION": "ap-south-1"}
VERIFY_STEP = "verify dev"


@dataclass(frozen=True)
class StepSpec:
    """One command of the demo: `devops <args>`; `aws` steps get moto's endpoint."""

    name: str
    args: tuple[str, ...]
    aws: bool = False

    @property
    def json_mode(self) -> bool:
        return "--json" in self.args


STEPS = (
    StepSpec("config validate", ("config", "validate")),
    StepSpec("plan", ("plan",)),
    StepSpec("build --push", ("--json", "build", "--push")),
    StepSpec("scan", ("scan",)),
    StepSpec("release dev", ("release", "--env", "dev")),
    StepSpec(VERIFY_STEP, ("verify", "--env", "dev")),
    StepSpec("attest dev", ("attest", "--env", "dev")),
    StepSpec("release prod", ("release", "--env", "prod")),
    StepSpec("status", ("status",)),
    StepSpec("cost schedule", ("cost", "schedule", "--dry-run"), aws=True),
    StepSpec("cost report", ("cost", "report"), aws=True),
)


@dataclass
class Step:
    name: str
    command: list[str]
    code: int | None = None
    seconds: float = 0.0
    verdict: str = "NOT RUN"     # PASSED | FAILED | SKIPPED | NOT RUN
    detail: str = ""


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
    run_id: str = ""

    @property
    def exit_code(self) -> int:
        """0 when no step failed, else the first failed step's own code."""
        failed = [s for s in self.steps if s.verdict == "FAILED"]
        return (failed[0].code or 1) if failed else 0


@dataclass(frozen=True)
class Layout:
    """Where the stand-in Argo CD deploys: names, network and the fixed host ports of the run."""

    run_id: str
    network: str
    ports: Mapping[str, int]

    def container(self, service: str) -> str:
        return f"devops-demo-{self.run_id}-{service}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"


@dataclass(frozen=True)
class DemoState:
    """What a `--keep` run leaves running, for `devops demo --stop` (the state file's content)."""

    run_id: str
    network: str
    pids: Mapping[str, int]

    def dumps(self) -> str:
        return json.dumps({"run_id": self.run_id, "network": self.network, "pids": dict(self.pids)}, indent=2)

    @classmethod
    def loads(cls, text: str) -> DemoState | None:
        """None for anything that is not a state file this code wrote."""
        try:
            data = json.loads(text)
            return cls(str(data["run_id"]), str(data["network"]), {str(k): int(v) for k, v in data["pids"].items()})
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def run_id(resolved_workdir: str) -> str:
    """Stable per working folder: a second run (and --stop) finds the same names."""
    return hashlib.sha1(resolved_workdir.encode()).hexdigest()[:8]


def network_name(ident: str) -> str:
    return f"devops-demo-{ident}"


def parse_build_args(text: str) -> dict[str, str]:
    """`KEY=VALUE` words ($DEVOPS_BUILD_ARGS, .devops-standins.env); other words are ignored."""
    return dict(part.split("=", 1) for part in text.split() if "=" in part)


def step_environment(environ: Mapping[str, str], build_args: Mapping[str, str],
                     extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A step's whole environment: the caller's without anything that would point it elsewhere or
    authenticate it (tokens, AWS, CI), a git identity when none is set, the build arguments."""
    env = {k: v for k, v in environ.items() if not k.startswith(SCRUBBED_PREFIXES) and k != "CI"}
    env.setdefault("GIT_AUTHOR_NAME", GIT_IDENTITY["GIT_AUTHOR_NAME"])
    env.setdefault("GIT_AUTHOR_EMAIL", GIT_IDENTITY["GIT_AUTHOR_EMAIL"])
    env.setdefault("GIT_COMMITTER_NAME", env["GIT_AUTHOR_NAME"])
    env.setdefault("GIT_COMMITTER_EMAIL", env["GIT_AUTHOR_EMAIL"])
    env["PYTHONUNBUFFERED"] = "1"
    if build_args:
        env["DEVOPS_BUILD_ARGS"] = " ".join(f"{k}={v}" for k, v in build_args.items())
    return {**env, **(extra or {})}


def aws_env(url: str) -> dict[str, str]:
    """What the steps that talk to AWS get: moto's endpoint and dummy credentials, nothing else."""
    return {"AWS_ENDPOINT_URL": url, **AWS_DUMMY}


def built_services(stdout: str) -> list[str] | None:
    """The services `devops --json build` reports as built, sorted; None when it printed no JSON."""
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:
        return None
    built: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("status") == "built" and isinstance(node.get("service"), str):
                built.add(node["service"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return sorted(built)


def build_detail(built: list[str]) -> str:
    return f"built: {', '.join(built)}" if built else "nothing rebuilt (registry has every digest)"


def commits_detail(new: int) -> str:
    return f"{new} new GitOps commit(s)" if new else "nothing to change (no GitOps commit)"


def failure_detail(code: int, stdout: str, stderr: str) -> str:
    """The last line the failing step printed (stderr first), at most 300 characters."""
    last = (stderr.strip() or stdout.strip()).splitlines()
    return (last[-1] if last else f"exited {code}")[:300]


def unverified(record: Mapping[str, Any]) -> list[str]:
    """Services of a release record whose digest has no PASSED verification of that digest."""
    missing = []
    for name, entry in (record.get("services") or {}).items():
        check = entry.get("verification") or {}
        if check.get("verdict") != "PASSED" or check.get("digest", entry.get("digest")) != entry.get("digest"):
            missing.append(name)
    return sorted(missing)


def summarize_records(result: DemoResult, records: Mapping[str, Mapping[str, Any]]) -> None:
    """Digests per service and environment, and dev's verification verdicts, from the records."""
    for env, record in records.items():
        for name, entry in (record.get("services") or {}).items():
            result.digests.setdefault(name, {})[env] = str(entry.get("digest") or "")
            if env == "dev":
                result.verification[name] = str((entry.get("verification") or {}).get("verdict") or "none")
