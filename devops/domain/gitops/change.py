"""What the engine is asked to publish, and what publishing did: plain frozen dataclasses."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from devops.errors import BadInput, ExternalError

DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
ACTIONS = ("release", "promote", "rollback", "set-image", "verify", "rescan", "cluster-values")
# A tag as the OCI distribution spec allows it.
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
REPOSITORY = re.compile(r"^[a-z0-9][a-z0-9._-]*(:[0-9]+)?(/[a-z0-9][a-z0-9._-]*)*$")


@dataclass(frozen=True)
class ImageRef:
    """An image as a values file holds it: repository, human-readable tag, pinned digest."""

    repository: str
    tag: str
    digest: str

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        return f"{self.repository}{tag}@{self.digest}" if self.digest else f"{self.repository}{tag}"

    @property
    def pinned(self) -> str:
        """`repository@digest`: what the chart pulls."""
        return f"{self.repository}@{self.digest}"


@dataclass(frozen=True)
class ImageUpdate:
    """One service's new image."""

    service: str
    repository: str
    tag: str
    digest: str

    @property
    def ref(self) -> ImageRef:
        return ImageRef(self.repository, self.tag, self.digest)


@dataclass(frozen=True)
class ValueEdit:
    """One scalar of a values file to set (`devops cluster values`): the file in the GitOps
    repository, the key path (ints index lists), the new text and where it came from."""

    file: str
    key: tuple[str | int, ...]
    value: str
    source: str = ""  # for the commit body: `terraform output cluster_name`

    @property
    def name(self) -> str:
        """`file: a.b.0`, how changes and conflicts name it."""
        return f"{self.file}: {'.'.join(str(k) for k in self.key)}"


@dataclass(frozen=True)
class ChangeSet:
    """Everything one commit changes in one environment."""

    environment: str
    updates: tuple[ImageUpdate, ...]
    record: dict[str, Any] | None = None  # the whole new release.json content (None: leave it)
    source_commit: str | None = None  # for the trailers
    action: str = "set-image"  # one of ACTIONS
    # (service, digest) pairs: the digest each service's record entry must hold whenever the
    # change is applied, the first time and on every re-apply after a rejected push. Evidence
    # (`devops verify --record`) binds to the digest that was checked this way; "" stands for
    # "no digest", which no entry holds, so an unbound service can never be written.
    expected_digests: tuple[tuple[str, str], ...] = ()
    # Scalars of other values files to set (`cluster-values`): compare-and-swap per scalar, like
    # the images (devops/domain/gitops/merge.py).
    values: tuple[ValueEdit, ...] = ()

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise BadInput(f"ChangeSet.action: expected one of {', '.join(ACTIONS)}, got {self.action!r}")
        if self.expected_digests and self.record is None:
            raise BadInput("ChangeSet.expected_digests: only a change that writes the release record can expect "
                           "digests in it")
        seen: set[str] = set()
        for update in self.updates:
            if update.service in seen:
                raise BadInput(f"{update.service}: named twice in one change; give each service once")
            seen.add(update.service)
            if not DIGEST.fullmatch(update.digest):
                raise BadInput(f"{update.service}: digest {update.digest!r} is not sha256:<64 hex>")
        names = [edit.name for edit in self.values]
        if len(set(names)) != len(names):
            raise BadInput(f"{sorted(n for n in names if names.count(n) > 1)[0]}: set twice in one change")

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(sorted(u.service for u in self.updates))


class ConcurrentChange(ExternalError):
    """What a change replaces is no longer what it read (exit 3, nothing written).

    Raised when a change is applied (again, after a rejected push) and the value it would
    replace for a service, in a values file or the release record, changed meanwhile: another
    release of the same service landed first. Overwriting it would silently undo that release
    (or leave the record and the values disagreeing), so the run stops and a rerun starts from
    the new state.
    """


@dataclass(frozen=True)
class ServiceChange:
    """A service's image old -> new; for a `ValueEdit`, `service` is its name (`file: key`)."""

    service: str
    old: str  # "repo:tag@digest", "" when the values file held no image
    new: str


@dataclass(frozen=True)
class PublishResult:
    outcome: str  # "committed" | "pull-request" | "noop" | "dry-run"
    changes: tuple[ServiceChange, ...]
    commit: str | None  # the commit on the target branch (commit mode) or on the PR branch
    branch: str  # branch pushed to
    pull_request_url: str | None = None
    pull_request_state: str | None = None  # "opened" | "reused" | "SKIPPED: <reason>"
    attempts: int = 0  # push attempts used
    diff: str = ""  # unified diff of the files changed
    git_operations: int = 0  # git commands run
    remote: str = ""  # the GitOps repository (token-free)
    files: tuple[str, ...] = field(default=())  # files changed, relative to the repository

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_image_spec(spec: str) -> ImageUpdate:
    """`SERVICE=REPOSITORY[:TAG]@sha256:<64 hex>` -> ImageUpdate; BadInput naming what is wrong."""
    service, sep, ref = spec.partition("=")
    if not sep or not service or not ref:
        raise BadInput(f"{spec!r}: expected SERVICE=REPOSITORY:TAG@sha256:<64 hex>")
    name, at, digest = ref.rpartition("@")
    if not at:
        raise BadInput(f"{spec!r}: the digest is missing; expected SERVICE=REPOSITORY:TAG@sha256:<64 hex>")
    if not DIGEST.fullmatch(digest):
        hexpart = digest.partition(":")[2]
        why = (f"has {len(hexpart)} hex characters, expected 64" if digest.startswith("sha256:")
               else "must start with sha256:")
        raise BadInput(f"{spec!r}: digest {digest!r} {why}")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        repository, tag = name[:colon], name[colon + 1:]
        if not TAG.fullmatch(tag):
            raise BadInput(f"{spec!r}: tag {tag!r} is not a valid image tag")
    else:
        repository, tag = name, ""
    if not repository or not REPOSITORY.fullmatch(repository):
        raise BadInput(f"{spec!r}: repository {repository!r} is not a valid image repository")
    return ImageUpdate(service, repository, tag, digest)
