"""The release use cases on in-memory fakes: a GitOps remote with dev and prod (tests/fakes/gitops.py),
sessions wired as the CLI wires them but with fakes behind, and release steps that record what
they were asked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from devops.app.gitops_publish import GitOpsSession, PublishSettings
from devops.app.gitops_pull_request import PullRequestProvider, PullRequestSettings, PullRequestsUnavailable
from devops.domain.gitops.repository import GitOpsLayout
from devops.domain.retry import RetryPolicy
from devops.errors import UnknownName
from devops.report.gitops import evidence_body
from tests.fakes.gitops import FakeGitOpsRepository, FakeRemote

DIGEST_A, DIGEST_B, DIGEST_C = ("sha256:" + c * 64 for c in "abc")
SOURCE = "1234567890abcdef1234567890abcdef12345678"
SERVICES = ("alpha", "beta")
REPOSITORY = "127.0.0.1:5000/shop/{service}"
VALUES = "env/{env}/values/{service}.yaml"
RECORD = "env/{env}/release.json"


def values_text(service: str, tag: str = "", digest: str = "") -> str:
    repository = REPOSITORY.format(service=service)
    return f"# {service}\nimage:\n  repository: {repository}\n  tag: \"{tag}\"\n  digest: \"{digest}\"\nreplicaCount: 1\n"


def empty_record(env: str) -> str:
    return json.dumps({"schema": 1, "environment": env, "released_at": None, "released_by": None,
                       "source_commit": None, "promoted_from": None, "services": {}}, indent=2) + "\n"


def entry(service: str, digest: str, **changes: Any) -> dict[str, Any]:
    """A release record entry with passing evidence."""
    data: dict[str, Any] = {
        "repository": REPOSITORY.format(service=service), "tag": f"sha-{digest[7:14]}", "digest": digest,
        "source_commit": SOURCE, "built_at": "2026-11-25T10:00:00Z",
        "scan": {"verdict": "PASSED", "counts": {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 2},
                 "checked_at": "2026-11-25T10:00:00Z", "trivy_version": "0.76.0", "db_updated_at": None},
        "sonar": {"verdict": "SKIPPED", "reason": "SONAR_TOKEN is not set", "checked_at": "2026-11-25T10:00:00Z"},
    }
    data.update(changes)
    return data


def record(env: str, **entries: dict[str, Any]) -> dict[str, Any]:
    return {"schema": 1, "environment": env, "released_at": "2026-11-25T10:00:00Z",
            "released_by": {"actor": "alice", "via": "cli", "run_url": None}, "source_commit": SOURCE,
            "promoted_from": None, "services": entries}


def record_text(env: str, **entries: dict[str, Any]) -> str:
    return json.dumps(record(env, **entries), indent=2) + "\n"


def check_service(name: str) -> object:
    if name not in SERVICES:
        raise UnknownName(f"devops.yaml: unknown service {name!r}; known: {', '.join(SERVICES)}")
    return name


@dataclass
class Gitops:
    """A GitOps remote with dev and prod, and sessions on it as the CLI opens them."""

    remote: FakeRemote = field(default_factory=FakeRemote)
    opened: list[FakeGitOpsRepository] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    pull_requests: PullRequestProvider | PullRequestsUnavailable | None = None
    mode: dict[str, str] = field(default_factory=lambda: {"dev": "commit", "prod": "commit"})
    attempts: int = 3
    base: str | None = None
    # Called with each new repository before the session reads it (inject faults there).
    on_open: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        files = {}
        for env in ("dev", "prod"):
            for service in SERVICES:
                files[VALUES.format(env=env, service=service)] = values_text(service)
            files[RECORD.format(env=env)] = empty_record(env)
        self.remote.seed("main", files)

    def settings(self, env: str) -> PublishSettings:
        return PublishSettings(env, "main", GitOpsLayout(f"env/{env}"), mode=self.mode[env],
                               push=RetryPolicy(attempts=self.attempts, base_seconds=0.5, max_seconds=2.0),
                               pull_request=PullRequestSettings(base=self.base, labels=("release",), draft=True),
                               check_service=check_service, attempts_key=f"environments.{env}.gitops.push.attempts")

    def session(self, env: str = "dev") -> GitOpsSession:
        repo = FakeGitOpsRepository(self.remote)
        self.opened.append(repo)
        for hook in self.on_open:
            hook(repo)
        return GitOpsSession(repo, self.settings(env), describe=evidence_body,
                             pull_requests=self.pull_requests or PullRequestsUnavailable(
                                 f"{self.remote.display} is not a GitHub repository"),
                             sleep=self.sleeps.append)

    @contextmanager
    def open_repo(self, env: str) -> Iterator[GitOpsSession]:
        with self.session(env) as repo:
            yield repo

    def file(self, path: str, branch: str = "main") -> str | None:
        return self.remote.files(branch).get(path)

    def record(self, env: str) -> dict[str, Any]:
        return json.loads(self.file(RECORD.format(env=env)) or "{}")  # type: ignore[no-any-return]

    def commits(self) -> int:
        return len(self.remote.ancestors(self.remote.branches["main"]))


@pytest.fixture
def gitops() -> Gitops:
    return Gitops()
