"""An in-memory registry HTTP API (the ports DigestReader / Registry of devops/app/push.py and
devops/app/images_run.py), honest to devops/adapters/registry.py by tests/contract/test_registry.py:
an unknown repository or tag has no digest, a tag added by digest points at that manifest, a
tag naming a digest the repository lacks is refused."""

from __future__ import annotations

from dataclasses import dataclass, field

from devops.errors import HttpError


@dataclass
class FakeRegistry:
    repositories: dict[str, dict[str, str]] = field(default_factory=dict)  # repo -> tag -> digest
    tag_errors: dict[str, str] = field(default_factory=dict)  # tag -> message (a refused PUT)
    requests: list[tuple[str, str, str]] = field(default_factory=list)

    def put(self, repository: str, tag: str, digest: str) -> None:
        self.repositories.setdefault(repository, {})[tag] = digest

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        self.requests.append(("HEAD", repository, reference))
        tags = self.repositories.get(repository, {})
        if reference.startswith("sha256:"):
            return reference if reference in tags.values() else None
        return tags.get(reference)

    def exists(self, repository: str, reference: str) -> bool:
        return self.manifest_digest(repository, reference) is not None

    def tag(self, repository: str, digest: str, tag: str) -> bool:
        """Point `tag` at `digest`; False when it already did (nothing written)."""
        self.requests.append(("PUT", repository, tag))
        if tag in self.tag_errors:
            raise HttpError(self.tag_errors[tag])
        tags = self.repositories.get(repository, {})
        if digest not in tags.values():
            raise HttpError(f"{repository}@{digest}: manifest unknown")
        if tags.get(tag) == digest:
            return False
        tags[tag] = digest
        return True
