"""What the GitOps repository port answers with: its history and what a refused push means.

Plain values, so the publish use case (devops/app/gitops_publish.py) decides what to do with a
rejected push without knowing git's wording; the adapter (devops/adapters/git/push.py) reads
git's, GitHub's and GitLab's output and classifies it into a `PushRejection`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class HistoryEntry(NamedTuple):
    """A commit that changed the release record."""

    commit: str
    date: str  # committer date, ISO 8601
    subject: str


@dataclass(frozen=True)
class PushRejection:
    """A push that did not land: what kind of refusal, and whether another try can help."""

    kind: str  # "race" | "denied" | "auth" | "unreachable" | "unknown"
    retryable: bool
    reason: str  # what the server said, in a few words
    detail: str = ""  # the line of git's output that says it (for the error message)


@dataclass(frozen=True)
class GitOpsLayout:
    """Where an environment's files are inside the GitOps repository (`environments.<env>.gitops`).

    The config checked that these are relative paths without `..`; the adapter checks again,
    with symlinks resolved, where it reads and writes them.
    """

    path: str  # the environment's folder
    values_file: str = "values/{service}.yaml"  # relative to `path`; `{service}` is replaced
    record_file: str = "release.json"  # relative to `path`
    freeze_file: str = "freeze.json"  # relative to `path` (`devops freeze`)

    def _inside(self, relative: str) -> str:
        return f"{self.path.strip('/')}/{relative}"

    def values_path(self, service: str) -> str:
        """Path of a service's values file inside the repository."""
        return self._inside(self.values_file.format(service=service))

    @property
    def record_path(self) -> str:
        """Path of the environment's release record inside the repository."""
        return self._inside(self.record_file)

    @property
    def freeze_path(self) -> str:
        """Path of the environment's freeze file inside the repository."""
        return self._inside(self.freeze_file)
