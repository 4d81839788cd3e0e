"""Image references as Docker reads them (`FROM debian:bookworm`, `ghcr.io/o/x@sha256:...`), and
the base images of a build: which registry each comes from and the digest it resolved to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

DOCKER_HUB = "docker.io"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
                   r"|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$")
_PATH = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


@dataclass(frozen=True)
class ImageReference:
    """A parsed reference: the registry host (docker.io for Docker Hub), the repository in it
    (`library/debian`), and a tag or a digest (a digest wins when both are given)."""

    host: str
    repository: str
    tag: str = "latest"
    digest: str | None = None

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest, else the tag."""
        return self.digest or self.tag

    @property
    def loopback(self) -> bool:
        return self.host.rsplit(":", 1)[0] in LOOPBACK_HOSTS or self.host.startswith("127.")

    def __str__(self) -> str:
        suffix = f"@{self.digest}" if self.digest else f":{self.tag}"
        return f"{self.host}/{self.repository}{suffix}"


def parse_reference(text: str) -> ImageReference:
    """Docker's normalisation: the first component is a host when it has a `.` or `:` or is
    `localhost`; otherwise the image is on Docker Hub (`library/` for official images).
    ValueError naming what is wrong."""
    if not text or len(text) > 512 or any(c.isspace() for c in text) or "$" in text:
        raise ValueError("not an image reference" + (" (an unresolved build argument)" if "$" in text else ""))
    name, digest = text, None
    if "@" in text:
        name, digest = text.split("@", 1)
        if not _DIGEST.match(digest):
            raise ValueError(f"digest {digest[:80]!r} is not sha256:<64 hex>")
    tag = "latest"
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
        if not _TAG.match(tag):
            raise ValueError(f"tag {tag[:80]!r} is not a valid tag")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        if not _HOST.match(first):
            raise ValueError(f"registry host {first[:80]!r} is not a host name")
        host, path = first, rest
    else:
        host, path = DOCKER_HUB, name if "/" in name else f"library/{name}"
    if host in ("index.docker.io", "registry-1.docker.io"):
        host = DOCKER_HUB
    if not _PATH.match(path):
        raise ValueError(f"repository {path[:80]!r} is not a valid name (lowercase letters, digits, . _ - /)")
    return ImageReference(host, path, tag, digest)


class BaseSource(StrEnum):
    """Where a base image's identity came from."""

    PINNED = "pinned"      # FROM name@sha256:...: the digest is in the Dockerfile
    REGISTRY = "registry"  # the digest its registry answered for the tag
    LOCAL = "local"        # not in its registry; the image ID of the local engine's copy


@dataclass(frozen=True)
class ResolvedBase:
    reference: str
    digest: str  # sha256:... (a manifest digest, or the image ID for LOCAL)
    source: BaseSource

    @property
    def identity(self) -> str:
        """What the build identity includes for this base."""
        return f"{self.source.value}:{self.digest}"
