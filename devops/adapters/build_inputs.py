"""A service's build identity: a content hash of everything its image is built from.

The hash covers the files Docker would send as build context (`.dockerignore` applied, with
Docker's own matching rules from docker-py), the Dockerfile, the build arguments, the base
image references they resolve to, and the target platforms. Two checkouts with the same
inputs get the same hash, so an image tagged with it never needs building again.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devops.errors import BadInput

HASH_VERSION = b"devops-inputs-v1"
TAG_PREFIX = "in-"
TAG_HEX = 16


@dataclass(frozen=True)
class BuildInputs:
    context: Path
    dockerfile: Path
    build_args: Mapping[str, str]
    base_images: tuple[str, ...]
    files: int
    digest: str  # full sha256 hex

    @property
    def tag(self) -> str:
        """The image tag that names these inputs, e.g. `in-3f2a9c0d1e4b5a6c`."""
        return f"{TAG_PREFIX}{self.digest[:TAG_HEX]}"


def context_files(context: Path, dockerfile: Path) -> list[str]:
    """Relative paths of the files in the build context, as Docker would send them."""
    from docker.utils.build import exclude_paths

    ignore = context / ".dockerignore"
    patterns: list[str] = []
    if ignore.is_file():
        patterns = [
            line.strip() for line in ignore.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
    relative_dockerfile = os.path.relpath(dockerfile, context)
    included = exclude_paths(str(context), patterns, dockerfile=relative_dockerfile)
    return sorted(path for path in included if (context / path).is_file() or (context / path).is_symlink())


def base_images(dockerfile: Path, build_args: Mapping[str, str]) -> tuple[str, ...]:
    """The `FROM` images after build-argument substitution (stage names left out)."""
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(path=str(dockerfile), build_args=dict(build_args), cache_content=True)
    try:
        parents = parser.parent_images
    except Exception as exc:  # dockerfile-parse raises plain exceptions on odd syntax
        raise BadInput(f"{dockerfile}: cannot read the FROM lines: {exc}") from None
    stages = {stage.lower() for stage in _stage_names(parser.structure)}
    return tuple(image for image in parents if image.lower() not in stages)


def compute(
    context: Path,
    dockerfile: Path,
    build_args: Mapping[str, str],
    platforms: Sequence[str],
) -> BuildInputs:
    """Hash the build inputs of one service. Raises `BadInput` if folder or Dockerfile is missing."""
    if not context.is_dir():
        raise BadInput(f"{context}: service folder does not exist; fix services.<name>.path")
    if not dockerfile.is_file():
        raise BadInput(f"{dockerfile}: Dockerfile does not exist; fix services.<name>.dockerfile")
    files = context_files(context, dockerfile)
    bases = base_images(dockerfile, build_args)
    digest = hashlib.sha256(HASH_VERSION + b"\0")
    for relative in files:
        path = context / relative
        info = path.lstat()
        executable = b"x" if info.st_mode & stat.S_IXUSR else b"-"
        if stat.S_ISLNK(info.st_mode):
            content = os.readlink(path).encode()
        else:
            content = hashlib.sha256(path.read_bytes()).digest()
        digest.update(relative.encode() + b"\0" + executable + content)
    digest.update(b"\0dockerfile\0" + dockerfile.read_bytes())
    for key in sorted(build_args):
        digest.update(f"\0arg\0{key}={build_args[key]}".encode())
    for image in bases:
        digest.update(f"\0from\0{image}".encode())
    for platform in sorted(platforms):
        digest.update(f"\0platform\0{platform}".encode())
    return BuildInputs(context, dockerfile, dict(build_args), bases, len(files), digest.hexdigest())


def _stage_names(structure: list[dict[str, object]]) -> list[str]:
    names = []
    for instruction in structure:
        if str(instruction.get("instruction", "")).upper() == "FROM":
            words = str(instruction.get("value", "")).split()
            if len(words) >= 3 and words[-2].lower() == "as":
                names.append(words[-1])
    return names
